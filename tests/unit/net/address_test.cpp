// Unit tests for net::ip_address and config::listen_address: parsing, canonical text, order,
// socket address round trips.
#include "config/model.hpp"
#include "net/address.hpp"

#include <gtest/gtest.h>

#include <netinet/in.h>

namespace bws::net {
namespace {

TEST(NetAddress, ParsesIpv4AndIpv6Literals) {
    auto v4 = ip_address::parse("127.0.0.1");
    ASSERT_TRUE(v4);
    EXPECT_FALSE(v4->is_v6());
    EXPECT_EQ(v4->to_string(), "127.0.0.1");
    auto v6 = ip_address::parse("0:0::1");
    ASSERT_TRUE(v6);
    EXPECT_TRUE(v6->is_v6());
    EXPECT_EQ(v6->to_string(), "::1");
    EXPECT_EQ(ip_address::parse("[::1]"), v6);
    EXPECT_EQ(ip_address().to_string(), "0.0.0.0");
    EXPECT_EQ(ip_address::parse("::ffff:10.0.0.1")->to_string(), "::ffff:10.0.0.1");
}

TEST(NetAddress, RejectsWhatIsNotALiteral) {
    for (const char* bad : {"", "localhost", "1.2.3", "256.0.0.1", "[127.0.0.1", "::1]", "[[::1]]",
                            "1.2.3.4:80", "fe80::1%eth0", " 1.2.3.4"})
        EXPECT_FALSE(ip_address::parse(bad)) << bad;
    EXPECT_FALSE(ip_address::parse(std::string_view("1.2.3.4\0", 8)));
}

TEST(NetAddress, OrdersIpv4BeforeIpv6ThenByValue) {
    auto a = *ip_address::parse("0.0.0.0");
    auto b = *ip_address::parse("127.0.0.1");
    auto c = *ip_address::parse("::");
    EXPECT_LT(a, b);
    EXPECT_LT(b, c);
    EXPECT_EQ(*ip_address::parse("::0"), c);
}

TEST(NetAddress, SockaddrRoundTrip) {
    for (const char* text : {"10.1.2.3", "2001:db8::7"}) {
        auto a = *ip_address::parse(text);
        sockaddr_storage ss{};
        const socklen_t length = a.to_sockaddr(8080, ss);
        EXPECT_EQ(length, a.is_v6() ? sizeof(sockaddr_in6) : sizeof(sockaddr_in)) << text;
        auto back = ip_address::from_sockaddr(ss);
        ASSERT_TRUE(back) << text;
        EXPECT_EQ(back->first, a) << text;
        EXPECT_EQ(back->second, 8080) << text;
    }
    sockaddr_storage unix_socket{};
    unix_socket.ss_family = AF_UNIX;
    EXPECT_FALSE(ip_address::from_sockaddr(unix_socket));
}

TEST(NetAddress, ListenAddressText) {
    EXPECT_EQ((config::listen_address{*ip_address::parse("127.0.0.1"), 8080}).to_string(),
              "127.0.0.1:8080");
    EXPECT_EQ((config::listen_address{*ip_address::parse("::1"), 8080}).to_string(), "[::1]:8080");
}

} // namespace
TEST(NetAddressBlock, ParsesAddressesAndCidrBlocks) {
    using bws::net::address_block;
    EXPECT_EQ(address_block::parse("10.0.0.0/8")->prefix, 8u);
    EXPECT_EQ(address_block::parse("192.0.2.7")->prefix, 32u);
    EXPECT_EQ(address_block::parse("2001:db8::/32")->prefix, 32u);
    EXPECT_EQ(address_block::parse("::1")->prefix, 128u);
    for (const char* bad : {"10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/x", "host/8", "",
                            "10.0.0.0/8/8", "10.0.0.0/0008"})
        EXPECT_FALSE(address_block::parse(bad)) << bad;
}

TEST(NetAddressBlock, Contains) {
    using bws::net::address_block;
    using bws::net::ip_address;
    auto in = [](const char* block, const char* a) {
        return address_block::parse(block)->contains(*ip_address::parse(a));
    };
    EXPECT_TRUE(in("10.0.0.0/8", "10.200.3.4"));
    EXPECT_FALSE(in("10.0.0.0/8", "11.0.0.1"));
    EXPECT_TRUE(in("192.168.1.128/25", "192.168.1.200"));
    EXPECT_FALSE(in("192.168.1.128/25", "192.168.1.100"));
    EXPECT_TRUE(in("0.0.0.0/0", "203.0.113.9"));
    EXPECT_TRUE(in("127.0.0.2", "127.0.0.2"));
    EXPECT_FALSE(in("127.0.0.2", "127.0.0.3"));
    EXPECT_TRUE(in("2001:db8::/32", "2001:db8:ffff::1"));
    EXPECT_FALSE(in("2001:db8::/32", "2001:db9::1"));
    EXPECT_TRUE(in("10.0.0.0/8", "::ffff:10.1.2.3")); // an IPv4 client on a dual-stack socket
    EXPECT_FALSE(in("10.0.0.0/8", "::1"));
    EXPECT_FALSE(in("::/0", "10.0.0.1"));
}

} // namespace bws::net
