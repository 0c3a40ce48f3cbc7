// SIGHUP / `bws --reload`: configuration changes applied by a new generation, broken configs
// rejected, zero failed requests under load, downloads surviving reloads and SIGTERM.
#include "process_harness.hpp"

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <thread>

namespace {

using namespace bws::test::proc;

command_result reload(const simple_setup& s) {
    return run_bws({"--reload", "--pid-file", (s.dir.path() / "bws.pid").string()}, 70s);
}

TEST(ProcessReload, AddSiteChangeHeaderChangePort) {
    simple_setup s;
    bws_process bws(s.dir, s.config_path);
    ASSERT_TRUE(bws.wait_ready()) << bws.log();
    auto old_workers = bws.workers();

    // Add a site on the same port, and a header on the first one.
    s.dir.write("blog/index.html", "blog\n");
    s.spec.sites.push_back({"blog", "blog.test", s.port, s.dir.path() / "blog", {}});
    s.spec.sites[0].headers = {{"X-Test", "one"}};
    s.save();
    auto r1 = reload(s);
    ASSERT_EQ(r1.exit_code, 0) << r1.output << bws.log();
    EXPECT_EQ(get(s.port, "/", "blog.test").body, "blog\n");
    EXPECT_EQ(get(s.port, "/").header("x-test"), "one");
    // The old generation has gone.
    EXPECT_TRUE(wait_until(
        [&] {
            for (pid_t w : old_workers) {
                if (alive(w)) {
                    return false;
                }
            }
            return true;
        },
        12s));

    // Change the header, move the main site to another port.
    auto old_port = s.port;
    auto new_port = free_port();
    s.spec.sites[0].headers = {{"X-Test", "two"}};
    s.spec.sites[0].port = new_port;
    s.spec.sites[1].port = new_port;
    s.save();
    auto r2 = reload(s);
    ASSERT_EQ(r2.exit_code, 0) << r2.output << bws.log();
    auto resp = get(new_port, "/");
    EXPECT_EQ(resp.body, "hello\n");
    EXPECT_EQ(resp.header("x-test"), "two");
    EXPECT_TRUE(wait_until([&] { return port_refuses(old_port); }, 12s));
    EXPECT_EQ(bws.workers().size(), 2u);
    EXPECT_EQ(bws.stop(), 0);
}

TEST(ProcessReload, BrokenConfigKeepsServing) {
    simple_setup s;
    bws_process bws(s.dir, s.config_path);
    ASSERT_TRUE(bws.wait_ready()) << bws.log();
    auto workers = bws.workers();
    s.dir.write("config.toml", "[server]\nworkers = \"many\"\n");
    auto r = reload(s);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.output.find("reload failed"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("config.toml"), std::string::npos) << r.output;
    EXPECT_EQ(get(s.port, "/").body, "hello\n");
    EXPECT_EQ(bws.workers(), workers); // nothing restarted
    // A good config afterwards works again.
    s.save();
    auto ok = reload(s);
    EXPECT_EQ(ok.exit_code, 0) << ok.output;
    EXPECT_EQ(bws.stop(), 0);
}

TEST(ProcessReload, PortInUseFailsReload) {
    simple_setup s;
    bws_process bws(s.dir, s.config_path);
    ASSERT_TRUE(bws.wait_ready()) << bws.log();
    auto busy = free_port();
    int blocker = listen_on(busy);
    ASSERT_GE(blocker, 0);
    s.dir.write("b/index.html", "b\n");
    s.spec.sites.push_back({"b", "b.test", busy, s.dir.path() / "b", {}});
    s.save();
    auto r = reload(s);
    close(blocker);
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find(std::to_string(busy)), std::string::npos) << r.output;
    EXPECT_EQ(get(s.port, "/").body, "hello\n");
    EXPECT_EQ(bws.stop(), 0);
}

TEST(ProcessReload, ZeroFailedRequestsDuringTwentyReloads) {
    simple_setup s;
    bws_process bws(s.dir, s.config_path);
    ASSERT_TRUE(bws.wait_ready()) << bws.log();
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
            } else {
                ++failed;
                std::lock_guard lock(failure_mutex);
                if (first_failure.empty()) {
                    first_failure = std::string(keepalive ? "keep-alive" : "close") +
                                    " client: status " + std::to_string(r.status) + " " +
                                    c.last_error;
                }
                c.reset();
            }
        }
    };
    std::thread t1(client, true, std::ref(ok_keepalive));
    std::thread t2(client, false, std::ref(ok_close));
    std::thread t3(client, true, std::ref(ok_keepalive));
    auto deadline = steady::now() + 100s;
    int reloads = 0;
    for (; reloads < 20 && steady::now() < deadline; ++reloads) {
        auto r = reload(s);
        if (r.exit_code != 0) {
            ADD_FAILURE() << "reload " << reloads << ": " << r.output;
            break;
        }
    }
    done = true;
    t1.join();
    t2.join();
    t3.join();
    EXPECT_EQ(reloads, 20);
    EXPECT_EQ(failed.load(), 0) << first_failure;
    EXPECT_GT(ok_keepalive.load(), 20);
    EXPECT_GT(ok_close.load(), 20);
    EXPECT_EQ(bws.stop(), 0);
}

