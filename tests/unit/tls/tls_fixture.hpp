// Shared pieces of the TLS unit tests: one set of generated certificates per test process, a
// client SSL_CTX maker, and a socketpair connection whose server side is a tls::stream and
// whose client side is a plain OpenSSL SSL, driven together by a poll loop.
#pragma once

#include "test_certs.hpp"
#include "tls/certificate.hpp"
#include "tls/context.hpp"
#include "tls/stream.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace bws::tls::testing {

struct test_pki {
    temp_directory dir;
    cert_factory ca{dir.path / "server", "bws server CA"};
    cert_factory client_ca{dir.path / "client", "bws client CA"};
    pem_files a_rsa, a_ecdsa, b_ecdsa, c_wildcard, expired, expiring, mismatched, client;
    test_pki();
};
const test_pki& pki(); // made on first use (RSA key generation takes a moment)

certificate load_or_fail(const pem_files& files);

// A client context that trusts the test server CA and verifies the peer.
ssl_ctx_ptr make_client_ctx(int min_version = TLS1_2_VERSION, int max_version = TLS1_3_VERSION);

// A table of three sites, as on one TLS port: site_id 10 "a.example.com" and
// "www.a.example.com" (RSA and ECDSA, the default), 11 "b.example.com" (ECDSA),
// 12 "*.c.example.com" (ECDSA). `tweak(index, settings)` adjusts a site's settings; `id`
// prefixes the session id contexts.
std::unique_ptr<context_table>
make_table(const std::function<void(std::size_t, settings&)>& tweak = {},
           const ticket_keys* keys = nullptr, bool refuse_unknown_sni = false);

struct connection_pair {
    int server_fd = -1;
    int client_fd = -1;
    std::unique_ptr<stream> server;
    ssl_ptr client;

    // `sni` empty: no server_name extension. `check_host`: the client verifies that the
    // certificate names `sni`.
    connection_pair(const context_table& table, SSL_CTX* client_ctx, const std::string& sni,
                    bool check_host = true);
    ~connection_pair();
    connection_pair(const connection_pair&) = delete;
    connection_pair& operator=(const connection_pair&) = delete;

    // Drives both handshakes to the end; the server's final result is returned and
    // `client_ok` tells whether the client finished too.
    io_result handshake(bool& client_ok);
    bool handshake(); // both succeeded

    // Client-side helpers (the client fd is non-blocking; they poll).
    bool client_write_all(const std::string& data);
    std::string client_read(std::size_t size); // exactly `size` bytes, or fewer on close
};

// Resets the client's sockets buffers small, so writes block early (partial-write tests).
void shrink_buffers(int fd, int size);

} // namespace bws::tls::testing
