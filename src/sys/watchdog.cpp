// The systemd watchdog interval, from libsystemd.
#include "sys/watchdog.hpp"

#include <systemd/sd-daemon.h>

#include <cstdint>

namespace bws::sys {

std::optional<std::chrono::microseconds> watchdog_interval() {
    std::uint64_t usec = 0;
    // unset_environment = 0; workers drop WATCHDOG_* themselves. The call also checks
    // $WATCHDOG_PID against our pid, so a forked child never pings on the master's behalf.
    if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
        return std::chrono::microseconds(usec);
    }
    return std::nullopt;
}

} // namespace bws::sys
