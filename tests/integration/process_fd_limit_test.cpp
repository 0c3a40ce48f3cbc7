// File descriptors run out (issue 16): accept() fails with EMFILE. The worker must keep
// serving the connections it holds, not spin, report at a bounded rate, and accept again by
// itself once descriptors are free. The limit is lowered on the running worker with prlimit(2),
// as a low LimitNOFILE= would set it.
#include "process_harness.hpp"

#include <gtest/gtest.h>

#include <sys/resource.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

namespace {

using namespace bws::test::proc;
using bws::test::connection;
using bws::test::get;

std::size_t open_fds(pid_t pid) {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& entry :
         std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd"))
        ++n;
    return n;
}

// utime + stime of `pid`, in clock ticks.
long cpu_ticks(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::istringstream fields(text.substr(text.rfind(')') + 2));
    std::string field;
    long utime = 0, stime = 0;
    for (int i = 3; fields >> field; ++i) {
        if (i == 14)
            utime = std::stol(field);
        if (i == 15) {
            stime = std::stol(field);
            break;
        }
    }
    return utime + stime;
}

std::size_t count(const std::string& text, const std::string& needle) {
    std::size_t n = 0;
    for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
        ++n;
    return n;
}

TEST(ProcessFdLimit, AcceptBacksOffKeepsServingAndRecovers) {
    simple_setup s("fd\n", 1);
    // bws inherits the limit, as from LimitNOFILE= (prlimit(2) on the running worker would
    // need CAP_SYS_RESOURCE, which containers often lack). This process takes its own limit
    // back at once: it needs more descriptors than the worker may have.
    rlimit limit{};
    ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &limit), 0);
    rlimit low = limit;
    low.rlim_cur = 48;
    ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
    auto bws = std::make_unique<bws_process>(s.dir, s.config_path);
    ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &limit), 0);
    ASSERT_TRUE(bws->wait_ready()) << bws->log();
    const pid_t worker = bws->workers().front();
    const std::size_t in_use = open_fds(worker);
    ASSERT_LT(in_use, 40u) << "the worker needs more descriptors than this test expects";
    const std::size_t headroom = 48 - in_use;

    // More keep-alive clients than the worker has descriptors for: some are accepted and
    // answered, the rest wait in the kernel's accept queue.
    const std::size_t clients = headroom + 12;
    std::vector<std::unique_ptr<connection>> held;
    for (std::size_t i = 0; i < clients; ++i) {
        held.push_back(std::make_unique<connection>(s.port, 300ms));
        ASSERT_TRUE(held.back()->connected());
        held.back()->send("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
    }
    std::vector<connection*> answered;
    for (auto& c : held)
        if (c->read_response().status != 0)
            answered.push_back(c.get());
    ASSERT_FALSE(answered.empty()) << bws->log();
    EXPECT_LT(answered.size(), clients) << "the limit did not bite: every client was accepted";

    // Out of descriptors, with clients waiting: the worker waits instead of spinning.
    const long before = cpu_ticks(worker);
    std::this_thread::sleep_for(1s); // the measurement interval
    const long used = cpu_ticks(worker) - before;
    EXPECT_LT(used, sysconf(_SC_CLK_TCK) / 5) << "worker used " << used << " ticks in 1 s";

    // The connections it holds are still served.
    for (connection* c : answered) {
        ASSERT_TRUE(c->send("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"));
        EXPECT_NE(c->read_response().status, 0);
    }
    // Reported, at a bounded rate (one report per interval, not one per failed accept).
    const auto log = bws->log();
    EXPECT_GE(count(log, "accept"), 1u) << log;
    EXPECT_LE(count(log, "accept"), 3u) << log;

    // Descriptors free again: it accepts by itself.
    held.clear();
    EXPECT_TRUE(wait_until([&] { return get(s.port, "/").body == "fd\n"; }, 5s)) << bws->log();
    EXPECT_TRUE(alive(worker));
    EXPECT_EQ(bws->stop(), 0);
}

} // namespace
