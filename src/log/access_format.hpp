// Formatting of one access-log line: nginx's "combined" format and one JSON object per line.
#pragma once

#include "log/access_log.hpp"

#include <string>
#include <string_view>

namespace bws::log {

// 127.0.0.1 - - [28/Nov/2026:18:20:01 +0000] "GET /a HTTP/1.1" 200 512 "-" "curl/8.0"
// As nginx: local time, bytes 0 printed as "0", empty referer/user agent as "-", and '"', '\',
// control and non-ASCII bytes in the quoted fields escaped as \xHH.
void append_combined(std::string& out, const access_record& record);

// {"time":"2026-11-28T18:20:01.123+00:00","site":"main","client":"127.0.0.1","method":"GET",
//  "target":"/a","protocol":"HTTP/1.1","status":200,"bytes":512,"duration_ms":1.234,
//  "user_agent":"curl/8.0","referer":"","request_id":"..."}, plus tls_version, tls_cipher and
//  client_subject on HTTPS, and upstream, upstream_status and upstream_ms when proxied.
void append_json(std::string& out, const access_record& record);

// A JSON string literal (with quotes). Invalid UTF-8 becomes U+FFFD so the line always parses.
void append_json_string(std::string& out, std::string_view text);

// RFC 3339 local time with milliseconds and offset: 2026-11-28T18:20:01.123+00:00
void append_rfc3339_ms(std::string& out, std::chrono::system_clock::time_point time);

} // namespace bws::log
