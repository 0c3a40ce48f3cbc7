// Picks the server of an upstream pool for each request, in one worker: round robin, smooth
// weighted round robin (nginx's: the heaviest server goes first but never twice in a row when
// others are due) or least connections; and keeps the servers a failure put out for a while
// (passive health checks).
#pragma once

#include "config/model.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace bws::proxy {

class balancer {
public:
    using clock = std::chrono::steady_clock;

    // How long a server that refused or timed out a connection gets no new requests.
    static constexpr std::chrono::seconds down_time{10};

    balancer(const config::upstream_pool& pool, config::balance_method method);

    // The next server, skipping those in `tried` (bit i: server i) and those marked down;
    // when every untried server is down, the one down longest is tried anyway, so a pool
    // recovers without waiting. nullopt when every server was tried.
    std::optional<std::size_t> pick(std::uint64_t tried, clock::time_point now);
    // A request on server `i` started or finished (least connections; the status page).
    void started(std::size_t i) { ++servers_[i].active; }
    void finished(std::size_t i) {
        if (servers_[i].active > 0)
            --servers_[i].active;
    }
    // Connecting to server `i` failed: it gets no new request for down_time.
    void failed(std::size_t i, clock::time_point now);
    // Server `i` answered: it is up again.
    void succeeded(std::size_t i) { servers_[i].down_until = {}; }

    std::size_t size() const { return servers_.size(); }
    bool is_down(std::size_t i, clock::time_point now) const {
        return servers_[i].down_until > now;
    }
    unsigned active(std::size_t i) const { return servers_[i].active; }
    std::uint64_t failures(std::size_t i) const { return servers_[i].failures; }

private:
    struct state {
        int weight = 1;
        int current = 0; // smooth weighted round robin
        unsigned active = 0;
        clock::time_point down_until{};
        std::uint64_t failures = 0; // connections it refused or timed out, for the status page
    };

    std::optional<std::size_t> pick_among(std::uint64_t excluded);

    config::balance_method method_;
    std::vector<state> servers_;
    std::size_t next_ = 0; // round robin, and ties of least connections
};

} // namespace bws::proxy
