// Combined and JSON access-log lines. The local-time part is cached per thread and per second:
// localtime_r per request would cost more than the rest of the line.
#include "log/access_format.hpp"

#include <array>
#include <ctime>
#include <fmt/format.h>

namespace bws::log {
namespace {

constexpr std::array<const char*, 12> months{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                             "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr char hex_digits[] = "0123456789abcdef";

struct second_cache {
    std::time_t second = -1;
    std::string combined; // 28/Nov/2026:18:20:01 +0000
    std::string rfc_date; // 2026-11-28T18:20:01
    std::string rfc_zone; // +00:00
};

const second_cache& cached_second(std::time_t second) {
    thread_local second_cache cache;
    if (cache.second == second)
        return cache;
    std::tm tm{};
    ::localtime_r(&second, &tm);
    const long offset = tm.tm_gmtoff;
    const char sign = offset < 0 ? '-' : '+';
    const long abs_minutes = (offset < 0 ? -offset : offset) / 60;
    cache.combined = fmt::format("{:02}/{}/{:04}:{:02}:{:02}:{:02} {}{:02}{:02}", tm.tm_mday,
                                 months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                                 tm.tm_sec, sign, abs_minutes / 60, abs_minutes % 60);
    cache.rfc_date = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", tm.tm_year + 1900,
                                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    cache.rfc_zone = fmt::format("{}{:02}:{:02}", sign, abs_minutes / 60, abs_minutes % 60);
    cache.second = second;
    return cache;
}

std::time_t seconds_of(std::chrono::system_clock::time_point time) {
    return static_cast<std::time_t>(
        std::chrono::floor<std::chrono::seconds>(time.time_since_epoch()).count());
}

// nginx's escaping for quoted log fields.
void append_escaped(std::string& out, std::string_view text) {
    if (text.empty()) {
        out += '-';
        return;
    }
    for (const char ch : text) {
        const auto c = static_cast<unsigned char>(ch);
        if (c == '"' || c == '\\' || c < 0x20 || c >= 0x7f) {
            out += "\\x";
            out += hex_digits[c >> 4];
            out += hex_digits[c & 0xf];
        } else {
            out += ch;
        }
    }
}

// Length of the valid UTF-8 sequence starting at text[i], or 0 when it is invalid.
std::size_t utf8_sequence(std::string_view text, std::size_t i) {
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
    const auto c = byte(i);
    std::size_t length;
    unsigned min;
    unsigned code;
    if (c >= 0xc2 && c <= 0xdf) {
        length = 2, min = 0x80, code = c & 0x1fu;
    } else if (c >= 0xe0 && c <= 0xef) {
        length = 3, min = 0x800, code = c & 0x0fu;
    } else if (c >= 0xf0 && c <= 0xf4) {
        length = 4, min = 0x10000, code = c & 0x07u;
    } else {
        return 0;
    }
    if (i + length > text.size())
        return 0;
    for (std::size_t k = 1; k < length; ++k) {
        if ((byte(i + k) & 0xc0u) != 0x80u)
            return 0;
        code = (code << 6) | (byte(i + k) & 0x3fu);
    }
    if (code < min || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff))
        return 0;
    return length;
}

} // namespace

void append_rfc3339_ms(std::string& out, std::chrono::system_clock::time_point time) {
    const auto second = seconds_of(time);
    const auto& cache = cached_second(second);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        time.time_since_epoch() - std::chrono::seconds(second))
                        .count();
    out += cache.rfc_date;
    fmt::format_to(std::back_inserter(out), ".{:03}", ms);
    out += cache.rfc_zone;
}

void append_json_string(std::string& out, std::string_view text) {
    out += '"';
    for (std::size_t i = 0; i < text.size();) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c < 0x80) {
            switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (c < 0x20 || c == 0x7f) {
                    out += "\\u00";
                    out += hex_digits[c >> 4];
                    out += hex_digits[c & 0xf];
                } else {
                    out += static_cast<char>(c);
                }
            }
            ++i;
            continue;
        }
        if (const auto length = utf8_sequence(text, i); length != 0) {
            out.append(text.substr(i, length));
            i += length;
        } else {
            out += "\\ufffd";
            ++i;
        }
    }
    out += '"';
}

void append_combined(std::string& out, const access_record& r) {
    out += r.client_address.empty() ? std::string_view("-") : r.client_address;
    // The remote-user field carries the basic-auth user (nginx's $remote_user) or else a
    // verified client certificate's subject (quoted: it has spaces and commas).
    if (!r.remote_user.empty()) {
        out += " - ";
        append_escaped(out, r.remote_user);
        out += " [";
    } else if (r.client_subject.empty()) {
        out += " - - [";
    } else {
        out += " - \"";
        append_escaped(out, r.client_subject);
        out += "\" [";
    }
    out += cached_second(seconds_of(r.time)).combined;
    out += "] \"";
    append_escaped(out, r.method);
    out += ' ';
    append_escaped(out, r.target);
    fmt::format_to(std::back_inserter(out), " HTTP/{}.{}\" {} {} \"", r.version_major,
                   r.version_minor, r.status, r.bytes_sent);
    append_escaped(out, r.referer);
    out += "\" \"";
    append_escaped(out, r.user_agent);
    out += "\"\n";
}

void append_json(std::string& out, const access_record& r) {
    out += "{\"time\":\"";
    append_rfc3339_ms(out, r.time);
    out += "\",\"site\":";
    append_json_string(out, r.site);
    out += ",\"client\":";
    append_json_string(out, r.client_address);
    out += ",\"method\":";
    append_json_string(out, r.method);
    out += ",\"target\":";
    append_json_string(out, r.target);
    fmt::format_to(std::back_inserter(out),
                   ",\"protocol\":\"HTTP/{}.{}\",\"status\":{},\"bytes\":{},\"duration_ms\":{:.3f}",
                   r.version_major, r.version_minor, r.status, r.bytes_sent,
                   static_cast<double>(r.duration.count()) / 1000.0);
    out += ",\"user_agent\":";
    append_json_string(out, r.user_agent);
    out += ",\"referer\":";
    append_json_string(out, r.referer);
    out += ",\"request_id\":";
    append_json_string(out, r.request_id);
    if (!r.tls_version.empty()) {
        out += ",\"tls_version\":";
        append_json_string(out, r.tls_version);
        out += ",\"tls_cipher\":";
        append_json_string(out, r.tls_cipher);
    }
    if (!r.remote_user.empty()) {
        out += ",\"user\":";
        append_json_string(out, r.remote_user);
    }
    if (!r.client_subject.empty()) {
        out += ",\"client_subject\":";
        append_json_string(out, r.client_subject);
    }
    if (!r.upstream_address.empty()) {
        out += ",\"upstream\":";
        append_json_string(out, r.upstream_address);
        fmt::format_to(std::back_inserter(out), ",\"upstream_status\":{},\"upstream_ms\":{:.3f}",
                       r.upstream_status, static_cast<double>(r.upstream_time.count()) / 1000.0);
    }
    out += "}\n";
}

} // namespace bws::log
