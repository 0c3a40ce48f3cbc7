// The master <-> worker control protocol: every kind round-trips, hostile names survive,
// frames split or batched are reassembled, and garbage is rejected without a crash.
#include "app/control_protocol.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using namespace bws::app;
using control::decoder;

// Decodes everything in `bytes`; fails the test on an error.
std::vector<control::message> decode_all(decoder& d, std::string_view bytes) {
    d.feed(bytes);
    std::vector<control::message> out;
    control::message m;
    std::string error;
    for (;;) {
        auto r = d.next(m, error);
        if (r == decoder::result::need_more) {
            return out;
        }
        EXPECT_EQ(r, decoder::result::message) << error;
        if (r != decoder::result::message) {
            return out;
        }
        out.push_back(m);
    }
}

decoder::result decode_one(std::string_view bytes, std::string& error) {
    decoder d;
    d.feed(bytes);
    control::message m;
    return d.next(m, error);
}

TEST(ControlProtocol, EveryBodylessKindRoundTrips) {
    for (auto k : {control::kind::ready, control::kind::reopened, control::kind::drained,
                   control::kind::drain, control::kind::shutdown, control::kind::stop,
                   control::kind::reopen}) {
        decoder d;
        auto got = decode_all(d, control::encode(k));
        ASSERT_EQ(got.size(), 1u) << control::to_string(k);
        EXPECT_EQ(got[0].kind, k);
        EXPECT_EQ(d.buffered(), 0u);
    }
}

TEST(ControlProtocol, HostileSiteNamesRoundTrip) {
    std::string nul("a\0b", 3);
    std::string long_name(10000, 'x');
    control::counters sites = {{"my site", 7},
                               {"a=b", 1},
                               {"line\nbreak", 2},
                               {nul, 3},
                               {"\xff\xfe\x80 not utf-8", 4},
                               {"", 5},
                               {long_name, 6},
                               {"heartbeat", UINT64_MAX}};
    control::counters failures = {{"peer reset", 9}, {"", 0}};
    auto frame = control::encode_heartbeat(sites, failures);
    ASSERT_TRUE(frame);
    decoder d;
    auto got = decode_all(d, *frame);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].kind, control::kind::heartbeat);
    EXPECT_EQ(got[0].site_requests, sites);
    EXPECT_EQ(got[0].failures, failures);
}

TEST(ControlProtocol, StatusCarriesAnyBytes) {
    std::string json("{\"a\":\"b c\"}\n\0\xff", 14);
    auto frame = control::encode_status(json);
    ASSERT_TRUE(frame);
    decoder d;
    auto got = decode_all(d, *frame);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].kind, control::kind::status);
    EXPECT_EQ(got[0].status, json);
    // An empty status is still a status.
    auto empty = decode_all(d, *control::encode_status(""));
    ASSERT_EQ(empty.size(), 1u);
    EXPECT_EQ(empty[0].status, "");
}

TEST(ControlProtocol, FrameSplitAcrossReadsIsReassembled) {
    auto frame = *control::encode_heartbeat({{"my site", 42}}, {{"peer", 1}});
    decoder d;
    for (std::size_t i = 0; i + 1 < frame.size(); ++i) {
        EXPECT_TRUE(decode_all(d, frame.substr(i, 1)).empty()) << "byte " << i;
    }
    auto got = decode_all(d, frame.substr(frame.size() - 1));
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].site_requests.at("my site"), 42u);
    EXPECT_EQ(got[0].failures.at("peer"), 1u);
}

TEST(ControlProtocol, SeveralFramesInOneRead) {
    std::string bytes = control::encode(control::kind::ready) +
                        *control::encode_heartbeat({{"a b", 1}}, {}) +
                        control::encode(control::kind::drained) + *control::encode_status("{}");
    auto heartbeat = *control::encode_heartbeat({{"c", 2}}, {});
    bytes += heartbeat.substr(0, 3); // and the start of the next one
    decoder d;
    auto got = decode_all(d, bytes);
    ASSERT_EQ(got.size(), 4u);
    EXPECT_EQ(got[0].kind, control::kind::ready);
    EXPECT_EQ(got[1].site_requests.at("a b"), 1u);
    EXPECT_EQ(got[2].kind, control::kind::drained);
    EXPECT_EQ(got[3].status, "{}");
    EXPECT_EQ(d.buffered(), 3u);
    auto rest = decode_all(d, heartbeat.substr(3));
    ASSERT_EQ(rest.size(), 1u);
    EXPECT_EQ(rest[0].site_requests.at("c"), 2u);
}

