// Native journal entries; a failing journal is counted and reported, never thrown.
#include "log/journald_sink.hpp"

#include "log/context.hpp"

#include <fmt/format.h>
#include <systemd/sd-journal.h>

namespace bws::log {

int journal_priority(int spdlog_level) {
    switch (spdlog_level) {
    case spdlog::level::trace:
    case spdlog::level::debug:
        return 7;
    case spdlog::level::info:
        return 6;
    case spdlog::level::warn:
        return 4;
    case spdlog::level::err:
        return 3;
    default:
        return 2;
    }
}

journald_sink::journald_sink()
    : journald_sink([](const struct iovec* iov, int n) { return sd_journal_sendv(iov, n); }) {}

journald_sink::journald_sink(send_function send, failure_report::clock::duration report_interval)
    : send_(std::move(send)), report_("journal", report_interval) {}

void journald_sink::sink_it_(const spdlog::details::log_msg& msg) {
    fields_.clear();
    fields_.push_back(
        fmt::format("MESSAGE={}", std::string_view(msg.payload.data(), msg.payload.size())));
    fields_.push_back(fmt::format("PRIORITY={}", journal_priority(msg.level)));
    fields_.emplace_back("SYSLOG_IDENTIFIER=bws");
    const auto pid = role_pid();
    fields_.push_back(fmt::format("SYSLOG_PID={}", pid));
    fields_.push_back(fmt::format("BWS_ROLE={}", role()));
    if (role() == "worker")
        fields_.push_back(fmt::format("BWS_WORKER_PID={}", pid));
    if (const auto site = current_site(); !site.empty())
        fields_.push_back(fmt::format("BWS_SITE={}", site));
    if (!msg.source.empty()) {
        fields_.push_back(fmt::format("CODE_FILE={}", msg.source.filename));
        fields_.push_back(fmt::format("CODE_LINE={}", msg.source.line));
        if (msg.source.funcname != nullptr)
            fields_.push_back(fmt::format("CODE_FUNC={}", msg.source.funcname));
    }

    std::vector<struct iovec> iov(fields_.size());
    for (std::size_t i = 0; i < fields_.size(); ++i)
        iov[i] = {fields_[i].data(), fields_[i].size()};
    const int result = send_(iov.data(), static_cast<int>(iov.size()));
    if (result < 0)
        report_.dropped(1, -result);
    else
        report_.succeeded();
}

} // namespace bws::log
