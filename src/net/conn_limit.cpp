// The shared per-client-address connection table: open addressing over a bounded probe
// window, one CAS per admission, per-owner columns so a dead worker's counts can be given back.
#include "net/conn_limit.hpp"

#include "net/hash_mix.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <new>

namespace bws::net {

namespace {

constexpr std::uint64_t count_mask = 0xffff;
constexpr std::uint64_t tag_mask = (std::uint64_t{1} << 48) - 1;
constexpr int max_claim_attempts = 8;

int process_owner = 0;

std::uint64_t count_of(std::uint64_t word) {
    return word & count_mask;
}

std::uint64_t tag_of(std::uint64_t word) {
    return word >> 16;
}

} // namespace

namespace {

// `bytes` in network order: 16 of an IPv6 address, or an IPv4 address in the first 4.
std::uint64_t key_of(bool v6, const std::uint8_t* bytes) {
    static constexpr std::uint8_t v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (v6 && std::equal(bytes, bytes + 12, v4_mapped))
        return key_of(false, bytes + 12);
    std::uint64_t key = 0;
    if (v6) {
        for (int i = 0; i < 8; ++i)
            key = key << 8 | bytes[i];
    } else {
        // ffff::/16 is unassigned IPv6 space, so no /64 prefix meets an IPv4 key.
        key = 0xffff'0000'0000'0000ULL | std::uint64_t{bytes[0]} << 24 |
              std::uint64_t{bytes[1]} << 16 | std::uint64_t{bytes[2]} << 8 | bytes[3];
    }
    // ::/64 (which holds ::1) would be 0; 0:0:0:1::/64 is unassigned as well.
    return key == 0 ? 1 : key;
}

} // namespace

std::uint64_t client_key(const boost::asio::ip::address& address) {
    if (address.is_v6())
        return key_of(true, address.to_v6().to_bytes().data());
    return key_of(false, address.to_v4().to_bytes().data());
}

std::uint64_t client_key(const ip_address& address) {
    return key_of(address.is_v6(), address.bytes().data());
}

conn_ticket& conn_ticket::operator=(conn_ticket&& other) noexcept {
    if (this != &other) {
        release();
        table_ = other.table_;
        slot_ = other.slot_;
        owner_ = other.owner_;
        other.table_ = nullptr;
    }
    return *this;
}

void conn_ticket::release() {
    if (table_ != nullptr) {
        table_->release(slot_, owner_);
        table_ = nullptr;
    }
}

conn_limit_table* conn_limit_table::create() {
    void* memory = ::mmap(nullptr, sizeof(conn_limit_table), PROT_READ | PROT_WRITE,
                          MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED)
        return nullptr;
    // The pages are zero, every field's initial value; the class has only integer members and
    // no constructor that writes them, so default-initialising placement-new touches nothing.
    return new (memory) conn_limit_table;
}

conn_limit_table* conn_limit_table::shared() {
    // Never unmapped: workers and the master use it until they exit.
    static conn_limit_table* const table = create();
    return table;
}

void conn_limit_table::set_current_owner(int owner) {
    process_owner = owner;
}

int conn_limit_table::current_owner() {
    return process_owner;
}

int conn_limit_table::claim_owner() {
    // Column 0 is the default of a process that was never given one (single-process mode),
    // so forked workers get columns from 1.
    for (std::size_t i = 1; i < owner_count; ++i) {
        std::uint8_t expected = 0;
        if (taken(i).compare_exchange_strong(expected, 1))
            return static_cast<int>(i);
    }
    return -1;
}

void conn_limit_table::release_owner(int owner) {
    if (owner < 0 || static_cast<std::size_t>(owner) >= owner_count)
        return;
    for (std::size_t slot = 0; slot < slot_count; ++slot) {
        if (auto held = owned(owner, slot).exchange(0, std::memory_order_relaxed); held != 0)
            slot_word(slot).fetch_sub(held, std::memory_order_acq_rel);
    }
    taken(owner).store(0);
}

admission conn_limit_table::admit(std::uint64_t key, std::uint32_t limit, int owner,
                                  conn_ticket& ticket) {
    ticket.release();
    if (owner < 0 || static_cast<std::size_t>(owner) >= owner_count || limit == 0)
        return admission::table_full;
    const auto h = hash_mix(key);
    const auto tag = ((h >> 16) & tag_mask) | 1; // never 0, so a zero word is never ours
    const auto start = static_cast<std::size_t>(h & (slot_count - 1));
    const auto slot_at = [start](std::size_t distance) {
        return (start + distance) & (slot_count - 1);
    };
    const auto done = [&](std::size_t slot) {
        owned(owner, slot).fetch_add(1, std::memory_order_relaxed);
        ticket.table_ = this;
        ticket.slot_ = static_cast<std::uint32_t>(slot);
        ticket.owner_ = owner;
        return admission::admitted;
    };
    // Adds one to `slot` if it still holds `tag` live; false if it does not any more.
    const auto increment = [&](std::size_t slot, bool& over) {
        auto word = slot_word(slot).load(std::memory_order_acquire);
        while (count_of(word) > 0 && tag_of(word) == tag) {
            if (count_of(word) >= limit) {
                over = true;
                return false;
            }
            if (slot_word(slot).compare_exchange_weak(word, word + 1, std::memory_order_acq_rel))
                return true;
        }
        return false;
    };

    for (int attempt = 0; attempt < max_claim_attempts; ++attempt) {
        std::size_t free_distance = probe_window;
        std::uint64_t free_word = 0;
        bool restart = false;
        for (std::size_t d = 0; d < probe_window && !restart; ++d) {
            const auto slot = slot_at(d);
            auto word = slot_word(slot).load(std::memory_order_acquire);
            if (count_of(word) > 0 && tag_of(word) == tag) {
                bool over = false;
                if (increment(slot, over))
                    return done(slot);
                if (over)
                    return admission::over_limit;
                restart = true; // it emptied meanwhile: look again
            } else if (count_of(word) == 0 && free_distance == probe_window) {
                free_distance = d;
                free_word = word;
            }
        }
        if (restart)
            continue;
        if (free_distance == probe_window)
            return admission::table_full;
        const auto slot = slot_at(free_distance);
        if (!slot_word(slot).compare_exchange_strong(free_word, tag << 16 | 1,
                                                     std::memory_order_acq_rel))
            continue; // someone took it first
        // Another process may have claimed an earlier free slot for the same address at the
        // same moment: the entry nearest the start wins, so both converge on one count.
        for (std::size_t d = 0; d < free_distance; ++d) {
            const auto other = slot_at(d);
            bool over = false;
            if (increment(other, over)) {
                slot_word(slot).fetch_sub(1, std::memory_order_acq_rel);
                return done(other);
            }
            if (over) {
                slot_word(slot).fetch_sub(1, std::memory_order_acq_rel);
                return admission::over_limit;
            }
        }
        return done(slot);
    }
    return admission::table_full;
}

void conn_limit_table::release(std::uint32_t slot, int owner) {
    owned(owner, slot).fetch_sub(1, std::memory_order_relaxed);
    // The count is above 0 while we hold it, so this never borrows from the tag.
    slot_word(slot).fetch_sub(1, std::memory_order_acq_rel);
}

std::uint32_t conn_limit_table::count(std::uint64_t key) const {
    const auto h = hash_mix(key);
    const auto tag = ((h >> 16) & tag_mask) | 1;
    const auto start = static_cast<std::size_t>(h & (slot_count - 1));
    std::uint32_t total = 0;
    for (std::size_t d = 0; d < probe_window; ++d) {
        auto word = slot_word((start + d) & (slot_count - 1)).load(std::memory_order_acquire);
        if (count_of(word) > 0 && tag_of(word) == tag)
            total += static_cast<std::uint32_t>(count_of(word));
    }
    return total;
}

} // namespace bws::net
