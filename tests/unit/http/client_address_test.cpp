// The client address behind trusted proxies: the rightmost untrusted X-Forwarded-For entry.
#include "http/client_address.hpp"

#include <gtest/gtest.h>

namespace bws::http {
namespace {

net::address_set trusted(std::initializer_list<const char*> texts) {
    std::vector<net::address_block> blocks;
    for (const char* t : texts)
        blocks.push_back(net::address_block::parse(t).value());
    return net::address_set(blocks);
}

std::string resolve(const char* peer, std::string_view xff, const net::address_set& t) {
    return resolve_client_address(net::ip_address::parse(peer).value(), xff, t).to_string();
}

TEST(ClientAddress, UntrustedPeerIsTheClient) {
    const auto t = trusted({"10.0.0.0/8"});
    EXPECT_EQ(resolve("192.0.2.1", "203.0.113.9", t), "192.0.2.1");
    EXPECT_EQ(resolve("192.0.2.1", "203.0.113.9", net::address_set()), "192.0.2.1");
}

TEST(ClientAddress, TrustedPeerGivesRightmostUntrustedEntry) {
    const auto t = trusted({"10.0.0.0/8", "::1"});
    EXPECT_EQ(resolve("10.0.0.1", "203.0.113.9", t), "203.0.113.9");
    // The client's own (forged) entries on the left are not believed.
    EXPECT_EQ(resolve("10.0.0.1", "1.1.1.1, 203.0.113.9, 10.1.1.1", t), "203.0.113.9");
    // Several header fields arrive joined in order.
    EXPECT_EQ(resolve("::1", "6.6.6.6, 198.51.100.4, 10.9.9.9", t), "198.51.100.4");
    // No header: the peer.
    EXPECT_EQ(resolve("10.0.0.1", "", t), "10.0.0.1");
    // Every entry trusted: the leftmost.
    EXPECT_EQ(resolve("10.0.0.1", "10.0.0.3, 10.0.0.2", t), "10.0.0.3");
    // Empty list elements are skipped.
    EXPECT_EQ(resolve("10.0.0.1", "203.0.113.9, ,", t), "203.0.113.9");
}

TEST(ClientAddress, PortsAndBrackets) {
    const auto t = trusted({"127.0.0.1"});
    EXPECT_EQ(resolve("127.0.0.1", "203.0.113.9:4711", t), "203.0.113.9");
    EXPECT_EQ(resolve("127.0.0.1", "[2001:db8::1]:443", t), "2001:db8::1");
    EXPECT_EQ(resolve("127.0.0.1", "[2001:db8::2]", t), "2001:db8::2");
    EXPECT_EQ(resolve("127.0.0.1", "2001:db8::3", t), "2001:db8::3");
    EXPECT_EQ(resolve("127.0.0.1", "\t203.0.113.1 ", t), "203.0.113.1");
}

TEST(ClientAddress, MalformedEntryStopsAtTheLastTrustedHop) {
    const auto t = trusted({"10.0.0.0/8"});
    EXPECT_EQ(resolve("10.0.0.1", "unknown", t), "10.0.0.1");
    EXPECT_EQ(resolve("10.0.0.1", "203.0.113.9, garbage, 10.0.0.7", t), "10.0.0.7");
    EXPECT_EQ(resolve("10.0.0.1", "1.2.3.4:x", t), "10.0.0.1");
    EXPECT_EQ(resolve("10.0.0.1", "[::1", t), "10.0.0.1");
    EXPECT_EQ(resolve("10.0.0.1", "[1.2.3.4]", t), "10.0.0.1");
    EXPECT_EQ(resolve("10.0.0.1", "[::1]x", t), "10.0.0.1");
    EXPECT_EQ(resolve("10.0.0.1", "example.com", t), "10.0.0.1");
    EXPECT_EQ(resolve("10.0.0.1", "1.2.3.4:123456", t), "10.0.0.1");
}

TEST(ClientAddress, MappedPeerMatchesIpv4TrustedList) {
    const auto t = trusted({"127.0.0.0/8"});
    EXPECT_EQ(resolve("::ffff:127.0.0.1", "203.0.113.5", t), "203.0.113.5");
}

} // namespace
} // namespace bws::http
