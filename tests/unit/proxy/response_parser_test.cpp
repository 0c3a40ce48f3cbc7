// Unit tests for the upstream response parser: status and fields in order, framing (length,
// chunked, until close), the body through a bounded sink with backpressure, interim and HEAD
// responses, and what it refuses (bad status lines, oversized heads, bad chunks).
#include "proxy/response_parser.hpp"

#include <boost/beast/http/error.hpp>
#include <gtest/gtest.h>

namespace bws::proxy {
namespace {

namespace bhttp = boost::beast::http;

// Feeds `text` in pieces of `step` bytes, emptying the sink into `body` whenever it fills.
boost::system::error_code feed(response_parser& p, std::string_view text, std::string& body,
                               std::size_t capacity = 1 << 20, std::size_t step = 1 << 20) {
    std::string sink;
    p.set_sink(&sink, capacity);
    std::string pending;
    std::size_t pos = 0;
    while (true) {
        if (pending.empty() && pos < text.size()) {
            pending = std::string(text.substr(pos, step));
            pos += pending.size();
        }
        if (pending.empty())
            return {};
        boost::system::error_code ec;
        const auto used = p.put(boost::asio::buffer(pending), ec);
        pending.erase(0, used);
        body += sink;
        sink.clear();
        if (ec == bhttp::error::need_buffer)
            continue;
        if (ec == bhttp::error::need_more) {
            if (pos >= text.size())
                return ec;
            // Beast wants the rest of a token: give it the next piece joined to this one.
            pending += std::string(text.substr(pos, step));
            pos = std::min(text.size(), pos + step);
            continue;
        }
        if (ec)
            return ec;
        if (p.is_done())
            return {};
    }
}

TEST(ResponseParser, StatusFieldsAndLength) {
    response_parser p(false);
    std::string body;
    auto ec = feed(p,
                   "HTTP/1.1 201 Created\r\nSet-Cookie: a=1\r\nContent-Length: 5\r\n"
                   "set-cookie: b=2\r\n\r\nhello",
                   body);
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_TRUE(p.is_done());
    EXPECT_EQ(p.status(), 201u);
    ASSERT_EQ(p.fields().size(), 3u);
    EXPECT_EQ(p.fields()[0], (std::pair<std::string, std::string>{"Set-Cookie", "a=1"}));
    EXPECT_EQ(p.fields()[2], (std::pair<std::string, std::string>{"set-cookie", "b=2"}));
    EXPECT_EQ(p.length().value(), 5u);
    EXPECT_EQ(body, "hello");
    EXPECT_TRUE(p.keep_alive());
}

TEST(ResponseParser, ChunkedBodyIsDecoded) {
    for (std::size_t step : {1u, 3u, 1000u}) {
        response_parser p(false);
        std::string body;
        auto ec = feed(p,
                       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                       "5\r\nhello\r\n1;ext=1\r\n \r\n5\r\nworld\r\n0\r\nX-T: 1\r\n\r\n",
                       body, 1 << 20, step);
        EXPECT_FALSE(ec) << ec.message();
        EXPECT_TRUE(p.is_done());
        EXPECT_FALSE(p.length());
        EXPECT_EQ(body, "hello world") << step;
    }
}

TEST(ResponseParser, TheSinkBoundsWhatIsTakenAtOnce) {
    response_parser p(false);
    std::string sink;
    p.set_sink(&sink, 4);
    const std::string text = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789";
    boost::system::error_code ec;
    auto used = p.put(boost::asio::buffer(text), ec);
    ASSERT_TRUE(p.is_header_done());
    std::string rest = text.substr(used);
    used = p.put(boost::asio::buffer(rest), ec);
    EXPECT_EQ(ec, bhttp::error::need_buffer);
    EXPECT_EQ(sink, "0123");
    EXPECT_EQ(used, 4u);
}

TEST(ResponseParser, BodyUntilClose) {
    response_parser p(false);
    std::string body;
    auto ec = feed(p, "HTTP/1.1 200 OK\r\n\r\nsome bytes", body);
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_FALSE(p.is_done());
    EXPECT_TRUE(p.need_eof());
    p.put_eof(ec);
    EXPECT_FALSE(ec);
    EXPECT_TRUE(p.is_done());
    EXPECT_EQ(body, "some bytes");
    EXPECT_FALSE(p.keep_alive());
}

TEST(ResponseParser, HeadAndBodilessStatusesEndAtTheHead) {
    response_parser head(true);
    std::string body;
    EXPECT_FALSE(feed(head, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", body));
    EXPECT_TRUE(head.is_done());
    EXPECT_EQ(head.length().value(), 1000u);
    for (const char* status : {"204 No Content", "304 Not Modified", "100 Continue"}) {
        response_parser p(false);
        EXPECT_FALSE(feed(p, std::string("HTTP/1.1 ") + status + "\r\n\r\n", body)) << status;
        EXPECT_TRUE(p.is_done()) << status;
    }
}

TEST(ResponseParser, MalformedResponsesAreErrors) {
    for (const char* text :
         {"HTTP/1.1 abc\r\n\r\n", "HTTP/2.0 200 OK\r\n\r\n", "HTTP/1.1 999 X\r\n\r\n",
          "garbage\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
          "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"}) {
        response_parser p(false);
        std::string body;
        auto ec = feed(p, text, body);
        EXPECT_TRUE(ec && ec != bhttp::error::need_more) << text << ": " << ec.message();
    }
}

TEST(ResponseParser, AnOversizedHeadIsRefused) {
    response_parser p(false);
    std::string text = "HTTP/1.1 200 OK\r\n";
    while (text.size() < response_parser::max_head_bytes + 100)
        text += "X-Filler: " + std::string(100, 'x') + "\r\n";
    text += "\r\n";
    std::string body;
    EXPECT_EQ(feed(p, text, body), bhttp::error::header_limit);
}

TEST(ResponseParser, TooManyFieldsAreRefused) {
    response_parser p(false);
    std::string text = "HTTP/1.1 200 OK\r\n";
    for (std::size_t i = 0; i <= response_parser::max_fields; ++i)
        text += "X: 1\r\n";
    text += "\r\n";
    std::string body;
    EXPECT_EQ(feed(p, text, body), bhttp::error::header_limit);
}

} // namespace
} // namespace bws::proxy
