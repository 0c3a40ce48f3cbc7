// Request routing as a pure function: which site (listener + Host), and what answers the
// request (health endpoint, the site's static files, or an error status decided here). The
// session executes the decision; a reverse proxy will be one more route_kind.
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

// The [sites.proxy] of each site by index (null: the site does not proxy).
using proxy_table = std::span<const config::site_proxy* const>;

// `vhosts` is the table of the listener the request arrived on; `health_path` is the
// configured one (empty: no health endpoint); `proxies` the sites' proxy routes, checked after
// the health endpoint and before the method check (a proxied path takes any method). The
// views in the result point into `head`.
route_decision route(const vhost_table& vhosts, std::string_view health_path,
                     const request_head& head, proxy_table proxies = {});

} // namespace bws::http
