// The keys of [server], [server.limits], [daemon] and [logging]: name, type and checks, field.
#include "config/section_keys.hpp"

namespace bws::config::detail {
namespace {

const std::vector<key_entry<limits>>& limits_keys() {
    using k = keys<limits>;
    static const std::vector<key_entry<limits>> table{
        k::size("max_header_size", &limits::max_header_bytes, 1),
        k::count("max_header_count", &limits::max_header_count, 1),
        k::size("max_uri_length", &limits::max_uri_bytes, 1),
        k::size("max_body_size", &limits::max_body_bytes, 0),
        k::count("max_ranges", &limits::max_ranges, 1),
        k::count("max_keepalive_requests", &limits::max_keepalive_requests, 1),
        k::count("max_connections", &limits::max_connections, 1),
        // The shared table counts in 16 bits per address.
        k::count("max_connections_per_ip", &limits::max_connections_per_ip, 0, 65535),
        k::duration("header_timeout", &limits::header_timeout, false),
        k::duration("keepalive_timeout", &limits::keepalive_timeout, false),
        k::duration("send_timeout", &limits::send_timeout, false),
        k::duration("body_timeout", &limits::body_timeout, false),
    };
    return table;
}

// "auto" (one worker per CPU, stored as 0) or a count.
bool read_workers(value_reader& in, const toml::node& v, server_section& s) {
    if (const auto* text = v.as_string()) {
        if (text->get() != "auto") {
            in.error(v, "workers", "expected an integer of at least 1 or \"auto\"");
            return false;
        }
        s.workers = 0;
        return true;
    }
    if (!v.is_integer()) {
        in.type_error(v, "workers", "an integer or \"auto\"");
        return false;
    }
    auto n = in.integer(v, "workers", 1, 1024);
    if (n)
        s.workers = static_cast<unsigned>(*n);
    return n.has_value();
}

bool read_health_path(value_reader& in, const toml::node& v, server_section& s) {
    auto p = in.string(v, "health_path");
    if (!p)
        return false;
    if (p->empty() || p->front() != '/' || has_control(*p) ||
        p->find_first_of(" ?#") != std::string::npos) {
        in.error(v, "health_path",
                 "'" + *p + "' must be a path starting with '/', without spaces, '?' or '#'");
        return false;
    }
    s.health_path = *p;
    return true;
}

} // namespace

const std::vector<key_entry<server_section>>& server_keys() {
    using k = keys<server_section>;
    static const std::vector<key_entry<server_section>> table{
        k::nonempty_text("name", &server_section::name),
        k::text("version", &server_section::version),
        k::text("description", &server_section::description),
        k::custom("workers", read_workers),
        k::duration("shutdown_timeout", &server_section::shutdown_timeout, true),
        k::duration("drain_delay", &server_section::drain_delay, true),
        k::custom("tunnel_drain_timeout",
                  [](value_reader& in, const toml::node& v, server_section& s) {
                      s.tunnel_drain_timeout = in.duration(v, "tunnel_drain_timeout", true);
                      s.tunnel_drain_pos = value_reader::pos(v);
                      return s.tunnel_drain_timeout.has_value();
                  }),
        k::custom("health_path", read_health_path),
        k::flag("server_header", &server_section::server_header),
        k::count("backlog", &server_section::backlog, 1, 65535),
        k::table("limits", "[server.limits]", &server_section::limits, limits_keys()),
    };
    return table;
}

const std::vector<key_entry<daemon_section>>& daemon_keys() {
    using k = keys<daemon_section>;
    static const std::vector<key_entry<daemon_section>> table{
        k::text("user", &daemon_section::user),
        k::text("group", &daemon_section::group),
        k::path("pid_file", &daemon_section::pid_file),
        k::path("working_directory", &daemon_section::working_directory),
        k::flag("daemonize", &daemon_section::daemonize),
        k::flag("allow_root_workers", &daemon_section::allow_root_workers),
    };
    return table;
}

const std::vector<key_entry<logging_section>>& logging_keys() {
    using k = keys<logging_section>;
    static const std::vector<key_entry<logging_section>> table{
        k::choice("level", &logging_section::level,
                  {{"trace", log_level::trace},
                   {"debug", log_level::debug},
                   {"info", log_level::info},
                   {"warn", log_level::warn},
                   {"error", log_level::error},
                   {"critical", log_level::critical},
                   {"off", log_level::off}}),
        k::choice("output", &logging_section::output,
                  {{"auto", log_output::automatic},
                   {"file", log_output::file},
                   {"stdout", log_output::stdout_stream},
                   {"stderr", log_output::stderr_stream},
                   {"journald", log_output::journald}}),
        k::path("file_path", &logging_section::file_path),
        k::size("max_size", &logging_section::max_size, 0),
        k::count("max_files", &logging_section::max_files, 1, 1000),
        k::flag("compress", &logging_section::compress),
        k::log_path("access_log", &logging_section::access_log),
        k::choice("access_log_format", &logging_section::access_log_format,
                  {{"combined", access_log_format::combined}, {"json", access_log_format::json}}),
        k::path("error_log", &logging_section::error_log),
        k::flag("log_requests", &logging_section::log_requests),
    };
    return table;
}

void check_logging(const logging_section& l, const key_positions& where, report& out) {
    if (l.output == log_output::file && l.file_path.empty())
        out.error(position(where, "output", out.at()),
                  "output = \"file\" needs file_path in [logging]");
}

} // namespace bws::config::detail
