// The access log: one line per request, Combined Log Format or JSON, written by workers with
// O_APPEND so whole lines from many processes never interleave.
#pragma once

#include "config/model.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace bws::log {

// Everything one access-log line needs; views are valid only during write().
struct access_record {
    std::chrono::system_clock::time_point time; // when the request arrived
    std::string_view site;
    std::string_view client_address;
    std::string_view method;
    std::string_view target;
    unsigned version_major = 1;
    unsigned version_minor = 1;
    unsigned status = 0;
    std::uint64_t bytes_sent = 0; // body bytes
    std::chrono::microseconds duration{0};
    std::string_view user_agent;
    std::string_view referer;
    std::string_view request_id;
};

class access_log {
public:
    virtual ~access_log() = default;
    // Formats and writes one line (buffered; see flush()).
    virtual void write(const access_record& record) = 0;
    // Pushes buffered lines to the file; called by the worker's event loop at least every
    // 100 ms and before exiting.
    virtual void flush() = 0;
    // Reopens the file by name (after an external rename or a rotation).
    virtual void reopen() = 0;
};

// The access log(s) described by `config` for `site` (per-site override, else the global one;
// stdout when no file is configured and output is not "file"). Returns null when it is off.
std::shared_ptr<access_log> make_access_log(const config::snapshot& config,
                                            const config::site& site);

} // namespace bws::log
