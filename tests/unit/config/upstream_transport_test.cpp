// Unit tests for upstream transports in the loader: http://, https:// and unix: URLs split
// into the model, the TLS keys (tls_verify, ca_file, tls_server_name), max_conns, and the
// environment check that reads ca_file and looks for Unix sockets.
#include "config/load.hpp"
#include "config/upstream_url.hpp"

#include "../config_test_util.hpp"
#include "../tls/test_certs.hpp"

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace bws::config {
namespace {

using test::all;
using test::temp_dir;

upstream_server parsed(const std::string& url) {
    upstream_server out;
    std::string error;
    EXPECT_TRUE(detail::parse_upstream_url(url, out, error)) << url << ": " << error;
    return out;
}

std::string refusal(const std::string& url) {
    upstream_server out;
    std::string error;
    EXPECT_FALSE(detail::parse_upstream_url(url, out, error)) << url;
    return error;
}

TEST(UpstreamUrl, HttpHasPort80ByDefault) {
    const auto s = parsed("http://app.internal");
    EXPECT_EQ(s.transport, upstream_transport::tcp);
    EXPECT_EQ(s.host, "app.internal");
    EXPECT_EQ(s.port, 80);
    EXPECT_EQ(s.authority, "app.internal");
    EXPECT_TRUE(s.addresses.empty());
}

TEST(UpstreamUrl, HttpsHasPort443ByDefault) {
    auto s = parsed("https://App.Internal/");
    EXPECT_EQ(s.transport, upstream_transport::tls);
    EXPECT_EQ(s.host, "app.internal");
    EXPECT_EQ(s.port, 443);
    EXPECT_EQ(s.authority, "app.internal");
    s = parsed("https://app.internal:8443");
    EXPECT_EQ(s.port, 8443);
    EXPECT_EQ(s.authority, "app.internal:8443");
    s = parsed("https://app.internal:80");
    EXPECT_EQ(s.authority, "app.internal:80"); // 80 is not https's default
    s = parsed("https://[::1]:9443");
    EXPECT_EQ(s.host, "::1");
    ASSERT_EQ(s.addresses.size(), 1u);
    EXPECT_EQ(s.authority, "[::1]:9443");
}

TEST(UpstreamUrl, UnixIsAnAbsolutePath) {
    const auto s = parsed("unix:/run/app//app.sock");
    EXPECT_EQ(s.transport, upstream_transport::unix_socket);
    EXPECT_EQ(s.unix_path, "/run/app/app.sock");
    EXPECT_EQ(s.authority, "localhost");
    EXPECT_TRUE(s.host.empty());
    EXPECT_TRUE(s.addresses.empty());
    EXPECT_NE(refusal("unix:run/app.sock").find("absolute path"), std::string::npos);
    EXPECT_NE(refusal("unix:").find("absolute path"), std::string::npos);
    EXPECT_NE(refusal("unix:/" + std::string(sizeof(sockaddr_un::sun_path), 'a')).find("at most"),
              std::string::npos);
}

TEST(UpstreamUrl, OtherSchemesAndPartsAreRefused) {
    EXPECT_NE(refusal("ftp://b").find("is not an http://, https:// or unix: URL"),
              std::string::npos);
    EXPECT_NE(refusal("https://b/base").find("no path"), std::string::npos);
    EXPECT_NE(refusal("https://u@b").find("without user"), std::string::npos);
    EXPECT_NE(refusal("https://b:0").find("1-65535"), std::string::npos);
    EXPECT_NE(refusal("https://*.b").find("wildcard"), std::string::npos);
}

constexpr const char* file = "/srv/conf/bws.toml";

// Site "a" on lines 1-7 with [sites.proxy] enabled; `rest` starts on line 8.
std::string proxy_a(const std::string& rest, const std::string& root = "/srv/a") {
    return "[[sites]]\nname = \"a\"\nhostname = \"a.test\"\nport = 8080\nstatic_dir = \"" + root +
           "\"\n[sites.proxy]\nenabled = true\n" + rest;
}

load_result load(const std::string& text, bool environment = false) {
    load_options options;
    options.check_filesystem = environment;
    return load_string(text, file, options);
}

TEST(UpstreamKeys, TlsKeysAndMaxConnsAreRead) {
    auto r = load(proxy_a(R"(ca_file = "certs/ca.pem"
[[sites.proxy.upstreams]]
name = "app"
url = "https://127.0.0.1:9443"
tls_server_name = "App.Internal."
max_conns = 8
[[sites.proxy.routes]]
path = "/"
upstream = "app"
)"));
    ASSERT_TRUE(r.ok()) << all(r.errors);
    EXPECT_TRUE(r.warnings.empty()) << all(r.warnings);
    const auto& p = r.config->sites.at(0).proxy.value();
    EXPECT_TRUE(p.tls.verify);
    EXPECT_EQ(p.tls.ca_file, "/srv/conf/certs/ca.pem"); // relative to the config file
    EXPECT_EQ(p.tls.ca_pos.line, 8);
    const auto& s = p.pools.at(0).servers.at(0);
    EXPECT_EQ(s.tls_server_name, "app.internal");
    EXPECT_EQ(s.max_conns, 8u);
}

TEST(UpstreamKeys, NoCapAndVerificationByDefault) {
    auto r = load(proxy_a("[[sites.proxy.upstreams]]\nname = \"a\"\nurl = \"https://b\"\n"
                          "[[sites.proxy.routes]]\npath = \"/\"\nupstream = \"a\"\n"));
    ASSERT_TRUE(r.ok()) << all(r.errors);
    const auto& p = r.config->sites.at(0).proxy.value();
    EXPECT_TRUE(p.tls.verify);
    EXPECT_TRUE(p.tls.ca_file.empty());
    EXPECT_EQ(p.pools.at(0).servers.at(0).max_conns, 0u);
}

TEST(UpstreamKeys, TlsVerifyFalseIsAWarningAtTheKey) {
    auto r = load(proxy_a("tls_verify = false\n[[sites.proxy.upstreams]]\nname = \"a\"\n"
                          "url = \"https://b\"\n[[sites.proxy.routes]]\npath = \"/\"\n"
                          "upstream = \"a\"\n"));
    ASSERT_TRUE(r.ok()) << all(r.errors);
    ASSERT_EQ(r.warnings.size(), 1u) << all(r.warnings);
    EXPECT_EQ(r.warnings[0].pos.line, 8);
    EXPECT_EQ(r.warnings[0].pos.column, 14);
    EXPECT_NE(r.warnings[0].message.find("not checked"), std::string::npos);
    EXPECT_FALSE(r.config->sites.at(0).proxy->tls.verify);
}

class UpstreamEnvironment : public ::testing::Test {
protected:
    temp_dir dir{"bws-upstream"};

    load_result check(const std::string& rest) {
        dir.write("www/index.html", "index\n");
        return load(proxy_a(rest + "[[sites.proxy.routes]]\npath = \"/\"\nupstream = \"a\"\n",
                            (dir / "www").string()),
                    true);
    }
    std::string https_with_ca(const std::filesystem::path& ca) {
        return "ca_file = \"" + ca.string() +
               "\"\n[[sites.proxy.upstreams]]\nname = \"a\"\nurl = \"https://127.0.0.1:1\"\n";
    }
};

TEST_F(UpstreamEnvironment, AValidCaFileIsReadIntoTheSnapshot) {
    tls::testing::cert_factory ca(dir / "pki");
    auto r = check(https_with_ca(ca.ca_file()));
    ASSERT_TRUE(r.ok()) << all(r.errors);
    const auto& pem = r.config->sites.at(0).proxy->tls.ca_pem;
    EXPECT_NE(pem.find("BEGIN CERTIFICATE"), std::string::npos);
}

TEST_F(UpstreamEnvironment, AMissingOrBrokenCaFileIsAnErrorAtTheKey) {
    for (const auto& [content, message] : std::vector<std::pair<std::string, std::string>>{
             {"", "cannot read"},
             {"no certificate here\n", "has no PEM certificate"},
             {"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
              "does not parse"}}) {
        auto path = dir / "ca.pem";
        std::filesystem::remove(path);
        if (!content.empty())
            dir.write("ca.pem", content);
        auto r = check(https_with_ca(path));
        ASSERT_EQ(r.errors.size(), 1u) << all(r.errors);
        EXPECT_EQ(r.errors[0].pos.line, 8) << r.errors[0].to_string();
        EXPECT_EQ(r.errors[0].pos.column, 11) << r.errors[0].to_string();
        EXPECT_NE(r.errors[0].message.find(message), std::string::npos) << r.errors[0].message;
    }
}

TEST_F(UpstreamEnvironment, AUnixSocketThatIsNotThereIsAWarning) {
    const auto path = dir / "app.sock";
    const std::string upstream =
        "[[sites.proxy.upstreams]]\nname = \"a\"\nurl = \"unix:" + path.string() + "\"\n";
    auto r = check(upstream);
    ASSERT_TRUE(r.ok()) << all(r.errors);
    ASSERT_EQ(r.warnings.size(), 1u) << all(r.warnings);
    EXPECT_EQ(r.warnings[0].pos.line, 10);
    EXPECT_NE(r.warnings[0].message.find("does not exist yet"), std::string::npos);

    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::snprintf(address.sun_path, sizeof address.sun_path, "%s", path.c_str());
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    r = check(upstream);
    ::close(fd);
    ASSERT_TRUE(r.ok()) << all(r.errors);
    EXPECT_TRUE(r.warnings.empty()) << all(r.warnings);
}

} // namespace
} // namespace bws::config
