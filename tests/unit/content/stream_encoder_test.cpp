// A streaming encoder's output, however the input is sliced, decodes to the input; it ends
// exactly once, emits nothing after its end, and its state does not grow with the body.
#include "content/stream_encoder.hpp"

#include "content/decoders.hpp"

#include <gtest/gtest.h>

#include <malloc.h>
#include <random>
#include <string>

using namespace bws::content;
using bws::test::decode;
using bws::test::text;

namespace {

// Feeds `input` in slices whose sizes cycle through `sizes`, the last call with last = true.
std::string encode_sliced(stream_encoder& e, const std::string& input,
                          const std::vector<std::size_t>& sizes) {
    std::string out;
    std::size_t at = 0;
    for (std::size_t i = 0; at < input.size(); ++i) {
        const std::size_t n = std::min(sizes[i % sizes.size()], input.size() - at);
        EXPECT_TRUE(e.write(std::string_view(input).substr(at, n), false, out));
        EXPECT_FALSE(e.finished());
        at += n;
    }
    EXPECT_TRUE(e.write({}, true, out));
    EXPECT_TRUE(e.finished());
    return out;
}

} // namespace

class StreamEncoder : public ::testing::TestWithParam<coding> {};

TEST_P(StreamEncoder, SlicedInputRoundTrips) {
    const std::string input = text(3'000'000);
    for (const auto& sizes :
         std::vector<std::vector<std::size_t>>{{65536}, {1, 7, 4096, 0, 100'000}, {3'000'000}}) {
        auto e = make_stream_encoder(GetParam(), 6);
        ASSERT_TRUE(e);
        const std::string out = encode_sliced(*e, input, sizes);
        EXPECT_LT(out.size(), input.size() / 4);
        EXPECT_EQ(decode(GetParam(), out), input);
    }
}

TEST_P(StreamEncoder, LastSliceMayCarryDataAndEmptyBodiesEncode) {
    const std::string input = text(200'000);
    auto e = make_stream_encoder(GetParam(), 1);
    ASSERT_TRUE(e);
    std::string out;
    ASSERT_TRUE(e->write(std::string_view(input).substr(0, 1000), false, out));
    ASSERT_TRUE(e->write(std::string_view(input).substr(1000), true, out));
    EXPECT_EQ(decode(GetParam(), out), input);

    auto empty = make_stream_encoder(GetParam(), 9);
    ASSERT_TRUE(empty);
    std::string nothing;
    ASSERT_TRUE(empty->write({}, true, nothing));
    EXPECT_FALSE(nothing.empty()); // a valid, empty stream still has its header and trailer
    EXPECT_EQ(decode(GetParam(), nothing), "");
}

TEST_P(StreamEncoder, WritingAfterTheEndFails) {
    auto e = make_stream_encoder(GetParam(), 6);
    ASSERT_TRUE(e);
    std::string out;
    ASSERT_TRUE(e->write("abc", true, out));
    const std::size_t size = out.size();
    EXPECT_FALSE(e->write("more", false, out));
    EXPECT_FALSE(e->write({}, true, out));
    EXPECT_EQ(out.size(), size);
}

TEST_P(StreamEncoder, StateStaysBoundedAtTheHighestLevel) {
    // The heap an encoder holds after 8 MiB of input at level 9: its window and tables, never
    // the body. Under 4 MiB for every coding (capped state; see the header).
    const std::string block = text(1 << 20);
    auto heap = [] {
        const auto m = mallinfo2();
        return m.uordblks + m.hblkhd; // small chunks and mmap()ed ones
    };
    const auto before = heap();
    auto e = make_stream_encoder(GetParam(), 9);
    ASSERT_TRUE(e);
    std::string out;
    for (int i = 0; i < 8; ++i) {
        ASSERT_TRUE(e->write(block, false, out));
        out.clear();
        out.shrink_to_fit();
    }
    const auto held = heap() - before;
    EXPECT_LT(held, 4u << 20) << held;
    std::printf("%s level 9: %zu KiB of encoder state\n", std::string(token(GetParam())).c_str(),
                held / 1024);
}

TEST(StreamEncoderIdentity, HasNoEncoder) {
    EXPECT_EQ(make_stream_encoder(coding::identity, 6), nullptr);
}

INSTANTIATE_TEST_SUITE_P(Codings, StreamEncoder,
                         ::testing::Values(coding::gzip, coding::br, coding::zstd),
                         [](const auto& info) { return std::string(token(info.param)); });
