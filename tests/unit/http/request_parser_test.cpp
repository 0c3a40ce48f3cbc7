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

// obs-fold (a field continued on a line that starts with a space or tab) and whitespace before
// the first field are refused with 400 however the head is split: a proxy must not pass them
// on, and Beast would otherwise accept the fold.
TEST(RequestParser, FoldedLinesAre400) {
    bws::config::limits limits;
    for (std::size_t chunk : {1u, 7u, 4096u}) {
        EXPECT_EQ(feed("GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n", chunk, limits).status,
                  400u)
            << chunk;
        EXPECT_EQ(feed("GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n\tb\r\n\r\n", chunk, limits).status,
                  400u)
            << chunk;
        EXPECT_EQ(feed("GET / HTTP/1.1\r\n Host: x\r\n\r\n", chunk, limits).status, 400u) << chunk;
        const auto fine = feed("GET / HTTP/1.1\r\nHost: x\r\nX-A: a b\r\n\r\n", chunk, limits);
        EXPECT_TRUE(fine.complete) << chunk;
        EXPECT_EQ(fine.status, 0u) << chunk;
    }
}

// A body's bytes go to the sink when one is set, with need_buffer when it is full.
TEST(RequestParser, BodySinkTakesTheBody) {
    bws::config::limits limits;
    bws::http::request_parser parser(limits, true);
    const std::string raw = "POST / HTTP/1.1\r\nHost: x\r\nX-One: 1\r\nContent-Length: 10\r\n\r\n"
                            "0123456789";
    boost::beast::error_code ec;
    auto used = parser.put(boost::asio::buffer(raw), ec);
    ASSERT_TRUE(parser.is_header_done());
    ASSERT_EQ(parser.head().fields.size(), 3u);
    EXPECT_EQ(parser.head().fields[1].first, "X-One");
    std::string sink;
    parser.set_body_sink(&sink, 6);
    std::string rest = raw.substr(used);
    used = parser.put(boost::asio::buffer(rest), ec);
    EXPECT_EQ(ec, boost::beast::http::error::need_buffer);
    EXPECT_EQ(sink, "012345");
    sink.clear();
    rest.erase(0, used);
    ec = {};
    parser.put(boost::asio::buffer(rest), ec);
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_EQ(sink, "6789");
    EXPECT_TRUE(parser.is_done());
}

} // namespace

// [sites.access] reads X-Forwarded-For (no Beast field code) and Authorization; repeated
// fields are joined in order.
TEST(RequestParser, KeepsForwardedForAndAuthorization) {
    bws::config::limits limits;
    bws::http::request_parser parser(limits);
    const std::string raw = "GET / HTTP/1.1\r\nHost: x\r\nx-forwarded-for: 192.0.2.1\r\n"
                            "Authorization: Basic YTpi\r\nX-Forwarded-For: 10.0.0.1, 10.0.0.2\r\n"
                            "X-Forwarded-Fox: 1.1.1.1\r\n\r\n";
    boost::beast::error_code ec;
    parser.put(boost::asio::const_buffer(raw.data(), raw.size()), ec);
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_EQ(parser.head().x_forwarded_for, "192.0.2.1, 10.0.0.1, 10.0.0.2");
    EXPECT_EQ(parser.head().authorization, "Basic YTpi");
}
