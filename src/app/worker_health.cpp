// Heartbeat checks and crash replacement decisions.
#include "app/worker_health.hpp"

#include <spdlog/spdlog.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstring>

namespace bws::app {

using namespace std::chrono_literals;

namespace {

// With the watchdog on, a heartbeat counts as fresh for at least this long, so one late
// heartbeat does not skip a ping.
constexpr clock::duration min_fresh = 3s;

} // namespace

std::string describe_exit(int status) {
    if (WIFEXITED(status)) {
        return "exited with status " + std::to_string(WEXITSTATUS(status));
    }
    if (WIFSIGNALED(status)) {
        const char* name = sigabbrev_np(WTERMSIG(status));
        return "was killed by signal " + std::to_string(WTERMSIG(status)) +
               (name != nullptr ? std::string(" (SIG") + name + ")" : std::string());
    }
    return "ended with wait status " + std::to_string(status);
}

bool exited_cleanly(int status) {
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

worker_health::timing worker_health::timing_for(std::optional<std::chrono::microseconds> watchdog) {
    timing t;
    if (watchdog) {
        auto interval = std::chrono::duration_cast<clock::duration>(*watchdog);
        t.fresh_limit = std::max(interval, min_fresh);
        // Kill a stuck worker a little after pings stop, so that systemd sees the gap when
        // its interval is short, and the replacement happens before it acts when it is long.
        t.stale_after = std::min(t.stale_after, t.fresh_limit + 2s);
    }
    return t;
}

std::vector<worker_record*> worker_health::take_stuck(std::list<worker_record>& workers,
                                                      clock::time_point now) const {
    std::vector<worker_record*> stuck;
    for (auto& w : workers) {
        if (w.state == worker_state::ready && !w.exit_expected &&
            now - w.last_heartbeat > timing_.stale_after) {
            spdlog::error(
                "worker {} (slot {}) sent no heartbeat for {} s; killing it", w.pid, w.index,
                std::chrono::duration_cast<std::chrono::seconds>(now - w.last_heartbeat).count());
            w.exit_expected = true;
            w.killed_stuck = true;
            stuck.push_back(&w);
        }
    }
    return stuck;
}

bool worker_health::heartbeats_fresh(const std::list<worker_record>& workers,
                                     clock::time_point now) const {
    return std::none_of(workers.begin(), workers.end(), [&](const worker_record& w) {
        return !w.exit_expected && now - w.last_heartbeat >= timing_.fresh_limit;
    });
}

std::optional<clock::duration> worker_health::on_exit(const worker_record& worker,
                                                      const std::string& what, bool clean,
                                                      unsigned generation, clock::time_point now) {
    bool unexpected = !worker.exit_expected || worker.killed_stuck;
    if (worker.generation == generation && unexpected) {
        auto uptime = std::chrono::duration_cast<std::chrono::milliseconds>(now - worker.spawned);
        auto delay = backoff_[worker.index].on_crash(uptime);
        if (worker.killed_stuck) {
            spdlog::warn("stuck worker {} (slot {}) {}; replacing it", worker.pid, worker.index,
                         what);
        } else if (delay.count() == 0) {
            spdlog::error("worker {} (slot {}) {}; replacing it", worker.pid, worker.index, what);
        } else {
            spdlog::error("worker {} (slot {}) {}; it keeps crashing, replacing it in {} ms",
                          worker.pid, worker.index, what, delay.count());
        }
        return delay;
    }
    if (!clean && !worker.exit_expected) {
        spdlog::warn("worker {} of generation {} {}", worker.pid, worker.generation, what);
    } else {
        spdlog::debug("worker {} of generation {} {}", worker.pid, worker.generation, what);
    }
    return std::nullopt;
}

} // namespace bws::app
