// The request rate limit shared by every worker: a fixed-size table in memory the master maps
// MAP_SHARED before forking (like conn_limit_table), so a client's requests count against one
// limit whichever worker serves them, across reloads. Lock-free, and nothing to clean up
// after a worker crash: one 64-bit word per slot, changed only by compare-and-swap.
//
// The algorithm is GCRA (the generic cell rate algorithm), which admits exactly what a token
// bucket of `burst` tokens refilled at one per `interval` would: each (bucket, client) keeps
// one "theoretical arrival time" (TAT), the time at which its bucket would be full again. A
// request at `now` is admitted when max(TAT, now) + interval - now <= burst * interval, and
// then moves the TAT to max(TAT, now) + interval; a refused request changes nothing.
//
// Fail open: when the probe window holds no free slot (more live clients than the table can
// place there) or the 48-bit clock has run out, the request is admitted and counted as
// untracked, because refusing everyone new would turn a flood of addresses into an outage.
// Two clients whose hashes share a slot's 16-bit tag and probe window share one limit. When
// two workers see a client's first request at the same moment and an entry expires between
// their scans, each may create an entry: one extra request is admitted, once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace bws::net {

// The time of the table: ticks of 2^-20 s (about 0.95 us) since the table was created.
inline constexpr std::uint64_t rate_ticks_per_second = std::uint64_t{1} << 20;

// One limit as the table applies it.
struct rate_limit_rule {
    std::uint64_t interval = 0;  // ticks between two requests at the steady rate
    std::uint64_t tolerance = 0; // burst * interval: how far the TAT may run ahead of now

    // `requests_per_minute` and `burst` > 0 (the loader checks them).
    static rate_limit_rule make(std::uint32_t requests_per_minute, std::uint32_t burst);
};

enum class rate_verdict {
    admitted,  // counted
    limited,   // refused: retry_after says when the next request would be admitted
    untracked, // admitted uncounted: no free slot within the probe window (fail open)
};

struct rate_decision {
    rate_verdict verdict = rate_verdict::admitted;
    std::uint64_t retry_after = 0; // limited: ticks until a request would be admitted

    // Whole seconds for Retry-After: rounded up, at least 1.
    std::uint64_t retry_after_seconds() const;
};

// Which limit a request counts against: the server-wide one, or a site's own (by its name).
// Stable across reloads and processes (FNV-1a), so a reload keeps every client's state.
std::uint64_t rate_bucket(std::string_view site_name);
inline constexpr std::uint64_t server_rate_bucket = 0;

class rate_limit_table {
public:
    static constexpr std::size_t slot_count = 65536; // power of two; 512 KiB
    static constexpr std::size_t probe_window = 32;

    // Maps a table (MAP_SHARED | MAP_ANONYMOUS: zeroed, shared with children forked later),
    // its clock starting now. Null when mmap fails.
    static rate_limit_table* create();
    // The process's table, made on first use: the supervisor calls this before its first fork
    // so that every worker inherits the same mapping. Null only when mmap failed.
    static rate_limit_table* shared();

    // The table's time now (CLOCK_MONOTONIC, which every process of the machine shares).
    std::uint64_t now() const;

    // One request of `client` (net::client_key) against `bucket`'s `rule` at time `now`.
    rate_decision admit(std::uint64_t bucket, std::uint64_t client, const rate_limit_rule& rule,
                        std::uint64_t now);

    // Requests counted under `untracked` so far (every process; for metrics and tests).
    std::uint64_t untracked() const;

    // The slot a (bucket, client) probes first (for tests).
    static std::size_t home_slot(std::uint64_t bucket, std::uint64_t client);

private:
    // Slot word: tag (16 bits of the key's hash) << 48 | TAT (48 bits of ticks: 8.5 years).
    // A slot whose TAT is not after now is free, whatever its tag: its bucket would be full,
    // which is what a fresh entry says too, so reusing it loses nothing.
    // Plain integers used through std::atomic_ref (see conn_limit_table for why). The mapping
    // is zero, i.e. every slot free; epoch_ns_ is written once before any fork.
    std::uint64_t slots_[slot_count];
    std::uint64_t epoch_ns_;
    std::uint64_t untracked_;
};

} // namespace bws::net
