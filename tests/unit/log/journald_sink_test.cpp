// The journald sink's fields and priorities, and its behaviour when the journal fails.
#include "log/context.hpp"
#include "log/failure_report.hpp"
#include "log/journald_sink.hpp"
#include "support/log_text.hpp"
#include "support/temp_dir.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <map>
#include <spdlog/spdlog.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

namespace bws::log {
namespace {

using entry = std::map<std::string, std::string>;

entry to_entry(const struct iovec* iov, int n) {
    entry fields;
    for (int i = 0; i < n; ++i) {
        const std::string field(static_cast<const char*>(iov[i].iov_base), iov[i].iov_len);
        const auto eq = field.find('=');
        fields[field.substr(0, eq)] = field.substr(eq + 1);
    }
    return fields;
}

// What spdlog::logger catches from its sinks (it never lets an exception out): a test that
// only checked for "no throw" around a logger call could not fail.
std::shared_ptr<std::vector<std::string>> record_errors(spdlog::logger& logger) {
    auto errors = std::make_shared<std::vector<std::string>>();
    logger.set_error_handler([errors](const std::string& message) { errors->push_back(message); });
    return errors;
}

TEST(LogJournald, Priorities) {
    EXPECT_EQ(journal_priority(spdlog::level::trace), 7);
    EXPECT_EQ(journal_priority(spdlog::level::debug), 7);
    EXPECT_EQ(journal_priority(spdlog::level::info), 6);
    EXPECT_EQ(journal_priority(spdlog::level::warn), 4);
    EXPECT_EQ(journal_priority(spdlog::level::err), 3);
    EXPECT_EQ(journal_priority(spdlog::level::critical), 2);
}

TEST(LogJournald, SendsStructuredFields) {
    std::vector<entry> sent;
    auto sink = std::make_shared<journald_sink>([&](const struct iovec* iov, int n) {
        sent.push_back(to_entry(iov, n));
        return 0;
    });
    spdlog::logger logger("j", sink);
    logger.set_level(spdlog::level::trace);
    set_role("worker");
    {
        site_scope scope("main");
        logger.warn("disk {} is slow", "sda");
    }
    set_role("master");
    logger.log(spdlog::source_loc{"src/app/master.cpp", 42, "run"}, spdlog::level::info, "up");
    set_role("bws");

    ASSERT_EQ(sent.size(), 2u);
    const auto pid = std::to_string(::getpid());
    EXPECT_EQ(sent[0]["MESSAGE"], "disk sda is slow");
    EXPECT_EQ(sent[0]["PRIORITY"], "4");
    EXPECT_EQ(sent[0]["SYSLOG_IDENTIFIER"], "bws");
    EXPECT_EQ(sent[0]["SYSLOG_PID"], pid);
    EXPECT_EQ(sent[0]["BWS_ROLE"], "worker");
    EXPECT_EQ(sent[0]["BWS_WORKER_PID"], pid);
    EXPECT_EQ(sent[0]["BWS_SITE"], "main");
    EXPECT_EQ(sent[0].count("CODE_FILE"), 0u);

    EXPECT_EQ(sent[1]["PRIORITY"], "6");
    EXPECT_EQ(sent[1]["BWS_ROLE"], "master");
    EXPECT_EQ(sent[1].count("BWS_SITE"), 0u);
    EXPECT_EQ(sent[1].count("BWS_WORKER_PID"), 0u);
    EXPECT_EQ(sent[1]["CODE_FILE"], "src/app/master.cpp");
    EXPECT_EQ(sent[1]["CODE_LINE"], "42");
    EXPECT_EQ(sent[1]["CODE_FUNC"], "run");
}

TEST(LogJournald, FailingJournalIsCountedAndReportedOncePerInterval) {
    test::temp_dir dir;
    const int report = ::open((dir / "stderr").c_str(), O_CREAT | O_WRONLY | O_APPEND, 0600);
    ASSERT_GE(report, 0);
    failure_report::set_report_fd(report);
    int result = -EAGAIN;
    auto sink = std::make_shared<journald_sink>([&](const struct iovec*, int) { return result; },
                                                std::chrono::minutes(1));
    spdlog::logger logger("j", sink);
    const auto errors = record_errors(logger);
    for (int i = 0; i < 100; ++i)
        logger.error("lost {}", i);
    EXPECT_TRUE(errors->empty()) << errors->front(); // nothing thrown at spdlog
    EXPECT_EQ(sink->failed_entries(), 100u);
    result = 0;
    logger.info("delivered");
    failure_report::set_report_fd(2);
    ::close(report);
    const auto lines = test::split_lines(test::read_file(dir / "stderr"));
    ASSERT_EQ(lines.size(), 1u); // the recovery is reported only after the interval
    EXPECT_NE(lines[0].find("cannot write journal"), std::string::npos) << lines[0];
}

TEST(LogJournald, RealJournalDeliversOrCounts) {
    // Whether or not a journal runs here, the entry is either delivered or counted as failed,
    // and nothing is thrown. The sink is called directly: spdlog::logger would catch (and
    // print) any exception, so an EXPECT_NO_THROW around a logger call could never fail.
    const bool journal_accepts =
        sd_journal_send("MESSAGE=bws unit test: journal probe", "PRIORITY=7", nullptr) == 0;
    auto sink = std::make_shared<journald_sink>();
    const spdlog::details::log_msg msg("j", spdlog::level::info,
                                       "bws unit test: journald sink smoke test");
    EXPECT_NO_THROW(sink->log(msg));
    EXPECT_EQ(sink->failed_entries(), journal_accepts ? 0u : 1u);

    // Through a logger too, with its error handler recording what it would have swallowed.
    spdlog::logger logger("j", sink);
    const auto errors = record_errors(logger);
    logger.info("bws unit test: journald sink smoke test");
    EXPECT_TRUE(errors->empty()) << errors->front();
    EXPECT_EQ(sink->failed_entries(), journal_accepts ? 0u : 2u);
}

} // namespace
} // namespace bws::log
