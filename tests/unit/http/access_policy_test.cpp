// [sites.access] decisions: allow/deny, auth paths, basic credentials, password checks.
#include "http/access_policy.hpp"

#include <crypt.h>

#include <gtest/gtest.h>

namespace bws::http {
namespace {

net::address_set set_of(std::initializer_list<const char*> texts) {
    std::vector<net::address_block> blocks;
    for (const char* t : texts)
        blocks.push_back(net::address_block::parse(t).value());
    return net::address_set(blocks);
}

bool allowed(const config::site_access& a, const char* ip) {
    return address_allowed(a, net::ip_address::parse(ip).value());
}

// A crypt(3) hash of `password` with a fresh salt of `prefix` ("$2b$", "$y$", "$6$").
std::string hash_of(const char* prefix, unsigned long cost, const std::string& password) {
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    if (crypt_gensalt_rn(prefix, cost, nullptr, 0, setting, sizeof setting) == nullptr)
        return {};
    crypt_data data{};
    const char* out = crypt_rn(password.c_str(), setting, &data, sizeof data);
    return out == nullptr ? std::string() : std::string(out);
}

TEST(AccessPolicy, DenyWinsAndAllowListIsExclusive) {
    config::site_access a;
    EXPECT_TRUE(allowed(a, "192.0.2.1"));
    a.deny = set_of({"192.0.2.0/24"});
    EXPECT_FALSE(allowed(a, "192.0.2.1"));
    EXPECT_TRUE(allowed(a, "198.51.100.1"));
    a.allow = set_of({"192.0.2.0/24", "::1"});
    EXPECT_FALSE(allowed(a, "192.0.2.1"));    // denied, though allowed
    EXPECT_FALSE(allowed(a, "198.51.100.1")); // not in the allow list
    EXPECT_TRUE(allowed(a, "::1"));
    EXPECT_FALSE(allowed(a, "::2"));
}

TEST(AccessPolicy, AuthPathsAreSegmentPrefixesOfTheNormalisedPath) {
    config::site_access a;
    EXPECT_FALSE(auth_required(a, "/"));
    a.require_auth = true;
    EXPECT_TRUE(auth_required(a, "/anything"));
    a.auth_paths = {"admin"};
    EXPECT_TRUE(auth_required(a, "/admin"));
    EXPECT_TRUE(auth_required(a, "/admin/"));
    EXPECT_TRUE(auth_required(a, "/admin/x/y"));
    EXPECT_FALSE(auth_required(a, "/administrator"));
    EXPECT_FALSE(auth_required(a, "/"));
    EXPECT_FALSE(auth_required(a, "/public/admin"));
    // Encodings and dot segments do not get past it.
    EXPECT_TRUE(auth_required(a, "/%61dmin/x"));
    EXPECT_TRUE(auth_required(a, "//admin"));
    EXPECT_TRUE(auth_required(a, "/public/../admin"));
    EXPECT_TRUE(auth_required(a, "/./admin/"));
    a.auth_paths = {""}; // "/": everything
    EXPECT_TRUE(auth_required(a, "/x"));
}

TEST(AccessPolicy, ParsesBasicCredentials) {
    auto c = parse_basic_credentials("Basic YWxpY2U6b3Blbjpz ZXNhbWU=");
    EXPECT_FALSE(c);                                               // a space inside the token
    c = parse_basic_credentials("Basic YWxpY2U6b3BlbjpzZXNhbWU="); // alice:open:sesame
    ASSERT_TRUE(c);
    EXPECT_EQ(c->user, "alice");
    EXPECT_EQ(c->password, "open:sesame");
    c = parse_basic_credentials("bAsIc   Ym9iOg=="); // bob: (empty password)
    ASSERT_TRUE(c);
    EXPECT_EQ(c->user, "bob");
    EXPECT_EQ(c->password, "");
    EXPECT_FALSE(parse_basic_credentials(""));
    EXPECT_FALSE(parse_basic_credentials("Basic"));
    EXPECT_FALSE(parse_basic_credentials("Basic "));
    EXPECT_FALSE(parse_basic_credentials("Bearer YWxpY2U6eA=="));
    EXPECT_FALSE(parse_basic_credentials("Basic YWxpY2U="));     // "alice": no colon
    EXPECT_FALSE(parse_basic_credentials("Basic YWxpY2U6eA="));  // bad length
    EXPECT_FALSE(parse_basic_credentials("Basic YWxp*2U6eA==")); // not base64
    EXPECT_FALSE(parse_basic_credentials("Basic =WxpY2U6eA==")); // padding inside
    EXPECT_FALSE(parse_basic_credentials("Basic YWxpY2U6eA==, Basic Ym9iOg==")); // two fields
}

TEST(AccessPolicy, VerifiesBcryptYescryptAndSha512Users) {
    std::vector<config::htpasswd_user> users{
        {"alice", hash_of("$2b$", 4, "wonderland")},
        {"bob", hash_of("$y$", 0, "builder")},
        {"carol", hash_of("$6$", 0, "secret")},
    };
    for (const auto& u : users)
        ASSERT_FALSE(u.hash.empty()) << u.name;
    EXPECT_TRUE(verify_user(users, "alice", "wonderland"));
    EXPECT_FALSE(verify_user(users, "alice", "wonderlan"));
    EXPECT_FALSE(verify_user(users, "alice", "builder"));
    EXPECT_TRUE(verify_user(users, "bob", "builder"));
    EXPECT_TRUE(verify_user(users, "carol", "secret"));
    EXPECT_FALSE(verify_user(users, "carol", "Secret"));
    // An unknown user with the first user's password is still refused.
    EXPECT_FALSE(verify_user(users, "mallory", "wonderland"));
    EXPECT_FALSE(verify_user(users, "", ""));
    EXPECT_FALSE(verify_user({}, "alice", "wonderland"));
    // A NUL byte must not cut the password short.
    EXPECT_FALSE(verify_user(users, "alice", std::string("wonderland\0x", 12)));
}

TEST(AccessPolicy, ChallengeNamesRealmAndCharset) {
    EXPECT_EQ(basic_challenge("Staff only"), "Basic realm=\"Staff only\", charset=\"UTF-8\"");
}

} // namespace
} // namespace bws::http
