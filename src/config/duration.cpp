// Duration parsing for config values such as keepalive_timeout = "75s", and the longer
// HSTS max-age (hsts_max_age = "365d").
#include "config/duration.hpp"

#include "config/number_text.hpp"

#include <cctype>
#include <cstdint>
#include <limits>
#include <span>

namespace bws::config {
namespace {

struct unit {
    std::string_view name;
    std::int64_t ms;
};

// What one kind of duration accepts: its units (the first is what a bare number means), its
// upper bound, and how its messages name them.
struct duration_rules {
    std::span<const unit> units;
    std::int64_t max_ms;
    std::string_view unit_list;     // "ms, s, m or h"
    std::string_view fraction_hint; // after "is not a whole number"
    std::string_view limit;         // after "is too long"; may be empty
};

constexpr std::int64_t second_ms = 1000;
constexpr std::int64_t day_ms = 24 * 3600 * second_ms;

constexpr unit general_units[] = {
    {"s", second_ms}, {"ms", 1}, {"m", 60 * second_ms}, {"h", 3600 * second_ms}};
constexpr unit hsts_units[] = {
    {"s", second_ms}, {"ms", 1}, {"m", 60 * second_ms}, {"h", 3600 * second_ms}, {"d", day_ms}};

// Durations beyond 366 days are typos, and keeping far below the int64 range of milliseconds
// means no arithmetic on them elsewhere can overflow.
constexpr duration_rules general{general_units, 366 * day_ms, "ms, s, m or h",
                                 " (use ms, e.g. \"1500ms\")", ""};

constexpr duration_rules hsts{hsts_units, max_hsts_max_age.count() * second_ms, "ms, s, m, h or d",
                              " (use a smaller unit, e.g. \"36h\")",
                              " (at most 2 years, 63072000 seconds)"};

std::optional<std::int64_t> parse_ms(std::string_view text, std::string& error,
                                     const duration_rules& rules) {
    const std::string quoted = "'" + std::string(text) + "'";
    if (!trim_unsigned(text, "duration", "e.g. \"30s\", \"500ms\" or \"2m\"", error))
        return std::nullopt;
    const std::string too_long = "duration " + quoted + " is too long" + std::string(rules.limit);
    std::int64_t total = 0;
    std::size_t i = 0;
    bool first = true;
    while (i < text.size()) {
        std::int64_t value = 0;
        const std::size_t start = i;
        for (; i < text.size() && is_digit(text[i]); ++i) {
            value = value * 10 + (text[i] - '0');
            if (value > rules.max_ms) {
                error = too_long;
                return std::nullopt;
            }
        }
        if (i == start) {
            error = "duration " + quoted + " is not a number followed by " +
                    std::string(rules.unit_list);
            return std::nullopt;
        }
        if (i < text.size() && (text[i] == '.' || text[i] == ',')) {
            error =
                "duration " + quoted + " is not a whole number" + std::string(rules.fraction_hint);
            return std::nullopt;
        }
        while (i < text.size() && is_space(text[i]))
            ++i;
        std::string name;
        while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i])))
            name += static_cast<char>(std::tolower(static_cast<unsigned char>(text[i++])));
        while (i < text.size() && is_space(text[i]))
            ++i;
        std::int64_t multiplier = 0;
        if (name.empty() && first && i == text.size())
            multiplier = rules.units.front().ms; // a bare number means seconds
        for (const unit& u : rules.units)
            if (!name.empty() && u.name == name)
                multiplier = u.ms;
        if (multiplier == 0) {
            error = "duration " + quoted +
                    (name.empty() ? " has a number without a unit"
                                  : " has an unknown unit '" + name + "'") +
                    " (use " + std::string(rules.unit_list) + ")";
            return std::nullopt;
        }
        if (value > (rules.max_ms - total) / multiplier) {
            error = too_long;
            return std::nullopt;
        }
        total += value * multiplier;
        first = false;
    }
    return total;
}

} // namespace

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text, std::string& error) {
    const auto ms = parse_ms(text, error, general);
    if (!ms)
        return std::nullopt;
    return std::chrono::milliseconds{*ms};
}

std::optional<std::chrono::seconds> parse_hsts_max_age(std::string_view text, std::string& error) {
    const auto ms = parse_ms(text, error, hsts);
    if (!ms)
        return std::nullopt;
    if (*ms % second_ms != 0) {
        error = "duration '" + std::string(text) +
                "' is not a whole number of seconds (a max-age is sent in seconds)";
        return std::nullopt;
    }
    return std::chrono::seconds{*ms / second_ms};
}

} // namespace bws::config
