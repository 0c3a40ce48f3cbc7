// One worker's view of a site's upstreams: a balancer per pool, the idle keep-alive
// connections to each server, reused by later requests, the TLS client context of https://
// servers and the server-wide max_conns counts. Built per worker generation.
#pragma once

#include "config/model.hpp"
#include "net/conn_limit.hpp"
#include "proxy/balancer.hpp"
#include "proxy/health_table.hpp"
#include "proxy/upstream_stream.hpp"
#include "proxy/upstream_tls.hpp"

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
    explicit upstream_connection(const boost::asio::any_io_executor& executor) : stream(executor) {}

    upstream_stream stream;
    boost::beast::flat_buffer buffer; // read from the upstream, not parsed yet
    std::size_t pool = 0;
    std::size_t server = 0;
    bool reused = false;     // taken from the idle set: the upstream may have closed it meanwhile
    bool handshaken = false; // TLS: the handshake is done (always true without TLS)
    std::string peer; // "127.0.0.1:9000", "[::1]:9000", "unix:/run/app.sock": for the access log
    std::chrono::steady_clock::time_point idle_since{};
    net::conn_ticket ticket; // its place in the server's max_conns count, if it has one
};

// Whether a new connection to a server may be opened (max_conns).
enum class room {
    yes,  // counted, or the server has no cap
    full, // the server has max_conns connections, none of them idle in this worker
};

class site_upstreams {
public:
    using clock = std::chrono::steady_clock;

    // How long an idle connection is kept: shorter than the idle timeouts of common
    // application servers (Node.js 5 s, gunicorn 2 s is the exception), so bws is usually
    // the side that closes. How many: [sites.proxy] keepalive per server.
    static constexpr std::chrono::seconds idle_timeout{4};

    // `site`: the site's name, which with pool and url finds each server's slot in `table`
    // (the master's shared health_table; null: no active checks, the loader's addresses) and
    // keys its servers' max_conns counts.
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

    // The TLS client of the site's https:// servers; null when it has none.
    upstream_tls* tls() { return tls_.get(); }

    // max_conns, counted over every worker in the shared table (net::conn_limit_table, keyed
    // by site, pool and server). `full` mask of the pool's servers that are at their cap and
    // have no idle connection here that a request could reuse.
    std::uint64_t full_servers(std::size_t pool) const;
    // Counts a new connection to the server in `ticket`; when the server is full, closes one
    // of this worker's idle connections to it to make room and tries once more.
    room admit(std::size_t pool, std::size_t server, net::conn_ticket& ticket);

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
    std::vector<std::vector<shared_link>> links_;  // [pool][server]
    std::unique_ptr<upstream_tls> tls_;            // before idle_: their SSLs point into its slots
    std::vector<std::vector<std::uint64_t>> keys_; // [pool][server]: max_conns table keys
    // [pool][server]: a stack, most recently used last (it is the likeliest to be open).
    std::vector<std::vector<std::vector<std::unique_ptr<upstream_connection>>>> idle_;
};

} // namespace bws::proxy
