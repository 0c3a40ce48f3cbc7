// sd_notify wrapper (libsystemd).
#include "sys/notify.hpp"

#include <systemd/sd-daemon.h>
#include <time.h>

#include <algorithm>

namespace bws::sys {

namespace {

std::string one_line(std::string_view text) {
    std::string line(text);
    std::replace(line.begin(), line.end(), '\n', ' ');
    return line;
}

std::string with_status(std::string message, std::string_view status) {
    if (!status.empty()) {
        message += "\nSTATUS=";
        message += one_line(status);
    }
    return message;
}

} // namespace

std::uint64_t monotonic_usec() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000u +
           static_cast<std::uint64_t>(ts.tv_nsec) / 1'000u;
}

std::string ready_message(std::string_view status) {
    return with_status("READY=1", status);
}

std::string reloading_message(std::uint64_t usec, std::string_view status) {
    return with_status("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec), status);
}

std::string stopping_message(std::string_view status) {
    return with_status("STOPPING=1", status);
}

std::string status_message(std::string_view status) {
    return "STATUS=" + one_line(status);
}

std::string watchdog_message() {
    return "WATCHDOG=1";
}

bool notify(const std::string& message) {
    // unset_environment = 0: the master keeps $NOTIFY_SOCKET for later messages; workers
    // drop it themselves right after fork.
    return sd_notify(0, message.c_str()) > 0;
}

} // namespace bws::sys
