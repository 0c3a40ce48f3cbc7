// CORS decisions: origin matching (exact, "*", wildcard subdomains), preflights allowed and
// refused, credentials, Vary, and expose/max-age headers.
#include "http/cors.hpp"

#include <gtest/gtest.h>

#include <optional>

using namespace bws;
using http::cors_request;

namespace {

config::cors_policy policy() {
    config::cors_policy p;
    p.origins = {"https://app.example.com", "http://localhost:3000"};
    p.origin_suffixes = {{"https", ".example.org"}};
    p.allow_methods = {"GET", "POST", "PUT"};
    p.allow_headers = {"Content-Type", "Authorization"};
    p.expose_headers = {"X-Request-Id"};
    p.max_age = std::chrono::seconds(600);
    return p;
}

std::optional<std::string> header(const http::cors_answer& a, std::string_view name) {
    for (const auto& [k, v] : a.headers)
        if (k == name)
            return v;
    return std::nullopt;
}

cors_request simple(std::string_view origin) {
    cors_request r;
    r.origin = origin;
    return r;
}

cors_request preflight(std::string_view origin, std::string_view method,
                       std::string_view headers = {}) {
    cors_request r;
    r.origin = origin;
    r.options = true;
    r.request_method = method;
    r.request_headers = headers;
    return r;
}

} // namespace

TEST(Cors, OriginMatching) {
    const auto p = policy();
    EXPECT_TRUE(http::cors_origin_allowed(p, "https://app.example.com"));
    EXPECT_TRUE(http::cors_origin_allowed(p, "HTTPS://App.Example.com"));
    EXPECT_TRUE(http::cors_origin_allowed(p, "http://localhost:3000"));
    EXPECT_FALSE(http::cors_origin_allowed(p, "http://localhost:3001"));
    EXPECT_FALSE(http::cors_origin_allowed(p, "http://app.example.com")); // scheme differs
    EXPECT_FALSE(http::cors_origin_allowed(p, "https://app.example.com.evil.test"));
    EXPECT_TRUE(http::cors_origin_allowed(p, "https://a.example.org"));
    EXPECT_TRUE(http::cors_origin_allowed(p, "https://a.b.example.org"));
    EXPECT_FALSE(http::cors_origin_allowed(p, "https://example.org")); // needs a label
    EXPECT_FALSE(http::cors_origin_allowed(p, "https://evilexample.org"));
    EXPECT_FALSE(http::cors_origin_allowed(p, "http://a.example.org"));
    EXPECT_FALSE(http::cors_origin_allowed(p, "https://a.example.org:8443"));
    EXPECT_FALSE(http::cors_origin_allowed(p, "null"));
    EXPECT_FALSE(http::cors_origin_allowed(p, ""));
    config::cors_policy any;
    any.any_origin = true;
    EXPECT_TRUE(http::cors_origin_allowed(any, "https://anything.test"));
    EXPECT_FALSE(http::cors_origin_allowed(any, "null"));
}

TEST(Cors, ActualRequestEchoesAnAllowedOrigin) {
    const auto a =
        http::evaluate_cors(http::make_cors_plan(policy()), simple("https://app.example.com"));
    EXPECT_FALSE(a.preflight);
    EXPECT_EQ(header(a, "Access-Control-Allow-Origin"), "https://app.example.com");
    EXPECT_EQ(header(a, "Vary"), "Origin");
    EXPECT_EQ(header(a, "Access-Control-Expose-Headers"), "X-Request-Id");
    EXPECT_FALSE(header(a, "Access-Control-Allow-Methods"));
    EXPECT_FALSE(header(a, "Access-Control-Allow-Credentials"));
}

TEST(Cors, DisallowedOriginGetsOnlyVary) {
    const auto a = http::evaluate_cors(http::make_cors_plan(policy()), simple("https://evil.test"));
    ASSERT_EQ(a.headers.size(), 1u);
    EXPECT_EQ(header(a, "Vary"), "Origin");
    const auto none = http::evaluate_cors(http::make_cors_plan(policy()), simple(""));
    EXPECT_FALSE(header(none, "Access-Control-Allow-Origin"));
}

TEST(Cors, Preflight) {
    auto a = http::evaluate_cors(
        http::make_cors_plan(policy()),
        preflight("https://app.example.com", "PUT", "content-type, authorization"));
    EXPECT_TRUE(a.preflight);
    EXPECT_EQ(header(a, "Access-Control-Allow-Origin"), "https://app.example.com");
    EXPECT_EQ(header(a, "Access-Control-Allow-Methods"), "GET, POST, PUT");
    EXPECT_EQ(header(a, "Access-Control-Allow-Headers"), "Content-Type, Authorization");
    EXPECT_EQ(header(a, "Access-Control-Max-Age"), "600");
    EXPECT_EQ(header(a, "Vary"),
              "Origin, Access-Control-Request-Method, Access-Control-Request-Headers");
    EXPECT_FALSE(header(a, "Access-Control-Expose-Headers"));

    a = http::evaluate_cors(http::make_cors_plan(policy()),
                            preflight("https://app.example.com", "DELETE"));
    EXPECT_TRUE(a.preflight);
    EXPECT_FALSE(header(a, "Access-Control-Allow-Origin"));
    a = http::evaluate_cors(http::make_cors_plan(policy()),
                            preflight("https://app.example.com", "put"));
    EXPECT_FALSE(header(a, "Access-Control-Allow-Origin")); // methods are case-sensitive
    a = http::evaluate_cors(http::make_cors_plan(policy()),
                            preflight("https://app.example.com", "POST", "X-Other"));
    EXPECT_FALSE(header(a, "Access-Control-Allow-Origin"));
    a = http::evaluate_cors(http::make_cors_plan(policy()), preflight("https://evil.test", "GET"));
    EXPECT_FALSE(header(a, "Access-Control-Allow-Origin"));

    // OPTIONS without Access-Control-Request-Method is an ordinary request.
    cors_request plain_options = simple("https://app.example.com");
    plain_options.options = true;
    EXPECT_FALSE(http::evaluate_cors(http::make_cors_plan(policy()), plain_options).preflight);
}

TEST(Cors, StarHeadersEchoWhatThePreflightAsks) {
    auto p = policy();
    p.allow_headers = {"*"};
    const auto a = http::evaluate_cors(
        http::make_cors_plan(p), preflight("https://app.example.com", "POST", "X-Anything, X-B"));
    EXPECT_EQ(header(a, "Access-Control-Allow-Headers"), "X-Anything, X-B");
}

TEST(Cors, AnyOriginIsALiteralStarWithoutVary) {
    config::cors_policy p;
    p.any_origin = true;
    const auto a = http::evaluate_cors(http::make_cors_plan(p), simple("https://x.test"));
    EXPECT_EQ(header(a, "Access-Control-Allow-Origin"), "*");
    EXPECT_FALSE(header(a, "Vary"));
}

TEST(Cors, CredentialsEchoTheOrigin) {
    auto p = policy();
    p.allow_credentials = true;
    const auto a = http::evaluate_cors(http::make_cors_plan(p), simple("http://localhost:3000"));
    EXPECT_EQ(header(a, "Access-Control-Allow-Origin"), "http://localhost:3000");
    EXPECT_EQ(header(a, "Access-Control-Allow-Credentials"), "true");
}
