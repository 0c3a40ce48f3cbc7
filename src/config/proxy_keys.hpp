// The keys of a site's [sites.proxy] table (upstream pools, routes, balancing, timeouts,
// forwarded headers) and the checks between them.
// Internal to bws::config.
#pragma once

#include "config/key_table.hpp"

#include <optional>
#include <string>
#include <vector>

namespace bws::config::detail {

// [sites.proxy] while it is read: what the keys set, before the checks between them.
struct proxy_draft {
    site_proxy proxy;
    bool enabled = false;
    bool upstreams_given = false;
    // [[sites.proxy.routes]] as written: the pool is named, and found once every upstream
    // is read.
    struct route_draft {
        proxy_route route;
        std::string upstream;
        source_pos upstream_pos;
    };
    std::vector<route_draft> routes;
    source_pos pos;
};

// Reads the value of a site's `proxy` key (a table) into `d`; false when it is not a table.
bool read_proxy(value_reader& in, const toml::node& v, proxy_draft& d);

// The checks between the keys (pools named by routes exist, a route path appears once);
// `what` names the site. Returns the site's proxy when the table is enabled.
std::optional<site_proxy> finish_proxy(proxy_draft& d, const std::string& what, report& out);

} // namespace bws::config::detail
