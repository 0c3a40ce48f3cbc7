// HTTP dates, ETags and RFC 9110 §13 precondition evaluation.
#include "files/conditional.hpp"
#include "files/http_date.hpp"

#include <gtest/gtest.h>

using namespace bws::files;

TEST(FilesDate, FormatsImfFixdate) {
    EXPECT_EQ(format_http_date(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
    EXPECT_EQ(format_http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
    EXPECT_EQ(format_http_date(951782400), "Tue, 29 Feb 2000 00:00:00 GMT");
    EXPECT_EQ(format_http_date(4102444799), "Thu, 31 Dec 2099 23:59:59 GMT");
    EXPECT_EQ(format_http_date(-1), "Wed, 31 Dec 1969 23:59:59 GMT");
}

TEST(FilesDate, ParsesAllThreeForms) {
    EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
    EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), 784111777);
    EXPECT_EQ(parse_http_date("Sun Nov  6 08:49:37 1994"), 784111777);
    EXPECT_EQ(parse_http_date("Sun Nov 16 08:49:37 1994"), 784111777 + 10 * 86400);
    EXPECT_EQ(parse_http_date("  Sun, 06 Nov 1994 08:49:37 GMT "), 784111777);
    EXPECT_EQ(parse_http_date("Thursday, 01-Jan-70 00:00:00 GMT"), 0);
    EXPECT_EQ(parse_http_date("Saturday, 01-Jan-00 00:00:00 GMT"), 946684800);
}

TEST(FilesDate, RoundTrips) {
    for (std::int64_t t : {0LL, 784111777LL, 1700000000LL, 951868799LL, 4102444799LL})
        EXPECT_EQ(parse_http_date(format_http_date(t)), t);
}

TEST(FilesDate, RejectsGarbage) {
    EXPECT_FALSE(parse_http_date(""));
    EXPECT_FALSE(parse_http_date("yesterday"));
    EXPECT_FALSE(parse_http_date("Sun, 06 Nov 1994 08:49:37 UTC"));
    EXPECT_FALSE(parse_http_date("Sun, 6 Nov 1994 08:49:37 GMT"));
    EXPECT_FALSE(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT junk"));
    EXPECT_FALSE(parse_http_date("Sun, 31 Feb 1994 08:49:37 GMT"));
    EXPECT_FALSE(parse_http_date("Sun, 29 Feb 1900 08:49:37 GMT"));
    EXPECT_FALSE(parse_http_date("Sun, 06 Nov 1994 24:00:00 GMT"));
    EXPECT_FALSE(parse_http_date("Sun, 06 Foo 1994 08:49:37 GMT"));
    EXPECT_FALSE(parse_http_date("Sun, 06 nov 1994 08:49:37 GMT"));
    EXPECT_FALSE(parse_http_date("1994-11-06T08:49:37Z"));
}

TEST(FilesConditional, EtagShape) {
    std::string tag = make_etag(0x1234, 0x5f000000, 0xabc);
    EXPECT_EQ(tag, "\"5f000000.abc-1234\"");
    EXPECT_NE(make_etag(1, 2, 3), make_etag(1, 2, 4)); // sub-second changes count
    EXPECT_NE(make_etag(1, 2, 3), make_etag(2, 2, 3));
}

TEST(FilesConditional, EtagLists) {
    const std::string tag = "\"abc\"";
    EXPECT_TRUE(etag_list_matches("\"abc\"", tag, etag_compare::strong));
    EXPECT_TRUE(etag_list_matches("*", tag, etag_compare::strong));
    EXPECT_TRUE(etag_list_matches(" * ", tag, etag_compare::weak));
    EXPECT_TRUE(etag_list_matches("\"x\", \"abc\"", tag, etag_compare::strong));
    EXPECT_TRUE(etag_list_matches("\"x\",\"abc\"", tag, etag_compare::strong));
    EXPECT_FALSE(etag_list_matches("W/\"abc\"", tag, etag_compare::strong));
    EXPECT_TRUE(etag_list_matches("W/\"abc\"", tag, etag_compare::weak));
    EXPECT_TRUE(etag_list_matches("\"a,b\", \"abc\"", tag, etag_compare::strong));
    EXPECT_FALSE(etag_list_matches("\"a,b\"", "\"a\"", etag_compare::strong));
    EXPECT_FALSE(etag_list_matches("abc", tag, etag_compare::weak));
    EXPECT_FALSE(etag_list_matches("\"abcd\"", tag, etag_compare::weak));
    EXPECT_FALSE(etag_list_matches("\"abc", tag, etag_compare::weak));
    EXPECT_TRUE(etag_list_matches("junk, \"abc\"", tag, etag_compare::weak));
}

namespace {

const std::string etag = "\"e1\"";
constexpr std::int64_t modified = 1'000'000'000;
constexpr std::int64_t now = 1'700'000'000;

precondition eval(request_info r) {
    return evaluate_preconditions(r, etag, modified, now);
}

} // namespace

TEST(FilesConditional, NoHeadersProceed) {
    EXPECT_EQ(eval({}), precondition::proceed);
}

TEST(FilesConditional, IfMatch) {
    request_info r;
    r.if_match = "\"e1\"";
    EXPECT_EQ(eval(r), precondition::proceed);
    r.if_match = "*";
    EXPECT_EQ(eval(r), precondition::proceed);
    r.if_match = "\"other\"";
    EXPECT_EQ(eval(r), precondition::failed);
    r.if_match = "W/\"e1\""; // strong comparison
    EXPECT_EQ(eval(r), precondition::failed);
    // If-Match wins over If-Unmodified-Since (which alone would fail).
    r.if_match = "\"e1\"";
    r.if_unmodified_since = format_http_date(modified - 10);
    EXPECT_EQ(eval(r), precondition::proceed);
}

TEST(FilesConditional, IfUnmodifiedSince) {
    request_info r;
    std::string date = format_http_date(modified);
    r.if_unmodified_since = date;
    EXPECT_EQ(eval(r), precondition::proceed);
    std::string before = format_http_date(modified - 1);
    r.if_unmodified_since = before;
    EXPECT_EQ(eval(r), precondition::failed);
    r.if_unmodified_since = "garbage";
    EXPECT_EQ(eval(r), precondition::proceed);
}

TEST(FilesConditional, IfNoneMatch) {
    request_info r;
    r.if_none_match = "\"e1\"";
    EXPECT_EQ(eval(r), precondition::not_modified);
    r.if_none_match = "W/\"e1\""; // weak comparison
    EXPECT_EQ(eval(r), precondition::not_modified);
    r.if_none_match = "*";
    EXPECT_EQ(eval(r), precondition::not_modified);
    r.if_none_match = "\"x\", \"y\"";
    EXPECT_EQ(eval(r), precondition::proceed);
    // A failing If-Match is decided before If-None-Match.
    r.if_none_match = "\"e1\"";
    r.if_match = "\"x\"";
    EXPECT_EQ(eval(r), precondition::failed);
}

TEST(FilesConditional, IfModifiedSince) {
    request_info r;
    std::string same = format_http_date(modified);
    std::string later = format_http_date(modified + 100);
    std::string earlier = format_http_date(modified - 1);
    std::string future = format_http_date(now + 3600);
    r.if_modified_since = same;
    EXPECT_EQ(eval(r), precondition::not_modified);
    r.if_modified_since = later;
    EXPECT_EQ(eval(r), precondition::not_modified);
    r.if_modified_since = earlier;
    EXPECT_EQ(eval(r), precondition::proceed);
    r.if_modified_since = future; // ignored
    EXPECT_EQ(eval(r), precondition::proceed);
    r.if_modified_since = "not a date";
    EXPECT_EQ(eval(r), precondition::proceed);
    r.if_modified_since = "Sunday, 09-Sep-01 01:46:40 GMT"; // RFC 850 form of `modified`
    EXPECT_EQ(eval(r), precondition::not_modified);
    // If-None-Match present: If-Modified-Since is not consulted.
    r.if_modified_since = same;
    r.if_none_match = "\"x\"";
    EXPECT_EQ(eval(r), precondition::proceed);
}

TEST(FilesConditional, IfRange) {
    EXPECT_TRUE(if_range_allows("", etag, modified));
    EXPECT_TRUE(if_range_allows("\"e1\"", etag, modified));
    EXPECT_FALSE(if_range_allows("\"e2\"", etag, modified));
    EXPECT_FALSE(if_range_allows("W/\"e1\"", etag, modified));
    EXPECT_TRUE(if_range_allows(format_http_date(modified), etag, modified));
    EXPECT_FALSE(if_range_allows(format_http_date(modified + 1), etag, modified));
    EXPECT_FALSE(if_range_allows(format_http_date(modified - 1), etag, modified));
    EXPECT_FALSE(if_range_allows("garbage", etag, modified));
}
