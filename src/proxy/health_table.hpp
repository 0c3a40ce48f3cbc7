// What the master learns about upstream servers, shared with every worker: the result of its
// active health checks and the addresses its periodic lookups found. A fixed table in memory
// the master maps MAP_SHARED before its first fork (like net::conn_limit_table); one slot per
// (site, pool, url), written only by the master, read by workers with std::atomic_ref and no
// locks. Health is one 64-bit word (so a reader never mixes two checks); the address list is
// guarded by a sequence counter (a seqlock: odd while the master writes it).
#pragma once

#include "net/address.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace bws::proxy {

enum class health_state : std::uint8_t {
    unknown = 0, // no check result yet: treated as healthy
    healthy = 1,
    unhealthy = 2, // skipped by every worker's balancer
};

enum class check_result : std::uint8_t {
    none = 0, // not checked yet
    ok,
    refused,      // no address accepted the connection
    timeout,      // no complete status line within the timeout
    bad_status,   // a status outside expect_status
    bad_response, // not an HTTP/1.x status line
    error,        // another network error
};

std::string_view to_string(health_state state);
std::string_view to_string(check_result result);

// Rise and fall counting of one server's checks.
struct health_counter {
    health_state state = health_state::unknown;
    unsigned failures = 0;  // consecutive
    unsigned successes = 0; // consecutive

    // Records one check. `threshold` failures in a row make the server unhealthy (from
    // unknown or healthy), `threshold` successes in a row make an unhealthy one healthy; the
    // first success makes an unknown one healthy. True when the state changed.
    bool record(bool ok, unsigned threshold);
};

// One slot's health as a reader sees it.
struct health_view {
    health_counter counter;
    check_result last = check_result::none;
    unsigned last_status = 0; // the HTTP status of the last check that got one
};

class health_table {
public:
    static constexpr std::size_t slot_count = 4096;
    static constexpr std::size_t max_addresses = 8;
    static constexpr std::uint32_t no_slot = 0xffffffff;

    // Maps a zeroed table; null when mmap fails.
    static health_table* create();
    // The master's table, mapped on first call (before the first fork, so workers inherit it).
    static health_table* shared();
    // The table if shared() made one, else null (a process without a master).
    static const health_table* existing();

    // Never 0 (0 marks a free slot).
    static std::uint64_t key_of(std::string_view site, std::string_view pool, std::string_view url);

    // Master side. The slot holding `key`, or a free one made to hold it (health unknown, no
    // addresses); no_slot when the table is full.
    std::uint32_t claim(std::uint64_t key);
    void release(std::uint32_t slot);
    // The key slot `slot` holds; 0 when it is free.
    std::uint64_t key_at(std::uint32_t slot) const {
        return slot < slot_count ? at(slots_[slot].key).load(std::memory_order_acquire) : 0;
    }
    void publish_health(std::uint32_t slot, const health_view& view);
    // At most max_addresses are kept.
    void publish_addresses(std::uint32_t slot, const std::vector<net::ip_address>& addresses);

    // Reader side. The slot holding `key`, or no_slot (a linear scan: once per generation).
    std::uint32_t find(std::uint64_t key) const;
    // Unknown (a default view) when the slot does not hold `key` any more.
    health_view health(std::uint32_t slot, std::uint64_t key) const;
    // The addresses when they changed since `sequence` (updated then); nullopt when they did
    // not, or nothing was published, or the slot does not hold `key`.
    std::optional<std::vector<net::ip_address>> addresses(std::uint32_t slot, std::uint64_t key,
                                                          std::uint32_t& sequence) const;

private:
    struct slot {
        std::uint64_t key;
        std::uint64_t health; // see pack() in the .cpp
        std::uint32_t sequence;
        std::uint32_t count;
        std::uint64_t families;                 // bit i: address i is IPv6
        std::uint64_t words[max_addresses * 2]; // 16 bytes per address
    };
    // Plain integers used through std::atomic_ref (see conn_limit_table for why).
    slot slots_[slot_count];

    template <class T>
    static std::atomic_ref<T> at(const T& field) {
        return std::atomic_ref<T>(const_cast<T&>(field));
    }
};

} // namespace bws::proxy
