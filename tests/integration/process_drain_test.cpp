// Load-balancer drain: `bws -s drain` (SIGWINCH) and a graceful stop with [server]
// drain_delay make /health answer 503 "draining" in every worker, respawned ones included,
// while everything else is served; a reload ends a drain.
#include "process_harness.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>

namespace {

using namespace bws::test::proc;

bool health_is(std::uint16_t port, int status, const std::string& word) {
    auto r = get(port, "/health");
    return r.status == status && r.body.find("\"status\":\"" + word + "\"") != std::string::npos;
}

// Fresh connections spread over the workers: all of them must say the same.
bool every_worker_says(std::uint16_t port, int status, const std::string& word) {
    for (int i = 0; i < 20; ++i)
        if (!health_is(port, status, word))
            return false;
    return true;
}

bool status_said(notify_listener& notify, const std::string& prefix) {
    for (const auto& m : notify.messages())
        if (m.text.find(prefix) != std::string::npos)
            return true;
    return false;
}

TEST(ProcessDrain, DrainCommandUntilReload) {
    simple_setup s("drained page\n");
    const auto pid_file = (s.dir.path() / "bws.pid").string();
    bws_process bws(s.dir, s.config_path);
    ASSERT_TRUE(bws.wait_ready()) << bws.log();
    EXPECT_TRUE(health_is(s.port, 200, "healthy"));

    auto drain = run_bws({"-s", "drain", "--pid-file", pid_file});
    EXPECT_EQ(drain.exit_code, 0) << drain.output;
    ASSERT_TRUE(wait_until([&] { return health_is(s.port, 503, "draining"); }, 5s)) << bws.log();
    EXPECT_TRUE(every_worker_says(s.port, 503, "draining"));
    auto page = get(s.port, "/");
    EXPECT_EQ(page.status, 200);
    EXPECT_EQ(page.body, "drained page\n");
    auto detailed = get(s.port, "/health/detailed");
    EXPECT_EQ(detailed.status, 503);
    EXPECT_NE(detailed.body.find("\"draining\":true"), std::string::npos) << detailed.body;
    EXPECT_TRUE(wait_until([&] { return status_said(bws.notify(), "STATUS=draining"); }, 5s));

    // A worker respawned during the drain drains too, from its first request.
    auto workers = bws.workers();
    ASSERT_FALSE(workers.empty());
    ASSERT_EQ(kill(workers.front(), SIGKILL), 0);
    ASSERT_TRUE(wait_until(
        [&] {
            auto now = bws.workers();
            return now.size() == workers.size() &&
                   std::find(now.begin(), now.end(), workers.front()) == now.end();
        },
        10s));
    EXPECT_TRUE(every_worker_says(s.port, 503, "draining"));

    // A reload ends it.
    auto reload = run_bws({"--reload", "--pid-file", pid_file});
    EXPECT_EQ(reload.exit_code, 0) << reload.output;
    EXPECT_TRUE(wait_until([&] { return every_worker_says(s.port, 200, "healthy"); }, 10s))
        << bws.log();
    EXPECT_EQ(bws.stop(), 0);
}

TEST(ProcessDrain, GracefulStopDrainsFirst) {
    simple_setup s("still served\n");
    s.spec.server_extra = "drain_delay = \"1500ms\"\n";
    s.save();
    bws_process bws(s.dir, s.config_path);
    ASSERT_TRUE(bws.wait_ready()) << bws.log();
    ASSERT_EQ(kill(bws.pid(), SIGTERM), 0);
    // During the delay: /health fails, everything else is served, and the master lives on.
    ASSERT_TRUE(wait_until([&] { return health_is(s.port, 503, "draining"); }, 1s)) << bws.log();
    EXPECT_EQ(get(s.port, "/").body, "still served\n");
    // A reload is refused during the delay (the stop is already decided).
    ASSERT_EQ(kill(bws.pid(), SIGHUP), 0);
    EXPECT_TRUE(health_is(s.port, 503, "draining"));
    EXPECT_TRUE(alive(bws.pid()));
    // Then the stop proceeds as without a delay.
    EXPECT_EQ(bws.wait_exit_code(10s), 0) << bws.log();
    EXPECT_TRUE(port_refuses(s.port));
    const auto log = bws.log();
    EXPECT_NE(log.find("graceful stop in 1500 ms"), std::string::npos) << log;
    EXPECT_NE(log.find("SIGHUP ignored"), std::string::npos) << log;
}

TEST(ProcessDrain, SecondSigtermSkipsTheRestOfTheDelay) {
    simple_setup s;
    s.spec.server_extra = "drain_delay = \"60s\"\n";
    s.save();
    bws_process bws(s.dir, s.config_path);
    ASSERT_TRUE(bws.wait_ready()) << bws.log();
    ASSERT_EQ(kill(bws.pid(), SIGTERM), 0);
    ASSERT_TRUE(wait_until([&] { return health_is(s.port, 503, "draining"); }, 5s));
    ASSERT_EQ(kill(bws.pid(), SIGTERM), 0);
    EXPECT_EQ(bws.wait_exit_code(10s), 0) << bws.log(); // not 60 s
}

} // namespace
