// The master process: owns the configuration, the listening sockets, the worker table, the PID
// file and every sd_notify call; never serves traffic. See ARCHITECTURE.md, "Process model".
#pragma once

#include "config/model.hpp"

#include <filesystem>
#include <string>

namespace bws::app {

struct master_options {
    config::snapshot_ptr config;       // already loaded and validated
    std::filesystem::path config_file; // re-read on SIGHUP; empty for `bws DIR` (no reload)
    std::filesystem::path pid_file;    // resolved: --pid-file > $BWS_PID_FILE > [daemon]
    bool daemonize = false;            // --daemon or [daemon] daemonize
    bool verbose = false;
    int argc = 0; // for rewriting the process title
    char** argv = nullptr;
};

// Runs the master until it is stopped; returns the process exit code.
int run_master(const master_options& options);

// `bws -s reload|stop|quit|reopen` and `bws --reload`: signals the master whose PID is in
// `pid_file`. For reload, waits until the new generation serves or the reload fails and
// prints the reason; for stop/quit, waits until the master has exited. Exit 0 or 1.
int signal_master(const std::string& action, const std::filesystem::path& pid_file);

} // namespace bws::app
