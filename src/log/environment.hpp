// The environment variables that steer logging, captured once so the resolution rules are pure
// functions that tests can call with any values.
#pragma once

#include <optional>
#include <string>

namespace bws::log {

struct environment {
    std::optional<std::string> bws_log_level;  // $BWS_LOG_LEVEL
    std::optional<std::string> rust_log;       // $RUST_LOG (the manual's environment file)
    std::optional<std::string> bws_log_file;   // $BWS_LOG_FILE
    std::optional<std::string> journal_stream; // $JOURNAL_STREAM ("dev:inode", set by systemd)

    static environment from_process();
};

} // namespace bws::log
