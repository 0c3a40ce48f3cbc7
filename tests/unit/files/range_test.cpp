// Range header evaluation (nginx's outcomes) and multipart framing.
#include "files/range.hpp"

#include <cstdint>

#include <gtest/gtest.h>

using namespace bws::files;

namespace {

range_result parse(std::string_view header, std::uint64_t size = 100, std::size_t max = 16) {
    return parse_range(header, size, max);
}

} // namespace

TEST(Range, SingleForms) {
    auto r = parse("bytes=0-9");
    ASSERT_EQ(r.outcome, range_outcome::satisfiable);
    ASSERT_EQ(r.ranges.size(), 1u);
    EXPECT_EQ(r.ranges[0], (byte_range{0, 9}));

    r = parse("bytes=90-");
    ASSERT_EQ(r.outcome, range_outcome::satisfiable);
    EXPECT_EQ(r.ranges[0], (byte_range{90, 99}));

    r = parse("bytes=-10");
    ASSERT_EQ(r.outcome, range_outcome::satisfiable);
    EXPECT_EQ(r.ranges[0], (byte_range{90, 99}));

    r = parse("bytes=-1000"); // suffix longer than the file: all of it
    ASSERT_EQ(r.outcome, range_outcome::satisfiable);
    EXPECT_EQ(r.ranges[0], (byte_range{0, 99}));

    r = parse("bytes=50-5000"); // end clamped to size - 1
    ASSERT_EQ(r.outcome, range_outcome::satisfiable);
    EXPECT_EQ(r.ranges[0], (byte_range{50, 99}));

    r = parse("bytes=99-99");
    ASSERT_EQ(r.outcome, range_outcome::satisfiable);
    EXPECT_EQ(r.ranges[0], (byte_range{99, 99}));
    EXPECT_EQ(r.ranges[0].length(), 1u);
}

TEST(Range, UnitIsCaseInsensitiveAndWhitespaceTolerated) {
    auto r = parse("Bytes=0-1");
    EXPECT_EQ(r.outcome, range_outcome::satisfiable);
    r = parse("  bytes=0-1 , 5-6 ");
    ASSERT_EQ(r.outcome, range_outcome::satisfiable);
    EXPECT_EQ(r.ranges.size(), 2u);
}

TEST(Range, Lists) {
    auto r = parse("bytes=0-0,-1,10-19");
    ASSERT_EQ(r.outcome, range_outcome::satisfiable);
    ASSERT_EQ(r.ranges.size(), 3u);
    EXPECT_EQ(r.ranges[0], (byte_range{0, 0}));
    EXPECT_EQ(r.ranges[1], (byte_range{99, 99}));
    EXPECT_EQ(r.ranges[2], (byte_range{10, 19}));
    // Unsatisfiable members are dropped when others are satisfiable (nginx).
    r = parse("bytes=0-1,200-300");
    ASSERT_EQ(r.outcome, range_outcome::satisfiable);
    EXPECT_EQ(r.ranges.size(), 1u);
    // Empty list elements are allowed by the list syntax.
    r = parse("bytes=0-1,,5-6");
    ASSERT_EQ(r.outcome, range_outcome::satisfiable);
    EXPECT_EQ(r.ranges.size(), 2u);
}

TEST(Range, Unsatisfiable) {
    EXPECT_EQ(parse("bytes=100-").outcome, range_outcome::unsatisfiable);
    EXPECT_EQ(parse("bytes=99999-").outcome, range_outcome::unsatisfiable);
    EXPECT_EQ(parse("bytes=10-5").outcome, range_outcome::unsatisfiable); // nginx: 416
    EXPECT_EQ(parse("bytes=-0").outcome, range_outcome::unsatisfiable);
    EXPECT_EQ(parse("bytes=100-200,300-400").outcome, range_outcome::unsatisfiable);
    EXPECT_EQ(parse("bytes=99999999999999999999999-").outcome, range_outcome::unsatisfiable);
}

