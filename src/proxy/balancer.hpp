// Picks the server of an upstream pool for each request, in one worker: round robin, smooth
// weighted round robin (nginx's: the heaviest server goes first but never twice in a row when
// others are due) or least connections; and keeps the servers a failure put out for a while
// (passive health checks).
#pragma once

#include "config/model.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <utility>
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
    // recovers without waiting. nullopt when every server was tried. `key` is what
    // consistent_hash hashes (the client's address or a header); other methods ignore it.
    std::optional<std::size_t> pick(std::uint64_t tried, clock::time_point now,
                                    std::string_view key = {});
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

    // Consulted on every pick: servers the master's active health checks found unhealthy
    // (site_upstreams reads the shared health_table). They are never picked, not even when
    // every other server is down: a pool of unhealthy servers answers 503.
    void set_health(std::function<bool(std::size_t)> unhealthy) {
        unhealthy_ = std::move(unhealthy);
    }
    bool is_unhealthy(std::size_t i) const { return unhealthy_ && unhealthy_(i); }

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

    std::optional<std::size_t> pick_among(std::uint64_t excluded, std::string_view key);

    // consistent_hash: points on a ring, `points_per_weight` per unit of weight and server,
    // sorted by position. A key goes to the first point at or after its hash whose server is
    // usable, so removing a server moves only its own keys (about 1/n of them).
    static constexpr unsigned points_per_weight = 100;
    std::vector<std::pair<std::uint64_t, std::size_t>> ring_;

    config::balance_method method_;
    std::vector<state> servers_;
    std::function<bool(std::size_t)> unhealthy_;
    std::size_t next_ = 0; // round robin, and ties of least connections
};

} // namespace bws::proxy
