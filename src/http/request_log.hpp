// The lines a finished request leaves behind: the error log for 5xx answers and the site's
// access log. Not a template, so every session type shares one copy.
#pragma once

#include "http/request_parser.hpp"

#include <chrono>
#include <cstdint>
#include <string_view>

namespace bws::http {

class server;
struct site_runtime;

struct finished_request {
    std::chrono::system_clock::time_point time; // when the request began
    std::chrono::microseconds duration{};       // first byte to last byte written
    std::string_view client_address;
    std::string_view remote_user; // basic auth's user; empty: none
    unsigned status = 0;
    std::uint64_t body_bytes = 0;
    // HTTPS only: see log::access_record.
    std::string_view tls_version;
    std::string_view tls_cipher;
    std::string_view client_subject;
    // Proxied requests: see log::access_record.
    std::string_view upstream_address;
    unsigned upstream_status = 0;
    std::chrono::microseconds upstream_time{0};
};

void log_finished_request(server& owner, site_runtime& site, const request_head& head,
                          const finished_request& request);

} // namespace bws::http
