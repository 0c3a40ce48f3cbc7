// Server-log setup: turns [logging] plus the environment and --verbose into spdlog's default
// logger (file / stdout / stderr / journald, and error_log for warnings and above), and
// reopens every log file of this process on request.
#pragma once

#include "config/model.hpp"
#include "log/environment.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bws::log {

// "trace" ... "off" (also "warning", "err", "crit", case-insensitive); nullopt otherwise.
std::optional<config::log_level> parse_level(std::string_view name);

struct level_choice {
    config::log_level level = config::log_level::info;
    std::vector<std::string> warnings; // ignored environment values, to be logged
};

// --verbose (debug) > $BWS_LOG_LEVEL > $RUST_LOG > [logging] level. $RUST_LOG may hold module
// directives ("info,hyper=warn"): its last plain level is used; without one it is ignored.
level_choice resolve_level(config::log_level configured, bool verbose, const environment& env);

// $BWS_LOG_FILE > [logging] file_path. Empty when neither is set.
std::filesystem::path resolve_log_file(const config::logging_section& logging,
                                       const environment& env);

// True when `journal_stream` ("dev:inode" from $JOURNAL_STREAM) names the file open on `fd`,
// i.e. systemd connected that descriptor to the journal.
bool stream_is_journal(std::string_view journal_stream, int fd);

// Resolves "auto": journald when stderr is the journal stream, else stderr.
config::log_output resolve_output(config::log_output configured, const environment& env,
                                  int stderr_fd = 2);

struct setup_options {
    bool verbose = false;
    std::string_view role = "master"; // see set_role()
};

struct setup_result {
    config::log_level level = config::log_level::info;
    config::log_output output = config::log_output::stderr_stream; // never "automatic"
    std::filesystem::path file;                                    // when output == file
    std::vector<std::string> warnings;                             // already logged
};

// Installs spdlog's default logger. Never throws on unwritable paths: those are reported and
// retried when lines are written.
setup_result setup(const config::logging_section& logging, const setup_options& options,
                   const environment& env = environment::from_process());

// The server log files this process writes (server log and error_log), for the rotation
// coordinator.
std::vector<std::filesystem::path> server_log_files();

// Reopens the server log files (not the access logs).
void reopen_server_logs();

// Reopens every log file of this process: server log, error log and access logs, flushing the
// access-log buffers into the old files first. The worker calls it on "reopen" and answers
// "reopened"; the master calls it on SIGUSR1 and after a rotation.
void reopen_all();

} // namespace bws::log
