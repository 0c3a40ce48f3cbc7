// The HTTP side of the management API: a small Beast server on the master's io_context, on
// one loopback listener. It never serves files and knows no site; every request goes to the
// handler, which may answer later (a reload answers once the new generation serves).
#pragma once

#include "app/management_api.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <functional>
#include <memory>

namespace bws::app {

class management_server {
public:
    using responder = std::function<void(management_reply)>;
    using handler = std::function<void(const management_request&, responder)>;

    // `fd`: a listening socket (net::open_listener); the server owns it from now on.
    management_server(boost::asio::io_context& ioc, int fd, bool v6, handler h);
    ~management_server();
    management_server(const management_server&) = delete;
    management_server& operator=(const management_server&) = delete;

    void start();
    // Stops accepting; connections in progress finish.
    void stop();
    std::uint16_t port() const;

    struct shared_state; // handler and connection count, kept alive by the connections

private:
    void do_accept();

    boost::asio::ip::tcp::acceptor acceptor_;
    boost::asio::steady_timer retry_timer_; // after a failed accept (EMFILE): not a busy loop
    std::shared_ptr<shared_state> state_;
};

} // namespace bws::app
