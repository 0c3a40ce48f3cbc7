// The process mechanics of a binary upgrade: the command line to re-execute, a preflight run
// of the new binary, and the execve itself. Policy (when, what to hand over, what to report)
// is the master's, in master_upgrade.cpp.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace bws::app::reexec {

// Call once at startup, before the process title overwrites argv: the arguments to run again,
// and the path of the binary as it was started (/proc/self/exe, so that a package upgrade,
// which replaces the file at that path, is what the next execve runs).
void remember_command_line(int argc, char** argv);
const std::filesystem::path& executable();
const std::vector<std::string>& arguments(); // argv[0] included

struct preflight_result {
    bool ok = false;
    std::string message; // why it failed: the last line the binary printed, and how it ended
};

// Runs `argv` (argv[0] is the program path) with stdout and stderr captured, without
// $NOTIFY_SOCKET or the watchdog variables, as root again when the master keeps root in
// reserve (bws --user). Blocks until it exits; killed after `timeout`.
preflight_result run_preflight(const std::vector<std::string>& argv,
                               std::chrono::milliseconds timeout);

// Re-executes executable() with arguments(), `keep_fds` surviving (close-on-exec cleared)
// and `environment` = "NAME=value" set; handled signals stay blocked across the call so that
// none is lost or kills the new image before it installs its handlers. Returns only on
// failure, with the reason, having restored the descriptors, the environment and the mask.
std::string exec_new_image(const std::vector<int>& keep_fds, const std::string& env_name,
                           const std::string& env_value);

// The new image: unblocks what exec_new_image blocked, once its handlers are in place.
void unblock_handled_signals();

} // namespace bws::app::reexec
