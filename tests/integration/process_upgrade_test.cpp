// `bws -s upgrade` (SIGUSR2): the master re-executes the binary at its path, keeping its PID,
// sockets and PID file; requests under load never fail, and a new binary that cannot start
// (broken file, missing library, broken configuration) leaves the running one serving.
#include "process_harness.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <thread>

namespace {

using namespace bws::test::proc;

// A copy of bws the test may replace while it runs, as a package upgrade replaces
// /usr/bin/bws: a new file renamed over the old one.
fs::path install_binary(const temp_dir& dir, const fs::path& from = BWS_BINARY) {
    auto staged = dir / "bws.new";
    fs::copy_file(from, staged, fs::copy_options::overwrite_existing);
    fs::permissions(staged, fs::perms(0755));
    auto target = dir / "bws";
    fs::rename(staged, target);
    return target;
}

void install_script(const temp_dir& dir, const std::string& script) {
    dir.write("bws.new", script);
    fs::permissions(dir / "bws.new", fs::perms(0755));
    fs::rename(dir / "bws.new", dir / "bws");
}

command_result upgrade(const simple_setup& s) {
    return run_bws({"-s", "upgrade", "--pid-file", (s.dir.path() / "bws.pid").string()}, 70s);
}

std::string state_value(const simple_setup& s, const std::string& key) {
    auto text = read_file(s.dir / "bws.pid.state");
    auto at = text.find("\n" + key + "=");
    if (at == std::string::npos)
        return {};
    at += key.size() + 2;
    return text.substr(at, text.find('\n', at) - at);
}

// Waits until the master has exactly `count` children, none of them in `old`.
bool only_new_workers(const bws_process& bws, const std::vector<pid_t>& old, std::size_t count) {
    return wait_until(
        [&] {
            auto now = bws.workers();
            return now.size() == count && std::none_of(now.begin(), now.end(), [&](pid_t p) {
                       return std::find(old.begin(), old.end(), p) != old.end();
                   });
        },
        15s);
}

TEST(ProcessUpgrade, ZeroFailedRequestsAcrossUpgrades) {
    simple_setup s;
    auto binary = install_binary(s.dir);
    bws_process bws(s.dir, s.config_path, {}, {"--pid-file", (s.dir / "bws.pid").string()}, binary);
    ASSERT_TRUE(bws.wait_ready()) << bws.log();
    const pid_t master = bws.pid();

    std::atomic<bool> done{false};
    std::atomic<int> ok_keepalive{0}, ok_close{0}, failed{0};
    std::mutex failure_mutex;
    std::string first_failure;
    auto client = [&](bool keepalive, std::atomic<int>& ok) {
        http_client c(s.port);
        while (!done) {
            auto r = c.get("/", "localhost", !keepalive);
            if (r.status == 200 && r.body == "hello\n") {
                ++ok;
                continue;
            }
            ++failed;
            std::lock_guard lock(failure_mutex);
            if (first_failure.empty())
                first_failure = std::string(keepalive ? "keep-alive" : "close") +
                                " client: " + std::to_string(r.status) + " " + c.last_error;
            c.reset();
        }
    };
    std::thread t1(client, true, std::ref(ok_keepalive));
    std::thread t2(client, false, std::ref(ok_close));
    std::thread t3(client, true, std::ref(ok_keepalive));

    constexpr int upgrades = 5;
    int done_upgrades = 0;
    for (; done_upgrades < upgrades; ++done_upgrades) {
        auto old_workers = bws.workers();
        // A new file at the path each time, as dpkg and rpm install one.
        install_binary(s.dir);
        auto ready_before = bws.notify().size();
        auto r = upgrade(s);
        if (r.exit_code != 0 || r.output.find("upgrade ok") == std::string::npos) {
            ADD_FAILURE() << "upgrade " << done_upgrades << ": " << r.output << "\n" << bws.log();
            break;
        }
        // systemd sees a reload: RELOADING=1 from the old image, READY=1 from the new one.
        auto reloading = bws.notify().wait_for("RELOADING=1", ready_before, 5s);
        ASSERT_TRUE(reloading);
        EXPECT_TRUE(bws.notify().wait_for("READY=1", *reloading, 5s));
        EXPECT_TRUE(only_new_workers(bws, old_workers, 2)) << bws.log();
    }
    done = true;
    t1.join();
    t2.join();
    t3.join();
    EXPECT_EQ(done_upgrades, upgrades);
    EXPECT_EQ(failed.load(), 0) << first_failure;
    EXPECT_GT(ok_keepalive.load(), 20);
    EXPECT_GT(ok_close.load(), 20);

    // Same process throughout: systemd's MainPID and the PID file stay right.
    EXPECT_TRUE(alive(master));
    EXPECT_EQ(read_file(s.dir / "bws.pid"), std::to_string(master) + "\n");
    // Generations and upgrade counts carry on across the re-executions.
    EXPECT_EQ(state_value(s, "generation"), std::to_string(1 + upgrades));
    EXPECT_EQ(state_value(s, "upgrade_count"), std::to_string(upgrades));
    EXPECT_EQ(state_value(s, "last_upgrade"), "ok");
    // A reload still works in the new image, and so does the graceful stop.
    auto reload = run_bws({"--reload", "--pid-file", (s.dir / "bws.pid").string()}, 70s);
    EXPECT_EQ(reload.exit_code, 0) << reload.output;
    EXPECT_EQ(bws.stop(), 0);
    EXPECT_FALSE(fs::exists(s.dir / "bws.pid"));
}

TEST(ProcessUpgrade, BinaryThatCannotStartLeavesTheOldOneServing) {
    simple_setup s;
    auto binary = install_binary(s.dir);
    bws_process bws(s.dir, s.config_path, {}, {"--pid-file", (s.dir / "bws.pid").string()}, binary);
    ASSERT_TRUE(bws.wait_ready()) << bws.log();
    auto workers = bws.workers();
    ASSERT_EQ(workers.size(), 2u);

    // What the dynamic loader says when a library of the new binary is missing.
    install_script(s.dir, "#!/bin/sh\n"
                          "echo 'bws: error while loading shared libraries: libbws-gone.so.1: "
                          "cannot open shared object file: No such file or directory' >&2\n"
                          "exit 127\n");
    auto r = upgrade(s);
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find("upgrade failed"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("libbws-gone.so.1"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("exit status 127"), std::string::npos) << r.output;
    EXPECT_NE(bws.log().find("the running binary keeps serving"), std::string::npos);
    EXPECT_TRUE(bws.notify().wait_for("STATUS=upgrade failed", 0, 5s));

    // No binary at all.
    fs::remove(s.dir / "bws");
    r = upgrade(s);
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find("No such file or directory"), std::string::npos) << r.output;

    // The same workers still serve.
    EXPECT_EQ(get(s.port, "/").status, 200);
    EXPECT_EQ(bws.workers(), workers);
    EXPECT_EQ(state_value(s, "upgrade_count"), "2");
    EXPECT_EQ(state_value(s, "last_upgrade"), "failed");

    // Once a working binary is back, the upgrade goes through.
    install_binary(s.dir);
    r = upgrade(s);
    EXPECT_EQ(r.exit_code, 0) << r.output << bws.log();
    EXPECT_TRUE(only_new_workers(bws, workers, 2)) << bws.log();
    EXPECT_EQ(get(s.port, "/").status, 200);
    EXPECT_EQ(bws.stop(), 0);
}

TEST(ProcessUpgrade, ConfigurationTheNewBinaryRejectsLeavesTheOldOneServing) {
    simple_setup s;
    bws_process bws(s.dir, s.config_path, {}, {"--pid-file", (s.dir / "bws.pid").string()});
    ASSERT_TRUE(bws.wait_ready()) << bws.log();
    auto workers = bws.workers();
    s.dir.write("config.toml", render(s.spec) + "\n[server]\nno_such_key = 1\n");
    auto r = upgrade(s);
    EXPECT_EQ(r.exit_code, 1) << r.output;
    // The check's first error, with its position, is in the answer.
    EXPECT_NE(r.output.find("config.toml:"), std::string::npos) << r.output;
    EXPECT_EQ(get(s.port, "/").status, 200);
    EXPECT_EQ(bws.workers(), workers);
    EXPECT_EQ(bws.stop(), 0);
}

TEST(ProcessUpgrade, DrainStaysUntilAReload) {
    simple_setup s;
    bws_process bws(s.dir, s.config_path, {}, {"--pid-file", (s.dir / "bws.pid").string()});
    ASSERT_TRUE(bws.wait_ready()) << bws.log();
    auto pid_file = (s.dir / "bws.pid").string();
    ASSERT_EQ(run_bws({"-s", "drain", "--pid-file", pid_file}).exit_code, 0);
    ASSERT_TRUE(wait_until([&] { return get(s.port, "/health").status == 503; }, 5s));
    auto old_workers = bws.workers();
    auto r = upgrade(s);
    ASSERT_EQ(r.exit_code, 0) << r.output << bws.log();
    ASSERT_TRUE(only_new_workers(bws, old_workers, 2)) << bws.log();
    // Only the new workers answer now, and from their first request.
    for (int i = 0; i < 6; ++i) {
        auto health = get(s.port, "/health");
        EXPECT_EQ(health.status, 503);
        EXPECT_NE(health.body.find("draining"), std::string::npos) << health.body;
    }
    EXPECT_EQ(get(s.port, "/").status, 200);
    ASSERT_EQ(run_bws({"--reload", "--pid-file", pid_file}).exit_code, 0);
    EXPECT_TRUE(wait_until([&] { return get(s.port, "/health").status == 200; }, 5s));
    EXPECT_EQ(bws.stop(), 0);
}

} // namespace
