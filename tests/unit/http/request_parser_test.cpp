// request_parser::put: max_header_bytes holds over the whole head however it is split into
// reads (a fuzz finding: Beast alone checks each read's unconsumed bytes only).
#include "http/request_parser.hpp"

#include <boost/beast/http/error.hpp>
#include <gtest/gtest.h>

#include <string>

namespace {

struct outcome {
    bool complete = false;
    unsigned status = 0; // 0: no error
};

// Feeds `raw` the way the session does: `chunk` new bytes per read, unconsumed bytes kept and
// presented again with the next read.
outcome feed(const std::string& raw, std::size_t chunk, const bws::config::limits& limits) {
    bws::http::request_parser parser(limits);
    std::string buffered;
    std::size_t offset = 0;
    while (offset < raw.size() || !buffered.empty()) {
        const auto take = std::min(chunk, raw.size() - offset);
        buffered.append(raw, offset, take);
        offset += take;
        boost::beast::error_code ec;
        const auto used =
            parser.put(boost::asio::const_buffer(buffered.data(), buffered.size()), ec);
        buffered.erase(0, used);
        if (ec == boost::beast::http::error::need_more) {
            if (take == 0)
                break; // nothing more will come
            continue;
        }
        if (ec)
            return {false, parser.status_for(ec, buffered)};
        if (parser.is_header_done())
            return {true, parser.reject_status()};
    }
    return {false, 0};
}

// Beast consumes the request line as soon as it is whole, so a long target is what a split
// head used to get past the limit with.
std::string head_with_fields(std::size_t count, std::size_t value_bytes,
                             std::size_t target_bytes = 1) {
    std::string raw = "GET /" + std::string(target_bytes - 1, 't') + " HTTP/1.1\r\nHost: x\r\n";
    for (std::size_t i = 0; i < count; ++i)
        raw += "X-F" + std::to_string(i) + ": " + std::string(value_bytes, 'v') + "\r\n";
    return raw + "\r\n";
}

TEST(HttpRequestParser, HeaderLimitHoldsWhenTheHeadArrivesInPieces) {
    bws::config::limits limits;
    limits.max_header_bytes = 4096;
    const auto big = head_with_fields(20, 400); // about 8 KiB: twice the limit
    ASSERT_GT(big.size(), limits.max_header_bytes);
    for (std::size_t chunk : {big.size(), std::size_t{1024}, std::size_t{700}, std::size_t{1}}) {
        auto r = feed(big, chunk, limits);
        EXPECT_FALSE(r.complete) << "chunk " << chunk;
        EXPECT_EQ(r.status, 431u) << "chunk " << chunk;
    }
    // A 3000-byte request line and 3000 bytes of fields: 6 KiB of head, each part under 4 KiB.
    const auto long_line = head_with_fields(6, 480, 3000);
    ASSERT_GT(long_line.size(), limits.max_header_bytes);
    for (std::size_t chunk : {long_line.size(), std::size_t{3100}, std::size_t{1024}}) {
        auto r = feed(long_line, chunk, limits);
        EXPECT_FALSE(r.complete) << "long line, chunk " << chunk;
        EXPECT_EQ(r.status, 431u) << "long line, chunk " << chunk;
    }
}

TEST(HttpRequestParser, HeadWithinTheLimitPassesInAnyPieces) {
    bws::config::limits limits;
    limits.max_header_bytes = 4096;
    const auto fits = head_with_fields(8, 400); // about 3.4 KiB
    ASSERT_LT(fits.size(), limits.max_header_bytes);
    for (std::size_t chunk : {fits.size(), std::size_t{1024}, std::size_t{700}, std::size_t{1}}) {
        auto r = feed(fits, chunk, limits);
        EXPECT_TRUE(r.complete) << "chunk " << chunk;
        EXPECT_EQ(r.status, 0u) << "chunk " << chunk;
    }
}

} // namespace
