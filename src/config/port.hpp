// TCP ports, from the config file (an integer) or the command line (text), checked in one place.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bws::config {

// A listening port: 1..65535. Otherwise nullopt with `error` set to a one-line reason
// ("0 is out of range (must be between 1 and 65535)").
std::optional<std::uint16_t> port_from_integer(std::int64_t value, std::string& error);

// The same from decimal digits ("8080"); anything else (signs, spaces, "80x") is an error.
std::optional<std::uint16_t> parse_port(std::string_view text, std::string& error);

} // namespace bws::config
