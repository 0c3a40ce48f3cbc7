// Crash recovery: a worker killed with SIGKILL under load is replaced within a second and the
// master stays up.
#include "process_harness.hpp"

#include <gtest/gtest.h>

namespace {

using namespace bws::test::proc;

TEST(ProcessCrash, KilledWorkerIsReplacedUnderLoad) {
    simple_setup s;
    bws_process bws(s.dir, s.config_path);
    ASSERT_TRUE(bws.wait_ready()) << bws.log();
    std::atomic<bool> done{false};
    std::atomic<int> ok{0};
    std::thread load([&] {
        http_client c(s.port);
        while (!done) {
            if (c.get("/").status == 200) {
                ++ok;
            } else {
                c.reset();
            }
        }
    });
    ASSERT_TRUE(wait_until([&] { return ok > 10; }, 5s));
    auto before = bws.workers();
    ASSERT_EQ(before.size(), 2u);
    pid_t victim = before[0];
    auto t0 = steady::now();
    kill(victim, SIGKILL);
    bool replaced = wait_until(
        [&] {
            auto now = bws.workers();
            return now.size() == 2 && std::find(now.begin(), now.end(), victim) == now.end();
        },
        3s);
    auto took = steady::now() - t0;
    EXPECT_TRUE(replaced);
    EXPECT_LT(took, 1s);
    // The replacement serves: requests keep succeeding.
    int after = ok.load();
    EXPECT_TRUE(wait_until([&] { return ok > after + 10; }, 5s));
    done = true;
    load.join();
    EXPECT_TRUE(alive(bws.pid()));
    EXPECT_NE(bws.log().find(std::to_string(victim)), std::string::npos);
    EXPECT_EQ(bws.stop(), 0);
}

TEST(ProcessCrash, RepeatedCrashesBackOffMasterStaysUp) {
    simple_setup s("x", 1);
    bws_process bws(s.dir, s.config_path);
    ASSERT_TRUE(bws.wait_ready()) << bws.log();
    // Kill the worker of the one slot 7 times as fast as it comes back.
    for (int i = 0; i < 7; ++i) {
        std::vector<pid_t> w;
        ASSERT_TRUE(wait_until([&] { return (w = bws.workers()).size() == 1; }, 5s)) << i;
        kill(w[0], SIGKILL);
        ASSERT_TRUE(wait_until([&] { return !alive(w[0]); }, 2s));
    }
    EXPECT_TRUE(alive(bws.pid()));
    EXPECT_TRUE(
        wait_until([&] { return bws.log().find("keeps crashing") != std::string::npos; }, 3s))
        << bws.log();
    // Still recovers.
    EXPECT_TRUE(wait_until([&] { return get(s.port, "/").status == 200; }, 10s));
    EXPECT_EQ(bws.stop(), 0);
}

} // namespace
