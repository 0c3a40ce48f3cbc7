// Server-wide metrics in shared memory: the master maps one fixed-size region before its first
// fork; every worker adds to its own slot with relaxed atomics (no locks, no sharing of cache
// lines between workers), and a scrape sums the slots. A slot whose worker has exited is folded
// into a "retired" accumulator before it is reused, so no counter ever goes backwards, and
// reloads (new workers, same region) reset nothing.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bws::metrics {

inline constexpr std::size_t max_sites = 256; // named sites; more are counted as "other"
inline constexpr std::size_t max_site_name = 127;
inline constexpr std::size_t slot_count = 256;       // workers alive at the same time (+ slot 0)
inline constexpr std::size_t other_site = max_sites; // the index of the overflow series

enum class method_class : std::uint8_t { get, head, post, other };
inline constexpr std::size_t method_classes = 4;
inline constexpr std::size_t status_classes = 5; // 1xx .. 5xx

// Upper bounds of the duration histograms, in seconds; one more bucket counts the rest (+Inf).
inline constexpr std::array<double, 11> duration_bounds = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                           0.5,   1.0,  2.5,   5.0,  10.0};
inline constexpr std::size_t duration_buckets = duration_bounds.size() + 1;

method_class classify_method(std::string_view method);
// 1xx..5xx as 0..4; anything outside 100..599 counts as 5xx (the server answered it oddly).
std::size_t status_class(unsigned status);
// The bucket a duration falls in (non-cumulative).
std::size_t duration_bucket(std::uint64_t microseconds);

// Counters of one site in one slot. Plain integers used through std::atomic_ref (see
// conn_limit.hpp: atomics would value-initialise and make the whole region resident).
struct site_cells {
    std::uint64_t requests[method_classes][status_classes];
    std::uint64_t bytes_in;
    std::uint64_t bytes_out;
    std::uint64_t duration[duration_buckets];
    std::uint64_t duration_sum_us;
    std::uint64_t tls_handshakes;
    std::uint64_t tls_failures;
    std::uint64_t upstream_requests;
    std::uint64_t upstream_failures;
    std::uint64_t upstream_duration[duration_buckets];
    std::uint64_t upstream_duration_sum_us;
    std::uint64_t rate_limited; // requests answered 429 by the rate limit
};

// Counters and gauges of one process (a worker's slot) or of the retired accumulator.
struct slot_cells {
    site_cells sites[max_sites + 1];
    std::uint64_t log_lines_dropped;
    // Gauges: never folded into the retired accumulator (a dead worker holds no connection).
    std::int64_t open_connections;
    std::int64_t idle_connections;
};

// What the master counts itself (through the region's count_* and set_generation, so that a
// worker answering [sites.metrics] reads them as the master's own scrape does).
struct server_cells {
    std::uint64_t reloads_ok;
    std::uint64_t reloads_failed;
    std::uint64_t worker_crashes;
    std::uint64_t worker_respawns;
    std::uint64_t generation;
    std::uint64_t start_time_s; // Unix time the region was created
};

// A summed view, for the formatter.
struct site_totals {
    std::string name;
    site_cells cells{};
};
struct totals {
    std::vector<site_totals> sites; // the registered sites, then "other" when it has counts
    std::uint64_t log_lines_dropped = 0;
    std::int64_t open_connections = 0;
    std::int64_t idle_connections = 0;
    server_cells server{};
};

class region {
public:
    // Maps a zeroed region (MAP_SHARED | MAP_ANONYMOUS). Null when mmap fails.
    static region* create();
    // The process's region, made on first use; the supervisor calls it before the first fork.
    static region* shared();

    // Master side. The site's index in the region (registering a new name), or other_site
    // when the table is full or the name too long. Names are never removed: a site renamed or
    // removed by a reload keeps its series until the server restarts.
    std::size_t register_site(std::string_view name);
    // Worker side: the index of a registered name, or other_site.
    std::size_t find_site(std::string_view name) const;
    // A free slot for a new worker (from 1), or 0 when none is left (slot 0 is shared by every
    // process without one: single-process mode, and workers beyond slot_count).
    std::size_t claim_slot();
    // After the slot's worker exited: adds its counters to the retired accumulator, clears
    // its gauges and frees it. Only the master calls this, from one thread.
    void release_slot(std::size_t slot);

    // The master's own counters (one writer; any process may scrape meanwhile).
    void count_reload(bool ok);
    void count_worker_crash();
    void count_worker_respawn();
    void set_generation(std::uint64_t generation);

    // The sums of every slot. The master calls it (management API), and so does a worker
    // (a site's [sites.metrics]) while the master may be releasing a slot: a scrape that
    // overlaps a release is read again, so it never counts a slot twice or not at all.
    totals scrape() const;

    // The slot this process writes (set in a forked worker).
    static void set_current_slot(std::size_t slot);
    // This process's cells in the shared region; null when the region could not be mapped.
    static slot_cells* current();
    // The cells of slot `slot` (what a worker given that slot writes).
    slot_cells* cells(std::size_t slot) { return slot < slot_count ? &slots_[slot] : nullptr; }

private:
    char names_[max_sites][max_site_name + 1];
    std::uint32_t site_count_;
    std::uint32_t high_water_; // slots [0, high_water_) have been used
    std::uint8_t taken_[slot_count];
    // Odd while release_slot() moves a slot into retired_ (a sequence lock: scrape() retries
    // when it changed under it).
    std::uint32_t release_seq_;
    server_cells server_;
    slot_cells retired_;
    slot_cells slots_[slot_count];
};

// Data-path helpers: a relaxed add on this process's own slot, nothing when unmapped.
inline void add(std::uint64_t& cell, std::uint64_t n = 1) {
    std::atomic_ref<std::uint64_t>(cell).fetch_add(n, std::memory_order_relaxed);
}
inline void add_gauge(std::int64_t& cell, std::int64_t n) {
    std::atomic_ref<std::int64_t>(cell).fetch_add(n, std::memory_order_relaxed);
}
inline void set_gauge(std::int64_t& cell, std::int64_t value) {
    std::atomic_ref<std::int64_t>(cell).store(value, std::memory_order_relaxed);
}
inline std::uint64_t load(const std::uint64_t& cell) {
    return std::atomic_ref<std::uint64_t>(const_cast<std::uint64_t&>(cell))
        .load(std::memory_order_relaxed);
}

// One finished request of site `site` (an index from find_site).
void count_request(std::size_t site, std::string_view method, unsigned status,
                   std::uint64_t bytes_in, std::uint64_t bytes_out, std::uint64_t duration_us);
void count_upstream(std::size_t site, bool failed, std::uint64_t duration_us);
void count_handshake(std::size_t site, bool failed);
void count_rate_limited(std::size_t site);
void count_log_lines_dropped(std::uint64_t lines);
void count_connection(int delta); // +1 accepted, -1 closed
void set_idle_connections(std::int64_t idle);

} // namespace bws::metrics
