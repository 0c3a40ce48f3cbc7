// The server-log line layout shared by the file and console sinks:
//   2026-11-28T18:20:01.123+00:00 INFO worker[1240] [main] message
// (timestamp with milliseconds and UTC offset, level, process role and pid, site when there is
// one, message).
#pragma once

#include <memory>
#include <spdlog/formatter.h>
#include <string_view>

namespace bws::log {

inline constexpr std::string_view line_pattern = "%Y-%m-%dT%H:%M:%S.%e%z %J %k%q %v";

// A formatter that knows the custom flags in line_pattern.
std::unique_ptr<spdlog::formatter> make_line_formatter();

// "TRACE", "DEBUG", "INFO", "WARN", "ERROR", "CRITICAL", "OFF".
std::string_view level_label(int spdlog_level);

} // namespace bws::log
