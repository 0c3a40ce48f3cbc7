// Each encoder's output decodes, with the same library, to the input; levels are clamped.
#include "content/codec.hpp"

#include <brotli/decode.h>
#include <gtest/gtest.h>
#include <zlib.h>
#include <zstd.h>

#include <random>
#include <string>

using namespace bws::content;

namespace {

std::string gunzip(const std::string& in) {
    z_stream z{};
    EXPECT_EQ(inflateInit2(&z, 15 + 16), Z_OK); // gzip wrapper only: a zlib stream fails
    std::string out;
    char buf[16384];
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z.avail_in = static_cast<uInt>(in.size());
    int rc = Z_OK;
    while (rc == Z_OK) {
        z.next_out = reinterpret_cast<Bytef*>(buf);
        z.avail_out = sizeof buf;
        rc = inflate(&z, Z_NO_FLUSH);
        out.append(buf, sizeof buf - z.avail_out);
    }
    EXPECT_EQ(rc, Z_STREAM_END);
    inflateEnd(&z);
    return out;
}

std::string unbrotli(const std::string& in, std::size_t expected) {
    std::string out(expected + 16, '\0');
    std::size_t size = out.size();
    EXPECT_EQ(BrotliDecoderDecompress(in.size(), reinterpret_cast<const std::uint8_t*>(in.data()),
                                      &size, reinterpret_cast<std::uint8_t*>(out.data())),
              BROTLI_DECODER_RESULT_SUCCESS);
    out.resize(size);
    return out;
}

std::string unzstd(const std::string& in) {
    const auto size = ZSTD_getFrameContentSize(in.data(), in.size());
    EXPECT_NE(size, ZSTD_CONTENTSIZE_ERROR);
    EXPECT_NE(size, ZSTD_CONTENTSIZE_UNKNOWN);
    std::string out(size, '\0');
    const auto n = ZSTD_decompress(out.data(), out.size(), in.data(), in.size());
    EXPECT_FALSE(ZSTD_isError(n));
    out.resize(n);
    return out;
}

std::string decode(coding c, const std::string& in, std::size_t expected) {
    switch (c) {
    case coding::gzip:
        return gunzip(in);
    case coding::br:
        return unbrotli(in, expected);
    case coding::zstd:
        return unzstd(in);
    case coding::identity:
        break;
    }
    return in;
}

std::string text(std::size_t n) {
    std::string s;
    while (s.size() < n)
        s += "<li class=\"item\">bws serves static files " + std::to_string(s.size() % 97) +
             "</li>\n";
    s.resize(n);
    return s;
}

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
        EXPECT_EQ(decode(GetParam(), *out, input.size()), input) << level;
    }
}

TEST_P(ContentCodec, RoundTripsEmptyAndIncompressibleInput) {
    for (const std::string& input : {std::string(), std::string("x"), noise(100'000)}) {
        const auto out = compress(GetParam(), input, 6);
        ASSERT_TRUE(out);
        EXPECT_EQ(decode(GetParam(), *out, input.size()), input);
    }
}

TEST_P(ContentCodec, OutOfRangeLevelsAreClamped) {
    const std::string input = text(10'000);
    for (int level : {-5, 0, 10, 100}) {
        const auto out = compress(GetParam(), input, level);
        ASSERT_TRUE(out) << level;
        EXPECT_EQ(decode(GetParam(), *out, input.size()), input);
    }
}

INSTANTIATE_TEST_SUITE_P(Codings, ContentCodec,
                         ::testing::Values(coding::gzip, coding::br, coding::zstd),
                         [](const auto& info) { return std::string(token(info.param)); });

TEST(ContentCodecIdentity, IsNotACompressor) {
    EXPECT_FALSE(compress(coding::identity, "abc", 6));
}
