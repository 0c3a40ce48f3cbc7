// Routing (see router.hpp): Host/authority check, vhost lookup, target form, then the health
// endpoint, the metrics endpoint, the proxy routes, the method check and the static files.
#include "http/router.hpp"

#include "config/model.hpp"
#include "http/host.hpp"
#include "proxy/route_match.hpp"

namespace bws::http {

namespace {

route_decision error(std::size_t site, unsigned status, bool close) {
    route_decision d;
    d.kind = route_kind::error;
    d.site = site;
    d.status = status;
    d.close = close;
    return d;
}

} // namespace

route_decision route(const vhost_table& vhosts, std::string_view health_path,
                     const request_head& head, site_route_table sites) {
    namespace bhttp = boost::beast::http;
    const bool head_request = head.method == bhttp::verb::head;

    // Which host: the authority of an absolute-form target wins over the Host header.
    std::string_view authority;
    std::string_view origin_form = head.target;
    std::string host;
    const bool absolute = split_absolute_target(head.target, authority, origin_form);
    if (absolute || head.host_seen) {
        auto normalized = normalize_host(absolute ? authority : std::string_view(head.host));
        if (!normalized) {
            auto d = error(vhosts.default_site(), 400, true);
            d.head = head_request;
            return d;
        }
        host = std::move(*normalized);
    } else if (head.version >= 11) {
        // HTTP/1.1 requires Host (RFC 9112 §3.2).
        auto d = error(vhosts.default_site(), 400, true);
        d.head = head_request;
        return d;
    }
    const auto matched = vhosts.find(host);
    const std::size_t site = matched.value_or(vhosts.default_site());

    if (origin_form.empty() || (origin_form.front() != '/' && origin_form.front() != '?')) {
        // "*" and other forms mean nothing for a file server.
        auto d = error(site, 400, true);
        d.head = head_request;
        return d;
    }

    route_decision d;
    d.site = site;
    d.head = head_request;
    d.host_matched = matched.has_value();
    d.host = std::move(host);
    const auto query_pos = origin_form.find('?');
    d.path = origin_form.substr(0, query_pos);
    if (query_pos != std::string_view::npos) {
        d.query = origin_form.substr(query_pos + 1);
        d.has_query = true;
    }
    if (d.path.empty())
        d.path = "/";

    const bool get_or_head = head.method == bhttp::verb::get || head_request;
    if (get_or_head && !health_path.empty() && d.path.size() >= health_path.size() &&
        d.path.compare(0, health_path.size(), health_path) == 0) {
        const auto rest = d.path.substr(health_path.size());
        if (rest.empty() || rest == "/") {
            d.kind = route_kind::health;
            return d;
        }
        if (rest == "/detailed") {
            d.kind = route_kind::health_detailed;
            return d;
        }
    }

    const site_routes none;
    const site_routes& routes = site < sites.size() ? sites[site] : none;
    if (!routes.metrics_path.empty() && d.path == routes.metrics_path) {
        // Before the proxy routes (the loader refuses a route on this very path).
        if (get_or_head) {
            d.kind = route_kind::metrics;
        } else {
            d.kind = route_kind::error;
            d.status = 405;
            d.allow_header = true;
        }
        return d;
    }

    if (routes.proxy != nullptr) {
        // Matched without dot segments, so "/api/../admin" cannot reach an upstream as /api.
        auto clean = proxy::remove_dot_segments(d.path);
        if (!clean) {
            d.kind = route_kind::error;
            d.status = 400;
            d.close = true;
            return d;
        }
        if (const auto* r = proxy::match_route(*routes.proxy, *clean)) {
            d.kind = route_kind::proxy;
            d.proxy_route = r;
            d.proxy_path = std::move(*clean);
            return d;
        }
    }

    if (routes.api_only) {
        // Nothing on disk is served, whatever the method: the path names nothing here.
        d.kind = route_kind::error;
        d.status = 404;
        return d;
    }
    if (!get_or_head) {
        d.kind = route_kind::error;
        d.status = 405;
        d.allow_header = true;
        return d;
    }
    d.kind = route_kind::static_files;
    return d;
}

} // namespace bws::http
