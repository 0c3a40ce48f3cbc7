// The keys of a site's [sites.metrics] table (the server-wide /metrics on a site's port), and
// the checks of its path against the health endpoint and the site's proxy routes. Internal to
// bws::config.
#pragma once

#include "config/key_table.hpp"
#include "config/validate.hpp"

#include <optional>
#include <string>

namespace bws::config::detail {

// Reads the table into `metrics`: set when the table is there and not `enabled = false`.
// False when the value is not a table (reported).
bool read_site_metrics(value_reader& in, const toml::node& v, std::optional<site_metrics>& metrics,
                       const std::string& what);

// A metrics path that is the health endpoint (or one of its paths), or the path of one of the
// site's proxy routes, is an error at the path; a shorter proxy route that would take the path
// is a warning (the metrics endpoint answers it, the upstream never sees it).
void check_metrics_paths(const snapshot& config, report& out);

} // namespace bws::config::detail
