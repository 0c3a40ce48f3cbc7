// Host header / request authority validation and normalisation for virtual-host matching.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace bws::http {

// Validates `authority` (a Host header value or the authority of an absolute-form target)
// and returns the host part lower-cased, without port or trailing dot, IPv6 literals kept in
// brackets. nullopt when it is malformed: empty, empty labels ("..", leading "."), characters
// outside letters/digits/'-'/'_'/'.', a port that is not 1-5 digits <= 65535, several colons,
// an unterminated "[", control characters.
std::optional<std::string> normalize_host(std::string_view authority);

// Splits an absolute-form request target ("http://host:port/path?q") into its authority and
// origin-form path ("/path?q"). Returns false when `target` is not absolute-form http(s).
bool split_absolute_target(std::string_view target, std::string_view& authority,
                           std::string_view& origin_form);

} // namespace bws::http
