// A set of address blocks (IP allow/deny lists, trusted proxies) precomputed for lookups: each
// block becomes an address range, ranges are sorted and merged, and a lookup is one binary
// search (O(log n)) whatever the number of blocks.
#pragma once

#include "net/address.hpp"

#include <array>
#include <cstdint>
#include <vector>

namespace bws::net {

class address_set {
public:
    address_set() = default;
    explicit address_set(const std::vector<address_block>& blocks);

    // Whether `a` lies in one of the blocks; an IPv4-mapped IPv6 address (::ffff:a.b.c.d)
    // counts as its IPv4 address, as for address_block::contains.
    bool contains(const ip_address& a) const;
    bool empty() const { return v4_.empty() && v6_.empty(); }

    // The blocks as given (for messages and the status output).
    const std::vector<address_block>& blocks() const { return blocks_; }

private:
    using bytes = std::array<std::uint8_t, 16>;
    struct range {
        bytes first{}; // inclusive, network order (IPv4: the first 4 bytes, the rest zero)
        bytes last{};
    };
    static bool lookup(const std::vector<range>& ranges, const bytes& key);

    std::vector<address_block> blocks_;
    std::vector<range> v4_; // sorted, disjoint, not adjacent
    std::vector<range> v6_;
};

// Whether a block has bits set below its prefix ("10.0.0.1/8"): such an entry means its
// network ("10.0.0.0/8"), which is rarely what was meant.
bool has_host_bits(const address_block& b);

} // namespace bws::net
