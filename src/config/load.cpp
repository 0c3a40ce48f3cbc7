// TOML files -> validated config::snapshot: the top-level tables, includes, and the order of
// diagnostics. The keys themselves are described in section_keys.cpp and site_keys.cpp.
#include "config/load.hpp"

#include "config/access_keys.hpp"
#include "config/hostname.hpp"
#include "config/include.hpp"
#include "config/section_keys.hpp"
#include "config/security_keys.hpp"
#include "config/upstream_url.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
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
using namespace detail;

// Included files may include further files; this bounds the nesting (and any runaway chain).
constexpr std::size_t max_include_depth = 8;

// One file being read (the main file or an included one) and what the whole load collects.
struct document {
    snapshot& config;
    positions& where;
    bool& have_sites;
    std::vector<std::pair<std::string, source_pos>> includes; // read after the file's tables
};

bool read_sites(value_reader& in, const toml::node& v, document& d) {
    d.have_sites = true;
    const auto* array = v.as_array();
    if (array == nullptr) {
        in.type_error(v, "sites", "an array of tables ([[sites]])");
        return false;
    }
    if (array->empty())
        in.out().error(value_reader::pos(v), "sites: at least one site is required");
    for (const auto& element : *array) {
        if (const auto* t = element.as_table())
            read_site(in, *t, d.config, d.where);
        else
            in.type_error(element, "sites", "a table");
    }
    return true;
}

bool read_include(value_reader& in, const toml::node& v, document& d) {
    const auto* array = v.as_array();
    if (array == nullptr) {
        in.type_error(v, "include", "an array of file names or patterns");
        return false;
    }
    for (const auto& element : *array)
        if (auto pattern = in.nonempty_string(element, "include"))
            d.includes.emplace_back(*pattern, value_reader::pos(element));
    return true;
}

const std::vector<key_entry<document>>& main_keys() {
    using k = keys<document>;
    static const std::vector<key_entry<document>> table{
        k::table(
            "server", "[server]", [](document & d) -> auto& { return d.config.server; },
            server_keys()),
        k::table(
            "daemon", "[daemon]", [](document & d) -> auto& { return d.config.daemon; },
            daemon_keys(), [](document& d) { return &d.where.daemon; }),
        k::table(
            "logging", "[logging]", [](document & d) -> auto& { return d.config.logging; },
            logging_keys(), [](document& d) { return &d.where.logging; }),
        k::custom("sites", read_sites),
        k::custom("include", read_include),
        k::table(
            "management", "[management]", [](document & d) -> auto& { return d.config.management; },
            management_keys(), [](document& d) { return &d.where.management; }),
        k::table(
            "security", "[security]", [](document & d) -> auto& { return d.config.security; },
            security_keys()),
        k::refused("performance", "[performance] is not supported (use 'workers' in [server] "
                                  "and the [server.limits] table)"),
    };
    return table;
}

// An included file adds sites and nothing else, so it can never override the main file.
const std::vector<key_entry<document>>& included_keys() {
    using k = keys<document>;
    static const std::vector<key_entry<document>> table{
        k::custom("sites", read_sites),
        k::custom("include", read_include),
    };
    return table;
}

class loader {
public:
    loader(report& out, snapshot& config, positions& where)
        : out_(out), in_(out), config_(config), where_(where) {}

    // Reads one file's text (`name` is the file in diagnostics) and, depth first, the files it
    // includes. False when the text is not TOML.
    bool read(std::string_view text, const std::string& name, std::size_t depth);

    bool have_sites() const { return have_sites_; }
    const std::vector<std::string>& names() const { return names_; }

private:
    void include(const std::string& pattern, const source_pos& at, const std::string& from,
                 std::size_t depth);

    report& out_;
    value_reader in_;
    snapshot& config_;
    positions& where_;
    bool have_sites_ = false;
    std::vector<std::string> names_;   // every file read, as named in diagnostics
    std::vector<fs::path> open_;       // the chain of files being read, for cycles
    std::vector<fs::path> identities_; // canonical paths of every file read
};

fs::path absolute_normal(const fs::path& p) {
    std::error_code ec;
    const fs::path absolute = fs::absolute(p, ec);
    return normal_path(ec ? p : absolute);
}

fs::path identity(const fs::path& p) {
    std::error_code ec;
    const fs::path canonical = fs::weakly_canonical(p, ec);
    return ec ? absolute_normal(p) : canonical;
}

