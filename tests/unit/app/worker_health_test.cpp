// Worker health with explicit time points: stuck-worker detection, watchdog gating, crash
// replacement with backoff, and the watchdog-derived timing.
#include "app/worker_health.hpp"

#include <gtest/gtest.h>

#include <sys/wait.h>

#include <csignal>

namespace {

using namespace bws::app;
using namespace std::chrono_literals;

const clock::time_point t0 = clock::time_point(1000s);

worker_record make_worker(pid_t pid, worker_state state, clock::time_point last,
                          unsigned generation = 1, unsigned index = 0) {
    worker_record w;
    w.pid = pid;
    w.state = state;
    w.generation = generation;
    w.index = index;
    w.spawned = last;
    w.last_heartbeat = last;
    return w;
}

TEST(WorkerHealth, TimingFollowsTheWatchdog) {
    auto none = worker_health::timing_for(std::nullopt);
    EXPECT_EQ(none.stale_after, 10s);
    EXPECT_EQ(none.fresh_limit, 10s);
    auto short_dog = worker_health::timing_for(std::chrono::microseconds(1'000'000));
    EXPECT_EQ(short_dog.fresh_limit, 3s); // never below 3 s
    EXPECT_EQ(short_dog.stale_after, 5s);
    auto long_dog = worker_health::timing_for(std::chrono::microseconds(60'000'000));
    EXPECT_EQ(long_dog.fresh_limit, 60s);
    EXPECT_EQ(long_dog.stale_after, 10s); // capped
}

TEST(WorkerHealth, OnlySilentReadyWorkersAreStuck) {
    worker_health health({10s, 10s});
    std::list<worker_record> workers;
    workers.push_back(make_worker(1, worker_state::ready, t0));      // silent: stuck
    workers.push_back(make_worker(2, worker_state::ready, t0 + 5s)); // recent
    workers.push_back(make_worker(3, worker_state::starting, t0));   // not ready yet
    workers.push_back(make_worker(4, worker_state::draining, t0));   // on its way out
    auto leaving = make_worker(5, worker_state::ready, t0);
    leaving.exit_expected = true;
    workers.push_back(std::move(leaving));
    EXPECT_TRUE(health.take_stuck(workers, t0 + 10s).empty()); // exactly at the limit: fine
    auto stuck = health.take_stuck(workers, t0 + 11s);
    ASSERT_EQ(stuck.size(), 1u);
    EXPECT_EQ(stuck[0]->pid, 1);
    EXPECT_TRUE(stuck[0]->killed_stuck);
    EXPECT_TRUE(stuck[0]->exit_expected);
    // Marked once: the next tick does not kill it again.
    EXPECT_TRUE(health.take_stuck(workers, t0 + 12s).empty());
}

TEST(WorkerHealth, WatchdogPingsOnlyWhileEveryHeartbeatIsFresh) {
    worker_health health({5s, 3s});
    std::list<worker_record> workers;
    workers.push_back(make_worker(1, worker_state::ready, t0));
    workers.push_back(make_worker(2, worker_state::ready, t0 + 2s));
    EXPECT_TRUE(health.heartbeats_fresh(workers, t0 + 2s));
    EXPECT_FALSE(health.heartbeats_fresh(workers, t0 + 3s)); // worker 1 at the limit
    workers.front().last_heartbeat = t0 + 3s;
    EXPECT_TRUE(health.heartbeats_fresh(workers, t0 + 4s));
    // A worker that is leaving does not hold the pings back.
    workers.push_back(make_worker(3, worker_state::draining, t0));
    workers.back().exit_expected = true;
    EXPECT_TRUE(health.heartbeats_fresh(workers, t0 + 4s));
    EXPECT_TRUE(health.heartbeats_fresh({}, t0));
}

TEST(WorkerHealth, CrashesAreReplacedWithBackoff) {
    worker_health health({10s, 10s});
    auto crashed = make_worker(7, worker_state::ready, t0, 1, 3);
    // Quick crashes: free at first, then delayed.
    std::optional<clock::duration> delay;
    for (int i = 0; i < 5; ++i) {
        delay = health.on_exit(crashed, "was killed by signal 11 (SIGSEGV)", false, 1, t0 + 1s);
        ASSERT_TRUE(delay);
        EXPECT_EQ(*delay, clock::duration::zero()) << i;
    }
    delay = health.on_exit(crashed, "was killed by signal 11 (SIGSEGV)", false, 1, t0 + 1s);
    ASSERT_TRUE(delay);
    EXPECT_GT(*delay, clock::duration::zero());
    // Another slot has its own record.
    auto other = make_worker(8, worker_state::ready, t0, 1, 4);
    EXPECT_EQ(health.on_exit(other, "exited with status 1", false, 1, t0 + 1s),
              clock::duration::zero());
    // A new generation starts clean.
    health.reset_backoff();
    EXPECT_EQ(health.on_exit(crashed, "exited with status 1", false, 1, t0 + 1s),
              clock::duration::zero());
}

TEST(WorkerHealth, ExpectedExitsAndOldGenerationsAreNotReplaced) {
    worker_health health({10s, 10s});
    auto drained = make_worker(1, worker_state::draining, t0);
    drained.exit_expected = true;
    EXPECT_FALSE(health.on_exit(drained, "exited with status 0", true, 1, t0 + 1s));
    auto old = make_worker(2, worker_state::ready, t0, 1);
    EXPECT_FALSE(health.on_exit(old, "exited with status 1", false, 2, t0 + 1s));
    // Killed for a stale heartbeat: expected, yet replaced.
    auto stuck = make_worker(3, worker_state::ready, t0, 2);
    stuck.exit_expected = true;
    stuck.killed_stuck = true;
    EXPECT_TRUE(health.on_exit(stuck, "was killed by signal 9 (SIGKILL)", false, 2, t0 + 20s));
}

TEST(WorkerHealth, DescribeExit) {
    EXPECT_EQ(describe_exit(0), "exited with status 0");
    EXPECT_TRUE(exited_cleanly(0));
    EXPECT_EQ(describe_exit(1 << 8), "exited with status 1");
    EXPECT_FALSE(exited_cleanly(1 << 8));
    EXPECT_EQ(describe_exit(SIGKILL), "was killed by signal 9 (SIGKILL)");
    EXPECT_FALSE(exited_cleanly(SIGKILL));
}

} // namespace
