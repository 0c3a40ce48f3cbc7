// Unit tests for the request head sent upstream: hop-by-hop and Connection-listed headers
// dropped, the forwarding headers ours (never the client's), Host preserved or not, the
// operator's add/remove, the framing; and the response-side hop-by-hop rule.
#include "proxy/forward_headers.hpp"

#include <gtest/gtest.h>

namespace bws::proxy {
namespace {

config::upstream_server server() {
    config::upstream_server s;
    s.host = "10.0.0.5";
    s.port = 9000;
    s.authority = "10.0.0.5:9000";
    return s;
}

std::string build(const header_list& fields, const config::proxy_headers& h = {},
                  std::string_view client_ip = "203.0.113.7", bool https = false) {
    forward_request r;
    r.method = "GET";
    r.target = "/x?y=1";
    r.fields = &fields;
    r.host = "www.example.com";
    r.client_ip = client_ip;
    r.https = https;
    std::string out;
    build_request_head(out, r, server(), h);
    return out;
}

TEST(ForwardHeaders, RequestLineHostAndForwardingHeaders) {
    const auto head = build({{"Host", "www.example.com"}, {"Accept", "*/*"}});
    EXPECT_EQ(head, "GET /x?y=1 HTTP/1.1\r\n"
                    "Host: www.example.com\r\n"
                    "Accept: */*\r\n"
                    "X-Forwarded-For: 203.0.113.7\r\n"
                    "X-Forwarded-Proto: http\r\n"
                    "X-Forwarded-Host: www.example.com\r\n"
                    "X-Real-IP: 203.0.113.7\r\n"
                    "\r\n");
}

TEST(ForwardHeaders, InboundForwardingHeadersAreReplaced) {
    const auto head = build({{"X-Forwarded-For", "6.6.6.6"},
                             {"x-real-ip", "6.6.6.6"},
                             {"Forwarded", "for=6.6.6.6"},
                             {"X-Forwarded-Proto", "https"},
                             {"X-Forwarded-Host", "evil"}});
    EXPECT_EQ(head.find("6.6.6.6"), std::string::npos) << head;
    EXPECT_EQ(head.find("evil"), std::string::npos) << head;
    EXPECT_EQ(head.find("https"), std::string::npos) << head;
    // Also with forwarding headers off: the client's are dropped, none are added.
    config::proxy_headers off;
    off.add_x_forwarded = false;
    const auto bare = build({{"X-Forwarded-For", "6.6.6.6"}}, off);
    EXPECT_EQ(bare, "GET /x?y=1 HTTP/1.1\r\nHost: www.example.com\r\n\r\n");
}

TEST(ForwardHeaders, ATrustedProxysForwardingHeadersAreExtended) {
    const header_list fields{{"X-Forwarded-For", "198.51.100.1, 192.0.2.9"},
                             {"X-Forwarded-Proto", "https"},
                             {"X-Forwarded-Host", "shop.example"},
                             {"Forwarded", "for=192.0.2.9;proto=https"}};
    forward_request r;
    r.method = "GET";
    r.target = "/";
    r.fields = &fields;
    r.host = "internal";
    r.client_ip = "10.0.0.2";
    r.trusted_peer = true;
    config::proxy_headers h;
    h.add_forwarded = true;
    std::string out;
    build_request_head(out, r, server(), h);
    EXPECT_NE(out.find("X-Forwarded-For: 198.51.100.1, 192.0.2.9, 10.0.0.2\r\n"), std::string::npos)
        << out;
    EXPECT_NE(out.find("X-Forwarded-Proto: https\r\n"), std::string::npos) << out;
    EXPECT_NE(out.find("X-Forwarded-Host: shop.example\r\n"), std::string::npos) << out;
    EXPECT_NE(out.find("X-Real-IP: 192.0.2.9\r\n"), std::string::npos) << out;
    EXPECT_NE(out.find("Forwarded: for=192.0.2.9;proto=https, for=10.0.0.2;proto=http;host="
                       "internal\r\n"),
              std::string::npos)
        << out;
    // The same headers from a peer that is not trusted are replaced.
    r.trusted_peer = false;
    build_request_head(out, r, server(), h);
    EXPECT_EQ(out.find("198.51.100.1"), std::string::npos) << out;
    EXPECT_NE(out.find("X-Real-IP: 10.0.0.2\r\n"), std::string::npos) << out;
}

TEST(ForwardHeaders, IsTrusted) {
    const net::address_set trusted(
        {*net::address_block::parse("10.0.0.0/8"), *net::address_block::parse("2001:db8::/32")});
    EXPECT_TRUE(is_trusted("10.1.2.3", trusted));
    EXPECT_FALSE(is_trusted("192.0.2.1", trusted));
    EXPECT_FALSE(is_trusted("-", trusted));
    EXPECT_TRUE(is_trusted("2001:db8::7", trusted));
    EXPECT_TRUE(is_trusted("::ffff:10.0.0.1", trusted));
    EXPECT_FALSE(is_trusted("10.1.2.3", {}));
}

TEST(ForwardHeaders, HopByHopAndConnectionListedHeadersAreDropped) {
    const auto head = build({{"Connection", "keep-alive, X-Secret"},
                             {"X-Secret", "s"},
                             {"Keep-Alive", "timeout=5"},
                             {"Proxy-Connection", "keep-alive"},
                             {"TE", "trailers"},
                             {"Trailer", "X"},
                             {"Transfer-Encoding", "chunked"},
                             {"Upgrade", "h2c"},
                             {"Content-Length", "5"},
                             {"Expect", "100-continue"},
                             {"X-Kept", "1"}});
    for (const char* gone : {"Connection", "X-Secret", "Keep-Alive", "Proxy-Connection", "TE:",
                             "Trailer", "Transfer-Encoding", "Upgrade", "Content-Length", "Expect"})
        EXPECT_EQ(head.find(gone), std::string::npos) << gone << "\n" << head;
    EXPECT_NE(head.find("X-Kept: 1\r\n"), std::string::npos);
}

TEST(ForwardHeaders, HostIsTheUpstreamsWhenNotPreserved) {
    config::proxy_headers h;
    h.preserve_host = false;
    EXPECT_EQ(build({}, h).find("Host: 10.0.0.5:9000\r\n"),
              std::string("GET /x?y=1 HTTP/1.1\r\n").size());
}

TEST(ForwardHeaders, ForwardedHeaderOfRfc7239) {
    config::proxy_headers h;
    h.add_forwarded = true;
    EXPECT_NE(build({}, h).find("Forwarded: for=203.0.113.7;proto=http;host=www.example.com\r\n"),
              std::string::npos);
    EXPECT_NE(build({}, h, "2001:db8::1", true)
                  .find("Forwarded: for=\"[2001:db8::1]\";proto=https;host=www.example.com\r\n"),
              std::string::npos);
}

TEST(ForwardHeaders, AddReplacesAndRemoveDrops) {
    config::proxy_headers h;
    h.add = {{"X-Env", "prod"}};
    h.remove = {"x-debug"};
    const auto head = build({{"x-env", "client"}, {"X-Debug", "1"}, {"X-Other", "2"}}, h);
    EXPECT_EQ(head.find("client"), std::string::npos) << head;
    EXPECT_EQ(head.find("X-Debug"), std::string::npos) << head;
    EXPECT_NE(head.find("X-Env: prod\r\n"), std::string::npos) << head;
    EXPECT_NE(head.find("X-Other: 2\r\n"), std::string::npos) << head;
}

TEST(ForwardHeaders, BodyFraming) {
    forward_request r;
    r.method = "POST";
    r.target = "/";
    r.host = "h";
    r.client_ip = "127.0.0.1";
    r.content_length = 42;
    std::string out;
    build_request_head(out, r, server(), {});
    EXPECT_NE(out.find("Content-Length: 42\r\n\r\n"), std::string::npos) << out;
    r.content_length.reset();
    r.chunked = true;
    build_request_head(out, r, server(), {});
    EXPECT_NE(out.find("Transfer-Encoding: chunked\r\n\r\n"), std::string::npos) << out;
}

TEST(ForwardHeaders, AnAllowedUpgradeIsSentWithConnectionUpgrade) {
    const header_list fields{
        {"Connection", "Upgrade"}, {"Upgrade", "websocket"}, {"Sec-WebSocket-Key", "k"}};
    forward_request r;
    r.method = "GET";
    r.target = "/ws";
    r.fields = &fields;
    r.host = "h";
    r.client_ip = "127.0.0.1";
    r.upgrade = "websocket";
    std::string out;
    build_request_head(out, r, server(), {});
    EXPECT_NE(out.find("Sec-WebSocket-Key: k\r\n"), std::string::npos) << out;
    EXPECT_NE(out.find("Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n"), std::string::npos)
        << out;
    EXPECT_EQ(out.find("Connection: Upgrade"), out.rfind("Connection: Upgrade")) << out;
    // Without the route's permission, the client's Upgrade is hop-by-hop like any other.
    r.upgrade = {};
    build_request_head(out, r, server(), {});
    EXPECT_EQ(out.find("pgrade"), std::string::npos) << out;
}

TEST(ForwardHeaders, RepeatedFieldsStayInOrder) {
    const auto head = build({{"Cookie", "a=1"}, {"Cookie", "b=2"}});
    EXPECT_NE(head.find("Cookie: a=1\r\nCookie: b=2\r\n"), std::string::npos) << head;
}

TEST(ForwardHeaders, ResponseHopByHop) {
    const header_list fields{{"Connection", "close, X-Hop"}, {"connection", "Y-Hop"}};
    const auto tokens = connection_tokens(fields);
    EXPECT_TRUE(is_hop_by_hop("x-hop", tokens));
    EXPECT_TRUE(is_hop_by_hop("Y-HOP", tokens));
    EXPECT_TRUE(is_hop_by_hop("Keep-Alive", tokens));
    EXPECT_TRUE(is_hop_by_hop("Transfer-Encoding", tokens));
    EXPECT_FALSE(is_hop_by_hop("Set-Cookie", tokens));
}

} // namespace
} // namespace bws::proxy
