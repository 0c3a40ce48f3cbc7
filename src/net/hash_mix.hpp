// splitmix64's finaliser: spreads neighbouring keys (addresses, names) evenly over a table.
// Shared by the lock-free tables (conn_limit, rate_limit) and the proxy's consistent hash.
#pragma once

#include <cstdint>

namespace bws::net {

constexpr std::uint64_t hash_mix(std::uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

} // namespace bws::net
