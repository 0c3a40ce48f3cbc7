// [sites.metrics] (the server-wide /metrics on a site) and api_only sites: keys, defaults,
// and errors with their positions.
#include "config/load.hpp"

#include "../config_test_util.hpp"

#include <fstream>

#include <gtest/gtest.h>

namespace bws::config {
namespace {

using test::all;
using test::find_one;

constexpr const char* site_head = R"([[sites]]
name = "a"
hostname = "a.test"
port = 8080
static_dir = "/srv/a"
)";

load_result load(const std::string& text, bool check_filesystem = false) {
    load_options options;
    options.check_filesystem = check_filesystem;
    return load_string(text, "/srv/conf/bws.toml", options);
}

// A site with [sites.metrics] holding `keys` (line 6 is the table, line 7 the first key).
load_result with_metrics(const std::string& keys, const std::string& after = "") {
    return load(std::string(site_head) + "[sites.metrics]\n" + keys + after);
}

bool allows(const site_metrics& m, const char* ip) {
    return m.allow.contains(net::ip_address::parse(ip).value());
}

void expect_at(const diagnostic& d, int line, int column) {
    EXPECT_EQ(d.pos.file, "/srv/conf/bws.toml") << d.to_string();
    EXPECT_EQ(d.pos.line, line) << d.to_string();
    EXPECT_EQ(d.pos.column, column) << d.to_string();
}

TEST(SiteMetricsKeys, AbsentTableMeansNoEndpoint) {
    auto r = load(site_head);
    ASSERT_TRUE(r.ok()) << all(r.errors);
    EXPECT_FALSE(r.config->sites[0].metrics);
    EXPECT_FALSE(r.config->sites[0].api_only);
}

TEST(SiteMetricsKeys, TableAloneTurnsItOnWithLoopbackAndTheDefaultPath) {
    auto r = with_metrics("");
    ASSERT_TRUE(r.ok()) << all(r.errors);
    EXPECT_TRUE(r.warnings.empty()) << all(r.warnings);
    const auto& m = r.config->sites[0].metrics.value();
    EXPECT_EQ(m.path, "/metrics");
    EXPECT_TRUE(allows(m, "127.0.0.1"));
    EXPECT_TRUE(allows(m, "127.200.0.9"));
    EXPECT_TRUE(allows(m, "::1"));
    EXPECT_TRUE(allows(m, "::ffff:127.0.0.1"));
    EXPECT_FALSE(allows(m, "10.0.0.1"));
    EXPECT_FALSE(allows(m, "::2"));
    EXPECT_FALSE(allows(m, "192.168.1.1"));
}

TEST(SiteMetricsKeys, EnabledPathAndAllowIps) {
    auto r = with_metrics(R"(enabled = true
path = "/_bws/metrics"
allow_ips = ["10.0.0.0/8", "2001:db8::/32"]
)");
    ASSERT_TRUE(r.ok()) << all(r.errors);
    const auto& m = r.config->sites[0].metrics.value();
    EXPECT_EQ(m.path, "/_bws/metrics");
    EXPECT_EQ(m.pos.line, 8);
    EXPECT_TRUE(allows(m, "10.1.2.3"));
    EXPECT_TRUE(allows(m, "2001:db8::7"));
    // allow_ips replaces the default: loopback is not added to it.
    EXPECT_FALSE(allows(m, "127.0.0.1"));
    EXPECT_FALSE(allows(m, "::1"));
}

TEST(SiteMetricsKeys, EnabledFalseKeepsItOff) {
    auto r = with_metrics("enabled = false\npath = \"/m\"\n");
    ASSERT_TRUE(r.ok()) << all(r.errors);
    EXPECT_FALSE(r.config->sites[0].metrics);
}

TEST(SiteMetricsKeys, EmptyAllowListIsAWarning) {
    auto r = with_metrics("allow_ips = []\n");
    ASSERT_TRUE(r.ok()) << all(r.errors);
    expect_at(find_one(r.warnings, "allow_ips is empty, so every client gets 403"), 6, 1);
    EXPECT_FALSE(allows(r.config->sites[0].metrics.value(), "127.0.0.1"));
}

TEST(SiteMetricsKeys, BadPathsAreErrorsAtTheValue) {
    for (const char* bad : {"metrics", "/", "/a/../metrics", "/a//b", "/metrics/", "/m?x", "/m#x",
                            "/m%65", "/a b", "/./m"}) {
        auto r = with_metrics(std::string("path = \"") + bad + "\"\n");
        ASSERT_EQ(r.errors.size(), 1u) << bad << ": " << all(r.errors);
        expect_at(find_one(r.errors, "path: '" + std::string(bad) + "' must be a normal path"), 7,
                  8);
    }
}

TEST(SiteMetricsKeys, WrongTypesAndUnknownKeys) {
    auto r = with_metrics(R"(enabled = "yes"
allow_ips = "127.0.0.1"
colour = 1
path = ""
)");
    EXPECT_EQ(r.errors.size(), 4u) << all(r.errors);
    expect_at(find_one(r.errors, "enabled"), 7, 11);
    expect_at(find_one(r.errors, "allow_ips"), 8, 13);
    expect_at(find_one(r.errors, "unknown key 'colour' in [sites.metrics]"), 9, 1);
    expect_at(find_one(r.errors, "path"), 10, 8);
    auto bad = with_metrics("allow_ips = [\"nope\"]\n");
    expect_at(find_one(bad.errors, "'nope' is not an IP address or a CIDR block"), 7, 14);
    auto not_table = load(std::string(site_head) + "metrics = true\n");
    EXPECT_EQ(not_table.errors.size(), 1u) << all(not_table.errors);
    find_one(not_table.errors, "[sites.metrics]");
}

TEST(SiteMetricsKeys, ThePathOfTheHealthEndpointIsAnError) {
    for (const char* taken : {"/health", "/health/detailed"}) {
        auto r = with_metrics(std::string("path = \"") + taken + "\"\n");
        ASSERT_EQ(r.errors.size(), 1u) << all(r.errors);
        expect_at(find_one(r.errors, "site 'a': [sites.metrics] path '" + std::string(taken) +
                                         "' is a path of the health endpoint"),
                  7, 8);
    }
    // With another health_path, /health is free; the configured one is not (the table comes
    // after the sites: the check runs once everything is read).
    auto r = with_metrics("path = \"/health\"\n", "[server]\nhealth_path = \"/up\"\n");
    EXPECT_TRUE(r.ok()) << all(r.errors);
    r = with_metrics("path = \"/up\"\n", "[server]\nhealth_path = \"/up\"\n");
    expect_at(find_one(r.errors, "is a path of the health endpoint (server.health_path = '/up')"),
              7, 8);
    // Without a table the default path is checked, at the table.
    r = with_metrics("", "[server]\nhealth_path = \"/metrics\"\n");
    expect_at(find_one(r.errors, "[sites.metrics] path '/metrics' is a path of the health"), 6, 1);
}

constexpr const char* proxy_tables = R"(
[sites.proxy]
enabled = true
[[sites.proxy.upstreams]]
name = "app"
url = "http://127.0.0.1:9000"
[[sites.proxy.routes]]
path = "/api"
upstream = "app"
[[sites.proxy.routes]]
path = "/metrics"
upstream = "app"
)";

