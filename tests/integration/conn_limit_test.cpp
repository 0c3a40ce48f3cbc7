// [server.limits] max_connections_per_ip on the real binary with two workers: one address gets
// at most N connections served whichever worker accepts them, another address is still
// served, closed connections give their places back, and so do connections held by workers
// that were killed (the master returns a dead worker's counts).
#include "process_harness.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>

namespace {

using namespace bws::test::proc;

constexpr unsigned limit = 4;

// A keep-alive client from a chosen loopback source address.
class client {
public:
    client(const char* source, std::uint16_t port) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in from{};
        from.sin_family = AF_INET;
        ::inet_pton(AF_INET, source, &from.sin_addr);
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(port);
        ::inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0 ||
            ::connect(fd_, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
            ::close(fd_);
            fd_ = -1;
        }
    }
    ~client() {
        if (fd_ >= 0)
            ::close(fd_);
    }
    client(const client&) = delete;
    client& operator=(const client&) = delete;

    // One GET; true when a whole "200" response head arrived within 3 s, false when the
    // server closed the connection (or reset it) instead.
    bool served() {
        static const std::string request = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
        if (fd_ < 0 || ::send(fd_, request.data(), request.size(), MSG_NOSIGNAL) < 0)
            return false;
        std::string got;
        const auto deadline = steady::now() + 3s;
        while (got.find("\r\n\r\n") == std::string::npos && steady::now() < deadline) {
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, 100) <= 0)
                continue;
            char buffer[4096];
            auto n = ::recv(fd_, buffer, sizeof buffer, 0);
            if (n <= 0)
                return false;
            got.append(buffer, static_cast<std::size_t>(n));
        }
        return got.rfind("HTTP/1.1 200", 0) == 0;
    }

private:
    int fd_ = -1;
};

// Opens `count` connections from `source` at once and returns how many were served; the
// served ones stay open in `held`.
unsigned open_served(const char* source, std::uint16_t port, unsigned count,
                     std::vector<std::unique_ptr<client>>& held) {
    std::vector<std::unique_ptr<client>> all;
    for (unsigned i = 0; i < count; ++i)
        all.push_back(std::make_unique<client>(source, port));
    unsigned served = 0;
    for (auto& c : all)
        if (c->served()) {
            ++served;
            held.push_back(std::move(c));
        }
    return served;
}

bool one_served(const char* source, std::uint16_t port) {
    return client(source, port).served();
}

TEST(ConnLimit, OneAddressGetsAtMostTheLimitAcrossWorkers) {
    simple_setup s("limited\n", 2);
    s.spec.extra = "[server.limits]\nmax_connections_per_ip = " + std::to_string(limit) + "\n";
    s.save();
    bws_process bws(s.dir, s.config_path);
    ASSERT_TRUE(bws.wait_ready()) << bws.log();

    std::vector<std::unique_ptr<client>> held;
    EXPECT_EQ(open_served("127.0.0.1", s.port, limit + 6, held), limit) << bws.log();
    // Another address is not affected by the first one's connections.
    EXPECT_TRUE(one_served("127.0.0.2", s.port)) << bws.log();
    // The held connections stay served (keep-alive).
    for (auto& c : held)
        EXPECT_TRUE(c->served());
    EXPECT_NE(bws.log().find("conn_limit"), std::string::npos) << bws.log();

    // Closing one frees its place (once the worker has seen the close).
    held.pop_back();
    EXPECT_TRUE(wait_until([&] { return one_served("127.0.0.1", s.port); }, 5s)) << bws.log();
    held.clear();
    std::vector<std::unique_ptr<client>> again;
    EXPECT_TRUE(wait_until(
        [&] {
            again.clear();
            return open_served("127.0.0.1", s.port, limit, again) == limit;
        },
        5s))
        << bws.log();
    EXPECT_EQ(bws.stop(), 0);
}

TEST(ConnLimit, KilledWorkersGiveTheirPlacesBack) {
    simple_setup s("limited\n", 2);
    s.spec.extra = "[server.limits]\nmax_connections_per_ip = " + std::to_string(limit) + "\n";
    s.save();
    bws_process bws(s.dir, s.config_path);
    ASSERT_TRUE(bws.wait_ready()) << bws.log();

    std::vector<std::unique_ptr<client>> held;
    ASSERT_EQ(open_served("127.0.0.1", s.port, limit, held), limit) << bws.log();
    // SIGKILL: the workers cannot decrement anything; their connections die with them.
    const auto old_workers = bws.workers();
    ASSERT_EQ(old_workers.size(), 2u);
    for (pid_t w : old_workers)
        ::kill(w, SIGKILL);
    ASSERT_TRUE(wait_until(
        [&] {
            auto now = bws.workers();
            return now.size() == 2 && now != old_workers && one_served("127.0.0.2", s.port);
        },
        15s))
        << bws.log();
    held.clear();
    // Without the master giving the dead workers' counts back, 127.0.0.1 would stay at the
    // limit for good.
    std::vector<std::unique_ptr<client>> again;
    EXPECT_EQ(open_served("127.0.0.1", s.port, limit, again), limit) << bws.log();
    EXPECT_EQ(bws.stop(), 0);
}

} // namespace
