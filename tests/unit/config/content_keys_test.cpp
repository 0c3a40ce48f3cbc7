// Unit tests for the static-content keys of a site: enable_directory_listing, fallback and
// fallback_for_extensions, read into the model and checked at their FILE:LINE:COL.
#include "config/load.hpp"

#include "../config_test_util.hpp"

#include <gtest/gtest.h>

namespace bws::config {
namespace {

using test::all;
using test::find_one;

// Lines 1-5: site "a"; the caller's text starts on line 6.
load_result load_site(const std::string& rest, bool check_filesystem = false,
                      const std::string& dir = "/srv/a") {
    load_options options;
    options.check_filesystem = check_filesystem;
    return load_string("[[sites]]\nname = \"a\"\nhostname = \"a.test\"\nport = 8080\n"
                       "static_dir = \"" +
                           dir + "\"\n" + rest,
                       "/srv/conf/bws.toml", options);
}

TEST(ContentKeys, DefaultsAreOff) {
    auto r = load_site("");
    ASSERT_TRUE(r.ok()) << all(r.errors);
    const site& s = r.config->sites[0];
    EXPECT_FALSE(s.directory_listing);
    EXPECT_FALSE(s.fallback);
    EXPECT_FALSE(s.fallback_for_extensions);
}

TEST(ContentKeys, ReadIntoTheModel) {
    auto r = load_site("enable_directory_listing = true\nfallback = \"/app/./index.html\"\n"
                       "fallback_for_extensions = true\n");
    ASSERT_TRUE(r.ok()) << all(r.errors);
    const site& s = r.config->sites[0];
    EXPECT_TRUE(s.directory_listing);
    EXPECT_EQ(s.fallback, "app/index.html");
    EXPECT_TRUE(s.fallback_for_extensions);
}

TEST(ContentKeys, BadFallbacksAreErrorsWhereWritten) {
    for (const char* bad : {"index.html", "/", "/dir/", "/../x.html", "/%zz"}) {
        auto r = load_site(std::string("fallback = \"") + bad + "\"\n");
        ASSERT_FALSE(r.ok()) << bad;
        const auto& e = find_one(r.errors, "must be the path of a file beneath static_dir");
        EXPECT_EQ(e.pos.line, 6u) << bad;
        EXPECT_EQ(e.pos.column, 12u) << bad;
    }
    auto r = load_site("fallback = \"/.env\"\n");
    ASSERT_FALSE(r.ok());
    find_one(r.errors, "names a hidden file");
    r = load_site("enable_directory_listing = \"yes\"\n");
    ASSERT_FALSE(r.ok());
}

TEST(ContentKeys, MissingFallbackFileIsAWarning) {
    test::temp_dir dir("bws-content-keys");
    dir.write("index.html", "x");
    auto r = load_site("fallback = \"/spa.html\"\n", true, dir.path().string());
    ASSERT_TRUE(r.ok()) << all(r.errors);
    const auto& w = find_one(r.warnings, "fallback '/spa.html' is not a file");
    EXPECT_EQ(w.pos.line, 6u);
    dir.write("spa.html", "x");
    r = load_site("fallback = \"/spa.html\"\n", true, dir.path().string());
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r.warnings.empty()) << all(r.warnings);
}

} // namespace
} // namespace bws::config
