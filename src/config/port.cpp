// Port range checks shared by the config loader and `bws DIR --port N`.
#include "config/port.hpp"

#include <charconv>
#include <limits>

namespace bws::config {

std::optional<std::uint16_t> port_from_integer(std::int64_t value, std::string& error) {
    if (value < 1 || value > std::numeric_limits<std::uint16_t>::max()) {
        error = std::to_string(value) + " is out of range (must be between 1 and 65535)";
        return std::nullopt;
    }
    return static_cast<std::uint16_t>(value);
}

std::optional<std::uint16_t> parse_port(std::string_view text, std::string& error) {
    std::int64_t value = 0;
    const char* end = text.data() + text.size();
    // from_chars accepts a leading '-'; a port is written with digits only.
    const bool digits = !text.empty() && text.front() >= '0' && text.front() <= '9';
    auto [stop, ec] = std::from_chars(text.data(), end, value);
    if (!digits || ec == std::errc::invalid_argument || stop != end) {
        error = "'" + std::string(text) + "' is not a port number";
        return std::nullopt;
    }
    if (ec == std::errc::result_out_of_range) {
        error = std::string(text) + " is out of range (must be between 1 and 65535)";
        return std::nullopt;
    }
    return port_from_integer(value, error);
}

} // namespace bws::config
