// [sites.cache] in the static handler: rule matching and precedence, the static/dynamic
// defaults, Expires, and the headers of 200, 206, 304, HEAD, precompressed variants, errors
// and listings, with validators turned off.
#include "files/cache_policy.hpp"
#include "files/http_date.hpp"
#include "files/static_handler.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <optional>

namespace fs = std::filesystem;
using namespace bws;
using config::cache_header;
using config::cache_pattern;
using files::cache_policy;
using files::pattern_matches;
using std::chrono::seconds;

namespace {

cache_pattern prefix(std::string p) {
    return {std::move(p), ""};
}
cache_pattern suffix(std::string s) {
    return {"", std::move(s)};
}

config::cache_rule rule(std::vector<cache_pattern> patterns, std::string value,
                        std::optional<seconds> age = std::nullopt) {
    config::cache_rule r;
    r.patterns = std::move(patterns);
    r.header = {std::move(value), age};
    return r;
}

std::optional<std::string> header(const http::response& r, std::string_view name) {
    std::optional<std::string> found;
    for (const auto& [k, v] : r.headers)
        if (k == name) {
            EXPECT_FALSE(found) << name << " twice";
            found = v;
        }
    return found;
}

std::optional<std::string> cache_control_for(const cache_policy& p, std::string_view file) {
    http::response r;
    p.apply(r, p.choose(file), 0);
    return header(r, "Cache-Control");
}

} // namespace

TEST(FilesCachePolicy, PrefixesMatchAtSegmentBoundaries) {
    EXPECT_TRUE(pattern_matches(prefix("/assets"), "assets/app.js"));
    EXPECT_TRUE(pattern_matches(prefix("/assets"), "assets/deep/er/x"));
    EXPECT_TRUE(pattern_matches(prefix("/assets"), "assets"));
    EXPECT_FALSE(pattern_matches(prefix("/assets"), "assets2/app.js"));
    EXPECT_FALSE(pattern_matches(prefix("/assets"), "asset"));
    EXPECT_FALSE(pattern_matches(prefix("/assets"), "x/assets/app.js"));
    EXPECT_FALSE(pattern_matches(prefix("/Assets"), "assets/app.js")); // paths are case-sensitive
    EXPECT_TRUE(pattern_matches(prefix("/a/b"), "a/b/c"));
    EXPECT_FALSE(pattern_matches(prefix("/a/b"), "a/bc"));
    EXPECT_TRUE(pattern_matches(prefix(""), "anything/at/all"));
    EXPECT_TRUE(pattern_matches(prefix(""), "index.html"));
}

TEST(FilesCachePolicy, SuffixesMatchTheLastSegmentCaseInsensitively) {
    EXPECT_TRUE(pattern_matches(suffix(".css"), "style.css"));
    EXPECT_TRUE(pattern_matches(suffix(".css"), "a/b/STYLE.CSS"));
    EXPECT_FALSE(pattern_matches(suffix(".css"), "style.css.map"));
    EXPECT_FALSE(pattern_matches(suffix(".css"), "a.css/file")); // only the last segment
    EXPECT_FALSE(pattern_matches(suffix(".css"), "css"));
    EXPECT_TRUE(pattern_matches(suffix(".min.js"), "app.min.js"));
    EXPECT_FALSE(pattern_matches(suffix(".min.js"), "app.js"));
    EXPECT_TRUE(pattern_matches({"/img", ".png"}, "img/a/logo.png"));
    EXPECT_FALSE(pattern_matches({"/img", ".png"}, "logo.png"));
    EXPECT_FALSE(pattern_matches({"/img", ".png"}, "img/logo.jpg"));
}

TEST(FilesCachePolicy, StaticClassIsTheOriginalsList) {
    for (const char* f :
         {"a.css",  "a.js",    "a.PNG", "d/a.jpg", "a.jpeg", "a.gif", "a.svg", "a.ico",
          "a.woff", "a.woff2", "a.ttf", "a.otf",   "a.eot",  "a.pdf", "a.zip", "a.mp4",
          "a.webm", "a.mp3",   "a.wav", "a.ogg",   "a.webp", "a.avif"})
        EXPECT_TRUE(files::is_static_class(f)) << f;
    for (const char* f : {"a.html", "a.json", "a.txt", "a.wasm", "a.mjs", "noext", "css", "a.css/x",
                          "a.woff22", "a.", "dir.css/index.html"})
        EXPECT_FALSE(files::is_static_class(f)) << f;
}

