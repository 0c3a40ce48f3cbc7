// Durations written in the config file ("30s", "500ms", "2m", "1m30s"), parsed to milliseconds;
// and the HSTS max-age, which may be longer and take days ("365d").
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace bws::config {

// Parses one or more "<digits><unit>" parts, unit ms, s, m or h ("1m30s"); a bare number is
// seconds, like an integer in the file. At most 366 days. Returns nullopt and sets `error` to a
// one-line reason for fractions, negative numbers, unknown units, empty text or overflow.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text, std::string& error);

// The longest hsts_max_age accepted: two years. (The HSTS preload list asks for at least one
// year; a longer value is almost always a typo of units.)
inline constexpr std::chrono::seconds max_hsts_max_age{63072000};

// Like parse_duration, with the unit d (days) too, up to max_hsts_max_age, in whole seconds.
std::optional<std::chrono::seconds> parse_hsts_max_age(std::string_view text, std::string& error);

} // namespace bws::config
