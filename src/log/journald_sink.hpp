// spdlog sink writing native journal entries (sd_journal_sendv) with structured fields:
// MESSAGE, PRIORITY, SYSLOG_IDENTIFIER=bws, SYSLOG_PID, BWS_ROLE, BWS_WORKER_PID (workers),
// BWS_SITE (when a site_scope is active), CODE_FILE/CODE_LINE/CODE_FUNC (when known).
#pragma once

#include "log/failure_report.hpp"

#include <functional>
#include <mutex>
#include <spdlog/sinks/base_sink.h>
#include <string>
#include <sys/uio.h>
#include <vector>

namespace bws::log {

// The journal PRIORITY of an spdlog level: trace/debug 7, info 6, warn 4, error 3, critical 2.
int journal_priority(int spdlog_level);

class journald_sink final : public spdlog::sinks::base_sink<std::mutex> {
public:
    // Same contract as sd_journal_sendv: returns 0 or a negative errno. Replaceable for tests.
    using send_function = std::function<int(const struct iovec*, int)>;

    journald_sink();
    explicit journald_sink(send_function send, failure_report::clock::duration report_interval =
                                                   std::chrono::minutes(1));

    std::uint64_t failed_entries() const { return report_.total_dropped(); }

protected:
    void sink_it_(const spdlog::details::log_msg& msg) override;
    void flush_() override {}

private:
    send_function send_;
    failure_report report_;
    std::vector<std::string> fields_; // reused storage for one entry
};

} // namespace bws::log
