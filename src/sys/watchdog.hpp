// The systemd watchdog interval ($WATCHDOG_USEC, for this process only).
#pragma once

#include <chrono>
#include <optional>

namespace bws::sys {

// The interval after which systemd considers the service hung when no WATCHDOG=1 arrived, or
// nullopt when the watchdog is not enabled for this process.
std::optional<std::chrono::microseconds> watchdog_interval();

// How often to ping: half the interval, as sd_watchdog_enabled(3) recommends.
inline std::chrono::microseconds watchdog_ping_period(std::chrono::microseconds interval) {
    return interval / 2;
}

} // namespace bws::sys
