// The keys of a site's [sites.access] table (IP allow/deny lists, basic auth), the address
// lists [security] trusted_proxies shares with it, and the environment check that reads the
// auth files. Internal to bws::config.
#pragma once

#include "config/key_table.hpp"

#include <string_view>

namespace bws::config::detail {

// An array of addresses and CIDR blocks ("10.0.0.0/8", "2001:db8::/32", "::1"). A block with
// host bits set ("10.0.0.1/8") is a warning and means its network. False when refused.
bool read_address_list(value_reader& in, const toml::node& v, std::string_view key,
                       net::address_set& out);

// Reads the table into `access`; false when the value is not a table (reported). `what` names
// the site for the checks between keys.
bool read_access(value_reader& in, const toml::node& v, site_access& access,
                 const std::string& what);

// Reads and checks the auth_file of every site that requires auth (htpasswd: "user:hash"
// lines, blank lines and '#' comments skipped). Errors point at auth_file and name the line.
void check_auth_files(snapshot& config, report& out);

} // namespace bws::config::detail
