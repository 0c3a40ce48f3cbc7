// Unit tests for the [sites.proxy] keys of the loader: every key read into the model, the
// checks between them (unknown pools, duplicate paths, strip/rewrite), the refusals of what
// bws does not do yet, and every error at its FILE:LINE:COL.
#include "config/load.hpp"

#include "../config_test_util.hpp"

#include <gtest/gtest.h>

namespace bws::config {
namespace {

using test::all;

constexpr const char* file = "/srv/conf/bws.toml";

load_result load(const std::string& text, bool resolve = false) {
    load_options options;
    options.check_filesystem = resolve;
    return load_string(text, file, options);
}

// Lines 1-7: site "a" with "[sites.proxy]" and "enabled = true"; the caller's text starts on
// line 8.
std::string proxy_a(const std::string& rest) {
    return "[[sites]]\nname = \"a\"\nhostname = \"a.test\"\nport = 8080\nstatic_dir = "
           "\"/srv/a\"\n[sites.proxy]\nenabled = true\n" +
           rest;
}

constexpr const char* app = "[[sites.proxy.upstreams]]\nname = \"app\"\nurl = "
                            "\"http://127.0.0.1:9001\"\n"; // lines 8-10 when first

diagnostic only_error(const load_result& r) {
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.errors.size(), 1u) << all(r.errors);
    return r.errors.empty() ? diagnostic{} : r.errors.front();
}

void expect_at(const diagnostic& d, int line, int column) {
    EXPECT_EQ(d.pos.line, line) << d.to_string();
    EXPECT_EQ(d.pos.column, column) << d.to_string();
}

TEST(ConfigProxy, EveryKeyIsRead) {
    auto r = load(proxy_a(R"(retries = 2
keepalive = 16
trusted_proxies = ["10.0.0.0/8", "::1"]
[[sites.proxy.upstreams]]
name = "app"
url = "http://127.0.0.1:9001"
weight = 3
[[sites.proxy.upstreams]]
name = "app"
url = "http://[::1]:9002/"
[[sites.proxy.upstreams]]
name = "other"
url = "http://backend.internal"
[[sites.proxy.routes]]
path = "/api/"
upstream = "app"
strip_prefix = true
[[sites.proxy.routes]]
path = "/api/v1"
upstream = "other"
rewrite_target = "/v1"
websocket = true
[sites.proxy.load_balancing]
method = "least_connections"
[sites.proxy.timeout]
connect = "2s"
read = 30
write = "1m"
tunnel_idle = "10m"
[sites.proxy.headers]
preserve_host = false
add_x_forwarded = false
add_forwarded = true
add = { "X-Env" = "prod", "X-Team" = "web" }
remove = ["X-Debug"]
)"));
    ASSERT_TRUE(r.ok()) << all(r.errors);
    EXPECT_TRUE(r.warnings.empty()) << all(r.warnings);
    const auto& p = r.config->sites.at(0).proxy.value();
    ASSERT_EQ(p.pools.size(), 2u);
    EXPECT_EQ(p.pools[0].name, "app");
    ASSERT_EQ(p.pools[0].servers.size(), 2u);
    EXPECT_EQ(p.pools[0].servers[0].weight, 3u);
    EXPECT_EQ(p.pools[0].servers[0].authority, "127.0.0.1:9001");
    EXPECT_EQ(p.pools[0].servers[0].addresses.size(), 1u); // a literal needs no lookup
    EXPECT_EQ(p.pools[0].servers[1].host, "::1");
    EXPECT_EQ(p.pools[0].servers[1].authority, "[::1]:9002");
    EXPECT_EQ(p.pools[1].servers[0].port, 80);
    EXPECT_EQ(p.pools[1].servers[0].authority, "backend.internal");
    EXPECT_TRUE(p.pools[1].servers[0].addresses.empty()); // not resolved without the check
    ASSERT_EQ(p.routes.size(), 2u);
    EXPECT_EQ(p.routes[0].path, "/api/v1"); // longest first
    EXPECT_EQ(p.routes[0].pool, 1u);
    EXPECT_EQ(p.routes[0].rewrite_target.value(), "/v1");
    EXPECT_TRUE(p.routes[0].websocket);
    EXPECT_FALSE(p.routes[1].websocket);
    EXPECT_EQ(p.tunnel_idle_timeout, std::chrono::minutes(10));
    EXPECT_EQ(p.routes[1].path, "/api"); // the trailing slash is dropped
    EXPECT_TRUE(p.routes[1].strip_prefix);
    EXPECT_EQ(p.method, balance_method::least_connections);
    EXPECT_EQ(p.connect_timeout, std::chrono::seconds(2));
    EXPECT_EQ(p.read_timeout, std::chrono::seconds(30));
    EXPECT_EQ(p.write_timeout, std::chrono::minutes(1));
    EXPECT_EQ(p.retries, 2u);
    EXPECT_EQ(p.keepalive, 16u);
    ASSERT_EQ(p.headers.trusted_proxies.blocks().size(), 2u);
    EXPECT_EQ(p.headers.trusted_proxies.blocks()[0].prefix, 8u);
    EXPECT_FALSE(p.headers.preserve_host);
    EXPECT_FALSE(p.headers.add_x_forwarded);
    EXPECT_TRUE(p.headers.add_forwarded);
    ASSERT_EQ(p.headers.add.size(), 2u);
    EXPECT_EQ(p.headers.add[0].first, "X-Env"); // file order
    EXPECT_EQ(p.headers.remove, std::vector<std::string>{"x-debug"});
}

TEST(ConfigProxy, Defaults) {
    auto r = load(proxy_a(std::string(app) + "[[sites.proxy.routes]]\npath = \"/\"\nupstream = "
                                             "\"app\"\n"));
    ASSERT_TRUE(r.ok()) << all(r.errors);
    const auto& p = r.config->sites.at(0).proxy.value();
    EXPECT_EQ(p.method, balance_method::round_robin);
    EXPECT_EQ(p.connect_timeout, std::chrono::seconds(10));
    EXPECT_EQ(p.read_timeout, std::chrono::seconds(60));
    EXPECT_EQ(p.tunnel_idle_timeout, std::chrono::hours(1));
    EXPECT_TRUE(p.headers.preserve_host);
    EXPECT_TRUE(p.headers.add_x_forwarded);
    EXPECT_FALSE(p.headers.add_forwarded);
    EXPECT_EQ(p.retries, 1u);
    EXPECT_EQ(p.keepalive, 128u);
}

TEST(ConfigProxy, DisabledTableIsNoProxy) {
    auto r = load("[[sites]]\nname = \"a\"\nhostname = \"a.test\"\nport = 8080\nstatic_dir = "
                  "\"/srv/a\"\n[sites.proxy]\nenabled = false\n" +
                  std::string(app));
    ASSERT_TRUE(r.ok()) << all(r.errors);
    EXPECT_FALSE(r.config->sites.at(0).proxy);
}

TEST(ConfigProxy, RouteToAnUnknownPoolIsAnErrorAtItsUpstream) {
    auto d = only_error(
        load(proxy_a(std::string(app) + "[[sites.proxy.routes]]\npath = \"/x\"\nupstream = "
                                        "\"nope\"\n")));
    expect_at(d, 13, 12);
    EXPECT_NE(d.message.find("no [[sites.proxy.upstreams]] is named 'nope'"), std::string::npos)
        << d.message;
    EXPECT_NE(d.message.find("'app'"), std::string::npos) << d.message;
}

TEST(ConfigProxy, EnabledWithoutUpstreamsIsAnError) {
    auto d = only_error(load(proxy_a("")));
    EXPECT_NE(d.message.find("without [[sites.proxy.upstreams]]"), std::string::npos) << d.message;
}

TEST(ConfigProxy, NoRoutesIsAWarning) {
    auto r = load(proxy_a(app));
    ASSERT_TRUE(r.ok()) << all(r.errors);
    ASSERT_EQ(r.warnings.size(), 1u);
    EXPECT_NE(r.warnings[0].message.find("nothing is proxied"), std::string::npos);
}

TEST(ConfigProxy, DuplicateRoutePathIsAnError) {
    auto d = only_error(load(proxy_a(std::string(app) +
                                     "[[sites.proxy.routes]]\npath = \"/x\"\nupstream = \"app\"\n"
                                     "[[sites.proxy.routes]]\npath = \"/x/\"\nupstream = "
                                     "\"app\"\n")));
    expect_at(d, 15, 8);
    EXPECT_NE(d.message.find("has a route already"), std::string::npos) << d.message;
}

TEST(ConfigProxy, BadValuesAreErrorsAtTheValue) {
    struct bad {
        std::string text; // lines from 8
        int line;
        int column;
        std::string message;
    };
    const std::vector<bad> cases{
        {"[[sites.proxy.upstreams]]\nname = \"a\"\nurl = \"unix:run/app.sock\"\n", 10, 7,
         "a Unix socket is an absolute path"},
        {"[[sites.proxy.upstreams]]\nname = \"a\"\nurl = \"ftp://b\"\n", 10, 7,
         "is not an http://, https:// or unix: URL"},
        {"[[sites.proxy.upstreams]]\nname = \"a\"\nurl = \"http://b\"\n"
         "tls_server_name = \"b.test\"\n",
         11, 19, "only an https:// upstream"},
        {"[[sites.proxy.upstreams]]\nname = \"a\"\nurl = \"https://b\"\n"
         "tls_server_name = \"1 2\"\n",
         11, 19, "is not a host name"},
        {"[[sites.proxy.upstreams]]\nname = \"a\"\nurl = \"http://b:1/base\"\n", 10, 7,
         "no path or query"},
        {"[[sites.proxy.upstreams]]\nname = \"a\"\nurl = \"http://b:99999\"\n", 10, 7,
         "the port must be 1-65535"},
        {"[[sites.proxy.upstreams]]\nname = \"a\"\nurl = \"http://b:x\"\n", 10, 7,
         "the port must be 1-65535"},
        {"[[sites.proxy.upstreams]]\nname = \"a\"\nurl = \"http://u@b:1\"\n", 10, 7,
         "without user"},
        {"[[sites.proxy.upstreams]]\nname = \"a\"\nurl = \"http://*.b\"\n", 10, 7,
         "a wildcard is not a host"},
        {"[[sites.proxy.upstreams]]\nname = \"a\"\nurl = \"http://b\"\nweight = 0\n", 11, 10,
         "weight"},
        {"[[sites.proxy.upstreams]]\nname = \"a\"\nurl = \"http://b\"\nmax_conns = 70000\n", 11, 13,
         "max_conns"},
        {std::string(app) + "[[sites.proxy.routes]]\npath = \"api\"\nupstream = \"app\"\n", 12, 8,
         "is not a path starting with '/'"},
        {std::string(app) + "[sites.proxy.load_balancing]\nmethod = \"random\"\n", 12, 10,
         "is not one of round_robin, weighted, least_connections, consistent_hash"},
        {std::string(app) + "[sites.proxy.load_balancing]\nsticky_sessions = true\n", 12, 19,
         "use method = \"consistent_hash\""},
        {std::string(app) + "[sites.proxy.load_balancing]\nhash_header = \"X A\"\n", 12, 15,
         "is not a header name"},
        {std::string(app) + "[sites.proxy.health_check]\nenabled = true\npath = \"health\"\n", 13,
         8, "is not a request target starting with '/'"},
        {std::string(app) + "[sites.proxy.health_check]\nenabled = true\ninterval = \"2s\"\n"
                            "timeout = \"2s\"\n",
         14, 11, "must be shorter than its interval"},
        {std::string(app) + "[sites.proxy.health_check]\nretries = 0\n", 12, 11, "retries"},
        {std::string(app) + "[sites.proxy.health_check]\nexpect_status = 600\n", 12, 17,
         "expect_status"},
        {std::string(app) + "[sites.proxy.health_check]\ninterval = 0\n", 12, 12, "interval"},
        {std::string(app) + "[sites.proxy.health_check]\nrise = 2\n", 12, 1, "unknown key"},
        {"resolve_interval = \"soon\"\n" + std::string(app), 8, 20, "resolve_interval"},
        {"trusted_proxies = [\"10.0.0.0/8\", \"10.0.0.0/40\"]\n" + std::string(app), 8, 34,
         "is not an IP address or a CIDR block"},
        {std::string(app) + "[sites.proxy.timeout]\nread = 0\n", 12, 8, "read"},
        {std::string(app) + "[sites.proxy.headers]\nadd = { \"Content-Length\" = \"1\" }\n", 12, 9,
         "is set by the proxy"},
        {std::string(app) + "[sites.proxy.headers]\nadd = { \"X-A\" = \"a\\nb\" }\n", 12, 17,
         "line break"},
        {std::string(app) + "[sites.proxy.headers]\nremove = [\"Host\"]\n", 12, 11,
         "cannot be removed"},
        {std::string(app) + "[sites.proxy.headers]\nremove = [\"bad name\"]\n", 12, 11,
         "not a valid header name"},
        {std::string(app) + "[[sites.proxy.routes]]\npath = \"/a\"\nupstream = \"app\"\n"
                            "strip_prefix = true\nrewrite_target = \"/b\"\n",
         11, 1, "set one of them"},
    };
    for (const auto& c : cases) {
        auto r = load(proxy_a(c.text));
        ASSERT_FALSE(r.ok()) << c.text;
        ASSERT_FALSE(r.errors.empty());
        const auto& d = r.errors.front();
        EXPECT_EQ(d.pos.line, c.line) << c.text << "\n" << d.to_string();
        EXPECT_EQ(d.pos.column, c.column) << c.text << "\n" << d.to_string();
        EXPECT_NE(d.message.find(c.message), std::string::npos) << c.text << "\n" << d.message;
    }
}

TEST(ConfigProxy, HealthCheckKeysAndDefaults) {
    auto r =
        load(proxy_a("resolve_interval = 0\n" + std::string(app) + R"([sites.proxy.health_check]
enabled = true
path = "/ready?full=1"
interval = "5s"
timeout = "1s"
retries = 2
expect_status = 204
)"));
    ASSERT_TRUE(r.ok()) << all(r.errors);
    const auto& p = *r.config->sites[0].proxy;
    EXPECT_TRUE(p.health_check.enabled);
    EXPECT_EQ(p.health_check.path, "/ready?full=1");
    EXPECT_EQ(p.health_check.interval.count(), 5000);
    EXPECT_EQ(p.health_check.timeout.count(), 1000);
    EXPECT_EQ(p.health_check.retries, 2u);
    EXPECT_EQ(p.health_check.expect_min, 204u);
    EXPECT_EQ(p.health_check.expect_max, 204u);
    EXPECT_EQ(p.resolve_interval.count(), 0);

    // Defaults; the default timeout shrinks to half an interval shorter than it.
    auto d = load(proxy_a(std::string(app) + "[sites.proxy.health_check]\nenabled = true\n"));
    ASSERT_TRUE(d.ok()) << all(d.errors);
    const auto& q = *d.config->sites[0].proxy;
    EXPECT_EQ(q.health_check.path, "/health");
    EXPECT_EQ(q.health_check.interval.count(), 10000);
    EXPECT_EQ(q.health_check.timeout.count(), 2000);
    EXPECT_EQ(q.health_check.retries, 3u);
    EXPECT_EQ(q.health_check.expect_min, 200u);
    EXPECT_EQ(q.health_check.expect_max, 399u);
    EXPECT_EQ(q.resolve_interval.count(), 30000);
    auto s = load(
        proxy_a(std::string(app) + "[sites.proxy.health_check]\nenabled = true\ninterval = 1\n"));
    ASSERT_TRUE(s.ok()) << all(s.errors);
    EXPECT_EQ(s.config->sites[0].proxy->health_check.timeout.count(), 500);
}

TEST(ConfigProxy, AHostNameIsResolvedWhenTheEnvironmentIsChecked) {
    auto r = load(proxy_a("[[sites.proxy.upstreams]]\nname = \"a\"\nurl = \"http://localhost:9\"\n"
                          "[[sites.proxy.routes]]\npath = \"/\"\nupstream = \"a\"\n"),
                  true);
    // static_dir does not exist, which the filesystem check reports; the name resolves (from
    // /etc/hosts: a test never asks a DNS server).
    for (const auto& e : r.errors)
        EXPECT_EQ(e.message.find("cannot resolve"), std::string::npos) << e.to_string();
}

} // namespace
} // namespace bws::config
