// One worker's view of a site's upstreams: a balancer per pool and the idle keep-alive
// connections to each server, reused by later requests. Built per worker generation.
#pragma once

#include "config/model.hpp"
#include "proxy/balancer.hpp"
#include "proxy/health_table.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bws::proxy {

// A connection to one server of one pool.
struct upstream_connection {
    explicit upstream_connection(boost::asio::ip::tcp::socket s) : socket(std::move(s)) {}

    boost::asio::ip::tcp::socket socket;
    boost::beast::flat_buffer buffer; // read from the upstream, not parsed yet
    std::size_t pool = 0;
    std::size_t server = 0;
    bool reused = false; // taken from the idle set: the upstream may have closed it meanwhile
    std::string peer;    // "127.0.0.1:9000", "[::1]:9000": for the access log
    std::chrono::steady_clock::time_point idle_since{};
};

class site_upstreams {
public:
    using clock = std::chrono::steady_clock;

    // How long an idle connection is kept: shorter than the idle timeouts of common
    // application servers (Node.js 5 s, gunicorn 2 s is the exception), so bws is usually
    // the side that closes. How many: [sites.proxy] keepalive per server.
    static constexpr std::chrono::seconds idle_timeout{4};

    // `site`: the site's name, which with pool and url finds each server's slot in `table`
    // (the master's shared health_table; null: no active checks, the loader's addresses).
    site_upstreams(const config::site_proxy& config, std::string_view site = {},
                   const health_table* table = health_table::existing());
    site_upstreams(const site_upstreams&) = delete; // the balancers' health hooks point here
    site_upstreams& operator=(const site_upstreams&) = delete;

    const config::site_proxy& config() const { return config_; }
    balancer& pool(std::size_t i) { return balancers_[i]; }

    // An idle connection to the server (the most recent), or null. `verify`: only one that
    // still looks open (a recv(MSG_PEEK) each); without it the caller must be able to send
    // its request again when the upstream turns out to have closed it.
    std::unique_ptr<upstream_connection> take_idle(std::size_t pool, std::size_t server,
                                                   clock::time_point now, bool verify = true);
    // Keeps a connection whose last response ended cleanly, for the next request.
    void put_idle(std::unique_ptr<upstream_connection> c, clock::time_point now);
    // Closes the connections idle for longer than idle_timeout.
    void prune(clock::time_point now);
    std::size_t idle_count() const;

    // The server's addresses as the master last resolved them (the loader's until then).
    // A reference valid until the next call for the same server.
    const std::vector<net::ip_address>& addresses(std::size_t pool, std::size_t server);
    // The master's active check of the server; nullopt when the site has none (or the
    // server has no slot in the table).
    std::optional<health_view> active_health(std::size_t pool, std::size_t server) const;
    bool unhealthy(std::size_t pool, std::size_t server) const;
    std::size_t idle_count(std::size_t pool, std::size_t server) const {
        return idle_[pool][server].size();
    }

private:
    // A server's slot in the shared table and the addresses last read from it.
    struct shared_link {
        std::uint32_t slot = health_table::no_slot;
        std::uint64_t key = 0;
        std::uint32_t sequence = 0;                            // of the addresses last read
        std::optional<std::vector<net::ip_address>> addresses; // unset: the loader's
    };

    const config::site_proxy& config_;
    const health_table* table_;
    std::vector<balancer> balancers_;
    std::vector<std::vector<shared_link>> links_; // [pool][server]
    // [pool][server]: a stack, most recently used last (it is the likeliest to be open).
    std::vector<std::vector<std::vector<std::unique_ptr<upstream_connection>>>> idle_;
};

} // namespace bws::proxy
