// The keys of a site's [sites.cache] table and its [[sites.cache.rules]], the checks of a
// Cache-Control value and of a rule's match patterns. Internal to bws::config.
#pragma once

#include "config/key_table.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace bws::config::detail {

// Checks a Cache-Control value (RFC 9111 §5.2: comma-separated `token[=token|quoted-string]`
// directives; delta-seconds directives such as max-age take digits only) and finds its max-age.
// nullopt with a one-line reason in `why` when it is malformed.
std::optional<cache_header> parse_cache_control(std::string_view text, std::string& why);

// One pattern of a rule's `match`: "*.css" (a file name ending in ".css", ASCII
// case-insensitively), "/assets/" or "/assets" (that path and everything beneath it),
// "/assets/*" (the same), "/assets/*.js" (both), "/" (everything).
std::optional<cache_pattern> parse_cache_pattern(std::string_view text, std::string& why);

// Reads the value of a site's `cache` key (a table) into `c`; false when it is not a table.
// A table given turns Cache-Control on unless it says `enabled = false`.
bool read_cache(value_reader& in, const toml::node& v, site_cache& c);

// A Cache-Control value written as a string key (`cache_control`); reports at `v`.
std::optional<cache_header> read_cache_header(value_reader& in, const toml::node& v,
                                              std::string_view key);

} // namespace bws::config::detail
