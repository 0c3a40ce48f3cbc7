// [security.rate_limiting] and [sites.rate_limit]: the keys, required keys, bounds, the
// whitelist, enabled = false, and the bucket a site's own limit counts in.
#include "config/load.hpp"
#include "net/rate_limit.hpp"

#include "../config_test_util.hpp"

#include <gtest/gtest.h>

namespace bws::config {
namespace {

using test::all;
using test::find_one;

load_result load(const std::string& security, const std::string& site_extra = "") {
    load_options options;
    options.check_filesystem = false;
    return load_string(security + R"(

[[sites]]
name = "a"
hostname = "a.test"
port = 8080
static_dir = "/srv/a"
)" + site_extra,
                       "/srv/conf/bws.toml", options);
}

void expect_at(const diagnostic& d, int line, int column) {
    EXPECT_EQ(d.pos.file, "/srv/conf/bws.toml");
    EXPECT_EQ(d.pos.line, line) << d.to_string();
    EXPECT_EQ(d.pos.column, column) << d.to_string();
}

TEST(RateLimitKeys, AbsentMeansNoLimit) {
    auto r = load("");
    ASSERT_TRUE(r.ok()) << all(r.errors);
    EXPECT_FALSE(r.config->security.rate_limiting);
    EXPECT_FALSE(r.config->sites[0].rate_limit);
}

TEST(RateLimitKeys, ReadsTheServerWideLimit) {
    auto r = load(R"([security.rate_limiting]
requests_per_minute = 120
burst_size = 10
whitelist = ["10.0.0.0/8", "2001:db8::/32", "192.0.2.7"])");
    ASSERT_TRUE(r.ok()) << all(r.errors);
    const auto& limit = r.config->security.rate_limiting;
    ASSERT_TRUE(limit);
    EXPECT_TRUE(limit->enabled);
    EXPECT_EQ(limit->requests_per_minute, 120U);
    EXPECT_EQ(limit->burst_size, 10U);
    EXPECT_TRUE(limit->whitelist_given);
    ASSERT_EQ(limit->whitelist.blocks().size(), 3U);
    EXPECT_EQ(limit->whitelist.blocks()[1].prefix, 32U);
    EXPECT_TRUE(limit->whitelist.blocks()[2].contains(*net::ip_address::parse("192.0.2.7")));
    EXPECT_EQ(limit->bucket, net::server_rate_bucket);
}

TEST(RateLimitKeys, BothRatesAreRequired) {
    auto r = load("[security.rate_limiting]\nrequests_per_minute = 60\n");
    ASSERT_FALSE(r.ok());
    ASSERT_EQ(r.errors.size(), 1U) << all(r.errors);
    expect_at(
        find_one(r.errors, "[security.rate_limiting] is missing the required key 'burst_size'"), 1,
        1);
    r = load("", "[sites.rate_limit]\nburst_size = 3\n");
    ASSERT_FALSE(r.ok());
    ASSERT_EQ(r.errors.size(), 1U) << all(r.errors);
    expect_at(
        find_one(r.errors, "[sites.rate_limit] is missing the required key 'requests_per_minute'"),
        8, 1);
}

TEST(RateLimitKeys, ValuesAreChecked) {
    auto r = load(R"([security.rate_limiting]
requests_per_minute = 0
burst_size = -1
whitelist = ["10.0.0.0/33", "example.com", 5]
colour = "red")");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.errors.size(), 6U) << all(r.errors);
    expect_at(find_one(r.errors, "requests_per_minute"), 2, 23);
    expect_at(find_one(r.errors, "burst_size"), 3, 14);
    expect_at(find_one(r.errors, "'10.0.0.0/33' is not an IP address or a CIDR block"), 4, 14);
    expect_at(find_one(r.errors, "'example.com' is not an IP address or a CIDR block"), 4, 29);
    expect_at(find_one(r.errors, "unknown key 'colour' in [security.rate_limiting]"), 5, 1);
    r = load("[security.rate_limiting]\nrequests_per_minute = 1000001\nburst_size = 1\n");
    ASSERT_FALSE(r.ok());
    expect_at(find_one(r.errors, "requests_per_minute"), 2, 23);
    r = load("[security]\nrate_limiting = 5\n");
    ASSERT_FALSE(r.ok());
    expect_at(find_one(r.errors, "rate_limiting"), 2, 17);
}

TEST(RateLimitKeys, ASiteHasItsOwnLimitOrNone) {
    auto r = load(R"([security.rate_limiting]
requests_per_minute = 60
burst_size = 5)",
                  R"([sites.rate_limit]
requests_per_minute = 600
burst_size = 50

[[sites]]
name = "b"
hostname = "b.test"
port = 8080
static_dir = "/srv/b"
[sites.rate_limit]
enabled = false
)");
    ASSERT_TRUE(r.ok()) << all(r.errors);
    const auto& a = r.config->sites[0].rate_limit;
    ASSERT_TRUE(a);
    EXPECT_TRUE(a->enabled);
    EXPECT_EQ(a->requests_per_minute, 600U);
    EXPECT_EQ(a->burst_size, 50U);
    EXPECT_FALSE(a->whitelist_given);
    EXPECT_EQ(a->bucket, net::rate_bucket("a"));
    const auto& b = r.config->sites[1].rate_limit;
    ASSERT_TRUE(b);
    EXPECT_FALSE(b->enabled); // nothing else required
    EXPECT_EQ(b->bucket, net::rate_bucket("b"));
}

} // namespace
} // namespace bws::config
