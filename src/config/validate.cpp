// Cross-site rules (names, listeners, host:port pairs, default sites, TLS per port, HTTPS
// redirects) and filesystem checks, which also load the certificates of the TLS sites.
#include "config/validate.hpp"

#include "config/metrics_keys.hpp"

#include "tls/certificate.hpp"
#include "tls/context.hpp"
#include "tls/ticket_keys.hpp"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <system_error>
#include <utility>

namespace bws::config::detail {
namespace {

namespace fs = std::filesystem;

// A position to point at: the key if it was written, else the site's [[sites]] header.
const source_pos& or_site(const site_positions& where, std::string_view key, const site& s) {
    return position(where.keys, key, s.pos);
}

bool readable(const fs::path& p, int mode) {
    return ::access(p.c_str(), mode) == 0;
}

// A log file is opened for appending by bws: it must be a writable file, or be creatable in
// an existing writable directory.
void check_log_path(const fs::path& path, const std::string& key, const source_pos& pos,
                    report& out) {
    if (path.empty())
        return;
    std::error_code ec;
    const auto status = fs::status(path, ec);
    if (fs::exists(status)) {
        if (fs::is_directory(status))
            out.error(pos, key + " '" + path.string() + "' is a directory");
        else if (!readable(path, W_OK))
            out.error(pos, key + " '" + path.string() + "' is not writable");
        return;
    }
    const fs::path dir = path.parent_path();
    const auto dir_status = fs::status(dir, ec);
    if (!fs::exists(dir_status))
        out.error(pos, key + " directory '" + dir.string() + "' does not exist");
    else if (!fs::is_directory(dir_status))
        out.error(pos, key + " directory '" + dir.string() + "' is not a directory");
    else if (!readable(dir, W_OK | X_OK))
        out.error(pos, key + " directory '" + dir.string() + "' is not writable");
}

// The reentrant lookups, because a reload may run while other threads use the user database.
bool user_exists(const std::string& name) {
    std::vector<char> buffer(16384);
    passwd entry{};
    passwd* found = nullptr;
    return ::getpwnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found) == 0 &&
           found != nullptr;
}

bool group_exists(const std::string& name) {
    std::vector<char> buffer(65536);
    group entry{};
    group* found = nullptr;
    return ::getgrnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found) == 0 &&
           found != nullptr;
}

// True when a site named `pattern` ("a.example.com", "*.example.com") serves requests for
// `host`: the same name, or a wildcard whose suffix follows the first label of `host` (the
// matching of the HTTP router and of SNI).
bool serves(const std::string& pattern, const std::string& host) {
    if (pattern == host)
        return true;
    if (!pattern.starts_with("*.") || host.starts_with("*."))
        return false;
    const auto dot = host.find('.');
    return dot != std::string::npos && dot > 0 &&
           std::string_view(host).substr(dot) == std::string_view(pattern).substr(1);
}

// A TLS site and a plain one on the same port cannot share its socket: the first bytes of a
// connection decide whether it is a TLS handshake. Reported at each site that differs from the
// first site of its port.
void check_tls_per_port(const std::vector<site>& sites, const positions& where,
                        const std::map<std::uint16_t, std::size_t>& port_owner, report& out) {
    for (std::size_t i = 0; i < sites.size(); ++i) {
        const site& s = sites[i];
        const auto owner = port_owner.find(s.port);
        if (s.port == 0 || owner == port_owner.end() || owner->second == i)
            continue;
        const site& first = sites[owner->second];
        if (first.tls.has_value() == s.tls.has_value())
            continue;
        const source_pos& here = or_site(where.sites[i], "port", s);
        auto kind = [](const site& x) { return x.tls ? "TLS" : "plain HTTP"; };
        out.error(here, "port " + std::to_string(s.port) + " mixes TLS and plain HTTP: site '" +
                            s.name + "' is " + kind(s) + ", site '" + first.name + "'" +
                            line_of(first.pos, here) + " is " + kind(first) +
                            "; all sites on one port must be TLS or all plain");
    }
}

