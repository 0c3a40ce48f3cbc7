// sd_notify as systemd sees it: the message sequence for start, reload, failed reload, stop,
// and watchdog pings (rate, and stopping while a worker is frozen).
#include "process_harness.hpp"

#include <gtest/gtest.h>

namespace {

using namespace bws::test::proc;

// Messages other than periodic STATUS= refreshes and watchdog pings.
std::vector<std::string> lifecycle(notify_listener& n) {
    std::vector<std::string> out;
    for (auto& m : n.messages()) {
        if (m.text.rfind("STATUS=", 0) == 0 || m.text == "WATCHDOG=1") {
            continue;
        }
        out.push_back(m.text);
    }
    return out;
}

TEST(NotifySequence, StartReloadFailedReloadStop) {
    simple_setup s;
    bws_process bws(s.dir, s.config_path);
    ASSERT_TRUE(bws.wait_ready()) << bws.log();
    auto pid_path = (s.dir.path() / "bws.pid").string();
    auto ok = run_bws({"--reload", "--pid-file", pid_path});
    ASSERT_EQ(ok.exit_code, 0) << ok.output;
    s.dir.write("config.toml", "[server\n");
    auto bad = run_bws({"--reload", "--pid-file", pid_path});
    ASSERT_EQ(bad.exit_code, 1) << bad.output;
    ASSERT_EQ(bws.stop(), 0);
    auto seq = lifecycle(bws.notify());
    ASSERT_EQ(seq.size(), 6u) << ::testing::PrintToString(seq);
    EXPECT_EQ(seq[0].rfind("READY=1\nSTATUS=serving 1 site on 1 listener, 2 workers, "
                           "generation 1",
                           0),
              0u)
        << seq[0];
    EXPECT_EQ(seq[1].rfind("RELOADING=1\nMONOTONIC_USEC=", 0), 0u) << seq[1];
    auto usec = std::stoull(seq[1].substr(seq[1].find('=', 12) + 1));
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    auto now_usec = static_cast<unsigned long long>(ts.tv_sec) * 1000000ull +
                    static_cast<unsigned long long>(ts.tv_nsec) / 1000ull;
    EXPECT_LE(usec, now_usec);
    EXPECT_GT(usec + 60000000ull, now_usec);
    EXPECT_EQ(seq[2].rfind("READY=1\nSTATUS=reload #1 ok", 0), 0u) << seq[2];
    EXPECT_NE(seq[2].find("generation 2"), std::string::npos) << seq[2];
    EXPECT_EQ(seq[3].rfind("RELOADING=1\nMONOTONIC_USEC=", 0), 0u) << seq[3];
    EXPECT_EQ(seq[4].rfind("READY=1\nSTATUS=reload #2 failed: invalid configuration", 0), 0u)
        << seq[4];
    EXPECT_EQ(seq[5].rfind("STOPPING=1", 0), 0u) << seq[5];
}

TEST(NotifySequence, WorkersDoNotSeeNotifySocket) {
    simple_setup s;
    bws_process bws(s.dir, s.config_path);
    ASSERT_TRUE(bws.wait_ready()) << bws.log();
    for (pid_t w : bws.workers()) {
        auto env = read_file("/proc/" + std::to_string(w) + "/environ");
        EXPECT_EQ(env.find("NOTIFY_SOCKET="), std::string::npos);
    }
    EXPECT_EQ(bws.stop(), 0);
}

std::vector<steady::time_point> pings(notify_listener& n) {
    std::vector<steady::time_point> out;
    for (auto& m : n.messages()) {
        if (m.text == "WATCHDOG=1") {
            out.push_back(m.time);
        }
    }
    return out;
}

TEST(NotifyWatchdog, PingRateAndFrozenWorker) {
    simple_setup s;
    bws_process bws(s.dir, s.config_path, {"WATCHDOG_USEC=1000000"});
    ASSERT_TRUE(bws.wait_ready()) << bws.log();
    auto t0 = steady::now();
    std::this_thread::sleep_for(3s); // measuring a rate needs wall time
    auto all = pings(bws.notify());
    auto count = std::count_if(all.begin(), all.end(), [&](auto t) { return t >= t0; });
    EXPECT_GE(count, 5);
    EXPECT_LE(count, 7);

    auto workers = bws.workers();
    ASSERT_EQ(workers.size(), 2u);
    pid_t frozen = workers[0];
    auto frozen_at = steady::now();
    kill(frozen, SIGSTOP);
    // The frozen worker is killed and replaced...
    EXPECT_TRUE(wait_until([&] { return !alive(frozen); }, 15s)) << bws.log();
    EXPECT_TRUE(wait_until([&] { return bws.workers().size() == 2; }, 3s));
    // ...and pings paused in between, then resumed.
    auto resumed_from = steady::now();
    auto pings_since_resumed = [&] {
        all = pings(bws.notify());
        return std::count_if(all.begin(), all.end(), [&](auto t) { return t >= resumed_from; });
    };
    wait_until([&] { return pings_since_resumed() >= 2; }, 5s);
    steady::duration longest{0};
    steady::time_point prev = frozen_at;
    for (auto t : all) {
        if (t > frozen_at && t < resumed_from) {
            longest = std::max(longest, t - prev);
            prev = t;
        }
    }
    longest = std::max(longest, resumed_from - prev);
    EXPECT_GE(longest, 1500ms) << "pings did not stop while a worker was frozen";
    EXPECT_GE(pings_since_resumed(), 2) << "pings did not resume after the replacement";
    EXPECT_EQ(bws.stop(), 0);
}

} // namespace
