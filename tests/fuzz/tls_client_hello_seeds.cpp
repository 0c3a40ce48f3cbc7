// Writes the seed corpus of the tls_client_hello fuzz target: OpenSSL clients with different
// settings talk to the fuzz target's own TLS port (tls_world) over memory BIOs, and each seed is
// what one client sent: its first flight, or for some the whole conversation from the client's
// side (the second ClientHello after a HelloRetryRequest, a TLS 1.2 key exchange and Finished).
// The keys and randoms differ on every run, so regenerating changes every byte but no seed's
// shape.
//
//   tls_client_hello_seeds DIR     (see tests/fuzz/README.md)
#include "tls_world.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace {

using namespace bws;

struct client_spec {
    std::string name; // the seed's file name
    std::string sni;  // "" for none
    std::string alpn; // wire format, "" for none
    int max_version = TLS1_3_VERSION;
    std::string ciphers; // TLS 1.2 cipher list, "" for OpenSSL's default
    std::string groups;  // "" for OpenSSL's default
    bool whole = false;  // everything the client sent, not its first flight only
};

// Aggregate initialisation would warn about every field left out.
client_spec spec(std::string name, std::string sni, std::string alpn,
                 int max_version = TLS1_3_VERSION, std::string ciphers = "",
                 std::string groups = "", bool whole = false) {
    return {std::move(name),   std::move(sni), std::move(alpn), max_version, std::move(ciphers),
            std::move(groups), whole};
}

std::string alpn_of(std::initializer_list<std::string> protocols) {
    std::string wire;
    for (const std::string& p : protocols)
        wire += static_cast<char>(p.size()) + p;
    return wire;
}

struct client_run {
    std::string first_flight;
    std::string everything;
};

// One conversation of a client with `spec`'s settings with the
// lenient port, both sides over memory BIOs, until both finish or one fails.
client_run talk(const client_spec& spec) {
    client_run run;
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_max_proto_version(ctx, spec.max_version);
    if (!spec.ciphers.empty())
        SSL_CTX_set_cipher_list(ctx, spec.ciphers.c_str());
    if (!spec.groups.empty())
        SSL_CTX_set1_groups_list(ctx, spec.groups.c_str());
    SSL* client = SSL_new(ctx);
    SSL_set_connect_state(client);
    if (!spec.sni.empty())
        SSL_set_tlsext_host_name(client, spec.sni.c_str());
    if (!spec.alpn.empty())
        SSL_set_alpn_protos(client, reinterpret_cast<const unsigned char*>(spec.alpn.data()),
                            static_cast<unsigned>(spec.alpn.size()));
    BIO* to_server = BIO_new(BIO_s_mem());
    BIO* to_client = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(to_server, -1);
    BIO_set_mem_eof_return(to_client, -1);
    SSL_set0_rbio(client, to_client);
    SSL_set0_wbio(client, to_server);
    BIO_up_ref(to_client);
    BIO_up_ref(to_server);

    tls::ssl_ptr server = fuzz::world().lenient->new_ssl();
    SSL_set_accept_state(server.get());
    SSL_set0_rbio(server.get(), to_server);
    SSL_set0_wbio(server.get(), to_client);

    bool client_done = false;
    bool server_done = false;
    for (int round = 0; round < 10 && !(client_done && server_done); ++round) {
        const int c = SSL_do_handshake(client);
        client_done = c == 1;
        if (c != 1 && SSL_get_error(client, c) != SSL_ERROR_WANT_READ)
            break;
        // Peek at what the client wrote without taking it from the server's BIO.
        char* data = nullptr;
        const long pending = BIO_get_mem_data(to_server, &data);
        const std::string sent(data, static_cast<std::size_t>(pending));
        if (round == 0)
            run.first_flight = sent;
        run.everything += sent;
        const int s = SSL_do_handshake(server.get());
        server_done = s == 1;
        if (s != 1 && SSL_get_error(server.get(), s) != SSL_ERROR_WANT_READ) {
            // The alert goes to the client; a last client step would only read it.
            break;
        }
    }
    ERR_clear_error();
    SSL_free(client);
    SSL_CTX_free(ctx);
    return run;
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    const std::filesystem::path dir = argv[1];
    std::filesystem::create_directories(dir);
    const std::string http11 = alpn_of({"http/1.1"});
    const std::string h2_http11 = alpn_of({"h2", "http/1.1"});
    const std::vector<client_spec> specs = {
        spec("tls13-sni-a-http11", "a.example.com", http11),
        spec("tls13-sni-www-a-upper-dot", "WWW.A.EXAMPLE.COM.", h2_http11),
        spec("tls13-sni-wildcard-c", "x.c.example.com", http11, TLS1_3_VERSION, "", "", true),
        spec("tls13-sni-unknown", "unknown.example.org", http11),
        spec("tls13-no-sni-http11", "", http11),
        spec("tls13-no-sni-no-alpn", "", ""),
        spec("tls13-alpn-h2-only", "a.example.com", alpn_of({"h2"})),
        spec("tls13-hello-retry-p521", "a.example.com", http11, TLS1_3_VERSION, "", "P-521:X25519",
             true),
        spec("tls12-sni-b-h2-http11", "b.example.com", h2_http11, TLS1_2_VERSION, "", "", true),
        spec("tls12-sni-a-rsa-only", "a.example.com", http11, TLS1_2_VERSION,
             "ECDHE-RSA-AES128-GCM-SHA256", "", true),
        spec("tls12-sni-b-no-shared-cipher", "b.example.com", http11, TLS1_2_VERSION,
             "ECDHE-ECDSA-AES128-GCM-SHA256"),
        spec("tls12-sni-c-tls13-only-site", "x.c.example.com", http11, TLS1_2_VERSION),
    };
    int written = 0;
    for (const client_spec& c : specs) {
        const client_run run = talk(c);
        const std::string seed = c.whole ? run.everything : run.first_flight;
        if (seed.empty()) {
            std::fprintf(stderr, "%s: the client sent nothing\n", c.name.c_str());
            return 1;
        }
        std::ofstream(dir / c.name, std::ios::binary) << seed;
        ++written;
    }
    std::printf("%d seeds in %s\n", written, dir.c_str());
    return 0;
}
