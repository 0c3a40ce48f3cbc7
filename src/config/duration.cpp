// Duration parsing for config values such as keepalive_timeout = "75s".
#include "config/duration.hpp"

#include "config/number_text.hpp"

#include <cctype>
#include <cstdint>
#include <limits>

namespace bws::config {
namespace {

// Durations beyond this are typos, and keeping far below the int64 range of milliseconds
// means no arithmetic on them elsewhere can overflow.
constexpr std::int64_t max_ms = std::int64_t{366} * 24 * 3600 * 1000;

} // namespace

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text, std::string& error) {
    const std::string quoted = "'" + std::string(text) + "'";
    if (!trim_unsigned(text, "duration", "e.g. \"30s\", \"500ms\" or \"2m\"", error))
        return std::nullopt;
    std::int64_t total = 0;
    std::size_t i = 0;
    bool first = true;
    while (i < text.size()) {
        std::int64_t value = 0;
        const std::size_t start = i;
        for (; i < text.size() && is_digit(text[i]); ++i) {
            value = value * 10 + (text[i] - '0');
            if (value > max_ms) {
                error = "duration " + quoted + " is too long";
                return std::nullopt;
            }
        }
        if (i == start) {
            error = "duration " + quoted + " is not a number followed by ms, s, m or h";
            return std::nullopt;
        }
        if (i < text.size() && (text[i] == '.' || text[i] == ',')) {
            error = "duration " + quoted + " is not a whole number (use ms, e.g. \"1500ms\")";
            return std::nullopt;
        }
        while (i < text.size() && is_space(text[i]))
            ++i;
        std::string unit;
        while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i])))
            unit += static_cast<char>(std::tolower(static_cast<unsigned char>(text[i++])));
        while (i < text.size() && is_space(text[i]))
            ++i;
        std::int64_t multiplier = 0;
        if (unit == "s" || (unit.empty() && first && i == text.size()))
            multiplier = 1000; // a bare number means seconds
        else if (unit == "ms")
            multiplier = 1;
        else if (unit == "m")
            multiplier = 60 * 1000;
        else if (unit == "h")
            multiplier = 3600 * 1000;
        else {
            error = "duration " + quoted +
                    (unit.empty() ? " has a number without a unit"
                                  : " has an unknown unit '" + unit + "'") +
                    " (use ms, s, m or h)";
            return std::nullopt;
        }
        if (value > (max_ms - total) / multiplier) {
            error = "duration " + quoted + " is too long";
            return std::nullopt;
        }
        total += value * multiplier;
        first = false;
    }
    return std::chrono::milliseconds{total};
}

} // namespace bws::config
