// The shared request rate table: open addressing over a bounded probe window, one CAS per
// admitted request, slots reused as soon as their bucket would be full again.
#include "net/rate_limit.hpp"

#include "net/hash_mix.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <new>

namespace bws::net {

namespace {

constexpr std::uint64_t time_bits = 48;
constexpr std::uint64_t time_mask = (std::uint64_t{1} << time_bits) - 1;
constexpr int max_attempts = 8;
constexpr std::uint64_t ns_per_second = 1'000'000'000;

std::uint64_t time_of(std::uint64_t word) {
    return word & time_mask;
}

std::uint64_t tag_of(std::uint64_t word) {
    return word >> time_bits;
}

std::uint64_t monotonic_ns() {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                          std::chrono::steady_clock::now().time_since_epoch())
                                          .count());
}

std::atomic_ref<std::uint64_t> cell(std::uint64_t& word) {
    return std::atomic_ref<std::uint64_t>(word);
}

} // namespace

rate_limit_rule rate_limit_rule::make(std::uint32_t requests_per_minute, std::uint32_t burst) {
    const std::uint64_t per_minute = std::max<std::uint32_t>(requests_per_minute, 1);
    const std::uint64_t minute = 60 * rate_ticks_per_second;
    rate_limit_rule rule;
    rule.interval = std::max<std::uint64_t>((minute + per_minute / 2) / per_minute, 1);
    rule.tolerance = std::max<std::uint32_t>(burst, 1) * rule.interval;
    return rule;
}

std::uint64_t rate_decision::retry_after_seconds() const {
    const std::uint64_t seconds = (retry_after + rate_ticks_per_second - 1) / rate_ticks_per_second;
    return std::max<std::uint64_t>(seconds, 1);
}

std::uint64_t rate_bucket(std::string_view site_name) {
    // FNV-1a over "site:" and the name; never server_rate_bucket.
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (const char c : std::string_view("site:")) {
        h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
    }
    for (const char c : site_name) {
        h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
    }
    return h == server_rate_bucket ? 1 : h;
}

rate_limit_table* rate_limit_table::create() {
    void* memory = ::mmap(nullptr, sizeof(rate_limit_table), PROT_READ | PROT_WRITE,
                          MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED)
        return nullptr;
    // Zero pages are every slot's initial value; placement-new of this constructor-less class
    // writes nothing, so only the pages that slots land in ever become resident.
    auto* table = new (memory) rate_limit_table;
    table->epoch_ns_ = monotonic_ns();
    return table;
}

rate_limit_table* rate_limit_table::shared() {
    // Never unmapped: workers and the master use it until they exit.
    static rate_limit_table* const table = create();
    return table;
}

std::uint64_t rate_limit_table::now() const {
    const std::uint64_t ns = monotonic_ns() - epoch_ns_;
    return ns / ns_per_second * rate_ticks_per_second +
           ns % ns_per_second * rate_ticks_per_second / ns_per_second;
}

rate_decision rate_limit_table::admit(std::uint64_t bucket, std::uint64_t client,
                                      const rate_limit_rule& rule, std::uint64_t now) {
    const auto untracked = [this] {
        cell(untracked_).fetch_add(1, std::memory_order_relaxed);
        return rate_decision{rate_verdict::untracked, 0};
    };
    // 48 bits of ticks last 8.5 years from the table's creation (the master's start); past
    // that the limit is no longer applied rather than wrong.
    if (now + rule.interval + rule.tolerance > time_mask)
        return untracked();
    const auto h = hash_mix(bucket ^ hash_mix(client));
    const std::uint64_t tag = h >> time_bits;
    const auto start = home_slot(bucket, client);

    for (int attempt = 0; attempt < max_attempts; ++attempt) {
        std::size_t free_distance = probe_window;
        std::uint64_t free_word = 0;
        bool changed = false;
        for (std::size_t d = 0; d < probe_window && !changed; ++d) {
            auto& slot = slots_[(start + d) & (slot_count - 1)];
            auto word = cell(slot).load(std::memory_order_acquire);
            if (time_of(word) <= now) {
                if (free_distance == probe_window) {
                    free_distance = d;
                    free_word = word;
                }
                continue;
            }
            if (tag_of(word) != tag)
                continue;
            // Our live entry: charge it unless that would run past the tolerance.
            while (tag_of(word) == tag && time_of(word) > now) {
                const std::uint64_t next = time_of(word) + rule.interval;
                if (next - now > rule.tolerance)
                    return {rate_verdict::limited, next - rule.tolerance - now};
                if (cell(slot).compare_exchange_weak(word, tag << time_bits | next,
                                                     std::memory_order_acq_rel))
                    return {rate_verdict::admitted, 0};
            }
            changed = true; // taken over by a process whose clock is ahead: look again
        }
        if (changed)
            continue;
        if (free_distance == probe_window)
            return untracked();
        // A fresh entry: its bucket was full, so this request takes one token.
        auto& slot = slots_[(start + free_distance) & (slot_count - 1)];
        if (cell(slot).compare_exchange_strong(free_word, tag << time_bits | (now + rule.interval),
                                               std::memory_order_acq_rel))
            return {rate_verdict::admitted, 0};
        // Someone took that slot first (maybe for this very client): look again.
    }
    return untracked();
}

std::size_t rate_limit_table::home_slot(std::uint64_t bucket, std::uint64_t client) {
    return static_cast<std::size_t>(hash_mix(bucket ^ hash_mix(client)) & (slot_count - 1));
}

std::uint64_t rate_limit_table::untracked() const {
    return std::atomic_ref<std::uint64_t>(const_cast<std::uint64_t&>(untracked_))
        .load(std::memory_order_relaxed);
}

} // namespace bws::net
