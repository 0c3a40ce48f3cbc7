// Unit tests for the static-content keys of a site: enable_directory_listing, fallback and
// fallback_for_extensions, read into the model and checked at their FILE:LINE:COL.
#include "config/load.hpp"
#include "config/security_keys.hpp"

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

TEST(ContentKeys, AccessControlIsRead) {
    auto r =
        load_site("[sites.access_control]\n"
                  "allow_origins = [\"https://App.example.com\", \"https://*.example.org\"]\n"
                  "allow_methods = [\"GET\", \"PUT\"]\nallow_headers = [\"Content-Type\"]\n"
                  "expose_headers = [\"X-Id\"]\nallow_credentials = true\nmax_age = \"10m\"\n");
    ASSERT_TRUE(r.ok()) << all(r.errors);
    const auto& c = r.config->sites[0].cors;
    ASSERT_TRUE(c);
    EXPECT_FALSE(c->any_origin);
    EXPECT_EQ(c->origins, std::vector<std::string>{"https://app.example.com"});
    ASSERT_EQ(c->origin_suffixes.size(), 1u);
    EXPECT_EQ(c->origin_suffixes[0].scheme, "https");
    EXPECT_EQ(c->origin_suffixes[0].suffix, ".example.org");
    EXPECT_EQ(c->allow_methods, (std::vector<std::string>{"GET", "PUT"}));
    EXPECT_EQ(c->allow_headers, std::vector<std::string>{"Content-Type"});
    EXPECT_EQ(c->expose_headers, std::vector<std::string>{"X-Id"});
    EXPECT_TRUE(c->allow_credentials);
    EXPECT_EQ(c->max_age, std::chrono::seconds(600));
    EXPECT_FALSE(load_site("").config->sites[0].cors);
}

TEST(ContentKeys, AccessControlErrorsWhereWritten) {
    auto r =
        load_site("[sites.access_control]\nallow_origins = [\"*\"]\nallow_credentials = true\n");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(find_one(r.errors, "allow_credentials cannot be combined").pos.line, 8u);
    for (const char* bad : {"https://a.com/", "a.com", "https://a.com/x", "https://*", "null",
                            "https://a.*.com", "https://"}) {
        r = load_site(std::string("[sites.access_control]\nallow_origins = [\"") + bad + "\"]\n");
        ASSERT_FALSE(r.ok()) << bad;
        EXPECT_EQ(r.errors.at(0).pos.line, 7u) << bad;
        EXPECT_EQ(r.errors.at(0).pos.column, 18u) << bad;
    }
    r = load_site("[sites.access_control]\nallow_methods = [\"GET\"]\n");
    ASSERT_FALSE(r.ok());
    find_one(r.errors, "needs allow_origins");
    r = load_site("[sites.access_control]\nallow_origins = [\"*\"]\nenabled = true\n");
    ASSERT_FALSE(r.ok());
    find_one(r.errors, "'enabled' is not used");
    r = load_site("[sites.access_control]\nallow_origins = [\"*\"]\nallow_methods = [\"G T\"]\n");
    ASSERT_FALSE(r.ok());
    find_one(r.errors, "'G T' is not a valid token");
    r = load_site("[sites.access_control]\nallow_origins = [\"*\"]\nallow_methods = [\"*\"]\n");
    ASSERT_FALSE(r.ok());
    find_one(r.errors, "'*' is not allowed here: list the methods");
}

TEST(ContentKeys, SecurityHeaders) {
    load_options options;
    options.check_filesystem = false;
    auto r = load_string("[security]\nhide_server_header = true\nsecurity_headers = true\n"
                         "[[sites]]\nname = \"a\"\nhostname = \"a.test\"\nport = 80\n"
                         "static_dir = \"/srv/a\"\n"
                         "[sites.security_headers]\nX-Frame-Options = \"DENY\"\n"
                         "Permissions-Policy = \"\"\nX-Extra = \"1\"\n"
                         "[[sites]]\nname = \"b\"\nhostname = \"b.test\"\nport = 80\n"
                         "static_dir = \"/srv/b\"\nsecurity_headers = false\n",
                         "/srv/conf/bws.toml", options);
    ASSERT_TRUE(r.ok()) << all(r.errors);
    const auto& c = *r.config;
    EXPECT_TRUE(c.security.hide_server_header);
    EXPECT_EQ(c.security.headers, detail::default_security_headers());
    ASSERT_TRUE(c.sites[0].security_headers);
    const auto& a = *c.sites[0].security_headers;
    ASSERT_EQ(a.size(), 5u); // 5 defaults, one dropped, one added
    EXPECT_EQ(a[1], (std::pair<std::string, std::string>{"X-Frame-Options", "DENY"}));
    EXPECT_EQ(a.back().first, "X-Extra");
    for (const auto& h : a)
        EXPECT_NE(h.first, "Permissions-Policy");
    ASSERT_TRUE(c.sites[1].security_headers);
    EXPECT_TRUE(c.sites[1].security_headers->empty());

    r = load_string("[security]\nsecurity_headers = \"yes\"\nmax_request_size = \"1MB\"\n",
                    "/srv/conf/bws.toml", options);
    ASSERT_FALSE(r.ok());
    find_one(r.errors, "'max_request_size' is not used");
    find_one(r.errors, "security_headers: expected true, false or a table of headers");
}

} // namespace
} // namespace bws::config