// redirect_to_https belongs on a plain site whose host names an HTTPS site serves.
void check_redirects(const std::vector<site>& sites, const positions& where, report& out) {
    for (std::size_t i = 0; i < sites.size(); ++i) {
        const site& s = sites[i];
        if (!s.redirect_to_https)
            continue;
        const site_positions& at = where.sites[i];
        const source_pos& here = or_site(at, "redirect_to_https", s);
        if (s.tls) {
            out.error(here, "redirect_to_https: site '" + s.name +
                                "' serves HTTPS itself (the redirect would loop); set it on the "
                                "plain-HTTP site that should send clients here");
            continue;
        }
        std::vector<std::size_t> uncovered;
        for (std::size_t h = 0; h < s.hostnames.size(); ++h) {
            const bool covered = std::any_of(sites.begin(), sites.end(), [&](const site& other) {
                return other.tls && std::any_of(other.hostnames.begin(), other.hostnames.end(),
                                                [&](const std::string& name) {
                                                    return serves(name, s.hostnames[h]);
                                                });
            });
            if (!covered)
                uncovered.push_back(h);
        }
        if (!s.hostnames.empty() && uncovered.size() == s.hostnames.size()) {
            std::string names;
            for (const auto& h : s.hostnames)
                names += (names.empty() ? "" : ", ") + h;
            out.error(here, "redirect_to_https: no HTTPS site serves a host name of site '" +
                                s.name + "' (" + names + ")");
            continue;
        }
        for (std::size_t h : uncovered)
            out.warning(h < at.hostnames.size() ? at.hostnames[h] : here,
                        "redirect_to_https: no HTTPS site serves host name '" + s.hostnames[h] +
                            "' of site '" + s.name + "'");
    }
}

// Where a finding of the TLS library points: the key that named the file or list, of the
// certificate entry `index` for certificate and key files.
const source_pos& tls_position(const tls::diagnostic& d, const ssl_positions& at,
                               std::size_t index) {
    using source = tls::diagnostic::source;
    switch (d.file) {
    case source::cert_file:
        return index < at.certificates.size() ? at.certificates[index].first : at.table;
    case source::key_file:
        return index < at.certificates.size() ? at.certificates[index].second : at.table;
    case source::tls12_ciphers:
        return position(at.keys, "ciphers", at.table);
    case source::tls13_ciphersuites:
        return position(at.keys, "ciphersuites", at.table);
    case source::groups:
        return position(at.keys, "groups", at.table);
    case source::client_ca_file:
        return position(at.keys, "client_ca_file", at.table);
    }
    return at.table;
}

void add_tls_diagnostics(const std::vector<tls::diagnostic>& found, const site& s,
                         const ssl_positions& at, std::size_t index, report& out) {
    for (const tls::diagnostic& d : found) {
        std::string message = "site '" + s.name + "': " + d.message;
        if (d.level == tls::diagnostic::severity::error)
            out.error(tls_position(d, at, index), std::move(message));
        else
            out.warning(tls_position(d, at, index), std::move(message));
    }
}

// Loads every certificate of a TLS site (as the user running the check: the master reads the
// keys as root, before privileges drop), checks it against the site's host names and the clock,
// and builds the site's context; both are kept in the snapshot for the workers.
void load_tls(site& s, const ssl_positions& at, report& out) {
    site_tls& t = *s.tls;
    const auto now = std::chrono::system_clock::now();
    auto certificates = std::make_shared<std::vector<tls::certificate>>();
    bool loaded = !t.settings.certificates.empty();
    for (std::size_t i = 0; i < t.settings.certificates.size(); ++i) {
        std::vector<tls::diagnostic> found;
        auto cert = tls::certificate::load(t.settings.certificates[i], found);
        if (cert) {
            cert->check(s.hostnames, now, found);
            certificates->push_back(std::move(*cert));
        } else {
            loaded = false;
        }
        add_tls_diagnostics(found, s, at, i, out);
    }
    if (!loaded)
        return; // reported; a context with some of the certificates would mislead
    std::vector<tls::diagnostic> found;
    auto context = tls::site_context::build(t.settings, *certificates, tls::shared_ticket_keys(),
                                            s.name, found);
    for (const tls::diagnostic& d : found) {
        // A certificate the context refused names its file first.
        std::size_t index = 0;
        for (std::size_t i = 0; i < t.settings.certificates.size(); ++i)
            if (d.message.starts_with(t.settings.certificates[i].cert_file.string() + ":"))
                index = i;
        add_tls_diagnostics({d}, s, at, index, out);
    }
    if (context) {
        t.certificates = std::move(certificates);
        t.context = std::move(context);
    }
}

} // namespace

