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

} // namespace bws::config::detail