// Reads a big file slowly; returns the number of body bytes received.
std::size_t slow_download(std::uint16_t port, const std::string& path,
                          std::atomic<std::size_t>& progress) {
    int fd = connect_to(port, 64 * 1024);
    if (fd < 0) {
        return 0;
    }
    timeval tv{10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string req = "GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n";
    send(fd, req.data(), req.size(), MSG_NOSIGNAL);
    std::string head;
    std::size_t body = 0;
    char buf[32 * 1024];
    bool in_body = false;
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0) {
            break;
        }
        if (!in_body) {
            head.append(buf, static_cast<size_t>(n));
            auto end = head.find("\r\n\r\n");
            if (end != std::string::npos) {
                in_body = true;
                body = head.size() - end - 4;
            }
        } else {
            body += static_cast<size_t>(n);
        }
        progress = body;
        std::this_thread::sleep_for(2ms); // the slow reader under test: paced, not waiting
    }
    close(fd);
    return body;
}

TEST(ProcessReload, SlowDownloadSurvivesReloadAndStop) {
    simple_setup s;
    s.spec.shutdown_timeout = "25s";
    s.save();
    constexpr std::size_t size = 24 * 1024 * 1024;
    s.dir.write("www/big.bin", std::string(size, 'x'));
    bws_process bws(s.dir, s.config_path);
    ASSERT_TRUE(bws.wait_ready()) << bws.log();
    std::atomic<std::size_t> progress{0};
    std::size_t received = 0;
    std::thread downloader([&] { received = slow_download(s.port, "/big.bin", progress); });
    ASSERT_TRUE(wait_until([&] { return progress > 1024 * 1024; }, 10s));
    auto r = reload(s);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_LT(progress.load(), size) << "download finished too fast to test anything";
    kill(bws.pid(), SIGTERM);
    downloader.join();
    EXPECT_EQ(received, size);
    EXPECT_EQ(bws.wait_exit_code(30s), 0);
}

} // namespace

namespace {

TEST(ProcessReload, DetailedHealthReportsGenerationsAndReloads) {
    using namespace bws::test::proc;
    simple_setup s;
    bws_process bws(s.dir, s.config_path);
    ASSERT_TRUE(bws.wait_ready()) << bws.log();
    for (int i = 0; i < 5; ++i)
        get(s.port, "/");
    s.dir.write("config.toml", "[server]\nworkers = \"many\"\n");
    EXPECT_EQ(
        run_bws({"--reload", "--pid-file", (s.dir.path() / "bws.pid").string()}, 70s).exit_code, 1);
    s.save();
    ASSERT_EQ(
        run_bws({"--reload", "--pid-file", (s.dir.path() / "bws.pid").string()}, 70s).exit_code, 0);
    std::string body;
    // Per-site counters reach the master with the next heartbeat (every second).
    ASSERT_TRUE(wait_until(
        [&] {
            body = get(s.port, "/health/detailed").body;
            return body.find(R"("requests_total":0)") == std::string::npos &&
                   body.find(R"("generation":2)") != std::string::npos;
        },
        10s))
        << body;
    EXPECT_NE(body.find(R"("status":"healthy")"), std::string::npos) << body;
    EXPECT_NE(body.find(R"("master_pid":)" + std::to_string(bws.pid())), std::string::npos) << body;
    EXPECT_NE(body.find(R"("reload_count":2)"), std::string::npos) << body;
    EXPECT_NE(body.find(R"("result":"ok")"), std::string::npos) << body;
    EXPECT_NE(body.find(R"("workers":[{"pid":)"), std::string::npos) << body;
    EXPECT_NE(body.find(R"("served_by":{"pid":)"), std::string::npos) << body;
    EXPECT_NE(body.find(R"("uptime_seconds":)"), std::string::npos) << body;
    EXPECT_EQ(bws.stop(), 0);
}

} // namespace

namespace {

using namespace bws::test::proc;

// A reload never cuts an idle keep-alive connection: its next request, even well after the
// reload, is answered by the old generation (old configuration) with Connection: close.
TEST(ProcessReload, IdleKeepAliveConnectionGetsItsNextRequestAnswered) {
    simple_setup s;
    bws_process bws(s.dir, s.config_path);
    ASSERT_TRUE(bws.wait_ready()) << bws.log();
    bws::test::connection c(s.port);
    const std::string request = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
    ASSERT_TRUE(c.send(request));
    auto first = c.read_response();
    ASSERT_EQ(first.status, 200);
    EXPECT_EQ(first.header("connection"), "keep-alive");

    s.spec.sites[0].headers = {{"X-Generation", "two"}};
    s.save();
    ASSERT_EQ(
        run_bws({"--reload", "--pid-file", (s.dir.path() / "bws.pid").string()}, 70s).exit_code, 0);
    // Idle for a while after the reload: the connection must still be there.
    std::this_thread::sleep_for(1500ms);
    ASSERT_TRUE(c.send(request));
    auto second = c.read_response();
    EXPECT_EQ(second.status, 200);
    EXPECT_EQ(second.body, "hello\n");
    EXPECT_EQ(second.header("connection"), "close");
    EXPECT_EQ(second.header("x-generation"), ""); // answered by the old generation
    EXPECT_TRUE(c.closed_by_peer());
    EXPECT_EQ(get(s.port, "/").header("x-generation"), "two");
    EXPECT_EQ(bws.stop(), 0);
}

// A graceful stop does not wait for idle keep-alive connections (shutdown_timeout is 10 s).
TEST(ProcessReload, GracefulStopClosesIdleConnectionsAtOnce) {
    simple_setup s;
    bws_process bws(s.dir, s.config_path);
    ASSERT_TRUE(bws.wait_ready()) << bws.log();
    bws::test::connection c(s.port);
    ASSERT_TRUE(c.send("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"));
    ASSERT_EQ(c.read_response().status, 200);
    auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(bws.stop(SIGTERM, 25s), 0);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
    EXPECT_TRUE(c.closed_by_peer());
}

} // namespace
