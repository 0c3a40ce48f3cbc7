// HTTP date formatting and parsing (see http_date.hpp). Arithmetic on civil dates instead of
// gmtime/timegm: no locale, no TZ, and no dependence on the width of time_t.
#include "files/http_date.hpp"

#include "http/header_text.hpp"

#include <array>

namespace bws::files {

namespace {

constexpr std::array<std::string_view, 7> short_days{"Sun", "Mon", "Tue", "Wed",
                                                     "Thu", "Fri", "Sat"};
constexpr std::array<std::string_view, 7> long_days{"Sunday",   "Monday", "Tuesday", "Wednesday",
                                                    "Thursday", "Friday", "Saturday"};
constexpr std::array<std::string_view, 12> months{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian).
constexpr std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct civil {
    std::int64_t year;
    unsigned month;
    unsigned day;
};

constexpr civil civil_from_days(std::int64_t z) {
    z += 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned d = doy - (153 * mp + 2) / 5 + 1;
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    return {y + (m <= 2), m, d};
}

constexpr bool is_leap(std::int64_t y) {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

constexpr unsigned days_in_month(std::int64_t y, unsigned m) {
    constexpr std::array<unsigned, 12> n{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : n[m - 1];
}

void put2(std::string& out, unsigned v) {
    out.push_back(static_cast<char>('0' + v / 10 % 10));
    out.push_back(static_cast<char>('0' + v % 10));
}

// A tiny cursor over the input: every reader consumes on success and fails without throwing.
class cursor {
public:
    explicit cursor(std::string_view s) : s_(s) {}
    bool done() const { return s_.empty(); }
    bool literal(std::string_view lit) {
        if (s_.substr(0, lit.size()) != lit)
            return false;
        s_.remove_prefix(lit.size());
        return true;
    }
    // Exactly `n` digits.
    bool digits(std::size_t n, unsigned& value) {
        if (s_.size() < n)
            return false;
        unsigned v = 0;
        for (std::size_t i = 0; i < n; ++i) {
            if (s_[i] < '0' || s_[i] > '9')
                return false;
            v = v * 10 + static_cast<unsigned>(s_[i] - '0');
        }
        value = v;
        s_.remove_prefix(n);
        return true;
    }
    template <std::size_t N>
    bool one_of(const std::array<std::string_view, N>& names, unsigned& index) {
        for (std::size_t i = 0; i < N; ++i) {
            if (s_.substr(0, names[i].size()) == names[i]) {
                index = static_cast<unsigned>(i);
                s_.remove_prefix(names[i].size());
                return true;
            }
        }
        return false;
    }
    // "HH:MM:SS"
    bool time_of_day(unsigned& h, unsigned& m, unsigned& s) {
        return digits(2, h) && literal(":") && digits(2, m) && literal(":") && digits(2, s);
    }

private:
    std::string_view s_;
};

std::optional<std::int64_t> to_unix(std::int64_t year, unsigned month, unsigned day, unsigned h,
                                    unsigned m, unsigned s) {
    // Seconds up to 60 admit a leap second, which POSIX time folds into the next minute.
    if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) || h > 23 ||
        m > 59 || s > 60)
        return std::nullopt;
    return days_from_civil(year, month, day) * 86400 + h * 3600 + m * 60 + s;
}

// "Sun, 06 Nov 1994 08:49:37 GMT"
std::optional<std::int64_t> parse_imf_fixdate(std::string_view text) {
    cursor c(text);
    unsigned wd, day, mon, year, h, m, s;
    if (c.one_of(short_days, wd) && c.literal(", ") && c.digits(2, day) && c.literal(" ") &&
        c.one_of(months, mon) && c.literal(" ") && c.digits(4, year) && c.literal(" ") &&
        c.time_of_day(h, m, s) && c.literal(" GMT") && c.done())
        return to_unix(year, mon + 1, day, h, m, s);
    return std::nullopt;
}

// "Sunday, 06-Nov-94 08:49:37 GMT". RFC 9110 says a two-digit year more than 50 years in the
// future means the past century; a fixed pivot (00-69 → 20xx) keeps parsing deterministic.
std::optional<std::int64_t> parse_rfc850(std::string_view text) {
    cursor c(text);
    unsigned wd, day, mon, yy, h, m, s;
    if (c.one_of(long_days, wd) && c.literal(", ") && c.digits(2, day) && c.literal("-") &&
        c.one_of(months, mon) && c.literal("-") && c.digits(2, yy) && c.literal(" ") &&
        c.time_of_day(h, m, s) && c.literal(" GMT") && c.done())
        return to_unix(yy < 70 ? 2000 + yy : 1900 + yy, mon + 1, day, h, m, s);
    return std::nullopt;
}

// "Sun Nov  6 08:49:37 1994" (day padded with a space)
std::optional<std::int64_t> parse_asctime(std::string_view text) {
    cursor c(text);
    unsigned wd, mon, day, year, h, m, s;
    if (!(c.one_of(short_days, wd) && c.literal(" ") && c.one_of(months, mon) && c.literal(" ")))
        return std::nullopt;
    if (c.literal(" ")) {
        if (!c.digits(1, day))
            return std::nullopt;
    } else if (!c.digits(2, day)) {
        return std::nullopt;
    }
    if (c.literal(" ") && c.time_of_day(h, m, s) && c.literal(" ") && c.digits(4, year) && c.done())
        return to_unix(year, mon + 1, day, h, m, s);
    return std::nullopt;
}

} // namespace

std::string format_http_date(std::int64_t unix_seconds) {
    std::int64_t days = unix_seconds / 86400;
    std::int64_t secs = unix_seconds % 86400;
    if (secs < 0) {
        secs += 86400;
        --days;
    }
    const civil c = civil_from_days(days);
    // 1970-01-01 was a Thursday.
    const auto weekday = static_cast<std::size_t>(((days % 7) + 11) % 7);
    std::string out;
    out.reserve(29);
    out += short_days[weekday];
    out += ", ";
    put2(out, c.day);
    out.push_back(' ');
    out += months[c.month - 1];
    out.push_back(' ');
    const auto year = static_cast<unsigned>(c.year < 0 ? 0 : c.year > 9999 ? 9999 : c.year);
    put2(out, year / 100);
    put2(out, year % 100);
    out.push_back(' ');
    put2(out, static_cast<unsigned>(secs / 3600));
    out.push_back(':');
    put2(out, static_cast<unsigned>(secs / 60 % 60));
    out.push_back(':');
    put2(out, static_cast<unsigned>(secs % 60));
    out += " GMT";
    return out;
}

std::optional<std::int64_t> parse_http_date(std::string_view text) {
    text = http::trim_ows(text);
    if (auto t = parse_imf_fixdate(text))
        return t;
    if (auto t = parse_rfc850(text))
        return t;
    return parse_asctime(text);
}

} // namespace bws::files
