// Rate-limited reporting of log write failures: a full disk must not turn into one stderr line
// per request, yet an operator must learn about it and about the recovery.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

namespace bws::log {

class failure_report {
public:
    using clock = std::chrono::steady_clock;

    // `what` names the target in messages, e.g. "/var/log/bws/access.log" or "journal".
    failure_report(std::string what, clock::duration interval);

    // `lines` lines could not be written because of `error` (an errno value).
    void dropped(std::uint64_t lines, int error);
    // For callers that write their own report (the HTTP failure funnel, through spdlog): counts
    // `n` failures and returns true when a report is due under the same interval, with
    // `unreported` set to the failures counted since the last report (this one included).
    bool admit(std::uint64_t n, std::uint64_t& unreported);
    // A write succeeded; reports the recovery once the interval allows it.
    void succeeded();

    std::uint64_t total_dropped() const;
    std::uint64_t reports_written() const;

    // Where reports go: stderr by default (the journal under systemd). Tests redirect it.
    static void set_report_fd(int fd);

private:
    void emit(const std::string& message); // caller holds mutex_

    mutable std::mutex mutex_;
    std::string what_;
    clock::duration interval_;
    clock::time_point last_report_{};
    bool reported_once_ = false;
    bool failing_ = false;
    std::uint64_t unreported_ = 0; // dropped since the last report
    std::uint64_t total_ = 0;
    std::uint64_t reports_ = 0;
    int last_error_ = 0;
};

} // namespace bws::log
