// http::https_redirect: which requests of a redirect_to_https site are redirected, and where.
#include "http/https_redirect.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

using bws::http::https_redirect;
using bws::http::route_decision;
using bws::http::route_kind;
using verb = boost::beast::http::verb;

// The Location header of `r` ("" when there is none).
std::string location(const bws::http::response& r) {
    for (const auto& [name, value] : r.headers)
        if (name == "Location")
            return value;
    return {};
}

route_decision decision(route_kind kind, std::string_view path, std::string_view query = {},
                        bool has_query = false) {
    route_decision d;
    d.kind = kind;
    d.host = "www.example.com";
    d.path = path;
    d.query = query;
    d.has_query = has_query;
    return d;
}

TEST(HttpsRedirect, GetAndHeadGet301OthersGet308WithPathQueryAndPort) {
    auto r =
        https_redirect(decision(route_kind::static_files, "/a/b", "x=1", true), verb::get, 8443);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 301u);
    EXPECT_EQ(location(*r), "https://www.example.com:8443/a/b?x=1");
    EXPECT_EQ(https_redirect(decision(route_kind::static_files, "/"), verb::head, 443)->status,
              301u);
    // A POST is routed to a 405 on a static site; the redirect keeps its method instead.
    auto post = https_redirect(decision(route_kind::error, "/form", "", true), verb::post, 443);
    ASSERT_TRUE(post);
    EXPECT_EQ(post->status, 308u);
    EXPECT_EQ(location(*post), "https://www.example.com/form?"); // 443 is implied
}

TEST(HttpsRedirect, HealthAcmeChallengesAndHostsWithoutAnHttpsSiteAreAnsweredHere) {
    EXPECT_FALSE(https_redirect(decision(route_kind::health, "/health"), verb::get, 443));
    EXPECT_FALSE(
        https_redirect(decision(route_kind::health_detailed, "/health/detailed"), verb::get, 443));
    EXPECT_FALSE(https_redirect(
        decision(route_kind::static_files, "/.well-known/acme-challenge/token"), verb::get, 443));
    EXPECT_FALSE(https_redirect(decision(route_kind::static_files, "/x"), verb::get, std::nullopt));
    // Only the challenge folder is exempt, not everything under /.well-known/.
    EXPECT_TRUE(https_redirect(decision(route_kind::static_files, "/.well-known/security.txt"),
                               verb::get, 443));
}

} // namespace
