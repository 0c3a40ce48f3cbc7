// What the server sees of a session, whatever stream it runs over: its deadline, the sweep,
// drain and stop calls, and its place in the server's registry.
#pragma once

#include "net/conn_limit.hpp"

#include <chrono>
#include <list>
#include <memory>
#include <utility>

namespace bws::http {

class server;

class session_base : public std::enable_shared_from_this<session_base> {
public:
    using clock = std::chrono::steady_clock;

    explicit session_base(server& owner);
    virtual ~session_base();
    session_base(const session_base&) = delete;
    session_base& operator=(const session_base&) = delete;

    clock::time_point deadline() const { return deadline_; }
    // The deadline of the current phase passed (called by the server's sweep).
    virtual void on_deadline() = 0;
    // The server started draining; `close_idle` when it is stopping rather than reloading.
    virtual void on_drain(bool close_idle) = 0;
    // Closes the connection now (fast stop).
    virtual void close() = 0;
    // When an idle keep-alive connection should give up its read buffer (the sweep calls
    // park() then); max() when it has none to give up.
    clock::time_point park_at() const { return park_at_; }
    virtual void park() = 0;
    // Waiting for the next request of a keep-alive connection (for the idle gauge).
    virtual bool idle() const = 0;
    // An upgraded connection relaying bytes (a WebSocket tunnel): a drain cuts it at
    // [server] tunnel_drain_timeout rather than waiting for it to end.
    virtual bool tunneling() const = 0;
    // Its count in the per-address limit, given back when the session ends (destruction is
    // the one place every close path passes through).
    void adopt_ticket(net::conn_ticket ticket) { ticket_ = std::move(ticket); }

protected:
    server& server_;
    clock::time_point deadline_;
    clock::time_point park_at_ = clock::time_point::max();

private:
    std::list<session_base*>::iterator registry_position_;
    net::conn_ticket ticket_;
};

} // namespace bws::http
