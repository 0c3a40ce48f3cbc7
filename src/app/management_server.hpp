// The HTTP side of the management API: a small Beast server on the master's io_context, on
// one loopback listener or one Unix socket. It never serves files and knows no site; every request
// goes to the handler, which may answer later (a reload answers once the new generation serves).
#pragma once

#include "app/management_api.hpp"
#include "net/unix_listener.hpp"

#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>

namespace bws::app {

class management_server {
public:
    using responder = std::function<void(management_reply)>;
    using handler = std::function<void(const management_request&, responder)>;

    // `fd`: a listening TCP socket (net::open_listener); the server owns it from now on.
    management_server(boost::asio::io_context& ioc, int fd, bool v6, handler h);
    // A listening Unix socket made at `socket_path` by net::open_unix_listener; the server
    // owns it and removes the path when it stops.
    management_server(boost::asio::io_context& ioc, net::unix_listener socket,
                      std::filesystem::path socket_path, handler h);
    ~management_server();
    management_server(const management_server&) = delete;
    management_server& operator=(const management_server&) = delete;

    void start();
    // Stops accepting; connections in progress finish.
    void stop();
    // The TCP port; 0 on a Unix socket.
    std::uint16_t port() const;

    struct shared_state; // handler and connection count, kept alive by the connections
    class listener;

private:
    std::shared_ptr<shared_state> state_;
    std::unique_ptr<listener> listener_;
    std::filesystem::path socket_path_; // removed by stop()
    net::unix_listener socket_;
    std::uint16_t port_ = 0;
};

} // namespace bws::app
