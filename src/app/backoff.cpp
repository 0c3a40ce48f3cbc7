// Crash backoff arithmetic.
#include "app/backoff.hpp"

#include <algorithm>

namespace bws::app {

crash_backoff::duration crash_backoff::on_crash(duration uptime) {
    if (uptime >= policy_.stable_after) {
        streak_ = 0;
    }
    ++streak_;
    if (streak_ <= policy_.free_crashes) {
        return duration::zero();
    }
    unsigned doublings = std::min(streak_ - policy_.free_crashes - 1, 30u);
    auto delay = policy_.base * (std::int64_t{1} << doublings);
    return std::min(delay, policy_.max);
}

} // namespace bws::app