std::string line_of(const source_pos& other, const source_pos& here) {
    if (other.line <= 0)
        return {};
    if (other.file != here.file)
        return " (" + other.file + ":" + std::to_string(other.line) + ")";
    return " (line " + std::to_string(other.line) + ")";
}

void validate_sites(snapshot& config, const positions& where, report& out) {
    auto& sites = config.sites;

    std::map<std::string, std::size_t> names;
    for (std::size_t i = 0; i < sites.size(); ++i) {
        if (sites[i].name.empty())
            continue;
        auto [it, fresh] = names.emplace(sites[i].name, i);
        if (!fresh) {
            const source_pos& here = or_site(where.sites[i], "name", sites[i]);
            out.error(here, "site name '" + sites[i].name + "' is already used by another site" +
                                line_of(sites[it->second].pos, here));
        }
    }

    // Sites are chosen by (port, Host), so a port has one listening address: 0.0.0.0:8080 and
    // 127.0.0.1:8080 would also collide when binding.
    std::map<std::uint16_t, std::size_t> port_owner;
    for (std::size_t i = 0; i < sites.size(); ++i) {
        const site& s = sites[i];
        if (s.port == 0)
            continue;
        auto [it, fresh] = port_owner.emplace(s.port, i);
        const site& owner = sites[it->second];
        if (!fresh && owner.bind != s.bind)
            out.error(or_site(where.sites[i], "bind", s),
                      "port " + std::to_string(s.port) + " is bound both on " +
                          owner.bind.to_string() + " (site '" + owner.name + "') and " +
                          s.bind.to_string() + " (site '" + s.name +
                          "'); all sites on one port must use the same bind address");
    }

    std::map<std::pair<std::uint16_t, std::string>, std::size_t> host_owner;
    for (std::size_t i = 0; i < sites.size(); ++i) {
        const site& s = sites[i];
        if (s.port == 0)
            continue;
        for (std::size_t h = 0; h < s.hostnames.size(); ++h) {
            auto [it, fresh] = host_owner.emplace(std::pair{s.port, s.hostnames[h]}, i);
            if (fresh)
                continue;
            const source_pos& pos =
                h < where.sites[i].hostnames.size() ? where.sites[i].hostnames[h] : s.pos;
            const std::string pair = s.hostnames[h] + ":" + std::to_string(s.port);
            if (it->second == i)
                out.error(pos, "hostname '" + s.hostnames[h] + "' is listed twice in site '" +
                                   s.name + "'");
            else
                out.error(pos, "duplicate hostname:port " + pair + ": already used by site '" +
                                   sites[it->second].name + "'" +
                                   line_of(sites[it->second].pos, pos));
        }
    }

    // Default site per port: an explicit `default = true` wins; two of them is an error;
    // without one the first site on the port (in file order) is its default.
    std::map<std::uint16_t, std::size_t> default_of;
    for (std::size_t i = 0; i < sites.size(); ++i) {
        site& s = sites[i];
        if (s.port == 0 || !s.is_default)
            continue;
        auto [it, fresh] = default_of.emplace(s.port, i);
        if (!fresh)
            out.error(or_site(where.sites[i], "default", s),
                      "sites '" + sites[it->second].name + "' and '" + s.name +
                          "' are both default on port " + std::to_string(s.port));
    }
    for (auto& [port, first] : port_owner)
        if (!default_of.contains(port))
            sites[first].is_default = true;

    check_tls_per_port(sites, where, port_owner, out);
    check_redirects(sites, where, out);
    check_metrics_paths(config, out);

    std::set<listen_address> listeners;
    for (const site& s : sites)
        if (s.port != 0)
            listeners.insert({s.bind, s.port});
    config.listeners.assign(listeners.begin(), listeners.end());
}