TEST(FilesCachePolicy, FirstMatchingRuleThenTableThenClass) {
    config::site_cache c;
    c.enabled = true;
    c.max_age_static = seconds(3600);
    c.max_age_dynamic = seconds(300);
    c.rules.push_back(rule({suffix(".html")}, "no-cache"));
    c.rules.push_back(rule({prefix("/assets"), suffix(".woff2")}, "public, immutable"));
    c.rules.push_back(rule({prefix("/assets")}, "never used for html"));
    const cache_policy p(c);
    EXPECT_EQ(cache_control_for(p, "assets/index.html"), "no-cache"); // file order decides
    EXPECT_EQ(cache_control_for(p, "assets/app.js"), "public, immutable");
    EXPECT_EQ(cache_control_for(p, "fonts/a.woff2"), "public, immutable");
    EXPECT_EQ(cache_control_for(p, "style.css"), "public, max-age=3600");
    EXPECT_EQ(cache_control_for(p, "data.json"), "public, max-age=300");

    c.cache_control = cache_header{"private", std::nullopt};
    const cache_policy with_table(c);
    EXPECT_EQ(cache_control_for(with_table, "style.css"), "private");
    EXPECT_EQ(cache_control_for(with_table, "data.json"), "private");
    EXPECT_EQ(cache_control_for(with_table, "x.html"), "no-cache");

    c.enabled = false;
    const cache_policy off(c);
    EXPECT_EQ(off.choose("x.html"), cache_policy::none);
    EXPECT_FALSE(cache_control_for(off, "style.css"));
}

TEST(FilesCachePolicy, ExpiresIsNowPlusMaxAgeWhenAsked) {
    config::site_cache c;
    c.enabled = true;
    c.rules.push_back(rule({suffix(".html")}, "no-cache"));
    const std::int64_t now = 1700000000;
    http::response r;
    cache_policy(c).apply(r, cache_policy(c).choose("a.css"), now);
    EXPECT_FALSE(header(r, "Expires")); // off by default

    c.expires = true;
    const cache_policy p(c);
    http::response a;
    p.apply(a, p.choose("a.css"), now);
    EXPECT_EQ(header(a, "Expires"), files::format_http_date(now + 3600));
    http::response b;
    p.apply(b, p.choose("a.css"), now + 5); // a later second: a new value
    EXPECT_EQ(header(b, "Expires"), files::format_http_date(now + 5 + 3600));
    http::response d;
    p.apply(d, p.choose("a.json"), now + 5);
    EXPECT_EQ(header(d, "Expires"), files::format_http_date(now + 5 + 300));
    http::response n;
    p.apply(n, p.choose("a.html"), now); // no max-age: nothing to compute it from
    EXPECT_EQ(header(n, "Cache-Control"), "no-cache");
    EXPECT_FALSE(header(n, "Expires"));
}

namespace {

class FilesCacheHandler : public ::testing::Test {
protected:
    void SetUp() override {
        dir_.write("www/index.html", "<h1>home</h1>");
        dir_.write("www/assets/app.css", "body{color:red}");
        dir_.write("www/assets/app.css.gz", "not really gzip");
        dir_.write("www/list/a.txt", "a");
        site_.name = "test";
        site_.static_dir = dir_.path() / "www";
        site_.cache.enabled = true;
        site_.cache.expires = true;
        site_.cache.rules.push_back(
            rule({prefix("/assets")}, "public, max-age=31536000, immutable", seconds(31536000)));
        site_.cache.rules.push_back(rule({suffix(".html")}, "no-cache"));
    }
    http::response get(std::string_view path, files::request_info r = {}) {
        r.raw_path = path;
        return files::static_handler(site_, limits_, nullptr).handle(r);
    }

    bws::test::temp_dir dir_{"bws-cache"};
    config::site site_;
    config::limits limits_;
};

} // namespace

