// The shared metrics region: site name table, per-worker slots, the retired accumulator and
// the summing scrape. See shared_metrics.hpp.
#include "metrics/shared_metrics.hpp"

#include <sched.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <new>

namespace bws::metrics {

namespace {

std::size_t process_slot = 0;

template <class T>
std::atomic_ref<T> ref(const T& cell) {
    return std::atomic_ref<T>(const_cast<T&>(cell));
}

constexpr std::size_t counter_words = sizeof(site_cells) / sizeof(std::uint64_t);
static_assert(sizeof(site_cells) == counter_words * sizeof(std::uint64_t));

// The cells of a site_cells as one array of counters (the struct has nothing else).
std::uint64_t* words(site_cells& cells) {
    return reinterpret_cast<std::uint64_t*>(&cells);
}
const std::uint64_t* words(const site_cells& cells) {
    return reinterpret_cast<const std::uint64_t*>(&cells);
}

void add_into(site_cells& into, const site_cells& from) {
    auto* out = words(into);
    const auto* in = words(from);
    for (std::size_t i = 0; i < counter_words; ++i)
        out[i] += ref(in[i]).load(std::memory_order_relaxed);
}

// release_slot()'s moves: atomic stores, since workers may be scraping the region meanwhile
// (the master is the only writer of retired_ and of a dead worker's slot).
void store(std::uint64_t& cell, std::uint64_t value) {
    ref(cell).store(value, std::memory_order_relaxed);
}
void move_into(site_cells& into, site_cells& from) {
    auto* out = words(into);
    auto* in = words(from);
    for (std::size_t i = 0; i < counter_words; ++i) {
        if (in[i] == 0)
            continue; // most cells of most sites: no write, no page made resident
        store(out[i], out[i] + in[i]);
        store(in[i], 0);
    }
}

bool any(const site_cells& cells) {
    const auto* in = words(cells);
    for (std::size_t i = 0; i < counter_words; ++i)
        if (in[i] != 0)
            return true;
    return false;
}

site_cells* site_of(std::size_t site) {
    auto* slot = region::current();
    if (slot == nullptr)
        return nullptr;
    return &slot->sites[site <= other_site ? site : other_site];
}

} // namespace

method_class classify_method(std::string_view method) {
    if (method == "GET")
        return method_class::get;
    if (method == "HEAD")
        return method_class::head;
    if (method == "POST")
        return method_class::post;
    return method_class::other;
}

std::size_t status_class(unsigned status) {
    if (status < 100 || status > 599)
        return 4;
    return status / 100 - 1;
}

std::size_t duration_bucket(std::uint64_t microseconds) {
    const double seconds = static_cast<double>(microseconds) / 1e6;
    for (std::size_t i = 0; i < duration_bounds.size(); ++i)
        if (seconds <= duration_bounds[i])
            return i;
    return duration_bounds.size();
}

region* region::create() {
    void* memory =
        ::mmap(nullptr, sizeof(region), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED)
        return nullptr;
    // Zero pages are every field's initial value; placement-new of a class without a
    // constructor that writes its members touches nothing, so only used pages become resident.
    auto* r = new (memory) region;
    r->server_.start_time_s = static_cast<std::uint64_t>(std::time(nullptr));
    r->high_water_ = 1;
    return r;
}

region* region::shared() {
    static region* const r = create(); // never unmapped
    return r;
}

std::size_t region::register_site(std::string_view name) {
    if (auto found = find_site(name); found != other_site)
        return found;
    const auto count = ref(site_count_).load(std::memory_order_acquire);
    if (count >= max_sites || name.size() > max_site_name || name.empty())
        return other_site;
    std::memcpy(names_[count], name.data(), name.size());
    names_[count][name.size()] = '\0';
    // Published after the name: a worker forked later sees both; one forked earlier never
    // looks the new name up.
    ref(site_count_).store(count + 1, std::memory_order_release);
    return count;
}

std::size_t region::find_site(std::string_view name) const {
    const auto count = ref(site_count_).load(std::memory_order_acquire);
    for (std::size_t i = 0; i < count; ++i)
        if (name == std::string_view(names_[i]))
            return i;
    return other_site;
}

std::size_t region::claim_slot() {
    for (std::size_t i = 1; i < slot_count; ++i) {
        std::uint8_t expected = 0;
        if (ref(taken_[i]).compare_exchange_strong(expected, 1)) {
            if (ref(high_water_).load() < i + 1)
                ref(high_water_).store(static_cast<std::uint32_t>(i + 1));
            return i;
        }
    }
    return 0;
}

void region::release_slot(std::size_t slot) {
    if (slot == 0 || slot >= slot_count)
        return;
    auto& cells = slots_[slot];
    // The worker is dead: nobody writes this slot now. Scrapes in other processes see the
    // sequence odd, or changed once they are done, and read again.
    const auto seq = ref(release_seq_).load(std::memory_order_relaxed);
    ref(release_seq_).store(seq + 1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
    for (std::size_t s = 0; s <= max_sites; ++s)
        move_into(retired_.sites[s], cells.sites[s]);
    store(retired_.log_lines_dropped, retired_.log_lines_dropped + cells.log_lines_dropped);
    store(cells.log_lines_dropped, 0);
    ref(release_seq_).store(seq + 2, std::memory_order_release);
    set_gauge(cells.open_connections, 0);
    set_gauge(cells.idle_connections, 0);
    ref(taken_[slot]).store(0);
}

void region::count_reload(bool ok) {
    add(ok ? server_.reloads_ok : server_.reloads_failed);
}

void region::count_worker_crash() {
    add(server_.worker_crashes);
}

void region::count_worker_respawn() {
    add(server_.worker_respawns);
}

void region::set_generation(std::uint64_t generation) {
    ref(server_.generation).store(generation, std::memory_order_relaxed);
}

totals region::scrape() const {
    totals out;
    const auto named = ref(site_count_).load(std::memory_order_acquire);
    const auto used = ref(high_water_).load();
    std::vector<site_cells> sums(max_sites + 1);
    const auto fold = [&](const slot_cells& cells, bool gauges) {
        for (std::size_t s = 0; s < named; ++s)
            add_into(sums[s], cells.sites[s]);
        add_into(sums[other_site], cells.sites[other_site]);
        out.log_lines_dropped += load(cells.log_lines_dropped);
        if (gauges) {
            out.open_connections += ref(cells.open_connections).load(std::memory_order_relaxed);
            out.idle_connections += ref(cells.idle_connections).load(std::memory_order_relaxed);
        }
    };
    // A release moves a slot's counts into retired_ in a few microseconds; a scrape that saw
    // part of a move is thrown away and read again.
    const auto read_all = [&] {
        out.log_lines_dropped = 0;
        out.open_connections = 0;
        out.idle_connections = 0;
        std::fill(sums.begin(), sums.end(), site_cells{});
        fold(retired_, false);
        for (std::size_t i = 0; i < used && i < slot_count; ++i)
            fold(slots_[i], true);
    };
    // Releases only happen when workers exit, so a retry soon reads a quiet region. The one
    // wait that could last is a sequence left odd by a master killed during a release (its
    // workers are about to exit then): after that many looks at the same odd value, what is
    // there is shown.
    constexpr int max_stuck_looks = 10000;
    std::uint32_t odd_seen = 0;
    int stuck_looks = 0;
    for (;;) {
        const auto seq = ref(release_seq_).load(std::memory_order_acquire);
        if ((seq & 1U) != 0) {
            stuck_looks = seq == odd_seen ? stuck_looks + 1 : 0;
            odd_seen = seq;
            if (stuck_looks < max_stuck_looks) {
                sched_yield();
                continue;
            }
            read_all();
            break;
        }
        read_all();
        std::atomic_thread_fence(std::memory_order_acquire);
        if (ref(release_seq_).load(std::memory_order_relaxed) == seq)
            break;
    }
    for (std::size_t s = 0; s < named; ++s)
        out.sites.push_back({std::string(names_[s]), sums[s]});
    if (any(sums[other_site]))
        out.sites.push_back({"other", sums[other_site]});
    out.server.reloads_ok = load(server_.reloads_ok);
    out.server.reloads_failed = load(server_.reloads_failed);
    out.server.worker_crashes = load(server_.worker_crashes);
    out.server.worker_respawns = load(server_.worker_respawns);
    out.server.generation = load(server_.generation);
    out.server.start_time_s = server_.start_time_s; // written before the first fork
    // A connection counted open by one process and closed after a fork by another would make
    // the sum negative only transiently; never show that.
    if (out.open_connections < 0)
        out.open_connections = 0;
    if (out.idle_connections < 0)
        out.idle_connections = 0;
    return out;
}

void region::set_current_slot(std::size_t slot) {
    process_slot = slot < slot_count ? slot : 0;
}

slot_cells* region::current() {
    auto* r = shared();
    return r != nullptr ? r->cells(process_slot) : nullptr;
}

void count_request(std::size_t site, std::string_view method, unsigned status,
                   std::uint64_t bytes_in, std::uint64_t bytes_out, std::uint64_t duration_us) {
    auto* cells = site_of(site);
    if (cells == nullptr)
        return;
    add(cells->requests[static_cast<std::size_t>(classify_method(method))][status_class(status)]);
    if (bytes_in != 0)
        add(cells->bytes_in, bytes_in);
    if (bytes_out != 0)
        add(cells->bytes_out, bytes_out);
    add(cells->duration[duration_bucket(duration_us)]);
    add(cells->duration_sum_us, duration_us);
}

void count_upstream(std::size_t site, bool failed, std::uint64_t duration_us) {
    auto* cells = site_of(site);
    if (cells == nullptr)
        return;
    add(cells->upstream_requests);
    if (failed)
        add(cells->upstream_failures);
    add(cells->upstream_duration[duration_bucket(duration_us)]);
    add(cells->upstream_duration_sum_us, duration_us);
}

void count_handshake(std::size_t site, bool failed) {
    auto* cells = site_of(site);
    if (cells == nullptr)
        return;
    add(cells->tls_handshakes);
    if (failed)
        add(cells->tls_failures);
}

void count_rate_limited(std::size_t site) {
    if (auto* cells = site_of(site))
        add(cells->rate_limited);
}

void count_log_lines_dropped(std::uint64_t lines) {
    if (auto* slot = region::current())
        add(slot->log_lines_dropped, lines);
}

void count_connection(int delta) {
    if (auto* slot = region::current())
        add_gauge(slot->open_connections, delta);
}

void set_idle_connections(std::int64_t idle) {
    if (auto* slot = region::current())
        set_gauge(slot->idle_connections, idle);
}

} // namespace bws::metrics
