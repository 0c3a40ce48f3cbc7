// Byte size parsing for config values such as max_size = "100MB".
#include "config/size.hpp"

#include "config/number_text.hpp"

#include <array>
#include <cctype>
#include <limits>
#include <utility>

namespace bws::config {
namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// Both the decimal-looking and the IEC spellings mean powers of 1024, because that is what the
// original BWS and every log-rotation tool operators know do.
constexpr std::array<std::pair<std::string_view, std::uint64_t>, 9> units{{
    {"b", 1},
    {"kb", 1ULL << 10},
    {"kib", 1ULL << 10},
    {"mb", 1ULL << 20},
    {"mib", 1ULL << 20},
    {"gb", 1ULL << 30},
    {"gib", 1ULL << 30},
    {"tb", 1ULL << 40},
    {"tib", 1ULL << 40},
}};

} // namespace

std::optional<std::uint64_t> parse_size(std::string_view text, std::string& error) {
    const std::string quoted = "'" + std::string(text) + "'";
    if (!trim_unsigned(text, "size", "a number of bytes or e.g. \"100MB\"", error))
        return std::nullopt;
    std::size_t i = 0;
    std::uint64_t value = 0;
    constexpr auto max = std::numeric_limits<std::uint64_t>::max();
    for (; i < text.size() && is_digit(text[i]); ++i) {
        const auto digit = static_cast<std::uint64_t>(text[i] - '0');
        if (value > (max - digit) / 10) {
            error = "size " + quoted + " is too large";
            return std::nullopt;
        }
        value = value * 10 + digit;
    }
    if (i == 0) {
        error = "size " + quoted + " does not start with a number";
        return std::nullopt;
    }
    if (i < text.size() && (text[i] == '.' || text[i] == ',')) {
        error = "size " + quoted + " is not a whole number (use a smaller unit, e.g. \"1536KB\")";
        return std::nullopt;
    }
    while (i < text.size() && is_space(text[i]))
        ++i;
    const std::string unit = lower(text.substr(i));
    if (unit.empty())
        return value;
    for (const auto& [name, multiplier] : units) {
        if (unit == name) {
            if (value > max / multiplier) {
                error = "size " + quoted + " is too large";
                return std::nullopt;
            }
            return value * multiplier;
        }
    }
    error = "size " + quoted + " has an unknown unit '" + std::string(text.substr(i)) +
            "' (use B, KB, MB, GB or TB)";
    return std::nullopt;
}

} // namespace bws::config
