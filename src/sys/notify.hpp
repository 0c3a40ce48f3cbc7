// sd_notify wrapper: every message the master sends to systemd goes through here, so that the
// exact wording is in one place and silent outside systemd (no $NOTIFY_SOCKET).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace bws::sys {

// CLOCK_MONOTONIC in microseconds, as systemd expects in MONOTONIC_USEC=.
std::uint64_t monotonic_usec();

// Message texts (newline-separated assignments). A status text never contains a newline: it
// would end the assignment, so newlines are replaced by spaces.
std::string ready_message(std::string_view status);
std::string reloading_message(std::uint64_t monotonic_usec, std::string_view status);
std::string stopping_message(std::string_view status);
std::string status_message(std::string_view status);
std::string watchdog_message();

// Sends `message` to $NOTIFY_SOCKET; does nothing when it is unset. Returns true when sent.
bool notify(const std::string& message);

} // namespace bws::sys
