// Worker health: heartbeat freshness (stuck workers are killed, and the systemd watchdog is
// pinged only while every heartbeat is fresh) and what to do when a worker dies (replace it,
// with backoff when it keeps crashing). Times are passed in, so tests need no clock.
#pragma once

#include "app/backoff.hpp"
#include "app/supervisor.hpp"

#include <chrono>
#include <list>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace bws::app {

// "exited with status 1", "was killed by signal 9 (SIGKILL)".
std::string describe_exit(int wait_status);
bool exited_cleanly(int wait_status);

class worker_health {
public:
    struct timing {
        // A ready worker silent for longer is stuck: killed and replaced.
        clock::duration stale_after = std::chrono::seconds(10);
        // A worker silent for this long holds back watchdog pings.
        clock::duration fresh_limit = std::chrono::seconds(10);
    };
    // The timing for a systemd watchdog interval (nullopt: no watchdog).
    static timing timing_for(std::optional<std::chrono::microseconds> watchdog);

    explicit worker_health(timing t) : timing_(t) {}

    // Marks every stuck worker (ready, not on its way out, silent longer than stale_after at
    // `now`) as exit_expected + killed_stuck and returns them: the caller kills them.
    std::vector<worker_record*> take_stuck(std::list<worker_record>& workers,
                                           clock::time_point now) const;
    // True while every worker that is meant to live has been heard from within fresh_limit.
    bool heartbeats_fresh(const std::list<worker_record>& workers, clock::time_point now) const;

    // A worker of the serving generation `generation` has exited (`what`, `clean` from its
    // wait status): logs it and returns the delay before its slot is refilled, or nullopt
    // when it is not to be replaced (it was told to go, or belongs to another generation).
    std::optional<clock::duration> on_exit(const worker_record& worker, const std::string& what,
                                           bool clean, unsigned generation, clock::time_point now);
    // A new generation took over: its slots start with a clean record.
    void reset_backoff() { backoff_.clear(); }

    const timing& times() const { return timing_; }

private:
    timing timing_;
    std::map<unsigned, crash_backoff> backoff_; // per slot
};

} // namespace bws::app
