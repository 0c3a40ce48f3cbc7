// The one configuration loader: startup, `--config-check` and SIGHUP reload all call it, so a
// config that passes the check is exactly a config that the server accepts.
#pragma once

#include "config/model.hpp"

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace bws::config {

struct diagnostic {
    source_pos pos;      // line/column 0 when the problem has no single place
    std::string message; // one line, no trailing period

    // "FILE:LINE:COL: message" (or "FILE: message" without a position).
    std::string to_string() const;
};

struct load_result {
    snapshot_ptr config; // null when there are errors
    std::vector<diagnostic> errors;
    std::vector<diagnostic> warnings;
    bool ok() const { return config != nullptr; }
};

struct load_options {
    // Also check what the filesystem must provide: static_dir exists and is a readable
    // directory, error pages exist and are readable, log paths are writable; and load the
    // certificates and keys of every TLS site and build its context (site_tls::certificates,
    // site_tls::context stay null without it).
    bool check_filesystem = true;
};

// Parses and validates a TOML file. Every problem found is reported, not only the first.
load_result load_file(const std::filesystem::path& file, const load_options& options = {});

// Same, from text already in memory (`source_name` is used in diagnostics).
load_result load_string(std::string_view toml_text, const std::string& source_name,
                        const load_options& options = {});

// The configuration of `bws DIR`: one default site serving `dir` on bind:port.
load_result directory_config(const std::filesystem::path& dir, const std::string& bind,
                             std::uint16_t port);

} // namespace bws::config