TEST(ControlProtocol, OversizeIsRefusedByTheEncoderAndTheDecoder) {
    std::string big(control::max_frame_bytes, 'x');
    EXPECT_FALSE(control::encode_status(big));
    EXPECT_FALSE(control::encode_heartbeat({{big, 1}}, {}));
    // The largest accepted frame is exactly max_frame_bytes.
    auto largest = control::encode_status(
        std::string(control::max_frame_bytes - control::frame_header_bytes, 'y'));
    ASSERT_TRUE(largest);
    EXPECT_EQ(largest->size(), control::max_frame_bytes);
    decoder ok;
    EXPECT_EQ(decode_all(ok, *largest).size(), 1u);
    // A header announcing more than the limit is rejected at once, not waited for.
    std::string header("\x00\x02\x00\x00\x09", 5);
    std::string error;
    EXPECT_EQ(decode_one(header, error), decoder::result::error);
    EXPECT_NE(error.find("exceeds"), std::string::npos) << error;
    std::string huge("\xff\xff\xff\xff\x01", 5);
    EXPECT_EQ(decode_one(huge, error), decoder::result::error);
}

TEST(ControlProtocol, GarbageIsRejected) {
    std::string error;
    // Zero length.
    EXPECT_EQ(decode_one(std::string("\0\0\0\0", 4), error), decoder::result::error);
    // Unknown kinds, including 0 and the byte after the last kind; the old text protocol.
    EXPECT_EQ(decode_one(std::string("\0\0\0\1\0", 5), error), decoder::result::error);
    EXPECT_EQ(decode_one(std::string("\0\0\0\1\x0a", 5), error), decoder::result::error);
    EXPECT_EQ(decode_one("heartbeat main=3", error), decoder::result::error);
    // A body on a kind that has none.
    EXPECT_EQ(decode_one(std::string("\0\0\0\2\1x", 6), error), decoder::result::error);
    // Heartbeats: truncated inside a name, an entry count that cannot fit, trailing bytes.
    auto frame = *control::encode_heartbeat({{"site", 1}}, {});
    auto cut = frame.substr(0, 12);
    cut[3] = static_cast<char>(cut.size() - 4); // a consistent length over a cut body
    EXPECT_EQ(decode_one(cut, error), decoder::result::error);
    std::string lying("\0\0\0\x09\2\xff\xff\xff\xff\0\0\0\0", 13);
    EXPECT_EQ(decode_one(lying, error), decoder::result::error);
    auto trailing = frame + "z";
    trailing[3] = static_cast<char>(trailing[3] + 1);
    EXPECT_EQ(decode_one(trailing, error), decoder::result::error);
    EXPECT_NE(error.find("malformed"), std::string::npos) << error;
}

TEST(ControlProtocol, DecoderRecoversAfterAnError) {
    decoder d;
    d.feed(std::string("\0\0\0\0junk", 8));
    control::message m;
    std::string error;
    EXPECT_EQ(d.next(m, error), decoder::result::error);
    EXPECT_EQ(d.buffered(), 0u);
    auto got = decode_all(d, control::encode(control::kind::stop));
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].kind, control::kind::stop);
}

TEST(ControlProtocol, EncodeDispatchesOnKind) {
    control::message m;
    m.kind = control::kind::heartbeat;
    m.site_requests = {{"x", 1}};
    EXPECT_EQ(*control::encode(m), *control::encode_heartbeat({{"x", 1}}, {}));
    m.kind = control::kind::status;
    m.status = "{}";
    EXPECT_EQ(*control::encode(m), *control::encode_status("{}"));
    m.kind = control::kind::reopen;
    EXPECT_EQ(*control::encode(m), control::encode(control::kind::reopen));
}

} // namespace
