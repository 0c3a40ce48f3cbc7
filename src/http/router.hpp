// Request routing as a pure function: which site (listener + Host), and what answers the
// request (health or metrics endpoint, a proxy route, the site's static files, or an error
// status decided here). The session executes the decision.
#pragma once

#include "http/request_parser.hpp"
#include "http/vhost_table.hpp"

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace bws::config {
struct proxy_route;
struct site_proxy;
} // namespace bws::config

namespace bws::http {

enum class route_kind {
    health,          // the health path (or health path + "/")
    health_detailed, // health path + "/detailed"
    metrics,         // the site's [sites.metrics] path, GET or HEAD: the server-wide metrics
    static_files,    // the site's static handler
    proxy,           // a [[sites.proxy.routes]] entry: forwarded to its upstream pool
    error,           // answer `status` with the site's error page
};

struct route_decision {
    route_kind kind = route_kind::error;
    std::size_t site = 0; // index into the server's sites
    unsigned status = 0;  // for route_kind::error
    // Framing or addressing is in doubt (a 400): answer and close the connection.
    bool close = false;
    bool head = false;         // HEAD: the same head, no body
    bool allow_header = false; // a 405: send "Allow: GET, HEAD"
    std::string_view path;     // origin-form path without the query ("/" when empty)
    std::string_view query;    // after '?', without it
    bool has_query = false;    // the target had a '?' (even with nothing after it)
    // The normalised host (empty without one) and whether a site's name matched it, rather
    // than the listener's default taking the request: TLS ports compare it with the site the
    // handshake chose (421), plain sites redirect it to HTTPS.
    std::string host;
    bool host_matched = false;
    // route_kind::proxy: the route, and the path without dot segments that it matched.
    const config::proxy_route* proxy_route = nullptr;
    std::string proxy_path;
};

// What the router needs of a site beyond its host names.
struct site_routes {
    const config::site_proxy* proxy = nullptr; // null: the site does not proxy
    std::string_view metrics_path;             // empty: no [sites.metrics]
    bool api_only = false;                     // no static files: 404 instead
};

// Each site's routes by index (a shorter table: the other sites have none of them).
using site_route_table = std::span<const site_routes>;

// `vhosts` is the table of the listener the request arrived on; `health_path` is the
// configured one (empty: no health endpoint). After the health endpoint come the site's
// metrics path (GET/HEAD; 405 otherwise), then its proxy routes (any method), then the method
// check and the static files (404 for an api_only site). The views in the result point into
// `head`.
route_decision route(const vhost_table& vhosts, std::string_view health_path,
                     const request_head& head, site_route_table sites = {});

} // namespace bws::http
