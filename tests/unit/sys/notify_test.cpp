// sd_notify messages, received on a test NOTIFY_SOCKET.
#include "support/temp_dir.hpp"
#include "sys/notify.hpp"
#include "sys/watchdog.hpp"

#include <gtest/gtest.h>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

namespace {

class NotifySocket : public ::testing::Test {
protected:
    void SetUp() override {
        auto path = (dir_ / "notify.sock").string();
        fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        ASSERT_GE(fd_, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
        ASSERT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
        setenv("NOTIFY_SOCKET", path.c_str(), 1);
    }
    void TearDown() override {
        unsetenv("NOTIFY_SOCKET");
        close(fd_);
    }
    std::string receive() {
        pollfd p{fd_, POLLIN, 0};
        if (poll(&p, 1, 2000) != 1) {
            return "<timeout>";
        }
        char buf[4096];
        auto n = recv(fd_, buf, sizeof buf, 0);
        return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "<error>";
    }
    bws::test::temp_dir dir_{"bws-notify"};
    int fd_ = -1;
};

TEST(NotifyMessages, Formatting) {
    using namespace bws::sys;
    EXPECT_EQ(ready_message("serving 1 site"), "READY=1\nSTATUS=serving 1 site");
    EXPECT_EQ(ready_message(""), "READY=1");
    EXPECT_EQ(reloading_message(123456, "reloading"),
              "RELOADING=1\nMONOTONIC_USEC=123456\nSTATUS=reloading");
    EXPECT_EQ(stopping_message("stopping"), "STOPPING=1\nSTATUS=stopping");
    EXPECT_EQ(status_message("a\nb"), "STATUS=a b");
    EXPECT_EQ(watchdog_message(), "WATCHDOG=1");
}

TEST(NotifyMessages, MonotonicIsMonotonicAndMicroseconds) {
    auto a = bws::sys::monotonic_usec();
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    auto b = bws::sys::monotonic_usec();
    auto mid = static_cast<std::uint64_t>(ts.tv_sec) * 1000000u +
               static_cast<std::uint64_t>(ts.tv_nsec) / 1000u;
    EXPECT_LE(a, mid);
    EXPECT_LE(mid, b);
}

TEST_F(NotifySocket, SendsDatagrams) {
    EXPECT_TRUE(bws::sys::notify(bws::sys::ready_message("serving")));
    EXPECT_EQ(receive(), "READY=1\nSTATUS=serving");
    EXPECT_TRUE(bws::sys::notify(bws::sys::reloading_message(42, "")));
    EXPECT_EQ(receive(), "RELOADING=1\nMONOTONIC_USEC=42");
    // The variable stays for later messages.
    EXPECT_NE(getenv("NOTIFY_SOCKET"), nullptr);
}

TEST(Notify, SilentWithoutSocket) {
    unsetenv("NOTIFY_SOCKET");
    EXPECT_FALSE(bws::sys::notify("READY=1"));
}

TEST(Watchdog, Interval) {
    unsetenv("WATCHDOG_PID");
    setenv("WATCHDOG_USEC", "1000000", 1);
    auto interval = bws::sys::watchdog_interval();
    ASSERT_TRUE(interval);
    EXPECT_EQ(interval->count(), 1000000);
    EXPECT_EQ(bws::sys::watchdog_ping_period(*interval).count(), 500000);
    // For another process: not ours.
    setenv("WATCHDOG_PID", "1", 1);
    EXPECT_FALSE(bws::sys::watchdog_interval());
    unsetenv("WATCHDOG_PID");
    unsetenv("WATCHDOG_USEC");
    EXPECT_FALSE(bws::sys::watchdog_interval());
}

} // namespace
