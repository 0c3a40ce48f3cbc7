// The per-client-address connection limit shared by every worker: a fixed-size table in
// memory the master maps MAP_SHARED before forking, so all workers of all generations count
// against one limit. Lock-free: one 64-bit word per slot (tag and count).
#pragma once

#include "net/address.hpp"

#include <boost/asio/ip/address.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace bws::net {

// The part of an address that a limit counts: an IPv4 address as a whole, an IPv6 address by
// its /64 (one subscriber usually gets a /64, so counting single addresses would be no limit).
// IPv4-mapped IPv6 addresses count as the IPv4 address. Never 0.
std::uint64_t client_key(const boost::asio::ip::address& address);
std::uint64_t client_key(const ip_address& address);

class conn_limit_table;

// One admitted connection; releases its count when destroyed. Empty: nothing counted (the
// limit is off, the table was full, or the process has no owner column).
class conn_ticket {
public:
    conn_ticket() = default;
    conn_ticket(conn_ticket&& other) noexcept { *this = std::move(other); }
    conn_ticket& operator=(conn_ticket&& other) noexcept;
    ~conn_ticket() { release(); }
    void release();
    bool counted() const { return table_ != nullptr; }

private:
    friend class conn_limit_table;
    conn_limit_table* table_ = nullptr;
    std::uint32_t slot_ = 0;
    int owner_ = -1;
};

enum class admission {
    admitted,   // counted
    over_limit, // refused: the address has `limit` connections already
    table_full, // admitted uncounted: no free slot within the probe window
};

// Crash safety: besides the total per slot, every process that counts ("owner") has its own
// column of per-slot counts. A worker that dies (even by SIGKILL) cannot decrement what it
// held, so the master, after reaping it, subtracts its column from the totals and frees the
// column for the next worker (release_owner). Only the reaping master writes a dead owner's
// column, so no one races with it.
class conn_limit_table {
public:
    static constexpr std::size_t slot_count = 16384; // power of two
    static constexpr std::size_t owner_count = 256;  // processes counting at the same time
    static constexpr std::size_t probe_window = 32;
    static constexpr std::uint32_t max_limit = 0xffff;

    // Maps the table (MAP_SHARED | MAP_ANONYMOUS: zeroed, shared with children forked later).
    // Null when mmap fails.
    static conn_limit_table* create();
    // The process's table, made on first use: the supervisor calls this before its first fork
    // so that every worker inherits the same mapping. Null only when mmap failed.
    static conn_limit_table* shared();
    // The owner column this process counts in (set in a forked worker; 0 by default).
    static void set_current_owner(int owner);
    static int current_owner();

    // Master side: a free column for a new worker, or -1 when all are taken (that worker then
    // does not count, i.e. enforces no limit, rather than risk counts it could leak).
    int claim_owner();
    // Master side, after the owner's process has exited: gives back what it still held.
    void release_owner(int owner);

    // One new connection from `key` counted for `owner`, unless it would exceed `limit`.
    admission admit(std::uint64_t key, std::uint32_t limit, int owner, conn_ticket& ticket);

    // Live connections counted for `key` (for tests and diagnostics).
    std::uint32_t count(std::uint64_t key) const;

private:
    friend class conn_ticket;
    void release(std::uint32_t slot, int owner);

    // Slot word: tag (48 bits, from the key's hash, never 0) << 16 | count. A slot whose count
    // is 0 is free, whatever its tag.
    // Plain integers used through std::atomic_ref, not std::atomic members: C++20's atomics
    // value-initialise, so constructing the table would write all of its 8 MiB and make every
    // page resident in the master whether the limit is on or not. The mapping's pages are
    // zero already, which is every field's initial value.
    std::uint64_t slots_[slot_count];
    std::uint16_t owned_[owner_count][slot_count];
    std::uint8_t owner_taken_[owner_count];

    std::atomic_ref<std::uint64_t> slot_word(std::size_t i) const {
        return std::atomic_ref<std::uint64_t>(const_cast<std::uint64_t&>(slots_[i]));
    }
    std::atomic_ref<std::uint16_t> owned(std::size_t owner, std::size_t slot) {
        return std::atomic_ref<std::uint16_t>(owned_[owner][slot]);
    }
    std::atomic_ref<std::uint8_t> taken(std::size_t owner) {
        return std::atomic_ref<std::uint8_t>(owner_taken_[owner]);
    }
};

} // namespace bws::net
