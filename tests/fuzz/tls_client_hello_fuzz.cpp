// Fuzz target: the input is everything a client sends on a fresh TLS connection (its first
// flight, and whatever follows it) to a bws TLS port: tls::stream's handshake over a socketpair,
// with bws's ClientHello callback choosing the site by SNI and moving the connection onto that
// site's context, ALPN selection, the ticket-key callback on offered tickets, and OpenSSL's
// parsers behind them. Each input meets a port that serves unknown names from its default site
// and one that refuses them. After the handshake step the connection must be on one of the
// port's sites, carry that site's settings, agree with the SNI OpenSSL parsed, and leave the
// error queue clean; leaks and sanitizer reports fail as usual.
#include "fuzz_check.hpp"
#include "tls_world.hpp"

#include "tls/error.hpp"
#include "tls/stream.hpp"

#include <openssl/err.h>
#include <openssl/tls1.h>

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <csignal>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

using namespace bws;

// Whether `name` is one entry of the colon-separated OpenSSL list `list`.
bool in_list(std::string_view list, std::string_view name) {
    while (!list.empty()) {
        const auto colon = list.find(':');
        if (list.substr(0, colon) == name)
            return true;
        if (colon == std::string_view::npos)
            break;
        list.remove_prefix(colon + 1);
    }
    return false;
}

int version_number(tls::tls_version v) {
    return v == tls::tls_version::tls1_3 ? TLS1_3_VERSION : TLS1_2_VERSION;
}

// The site the table must have chosen for the server name OpenSSL parsed, normalised as the
// ClientHello callback does (lower case, no trailing dot).
const tls::table_site* expected_site(const tls::context_table& table, std::string name) {
    if (!name.empty() && name.back() == '.')
        name.pop_back();
    std::ranges::transform(name, name.begin(),
                           [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    const tls::table_site* site = name.empty() ? nullptr : table.find(name);
    return site != nullptr ? site : &table.default_site();
}

// Whether `site` is one of the port's three sites (tls_world.hpp), found by one of its names.
bool is_table_site(const tls::context_table& table, const tls::table_site* site) {
    for (const char* name : {"a.example.com", "b.example.com", "x.c.example.com"})
        if (table.find(name) == site)
            return true;
    return false;
}

void check_connection(const tls::context_table& table, const tls::stream& stream,
                      const tls::io_result& result) {
    SSL* ssl = stream.native();
    // classify() promises the next connection on this thread a clean error queue.
    BWS_FUZZ_CHECK(ERR_peek_error() == 0);
    const tls::table_site* site = tls::selected_site(ssl);
    if (tls::sni_refused(ssl)) {
        BWS_FUZZ_CHECK(table.refuses_unknown_sni());
        BWS_FUZZ_CHECK(site == nullptr);
        BWS_FUZZ_CHECK(result.state == tls::status::error);
        BWS_FUZZ_CHECK(result.ec == tls::errc::sni_refused);
        return;
    }
    BWS_FUZZ_CHECK(site != nullptr);
    BWS_FUZZ_CHECK(is_table_site(table, site));
    BWS_FUZZ_CHECK(stream.info().site == site);
    // adopt() must have carried the site's settings over, not only its certificate.
    SSL_CTX* ctx = site->context->native();
    BWS_FUZZ_CHECK(SSL_get_SSL_CTX(ssl) == ctx);
    BWS_FUZZ_CHECK(SSL_get_min_proto_version(ssl) == SSL_CTX_get_min_proto_version(ctx));
    BWS_FUZZ_CHECK(SSL_get_max_proto_version(ssl) == SSL_CTX_get_max_proto_version(ctx));
    BWS_FUZZ_CHECK(SSL_get_verify_mode(ssl) == SSL_CTX_get_verify_mode(ctx));

    const unsigned char* alpn = nullptr;
    unsigned alpn_size = 0;
    SSL_get0_alpn_selected(ssl, &alpn, &alpn_size);
    if (alpn_size != 0) // http/1.1 is all bws offers
        BWS_FUZZ_CHECK(std::string_view(reinterpret_cast<const char*>(alpn), alpn_size) ==
                       "http/1.1");

    // Once a cipher is chosen the ClientHello was read whole: version and cipher must come from
    // the chosen site's settings, and the site must be the one the parsed SNI names.
    const SSL_CIPHER* cipher = SSL_get_pending_cipher(ssl);
    if (cipher == nullptr)
        cipher = SSL_get_current_cipher(ssl);
    if (cipher == nullptr)
        return;
    const tls::settings& config = site->context->config();
    const std::string_view cipher_name = SSL_CIPHER_get_name(cipher);
    const bool tls13_suite = cipher_name.starts_with("TLS_");
    BWS_FUZZ_CHECK(
        in_list(tls13_suite ? config.tls13_ciphersuites : config.tls12_ciphers, cipher_name));
    // After a failure OpenSSL may set the version to the one of the peer's offending record, to
    // send its alert in a version the peer reads (finding-alert-in-peer-version): only a
    // connection still in its handshake has a negotiated version to check.
    if (result.state != tls::status::error) {
        const int version = SSL_version(ssl);
        BWS_FUZZ_CHECK(version >= version_number(config.min_version));
        BWS_FUZZ_CHECK(version <=
                       version_number(config.max_version.value_or(tls::tls_version::tls1_3)));
        BWS_FUZZ_CHECK((version == TLS1_3_VERSION) == tls13_suite);
    }
    const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    if (name != nullptr)
        BWS_FUZZ_CHECK(site == expected_site(table, name));
}

void run(const tls::context_table& table, const std::uint8_t* data, std::size_t size) {
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0)
        std::abort();
    const int server_fd = fds[0];
    const int client_fd = fds[1];
    // The whole input is in the socket before the server looks (an input longer than the
    // socket buffer is cut there, as if the client stopped sending); the server then sees it
    // in whatever pieces its reads return, and waits for more at the end.
    std::size_t sent = 0;
    while (sent < size) {
        const ssize_t n = ::write(client_fd, data + sent, size - sent);
        if (n <= 0)
            break;
        sent += static_cast<std::size_t>(n);
    }
    {
        tls::stream stream(table.new_ssl(), server_fd);
        tls::io_result result{};
        char sink[16384];
        for (int step = 0; step < 8; ++step) {
            result = stream.handshake();
            if (result.state != tls::status::want_write)
                break;
            while (::read(client_fd, sink, sizeof sink) > 0) {
            }
        }
        check_connection(table, stream, result);
    }
    ::close(server_fd);
    ::close(client_fd);
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    std::signal(SIGPIPE, SIG_IGN); // as in bws workers
    bws::fuzz::world();            // certificates and contexts before the first input
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto& w = bws::fuzz::world();
    run(*w.lenient, data, size);
    run(*w.strict, data, size);
    return 0;
}
