// Rate-limited failure reports, written with one write(2) to stderr (never through spdlog: the
// failing sink may be the one spdlog would use).
#include "log/failure_report.hpp"

#include "log/context.hpp"
#include "metrics/shared_metrics.hpp"

#include <atomic>
#include <cstring>
#include <fmt/format.h>
#include <unistd.h>

namespace bws::log {
namespace {
std::atomic<int> report_fd{STDERR_FILENO};
}

failure_report::failure_report(std::string what, clock::duration interval)
    : what_(std::move(what)), interval_(interval) {}

void failure_report::set_report_fd(int fd) {
    report_fd.store(fd);
}

void failure_report::dropped(std::uint64_t lines, int error) {
    metrics::count_log_lines_dropped(lines);
    {
        std::lock_guard lock(mutex_);
        failing_ = true;
        last_error_ = error;
    }
    std::uint64_t unreported = 0;
    if (!admit(lines, unreported))
        return;
    std::lock_guard lock(mutex_);
    emit(fmt::format("cannot write {}: {}; {} line(s) dropped (reported at most every {}s; "
                     "retrying)",
                     what_, std::strerror(error), unreported,
                     std::chrono::duration_cast<std::chrono::seconds>(interval_).count()));
}

bool failure_report::admit(std::uint64_t n, std::uint64_t& unreported) {
    std::lock_guard lock(mutex_);
    total_ += n;
    unreported_ += n;
    const auto now = clock::now();
    if (reported_once_ && now - last_report_ < interval_)
        return false;
    unreported = unreported_;
    unreported_ = 0;
    last_report_ = now;
    reported_once_ = true;
    return true;
}

void failure_report::succeeded() {
    std::lock_guard lock(mutex_);
    if (!failing_)
        return;
    const auto now = clock::now();
    if (now - last_report_ < interval_)
        return; // reported by a later successful write
    emit(fmt::format("writing {} works again; {} more line(s) were dropped ({} in total)", what_,
                     unreported_, total_));
    unreported_ = 0;
    failing_ = false;
    last_report_ = now;
}

std::uint64_t failure_report::total_dropped() const {
    std::lock_guard lock(mutex_);
    return total_;
}

std::uint64_t failure_report::reports_written() const {
    std::lock_guard lock(mutex_);
    return reports_;
}

void failure_report::emit(const std::string& message) {
    const auto line = fmt::format("bws: {}[{}]: log: {}\n", role(), role_pid(), message);
    // Best effort: if stderr fails too there is nowhere left to say so.
    [[maybe_unused]] const auto written = ::write(report_fd.load(), line.data(), line.size());
    ++reports_;
}

} // namespace bws::log
