// RFC 9110 §5.6.7 HTTP dates: IMF-fixdate formatting; parsing of IMF-fixdate, RFC 850 and
// asctime forms. Locale- and time-zone-independent.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bws::files {

// Seconds since the Unix epoch as "Sun, 06 Nov 1994 08:49:37 GMT".
std::string format_http_date(std::int64_t unix_seconds);

// Parses any of the three HTTP-date forms; nullopt when `text` is none of them (or names an
// impossible date such as 31 Feb). Leading and trailing whitespace is allowed.
std::optional<std::int64_t> parse_http_date(std::string_view text);

} // namespace bws::files
