// address_set: merged ranges, IPv4/IPv6, mapped addresses, host bits.
#include "net/address_set.hpp"

#include <gtest/gtest.h>

namespace bws::net {
namespace {

address_set set_of(std::initializer_list<const char*> texts) {
    std::vector<address_block> blocks;
    for (const char* t : texts)
        blocks.push_back(address_block::parse(t).value());
    return address_set(blocks);
}

bool has(const address_set& s, const char* ip) {
    return s.contains(ip_address::parse(ip).value());
}

TEST(AddressSet, EmptyHoldsNothing) {
    const address_set s;
    EXPECT_TRUE(s.empty());
    EXPECT_FALSE(has(s, "127.0.0.1"));
    EXPECT_FALSE(has(s, "::1"));
}

TEST(AddressSet, SingleAddressesAndBlocks) {
    const auto s = set_of({"10.0.0.0/8", "192.168.1.7", "2001:db8::/32", "::1"});
    EXPECT_TRUE(has(s, "10.0.0.0"));
    EXPECT_TRUE(has(s, "10.255.255.255"));
    EXPECT_FALSE(has(s, "11.0.0.0"));
    EXPECT_FALSE(has(s, "9.255.255.255"));
    EXPECT_TRUE(has(s, "192.168.1.7"));
    EXPECT_FALSE(has(s, "192.168.1.8"));
    EXPECT_FALSE(has(s, "192.168.1.6"));
    EXPECT_TRUE(has(s, "2001:db8:ffff::1"));
    EXPECT_FALSE(has(s, "2001:db9::"));
    EXPECT_TRUE(has(s, "::1"));
    EXPECT_FALSE(has(s, "::2"));
    // The families never mix: 10.0.0.1 is not ::a00:1.
    EXPECT_FALSE(has(s, "::a00:1"));
}

TEST(AddressSet, MappedIpv4MatchesIpv4Blocks) {
    const auto s = set_of({"127.0.0.0/8"});
    EXPECT_TRUE(has(s, "::ffff:127.0.0.2"));
    EXPECT_FALSE(has(s, "::ffff:128.0.0.1"));
}

TEST(AddressSet, OverlappingAndAdjacentBlocksMerge) {
    const auto s =
        set_of({"10.0.0.0/24", "10.0.0.128/25", "10.0.1.0/24", "10.0.3.0/24", "0.0.0.0/32"});
    EXPECT_TRUE(has(s, "10.0.0.200"));
    EXPECT_TRUE(has(s, "10.0.1.255"));
    EXPECT_FALSE(has(s, "10.0.2.0"));
    EXPECT_TRUE(has(s, "10.0.3.9"));
    EXPECT_TRUE(has(s, "0.0.0.0"));
    EXPECT_FALSE(has(s, "0.0.0.1"));
    const auto all = set_of({"0.0.0.0/0", "::/0"});
    EXPECT_TRUE(has(all, "255.255.255.255"));
    EXPECT_TRUE(has(all, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
}

TEST(AddressSet, HostBitsAreMaskedAndReported) {
    const auto b = address_block::parse("10.0.0.1/8").value();
    EXPECT_TRUE(has_host_bits(b));
    EXPECT_FALSE(has_host_bits(address_block::parse("10.0.0.0/8").value()));
    EXPECT_FALSE(has_host_bits(address_block::parse("10.0.0.1").value()));
    EXPECT_TRUE(has_host_bits(address_block::parse("2001:db8::1/64").value()));
    const auto s = set_of({"10.0.0.1/8"});
    EXPECT_TRUE(has(s, "10.200.0.0"));
}

} // namespace
} // namespace bws::net
