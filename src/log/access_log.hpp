// The access log: one line per request, Combined Log Format or JSON, written by workers with
// O_APPEND so whole lines from many processes never interleave.
#pragma once

#include "config/model.hpp"
#include "log/environment.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace bws::log {

// Everything one access-log line needs; views are valid only during write().
struct access_record {
    std::chrono::system_clock::time_point time; // when the request arrived
    std::string_view site;
    std::string_view client_address;
    std::string_view remote_user; // basic auth (nginx's $remote_user); empty: none
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
    // HTTPS only (empty on plain HTTP): negotiated version and cipher, and the subject of a
    // verified client certificate.
    std::string_view tls_version;
    std::string_view tls_cipher;
    std::string_view client_subject;
    // Proxied requests only (empty address otherwise): the upstream server that answered (or
    // was tried last), its status (0: none arrived) and the time from choosing it to the end
    // of its response.
    std::string_view upstream_address;
    unsigned upstream_status = 0;
    std::chrono::microseconds upstream_time{0};
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

// Where a site's access lines go.
struct access_target {
    enum class kind { off, stdout_stream, file };
    kind where = kind::off;
    std::filesystem::path path; // when where == file
    bool operator==(const access_target&) const = default;
};

// log_requests = false: off. Else the site's access_log (empty path = off), else
// logging.access_log (empty = off), else "access.log" next to the server log file
// ($BWS_LOG_FILE > logging.file_path) when there is one, else stdout.
access_target resolve_access_target(const config::snapshot& config, const config::site& site,
                                    const environment& env);

// Every distinct access-log file of `config` (for the rotation coordinator).
std::vector<std::filesystem::path> access_log_files(const config::snapshot& config,
                                                    const environment& env);

// Buffering of an access-log writer: lines are written in whole-line batches with one
// write(2), at the latest `flush_interval` after the oldest buffered line (when write() or
// flush() is called) or as soon as the buffer holds `max_buffer` bytes.
struct access_buffering {
    std::chrono::milliseconds flush_interval{100};
    std::size_t max_buffer = 32 * 1024;
};

// The access log(s) described by `config` for `site` (per-site override, else the global one;
// stdout when no file is configured). Returns null when it is off. Sites whose lines go to the
// same path share one writer in this process.
std::shared_ptr<access_log> make_access_log(const config::snapshot& config,
                                            const config::site& site);
std::shared_ptr<access_log> make_access_log(const config::snapshot& config,
                                            const config::site& site, const environment& env,
                                            access_buffering buffering = {});

// An access log writing to `target` (file or stdout), not shared; make_access_log() caches
// these by path.
std::shared_ptr<access_log> open_access_log(const access_target& target,
                                            config::access_log_format format,
                                            access_buffering buffering = {});

// Every access log of this process that is still in use.
void flush_access_logs();
void reopen_access_logs(); // flushes into the old file, then reopens by name

} // namespace bws::log