TEST_F(FilesCacheHandler, TheSameHeadersOn200And206And304AndHead) {
    auto full = get("/assets/app.css");
    ASSERT_EQ(full.status, 200u);
    const auto cc = header(full, "Cache-Control");
    EXPECT_EQ(cc, "public, max-age=31536000, immutable");
    const auto expires = files::parse_http_date(header(full, "Expires").value_or(""));
    ASSERT_TRUE(expires);
    const auto now =
        std::chrono::duration_cast<seconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    EXPECT_NEAR(static_cast<double>(*expires - now), 31536000.0, 2.0);

    const std::string etag = header(full, "ETag").value();
    files::request_info conditional;
    conditional.if_none_match = etag;
    auto not_modified = get("/assets/app.css", conditional);
    EXPECT_EQ(not_modified.status, 304u);
    EXPECT_EQ(header(not_modified, "Cache-Control"), cc);
    EXPECT_TRUE(header(not_modified, "Expires"));

    files::request_info ranged;
    ranged.range = "bytes=0-3";
    auto partial = get("/assets/app.css", ranged);
    EXPECT_EQ(partial.status, 206u);
    EXPECT_EQ(header(partial, "Cache-Control"), cc);
    EXPECT_TRUE(header(partial, "Expires"));

    files::request_info head;
    head.head = true;
    EXPECT_EQ(header(get("/assets/app.css", head), "Cache-Control"), cc);

    // "/" is served as index.html: the rule for *.html applies to it.
    auto home = get("/");
    EXPECT_EQ(header(home, "Cache-Control"), "no-cache");
    EXPECT_FALSE(header(home, "Expires"));
}

TEST_F(FilesCacheHandler, PrecompressedVariantsGetTheFilesHeader) {
    site_.compression.enabled = true;
    site_.compression.precompressed = true;
    files::request_info gzip;
    gzip.accept_encoding = "gzip";
    auto r = get("/assets/app.css", gzip);
    ASSERT_EQ(r.status, 200u);
    EXPECT_EQ(header(r, "Content-Encoding"), "gzip");
    EXPECT_EQ(header(r, "Cache-Control"), "public, max-age=31536000, immutable");
}

TEST_F(FilesCacheHandler, ErrorsAndListingsGetNone) {
    EXPECT_FALSE(header(get("/assets/missing.css"), "Cache-Control"));
    files::request_info unsatisfiable;
    unsatisfiable.range = "bytes=1000-";
    auto r = get("/assets/app.css", unsatisfiable);
    EXPECT_EQ(r.status, 416u);
    EXPECT_FALSE(header(r, "Cache-Control"));
    files::request_info failing;
    failing.if_match = "\"other\"";
    r = get("/assets/app.css", failing);
    EXPECT_EQ(r.status, 412u);
    EXPECT_FALSE(header(r, "Cache-Control"));
    EXPECT_FALSE(header(r, "Expires"));

    site_.directory_listing = true;
    site_.cache.rules.push_back(rule({prefix("/list")}, "public, max-age=60", seconds(60)));
    r = get("/list/");
    EXPECT_EQ(r.status, 200u);
    EXPECT_EQ(header(r, "Cache-Control"), "no-cache"); // listings: never the rules
    EXPECT_FALSE(header(r, "Expires"));
}

TEST_F(FilesCacheHandler, ValidatorsTurnedOffAreNotSentNorCompared) {
    auto full = get("/assets/app.css");
    const std::string etag = header(full, "ETag").value();
    const std::string modified = header(full, "Last-Modified").value();

    site_.cache.etag = false;
    auto r = get("/assets/app.css");
    EXPECT_FALSE(header(r, "ETag"));
    EXPECT_EQ(header(r, "Last-Modified"), modified);
    files::request_info inm;
    inm.if_none_match = etag;
    EXPECT_EQ(get("/assets/app.css", inm).status, 200u);
    files::request_info im;
    im.if_match = "\"other\"";
    EXPECT_EQ(get("/assets/app.css", im).status, 200u);
    files::request_info ims;
    ims.if_modified_since = modified;
    EXPECT_EQ(get("/assets/app.css", ims).status, 304u); // Last-Modified still works
    files::request_info if_range;
    if_range.range = "bytes=0-3";
    if_range.if_range = etag;
    EXPECT_EQ(get("/assets/app.css", if_range).status, 200u); // no ETag: the whole file

    site_.cache.etag = true;
    site_.cache.last_modified = false;
    r = get("/assets/app.css");
    EXPECT_EQ(header(r, "ETag"), etag);
    EXPECT_FALSE(header(r, "Last-Modified"));
    EXPECT_EQ(get("/assets/app.css", ims).status, 200u);
    files::request_info ius;
    ius.if_unmodified_since = "Thu, 01 Jan 1970 00:00:00 GMT";
    EXPECT_EQ(get("/assets/app.css", ius).status, 200u);
    EXPECT_EQ(get("/assets/app.css", inm).status, 304u);
    if_range.if_range = modified;
    EXPECT_EQ(get("/assets/app.css", if_range).status, 200u);
    if_range.if_range = etag;
    EXPECT_EQ(get("/assets/app.css", if_range).status, 206u);
}
