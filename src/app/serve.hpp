// Running the server from a loaded configuration, and acting on a running one.
#pragma once

#include "config/model.hpp"

#include <filesystem>
#include <string>

namespace bws::app {

struct serve_options {
    config::snapshot_ptr config;
    std::filesystem::path config_file; // empty for `bws DIR`
    std::filesystem::path pid_file;    // from --pid-file; empty: $BWS_PID_FILE, then config
    bool daemonize = false;
    bool verbose = false;
    int argc = 0;
    char** argv = nullptr;
};

// Serves `options.config` until stopped; returns the exit code.
int serve_config(const serve_options& options);

// `bws -s ACTION` / `bws --reload`: finds the master through the PID file and signals it.
int send_action(const std::string& action, const serve_options& options);

// The PID file: --pid-file, then $BWS_PID_FILE, then [daemon] pid_file (may be empty).
std::filesystem::path resolve_pid_file(const serve_options& options,
                                       const config::snapshot* config);

} // namespace bws::app
