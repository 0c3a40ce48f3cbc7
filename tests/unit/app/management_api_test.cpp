// The management API's routing, API key check and error bodies.
#include "app/management_api.hpp"

#include <gtest/gtest.h>

namespace bws::app {
namespace {

TEST(ManagementApi, RoutesEndpointsAndMethods) {
    std::string allow;
    EXPECT_EQ(route_management("GET", "/metrics", allow), management_endpoint::metrics);
    EXPECT_EQ(route_management("HEAD", "/metrics", allow), management_endpoint::metrics);
    EXPECT_EQ(route_management("GET", "/metrics?x=1", allow), management_endpoint::metrics);
    EXPECT_EQ(route_management("GET", "/api/status", allow), management_endpoint::status);
    EXPECT_EQ(route_management("POST", "/api/config/reload", allow), management_endpoint::reload);
    EXPECT_EQ(route_management("GET", "/api/config/check", allow), management_endpoint::check);
    EXPECT_EQ(route_management("GET", "/", allow), management_endpoint::not_found);
    EXPECT_EQ(route_management("GET", "/metrics/", allow), management_endpoint::not_found);
    EXPECT_EQ(route_management("GET", "/index.html", allow), management_endpoint::not_found);
    EXPECT_EQ(route_management("GET", "/api/config/reload", allow),
              management_endpoint::wrong_method);
    EXPECT_EQ(allow, "POST");
    EXPECT_EQ(route_management("POST", "/metrics", allow), management_endpoint::wrong_method);
    EXPECT_EQ(allow, "GET, HEAD");
}

TEST(ManagementApi, NoKeyConfiguredAdmitsEveryone) {
    EXPECT_TRUE(authorized({}, ""));
}

TEST(ManagementApi, KeyFromBearerOrXApiKey) {
    management_request r;
    EXPECT_FALSE(authorized(r, "k3y"));
    r.authorization = "Bearer k3y";
    EXPECT_TRUE(authorized(r, "k3y"));
    r.authorization = "bearer  k3y ";
    EXPECT_TRUE(authorized(r, "k3y"));
    r.authorization = "Bearer k3y2";
    EXPECT_FALSE(authorized(r, "k3y"));
    r.authorization = "Basic k3y";
    EXPECT_FALSE(authorized(r, "k3y"));
    r.authorization = "k3y";
    EXPECT_FALSE(authorized(r, "k3y"));
    r.authorization.clear();
    r.api_key = "k3y";
    EXPECT_TRUE(authorized(r, "k3y"));
    r.api_key = "k3";
    EXPECT_FALSE(authorized(r, "k3y"));
    r.authorization = "Bearer k3y"; // either header is enough
    EXPECT_TRUE(authorized(r, "k3y"));
}

TEST(ManagementApi, JsonErrors) {
    auto e = json_error(404, "no \"such\" endpoint");
    EXPECT_EQ(e.status, 404u);
    EXPECT_EQ(e.content_type, "application/json");
    EXPECT_EQ(e.body, "{\"error\":\"no \\\"such\\\" endpoint\",\"status\":404}\n");
}

} // namespace
} // namespace bws::app
