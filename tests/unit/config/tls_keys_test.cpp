// Unit tests for the TLS keys of the loader: every [sites.ssl] key and its errors with
// FILE:LINE:COL, redirect_to_https and the cross-site TLS rules, and the certificate loading and
// context building of the filesystem checks (with certificates generated at test time).
#include "config/load.hpp"

#include "../config_test_util.hpp"
#include "../tls/test_certs.hpp"
#include "tls/context.hpp"

#include <gtest/gtest.h>

namespace bws::config {
namespace {

using test::all;
using test::find_one;
using test::temp_dir;
using tls::client_cert_mode;
using tls::tls_version;
namespace certs = tls::testing;

constexpr const char* file = "/srv/conf/bws.toml";

load_result load(const std::string& text) {
    load_options options;
    options.check_filesystem = false;
    return load_string(text, file, options);
}

void expect_at(const diagnostic& d, int line, int column) {
    EXPECT_EQ(d.pos.file, file);
    EXPECT_EQ(d.pos.line, line) << d.to_string();
    EXPECT_EQ(d.pos.column, column) << d.to_string();
}

// Lines 1-5: site "a" (a.test, port 8443); the caller's text starts on line 6.
std::string site_a(const std::string& rest) {
    return "[[sites]]\nname = \"a\"\nhostname = \"a.test\"\nport = 8443\nstatic_dir = "
           "\"/srv/a\"\n" +
           rest;
}

// Site "a" with "[sites.ssl]" on line 6 and the caller's keys from line 7.
std::string ssl_a(const std::string& keys) {
    return site_a("[sites.ssl]\n" + keys);
}

constexpr const char* pair = "enabled = true\ncert_file = \"a.crt\"\nkey_file = \"a.key\"\n";

// The only error of `r` (failing the test when there are others).
diagnostic only_error(const load_result& r) {
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.errors.size(), 1u) << all(r.errors);
    return r.errors.empty() ? diagnostic{} : r.errors.front();
}

TEST(ConfigTls, EveryKeyIsRead) {
    auto r = load(ssl_a(R"(enabled = true
cert_file = "certs/a-ecdsa.crt"
key_file = "/etc/bws/keys/a-ecdsa.key"
protocols = ["TLSv1.3", "TLSv1.2"]
min_tls_version = "TLSv1.2"
ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256"
ciphersuites = "TLS_AES_256_GCM_SHA384"
groups = "X25519"
hsts_max_age = "365d"
hsts_include_subdomains = true
hsts_preload = true
client_ca_file = "clients.pem"
client_verify = "optional"
client_verify_depth = 2
session_tickets = false
strict_sni = true

[[sites.ssl.certificates]]
cert_file = "certs/a-rsa.crt"
key_file = "certs/a-rsa.key"
)"));
    ASSERT_TRUE(r.ok()) << all(r.errors);
    EXPECT_TRUE(r.warnings.empty()) << all(r.warnings);
    const site& s = r.config->sites[0];
    ASSERT_TRUE(s.tls.has_value());
    const tls::settings& t = s.tls->settings;
    ASSERT_EQ(t.certificates.size(), 2u);
    EXPECT_EQ(t.certificates[0].cert_file, "/srv/conf/certs/a-ecdsa.crt");
    EXPECT_EQ(t.certificates[0].key_file, "/etc/bws/keys/a-ecdsa.key");
    EXPECT_EQ(t.certificates[1].cert_file, "/srv/conf/certs/a-rsa.crt");
    EXPECT_EQ(t.certificates[1].key_file, "/srv/conf/certs/a-rsa.key");
    EXPECT_EQ(t.min_version, tls_version::tls1_2);
    EXPECT_EQ(t.max_version, tls_version::tls1_3);
    EXPECT_EQ(t.tls12_ciphers, "ECDHE-ECDSA-AES128-GCM-SHA256");
    EXPECT_EQ(t.tls13_ciphersuites, "TLS_AES_256_GCM_SHA384");
    EXPECT_EQ(t.groups, "X25519");
    EXPECT_EQ(t.client_ca_file, "/srv/conf/clients.pem");
    EXPECT_EQ(t.client_verify, client_cert_mode::optional);
    EXPECT_EQ(t.client_verify_depth, 2);
    EXPECT_FALSE(t.session_tickets);
    EXPECT_EQ(s.tls->hsts_max_age, std::chrono::seconds(31536000));
    EXPECT_TRUE(s.tls->hsts_include_subdomains);
    EXPECT_TRUE(s.tls->hsts_preload);
    EXPECT_TRUE(s.tls->strict_sni);
    EXPECT_EQ(s.tls->certificates.get(), nullptr); // the filesystem was not checked
    EXPECT_EQ(s.tls->context.get(), nullptr);
    EXPECT_FALSE(s.redirect_to_https);
}

TEST(ConfigTls, DefaultsOfAnEnabledTable) {
    auto r = load(ssl_a(pair));
    ASSERT_TRUE(r.ok()) << all(r.errors);
    EXPECT_TRUE(r.warnings.empty()) << all(r.warnings);
    const site& s = r.config->sites[0];
    ASSERT_TRUE(s.tls.has_value());
    const tls::settings& t = s.tls->settings;
    const tls::settings defaults;
    ASSERT_EQ(t.certificates.size(), 1u);
    EXPECT_EQ(t.certificates[0].cert_file, "/srv/conf/a.crt");
    EXPECT_EQ(t.certificates[0].key_file, "/srv/conf/a.key");
    EXPECT_EQ(t.min_version, tls_version::tls1_2);
    EXPECT_FALSE(t.max_version.has_value());
    EXPECT_EQ(t.tls12_ciphers, defaults.tls12_ciphers);
    EXPECT_EQ(t.tls13_ciphersuites, defaults.tls13_ciphersuites);
    EXPECT_EQ(t.groups, defaults.groups);
    EXPECT_EQ(t.client_verify, client_cert_mode::none);
    EXPECT_TRUE(t.client_ca_file.empty());
    EXPECT_EQ(t.client_verify_depth, 4);
    EXPECT_TRUE(t.session_tickets);
    EXPECT_FALSE(s.tls->hsts_max_age.has_value());
    EXPECT_FALSE(s.tls->hsts_include_subdomains);
    EXPECT_FALSE(s.tls->hsts_preload);
    EXPECT_FALSE(s.tls->strict_sni);
}

TEST(ConfigTls, VersionSpellings) {
    for (const auto& [text, want] :
         std::vector<std::pair<std::string, tls_version>>{{"1.2", tls_version::tls1_2},
                                                          {"1.3", tls_version::tls1_3},
                                                          {"TLSv1.2", tls_version::tls1_2},
                                                          {"TLSv1.3", tls_version::tls1_3}}) {
        auto r = load(ssl_a(std::string(pair) + "min_tls_version = \"" + text + "\"\n"));
        ASSERT_TRUE(r.ok()) << text << all(r.errors);
        EXPECT_EQ(r.config->sites[0].tls->settings.min_version, want) << text;
        EXPECT_FALSE(r.config->sites[0].tls->settings.max_version.has_value()) << text;
    }
    auto only12 = load(ssl_a(std::string(pair) + "protocols = [\"TLSv1.2\"]\n"));
    ASSERT_TRUE(only12.ok()) << all(only12.errors);
    EXPECT_EQ(only12.config->sites[0].tls->settings.min_version, tls_version::tls1_2);
    EXPECT_EQ(only12.config->sites[0].tls->settings.max_version, tls_version::tls1_2);
    auto only13 =
        load(ssl_a(std::string(pair) + "protocols = [\"TLSv1.3\"]\nmin_tls_version = \"1.3\"\n"));
    ASSERT_TRUE(only13.ok()) << all(only13.errors);
    EXPECT_EQ(only13.config->sites[0].tls->settings.min_version, tls_version::tls1_3);
    EXPECT_EQ(only13.config->sites[0].tls->settings.max_version, tls_version::tls1_3);
}

TEST(ConfigTls, DisabledTableIsCheckedButThePlainSiteHasNoTls) {
    auto r = load(ssl_a(R"(enabled = false
cert_file = "a.crt"
client_verify = "required"
hsts_preload = true
)"));
    ASSERT_TRUE(r.ok()) << all(r.errors);
    EXPECT_TRUE(r.warnings.empty()) << all(r.warnings); // the rules between keys do not apply
    EXPECT_FALSE(r.config->sites[0].tls.has_value());

    auto bad = load(ssl_a(R"(enabled = false
ciphers = 5
client_verify = "maybe"
hsts_max_age = "forever"
min_tls_version = "TLSv1.1"
)"));
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.errors.size(), 4u) << all(bad.errors);
    expect_at(find_one(bad.errors, "ciphers: expected a string, got an integer"), 8, 11);
    expect_at(find_one(bad.errors, "client_verify: 'maybe' is not one of off, optional, required"),
              9, 17);
    expect_at(find_one(bad.errors, "hsts_max_age: duration 'forever'"), 10, 16);
    expect_at(find_one(bad.errors, "min_tls_version: 'TLSv1.1' is insecure"), 11, 19);
}

TEST(ConfigTls, TableWithoutEnabledWarnsAndStaysPlain) {
    auto r = load(ssl_a("cert_file = \"a.crt\"\nkey_file = \"a.key\"\n"));
    ASSERT_TRUE(r.ok()) << all(r.errors);
    EXPECT_FALSE(r.config->sites[0].tls.has_value());
    ASSERT_EQ(r.warnings.size(), 1u) << all(r.warnings);
    EXPECT_EQ(r.warnings[0].to_string(),
              "/srv/conf/bws.toml:6:1: [sites.ssl] of site 'a' has no 'enabled = true', so the "
              "site serves plain HTTP (write enabled = false to keep it off without this "
              "warning)");
}

TEST(ConfigTls, EnabledWithoutCertificateIsAnErrorAtTheTable) {
    auto r = load(ssl_a("enabled = true\nmin_tls_version = \"1.3\"\n"));
    const diagnostic d = only_error(r);
    EXPECT_EQ(d.to_string(), "/srv/conf/bws.toml:6:1: site 'a': [sites.ssl] is enabled but "
                             "names no certificate (set cert_file and key_file, or add "
                             "[[sites.ssl.certificates]])");
}

TEST(ConfigTls, AnEmptyCertificateListIsNoCertificate) {
    expect_at(only_error(load(ssl_a("enabled = true\ncertificates = []\n"))), 6, 1);
    // A certificate written but refused is reported once, at its value.
    expect_at(only_error(load(ssl_a("enabled = true\ncert_file = 5\nkey_file = \"a.key\"\n"))), 8,
              13);
}

TEST(ConfigTls, CertificateAndKeyComeInPairs) {
    expect_at(find_one(load(ssl_a("enabled = true\ncert_file = \"a.crt\"\n")).errors,
                       "cert_file needs key_file in [sites.ssl]"),
              8, 13);
    expect_at(find_one(load(ssl_a("enabled = true\nkey_file = \"a.key\"\n")).errors,
                       "key_file needs cert_file in [sites.ssl]"),
              8, 12);
    auto r = load(ssl_a(R"(enabled = true

[[sites.ssl.certificates]]
cert_file = "rsa.crt"
key_file = "rsa.key"

[[sites.ssl.certificates]]
cert_file = "ecdsa.crt"
colour = "blue"
)"));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.errors.size(), 2u) << all(r.errors);
    expect_at(find_one(r.errors, "[[sites.ssl.certificates]] entry is missing the required key "
                                 "'key_file'"),
              13, 1);
    expect_at(find_one(r.errors, "unknown key 'colour' in [[sites.ssl.certificates]]"), 15, 1);

    auto typed = load(ssl_a("enabled = true\ncertificates = \"a.crt\"\n"));
    expect_at(find_one(typed.errors, "certificates: expected an array of tables"), 8, 16);
}

TEST(ConfigTls, UnknownKeysAndTables) {
    auto r = load(ssl_a(std::string(pair) + "cert_path = \"a.crt\"\n\n[sites.ssl.extra]\nx = 1\n"));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.errors.size(), 2u) << all(r.errors);
    expect_at(find_one(r.errors, "unknown key 'cert_path' in [sites.ssl]"), 10, 1);
    expect_at(find_one(r.errors, "unknown table 'extra' in [sites.ssl]"), 12, 12);

    auto not_table = load(site_a("ssl = true\n"));
    expect_at(only_error(not_table), 6, 7);
    EXPECT_EQ(not_table.errors[0].message, "[sites.ssl]: expected a table, got a boolean");
}

TEST(ConfigTls, AcmeIsNotSupportedYet) {
    auto r = load(ssl_a(std::string(pair) +
                        "auto_cert = true\ndomains = [\"a.test\"]\n\n[sites.ssl.acme]\n"
                        "email = \"a@a.test\"\n"));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.errors.size(), 3u) << all(r.errors);
    expect_at(find_one(r.errors, "'auto_cert' is not supported yet (automatic certificates "
                                 "(ACME))"),
              10, 1);
    expect_at(find_one(r.errors, "'domains' is not supported yet (automatic certificates (ACME))"),
              11, 1);
    expect_at(find_one(r.errors, "[sites.ssl.acme] is not supported yet (automatic certificates "
                                 "(ACME))"),
              13, 12);
}

TEST(ConfigTls, OldProtocolsAreRefusedAsInsecure) {
    auto r = load(ssl_a(std::string(pair) + "protocols = [\"TLSv1.2\", \"TLSv1\", \"SSLv3\"]\n"));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.errors.size(), 2u) << all(r.errors);
    expect_at(find_one(r.errors, "protocols: 'TLSv1' is insecure and not supported (bws supports "
                                 "TLSv1.2 and TLSv1.3)"),
              10, 25);
    expect_at(find_one(r.errors, "protocols: 'SSLv3' is insecure"), 10, 34);

    expect_at(
        only_error(load(ssl_a(std::string(pair) + "protocols = [\"TLSv1.3\", \"TLSv1.1\"]\n"))), 10,
        25);
    const diagnostic min =
        only_error(load(ssl_a(std::string(pair) + "min_tls_version = \"1.1\"\n")));
    expect_at(min, 10, 19);
    EXPECT_NE(min.message.find("'1.1' is insecure and not supported"), std::string::npos)
        << min.message;
    const diagnostic unknown =
        only_error(load(ssl_a(std::string(pair) + "min_tls_version = \"1.4\"\n")));
    expect_at(unknown, 10, 19);
    EXPECT_EQ(unknown.message, "min_tls_version: '1.4' is not one of 1.2, 1.3, TLSv1.2, TLSv1.3");
    const diagnostic other =
        only_error(load(ssl_a(std::string(pair) + "protocols = [\"TLSv1.2\", \"QUIC\"]\n")));
    expect_at(other, 10, 25);
    EXPECT_EQ(other.message, "protocols: 'QUIC' is not one of TLSv1.2, TLSv1.3");
    const diagnostic empty = only_error(load(ssl_a(std::string(pair) + "protocols = []\n")));
    expect_at(empty, 10, 13);
    EXPECT_EQ(empty.message, "protocols: must list at least one of TLSv1.2, TLSv1.3");
    expect_at(only_error(load(ssl_a(std::string(pair) + "protocols = \"TLSv1.2\"\n"))), 10, 13);
}

TEST(ConfigTls, MinVersionMustAgreeWithProtocols) {
    const diagnostic d =
        only_error(load(ssl_a(std::string(pair) + R"(protocols = ["TLSv1.2", "TLSv1.3"]
min_tls_version = "1.3"
)")));
    EXPECT_EQ(d.to_string(), "/srv/conf/bws.toml:11:19: min_tls_version TLSv1.3 disagrees with "
                             "protocols (line 10), whose lowest version is TLSv1.2");
    auto agree = load(ssl_a(std::string(pair) +
                            "protocols = [\"TLSv1.2\", \"TLSv1.3\"]\nmin_tls_version = \"1.2\"\n"));
    EXPECT_TRUE(agree.ok()) << all(agree.errors);
}

TEST(ConfigTls, ClientVerificationNeedsACaFile) {
    const diagnostic required =
        only_error(load(ssl_a(std::string(pair) + "client_verify = \"required\"\n")));
    EXPECT_EQ(required.to_string(),
              "/srv/conf/bws.toml:10:17: client_verify = \"required\" needs client_ca_file in "
              "[sites.ssl]");
    const diagnostic optional =
        only_error(load(ssl_a(std::string(pair) + "client_verify = \"optional\"\n")));
    EXPECT_EQ(optional.message, "client_verify = \"optional\" needs client_ca_file in [sites.ssl]");

    auto unused = load(ssl_a(std::string(pair) + "client_ca_file = \"ca.pem\"\n"));
    ASSERT_TRUE(unused.ok()) << all(unused.errors);
    expect_at(
        find_one(unused.warnings, "client_ca_file is not used while client_verify is \"off\""), 10,
        18);

    const diagnostic depth =
        only_error(load(ssl_a(std::string(pair) + "client_verify_depth = 101\n")));
    expect_at(depth, 10, 23);
    EXPECT_EQ(depth.message,
              "client_verify_depth: 101 is out of range (must be between 0 and 100)");
}

TEST(ConfigTls, OpenSslListsAreOneLineOfText) {
    const diagnostic d =
        only_error(load(ssl_a(std::string(pair) + "groups = \"X25519\\nP-256\"\n")));
    expect_at(d, 10, 10);
    EXPECT_EQ(d.message, "groups: contains a line break or control character");
    expect_at(only_error(load(ssl_a(std::string(pair) + "ciphersuites = \"\"\n"))), 10, 16);
}

std::optional<std::chrono::seconds> hsts(const std::string& value, load_result* out = nullptr) {
    auto r = load(ssl_a(std::string(pair) + "hsts_max_age = " + value + "\n"));
    if (out != nullptr)
        *out = r;
    if (!r.ok())
        return std::nullopt;
    return r.config->sites[0].tls->hsts_max_age;
}

TEST(ConfigTls, HstsMaxAgeTakesDaysAndUpToTwoYears) {
    EXPECT_EQ(hsts("\"730d\""), std::chrono::seconds(63072000));
    EXPECT_EQ(hsts("63072000"), std::chrono::seconds(63072000));
    EXPECT_EQ(hsts("\"1d12h\""), std::chrono::seconds(129600));
    EXPECT_EQ(hsts("\"300\""), std::chrono::seconds(300));
    EXPECT_EQ(hsts("\"2m\""), std::chrono::seconds(120));
    EXPECT_EQ(hsts("\"2000ms\""), std::chrono::seconds(2));
    EXPECT_EQ(hsts("0"), std::chrono::seconds(0)); // tells browsers to forget the policy

    auto error_of = [](const std::string& value) {
        load_result r;
        EXPECT_FALSE(hsts(value, &r).has_value()) << value;
        const diagnostic d = only_error(r);
        expect_at(d, 10, 16);
        return d.message;
    };
    EXPECT_EQ(error_of("63072001"),
              "hsts_max_age: duration '63072001s' is too long (at most 2 years, 63072000 seconds)");
    EXPECT_EQ(error_of("\"731d\""),
              "hsts_max_age: duration '731d' is too long (at most 2 years, 63072000 seconds)");
    EXPECT_EQ(error_of("\"1y\""),
              "hsts_max_age: duration '1y' has an unknown unit 'y' (use ms, s, m, h or d)");
    EXPECT_EQ(error_of("\"1500ms\""), "hsts_max_age: duration '1500ms' is not a whole number of "
                                      "seconds (a max-age is sent in seconds)");
    EXPECT_EQ(error_of("\"1.5d\""), "hsts_max_age: duration '1.5d' is not a whole number (use a "
                                    "smaller unit, e.g. \"36h\")");
    EXPECT_EQ(error_of("-1"), "hsts_max_age: a duration cannot be negative");
    EXPECT_EQ(error_of("true"), "hsts_max_age: expected a duration (seconds as an integer, or a "
                                "string like \"365d\"), got a boolean");
}

TEST(ConfigTls, OtherDurationsKeepTheirLimitAndUnits) {
    auto r = load(R"([server]
shutdown_timeout = "1d"

[server.limits]
keepalive_timeout = 31708800
)" + site_a(""));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.errors.size(), 2u) << all(r.errors);
    expect_at(find_one(r.errors, "shutdown_timeout: duration '1d' has an unknown unit 'd' (use "
                                 "ms, s, m or h)"),
              2, 20);
    expect_at(find_one(r.errors, "keepalive_timeout: duration '31708800s' is too long"), 5, 21);
    EXPECT_EQ(r.errors[1].message.find("at most"), std::string::npos) << r.errors[1].message;
}

TEST(ConfigTls, HstsPreloadRequirementsAreWarnings) {
    auto r = load(ssl_a(std::string(pair) + "hsts_max_age = \"30d\"\nhsts_preload = true\n"));
    ASSERT_TRUE(r.ok()) << all(r.errors);
    ASSERT_EQ(r.warnings.size(), 2u) << all(r.warnings);
    expect_at(find_one(r.warnings, "hsts_preload: the HSTS preload list requires "
                                   "hsts_include_subdomains = true"),
              11, 16);
    expect_at(find_one(r.warnings, "hsts_preload: the HSTS preload list requires hsts_max_age of "
                                   "at least 1 year (31536000 s)"),
              11, 16);

    auto no_age =
        load(ssl_a(std::string(pair) + "hsts_preload = true\nhsts_include_subdomains = true\n"));
    ASSERT_TRUE(no_age.ok()) << all(no_age.errors);
    ASSERT_EQ(no_age.warnings.size(), 1u) << all(no_age.warnings);
    EXPECT_NE(no_age.warnings[0].message.find("at least 1 year"), std::string::npos);

    auto good = load(ssl_a(std::string(pair) + "hsts_max_age = 31536000\nhsts_preload = true\n"
                                               "hsts_include_subdomains = true\n"));
    ASSERT_TRUE(good.ok()) << all(good.errors);
    EXPECT_TRUE(good.warnings.empty()) << all(good.warnings);

    auto no_effect = load(ssl_a(std::string(pair) + "hsts_include_subdomains = true\n"));
    ASSERT_TRUE(no_effect.ok()) << all(no_effect.errors);
    expect_at(
        find_one(no_effect.warnings, "hsts_include_subdomains has no effect without hsts_max_age"),
        10, 27);
}

// Site "a" over TLS on 8443 (lines 1-11), then the caller's sites from line 12.
std::string tls_site_a(const std::string& rest,
                       const std::string& hostnames = "hostnames = [\"*.a.test\"]\n") {
    return site_a(hostnames + "[sites.ssl]\n" + pair + "\n" + rest);
}

TEST(ConfigTls, RedirectToHttpsOnAPlainSiteThatAnHttpsSiteServes) {
    auto r = load(tls_site_a(R"([[sites]]
name = "a-http"
hostnames = ["a.test", "www.a.test"]
port = 8080
static_dir = "/srv/a"
redirect_to_https = true
)"));
    ASSERT_TRUE(r.ok()) << all(r.errors);
    EXPECT_TRUE(r.warnings.empty()) << all(r.warnings);
    EXPECT_TRUE(r.config->sites[1].redirect_to_https);
    EXPECT_FALSE(r.config->sites[1].tls.has_value());
    EXPECT_TRUE(r.config->sites[0].tls.has_value());
}

TEST(ConfigTls, RedirectToHttpsNeedsAnHttpsSiteForTheNames) {
    const diagnostic none = only_error(load(tls_site_a(R"([[sites]]
name = "b"
hostnames = ["b.test", "x.y.a.test"]
port = 8080
static_dir = "/srv/b"
redirect_to_https = true
)")));
    EXPECT_EQ(none.to_string(), "/srv/conf/bws.toml:17:21: redirect_to_https: no HTTPS site "
                                "serves a host name of site 'b' (b.test, x.y.a.test)");

    // Without any TLS site at all, and with the table there but off.
    const diagnostic off = only_error(load(ssl_a("enabled = false\n") + R"(
[[sites]]
name = "b"
hostname = "a.test"
port = 8080
static_dir = "/srv/b"
redirect_to_https = true
)"));
    expect_at(off, 14, 21);

    auto some = load(tls_site_a(R"([[sites]]
name = "b"
hostnames = ["www.a.test", "b.test"]
port = 8080
static_dir = "/srv/b"
redirect_to_https = true
)"));
    ASSERT_TRUE(some.ok()) << all(some.errors);
    ASSERT_EQ(some.warnings.size(), 1u) << all(some.warnings);
    EXPECT_EQ(some.warnings[0].to_string(),
              "/srv/conf/bws.toml:14:28: redirect_to_https: no HTTPS site serves host name "
              "'b.test' of site 'b'");
}

TEST(ConfigTls, RedirectToHttpsOnAnHttpsSiteIsAnError) {
    const diagnostic d = only_error(load(site_a("redirect_to_https = true\n[sites.ssl]\n") + pair));
    EXPECT_EQ(d.to_string(), "/srv/conf/bws.toml:6:21: redirect_to_https: site 'a' serves HTTPS "
                             "itself (the redirect would loop); set it on the plain-HTTP site "
                             "that should send clients here");
    const diagnostic type = only_error(load(site_a("redirect_to_https = \"yes\"\n")));
    expect_at(type, 6, 21);
    EXPECT_EQ(type.message, "redirect_to_https: expected a boolean, got a string");
}

TEST(ConfigTls, TlsAndPlainSitesCannotShareAPort) {
    const diagnostic later_plain = only_error(load(tls_site_a(R"([[sites]]
name = "b"
hostname = "b.test"
port = 8443
static_dir = "/srv/b"
)")));
    EXPECT_EQ(later_plain.to_string(),
              "/srv/conf/bws.toml:15:8: port 8443 mixes TLS and plain HTTP: site 'b' is plain "
              "HTTP, site 'a' (line 1) is TLS; all sites on one port must be TLS or all plain");

    // The plain site first: the error is at the TLS site, the later one.
    const diagnostic later_tls = only_error(load(R"([[sites]]
name = "b"
hostname = "b.test"
port = 8443
static_dir = "/srv/b"

)" + tls_site_a("")));
    EXPECT_EQ(later_tls.to_string(),
              "/srv/conf/bws.toml:10:8: port 8443 mixes TLS and plain HTTP: site 'a' is TLS, "
              "site 'b' (line 1) is plain HTTP; all sites on one port must be TLS or all plain");

    // A disabled table makes a plain site; two TLS sites share a port fine.
    auto disabled = load(tls_site_a(R"([[sites]]
name = "b"
hostname = "b.test"
port = 8443
static_dir = "/srv/b"
[sites.ssl]
enabled = false
)"));
    expect_at(only_error(disabled), 15, 8);
    auto both = load(tls_site_a(std::string(R"([[sites]]
name = "b"
hostname = "b.test"
port = 8443
static_dir = "/srv/b"
[sites.ssl]
)") + pair));
    EXPECT_TRUE(both.ok()) << all(both.errors);
}

// --- The filesystem checks: certificates generated at test time. ---

class ConfigTlsFiles : public ::testing::Test {
protected:
    temp_dir dir;
    certs::cert_factory ca{dir / "pki"};
    certs::pem_files ecdsa = issue("ecdsa", certs::key_kind::ecdsa);

    ConfigTlsFiles() { dir.write("www/index.html", "hi"); }

    certs::pem_files issue(const std::string& stem, certs::key_kind kind,
                           long valid_for = 86400L * 365,
                           std::vector<std::string> names = {"a.test", "*.a.test"}) {
        certs::leaf_options o;
        o.common_name = names.front();
        o.dns_names = std::move(names);
        o.kind = kind;
        o.valid_until_seconds = valid_for;
        return ca.issue(stem, o);
    }

    // Site "a" on lines 1-7, "[sites.ssl]" on line 8, the caller's keys from line 9. The paths
    // are written relative to the config file's directory.
    load_result load_checked(const std::string& ssl_keys,
                             const std::string& hostnames = "[\"a.test\", \"www.a.test\"]") {
        const auto conf =
            dir.write("bws.toml", "[[sites]]\nname = \"a\"\nhostnames = " + hostnames +
                                      "\nport = 8443\nstatic_dir = \"www\"\n"
                                      "\n\n[sites.ssl]\n" +
                                      ssl_keys);
        return load_file(conf);
    }
    std::string pem_pair(const certs::pem_files& f) {
        return "cert_file = \"" + relative(f.cert_file) + "\"\nkey_file = \"" +
               relative(f.key_file) + "\"\n";
    }
    std::string relative(const std::filesystem::path& p) {
        return p.lexically_relative(dir.path()).string();
    }
    std::string conf() const { return (dir / "bws.toml").string(); }
    void expect_in_conf(const diagnostic& d, int line, int column) const {
        EXPECT_EQ(d.pos.file, conf());
        EXPECT_EQ(d.pos.line, line) << d.to_string();
        EXPECT_EQ(d.pos.column, column) << d.to_string();
    }
};

TEST_F(ConfigTlsFiles, CertificatesAreLoadedAndTheContextBuilt) {
    const auto rsa = issue("rsa", certs::key_kind::rsa);
    auto r = load_checked("enabled = true\n" + pem_pair(ecdsa) + "\n[[sites.ssl.certificates]]\n" +
                          pem_pair(rsa));
    ASSERT_TRUE(r.ok()) << all(r.errors);
    EXPECT_TRUE(r.warnings.empty()) << all(r.warnings);
    const site_tls& t = *r.config->sites[0].tls;
    ASSERT_NE(t.certificates, nullptr);
    ASSERT_EQ(t.certificates->size(), 2u);
    EXPECT_EQ((*t.certificates)[0].files().cert_file, ecdsa.cert_file);
    EXPECT_EQ((*t.certificates)[1].files().cert_file, rsa.cert_file);
    ASSERT_NE(t.context, nullptr);
    EXPECT_NE(t.context->native(), nullptr);
    EXPECT_EQ(SSL_CTX_get_max_proto_version(t.context->native()), TLS1_3_VERSION);
    // The process-wide ticket keys are attached: tickets stay valid for one rotation interval.
    EXPECT_EQ(SSL_CTX_get_timeout(t.context->native()), 12 * 3600);
}

TEST_F(ConfigTlsFiles, ProtocolsReachTheContext) {
    auto r = load_checked("enabled = true\n" + pem_pair(ecdsa) + "protocols = [\"TLSv1.2\"]\n");
    ASSERT_TRUE(r.ok()) << all(r.errors);
    const SSL_CTX* ctx = r.config->sites[0].tls->context->native();
    EXPECT_EQ(SSL_CTX_get_min_proto_version(const_cast<SSL_CTX*>(ctx)), TLS1_2_VERSION);
    EXPECT_EQ(SSL_CTX_get_max_proto_version(const_cast<SSL_CTX*>(ctx)), TLS1_2_VERSION);
}

TEST_F(ConfigTlsFiles, NotLoadedWithoutTheFilesystemCheck) {
    const auto conf = dir.write("bws.toml", "[[sites]]\nname = \"a\"\nhostname = \"a.test\"\n"
                                            "port = 8443\nstatic_dir = \"www\"\n[sites.ssl]\n"
                                            "enabled = true\n" +
                                                pem_pair(ecdsa));
    auto r = load_file(conf, {.check_filesystem = false});
    ASSERT_TRUE(r.ok()) << all(r.errors);
    EXPECT_EQ(r.config->sites[0].tls->certificates, nullptr);
    EXPECT_EQ(r.config->sites[0].tls->context, nullptr);
}

TEST_F(ConfigTlsFiles, ExpiredCertificateIsAnError) {
    const auto expired = issue("expired", certs::key_kind::ecdsa, -60);
    auto r = load_checked("enabled = true\n" + pem_pair(expired));
    ASSERT_FALSE(r.ok());
    ASSERT_EQ(r.errors.size(), 1u) << all(r.errors);
    expect_in_conf(r.errors[0], 10, 13);
    EXPECT_EQ(r.errors[0].message.rfind(
                  "site 'a': " + expired.cert_file.string() + ": the certificate expired on ", 0),
              0u)
        << r.errors[0].message;
}

TEST_F(ConfigTlsFiles, CertificateExpiringSoonIsAWarning) {
    const auto soon = issue("soon", certs::key_kind::ecdsa, 86400L * 10);
    auto r = load_checked("enabled = true\n" + pem_pair(soon));
    ASSERT_TRUE(r.ok()) << all(r.errors);
    ASSERT_EQ(r.warnings.size(), 1u) << all(r.warnings);
    expect_in_conf(r.warnings[0], 10, 13);
    EXPECT_NE(r.warnings[0].message.find("site 'a': " + soon.cert_file.string() +
                                         ": the certificate expires on "),
              std::string::npos)
        << r.warnings[0].message;
    EXPECT_NE(r.config->sites[0].tls->context, nullptr);
}

TEST_F(ConfigTlsFiles, HostNameNotCoveredIsAWarning) {
    auto r = load_checked("enabled = true\n" + pem_pair(ecdsa), "[\"a.test\", \"b.test\"]");
    ASSERT_TRUE(r.ok()) << all(r.errors);
    ASSERT_EQ(r.warnings.size(), 1u) << all(r.warnings);
    expect_in_conf(r.warnings[0], 10, 13);
    EXPECT_EQ(r.warnings[0].message, "site 'a': " + ecdsa.cert_file.string() +
                                         ": the certificate does not cover the host name b.test");
}

TEST_F(ConfigTlsFiles, KeyMismatchPointsAtTheKeyFileOfThatCertificate) {
    certs::leaf_options o;
    o.common_name = "a.test";
    o.dns_names = {"a.test", "*.a.test"};
    o.kind = certs::key_kind::rsa;
    const auto mismatched = ca.issue_mismatched("mismatched", o);
    // Line 9 enabled, 10-11 the first pair, 12 blank, 13 the entry, 14-15 its files.
    auto r = load_checked("enabled = true\n" + pem_pair(ecdsa) + "\n[[sites.ssl.certificates]]\n" +
                          pem_pair(mismatched));
    ASSERT_FALSE(r.ok());
    ASSERT_EQ(r.errors.size(), 1u) << all(r.errors);
    expect_in_conf(r.errors[0], 15, 12);
    EXPECT_EQ(r.errors[0].message, "site 'a': " + mismatched.key_file.string() +
                                       ": the private key does not match the certificate " +
                                       mismatched.cert_file.string());
}

TEST_F(ConfigTlsFiles, MissingFilesPointAtTheirKeys) {
    auto no_cert = load_checked("enabled = true\ncert_file = \"absent.crt\"\nkey_file = \"" +
                                relative(ecdsa.key_file) + "\"\n");
    ASSERT_EQ(no_cert.errors.size(), 1u) << all(no_cert.errors);
    expect_in_conf(no_cert.errors[0], 10, 13);
    EXPECT_NE(no_cert.errors[0].message.find("site 'a': " + (dir / "absent.crt").string() +
                                             ": cannot open"),
              std::string::npos)
        << no_cert.errors[0].message;

    auto no_key = load_checked("enabled = true\ncert_file = \"" + relative(ecdsa.cert_file) +
                               "\"\nkey_file = \"absent.key\"\n");
    ASSERT_EQ(no_key.errors.size(), 1u) << all(no_key.errors);
    expect_in_conf(no_key.errors[0], 11, 12);
}

TEST_F(ConfigTlsFiles, BadListsAndCaFilePointAtTheirKeys) {
    auto lists = load_checked("enabled = true\n" + pem_pair(ecdsa) +
                              "ciphers = \"NO-SUCH-CIPHER\"\nciphersuites = \"TLS_NOPE\"\n"
                              "groups = \"nonsense\"\n");
    ASSERT_FALSE(lists.ok());
    ASSERT_EQ(lists.errors.size(), 3u) << all(lists.errors);
    expect_in_conf(find_one(lists.errors, "site 'a': invalid TLS 1.2 cipher list"), 12, 11);
    expect_in_conf(find_one(lists.errors, "site 'a': invalid TLS 1.3 ciphersuites"), 13, 16);
    expect_in_conf(find_one(lists.errors, "site 'a': invalid group list"), 14, 10);

    auto ca_file =
        load_checked("enabled = true\n" + pem_pair(ecdsa) +
                     "client_verify = \"required\"\nclient_ca_file = \"absent-ca.pem\"\n");
    ASSERT_EQ(ca_file.errors.size(), 1u) << all(ca_file.errors);
    expect_in_conf(ca_file.errors[0], 13, 18);
    EXPECT_NE(ca_file.errors[0].message.find("cannot load the client CA certificates"),
              std::string::npos);

    auto good_ca = load_checked("enabled = true\n" + pem_pair(ecdsa) +
                                "client_verify = \"required\"\nclient_ca_file = \"" +
                                relative(ca.ca_file()) + "\"\n");
    ASSERT_TRUE(good_ca.ok()) << all(good_ca.errors);
    EXPECT_EQ(SSL_CTX_get_verify_mode(good_ca.config->sites[0].tls->context->native()),
              SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT);
}

} // namespace
} // namespace bws::config
