// Durations written in the config file ("30s", "500ms", "2m", "1m30s"), parsed to milliseconds.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace bws::config {

// Parses one or more "<digits><unit>" parts, unit ms, s, m or h ("1m30s"); a bare number is
// seconds, like an integer in the file. Returns nullopt and sets `error` to a one-line reason
// for fractions, negative numbers, unknown units, empty text or overflow.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text, std::string& error);

} // namespace bws::config
