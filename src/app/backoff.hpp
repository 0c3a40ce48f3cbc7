// Respawn backoff for a worker slot that keeps crashing: immediate replacement for the first
// few crashes, then exponentially growing delays so a crash loop cannot burn the CPU.
#pragma once

#include <chrono>

namespace bws::app {

class crash_backoff {
public:
    using duration = std::chrono::milliseconds;

    struct policy {
        unsigned free_crashes = 5;     // quick crashes replaced without delay
        duration stable_after{10'000}; // a worker that lived this long resets
        duration base{500};            // first delay after the free crashes
        duration max{30'000};          // cap
    };

    crash_backoff() = default;
    explicit crash_backoff(policy p) : policy_(p) {}

    // A worker of this slot died unexpectedly after `uptime`; returns how long to wait before
    // starting its replacement.
    duration on_crash(duration uptime);

    unsigned streak() const { return streak_; }

private:
    policy policy_;
    unsigned streak_ = 0; // consecutive crashes of workers that did not live stable_after
};

} // namespace bws::app
