// Handshakes against a three-site table: protocol versions, ALPN, SNI selection and refusal,
// ECDSA/RSA choice, per-site settings carried over the context switch, client certificates.
#include "tls/context.hpp"

#include "tls/error.hpp"
#include "tls_fixture.hpp"

#include <gtest/gtest.h>

namespace {

using namespace bws::tls;
using namespace bws::tls::testing;

std::string peer_fingerprint(SSL* client) {
    X509* peer = SSL_get0_peer_certificate(client);
    return peer ? sha256_fingerprint(peer) : "";
}

std::string file_fingerprint(const pem_files& files) {
    return load_or_fail(files).sha256_fingerprint();
}

std::size_t site_of(const connection_pair& c) {
    const table_site* site = c.server->info().site;
    return site ? site->site_id : 0;
}

TEST(TlsContext, Tls13WithAlpnIsTheDefault) {
    auto table = make_table();
    auto client = make_client_ctx();
    connection_pair c(*table, client.get(), "a.example.com");
    ASSERT_TRUE(c.handshake());
    const peer_info info = c.server->info();
    EXPECT_EQ(info.version, "TLSv1.3");
    EXPECT_EQ(info.alpn, "http/1.1");
    EXPECT_EQ(site_of(c), 10u);
    EXPECT_FALSE(info.resumed);
    EXPECT_EQ(info.client_subject, "");
}

TEST(TlsContext, Tls12NegotiatesEcdheAead) {
    auto table = make_table();
    auto client = make_client_ctx(TLS1_2_VERSION, TLS1_2_VERSION);
    connection_pair c(*table, client.get(), "b.example.com");
    ASSERT_TRUE(c.handshake());
    const peer_info info = c.server->info();
    EXPECT_EQ(info.version, "TLSv1.2");
    EXPECT_TRUE(info.cipher.starts_with("ECDHE-")) << info.cipher;
    EXPECT_TRUE(info.cipher.find("GCM") != std::string::npos ||
                info.cipher.find("CHACHA20") != std::string::npos)
        << info.cipher;
}

TEST(TlsContext, Tls11IsRefused) {
    auto table = make_table();
    auto client = make_client_ctx(TLS1_1_VERSION, TLS1_1_VERSION);
    SSL_CTX_set_cipher_list(client.get(), "DEFAULT:@SECLEVEL=0");
    connection_pair c(*table, client.get(), "a.example.com");
    bool client_ok = true;
    const io_result r = c.handshake(client_ok);
    EXPECT_EQ(r.state, status::error);
    EXPECT_EQ(r.ec, errc::handshake_failed);
    EXPECT_FALSE(client_ok);
}

TEST(TlsContext, SniPicksTheSiteAndItsCertificate) {
    auto table = make_table();
    auto client = make_client_ctx();
    const auto& p = pki();
    struct expectation {
        std::string sni;
        std::size_t site;
        std::vector<std::string> fingerprints;
    };
    const std::vector<expectation> cases = {
        {"a.example.com", 10, {file_fingerprint(p.a_ecdsa), file_fingerprint(p.a_rsa)}},
        {"www.a.example.com", 10, {file_fingerprint(p.a_ecdsa), file_fingerprint(p.a_rsa)}},
        {"b.example.com", 11, {file_fingerprint(p.b_ecdsa)}},
        {"x.c.example.com", 12, {file_fingerprint(p.c_wildcard)}},
    };
    for (const expectation& e : cases) {
        connection_pair c(*table, client.get(), e.sni);
        ASSERT_TRUE(c.handshake()) << e.sni;
        EXPECT_EQ(site_of(c), e.site) << e.sni;
        const std::string seen = peer_fingerprint(c.client.get());
        EXPECT_NE(std::find(e.fingerprints.begin(), e.fingerprints.end(), seen),
                  e.fingerprints.end())
            << e.sni;
    }
    // Server names are case-insensitive and may end in a dot.
    connection_pair upper(*table, client.get(), "B.Example.COM.", false);
    ASSERT_TRUE(upper.handshake());
    EXPECT_EQ(site_of(upper), 11u);
    // A wildcard covers one label only.
    connection_pair deep(*table, client.get(), "x.y.c.example.com", false);
    ASSERT_TRUE(deep.handshake());
    EXPECT_EQ(site_of(deep), 10u);
}

TEST(TlsContext, UnknownOrMissingSniGetsTheDefaultSite) {
    auto table = make_table();
    auto client = make_client_ctx();
    for (const std::string sni : {"unknown.example.org", ""}) {
        connection_pair c(*table, client.get(), sni, false);
        ASSERT_TRUE(c.handshake()) << sni;
        EXPECT_EQ(site_of(c), 10u);
        const std::string seen = peer_fingerprint(c.client.get());
        EXPECT_TRUE(seen == file_fingerprint(pki().a_ecdsa) ||
                    seen == file_fingerprint(pki().a_rsa));
    }
}

TEST(TlsContext, UnknownSniIsRefusedWhenConfigured) {
    auto table = make_table({}, nullptr, true);
    auto client = make_client_ctx();
    connection_pair refused(*table, client.get(), "unknown.example.org", false);
    bool client_ok = true;
    const io_result r = refused.handshake(client_ok);
    EXPECT_EQ(r.state, status::error);
    EXPECT_EQ(r.ec, errc::sni_refused);
    EXPECT_FALSE(client_ok);
    EXPECT_EQ(selected_site(refused.server->native()), nullptr);

    connection_pair known(*table, client.get(), "b.example.com");
    EXPECT_TRUE(known.handshake());
    connection_pair none(*table, client.get(), "", false);
    EXPECT_TRUE(none.handshake()); // no SNI at all still gets the default
}

int peer_key_type(SSL* client) {
    return EVP_PKEY_get_base_id(X509_get0_pubkey(SSL_get0_peer_certificate(client)));
}

TEST(TlsContext, EcdsaOrRsaByWhatTheClientSupports) {
    auto table = make_table();
    auto client = make_client_ctx();
    SSL_CTX_set1_sigalgs_list(client.get(), "rsa_pss_rsae_sha256:rsa_pkcs1_sha256");
    connection_pair rsa(*table, client.get(), "a.example.com");
    ASSERT_TRUE(rsa.handshake());
    EXPECT_EQ(peer_key_type(rsa.client.get()), EVP_PKEY_RSA);

    auto ec_client = make_client_ctx();
    SSL_CTX_set1_sigalgs_list(ec_client.get(), "ecdsa_secp256r1_sha256");
    connection_pair ec(*table, ec_client.get(), "a.example.com");
    ASSERT_TRUE(ec.handshake());
    EXPECT_EQ(peer_key_type(ec.client.get()), EVP_PKEY_EC);

    auto rsa12 = make_client_ctx(TLS1_2_VERSION, TLS1_2_VERSION);
    SSL_CTX_set_cipher_list(rsa12.get(), "ECDHE-RSA-AES128-GCM-SHA256");
    connection_pair old(*table, rsa12.get(), "a.example.com");
    ASSERT_TRUE(old.handshake());
    EXPECT_EQ(peer_key_type(old.client.get()), EVP_PKEY_RSA);
}

// Site b is not the default, so its settings reach the connection only through the switch
// in the ClientHello callback.
TEST(TlsContext, PerSiteProtocolAndCiphersFollowSni) {
    auto table = make_table([](std::size_t i, settings& s) {
        if (i == 1)
            s.min_version = tls_version::tls1_3;
        if (i == 2)
            s.tls12_ciphers = "ECDHE-ECDSA-CHACHA20-POLY1305";
    });
    auto client12 = make_client_ctx(TLS1_2_VERSION, TLS1_2_VERSION);
    connection_pair b(*table, client12.get(), "b.example.com");
    EXPECT_FALSE(b.handshake());
    connection_pair a(*table, client12.get(), "a.example.com");
    EXPECT_TRUE(a.handshake());
    connection_pair c(*table, client12.get(), "x.c.example.com");
    ASSERT_TRUE(c.handshake());
    EXPECT_EQ(c.server->info().cipher, "ECDHE-ECDSA-CHACHA20-POLY1305");
}

// protocols = ["TLSv1.2"] in the config: the site's maximum reaches the connection through
// the switch too, so a TLS 1.3-only client is refused there and nowhere else.
TEST(TlsContext, MaxVersionCapsTheProtocol) {
    auto table = make_table([](std::size_t i, settings& s) {
        if (i == 1)
            s.max_version = tls_version::tls1_2;
    });
    auto client = make_client_ctx();
    connection_pair b(*table, client.get(), "b.example.com");
    ASSERT_TRUE(b.handshake());
    EXPECT_EQ(b.server->info().version, "TLSv1.2");
    connection_pair a(*table, client.get(), "a.example.com");
    ASSERT_TRUE(a.handshake());
    EXPECT_EQ(a.server->info().version, "TLSv1.3");
    auto client13 = make_client_ctx(TLS1_3_VERSION, TLS1_3_VERSION);
    connection_pair b13(*table, client13.get(), "b.example.com");
    EXPECT_FALSE(b13.handshake());
}

// A key share for a group the server does not accept forces a HelloRetryRequest: the second
// ClientHello runs the callback again and must land on the same site.
TEST(TlsContext, HelloRetryRequestKeepsTheSite) {
    auto table = make_table();
    auto client = make_client_ctx(TLS1_3_VERSION, TLS1_3_VERSION);
    ASSERT_EQ(SSL_CTX_set1_groups_list(client.get(), "P-521:X25519"), 1);
    connection_pair c(*table, client.get(), "b.example.com");
    ASSERT_TRUE(c.handshake());
    EXPECT_EQ(site_of(c), 11u);
    EXPECT_EQ(peer_fingerprint(c.client.get()), file_fingerprint(pki().b_ecdsa));
    EXPECT_EQ(SSL_get_negotiated_group(c.server->native()), NID_X25519); // not the first share
}

void use_client_certificate(SSL* ssl) {
    ASSERT_EQ(SSL_use_certificate_chain_file(ssl, pki().client.cert_file.c_str()), 1);
    ASSERT_EQ(SSL_use_PrivateKey_file(ssl, pki().client.key_file.c_str(), SSL_FILETYPE_PEM), 1);
}

std::unique_ptr<context_table> client_cert_table(client_cert_mode mode) {
    return make_table([mode](std::size_t i, settings& s) {
        if (i == 1) {
            s.client_verify = mode;
            s.client_ca_file = pki().client_ca.ca_file();
        }
    });
}

TEST(TlsContext, ClientCertificateRequired) {
    auto table = client_cert_table(client_cert_mode::required);
    for (int max : {TLS1_3_VERSION, TLS1_2_VERSION}) {
        auto client = make_client_ctx(TLS1_2_VERSION, max);
        connection_pair without(*table, client.get(), "b.example.com");
        bool client_ok = true;
        const io_result r = without.handshake(client_ok);
        EXPECT_EQ(r.state, status::error) << max;
        EXPECT_EQ(r.ec, errc::handshake_failed) << max;

        connection_pair with(*table, client.get(), "b.example.com");
        use_client_certificate(with.client.get());
        ASSERT_TRUE(with.handshake()) << max;
        EXPECT_EQ(with.server->info().client_subject, "CN=alice,O=bws tests");

        connection_pair other_site(*table, client.get(), "a.example.com");
        EXPECT_TRUE(other_site.handshake()) << max; // site a asks for no certificate
    }
}

TEST(TlsContext, ClientCertificateOptional) {
    auto table = client_cert_table(client_cert_mode::optional);
    auto client = make_client_ctx();
    connection_pair without(*table, client.get(), "b.example.com");
    ASSERT_TRUE(without.handshake());
    EXPECT_EQ(without.server->info().client_subject, "");

    connection_pair with(*table, client.get(), "b.example.com");
    use_client_certificate(with.client.get());
    ASSERT_TRUE(with.handshake());
    EXPECT_EQ(with.server->info().client_subject, "CN=alice,O=bws tests");
}

TEST(TlsContext, BadSettingsAreDiagnosedPerKey) {
    settings s;
    s.tls12_ciphers = "NO-SUCH-CIPHER";
    s.groups = "nonsense";
    s.client_verify = client_cert_mode::required;
    s.client_ca_file = pki().dir.path / "absent-ca.pem";
    std::vector<certificate> certs;
    certs.push_back(load_or_fail(pki().b_ecdsa));
    std::vector<diagnostic> out;
    EXPECT_EQ(site_context::build(s, certs, nullptr, "b", out), nullptr);
    ASSERT_EQ(out.size(), 2u); // protocol settings are all checked before giving up
    EXPECT_EQ(out[0].file, diagnostic::source::tls12_ciphers);
    EXPECT_EQ(out[1].file, diagnostic::source::groups);

    s = settings{};
    s.client_verify = client_cert_mode::required;
    s.client_ca_file = pki().dir.path / "absent-ca.pem";
    out.clear();
    EXPECT_EQ(site_context::build(s, certs, nullptr, "b", out), nullptr);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].file, diagnostic::source::client_ca_file);

    out.clear();
    EXPECT_EQ(site_context::build(settings{}, {}, nullptr, "b", out), nullptr);
    ASSERT_EQ(out.size(), 1u);
}

} // namespace
