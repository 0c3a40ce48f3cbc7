// The upstream TLS client context and session resumption (see upstream_tls.hpp).
#include "proxy/upstream_tls.hpp"

#include "net/address.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <stdexcept>

namespace bws::proxy {

// The last session a server issued; the SSL of each connection points here (ex_data), so the
// new-session callback knows where a ticket goes, also when it arrives after the handshake
// (TLS 1.3 sends tickets then).
struct upstream_tls::slot {
    SSL_SESSION* session = nullptr;
    ~slot() {
        if (session != nullptr)
            SSL_SESSION_free(session);
    }
};

namespace {

int slot_index() {
    static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    return index;
}

void load_cas(SSL_CTX* ctx, const std::string& pem) {
    tls::bio_ptr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (!bio)
        throw std::runtime_error("upstream TLS: out of memory");
    X509_STORE* store = SSL_CTX_get_cert_store(ctx);
    int added = 0;
    while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
        X509_STORE_add_cert(store, cert); // takes its own reference
        X509_free(cert);
        ++added;
    }
    ERR_clear_error(); // the end of the text reads as "no start line"
    if (added == 0)
        throw std::runtime_error("upstream TLS: ca_file holds no certificate");
}

} // namespace

upstream_tls::upstream_tls(const config::site_proxy& config) : config_(config) {
    ctx_.reset(SSL_CTX_new(TLS_client_method()));
    if (!ctx_)
        throw std::runtime_error("upstream TLS: SSL_CTX_new failed");
    SSL_CTX* ctx = ctx_.get();
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    static constexpr unsigned char alpn[] = "\x08http/1.1";
    SSL_CTX_set_alpn_protos(ctx, alpn, sizeof alpn - 1);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    if (config.tls.verify) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
        if (!config.tls.ca_pem.empty())
            load_cas(ctx, config.tls.ca_pem);
        else if (SSL_CTX_set_default_verify_paths(ctx) != 1)
            ERR_clear_error(); // no system store: every verification then fails, with a reason
    } else {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    }
    // Client sessions are kept here, per server, not in OpenSSL's internal cache (which is
    // keyed for servers).
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(ctx, &upstream_tls::on_new_session);
    slots_.resize(config.pools.size());
    for (std::size_t p = 0; p < config.pools.size(); ++p)
        for (std::size_t s = 0; s < config.pools[p].servers.size(); ++s)
            slots_[p].push_back(std::make_unique<slot>());
}

upstream_tls::~upstream_tls() = default;

int upstream_tls::on_new_session(SSL* ssl, SSL_SESSION* session) {
    auto* s = static_cast<slot*>(SSL_get_ex_data(ssl, slot_index()));
    if (s == nullptr)
        return 0;
    if (s->session != nullptr)
        SSL_SESSION_free(s->session);
    s->session = session; // 1: the callback keeps the reference
    return 1;
}

tls::ssl_ptr upstream_tls::new_ssl(std::size_t pool, std::size_t server) {
    const auto& upstream = config_.pools[pool].servers[server];
    tls::ssl_ptr ssl(SSL_new(ctx_.get()));
    if (!ssl)
        return nullptr;
    const std::string& name =
        upstream.tls_server_name.empty() ? upstream.host : upstream.tls_server_name;
    const bool ip_literal =
        upstream.tls_server_name.empty() && net::ip_address::parse(upstream.host).has_value();
    if (!ip_literal)
        SSL_set_tlsext_host_name(ssl.get(), name.c_str()); // SNI names no address (RFC 6066)
    if (config_.tls.verify) {
        const int ok = ip_literal
                           ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl.get()), name.c_str())
                           : SSL_set1_host(ssl.get(), name.c_str());
        if (ok != 1)
            return nullptr;
        // The name must match the certificate itself, not a partial wildcard ("f*.example").
        SSL_set_hostflags(ssl.get(), X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    }
    slot& s = *slots_[pool][server];
    SSL_set_ex_data(ssl.get(), slot_index(), &s);
    if (s.session != nullptr && SSL_SESSION_is_resumable(s.session) == 1)
        SSL_set_session(ssl.get(), s.session);
    return ssl;
}

std::string upstream_tls::failure_reason(const SSL* ssl, const std::string& fallback) {
    const long verify = SSL_get_verify_result(ssl);
    if (verify != X509_V_OK)
        return std::string("certificate verification failed: ") +
               X509_verify_cert_error_string(verify);
    return fallback.empty() ? std::string("TLS handshake failed") : fallback;
}

} // namespace bws::proxy
