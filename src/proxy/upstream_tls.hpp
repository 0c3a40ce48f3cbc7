// The TLS client side of https:// upstreams in one worker: an SSL_CTX built from a site's
// immutable [sites.proxy] settings (TLS 1.2+, ALPN http/1.1, the system CA store or ca_file,
// verification on unless tls_verify = false) and, per server, the last session the server
// gave, so the next connection resumes instead of a full handshake.
#pragma once

#include "config/model.hpp"
#include "tls/openssl_ptr.hpp"

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace bws::proxy {

class upstream_tls {
public:
    // `servers`: how many servers each pool has (one resumption slot each). Throws
    // std::runtime_error when OpenSSL cannot build the context (out of memory, or a CA text
    // the loader accepted that no longer parses).
    upstream_tls(const config::site_proxy& config);
    ~upstream_tls();
    upstream_tls(const upstream_tls&) = delete;
    upstream_tls& operator=(const upstream_tls&) = delete;

    // A client SSL for `server` of `pool`: SNI, the name or address its certificate must
    // carry, and the cached session to resume. Null when OpenSSL fails.
    tls::ssl_ptr new_ssl(std::size_t pool, std::size_t server);

    // Why the last handshake on `ssl` failed, for the log: the certificate verification error
    // ("certificate has expired", "hostname mismatch") when there was one, else OpenSSL's
    // reason (`fallback`).
    static std::string failure_reason(const SSL* ssl, const std::string& fallback);

private:
    struct slot; // a server's cached session
    static int on_new_session(SSL* ssl, SSL_SESSION* session);

    const config::site_proxy& config_;
    tls::ssl_ctx_ptr ctx_;
    std::vector<std::vector<std::unique_ptr<slot>>> slots_; // [pool][server]
};

} // namespace bws::proxy
