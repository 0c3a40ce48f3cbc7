// Checks that span several sites or need the filesystem; used by the loader after each table has
// been read into the model. Internal to bws::config: other modules call load.hpp.
#pragma once

#include "config/load.hpp"

#include <map>
#include <string>
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

// Where the values that later checks complain about were written. A position with line 0 means
// the key was not given (the check then points at the enclosing table).
struct site_positions {
    source_pos name;
    source_pos port;
    source_pos bind;
    source_pos is_default;
    source_pos static_dir;
    source_pos access_log;
    std::vector<source_pos> hostnames; // parallel to site::hostnames
    std::map<unsigned, source_pos> error_pages;
    bool default_given = false; // `default = true` written explicitly
};

struct positions {
    std::vector<site_positions> sites; // parallel to snapshot::sites
    source_pos user;
    source_pos group;
    source_pos pid_file;
    source_pos working_directory;
    source_pos log_file_path;
    source_pos access_log;
    source_pos error_log;
};

// Site names unique, one bind address per port, (hostname, port) pairs unique, at most one
// explicit default per port (else the first site on the port becomes its default); fills
// snapshot::listeners.
void validate_sites(snapshot& config, const positions& where, report& out);

// What the filesystem and the user database must provide (load_options::check_filesystem).
void check_filesystem(const snapshot& config, const positions& where, report& out);

// Existence/readability checks of one site's static_dir, shared with directory_config().
// Returns false when an error was reported.
bool check_static_dir(const site& s, const source_pos& pos, report& out);

} // namespace bws::config::detail
