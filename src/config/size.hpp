// Byte sizes written in the config file ("100MB", "512 KiB", "10B"), parsed to a byte count.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bws::config {

// Parses "<digits>[ ]<unit>" where unit is B, KB, MB, GB, TB or KiB, MiB, GiB, TiB
// (case-insensitive, all 1024-based, as in the original BWS); a bare number is bytes.
// Returns nullopt and sets `error` to a one-line reason for anything else: fractions,
// negative numbers, unknown units, empty text, overflow.
std::optional<std::uint64_t> parse_size(std::string_view text, std::string& error);

} // namespace bws::config