bool loader::read(std::string_view text, const std::string& name, std::size_t depth) {
    const fs::path file = absolute_normal(name);
    names_.push_back(name);
    config_.files.push_back(file);
    identities_.push_back(identity(file));
    toml::table root;
    try {
        root = toml::parse(text, std::string_view(name));
    } catch (const toml::parse_error& e) {
        out_.error({name, static_cast<int>(e.source().begin.line),
                    static_cast<int>(e.source().begin.column)},
                   std::string(e.description()));
        return false;
    }
    document doc{config_, where_, have_sites_, {}};
    if (depth == 0)
        read_table(in_, root, "the top level", main_keys(), doc);
    else
        read_table(in_, root, "an included file (it may hold only [[sites]] tables and 'include')",
                   included_keys(), doc);
    open_.push_back(identities_.back());
    for (const auto& [pattern, at] : doc.includes)
        include(pattern, at, name, depth);
    open_.pop_back();
    return true;
}

void loader::include(const std::string& pattern, const source_pos& at, const std::string& from,
                     std::size_t depth) {
    std::vector<fs::path> files;
    std::string error;
    if (!expand_include(pattern, absolute_normal(from).parent_path(), files, error)) {
        out_.error(at, "include: " + error);
        return;
    }
    for (const auto& file : files) {
        const std::string quoted = "'" + file.string() + "'";
        const fs::path id = identity(file);
        if (std::find(open_.begin(), open_.end(), id) != open_.end()) {
            out_.error(at, "include: " + quoted + " includes itself (an include cycle)");
        } else if (std::find(identities_.begin(), identities_.end(), id) != identities_.end()) {
            out_.error(at, "include: " + quoted + " is already included");
        } else if (depth + 1 > max_include_depth) {
            out_.error(at, "include: " + quoted + " is nested more than " +
                               std::to_string(max_include_depth) + " includes deep");
        } else {
            std::string text;
            if (read_config_text(file, text, error))
                read(text, file.string(), depth + 1);
            else
                out_.error(at, fmt::format("include: {} {}", quoted, error));
        }
    }
}

// Diagnostics in file order (the files in the order they were read, then line and column),
// whatever order the checks ran in; problems without a position last.
void sort_diagnostics(std::vector<diagnostic>& list, const std::vector<std::string>& files) {
    auto key = [&](const diagnostic& d) {
        constexpr int last = std::numeric_limits<int>::max();
        if (d.pos.line <= 0)
            return std::tuple{last, last, d.pos.column};
        const auto found = std::find(files.begin(), files.end(), d.pos.file);
        return std::tuple{static_cast<int>(found - files.begin()), d.pos.line, d.pos.column};
    };
    std::stable_sort(list.begin(), list.end(),
                     [&](const diagnostic& a, const diagnostic& b) { return key(a) < key(b); });
}

load_result finish(report& out, snapshot config) {
    load_result result;
    result.errors = std::move(out.errors);
    result.warnings = std::move(out.warnings);
    if (result.errors.empty())
        result.config = std::make_shared<const snapshot>(std::move(config));
    return result;
}

} // namespace

load_result load_string(std::string_view toml_text, const std::string& source_name,
                        const load_options& options) {
    report out{source_name, {}, {}};
    snapshot config;
    positions where;
    loader files(out, config, where);
    if (files.read(toml_text, source_name, 0) && !files.have_sites())
        out.error(out.at(), "no site is configured (add a [[sites]] table)");
    check_logging(config.logging, where.logging, out);
    // A worker is cut at shutdown_timeout whatever it runs: a longer tunnel deadline would
    // promise what the stop does not keep.
    if (config.server.tunnel_drain_timeout &&
        *config.server.tunnel_drain_timeout > config.server.shutdown_timeout)
        out.error(config.server.tunnel_drain_pos,
                  "tunnel_drain_timeout must not be longer than shutdown_timeout (" +
                      std::to_string(config.server.shutdown_timeout.count()) + " ms)");
    if (out.errors.empty() || !config.sites.empty())
        validate_sites(config, where, out);
    check_management(config, where.management, out);
    if (options.check_filesystem) {
        check_filesystem(config, where, out);
        detail::resolve_upstreams(config, out);
        detail::check_upstream_files(config, out);
        detail::check_auth_files(config, out);
    }
    sort_diagnostics(out.errors, files.names());
    sort_diagnostics(out.warnings, files.names());
    return finish(out, std::move(config));
}

load_result load_file(const fs::path& file, const load_options& options) {
    std::string text, error;
    if (!read_config_text(file, text, error)) {
        load_result result;
        result.errors.push_back({{file.string(), 0, 0}, error});
        return result;
    }
    load_result result = load_string(text, file.string(), options);
    if (result.config) {
        // Reloads must find the same file after the daemon changed directory.
        auto config = std::make_shared<snapshot>(*result.config);
        config->source_file = absolute_normal(file);
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
    if (auto address = parse_bind_address(bind, error))
        s.bind = *address;
    else
        out.error(out.at(), error);
    if (dir.empty()) {
        out.error(out.at(), "no directory given");
    } else {
        s.static_dir = absolute_normal(dir);
        check_static_dir(s, out.at(), out);
    }
    config.listeners.push_back({s.bind, s.port});
    config.sites.push_back(std::move(s));
    return finish(out, std::move(config));
}

} // namespace bws::config
