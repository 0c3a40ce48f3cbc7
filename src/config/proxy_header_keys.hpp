// [sites.proxy.headers] (preserve_host, add_x_forwarded, add_forwarded, add, remove) and
// trusted_proxies: what the proxy forwards about the client. Internal to bws::config.
#pragma once

#include "config/key_table.hpp"

#include <string_view>
#include <vector>

namespace bws::config::detail {

// An HTTP token: the names of add, remove and hash_header.
bool valid_header_name(std::string_view name);

const std::vector<key_entry<site_proxy>>& proxy_header_keys();

// trusted_proxies: addresses or CIDR blocks; false when a value was refused (reported).
bool read_trusted_proxies(value_reader& in, const toml::node& v, site_proxy& p);

} // namespace bws::config::detail
