// Host normalisation, absolute-form targets, the virtual-host table and the request-head
// parser's status choices.
#include "http/host.hpp"
#include "http/request_parser.hpp"
#include "http/vhost_table.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>

#include <gtest/gtest.h>

namespace {

using bws::http::normalize_host;

TEST(HttpHost, NormalisesCaseTrailingDotAndPort) {
    EXPECT_EQ(normalize_host("Example.COM"), "example.com");
    EXPECT_EQ(normalize_host("example.com."), "example.com");
    EXPECT_EQ(normalize_host("example.com:8080"), "example.com");
    EXPECT_EQ(normalize_host("EXAMPLE.com.:80"), "example.com");
    EXPECT_EQ(normalize_host("[::1]:8080"), "[::1]");
    EXPECT_EQ(normalize_host("[ABCD::1]"), "[abcd::1]");
    EXPECT_EQ(normalize_host("127.0.0.1:1"), "127.0.0.1");
    EXPECT_EQ(normalize_host("under_score.test"), "under_score.test");
}

TEST(HttpHost, RejectsMalformedAuthorities) {
    for (const char* bad :
         {"", ".", "..examp-LE.com", "a..b", ".a", "example.com/\\:552", "localhost\x02",
          "example.com.:1.2", "example.com:98777", "example.com:9000:80", "[abcd::ef98:0:7654:321",
          "[]", "a:", "a b", "[::1]x", "[::g]", "AA..", "example.com..:80"})
        EXPECT_FALSE(normalize_host(bad).has_value()) << '"' << bad << '"';
}

TEST(HttpHost, SplitsAbsoluteFormTargets) {
    std::string_view authority, origin;
    ASSERT_TRUE(bws::http::split_absolute_target("http://Blog.test:81/a/b?q=1", authority, origin));
    EXPECT_EQ(authority, "Blog.test:81");
    EXPECT_EQ(origin, "/a/b?q=1");
    ASSERT_TRUE(bws::http::split_absolute_target("HTTPS://h", authority, origin));
    EXPECT_EQ(authority, "h");
    EXPECT_EQ(origin, "/");
    EXPECT_FALSE(bws::http::split_absolute_target("/plain/path", authority, origin));
    EXPECT_FALSE(bws::http::split_absolute_target("ftp://h/x", authority, origin));
}

TEST(HttpVhostTable, ExactThenLongestWildcardThenDefault) {
    bws::http::vhost_table table;
    table.add_name("main.test", 0);
    table.add_name("*.example.com", 1);
    table.add_name("*.deep.example.com", 2);
    table.add_name("www.example.com", 3);
    table.set_default(4);
    EXPECT_EQ(table.lookup("main.test"), 0u);
    EXPECT_EQ(table.lookup("www.example.com"), 3u); // exact beats wildcard
    EXPECT_EQ(table.lookup("a.example.com"), 1u);
    EXPECT_EQ(table.lookup("a.b.example.com"), 1u);
    EXPECT_EQ(table.lookup("x.deep.example.com"), 2u); // longest suffix wins
    EXPECT_EQ(table.lookup("example.com"), 4u);        // a wildcard needs a label
    EXPECT_EQ(table.lookup("unknown.test"), 4u);
    EXPECT_EQ(table.lookup(""), 4u); // no Host (HTTP/1.0)
    // find() is the same lookup without the default.
    EXPECT_EQ(table.find("a.b.example.com"), 1u);
    EXPECT_EQ(table.find("www.example.com"), 3u);
    EXPECT_EQ(table.find("example.com"), std::nullopt);
    EXPECT_EQ(table.find(""), std::nullopt);
}

// Feeds `raw` to a fresh parser and returns the status it asks for (0 = acceptable).
unsigned status_of(const std::string& raw, const bws::config::limits& limits = {}) {
    bws::http::request_parser parser(limits);
    boost::beast::error_code ec;
    auto used = parser.put(boost::asio::buffer(raw), ec);
    if (!ec && !parser.is_done() && parser.is_header_done())
        parser.put(boost::asio::buffer(raw.data() + used, raw.size() - used), ec);
    if (ec && ec != boost::beast::http::error::need_more)
        return parser.status_for(ec, std::string_view(raw).substr(used));
    return parser.reject_status();
}

TEST(HttpRequestParser, FramingAndVersionStatuses) {
    EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), 0u);
    EXPECT_EQ(status_of("GET / HTTP/2.7\r\nHost: x\r\n\r\n"), 505u);
    EXPECT_EQ(status_of("GET / HTTP/2.7\r"), 505u);  // the LF in the next read (fuzz finding)
    EXPECT_EQ(status_of("GET / HTTP/\x11.("), 400u); // not a version, whatever follows
    EXPECT_EQ(status_of("GET / HTTP/0.1\xf3\r\n\r\n"), 505u); // decided on the version alone
    EXPECT_EQ(status_of("GET / HTTP/1.1x\r\n\r\n"), 400u);    // a good version, a bad line
    EXPECT_EQ(status_of("GET / / HTTP/1.1\r\nHost: x\r\n\r\n"), 400u);
    EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), 400u);
    EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n\r\n"), 501u);
    EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                        "Content-Length: 3\r\n\r\n"),
              400u);
    EXPECT_EQ(status_of("GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), 400u);
}

TEST(HttpRequestParser, LimitsMapToTheirStatuses) {
    bws::config::limits limits;
    limits.max_header_bytes = 1024;
    limits.max_uri_bytes = 100;
    limits.max_header_count = 3;
    limits.max_body_bytes = 10;
    EXPECT_EQ(status_of("GET /" + std::string(200, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n", limits),
              414u);
    EXPECT_EQ(status_of("GET /" + std::string(2000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n", limits),
              414u);
    EXPECT_EQ(
        status_of("GET / HTTP/1.1\r\nHost: x\r\nCookie: " + std::string(2000, 'c') + "\r\n\r\n",
                  limits),
        431u);
    EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", limits), 431u);
    EXPECT_EQ(
        status_of("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n" + std::string(50, 'b'),
                  limits),
        413u);
}

TEST(HttpRequestParser, KeepsTheFieldsTheServerUses) {
    const bws::config::limits limits; // the parser keeps a reference: it must outlive it
    bws::http::request_parser parser(limits);
    std::string raw = "GET /x?y HTTP/1.0\r\nHost: H\r\nConnection: Keep-Alive\r\n"
                      "If-None-Match: \"e\"\r\nRange: bytes=0-1\r\nUser-Agent: ua\r\n"
                      "Referer: r\r\n\r\n";
    boost::beast::error_code ec;
    parser.put(boost::asio::buffer(raw), ec);
    ASSERT_FALSE(ec) << ec.message();
    ASSERT_TRUE(parser.is_done());
    const auto& head = parser.head();
    EXPECT_EQ(head.target, "/x?y");
    EXPECT_EQ(head.version, 10);
    EXPECT_EQ(head.host, "H");
    EXPECT_TRUE(head.connection_keep_alive);
    EXPECT_FALSE(head.connection_close);
    EXPECT_EQ(head.if_none_match, "\"e\"");
    EXPECT_EQ(head.range, "bytes=0-1");
    EXPECT_EQ(head.user_agent, "ua");
    EXPECT_EQ(head.referer, "r");
}

} // namespace
