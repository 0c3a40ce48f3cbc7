// An http::server run inside the test process on a loopback listener the test opens (port from
// the kernel), on its own thread; shared by the session tests over plain TCP and TLS.
#pragma once

#include "config/load.hpp"
#include "http/server.hpp"

#include "../config_test_util.hpp"

#include <boost/asio/post.hpp>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <future>
#include <map>
#include <memory>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace bws::http::testing {

class loopback_server {
public:
    loopback_server() {
        listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        EXPECT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
        EXPECT_EQ(::listen(listen_fd_, 64), 0);
        socklen_t len = sizeof addr;
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
        port_ = ntohs(addr.sin_port);
    }
    ~loopback_server() {
        stop();
        ::close(listen_fd_);
    }
    loopback_server(const loopback_server&) = delete;
    loopback_server& operator=(const loopback_server&) = delete;

    std::uint16_t port() const { return port_; }
    // The listening socket, e.g. to set buffer sizes accepted sockets inherit.
    int listen_fd() const { return listen_fd_; }

    // Loads `toml` (its one listener must be 127.0.0.1:port()) and serves it.
    void start(const std::string& toml, server_options options = {}) {
        auto loaded = config::load_string(toml, "loopback_server.toml");
        ASSERT_TRUE(loaded.ok()) << config::test::all(loaded.errors);
        ASSERT_EQ(loaded.config->listeners.size(), 1u);
        std::vector<app::inherited_listener> listeners{{loaded.config->listeners[0], listen_fd_}};
        server_ = std::make_unique<server>(io_, loaded.config, listeners, 1, options);
        server_->start();
        thread_ = std::thread([this] { io_.run(); });
    }
    void stop() {
        if (!server_)
            return;
        boost::asio::post(io_, [this] { server_->stop(); });
        thread_.join(); // run() returns once every session has closed
        server_.reset();
        io_.restart();
    }
    // The server's failure counts, read on its own thread.
    std::map<std::string, std::uint64_t> failures() {
        std::promise<std::map<std::string, std::uint64_t>> result;
        boost::asio::post(io_, [&] { result.set_value(server_->failure_counts()); });
        return result.get_future().get();
    }

private:
    int listen_fd_ = -1;
    std::uint16_t port_ = 0;
    boost::asio::io_context io_;
    std::unique_ptr<server> server_;
    std::thread thread_;
};

} // namespace bws::http::testing
