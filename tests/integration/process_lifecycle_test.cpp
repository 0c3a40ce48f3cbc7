// The real bws binary: process titles, PID file lifecycle, second-instance refusal, signal
// commands and their exit codes, --daemon, privilege drop.
#include "process_harness.hpp"

#include <gtest/gtest.h>

#include <pwd.h>

#include <regex>

namespace {

using namespace bws::test::proc;

TEST(ProcessLifecycle, TitlesAndWorkers) {
    simple_setup s;
    bws_process bws(s.dir, s.config_path);
    ASSERT_TRUE(bws.wait_ready()) << bws.log();
    auto master_title = cmdline_of(bws.pid());
    EXPECT_EQ(master_title.rfind("bws: master process ", 0), 0u) << master_title;
    EXPECT_NE(master_title.find(s.config_path.string()), std::string::npos) << master_title;
    auto workers = bws.workers();
    ASSERT_EQ(workers.size(), 2u);
    // What `pgrep -f "bws.*master"` / `pgrep -f "bws.*worker"` match, over our process tree.
    std::regex master_re("bws.*master"), worker_re("bws.*worker");
    EXPECT_TRUE(std::regex_search(master_title, master_re));
    EXPECT_FALSE(std::regex_search(master_title, worker_re));
    for (pid_t w : workers) {
        auto title = cmdline_of(w);
        EXPECT_EQ(title, "bws: worker process");
        EXPECT_FALSE(std::regex_search(title, master_re));
    }
    EXPECT_EQ(get(s.port, "/").body, "hello\n");
    EXPECT_EQ(bws.stop(), 0);
}

TEST(ProcessLifecycle, PidFileLifecycleAndSecondInstance) {
    simple_setup s;
    auto pid_path = s.dir.path() / "bws.pid";
    bws_process bws(s.dir, s.config_path);
    ASSERT_TRUE(bws.wait_ready()) << bws.log();
    EXPECT_EQ(read_file(pid_path), std::to_string(bws.pid()) + "\n");

    // A second instance with the same PID file (and another port) refuses to start.
    auto other = s.spec;
    other.sites[0].port = free_port();
    auto other_config = s.dir.write("other.toml", render(other));
    auto second = run_bws({"-c", other_config.string()}, 20s);
    EXPECT_EQ(second.exit_code, 1);
    EXPECT_NE(second.output.find("another bws (pid " + std::to_string(bws.pid()) +
                                 ") is running with PID file " + pid_path.string()),
              std::string::npos)
        << second.output;
    EXPECT_EQ(read_file(pid_path), std::to_string(bws.pid()) + "\n");

    EXPECT_EQ(bws.stop(), 0);
    EXPECT_FALSE(fs::exists(pid_path));
    EXPECT_FALSE(fs::exists(pid_path.string() + ".state"));
}

TEST(ProcessLifecycle, StalePidFileIsReplaced) {
    simple_setup s;
    auto pid_path = s.dir.path() / "bws.pid";
    s.dir.write("bws.pid", "999999\n");
    bws_process bws(s.dir, s.config_path);
    ASSERT_TRUE(bws.wait_ready()) << bws.log();
    EXPECT_EQ(read_file(pid_path), std::to_string(bws.pid()) + "\n");
    EXPECT_EQ(bws.stop(), 0);
}

TEST(ProcessLifecycle, SignalCommandErrors) {
    temp_dir dir;
    auto missing = run_bws({"-s", "reload", "--pid-file", (dir.path() / "none.pid").string()});
    EXPECT_EQ(missing.exit_code, 1);
    EXPECT_NE(missing.output.find("not found"), std::string::npos) << missing.output;
    dir.write("stale.pid", "999999\n");
    auto stale = run_bws({"--reload", "--pid-file", (dir.path() / "stale.pid").string()});
    EXPECT_EQ(stale.exit_code, 1);
    EXPECT_NE(stale.output.find("stale"), std::string::npos) << stale.output;
}

TEST(ProcessLifecycle, StopAndReopenThroughPidFile) {
    simple_setup s;
    auto pid_path = (s.dir.path() / "bws.pid").string();
    bws_process bws(s.dir, s.config_path);
    ASSERT_TRUE(bws.wait_ready()) << bws.log();
    auto reopen = run_bws({"-s", "reopen", "--pid-file", pid_path});
    EXPECT_EQ(reopen.exit_code, 0) << reopen.output;
    EXPECT_EQ(get(s.port, "/").status, 200);
    auto stop = run_bws({"-s", "stop", "--pid-file", pid_path}, 30s);
    EXPECT_EQ(stop.exit_code, 0) << stop.output;
    // `-s stop` returns once the master is gone: it is a zombie or reaped by now.
    EXPECT_EQ(bws.wait_exit_code(2s), 0);
    EXPECT_TRUE(port_refuses(s.port));
}

TEST(ProcessLifecycle, QuitIsFast) {
    simple_setup s;
    bws_process bws(s.dir, s.config_path);
    ASSERT_TRUE(bws.wait_ready()) << bws.log();
    auto workers = bws.workers();
    auto t0 = steady::now();
    EXPECT_EQ(bws.stop(SIGQUIT, 10s), 0);
    EXPECT_LT(steady::now() - t0, 5s);
    for (pid_t w : workers) {
        EXPECT_TRUE(wait_until([&] { return !alive(w); }, 3s)) << w;
    }
}

TEST(ProcessLifecycle, Daemon) {
    simple_setup s;
    auto pid_path = s.dir.path() / "bws.pid";
    auto launch = run_bws({"--daemon", "-c", s.config_path.string()}, 30s);
    ASSERT_EQ(launch.exit_code, 0) << launch.output;
    // The launcher returned only once the master serves.
    auto pid_text = read_file(pid_path);
    ASSERT_FALSE(pid_text.empty());
    pid_t pid = std::stoi(pid_text);
    EXPECT_EQ(get(s.port, "/").body, "hello\n");
    EXPECT_TRUE(cmdline_of(pid).rfind("bws: master process", 0) == 0);
    EXPECT_NE(parent_of(pid), getpid());
    EXPECT_NE(getsid(pid), getsid(0)); // its own session
    auto stop = run_bws({"-s", "stop", "--pid-file", pid_path.string()}, 30s);
    EXPECT_EQ(stop.exit_code, 0) << stop.output;
    EXPECT_FALSE(fs::exists(pid_path));
    if (alive(pid)) {
        kill(pid, SIGKILL);
    }
}

TEST(ProcessLifecycle, DaemonReportsStartupFailure) {
    simple_setup s;
    // Occupy the port so the master cannot listen.
    int blocker = listen_on(s.port);
    ASSERT_GE(blocker, 0);
    auto launch = run_bws({"--daemon", "-c", s.config_path.string()}, 30s);
    close(blocker);
    EXPECT_EQ(launch.exit_code, 1);
    EXPECT_NE(launch.output.find(std::to_string(s.port)), std::string::npos) << launch.output;
    EXPECT_FALSE(fs::exists(s.dir.path() / "bws.pid"));
}

TEST(ProcessLifecycle, WorkersDropPrivilegesWhenRoot) {
    if (geteuid() != 0) {
        GTEST_SKIP() << "privilege drop needs the test to run as root";
    }
    simple_setup s;
    bws_process bws(s.dir, s.config_path);
    ASSERT_TRUE(bws.wait_ready()) << bws.log();
    uid_t nobody = getpwnam("nobody")->pw_uid;
    EXPECT_EQ(uid_of(bws.pid()), 0u); // the master keeps root (ports, reloads)
    auto workers = bws.workers();
    ASSERT_FALSE(workers.empty());
    for (pid_t w : workers) {
        EXPECT_EQ(uid_of(w), nobody) << w;
    }
    EXPECT_EQ(get(s.port, "/").status, 200);
    EXPECT_EQ(bws.stop(), 0);
}

TEST(ProcessLifecycle, WorkersExitWhenMasterIsKilled) {
    simple_setup s;
    bws_process bws(s.dir, s.config_path);
    ASSERT_TRUE(bws.wait_ready()) << bws.log();
    auto workers = bws.workers();
    // Idle workers of a kill -9'd master are gone within a second (issue 16), so systemd's
    // restart finds the ports free.
    const auto killed = steady::now();
    kill(bws.pid(), SIGKILL);
    for (pid_t w : workers) {
        EXPECT_TRUE(wait_until([&] { return !alive(w); }, 1s)) << "orphan worker " << w;
    }
    EXPECT_LT(steady::now() - killed, 1s);
    bws.wait_exit_code(5s);
}

} // namespace