TEST(SiteMetricsKeys, TheSamePathAsAProxyRouteIsAnError) {
    auto r = with_metrics("", proxy_tables);
    ASSERT_EQ(r.errors.size(), 1u) << all(r.errors);
    expect_at(find_one(r.errors, "site 'a': [sites.metrics] path '/metrics' is also the path of "
                                 "a [[sites.proxy.routes]] entry (line 17)"),
              6, 1);
    r = with_metrics("path = \"/metrics\"\n", proxy_tables);
    expect_at(find_one(r.errors, "is also the path of a [[sites.proxy.routes]] entry (line 18)"), 7,
              8);
    // Another path is fine: beside the routes, or beneath none of them.
    r = with_metrics("path = \"/stats\"\n", proxy_tables);
    EXPECT_TRUE(r.ok()) << all(r.errors);
    EXPECT_TRUE(r.warnings.empty()) << all(r.warnings);
}

TEST(SiteMetricsKeys, APathAShorterProxyRouteWouldTakeIsAWarning) {
    auto r = with_metrics("path = \"/api/metrics\"\n", proxy_tables);
    ASSERT_TRUE(r.ok()) << all(r.errors);
    expect_at(find_one(r.warnings, "[sites.metrics] path '/api/metrics' lies beneath the proxy "
                                   "route '/api' (line 15)"),
              7, 8);
    const std::string everything = R"(
[sites.proxy]
enabled = true
[[sites.proxy.upstreams]]
name = "app"
url = "http://127.0.0.1:9000"
[[sites.proxy.routes]]
path = "/"
upstream = "app"
)";
    r = with_metrics("", everything);
    ASSERT_TRUE(r.ok()) << all(r.errors);
    find_one(r.warnings, "lies beneath the proxy route '/'");
}

