// Unit tests for proxy route matching (segment boundaries, longest prefix, dot segments) and
// the upstream target (strip_prefix, rewrite_target, the query kept).
#include "proxy/route_match.hpp"

#include <gtest/gtest.h>

namespace bws::proxy {
namespace {

config::site_proxy routes(std::initializer_list<const char*> paths) {
    config::site_proxy p;
    std::size_t i = 0;
    for (const char* path : paths) {
        config::proxy_route r;
        r.path = path;
        r.pool = i++;
        p.routes.push_back(r);
    }
    // The loader sorts longest first.
    std::stable_sort(p.routes.begin(), p.routes.end(),
                     [](const auto& a, const auto& b) { return a.path.size() > b.path.size(); });
    return p;
}

const char* matched(const config::site_proxy& p, std::string_view path) {
    const auto* r = match_route(p, path);
    return r ? r->path.c_str() : "none";
}

TEST(ProxyRoutes, PrefixesMatchOnSegmentBoundaries) {
    auto p = routes({"/api", "/api/v2", "/static"});
    EXPECT_STREQ(matched(p, "/api"), "/api");
    EXPECT_STREQ(matched(p, "/api/"), "/api");
    EXPECT_STREQ(matched(p, "/api/x"), "/api");
    EXPECT_STREQ(matched(p, "/apix"), "none");
    EXPECT_STREQ(matched(p, "/api/v2"), "/api/v2");
    EXPECT_STREQ(matched(p, "/api/v2/users"), "/api/v2");
    EXPECT_STREQ(matched(p, "/api/v20"), "/api");
    EXPECT_STREQ(matched(p, "/"), "none");
    EXPECT_STREQ(matched(p, "/stat"), "none");
}

TEST(ProxyRoutes, TheRootRouteTakesEverything) {
    auto p = routes({"/", "/a"});
    EXPECT_STREQ(matched(p, "/"), "/");
    EXPECT_STREQ(matched(p, "/anything"), "/");
    EXPECT_STREQ(matched(p, "/a/b"), "/a");
}

TEST(ProxyRoutes, DotSegmentsAreRemoved) {
    EXPECT_EQ(remove_dot_segments("/a/b").value(), "/a/b");
    EXPECT_EQ(remove_dot_segments("/a/./b").value(), "/a/b");
    EXPECT_EQ(remove_dot_segments("/a/../b").value(), "/b");
    EXPECT_EQ(remove_dot_segments("/a/%2e%2E/b").value(), "/b");
    EXPECT_EQ(remove_dot_segments("/a/%2e/b").value(), "/a/b");
    EXPECT_EQ(remove_dot_segments("/a/..").value(), "/");
    EXPECT_EQ(remove_dot_segments("/a/b/..").value(), "/a/");
    EXPECT_EQ(remove_dot_segments("/a/.").value(), "/a/");
    EXPECT_EQ(remove_dot_segments("/a/").value(), "/a/");
    EXPECT_EQ(remove_dot_segments("/a/..b/.c/%2ex").value(), "/a/..b/.c/%2ex");
    EXPECT_EQ(remove_dot_segments("/a%20b").value(), "/a%20b"); // the encoding is kept
    EXPECT_FALSE(remove_dot_segments("/.."));
    EXPECT_FALSE(remove_dot_segments("/a/../../b"));
    EXPECT_FALSE(remove_dot_segments("/%2e%2e/etc"));
}

TEST(ProxyRoutes, TargetKeepsThePathAndQuery) {
    config::proxy_route r;
    r.path = "/api";
    EXPECT_EQ(upstream_target(r, "/api/x", "a=1&b=2", true), "/api/x?a=1&b=2");
    EXPECT_EQ(upstream_target(r, "/api/x", "", true), "/api/x?");
    EXPECT_EQ(upstream_target(r, "/api/x", "", false), "/api/x");
}

TEST(ProxyRoutes, StripPrefix) {
    config::proxy_route r;
    r.path = "/api";
    r.strip_prefix = true;
    EXPECT_EQ(upstream_target(r, "/api/x", "q", true), "/x?q");
    EXPECT_EQ(upstream_target(r, "/api", "", false), "/");
    EXPECT_EQ(upstream_target(r, "/api/", "", false), "/");
    r.path = "/";
    EXPECT_EQ(upstream_target(r, "/x/y", "", false), "/x/y");
}

TEST(ProxyRoutes, RewriteTargetReplacesThePrefixOnly) {
    config::proxy_route r;
    r.path = "/api";
    r.rewrite_target = "/v2";
    EXPECT_EQ(upstream_target(r, "/api/users/7", "x=1", true), "/v2/users/7?x=1");
    EXPECT_EQ(upstream_target(r, "/api", "", false), "/v2");
    r.rewrite_target = "/";
    EXPECT_EQ(upstream_target(r, "/api/users", "", false), "/users");
    r.path = "/";
    r.rewrite_target = "/app";
    EXPECT_EQ(upstream_target(r, "/x", "", false), "/app/x");
}

} // namespace
} // namespace bws::proxy
