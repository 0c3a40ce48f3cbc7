// Each encoder's output decodes, with the same library, to the input; levels are clamped.
#include "content/codec.hpp"

#include "content/decoders.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

using namespace bws::content;
using bws::test::decode;
using bws::test::text;

namespace {

std::string noise(std::size_t n) {
    std::mt19937 rng(42);
    std::string s(n, '\0');
    for (auto& ch : s)
        ch = static_cast<char>(rng());
    return s;
}

} // namespace

class ContentCodec : public ::testing::TestWithParam<coding> {};

TEST_P(ContentCodec, RoundTripsAtEveryLevel) {
    const std::string input = text(200'000);
    for (int level = min_level; level <= max_level; ++level) {
        const auto out = compress(GetParam(), input, level);
        ASSERT_TRUE(out) << level;
        EXPECT_LT(out->size(), input.size() / 4) << level;
        EXPECT_EQ(decode(GetParam(), *out), input) << level;
    }
}

TEST_P(ContentCodec, RoundTripsEmptyAndIncompressibleInput) {
    for (const std::string& input : {std::string(), std::string("x"), noise(100'000)}) {
        const auto out = compress(GetParam(), input, 6);
        ASSERT_TRUE(out);
        EXPECT_EQ(decode(GetParam(), *out), input);
    }
}

TEST_P(ContentCodec, OutOfRangeLevelsAreClamped) {
    const std::string input = text(10'000);
    for (int level : {-5, 0, 10, 100}) {
        const auto out = compress(GetParam(), input, level);
        ASSERT_TRUE(out) << level;
        EXPECT_EQ(decode(GetParam(), *out), input);
    }
}

INSTANTIATE_TEST_SUITE_P(Codings, ContentCodec,
                         ::testing::Values(coding::gzip, coding::br, coding::zstd),
                         [](const auto& info) { return std::string(token(info.param)); });

TEST(ContentCodecIdentity, IsNotACompressor) {
    EXPECT_FALSE(compress(coding::identity, "abc", 6));
}