TEST(Range, Ignored) {
    EXPECT_EQ(parse("").outcome, range_outcome::ignore);
    EXPECT_EQ(parse("items=0-1").outcome, range_outcome::ignore);
    EXPECT_EQ(parse("bytes 0-1").outcome, range_outcome::ignore);
    EXPECT_EQ(parse("bytes=").outcome, range_outcome::ignore);
    EXPECT_EQ(parse("bytes=-").outcome, range_outcome::ignore);
    EXPECT_EQ(parse("bytes=abc").outcome, range_outcome::ignore);
    EXPECT_EQ(parse("bytes=1-2-3").outcome, range_outcome::ignore);
    EXPECT_EQ(parse("bytes=0-1,x-2").outcome, range_outcome::ignore);
    EXPECT_EQ(parse("bytes=+1-2").outcome, range_outcome::ignore);
    // Empty file: nothing to slice, the whole (empty) body.
    EXPECT_EQ(parse("bytes=0-", 0).outcome, range_outcome::ignore);
    EXPECT_EQ(parse("bytes=-5", 0).outcome, range_outcome::ignore);
    EXPECT_EQ(parse("bytes=1-1", 0).outcome, range_outcome::ignore); // was 416 (fuzz finding)
    EXPECT_EQ(parse("bytes=5-,0-0", 0).outcome, range_outcome::ignore);
    // Ranges disabled.
    EXPECT_EQ(parse("bytes=0-1", 100, 0).outcome, range_outcome::ignore);
}

TEST(Range, TooManyRanges) {
    EXPECT_EQ(parse("bytes=0-0,2-2,4-4", 100, 3).outcome, range_outcome::satisfiable);
    EXPECT_EQ(parse("bytes=0-0,2-2,4-4,6-6", 100, 3).outcome, range_outcome::ignore);
    // Out-of-file members do not count toward the cap (nginx).
    EXPECT_EQ(parse("bytes=0-0,2-2,500-,4-4", 100, 3).outcome, range_outcome::satisfiable);
    // The cap counts what was asked, before coalescing.
    EXPECT_EQ(parse("bytes=0-0,0-0,0-0,0-0", 100, 3).outcome, range_outcome::ignore);
}

// Overlapping and adjacent ranges are merged (RFC 9110 §14.2), so repeating a range cannot
// make a response larger than the file: the old range-bomb answer (200) is now a plain 206.
TEST(Range, OverlappingAndAdjacentRangesAreCoalesced) {
    auto ranges = [](std::string_view header, std::uint64_t size = 100) {
        auto r = parse(header, size);
        EXPECT_EQ(r.outcome, range_outcome::satisfiable) << header;
        return r.ranges;
    };
    using v = std::vector<byte_range>;
    EXPECT_EQ(ranges("bytes=0-99,0-99"), (v{{0, 99}}));
    EXPECT_EQ(ranges("bytes=0-60,40-99"), (v{{0, 99}}));
    EXPECT_EQ(ranges("bytes=0-10,5-15"), (v{{0, 15}}));
    EXPECT_EQ(ranges("bytes=0-0,1-1,2-2"), (v{{0, 2}})); // adjacent
    EXPECT_EQ(ranges("bytes=-10,0-5,3-7"), (v{{90, 99}, {0, 7}}));
    // A merged range stands where its first member was; the others keep their order.
    EXPECT_EQ(ranges("bytes=50-59,0-9,55-70,20-29"), (v{{50, 70}, {0, 9}, {20, 29}}));
    EXPECT_EQ(ranges("bytes=20-29,0-9"), (v{{20, 29}, {0, 9}})); // unsorted, kept as asked
    // Huge sizes: no wrap-around (fuzz finding of the old sum check).
    EXPECT_EQ(ranges("bytes=0-,0-", UINT64_MAX), (v{{0, UINT64_MAX - 1}}));
    // Whatever the request, the parts never add up to more than the file.
    for (const char* h : {"bytes=0-99,0-99,0-99", "bytes=0-,1-,2-,3-", "bytes=-100,-99,-1,0-0"}) {
        std::uint64_t total = 0;
        for (const auto& r : ranges(h))
            total += r.length();
        EXPECT_LE(total, 100u) << h;
    }
}

TEST(Range, ContentRangeAndMultipartFraming) {
    EXPECT_EQ(content_range({0, 9}, 100), "bytes 0-9/100");
    EXPECT_EQ(unsatisfied_content_range(100), "bytes */100");
    EXPECT_EQ(multipart_part_header("B", "text/plain", {1, 2}, 10, true),
              "--B\r\nContent-Type: text/plain\r\nContent-Range: bytes 1-2/10\r\n\r\n");
    EXPECT_EQ(multipart_part_header("B", "text/plain", {1, 2}, 10, false),
              "\r\n--B\r\nContent-Type: text/plain\r\nContent-Range: bytes 1-2/10\r\n\r\n");
    EXPECT_EQ(multipart_trailer("B"), "\r\n--B--\r\n");
}

TEST(Range, BoundariesDifferAndAreTokens) {
    std::string a = make_boundary();
    std::string b = make_boundary();
    EXPECT_EQ(a.size(), 20u);
    EXPECT_NE(a, b);
    for (char c : a)
        EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
}
