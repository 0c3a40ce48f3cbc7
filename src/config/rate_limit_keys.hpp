// [security.rate_limiting] and [sites.rate_limit]: requests_per_minute, burst_size, whitelist,
// enabled. Internal to bws::config.
#pragma once

#include "config/key_table.hpp"

#include <string_view>

namespace bws::config::detail {

// Reads the table `v` (named `label` in messages) into `limit`. requests_per_minute and
// burst_size are required unless enabled = false. False when `v` is not a table (reported);
// other errors are reported at their key or value.
bool read_rate_limit(value_reader& in, const toml::node& v, rate_limit& limit,
                     std::string_view label);

} // namespace bws::config::detail
