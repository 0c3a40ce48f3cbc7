// The keys of a site's [sites.access_control] table (CORS) and the checks between them.
// Internal to bws::config: read_site() calls read_cors() for the `access_control` key.
#pragma once

#include "config/key_table.hpp"

#include <string>

namespace bws::config::detail {

// Reads the table into `policy`; false when the value is not a table (reported). `what` names
// the site ("site 'a'") for the checks between keys.
bool read_cors(value_reader& in, const toml::node& v, cors_policy& policy, const std::string& what);

} // namespace bws::config::detail
