// Sorted, merged address ranges (address_set.hpp).
#include "net/address_set.hpp"

#include <algorithm>
#include <cstring>

namespace bws::net {

namespace {

// The first and last address of a block, over `width` bytes (4 or 16).
void block_range(const address_block& b, std::size_t width, std::array<std::uint8_t, 16>& first,
                 std::array<std::uint8_t, 16>& last) {
    first = {};
    last = {};
    const auto& net = b.network.bytes();
    for (std::size_t i = 0; i < width; ++i) {
        const unsigned bit = static_cast<unsigned>(i) * 8;
        std::uint8_t mask = 0;
        if (b.prefix >= bit + 8)
            mask = 0xff;
        else if (b.prefix > bit)
            mask = static_cast<std::uint8_t>(0xff << (8 - (b.prefix - bit)));
        first[i] = static_cast<std::uint8_t>(net[i] & mask);
        last[i] = static_cast<std::uint8_t>(first[i] | static_cast<std::uint8_t>(~mask));
    }
}

// Whether `b` directly follows `a` (a + 1 == b) over the whole 16 bytes.
bool adjacent(std::array<std::uint8_t, 16> a, const std::array<std::uint8_t, 16>& b,
              std::size_t width) {
    for (std::size_t i = width; i-- > 0;) {
        if (++a[i] != 0)
            break;
        if (i == 0)
            return false; // wrapped: a was the last address
    }
    return a == b;
}

} // namespace

address_set::address_set(const std::vector<address_block>& blocks) : blocks_(blocks) {
    for (const auto& b : blocks) {
        range r;
        const bool v6 = b.network.is_v6();
        block_range(b, v6 ? 16 : 4, r.first, r.last);
        (v6 ? v6_ : v4_).push_back(r);
    }
    for (auto* list : {&v4_, &v6_}) {
        const std::size_t width = list == &v4_ ? 4 : 16;
        std::sort(list->begin(), list->end(),
                  [](const range& a, const range& b) { return a.first < b.first; });
        std::vector<range> merged;
        for (const auto& r : *list) {
            if (!merged.empty() &&
                (r.first <= merged.back().last || adjacent(merged.back().last, r.first, width))) {
                merged.back().last = std::max(merged.back().last, r.last);
                continue;
            }
            merged.push_back(r);
        }
        *list = std::move(merged);
    }
}

bool address_set::lookup(const std::vector<range>& ranges, const bytes& key) {
    // The last range starting at or before the key is the only one that can hold it.
    auto it = std::upper_bound(ranges.begin(), ranges.end(), key,
                               [](const bytes& k, const range& r) { return k < r.first; });
    if (it == ranges.begin())
        return false;
    --it;
    return key <= it->last;
}

bool address_set::contains(const ip_address& a) const {
    const auto& raw = a.bytes();
    if (!a.is_v6())
        return lookup(v4_, raw);
    static constexpr std::uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(raw.data(), mapped, sizeof mapped) == 0) {
        bytes v4{};
        std::memcpy(v4.data(), raw.data() + 12, 4);
        if (lookup(v4_, v4))
            return true;
    }
    return lookup(v6_, raw);
}

bool has_host_bits(const address_block& b) {
    std::array<std::uint8_t, 16> first{}, last{};
    block_range(b, b.network.is_v6() ? 16 : 4, first, last);
    return first != b.network.bytes();
}

} // namespace bws::net
