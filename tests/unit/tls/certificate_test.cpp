// Certificate loading and the --config-check findings: key mismatch, broken chain, expiry,
// host-name coverage.
#include "tls/certificate.hpp"

#include "tls_fixture.hpp"

#include <gtest/gtest.h>

#include <fstream>

namespace {

using namespace bws::tls;
using namespace bws::tls::testing;
using severity = diagnostic::severity;
using source = diagnostic::source;

std::vector<diagnostic> load_errors(const certificate_files& files) {
    std::vector<diagnostic> out;
    EXPECT_FALSE(certificate::load(files, out).has_value());
    return out;
}

TEST(TlsCertificate, LoadsLeafChainAndKey) {
    const certificate cert = load_or_fail(pki().a_rsa);
    EXPECT_EQ(sk_X509_num(cert.chain()), 1); // the CA follows the leaf in the file
    EXPECT_EQ(cert.subject(), "CN=a.example.com,O=bws tests");
    EXPECT_EQ(cert.sha256_fingerprint().size(), 32u * 3 - 1);
    EXPECT_EQ(EVP_PKEY_get_base_id(cert.key()), EVP_PKEY_RSA);
    EXPECT_NE(cert.not_after_text().find("UTC"), std::string::npos);
}

TEST(TlsCertificate, MismatchedKeyIsAnErrorOnTheKeyFile) {
    const auto out = load_errors({pki().mismatched.cert_file, pki().mismatched.key_file});
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].level, severity::error);
    EXPECT_EQ(out[0].file, source::key_file);
    EXPECT_NE(out[0].message.find("does not match"), std::string::npos);
}

TEST(TlsCertificate, MissingFilesAndGarbageAreErrors) {
    const auto& p = pki();
    auto out = load_errors({p.dir.path / "absent.crt", p.a_rsa.key_file});
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].file, source::cert_file);
    // The system's reason, not OpenSSL's "system lib".
    EXPECT_NE(out[0].message.find("absent.crt: cannot open: No such file or directory"),
              std::string::npos)
        << out[0].message;
    out = load_errors({p.a_rsa.cert_file, p.dir.path / "absent.key"});
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].file, source::key_file);
    EXPECT_NE(out[0].message.find("No such file or directory"), std::string::npos)
        << out[0].message;

    const auto garbage = p.dir.path / "garbage.pem";
    std::ofstream(garbage) << "not a certificate\n";
    out = load_errors({garbage, p.a_rsa.key_file});
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].file, source::cert_file);
    out = load_errors({p.a_rsa.cert_file, garbage});
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].file, source::key_file);
}

TEST(TlsCertificate, BrokenChainIsAnError) {
    const auto& p = pki();
    std::ifstream in(p.b_ecdsa.cert_file);
    std::string text((std::istreambuf_iterator<char>(in)), {});
    // Corrupt the base64 of the second certificate (the CA) but keep the PEM framing.
    const auto second = text.find("-----BEGIN CERTIFICATE-----", 10);
    ASSERT_NE(second, std::string::npos);
    text[second + 40] = '!';
    text[second + 41] = '!';
    const auto broken = p.dir.path / "broken-chain.crt";
    std::ofstream(broken) << text;
    const auto out = load_errors({broken, p.b_ecdsa.key_file});
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].file, source::cert_file);
    EXPECT_NE(out[0].message.find("chain"), std::string::npos);
}

TEST(TlsCertificate, ExpiredIsAnErrorAndExpiringSoonAWarning) {
    const auto now = std::chrono::system_clock::now();
    std::vector<diagnostic> out;
    load_or_fail(pki().expired).check({}, now, out);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].level, severity::error);
    EXPECT_NE(out[0].message.find("expired"), std::string::npos);

    out.clear();
    load_or_fail(pki().expiring).check({}, now, out);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].level, severity::warning);
    EXPECT_NE(out[0].message.find("expires on"), std::string::npos);

    out.clear();
    load_or_fail(pki().a_ecdsa).check({}, now, out);
    EXPECT_TRUE(out.empty());
    // The same certificate seen from a year later has expired.
    load_or_fail(pki().a_ecdsa).check({}, now + std::chrono::hours(24 * 400), out);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].level, severity::error);
}

TEST(TlsCertificate, HostCoverageIncludingWildcards) {
    const certificate a = load_or_fail(pki().a_ecdsa);
    const certificate c = load_or_fail(pki().c_wildcard);
    EXPECT_TRUE(a.covers_host("a.example.com"));
    EXPECT_TRUE(a.covers_host("www.a.example.com"));
    EXPECT_FALSE(a.covers_host("b.example.com"));
    EXPECT_TRUE(c.covers_host("x.c.example.com"));
    EXPECT_FALSE(c.covers_host("x.y.c.example.com"));
    EXPECT_FALSE(c.covers_host("c.example.com"));
    EXPECT_TRUE(c.covers_host("*.c.example.com"));
    EXPECT_FALSE(a.covers_host("*.example.com"));

    // IP literals match IP address names, as clients check them.
    cert_factory ca(pki().dir.path / "ip", "bws IP CA");
    const certificate ip = load_or_fail(
        ca.issue("ip", {.common_name = "ip", .dns_names = {"IP:127.0.0.1", "IP:::1", "ip.test"}}));
    EXPECT_TRUE(ip.covers_host("127.0.0.1"));
    EXPECT_TRUE(ip.covers_host("[::1]"));
    EXPECT_TRUE(ip.covers_host("ip.test"));
    EXPECT_FALSE(ip.covers_host("127.0.0.2"));
    EXPECT_FALSE(a.covers_host("127.0.0.1"));

    std::vector<diagnostic> out;
    const std::vector<std::string> hosts = {"a.example.com", "other.example.com"};
    a.check(hosts, std::chrono::system_clock::now(), out);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].level, severity::warning);
    EXPECT_NE(out[0].message.find("other.example.com"), std::string::npos);
}

} // namespace
