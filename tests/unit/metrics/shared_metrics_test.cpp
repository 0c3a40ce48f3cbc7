// The shared metrics region: classification, histogram buckets, site names, slot summing and
// the retired totals that keep a dead worker's counts.
#include "metrics/shared_metrics.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <vector>

#include <sched.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

namespace bws::metrics {
namespace {

// A region of its own per test (region::shared() is the process's).
struct fresh_region {
    region* r = region::create();
    ~fresh_region() {
        if (r != nullptr)
            ::munmap(r, sizeof(region));
    }
};

std::uint64_t requests(const totals& t, std::string_view site, method_class m, std::size_t s) {
    for (const auto& x : t.sites)
        if (x.name == site)
            return x.cells.requests[static_cast<std::size_t>(m)][s];
    return 0;
}

TEST(SharedMetrics, ClassifiesMethodsAndStatuses) {
    EXPECT_EQ(classify_method("GET"), method_class::get);
    EXPECT_EQ(classify_method("HEAD"), method_class::head);
    EXPECT_EQ(classify_method("POST"), method_class::post);
    EXPECT_EQ(classify_method("get"), method_class::other); // methods are case-sensitive
    EXPECT_EQ(classify_method("DELETE"), method_class::other);
    EXPECT_EQ(status_class(101), 0u);
    EXPECT_EQ(status_class(200), 1u);
    EXPECT_EQ(status_class(304), 2u);
    EXPECT_EQ(status_class(499), 3u);
    EXPECT_EQ(status_class(503), 4u);
    EXPECT_EQ(status_class(0), 4u);
    EXPECT_EQ(status_class(600), 4u);
}

TEST(SharedMetrics, DurationBucketsAreUpperBoundsInclusive) {
    EXPECT_EQ(duration_bucket(0), 0u);
    EXPECT_EQ(duration_bucket(5'000), 0u); // 5 ms is <= 0.005
    EXPECT_EQ(duration_bucket(5'001), 1u);
    EXPECT_EQ(duration_bucket(1'000'000), 7u);
    EXPECT_EQ(duration_bucket(10'000'000), 10u);
    EXPECT_EQ(duration_bucket(10'000'001), duration_bounds.size()); // +Inf
}

TEST(SharedMetrics, SiteNamesAreRegisteredOnceAndOverflowToOther) {
    fresh_region f;
    ASSERT_NE(f.r, nullptr);
    EXPECT_EQ(f.r->register_site("a"), 0u);
    EXPECT_EQ(f.r->register_site("b"), 1u);
    EXPECT_EQ(f.r->register_site("a"), 0u);
    EXPECT_EQ(f.r->find_site("b"), 1u);
    EXPECT_EQ(f.r->find_site("c"), other_site);
    EXPECT_EQ(f.r->register_site(std::string(max_site_name + 1, 'x')), other_site);
    for (std::size_t i = 2; i < max_sites; ++i)
        EXPECT_EQ(f.r->register_site("s" + std::to_string(i)), i);
    EXPECT_EQ(f.r->register_site("one too many"), other_site);
}

TEST(SharedMetrics, ScrapeSumsSlotsAndKeepsRetiredTotals) {
    fresh_region f;
    ASSERT_NE(f.r, nullptr);
    const auto site = f.r->register_site("www");
    const auto a = f.r->claim_slot();
    const auto b = f.r->claim_slot();
    ASSERT_NE(a, 0u);
    ASSERT_NE(b, a);

    // Two "workers": children that count in their own slot, as forked workers do.
    for (auto [slot, n] : {std::pair{a, 3}, std::pair{b, 4}}) {
        pid_t pid = ::fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            auto* cells = f.r->cells(slot);
            for (int i = 0; i < n; ++i) {
                add(cells->sites[site].requests[0][1]);
                add(cells->sites[site].bytes_out, 100);
            }
            add_gauge(cells->open_connections, 2);
            _exit(0);
        }
        int status = 0;
        ::waitpid(pid, &status, 0);
    }
    auto t = f.r->scrape();
    ASSERT_EQ(t.sites.size(), 1u); // "other" only appears once it has counts
    EXPECT_EQ(requests(t, "www", method_class::get, 1), 7u);
    EXPECT_EQ(t.sites[0].cells.bytes_out, 700u);
    EXPECT_EQ(t.open_connections, 4);

    // Worker a exits: its counts move to the retired totals, its gauges go.
    f.r->release_slot(a);
    t = f.r->scrape();
    EXPECT_EQ(requests(t, "www", method_class::get, 1), 7u);
    EXPECT_EQ(t.open_connections, 2);
    // Its slot is reused from zero; the totals still never go back.
    EXPECT_EQ(f.r->claim_slot(), a);
    t = f.r->scrape();
    EXPECT_EQ(requests(t, "www", method_class::get, 1), 7u);
    f.r->release_slot(b);
    f.r->release_slot(a);
    t = f.r->scrape();
    EXPECT_EQ(requests(t, "www", method_class::get, 1), 7u);
    EXPECT_EQ(t.sites[0].cells.bytes_out, 700u);
    EXPECT_EQ(t.open_connections, 0);
}

TEST(SharedMetrics, CountHelpersWriteThisProcessSlotOfTheSharedRegion) {
    auto* r = region::shared();
    ASSERT_NE(r, nullptr);
    const auto site = r->register_site("helpers-test");
    const auto before = r->scrape();
    count_request(site, "POST", 201, 10, 20, 30'000);
    count_request(site, "HEAD", 404, 0, 0, 20'000'000);
    count_upstream(site, true, 1000);
    count_handshake(site, false);
    count_handshake(site, true);
    count_request(other_site + 5, "GET", 200, 0, 0, 0); // out of range: counted as other
    const auto t = r->scrape();
    const site_cells* cells = nullptr;
    for (const auto& s : t.sites)
        if (s.name == "helpers-test")
            cells = &s.cells;
    ASSERT_NE(cells, nullptr);
    EXPECT_EQ(cells->requests[2][1], 1u);
    EXPECT_EQ(cells->requests[1][3], 1u);
    EXPECT_EQ(cells->bytes_in, 10u);
    EXPECT_EQ(cells->bytes_out, 20u);
    EXPECT_EQ(cells->duration[duration_bucket(30'000)], 1u);
    EXPECT_EQ(cells->duration[duration_bounds.size()], 1u);
    EXPECT_EQ(cells->duration_sum_us, 20'030'000u);
    EXPECT_EQ(cells->upstream_requests, 1u);
    EXPECT_EQ(cells->upstream_failures, 1u);
    EXPECT_EQ(cells->tls_handshakes, 2u);
    EXPECT_EQ(cells->tls_failures, 1u);
    // Other tests of this process may have counted under "other" before.
    ASSERT_EQ(t.sites.back().name, "other");
    const auto other_before = before.sites.empty() || before.sites.back().name != "other"
                                  ? 0
                                  : before.sites.back().cells.requests[0][1];
    EXPECT_EQ(t.sites.back().cells.requests[0][1], other_before + 1);
}

// What a worker answering [sites.metrics] relies on: a scrape in another process while the
// master releases slots never counts a slot twice or not at all, and the master's own
// counters reach it. Every slot holds counts, so a scrape is long (it reads them all) and a
// release in its middle, if not detected, would show a total that is not the constant one.
TEST(SharedMetrics, ScrapesInAnotherProcessSeeReleasesWholeAndTheMastersCounters) {
    fresh_region f;
    ASSERT_NE(f.r, nullptr);
    const auto site = f.r->register_site("www");
    for (std::size_t i = 1; i < max_sites; ++i)
        f.r->register_site("s" + std::to_string(i));
    std::vector<std::size_t> slots;
    for (auto slot = f.r->claim_slot(); slot != 0; slot = f.r->claim_slot()) {
        slots.push_back(slot);
        add(f.r->cells(slot)->sites[site].requests[0][1], 1000);
    }
    ASSERT_EQ(slots.size(), slot_count - 1);
    const std::uint64_t total = 1000 * slots.size();
    void* shared_flags =
        ::mmap(nullptr, 2 * sizeof(int), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(shared_flags, MAP_FAILED);
    auto* flags = static_cast<int*>(shared_flags);
    std::atomic_ref<int> started(flags[0]);
    std::atomic_ref<int> done(flags[1]);

    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        // Exit codes: 0 fine, 1 a wrong total during the releases, 2 after them, 3 the
        // master's counters not seen.
        started.store(1);
        while (done.load() == 0)
            if (requests(f.r->scrape(), "www", method_class::get, 1) != total)
                _exit(1);
        const auto t = f.r->scrape();
        if (requests(t, "www", method_class::get, 1) != total)
            _exit(2);
        if (t.server.reloads_ok != 2 || t.server.reloads_failed != 1 ||
            t.server.worker_crashes != 1 || t.server.worker_respawns != 1 ||
            t.server.generation != 3)
            _exit(3);
        _exit(0);
    }
    while (started.load() == 0)
        sched_yield();
    for (const auto slot : slots) {
        f.r->release_slot(slot); // its counts move into the retired totals
        ::usleep(500);           // a scrape may also complete between releases
    }
    f.r->count_reload(true);
    f.r->count_reload(true);
    f.r->count_reload(false);
    f.r->count_worker_crash();
    f.r->count_worker_respawn();
    f.r->set_generation(3);
    done.store(1);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ::munmap(shared_flags, 2 * sizeof(int));
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << "1: a wrong total during the releases, 2: after them, "
                                         "3: the master's counters were not seen";
    EXPECT_EQ(requests(f.r->scrape(), "www", method_class::get, 1), total);
}

} // namespace
} // namespace bws::metrics