bool check_static_dir(const site& s, const source_pos& pos, report& out) {
    std::error_code ec;
    const auto status = fs::status(s.static_dir, ec);
    const std::string dir = "'" + s.static_dir.string() + "'";
    if (!fs::exists(status)) {
        out.error(pos, "static_dir " + dir + " does not exist");
        return false;
    }
    if (!fs::is_directory(status)) {
        out.error(pos, "static_dir " + dir + " is not a directory");
        return false;
    }
    if (!readable(s.static_dir, R_OK | X_OK)) {
        out.error(pos, "static_dir " + dir + " is not readable");
        return false;
    }
    return true;
}

void check_filesystem(snapshot& config, const positions& where, report& out) {
    for (std::size_t i = 0; i < config.sites.size(); ++i) {
        site& s = config.sites[i];
        const site_positions& at = where.sites[i];
        if (s.tls)
            load_tls(s, at.ssl, out);
        // No static_dir: an api_only site, or already reported as missing. An api_only site
        // with one serves none of its files, so only the directory itself is checked.
        if (!s.static_dir.empty() && check_static_dir(s, or_site(at, "static_dir", s), out) &&
            !s.api_only) {
            std::error_code ec;
            const bool has_index =
                std::any_of(s.index_files.begin(), s.index_files.end(), [&](const std::string& f) {
                    return fs::is_regular_file(s.static_dir / f, ec);
                });
            if (!has_index) {
                std::string list;
                for (const auto& f : s.index_files)
                    list += (list.empty() ? "" : ", ") + f;
                out.warning(s.pos, "site '" + s.name + "': no index file (" + list +
                                       ") exists in " + s.static_dir.string());
            }
            if (s.fallback && !fs::is_regular_file(s.static_dir / *s.fallback, ec))
                out.warning(or_site(at, "fallback", s),
                            "fallback '/" + *s.fallback + "' is not a file in " +
                                s.static_dir.string() + "; those requests will get 404");
        }
        for (const auto& [status, page] : s.error_pages) {
            const auto found = at.error_pages.find(status);
            const source_pos& pos = found != at.error_pages.end() ? found->second : s.pos;
            std::error_code ec;
            const auto st = fs::status(page, ec);
            const std::string name = "error page '" + page.string() + "'";
            if (!fs::exists(st))
                out.error(pos, name + " does not exist");
            else if (!fs::is_regular_file(st))
                out.error(pos, name + " is not a regular file");
            else if (!readable(page, R_OK))
                out.error(pos, name + " is not readable");
        }
        if (s.access_log)
            check_log_path(*s.access_log, "access_log", or_site(at, "access_log", s), out);
    }

    // Keys not written have the defaults, which need no position.
    const source_pos none = out.at();
    auto logging = [&](std::string_view key) { return position(where.logging, key, none); };
    auto daemon = [&](std::string_view key) { return position(where.daemon, key, none); };
    const logging_section& log = config.logging;
    check_log_path(log.file_path, "file_path", logging("file_path"), out);
    if (log.access_log)
        check_log_path(*log.access_log, "access_log", logging("access_log"), out);
    check_log_path(log.error_log, "error_log", logging("error_log"), out);

    const daemon_section& d = config.daemon;
    if (!d.pid_file.empty()) {
        std::error_code ec;
        const fs::path dir = d.pid_file.parent_path();
        if (!fs::is_directory(dir, ec))
            out.error(daemon("pid_file"),
                      "pid_file directory '" + dir.string() + "' does not exist");
    }
    if (!d.working_directory.empty()) {
        std::error_code ec;
        if (!fs::is_directory(d.working_directory, ec))
            out.error(daemon("working_directory"), "working_directory '" +
                                                       d.working_directory.string() +
                                                       "' is not an existing directory");
    }
    if (!d.user.empty() && !user_exists(d.user))
        out.error(daemon("user"), "user '" + d.user + "' does not exist");
    if (!d.group.empty() && !group_exists(d.group))
        out.error(daemon("group"), "group '" + d.group + "' does not exist");
}

} // namespace bws::config::detail