TEST(ApiOnly, NeedsNoStaticDir) {
    auto r = load(R"([[sites]]
name = "api"
hostname = "api.test"
port = 8080
api_only = true
)");
    ASSERT_TRUE(r.ok()) << all(r.errors);
    EXPECT_TRUE(r.config->sites[0].api_only);
    EXPECT_TRUE(r.config->sites[0].static_dir.empty());
}

TEST(ApiOnly, NeitherStaticDirNorApiOnlyIsAnError) {
    auto r = load(R"([[sites]]
name = "a"
hostname = "a.test"
port = 8080
api_only = false
)");
    ASSERT_EQ(r.errors.size(), 1u) << all(r.errors);
    expect_at(find_one(r.errors, "site 'a' is missing the required key 'static_dir' (or "
                                 "api_only = true for a site that serves no files)"),
              1, 1);
    auto wrong = load(std::string(site_head) + "api_only = \"yes\"\n");
    expect_at(find_one(wrong.errors, "api_only"), 6, 12);
}

TEST(ApiOnly, StaticOnlyKeysAreWarnings) {
    auto r = load(std::string(site_head) + R"(api_only = true
fallback = "/index.html"
enable_directory_listing = true
index_files = ["home.html"]
)");
    ASSERT_TRUE(r.ok()) << all(r.errors);
    EXPECT_EQ(r.warnings.size(), 3u) << all(r.warnings);
    expect_at(find_one(r.warnings, "site 'a': fallback has no effect with api_only = true"), 7, 12);
    expect_at(find_one(r.warnings, "enable_directory_listing has no effect"), 8, 28);
    expect_at(find_one(r.warnings, "index_files has no effect"), 9, 15);
}

TEST(ApiOnly, ErrorPagesNeedAnAbsolutePathWithoutStaticDir) {
    auto r = load(R"([[sites]]
name = "api"
hostname = "api.test"
port = 8080
api_only = true
[sites.error_pages]
404 = "404.html"
500 = "/srv/pages/500.html"
)");
    ASSERT_EQ(r.errors.size(), 1u) << all(r.errors);
    expect_at(find_one(r.errors, "error_pages.404: '404.html' is relative, and the site has no "
                                 "static_dir"),
              7, 7);
    // With a static_dir the relative page resolves against it, as for any site.
    r = load(std::string(site_head) + "api_only = true\n[sites.error_pages]\n404 = \"404.html\"\n");
    ASSERT_TRUE(r.ok()) << all(r.errors);
    EXPECT_EQ(r.config->sites[0].error_pages.at(404), "/srv/a/404.html");
}

TEST(ApiOnly, FilesystemCheckSkipsTheMissingStaticDir) {
    test::temp_dir d;
    const auto page = d.path() / "404.html";
    std::ofstream(page) << "gone\n";
    auto r = load(R"([[sites]]
name = "api"
hostname = "api.test"
port = 8080
api_only = true
[sites.error_pages]
404 = ")" + page.string() +
                      "\"\n",
                  true);
    ASSERT_TRUE(r.ok()) << all(r.errors);
    EXPECT_TRUE(r.warnings.empty()) << all(r.warnings); // no "no index file" for it
    // The error pages are still checked.
    r = load(R"([[sites]]
name = "api"
hostname = "api.test"
port = 8080
api_only = true
[sites.error_pages]
404 = ")" + (d.path() / "missing.html").string() +
                 "\"\n",
             true);
    find_one(r.errors, "missing.html' does not exist");
}

} // namespace
} // namespace bws::config
