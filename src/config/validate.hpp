// Checks that span several sites or need the filesystem; used by the loader after each table has
// been read into the model. Internal to bws::config: other modules call load.hpp.
#pragma once

#include "config/load.hpp"

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bws::config::detail {

// Collects diagnostics while loading; every check adds to it and none stops at the first one.
struct report {
    std::string file;
    std::vector<diagnostic> errors;
    std::vector<diagnostic> warnings;

    source_pos at(int line = 0, int column = 0) const { return {file, line, column}; }
    void error(source_pos pos, std::string message) {
        errors.push_back({std::move(pos), std::move(message)});
    }
    void warning(source_pos pos, std::string message) {
        warnings.push_back({std::move(pos), std::move(message)});
    }
};

// Where each value was written, by key name ("user", "port"). A key that is absent (or whose
// value was rejected) has no entry; checks then point at the enclosing table.
using key_positions = std::map<std::string, source_pos, std::less<>>;

// The position of `key` in `where`, or `fallback` when it is absent.
inline const source_pos& position(const key_positions& where, std::string_view key,
                                  const source_pos& fallback) {
    const auto it = where.find(key);
    return it != where.end() ? it->second : fallback;
}

// Where the values of one [sites.ssl] table were written.
struct ssl_positions {
    source_pos table;   // the table itself
    key_positions keys; // its keys
    // cert_file and key_file of each tls::settings::certificates entry, in the same order.
    std::vector<std::pair<source_pos, source_pos>> certificates;
};

struct site_positions {
    key_positions keys;
    std::vector<source_pos> hostnames; // parallel to site::hostnames
    std::map<unsigned, source_pos> error_pages;
    ssl_positions ssl;
};

struct positions {
    std::vector<site_positions> sites; // parallel to snapshot::sites
    key_positions daemon;
    key_positions logging;
    key_positions management;
};

// " (line N)" naming `other` in a message about `here`; the file too when it is another one
// (a site in an included file).
std::string line_of(const source_pos& other, const source_pos& here);

// Site names unique, one bind address per port, (hostname, port) pairs unique, at most one
// explicit default per port (else the first site on the port becomes its default), TLS and
// plain sites never on one port, redirect_to_https only where an HTTPS site serves the names;
// fills snapshot::listeners.
void validate_sites(snapshot& config, const positions& where, report& out);

// What the filesystem and the user database must provide (load_options::check_filesystem).
// Also loads the certificates of every TLS site and builds its context into site::tls.
void check_filesystem(snapshot& config, const positions& where, report& out);

// Existence/readability checks of one site's static_dir, shared with directory_config().
// Returns false when an error was reported.
bool check_static_dir(const site& s, const source_pos& pos, report& out);

} // namespace bws::config::detail
