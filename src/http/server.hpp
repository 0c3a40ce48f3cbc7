// One worker's HTTP server: accepts on the inherited listeners, owns the per-site runtime
// (static handlers, prepared headers, error pages, access logs) and every open session, and
// implements draining for reloads and graceful stops.
#pragma once

#include "app/worker.hpp"
#include "config/model.hpp"
#include "http/cors.hpp"
#include "http/failure_funnel.hpp"
#include "http/response.hpp"
#include "http/router.hpp"
#include "http/vhost_table.hpp"
#include "log/access_log.hpp"
#include "net/conn_limit.hpp"
#include "sys/memory_trim.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace boost::json {
class object;
} // namespace boost::json

namespace bws::files {
class static_handler;
class file_cache;
} // namespace bws::files

namespace bws::content {
class compressed_cache;
} // namespace bws::content

namespace bws::tls {
class context_table;
} // namespace bws::tls

namespace bws::proxy {
class site_upstreams;
} // namespace bws::proxy

namespace bws::http {

class session_base;

// Everything a session needs to answer for one site, prepared once per generation.
struct site_runtime {
    const config::site* config = nullptr;
    std::unique_ptr<files::static_handler> files;     // null for an api_only site
    std::string header_block;                         // "Name: value\r\n" for every site header
    std::vector<std::string> header_names;            // lower-case, to let them override ours
    std::map<unsigned, std::string> error_pages;      // status -> page body
    std::shared_ptr<log::access_log> access_log;      // null when off
    std::unique_ptr<proxy::site_upstreams> upstreams; // sites that proxy
    std::optional<cors_plan> cors;                    // sites with [sites.access_control]
    std::uint64_t requests = 0;
    std::uint64_t tls_handshake_failures = 0; // handshakes that chose this site and failed
    std::size_t metrics_site = 0;             // its series in the shared metrics region
};

// How a server writes; the defaults are what production uses.
struct server_options {
    // false: file slices go through the buffered path (pread + write) even on plain TCP, as
    // they will over TLS. For tests that compare both paths.
    bool zero_copy = true;
};

class server {
public:
    using clock = std::chrono::steady_clock;

    server(boost::asio::io_context& io, config::snapshot_ptr config,
           const std::vector<app::inherited_listener>& listeners, unsigned generation,
           server_options options = {});
    ~server();
    server(const server&) = delete;
    server& operator=(const server&) = delete;

    void start();
    // Stops accepting; sessions finish what they are doing and answer their next request
    // with Connection: close. Idle keep-alive connections are kept for that next request
    // (reload) or closed at once when `close_idle` (graceful stop); a later call with
    // `close_idle` upgrades a reload drain. `on_drained` runs once no session is left.
    void drain(std::function<void()> on_drained, bool close_idle);
    // Closes every connection now.
    void stop();
    // Closes the upgraded connections (WebSocket tunnels) of a draining server: their drain
    // deadline passed. The drain ends once the other sessions are done too.
    void close_tunnels();

    bool draining() const { return draining_; }
    bool closing_idle() const { return close_idle_; }
    std::size_t session_count() const { return sessions_.size(); }
    std::vector<std::pair<std::string, std::uint64_t>> site_counters() const;
    // Peer and filesystem failures this worker's sessions met, by category (benign ones such as
    // resets and timeouts are not counted); see failure_funnel.
    // TLS sites' handshake failures are also listed one by one, as "tls_handshake:SITE".
    std::map<std::string, std::uint64_t> failure_counts() const;
    void set_master_status(const std::string& json);
    // Until the master's first status frame: whether the master drains (worker_context).
    void set_health_draining(bool draining) { health_draining_ = draining; }
    void flush_logs();
    // Writes the sampled gauges (idle connections) into this worker's metrics slot.
    void sample_metrics() const;

    // For sessions.
    const config::snapshot& config() const { return *config_; }
    const config::limits& limits() const { return config_->server.limits; }
    site_runtime& site(std::size_t index) { return sites_[index]; }
    const vhost_table& vhosts(std::size_t listener) const { return listeners_[listener].vhosts; }
    // Each site's proxy routes, metrics path and api_only by index, for route().
    site_route_table routes() const { return routes_; }
    // Whether requests keep every header field: some site proxies them.
    bool keep_fields() const { return keep_fields_; }
    std::size_t default_site(std::size_t listener) const;
    // Whether a certificate of TLS site `site` names `host` (normalised).
    bool certificate_covers(std::size_t site, const std::string& host) const;
    // The port of the TLS listener whose sites serve `host` by name (for redirect_to_https).
    std::optional<std::uint16_t> https_port(std::string_view host) const;
    failure_funnel& failures() { return failures_; }
    const std::string& date_header(); // "Date: ...\r\n", refreshed once a second
    const std::string& server_header() const { return server_header_; }
    response health_response(bool detailed);
    // The server-wide metrics (every worker's slot summed), as the management API's /metrics
    // gives them: OpenMetrics when `accept` asks for it, the Prometheus text format otherwise.
    response metrics_response(std::string_view accept) const;
    std::string next_request_id();
    std::list<session_base*>::iterator register_session(session_base* s);
    void unregister_session(std::list<session_base*>::iterator position);

private:
    struct listener_runtime {
        config::listen_address address;
        vhost_table vhosts;
        std::size_t default_site = 0;
        std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor;
        std::unique_ptr<tls::context_table> tls; // a TLS port; null for plain HTTP
    };
    // The SNI table of a TLS listener; null (after logging why) when a site lacks its
    // loaded certificates, which only a loader that skipped the filesystem leaves behind.
    std::unique_ptr<tls::context_table> make_tls_table(const listener_runtime& listener) const;

    void do_accept(std::size_t listener);
    void start_session(boost::asio::ip::tcp::socket socket, std::size_t listener);
    // The per-address limit at accept: true with `ticket` filled (or empty when not counted)
    // to serve the connection, false to close it.
    bool admit_client(const boost::asio::ip::tcp::socket& socket, net::conn_ticket& ticket);
    template <class F>
    void for_each_session(F&& f);
    void on_sweep();
    void check_drained();

    boost::asio::io_context& io_;
    config::snapshot_ptr config_;
    unsigned generation_;
    std::shared_ptr<files::file_cache> file_cache_;
    std::shared_ptr<content::compressed_cache> compressed_cache_; // bodies compressed on the fly
    std::vector<site_runtime> sites_;
    std::vector<site_routes> routes_;
    bool keep_fields_ = false;
    std::vector<listener_runtime> listeners_;
    server_options options_;
    std::list<session_base*> sessions_;
    failure_funnel failures_;
    boost::asio::steady_timer sweep_timer_;
    bool draining_ = false;
    // stop() was called: the sweep must not arm itself again (its completion may already be
    // queued when stop() cancels the timer), or io_context::run() would never return.
    bool stopped_ = false;
    bool close_idle_ = false;
    bool accept_paused_ = false;
    // After a crowd of connections has closed, the sweep gives their freed memory back.
    sys::idle_trim_policy trim_policy_;
    std::function<void()> on_drained_;
    std::string server_header_;
    std::string date_header_;
    std::int64_t date_second_ = -1;
    std::unique_ptr<boost::json::object> master_status_; // the master's view, when there is one
    bool health_draining_ = false; // the master's "draining": /health says 503
    clock::time_point started_ = clock::now();
    std::uint64_t request_counter_ = 0;
    std::vector<std::shared_ptr<log::access_log>> distinct_logs_;
};

} // namespace bws::http
