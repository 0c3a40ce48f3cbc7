// The keys of a site's [sites.compression] table. Internal to bws::config.
#pragma once

#include "config/key_table.hpp"

namespace bws::config::detail {

// Reads the value of a site's `compression` key (a table) into `c`; false when it is not a
// table. A table given turns compression on unless it says `enabled = false`.
bool read_compression(value_reader& in, const toml::node& v, site_compression& c);

} // namespace bws::config::detail
