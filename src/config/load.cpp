// TOML file -> validated config::snapshot, with every problem reported as FILE:LINE:COL.
#include "config/load.hpp"

#include "config/duration.hpp"
#include "config/hostname.hpp"
#include "config/size.hpp"
#include "config/validate.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <sstream>
#include <system_error>
#include <tuple>

namespace bws::config {

std::string diagnostic::to_string() const {
    if (pos.line <= 0)
        return pos.file + ": " + message;
    return pos.file + ":" + std::to_string(pos.line) + ":" + std::to_string(pos.column) + ": " +
           message;
}

namespace {

namespace fs = std::filesystem;
using detail::positions;
using detail::report;
using detail::site_positions;

const char* type_name(const toml::node& n) {
    switch (n.type()) {
    case toml::node_type::string:
        return "a string";
    case toml::node_type::integer:
        return "an integer";
    case toml::node_type::floating_point:
        return "a float";
    case toml::node_type::boolean:
        return "a boolean";
    case toml::node_type::table:
        return "a table";
    case toml::node_type::array:
        return "an array";
    case toml::node_type::date:
        return "a date";
    case toml::node_type::time:
        return "a time";
    case toml::node_type::date_time:
        return "a date-time";
    default:
        return "nothing";
    }
}

// RFC 9110 token characters, the only ones allowed in a header field name.
bool is_tchar(char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// Control characters other than tab would split or corrupt a response header.
bool has_control(std::string_view s) {
    return std::any_of(s.begin(), s.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return (u < 0x20 && u != '\t') || u == 0x7f;
    });
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// Absolute and lexically normal, without a trailing separator, so paths compare reliably.
fs::path normal_path(const fs::path& p) {
    fs::path out = p.lexically_normal();
    if (!out.has_filename() && out.has_parent_path() && out != out.root_path())
        out = out.parent_path();
    return out;
}

template <typename T>
bool before(const T& a, const T& b) {
    return a.source().begin < b.source().begin;
}

class loader {
public:
    loader(report& out, fs::path base_dir) : out_(out), base_dir_(std::move(base_dir)) {}

    void read(const toml::table& root, snapshot& config, positions& where);

private:
    source_pos pos(const toml::source_region& r) const {
        return {out_.file, static_cast<int>(r.begin.line), static_cast<int>(r.begin.column)};
    }
    source_pos pos(const toml::node& n) const { return pos(n.source()); }
    source_pos pos(const toml::key& k) const { return pos(k.source()); }

    void type_error(const toml::node& v, std::string_view key, std::string_view expected) {
        out_.error(pos(v), std::string(key) + ": expected " + std::string(expected) + ", got " +
                               type_name(v));
    }
    void unknown_key(const toml::key& k, const toml::node& v, std::string_view table) {
        const bool is_table = v.is_table() || v.is_array_of_tables();
        out_.error(pos(k), std::string(is_table ? "unknown table '" : "unknown key '") +
                               std::string(k.str()) + "' in " + std::string(table));
    }
    void unsupported(const toml::key& k, std::string_view what, std::string_view detail) {
        out_.error(pos(k),
                   std::string(what) + " is not supported yet (" + std::string(detail) + ")");
    }
    void missing(const source_pos& at, std::string_view what, std::string_view key) {
        out_.error(at,
                   std::string(what) + " is missing the required key '" + std::string(key) + "'");
    }

    std::optional<std::string> string_value(const toml::node& v, std::string_view key) {
        if (const auto* s = v.as_string())
            return s->get();
        type_error(v, key, "a string");
        return std::nullopt;
    }
    std::optional<std::string> nonempty_string(const toml::node& v, std::string_view key) {
        auto s = string_value(v, key);
        if (s && s->empty()) {
            out_.error(pos(v), std::string(key) + ": must not be empty");
            return std::nullopt;
        }
        return s;
    }
    std::optional<bool> bool_value(const toml::node& v, std::string_view key) {
        if (const auto* b = v.as_boolean())
            return b->get();
        type_error(v, key, "a boolean");
        return std::nullopt;
    }
    std::optional<std::int64_t> int_value(const toml::node& v, std::string_view key,
                                          std::int64_t min, std::int64_t max) {
        const auto* i = v.as_integer();
        if (i == nullptr) {
            type_error(v, key, "an integer");
            return std::nullopt;
        }
        const std::int64_t n = i->get();
        if (n < min || n > max) {
            std::string range =
                max == std::numeric_limits<std::int64_t>::max()
                    ? "at least " + std::to_string(min)
                    : "between " + std::to_string(min) + " and " + std::to_string(max);
            out_.error(pos(v), std::string(key) + ": " + std::to_string(n) +
                                   " is out of range (must be " + range + ")");
            return std::nullopt;
        }
        return n;
    }
    // Runs a text parser (parse_size, parse_duration) and reports its error at `v`.
    template <class Parse>
    auto parsed(const toml::node& v, std::string_view key, std::string_view text, Parse parse)
        -> decltype(parse(text, std::declval<std::string&>())) {
        std::string error;
        auto value = parse(text, error);
        if (!value)
            out_.error(pos(v), std::string(key) + ": " + error);
        return value;
    }
    std::optional<std::uint64_t> size_value(const toml::node& v, std::string_view key,
                                            std::uint64_t min) {
        std::optional<std::uint64_t> bytes;
        if (const auto* i = v.as_integer()) {
            if (i->get() < 0) {
                out_.error(pos(v), std::string(key) + ": a size cannot be negative");
                return std::nullopt;
            }
            bytes = static_cast<std::uint64_t>(i->get());
        } else if (const auto* s = v.as_string()) {
            bytes = parsed(v, key, s->get(), parse_size);
            if (!bytes)
                return std::nullopt;
        } else {
            type_error(v, key, "a size (bytes as an integer, or a string like \"100MB\")");
            return std::nullopt;
        }
        if (*bytes < min) {
            out_.error(pos(v),
                       std::string(key) + ": must be at least " + std::to_string(min) + " bytes");
            return std::nullopt;
        }
        return bytes;
    }
    std::optional<milliseconds> duration_value(const toml::node& v, std::string_view key,
                                               bool allow_zero) {
        std::optional<milliseconds> d;
        if (const auto* i = v.as_integer()) {
            if (i->get() < 0) {
                out_.error(pos(v), std::string(key) + ": a duration cannot be negative");
                return std::nullopt;
            }
            // The same upper bound as parse_duration, via its text form.
            d = parsed(v, key, std::to_string(i->get()) + "s", parse_duration);
            if (!d)
                return std::nullopt;
        } else if (const auto* s = v.as_string()) {
            d = parsed(v, key, s->get(), parse_duration);
            if (!d)
                return std::nullopt;
        } else {
            type_error(v, key, "a duration (seconds as an integer, or a string like \"30s\")");
            return std::nullopt;
        }
        if (!allow_zero && d->count() == 0) {
            out_.error(pos(v), std::string(key) + ": must be longer than 0");
            return std::nullopt;
        }
        return d;
    }
    // Relative paths are taken from the directory of the config file, never from the current
    // directory, so a config means the same thing however bws is started.
    std::optional<fs::path> path_value(const toml::node& v, std::string_view key) {
        auto s = nonempty_string(v, key);
        if (!s)
            return std::nullopt;
        if (s->find('\0') != std::string::npos) {
            out_.error(pos(v), std::string(key) + ": path contains a NUL character");
            return std::nullopt;
        }
        return resolve(*s);
    }
    fs::path resolve(const fs::path& p) const {
        return normal_path(p.is_absolute() ? p : base_dir_ / p);
    }
    // A path, or "off" (returned as an empty path).
    std::optional<fs::path> log_path_value(const toml::node& v, std::string_view key) {
        if (const auto* s = v.as_string(); s != nullptr && s->get() == "off")
            return fs::path();
        return path_value(v, key);
    }
    template <typename E>
    std::optional<E> enum_value(const toml::node& v, std::string_view key,
                                std::initializer_list<std::pair<std::string_view, E>> choices) {
        auto s = string_value(v, key);
        if (!s)
            return std::nullopt;
        std::string list;
        for (const auto& [name, value] : choices) {
            if (*s == name)
                return value;
            list += (list.empty() ? "" : ", ") + std::string(name);
        }
        out_.error(pos(v), std::string(key) + ": '" + *s + "' is not one of " + list);
        return std::nullopt;
    }
    const toml::table* table_value(const toml::node& v, std::string_view name) {
        if (const auto* t = v.as_table())
            return t;
        type_error(v, name, "a table");
        return nullptr;
    }

    void read_server(const toml::table& t, server_section& s);
    void read_limits(const toml::table& t, limits& l);
    void read_daemon(const toml::table& t, daemon_section& d, positions& where);
    void read_logging(const toml::table& t, logging_section& l, positions& where);
    void read_site(const toml::table& t, site& s, site_positions& where);
    void read_headers(const toml::table& t, site& s);
    void read_index_files(const toml::node& v, site& s);
    std::optional<std::string> hostname_value(const toml::node& v, std::string_view key);

    report& out_;
    fs::path base_dir_;
};

void loader::read(const toml::table& root, snapshot& config, positions& where) {
    bool have_sites = false;
    for (auto&& [k, v] : root) {
        const std::string_view key = k.str();
        if (key == "server") {
            if (const auto* t = table_value(v, "[server]"))
                read_server(*t, config.server);
        } else if (key == "daemon") {
            if (const auto* t = table_value(v, "[daemon]"))
                read_daemon(*t, config.daemon, where);
        } else if (key == "logging") {
            if (const auto* t = table_value(v, "[logging]"))
                read_logging(*t, config.logging, where);
        } else if (key == "sites") {
            have_sites = true;
            const auto* array = v.as_array();
            if (array == nullptr) {
                type_error(v, "sites", "an array of tables ([[sites]])");
                continue;
            }
            if (array->empty())
                out_.error(pos(v), "sites: at least one site is required");
            for (const auto& element : *array) {
                const auto* t = element.as_table();
                if (t == nullptr) {
                    type_error(element, "sites", "a table");
                    continue;
                }
                site& s = config.sites.emplace_back();
                read_site(*t, s, where.sites.emplace_back());
            }
        } else if (key == "management") {
            unsupported(k, "[management]", "management API");
        } else if (key == "security") {
            unsupported(k, "[security]",
                        "security headers and rate limiting; set headers in [sites.headers]");
        } else if (key == "performance") {
            out_.error(pos(k), "[performance] is not supported (use 'workers' in [server] and "
                               "the [server.limits] table)");
        } else {
            unknown_key(k, v, "the top level");
        }
    }
    if (!have_sites)
        out_.error(out_.at(), "no site is configured (add a [[sites]] table)");
}

void loader::read_server(const toml::table& t, server_section& s) {
    for (auto&& [k, v] : t) {
        const std::string_view key = k.str();
        if (key == "name") {
            if (auto x = nonempty_string(v, key))
                s.name = *x;
        } else if (key == "version") {
            if (auto x = string_value(v, key))
                s.version = *x;
        } else if (key == "description") {
            if (auto x = string_value(v, key))
                s.description = *x;
        } else if (key == "workers") {
            if (const auto* text = v.as_string()) {
                if (text->get() == "auto")
                    s.workers = 0;
                else
                    out_.error(pos(v), "workers: expected an integer of at least 1 or \"auto\"");
            } else if (v.is_integer()) {
                if (auto n = int_value(v, key, 1, 1024))
                    s.workers = static_cast<unsigned>(*n);
            } else {
                type_error(v, key, "an integer or \"auto\"");
            }
        } else if (key == "shutdown_timeout") {
            if (auto d = duration_value(v, key, true))
                s.shutdown_timeout = *d;
        } else if (key == "health_path") {
            if (auto p = string_value(v, key)) {
                if (p->empty() || p->front() != '/' || has_control(*p) ||
                    p->find_first_of(" ?#") != std::string::npos)
                    out_.error(pos(v), "health_path: '" + *p +
                                           "' must be a path starting with '/', without spaces, "
                                           "'?' or '#'");
                else
                    s.health_path = *p;
            }
        } else if (key == "server_header") {
            if (auto b = bool_value(v, key))
                s.server_header = *b;
        } else if (key == "backlog") {
            if (auto n = int_value(v, key, 1, 65535))
                s.backlog = static_cast<int>(*n);
        } else if (key == "limits") {
            if (const auto* lt = table_value(v, "[server.limits]"))
                read_limits(*lt, s.limits);
        } else {
            unknown_key(k, v, "[server]");
        }
    }
}

void loader::read_limits(const toml::table& t, limits& l) {
    constexpr auto max = std::numeric_limits<std::int64_t>::max();
    for (auto&& entry : t) {
        // Named references, not a structured binding: clang 14 cannot capture those in lambdas.
        const toml::key& k = entry.first;
        const toml::node& v = entry.second;
        const std::string_view key = k.str();
        auto size = [&](std::size_t& field, std::uint64_t min) {
            if (auto n = size_value(v, key, min))
                field = static_cast<std::size_t>(*n);
        };
        auto count = [&](std::size_t& field) {
            if (auto n = int_value(v, key, 1, max))
                field = static_cast<std::size_t>(*n);
        };
        auto duration = [&](milliseconds& field) {
            if (auto d = duration_value(v, key, false))
                field = *d;
        };
        if (key == "max_header_size")
            size(l.max_header_bytes, 1);
        else if (key == "max_header_count")
            count(l.max_header_count);
        else if (key == "max_uri_length")
            size(l.max_uri_bytes, 1);
        else if (key == "max_body_size")
            size(l.max_body_bytes, 0);
        else if (key == "max_ranges")
            count(l.max_ranges);
        else if (key == "max_keepalive_requests")
            count(l.max_keepalive_requests);
        else if (key == "max_connections")
            count(l.max_connections);
        else if (key == "header_timeout")
            duration(l.header_timeout);
        else if (key == "keepalive_timeout")
            duration(l.keepalive_timeout);
        else if (key == "send_timeout")
            duration(l.send_timeout);
        else if (key == "body_timeout")
            duration(l.body_timeout);
        else
            unknown_key(k, v, "[server.limits]");
    }
}

void loader::read_daemon(const toml::table& t, daemon_section& d, positions& where) {
    for (auto&& [k, v] : t) {
        const std::string_view key = k.str();
        if (key == "user") {
            if (auto x = string_value(v, key)) {
                d.user = *x;
                where.user = pos(v);
            }
        } else if (key == "group") {
            if (auto x = string_value(v, key)) {
                d.group = *x;
                where.group = pos(v);
            }
        } else if (key == "pid_file") {
            if (auto p = path_value(v, key)) {
                d.pid_file = *p;
                where.pid_file = pos(v);
            }
        } else if (key == "working_directory") {
            if (auto p = path_value(v, key)) {
                d.working_directory = *p;
                where.working_directory = pos(v);
            }
        } else if (key == "daemonize") {
            if (auto b = bool_value(v, key))
                d.daemonize = *b;
        } else if (key == "allow_root_workers") {
            if (auto b = bool_value(v, key))
                d.allow_root_workers = *b;
        } else {
            unknown_key(k, v, "[daemon]");
        }
    }
}

void loader::read_logging(const toml::table& t, logging_section& l, positions& where) {
    source_pos output_pos;
    for (auto&& [k, v] : t) {
        const std::string_view key = k.str();
        if (key == "level") {
            if (auto x = enum_value<log_level>(v, key,
                                               {{"trace", log_level::trace},
                                                {"debug", log_level::debug},
                                                {"info", log_level::info},
                                                {"warn", log_level::warn},
                                                {"error", log_level::error},
                                                {"critical", log_level::critical},
                                                {"off", log_level::off}}))
                l.level = *x;
        } else if (key == "output") {
            if (auto x = enum_value<log_output>(v, key,
                                                {{"auto", log_output::automatic},
                                                 {"file", log_output::file},
                                                 {"stdout", log_output::stdout_stream},
                                                 {"stderr", log_output::stderr_stream},
                                                 {"journald", log_output::journald}})) {
                l.output = *x;
                output_pos = pos(v);
            }
        } else if (key == "file_path") {
            if (auto p = path_value(v, key)) {
                l.file_path = *p;
                where.log_file_path = pos(v);
            }
        } else if (key == "max_size") {
            if (auto n = size_value(v, key, 0))
                l.max_size = *n;
        } else if (key == "max_files") {
            if (auto n = int_value(v, key, 1, 1000))
                l.max_files = static_cast<unsigned>(*n);
        } else if (key == "compress") {
            if (auto b = bool_value(v, key))
                l.compress = *b;
        } else if (key == "access_log") {
            if (auto p = log_path_value(v, key)) {
                l.access_log = *p;
                where.access_log = pos(v);
            }
        } else if (key == "access_log_format") {
            if (auto x = enum_value<access_log_format>(
                    v, key,
                    {{"combined", access_log_format::combined}, {"json", access_log_format::json}}))
                l.access_log_format = *x;
        } else if (key == "error_log") {
            if (auto p = path_value(v, key)) {
                l.error_log = *p;
                where.error_log = pos(v);
            }
        } else if (key == "log_requests") {
            if (auto b = bool_value(v, key))
                l.log_requests = *b;
        } else {
            unknown_key(k, v, "[logging]");
        }
    }
    if (l.output == log_output::file && l.file_path.empty())
        out_.error(output_pos, "output = \"file\" needs file_path in [logging]");
}

std::optional<std::string> loader::hostname_value(const toml::node& v, std::string_view key) {
    auto text = string_value(v, key);
    if (!text)
        return std::nullopt;
    std::string error;
    auto name = normalise_hostname(*text, error);
    if (!name)
        out_.error(pos(v), std::string(key) + ": " + error);
    return name;
}

void loader::read_headers(const toml::table& t, site& s) {
    std::vector<std::pair<const toml::key*, const toml::node*>> entries;
    for (auto&& [k, v] : t)
        entries.emplace_back(&k, &v);
    // toml++ keeps keys sorted; responses carry them in the order the operator wrote them.
    std::sort(entries.begin(), entries.end(),
              [](const auto& a, const auto& b) { return before(*a.first, *b.first); });
    for (const auto& [k, v] : entries) {
        const std::string name(k->str());
        auto value = string_value(*v, "headers." + name);
        if (name.empty() || !std::all_of(name.begin(), name.end(), is_tchar)) {
            out_.error(pos(*k), "headers: '" + name + "' is not a valid header name");
            continue;
        }
        const std::string low = lower(name);
        if (low == "content-length" || low == "transfer-encoding" || low == "connection") {
            out_.error(pos(*k),
                       "headers: '" + name + "' is set by the server and cannot be configured");
            continue;
        }
        if (!value)
            continue;
        if (has_control(*value)) {
            out_.error(pos(*v), "headers: the value of '" + name +
                                    "' contains a line break or control character");
            continue;
        }
        s.headers.emplace_back(name, *value);
    }
}

void loader::read_index_files(const toml::node& v, site& s) {
    const auto* array = v.as_array();
    if (array == nullptr) {
        type_error(v, "index_files", "an array of file names");
        return;
    }
    std::vector<std::string> files;
    bool ok = true;
    for (const auto& element : *array) {
        auto name = string_value(element, "index_files");
        if (!name) {
            ok = false;
        } else if (name->empty() || *name == "." || *name == ".." ||
                   name->find_first_of(std::string_view("/\0", 2)) != std::string::npos) {
            out_.error(pos(element),
                       "index_files: '" + *name + "' must be a plain file name (no '/')");
            ok = false;
        } else {
            files.push_back(*name);
        }
    }
    // An empty list keeps the defaults, as in the original BWS.
    if (ok && !files.empty())
        s.index_files = std::move(files);
}

void loader::read_site(const toml::table& t, site& s, site_positions& where) {
    s.pos = pos(t);
    std::optional<std::string> primary;
    source_pos primary_pos;
    std::vector<std::string> aliases;
    std::vector<source_pos> alias_pos;
    bool have_name = false, have_port = false, have_static_dir = false, have_hostnames = false;
    bool hostnames_empty = false;
    std::vector<std::tuple<unsigned, std::string, source_pos>> pages;

    for (auto&& [k, v] : t) {
        const std::string_view key = k.str();
        if (key == "name") {
            have_name = true;
            if (auto x = nonempty_string(v, key)) {
                s.name = *x;
                where.name = pos(v);
            }
        } else if (key == "hostname") {
            primary_pos = pos(v);
            primary = hostname_value(v, key);
            if (!primary)
                primary = std::string(); // given, but invalid: already reported
        } else if (key == "hostnames") {
            have_hostnames = true;
            if (const auto* array = v.as_array()) {
                hostnames_empty = array->empty();
                for (const auto& element : *array) {
                    if (auto name = hostname_value(element, key)) {
                        aliases.push_back(*name);
                        alias_pos.push_back(pos(element));
                    }
                }
            } else {
                type_error(v, key, "an array of strings");
            }
        } else if (key == "port") {
            have_port = true;
            if (auto n = int_value(v, key, 1, 65535)) {
                s.port = static_cast<std::uint16_t>(*n);
                where.port = pos(v);
            }
        } else if (key == "bind") {
            if (auto text = string_value(v, key)) {
                std::string error;
                if (auto address = normalise_bind_address(*text, error)) {
                    s.bind = *address;
                    where.bind = pos(v);
                } else {
                    out_.error(pos(v), "bind: " + error);
                }
            }
        } else if (key == "static_dir") {
            have_static_dir = true;
            if (auto p = path_value(v, key)) {
                s.static_dir = *p;
                where.static_dir = pos(v);
            }
        } else if (key == "default") {
            if (auto b = bool_value(v, key)) {
                s.is_default = *b;
                where.is_default = pos(v);
                where.default_given = *b;
            }
        } else if (key == "headers") {
            if (const auto* ht = table_value(v, "[sites.headers]"))
                read_headers(*ht, s);
        } else if (key == "index_files") {
            read_index_files(v, s);
        } else if (key == "error_pages") {
            const auto* et = table_value(v, "[sites.error_pages]");
            if (et == nullptr)
                continue;
            for (auto&& [code, page] : *et) {
                const std::string_view c = code.str();
                unsigned status = 0;
                const bool digits = c.size() == 3 && std::all_of(c.begin(), c.end(), [](char ch) {
                                        return ch >= '0' && ch <= '9';
                                    });
                if (digits)
                    status = static_cast<unsigned>(std::stoi(std::string(c)));
                auto file = nonempty_string(page, "error_pages." + std::string(c));
                if (status < 400 || status > 599) {
                    out_.error(pos(code), "error_pages: '" + std::string(c) +
                                              "' is not an HTTP error status (400-599)");
                    continue;
                }
                if (file)
                    pages.emplace_back(status, *file, pos(page));
            }
        } else if (key == "cache_control") {
            if (auto x = nonempty_string(v, key)) {
                if (has_control(*x))
                    out_.error(pos(v), "cache_control: contains a line break or control character");
                else
                    s.cache_control = *x;
            }
        } else if (key == "access_log") {
            if (auto p = log_path_value(v, key)) {
                s.access_log = *p;
                where.access_log = pos(v);
            }
        } else if (key == "ssl") {
            unsupported(k, "[sites.ssl]", "TLS");
        } else if (key == "redirect_to_https") {
            unsupported(k, "'redirect_to_https'", "TLS");
        } else if (key == "proxy") {
            unsupported(k, "[sites.proxy]", "reverse proxy");
        } else if (key == "compression") {
            unsupported(k, "[sites.compression]", "compression");
        } else if (key == "access_control") {
            unsupported(k, "[sites.access_control]",
                        "CORS; set Access-Control-* headers in [sites.headers]");
        } else if (key == "cache") {
            unsupported(k, "[sites.cache]", "cache settings; use cache_control");
        } else if (key == "api_only") {
            unsupported(k, "'api_only'", "management API");
        } else {
            unknown_key(k, v, "[[sites]]");
        }
    }

    const std::string what =
        s.name.empty() ? std::string("[[sites]] entry") : "site '" + s.name + "'";
    if (!have_name)
        missing(s.pos, what, "name");
    if (!primary && !have_hostnames)
        missing(s.pos, what, "hostname");
    if (!have_port)
        missing(s.pos, what, "port");
    if (!have_static_dir)
        missing(s.pos, what, "static_dir");

    if (primary && !primary->empty()) {
        s.hostnames.push_back(*primary);
        where.hostnames.push_back(primary_pos);
    }
    s.hostnames.insert(s.hostnames.end(), aliases.begin(), aliases.end());
    where.hostnames.insert(where.hostnames.end(), alias_pos.begin(), alias_pos.end());
    if (!primary && hostnames_empty)
        out_.error(s.pos, what + " has an empty hostnames list and no hostname");

    if (!s.static_dir.empty()) {
        for (const auto& [status, file, at] : pages) {
            const fs::path p(file);
            s.error_pages[status] = normal_path(p.is_absolute() ? p : s.static_dir / p);
            where.error_pages[status] = at;
        }
    }
}

} // namespace

load_result load_string(std::string_view toml_text, const std::string& source_name,
                        const load_options& options) {
    report out{source_name, {}, {}};
    std::error_code ec;
    fs::path base_dir = fs::absolute(fs::path(source_name), ec).parent_path();
    if (ec)
        base_dir = fs::path(source_name).parent_path();

    snapshot config;
    positions where;
    try {
        const toml::table root = toml::parse(toml_text, std::string_view(source_name));
        loader(out, base_dir).read(root, config, where);
    } catch (const toml::parse_error& e) {
        out.error({source_name, static_cast<int>(e.source().begin.line),
                   static_cast<int>(e.source().begin.column)},
                  std::string(e.description()));
    }
    if (out.errors.empty() || !config.sites.empty())
        detail::validate_sites(config, where, out);
    if (options.check_filesystem)
        detail::check_filesystem(config, where, out);

    // Report in file order, whatever order the checks ran in; problems without a position last.
    auto order = [](const diagnostic& a, const diagnostic& b) {
        auto key = [](const diagnostic& d) {
            return std::pair{d.pos.line > 0 ? d.pos.line : std::numeric_limits<int>::max(),
                             d.pos.column};
        };
        return key(a) < key(b);
    };
    std::stable_sort(out.errors.begin(), out.errors.end(), order);
    std::stable_sort(out.warnings.begin(), out.warnings.end(), order);

    load_result result;
    result.errors = std::move(out.errors);
    result.warnings = std::move(out.warnings);
    if (result.errors.empty())
        result.config = std::make_shared<const snapshot>(std::move(config));
    return result;
}

load_result load_file(const fs::path& file, const load_options& options) {
    load_result result;
    std::error_code ec;
    if (fs::is_directory(file, ec)) {
        result.errors.push_back({{file.string(), 0, 0}, "is a directory, not a config file"});
        return result;
    }
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        result.errors.push_back(
            {{file.string(), 0, 0}, std::string("cannot open: ") + std::strerror(errno)});
        return result;
    }
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) {
        result.errors.push_back({{file.string(), 0, 0}, "cannot read the file"});
        return result;
    }
    result = load_string(text.str(), file.string(), options);
    if (result.config) {
        // Reloads must find the same file after the daemon changed directory.
        auto config = std::make_shared<snapshot>(*result.config);
        fs::path absolute = fs::absolute(file, ec);
        config->source_file = normal_path(ec ? file : absolute);
        result.config = std::move(config);
    }
    return result;
}

load_result directory_config(const fs::path& dir, const std::string& bind, std::uint16_t port) {
    report out{dir.string(), {}, {}};
    snapshot config;
    site s;
    s.name = "main";
    s.hostnames = {"localhost"};
    s.port = port;
    s.is_default = true;
    s.pos = out.at();
    std::string error;
    if (auto address = normalise_bind_address(bind, error))
        s.bind = *address;
    else
        out.error(out.at(), error);
    std::error_code ec;
    if (dir.empty()) {
        out.error(out.at(), "no directory given");
    } else {
        fs::path absolute = fs::absolute(dir, ec);
        s.static_dir = normal_path(ec ? dir : absolute);
        detail::check_static_dir(s, out.at(), out);
    }
    config.listeners.push_back({s.bind, s.port});
    config.sites.push_back(std::move(s));

    load_result result;
    result.errors = std::move(out.errors);
    result.warnings = std::move(out.warnings);
    if (result.errors.empty())
        result.config = std::make_shared<const snapshot>(std::move(config));
    return result;
}

} // namespace bws::config
