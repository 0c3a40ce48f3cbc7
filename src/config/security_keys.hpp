// The [security] table (hide_server_header, security_headers) and the checked reading of one
// response header entry that [sites.headers] and security_headers share. Internal to
// bws::config.
#pragma once

#include "config/key_table.hpp"

#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace bws::config::detail {

using header_list = std::vector<std::pair<std::string, std::string>>;

// The framing headers every response's writer sets itself.
inline constexpr std::string_view server_set_headers[] = {"content-length", "transfer-encoding",
                                                          "connection"};

// `name = "value"` of a header table (label: "headers", "security_headers", "add"): a valid
// header name that is not one of `reserved` (lower-case; set by `setter` itself), a value
// without control characters. nullopt when refused (reported at the key or the value).
std::optional<std::pair<std::string, std::string>>
read_header_entry(value_reader& in, const toml::key& k, const toml::node& value,
                  std::string_view label,
                  std::span<const std::string_view> reserved = server_set_headers,
                  std::string_view setter = "the server");

// The safe defaults `security_headers = true` turns on.
const header_list& default_security_headers();

// `security_headers`: true (the defaults), false (none), or a table of headers that replace
// defaults of the same name or add to them ("" drops a default). False when refused.
bool read_security_headers(value_reader& in, const toml::node& v, header_list& out);

const std::vector<key_entry<security_section>>& security_keys();

} // namespace bws::config::detail
