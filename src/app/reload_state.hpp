// The reload state file, "<pid_file>.state": how `bws --reload` learns the outcome of the
// reload it asked for. The master rewrites it atomically (temp file + rename) when a reload
// starts and when it ends; the client compares reload_count before and after its SIGHUP.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace bws::app {

struct reload_state {
    pid_t pid = 0;
    unsigned generation = 0;
    std::uint64_t reload_count = 0; // finished reloads, ok or failed
    bool reloading = false;         // a reload is in progress
    bool last_ok = true;
    std::string message; // one line: why the last reload failed, or a summary when it worked
    // Binary upgrades (`bws -s upgrade`), counted across the re-executions like reloads.
    std::uint64_t upgrade_count = 0; // finished upgrades, ok or failed
    bool upgrade_ok = true;
    std::string upgrade_message; // one line: the outcome of the last upgrade
};

std::filesystem::path reload_state_path(const std::filesystem::path& pid_file);

// Text form: "key=value" lines (pid, generation, reload_count, reloading, last_reload,
// message, upgrade_count, last_upgrade, upgrade_message). Unknown keys are ignored so the format
// can grow.
std::string format_reload_state(const reload_state& state);
std::optional<reload_state> parse_reload_state(const std::string& text);

bool write_reload_state(const std::filesystem::path& path, const reload_state& state,
                        std::string& error);
std::optional<reload_state> read_reload_state(const std::filesystem::path& path);

} // namespace bws::app
