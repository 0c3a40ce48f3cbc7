// Basic auth through the per-thread cache: hits, expiry, reloads, failures never cached.
#include "http/auth_cache.hpp"

#include <crypt.h>

#include <gtest/gtest.h>

namespace bws::http {
namespace {

std::string bcrypt(const std::string& password) {
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    crypt_data data{};
    if (crypt_gensalt_rn("$2b$", 4, nullptr, 0, setting, sizeof setting) == nullptr)
        return {};
    const char* out = crypt_rn(password.c_str(), setting, &data, sizeof data);
    return out == nullptr ? std::string() : out;
}

config::site_access site_with(const std::string& password) {
    config::site_access a;
    a.require_auth = true;
    a.users = std::make_shared<const std::vector<config::htpasswd_user>>(
        std::vector<config::htpasswd_user>{{"alice", bcrypt(password)}});
    return a;
}

const std::string alice_pw = "Basic YWxpY2U6cHc="; // alice:pw

TEST(AuthCache, RemembersSuccessUntilExpiry) {
    const auto a = site_with("pw");
    const auto t0 = std::chrono::steady_clock::now();
    std::string user;
    ASSERT_TRUE(check_basic_auth(a, alice_pw, user, t0));
    EXPECT_EQ(user, "alice");
    // Same users, within the TTL: the cached success (same answer, no hash needed).
    user.clear();
    EXPECT_TRUE(check_basic_auth(a, alice_pw, user, t0 + std::chrono::seconds(1)));
    EXPECT_EQ(user, "alice");
    // After the TTL it is checked again, and still right.
    EXPECT_TRUE(check_basic_auth(a, alice_pw, user, t0 + auth_cache_ttl + std::chrono::seconds(1)));
    EXPECT_FALSE(check_basic_auth(a, "Basic YWxpY2U6cHg=", user, t0)); // alice:px
    EXPECT_FALSE(check_basic_auth(a, "", user, t0));
    EXPECT_FALSE(check_basic_auth(config::site_access{}, alice_pw, user, t0));
}

TEST(AuthCache, NewUsersAfterAReloadMiss) {
    const auto before = site_with("pw");
    const auto t0 = std::chrono::steady_clock::now();
    std::string user;
    ASSERT_TRUE(check_basic_auth(before, alice_pw, user, t0));
    // The reload changed alice's password: the cached success must not carry over.
    const auto after = site_with("new");
    EXPECT_FALSE(check_basic_auth(after, alice_pw, user, t0 + std::chrono::seconds(1)));
    EXPECT_TRUE(check_basic_auth(after, "Basic YWxpY2U6bmV3", user, t0)); // alice:new
}

} // namespace
} // namespace bws::http
