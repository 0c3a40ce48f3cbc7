// Unit tests for config size and duration parsing ("100MB", "30s").
#include "config/duration.hpp"
#include "config/size.hpp"

#include <gtest/gtest.h>

namespace bws::config {
namespace {

std::uint64_t size_ok(std::string_view text) {
    std::string error;
    auto n = parse_size(text, error);
    EXPECT_TRUE(n.has_value()) << text << ": " << error;
    return n.value_or(0);
}

std::string size_error(std::string_view text) {
    std::string error;
    auto n = parse_size(text, error);
    EXPECT_FALSE(n.has_value()) << text << " parsed as " << n.value_or(0);
    return error;
}

TEST(SizeParse, BareNumbersAreBytes) {
    EXPECT_EQ(size_ok("0"), 0u);
    EXPECT_EQ(size_ok("1024"), 1024u);
    EXPECT_EQ(size_ok(" 7 "), 7u);
}

TEST(SizeParse, UnitsAre1024BasedAndCaseInsensitive) {
    EXPECT_EQ(size_ok("10B"), 10u);
    EXPECT_EQ(size_ok("512KB"), 512u * 1024);
    EXPECT_EQ(size_ok("512kb"), 512u * 1024);
    EXPECT_EQ(size_ok("100MB"), 100u * 1024 * 1024);
    EXPECT_EQ(size_ok("100 MB"), 100u * 1024 * 1024);
    EXPECT_EQ(size_ok("100mB"), 100u * 1024 * 1024);
    EXPECT_EQ(size_ok("1GB"), 1024ull * 1024 * 1024);
    EXPECT_EQ(size_ok("2TB"), 2ull << 40);
    EXPECT_EQ(size_ok("100MiB"), 100u * 1024 * 1024);
    EXPECT_EQ(size_ok("4kib"), 4096u);
}

TEST(SizeParse, RejectsMalformedSizes) {
    EXPECT_NE(size_error("100XB").find("unknown unit 'XB'"), std::string::npos);
    EXPECT_NE(size_error("-5MB").find("negative"), std::string::npos);
    EXPECT_NE(size_error("1.5MB").find("whole number"), std::string::npos);
    EXPECT_NE(size_error("").find("empty"), std::string::npos);
    EXPECT_NE(size_error("   ").find("empty"), std::string::npos);
    EXPECT_NE(size_error("MB").find("does not start with a number"), std::string::npos);
    EXPECT_NE(size_error("10 M B").find("unknown unit"), std::string::npos);
    EXPECT_NE(size_error("10K").find("unknown unit"), std::string::npos);
}

TEST(SizeParse, RejectsOverflow) {
    EXPECT_NE(size_error("99999999999999999999").find("too large"), std::string::npos);
    EXPECT_NE(size_error("20000000TB").find("too large"), std::string::npos);
    EXPECT_EQ(size_ok("18446744073709551615"), 18446744073709551615ull);
}

std::int64_t duration_ms(std::string_view text) {
    std::string error;
    auto d = parse_duration(text, error);
    EXPECT_TRUE(d.has_value()) << text << ": " << error;
    return d ? d->count() : -1;
}

std::string duration_error(std::string_view text) {
    std::string error;
    auto d = parse_duration(text, error);
    EXPECT_FALSE(d.has_value()) << text << " parsed as " << (d ? d->count() : 0) << "ms";
    return error;
}

TEST(DurationParse, UnitsAndBareSeconds) {
    EXPECT_EQ(duration_ms("30"), 30'000);
    EXPECT_EQ(duration_ms("30s"), 30'000);
    EXPECT_EQ(duration_ms("500ms"), 500);
    EXPECT_EQ(duration_ms("2m"), 120'000);
    EXPECT_EQ(duration_ms("1h"), 3'600'000);
    EXPECT_EQ(duration_ms("1m30s"), 90'000);
    EXPECT_EQ(duration_ms("1m 30s"), 90'000);
    EXPECT_EQ(duration_ms(" 10 S "), 10'000);
    EXPECT_EQ(duration_ms("0s"), 0);
}

TEST(DurationParse, RejectsMalformedDurations) {
    EXPECT_NE(duration_error("").find("empty"), std::string::npos);
    EXPECT_NE(duration_error("-5s").find("negative"), std::string::npos);
    EXPECT_NE(duration_error("1.5s").find("whole number"), std::string::npos);
    EXPECT_NE(duration_error("10x").find("unknown unit 'x'"), std::string::npos);
    EXPECT_NE(duration_error("1m30").find("without a unit"), std::string::npos);
    EXPECT_NE(duration_error("s").find("not a number"), std::string::npos);
    EXPECT_NE(duration_error("100000h").find("too long"), std::string::npos);
    EXPECT_NE(duration_error("99999999999999999999ms").find("too long"), std::string::npos);
}

std::string hsts_error(std::string_view text) {
    std::string error;
    auto d = parse_hsts_max_age(text, error);
    EXPECT_FALSE(d.has_value()) << text << " parsed as " << (d ? d->count() : 0) << "s";
    return error;
}

TEST(DurationParse, HstsMaxAgeTakesDaysUpToTwoYears) {
    std::string error;
    EXPECT_EQ(parse_hsts_max_age("365d", error), std::chrono::seconds(31536000)) << error;
    EXPECT_EQ(parse_hsts_max_age("730d", error), std::chrono::seconds(63072000)) << error;
    EXPECT_EQ(parse_hsts_max_age("1d 12h", error), std::chrono::seconds(129600)) << error;
    EXPECT_EQ(parse_hsts_max_age("63072000", error), std::chrono::seconds(63072000)) << error;
    EXPECT_EQ(parse_hsts_max_age("3000ms", error), std::chrono::seconds(3)) << error;
    EXPECT_EQ(parse_hsts_max_age("0", error), std::chrono::seconds(0)) << error;
    EXPECT_NE(hsts_error("731d").find("too long (at most 2 years"), std::string::npos);
    EXPECT_NE(hsts_error("63072001").find("too long"), std::string::npos);
    EXPECT_NE(hsts_error("1500ms").find("whole number of seconds"), std::string::npos);
    EXPECT_NE(hsts_error("1y").find("unknown unit 'y' (use ms, s, m, h or d)"), std::string::npos);
    EXPECT_NE(hsts_error("-1d").find("negative"), std::string::npos);
    // The other durations keep their units and their 366-day bound.
    EXPECT_NE(duration_error("1d").find("unknown unit 'd' (use ms, s, m or h)"), std::string::npos);
    EXPECT_EQ(duration_ms("8784h"), std::int64_t{366} * 24 * 3600 * 1000);
    EXPECT_NE(duration_error("8785h").find("too long"), std::string::npos);
    EXPECT_EQ(duration_error("8785h").find("at most"), std::string::npos);
}

} // namespace
} // namespace bws::config
