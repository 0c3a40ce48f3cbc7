// http::route: every decision it can make, from request heads built in the test.
#include "http/router.hpp"

#include "config/model.hpp"

#include <gtest/gtest.h>

namespace {

using bws::http::request_head;
using bws::http::route;
using bws::http::route_kind;
using bws::http::vhost_table;
using verb = boost::beast::http::verb;

class Router : public ::testing::Test {
protected:
    void SetUp() override {
        vhosts_.add_name("a.test", 1);
        vhosts_.add_name("*.wild.test", 2);
        vhosts_.set_default(3);
    }
    static request_head get(std::string target, std::string host = "a.test") {
        request_head h;
        h.method = verb::get;
        h.method_string = "GET";
        h.target = std::move(target);
        h.host = std::move(host);
        h.host_seen = !h.host.empty();
        return h;
    }
    vhost_table vhosts_;
};

TEST_F(Router, HostHeaderPicksTheSiteAndPathAndQueryAreSplit) {
    auto h = get("/dir/file.txt?x=1&y");
    auto d = route(vhosts_, "/health", h);
    EXPECT_EQ(d.kind, route_kind::static_files);
    EXPECT_EQ(d.site, 1u);
    EXPECT_EQ(d.path, "/dir/file.txt");
    EXPECT_EQ(d.query, "x=1&y");
    EXPECT_FALSE(d.head);
    EXPECT_FALSE(d.close);

    h = get("/x", "Deep.Wild.Test:8080");
    EXPECT_EQ(route(vhosts_, "/health", h).site, 2u);
    h = get("/x", "other.test");
    EXPECT_EQ(route(vhosts_, "/health", h).site, 3u);
}

TEST_F(Router, QueryOnlyTargetMeansTheRoot) {
    auto h = get("?q");
    auto d = route(vhosts_, "/health", h);
    EXPECT_EQ(d.kind, route_kind::static_files);
    EXPECT_EQ(d.path, "/");
    EXPECT_EQ(d.query, "q");
}

TEST_F(Router, AbsoluteFormAuthorityWinsOverHost) {
    auto h = get("http://A.TEST:81/p?q", "other.test");
    auto d = route(vhosts_, "/health", h);
    EXPECT_EQ(d.kind, route_kind::static_files);
    EXPECT_EQ(d.site, 1u);
    EXPECT_EQ(d.path, "/p");
    EXPECT_EQ(d.query, "q");

    h = get("https://x.wild.test", "");
    d = route(vhosts_, "/health", h);
    EXPECT_EQ(d.site, 2u);
    EXPECT_EQ(d.path, "/");
}

TEST_F(Router, MalformedAuthorityIs400OnTheDefaultSiteAndCloses) {
    for (auto h : {get("/", "a..b"), get("http://a..b/", "a.test"), get("http:///", "a.test")}) {
        auto d = route(vhosts_, "/health", h);
        EXPECT_EQ(d.kind, route_kind::error) << h.target << " " << h.host;
        EXPECT_EQ(d.status, 400u);
        EXPECT_TRUE(d.close);
        EXPECT_EQ(d.site, 3u);
    }
}

TEST_F(Router, MissingHostIs400InHttp11ButFineInHttp10) {
    auto h = get("/", "");
    auto d = route(vhosts_, "/health", h);
    EXPECT_EQ(d.kind, route_kind::error);
    EXPECT_EQ(d.status, 400u);
    EXPECT_TRUE(d.close);

    h.version = 10;
    d = route(vhosts_, "/health", h);
    EXPECT_EQ(d.kind, route_kind::static_files);
    EXPECT_EQ(d.site, 3u);
}

TEST_F(Router, TargetsThatAreNotOriginFormAre400OnTheirSite) {
    for (const char* target : {"*", "a.test:80", "ftp://a.test/"}) {
        auto h = get(target);
        auto d = route(vhosts_, "/health", h);
        EXPECT_EQ(d.kind, route_kind::error) << target;
        EXPECT_EQ(d.status, 400u);
        EXPECT_TRUE(d.close);
        EXPECT_EQ(d.site, 1u);
    }
}

TEST_F(Router, MethodsOtherThanGetAndHeadAre405WithAllow) {
    auto h = get("/");
    h.method = verb::post;
    auto d = route(vhosts_, "/health", h);
    EXPECT_EQ(d.kind, route_kind::error);
    EXPECT_EQ(d.status, 405u);
    EXPECT_TRUE(d.allow_header);
    EXPECT_FALSE(d.close);
    EXPECT_EQ(d.site, 1u);

    h.method = verb::unknown;
    h.method_string = "BREW";
    EXPECT_EQ(route(vhosts_, "/health", h).status, 405u);
}

TEST_F(Router, HeadIsServedLikeGetWithoutABody) {
    auto h = get("/f");
    h.method = verb::head;
    auto d = route(vhosts_, "/health", h);
    EXPECT_EQ(d.kind, route_kind::static_files);
    EXPECT_TRUE(d.head);

    h.target = "*";
    d = route(vhosts_, "/health", h);
    EXPECT_EQ(d.kind, route_kind::error);
    EXPECT_TRUE(d.head); // the 400 has no body either
}

TEST_F(Router, HealthPaths) {
    EXPECT_EQ(route(vhosts_, "/health", get("/health")).kind, route_kind::health);
    EXPECT_EQ(route(vhosts_, "/health", get("/health/")).kind, route_kind::health);
    EXPECT_EQ(route(vhosts_, "/health", get("/health?x")).kind, route_kind::health);
    EXPECT_EQ(route(vhosts_, "/health", get("/health/detailed")).kind, route_kind::health_detailed);
    EXPECT_EQ(route(vhosts_, "/health", get("/healthz")).kind, route_kind::static_files);
    EXPECT_EQ(route(vhosts_, "/health", get("/health/other")).kind, route_kind::static_files);
    EXPECT_EQ(route(vhosts_, "/_status", get("/_status")).kind, route_kind::health);
    // An empty health path turns the endpoint off.
    EXPECT_EQ(route(vhosts_, "", get("/health")).kind, route_kind::static_files);
    // The health endpoint answers on whichever site the Host names.
    EXPECT_EQ(route(vhosts_, "/health", get("/health", "x.wild.test")).site, 2u);
    // POST to the health path is still a 405.
    auto h = get("/health");
    h.method = verb::post;
    EXPECT_EQ(route(vhosts_, "/health", h).status, 405u);
}

TEST_F(Router, SaysWhetherANameMatchedAndKeepsTheNormalisedHost) {
    auto named = route(vhosts_, "/health", get("/x?", "A.Test:8443"));
    EXPECT_EQ(named.site, 1u);
    EXPECT_TRUE(named.host_matched);
    EXPECT_EQ(named.host, "a.test");
    EXPECT_TRUE(named.has_query); // "?" with nothing after it is still a query
    EXPECT_EQ(named.query, "");

    auto wildcard = route(vhosts_, "/health", get("/x", "b.wild.test"));
    EXPECT_EQ(wildcard.site, 2u);
    EXPECT_TRUE(wildcard.host_matched);
    EXPECT_FALSE(wildcard.has_query);

    auto fallback = route(vhosts_, "/health", get("/x", "unknown.test"));
    EXPECT_EQ(fallback.site, 3u);
    EXPECT_FALSE(fallback.host_matched);
    EXPECT_EQ(fallback.host, "unknown.test");
}

TEST_F(Router, ProxyRoutesTakeAnyMethodAfterTheHealthPath) {
    bws::config::site_proxy proxy;
    bws::config::proxy_route api;
    api.path = "/api";
    proxy.routes.push_back(api);
    std::vector<bws::http::site_routes> proxies(4);
    proxies[1].proxy = &proxy;

    auto h = get("/api/users?id=7");
    h.method = verb::post;
    auto d = route(vhosts_, "/health", h, proxies);
    EXPECT_EQ(d.kind, route_kind::proxy);
    EXPECT_EQ(d.proxy_route, &proxy.routes[0]);
    EXPECT_EQ(d.proxy_path, "/api/users");
    EXPECT_EQ(d.query, "id=7");

    // The health endpoint stays bws's own; other paths fall through to the static files.
    EXPECT_EQ(route(vhosts_, "/health", get("/health"), proxies).kind, route_kind::health);
    EXPECT_EQ(route(vhosts_, "/health", get("/apix"), proxies).kind, route_kind::static_files);
    h.target = "/other";
    EXPECT_EQ(route(vhosts_, "/health", h, proxies).status, 405u);
    // Another site (the default) does not proxy.
    EXPECT_EQ(route(vhosts_, "/health", get("/api", "b.test"), proxies).kind,
              route_kind::static_files);
}

TEST_F(Router, ProxyRoutesMatchWithoutDotSegments) {
    bws::config::site_proxy proxy;
    bws::config::proxy_route api;
    api.path = "/api";
    proxy.routes.push_back(api);
    std::vector<bws::http::site_routes> proxies(2);
    proxies[1].proxy = &proxy;
    auto d = route(vhosts_, "/health", get("/x/../api/y"), proxies);
    EXPECT_EQ(d.kind, route_kind::proxy);
    EXPECT_EQ(d.proxy_path, "/api/y");
    EXPECT_EQ(route(vhosts_, "/health", get("/api/../etc"), proxies).kind,
              route_kind::static_files);
    d = route(vhosts_, "/health", get("/../api"), proxies);
    EXPECT_EQ(d.status, 400u);
    EXPECT_TRUE(d.close);
}

TEST_F(Router, MetricsPathIsAnsweredBeforeTheProxyRoutesOnGetAndHead) {
    bws::config::site_proxy proxy;
    bws::config::proxy_route all;
    all.path = "/";
    proxy.routes.push_back(all);
    std::vector<bws::http::site_routes> sites(2);
    sites[1].proxy = &proxy;
    sites[1].metrics_path = "/metrics";

    auto d = route(vhosts_, "/health", get("/metrics?x=1"), sites);
    EXPECT_EQ(d.kind, route_kind::metrics);
    EXPECT_EQ(d.site, 1u);
    auto h = get("/metrics");
    h.method = verb::head;
    d = route(vhosts_, "/health", h, sites);
    EXPECT_EQ(d.kind, route_kind::metrics);
    EXPECT_TRUE(d.head);
    // Other methods: 405 with Allow, not the upstream.
    h.method = verb::post;
    d = route(vhosts_, "/health", h, sites);
    EXPECT_EQ(d.kind, route_kind::error);
    EXPECT_EQ(d.status, 405u);
    EXPECT_TRUE(d.allow_header);
    // Only that exact path; the rest goes on to the proxy, and the health path stays first.
    EXPECT_EQ(route(vhosts_, "/health", get("/metrics/x"), sites).kind, route_kind::proxy);
    EXPECT_EQ(route(vhosts_, "/health", get("/metricsx"), sites).kind, route_kind::proxy);
    EXPECT_EQ(route(vhosts_, "/health", get("/health"), sites).kind, route_kind::health);
    // A site without [sites.metrics] (the default site, 3) serves the path as a file.
    EXPECT_EQ(route(vhosts_, "/health", get("/metrics", "other.test"), sites).kind,
              route_kind::static_files);
}

TEST_F(Router, ApiOnlySiteAnswers404WhereTheStaticFilesWouldAnswer) {
    bws::config::site_proxy proxy;
    bws::config::proxy_route api;
    api.path = "/api";
    proxy.routes.push_back(api);
    std::vector<bws::http::site_routes> sites(2);
    sites[1].proxy = &proxy;
    sites[1].metrics_path = "/stats";
    sites[1].api_only = true;

    for (const char* target : {"/", "/index.html", "/apix"}) {
        auto d = route(vhosts_, "/health", get(target), sites);
        EXPECT_EQ(d.kind, route_kind::error) << target;
        EXPECT_EQ(d.status, 404u) << target;
        EXPECT_FALSE(d.allow_header) << target;
        EXPECT_FALSE(d.close) << target;
    }
    // Any method: 404, not 405 (there is no resource to allow GET on).
    auto h = get("/file");
    h.method = verb::delete_;
    EXPECT_EQ(route(vhosts_, "/health", h, sites).status, 404u);
    EXPECT_EQ(route(vhosts_, "/health", get("/api/x"), sites).kind, route_kind::proxy);
    EXPECT_EQ(route(vhosts_, "/health", get("/health"), sites).kind, route_kind::health);
    EXPECT_EQ(route(vhosts_, "/health", get("/stats"), sites).kind, route_kind::metrics);
}

} // namespace
