// Socket activation (LISTEN_FDS), as bws.socket does it, driven by systemd-socket-activate:
// bws must serve on the passed socket (it could not bind the address itself: the socket is
// already bound) and keep it across reloads.
#include "harness.hpp"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <csignal>
#include <thread>

using namespace bws::test;

namespace {

constexpr const char* activator = "/usr/bin/systemd-socket-activate";

TEST(SocketActivation, ServesOnThePassedSocketAcrossReloads) {
    if (!std::filesystem::exists(activator))
        GTEST_SKIP() << activator << " is not installed (package systemd)";
    temp_dir d;
    write_file(d / "www/index.html", "activated\n");
    auto port = free_port();
    auto config = fmt::format(R"([server]
workers = 2
[[sites]]
name = "main"
hostname = "localhost"
port = {}
bind = "127.0.0.1"
static_dir = "www"
)",
                              port);
    write_file(d / "bws.toml", config);
    bws_process p;
    // systemd-socket-activate binds the address, waits for the first connection, then
    // execs bws with LISTEN_FDS=1 and the socket as fd 3 (the same pid, so signals work).
    ASSERT_TRUE(p.start_program(activator, {"-l", fmt::format("127.0.0.1:{}", port), BWS_BINARY,
                                            "-c", (d / "bws.toml").string()}));
    ASSERT_TRUE(wait_for_port(port));
    // The first connection (queued on the activated socket) is served once bws is up.
    auto first = get(port, "/");
    EXPECT_EQ(first.status, 200) << p.err();
    EXPECT_EQ(first.body, "activated\n");

    // A reload keeps the passed socket: still served, and no bind error in the log.
    write_file(d / "bws.toml", config + "[sites.headers]\n\"X-Generation\" = \"two\"\n");
    ::kill(p.pid(), SIGHUP);
    http_response r;
    wait_until(
        [&] {
            r = get(port, "/");
            return r.header("x-generation") == "two";
        },
        5s);
    EXPECT_EQ(r.header("x-generation"), "two") << p.err();
    EXPECT_EQ(r.body, "activated\n");
    EXPECT_EQ(p.err().find("Address already in use"), std::string::npos) << p.err();
    EXPECT_EQ(p.stop(), 0) << p.err();
}

} // namespace
