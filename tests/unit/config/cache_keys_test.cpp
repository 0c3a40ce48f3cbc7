// Unit tests for the [sites.cache] keys and [[sites.cache.rules]]: defaults, every key read,
// Cache-Control syntax, match patterns, and every error at its FILE:LINE:COL.
#include "config/cache_keys.hpp"
#include "config/load.hpp"

#include "../config_test_util.hpp"

#include <gtest/gtest.h>

namespace bws::config {
namespace {

using std::chrono::seconds;
using test::all;

load_result load(const std::string& text) {
    load_options options;
    options.check_filesystem = false;
    return load_string(text, "/srv/conf/bws.toml", options);
}

// Lines 1-5: site "a"; the caller's text starts on line 6.
std::string site_a(const std::string& rest) {
    return "[[sites]]\nname = \"a\"\nhostname = \"a.test\"\nport = 8080\nstatic_dir = "
           "\"/srv/a\"\n" +
           rest;
}

diagnostic only_error(const load_result& r) {
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.errors.size(), 1u) << all(r.errors);
    return r.errors.empty() ? diagnostic{} : r.errors.front();
}

void expect_at(const diagnostic& d, int line, int column, std::string_view text) {
    EXPECT_EQ(d.pos.file, "/srv/conf/bws.toml");
    EXPECT_EQ(d.pos.line, line) << d.to_string();
    EXPECT_EQ(d.pos.column, column) << d.to_string();
    EXPECT_NE(d.message.find(text), std::string::npos) << d.to_string();
}

TEST(ConfigCache, OffWithoutTheTableOnWithIt) {
    auto r = load(site_a(""));
    ASSERT_TRUE(r.ok()) << all(r.errors);
    EXPECT_FALSE(r.config->sites[0].cache.enabled);
    EXPECT_TRUE(r.config->sites[0].cache.etag);
    EXPECT_TRUE(r.config->sites[0].cache.last_modified);

    r = load(site_a("[sites.cache]\n"));
    ASSERT_TRUE(r.ok()) << all(r.errors);
    const auto& c = r.config->sites[0].cache;
    // The original BWS's defaults, not its serde zeros for a table without the keys.
    EXPECT_TRUE(c.enabled);
    EXPECT_TRUE(c.etag);
    EXPECT_TRUE(c.last_modified);
    EXPECT_FALSE(c.expires);
    EXPECT_EQ(c.max_age_static, seconds(3600));
    EXPECT_EQ(c.max_age_dynamic, seconds(300));
    EXPECT_FALSE(c.cache_control);
    EXPECT_TRUE(c.rules.empty());

    r = load(site_a("[sites.cache]\nenabled = false\n"));
    ASSERT_TRUE(r.ok()) << all(r.errors);
    EXPECT_FALSE(r.config->sites[0].cache.enabled);
}

TEST(ConfigCache, EveryKeyIsRead) {
    auto r = load(site_a(R"([sites.cache]
enabled = true
etag_enabled = false
last_modified_enabled = false
expires = true
max_age_static = "2h"
max_age_dynamic = 60
[[sites.cache.rules]]
match = "*.CSS"
cache_control = "public, max-age=31536000, immutable"
[[sites.cache.rules]]
match = ["/assets/", "/img/*.png", "/"]
max_age = "7d"
[[sites.cache.rules]]
match = "/fonts/*"
cache_control = "no-cache"
)"));
    ASSERT_TRUE(r.ok()) << all(r.errors);
    EXPECT_TRUE(r.warnings.empty()) << all(r.warnings);
    const auto& c = r.config->sites[0].cache;
    EXPECT_FALSE(c.etag);
    EXPECT_FALSE(c.last_modified);
    EXPECT_TRUE(c.expires);
    EXPECT_EQ(c.max_age_static, seconds(7200));
    EXPECT_EQ(c.max_age_dynamic, seconds(60));
    ASSERT_EQ(c.rules.size(), 3u);
    ASSERT_EQ(c.rules[0].patterns.size(), 1u);
    EXPECT_EQ(c.rules[0].patterns[0].prefix, "");
    EXPECT_EQ(c.rules[0].patterns[0].suffix, ".css");
    EXPECT_EQ(c.rules[0].header.value, "public, max-age=31536000, immutable");
    EXPECT_EQ(c.rules[0].header.max_age, seconds(31536000));
    EXPECT_EQ(c.rules[0].pos.line, 13);
    ASSERT_EQ(c.rules[1].patterns.size(), 3u);
    EXPECT_EQ(c.rules[1].patterns[0].prefix, "/assets");
    EXPECT_EQ(c.rules[1].patterns[0].suffix, "");
    EXPECT_EQ(c.rules[1].patterns[1].prefix, "/img");
    EXPECT_EQ(c.rules[1].patterns[1].suffix, ".png");
    EXPECT_EQ(c.rules[1].patterns[2].prefix, ""); // "/": every file
    EXPECT_EQ(c.rules[1].header.value, "public, max-age=604800");
    EXPECT_EQ(c.rules[1].header.max_age, seconds(604800));
    EXPECT_EQ(c.rules[2].patterns[0].prefix, "/fonts");
    EXPECT_EQ(c.rules[2].header.value, "no-cache");
    EXPECT_FALSE(c.rules[2].header.max_age);
}

TEST(ConfigCache, TheSiteKeyIsAShorthand) {
    auto r = load(site_a("cache_control = \" private, max-age=60 \"\n"));
    ASSERT_TRUE(r.ok()) << all(r.errors);
    const auto& c = r.config->sites[0].cache;
    EXPECT_TRUE(c.enabled);
    ASSERT_TRUE(c.cache_control);
    EXPECT_EQ(c.cache_control->value, "private, max-age=60");
    EXPECT_EQ(c.cache_control->max_age, seconds(60));

    r = load(site_a("[sites.cache]\ncache_control = \"no-store\"\n"));
    ASSERT_TRUE(r.ok()) << all(r.errors);
    EXPECT_EQ(r.config->sites[0].cache.cache_control->value, "no-store");

    // Both: which one wins would be a guess.
    expect_at(only_error(load(site_a("cache_control = \"no-cache\"\n[sites.cache]\n"))), 6, 17,
              "cache_control and [sites.cache] are both given");
}

TEST(ConfigCache, LongAgesWarnAsTheOriginalDid) {
    auto r = load(site_a("[sites.cache]\nmax_age_static = \"366d\"\nmax_age_dynamic = \"25h\"\n"
                         "[[sites.cache.rules]]\nmatch = \"*.js\"\nmax_age = \"400d\"\n"));
    ASSERT_TRUE(r.ok()) << all(r.errors);
    ASSERT_EQ(r.warnings.size(), 3u) << all(r.warnings);
    expect_at(r.warnings[0], 7, 18, "more than a year");
    expect_at(r.warnings[1], 8, 19, "more than a day");
    expect_at(r.warnings[2], 11, 11, "more than a year");
    // A year exactly (the usual "immutable" age) and a day exactly are fine.
    r = load(site_a("[sites.cache]\nmax_age_static = \"365d\"\nmax_age_dynamic = \"1d\"\n"));
    ASSERT_TRUE(r.ok()) << all(r.errors);
    EXPECT_TRUE(r.warnings.empty()) << all(r.warnings);
}

TEST(ConfigCache, ErrorsAreAtTheValue) {
    const auto table = [](const std::string& keys) { return site_a("[sites.cache]\n" + keys); };
    expect_at(only_error(load(table("max_age_static = -1\n"))), 7, 18, "negative");
    expect_at(only_error(load(table("max_age_static = \"1y\"\n"))), 7, 18, "unknown unit 'y'");
    expect_at(only_error(load(table("max_age_dynamic = \"1500ms\"\n"))), 7, 19,
              "whole number of seconds");
    expect_at(only_error(load(table("expires = \"yes\"\n"))), 7, 11, "expires");
    expect_at(only_error(load(table("cache_control = \"max-age=1h\"\n"))), 7, 17,
              "max-age takes a number of seconds");
    expect_at(only_error(load(table("cache_control = \"public\\r\\nX: y\"\n"))), 7, 17,
              "control character");
    expect_at(only_error(load(table("cache_control = \"\"\n"))), 7, 17, "must not be empty");
    expect_at(only_error(load(table("colour = 1\n"))), 7, 1, "unknown key 'colour'");
    // cache_control replaces the max_age_* defaults: both would leave a key unused.
    expect_at(only_error(load(table("cache_control = \"no-cache\"\nmax_age_static = 60\n"))), 8, 18,
              "max_age_static would never be used");
    expect_at(only_error(load(site_a("cache = 1\n"))), 6, 9, "[sites.cache]");
}

TEST(ConfigCache, RuleErrorsAreAtTheValue) {
    const auto rule = [](const std::string& keys) {
        return site_a("[sites.cache]\n[[sites.cache.rules]]\n" + keys);
    };
    expect_at(only_error(load(rule("match = \"*.css\"\n"))), 7, 1,
              "needs cache_control or max_age");
    expect_at(only_error(load(rule("cache_control = \"no-cache\"\n"))), 7, 1,
              "missing the required key 'match'");
    expect_at(
        only_error(load(rule("match = \"*.css\"\ncache_control = \"no-cache\"\nmax_age = 1\n"))),
        10, 11, "cache_control or max_age, not both");
    expect_at(only_error(load(rule("match = []\nmax_age = 1\n"))), 8, 9, "non-empty array");
    expect_at(only_error(load(rule("match = [\"*.css\", 5]\nmax_age = 1\n"))), 8, 19, "match");
    expect_at(only_error(load(rule("match = \"*.css\"\nmax_age = -5\n"))), 9, 11, "negative");
    expect_at(only_error(load(rule("match = \"*.css\"\nmax_age = 1\nwhen = 2\n"))), 10, 1,
              "unknown key 'when' in [[sites.cache.rules]]");
    for (const char* bad : {"css", "*", "*.", "**.css", "*.c*s", "*.a/b", "/a*", "/a/*x",
                            "/a/*.c?s", "/a/../b", "//a", "/a%20b", "/a b", "/[ab]/", ""}) {
        SCOPED_TRACE(bad);
        expect_at(only_error(load(rule("match = \"" + std::string(bad) + "\"\nmax_age = 1\n"))), 8,
                  9, "cache.rules.match");
    }
    expect_at(only_error(load(site_a("[sites.cache]\nrules = 3\n"))), 7, 9, "array of tables");
}

TEST(ConfigCache, CacheControlSyntax) {
    std::string why;
    auto h = detail::parse_cache_control("public, max-age=60, s-maxage=\"x\"", why);
    EXPECT_FALSE(h) << "quoted s-maxage";
    EXPECT_NE(why.find("s-maxage takes a number of seconds"), std::string::npos) << why;
    h = detail::parse_cache_control("no-cache=\"Set-Cookie, X-A\", Max-Age=10,immutable", why);
    ASSERT_TRUE(h) << why;
    EXPECT_EQ(h->max_age, seconds(10)); // directive names are case-insensitive
    h = detail::parse_cache_control("max-age=99999999999999999999", why);
    ASSERT_TRUE(h) << why;
    EXPECT_EQ(h->max_age, seconds(2147483648)); // RFC 9111 §1.2.2
    h = detail::parse_cache_control("s-maxage=60", why);
    ASSERT_TRUE(h) << why;
    EXPECT_FALSE(h->max_age); // a shared cache's age says nothing to a browser: no Expires
    for (const char* bad : {"public,,max-age=1", "public max-age=1", "max-age",
                            "max-age=", "max-age=1, max-age=2", "no-cache=\"x", "=1", "public;"}) {
        EXPECT_FALSE(detail::parse_cache_control(bad, why)) << bad;
    }
}

} // namespace
} // namespace bws::config
