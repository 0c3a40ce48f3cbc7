// Request routing as a pure function: which site (listener + Host), and what answers the
// request (health endpoint, the site's static files, or an error status decided here). The
// session executes the decision; a reverse proxy will be one more route_kind.
#pragma once

#include "http/request_parser.hpp"
#include "http/vhost_table.hpp"

#include <cstddef>
#include <string_view>

namespace bws::http {

enum class route_kind {
    health,          // the health path (or health path + "/")
    health_detailed, // health path + "/detailed"
    static_files,    // the site's static handler
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
};

// `vhosts` is the table of the listener the request arrived on; `health_path` is the
// configured one (empty: no health endpoint). The views in the result point into `head`.
route_decision route(const vhost_table& vhosts, std::string_view health_path,
                     const request_head& head);

} // namespace bws::http
