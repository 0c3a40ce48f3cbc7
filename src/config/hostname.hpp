// Host names and listener addresses from the config file, checked and put in canonical form.
#pragma once

#include "net/address.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace bws::config {

// Returns the canonical form of a site host name: lower-case, trailing dot removed. Accepted:
// DNS names of letters, digits, '-' and '_' (labels of 1-63 characters, not starting or ending
// with '-', 253 characters in all), `localhost`, IPv4 literals, IPv6 literals in brackets
// ("[::1]", canonicalised), and a wildcard "*." as the whole first label of a DNS name.
// Otherwise returns nullopt with `error` set to a one-line reason.
std::optional<std::string> normalise_hostname(std::string_view text, std::string& error);

// Parses the `bind` address of a site: an IPv4 or IPv6 literal (brackets around an IPv6 literal
// are accepted). Otherwise nullopt with `error` set to a one-line reason.
std::optional<net::ip_address> parse_bind_address(std::string_view text, std::string& error);

} // namespace bws::config
