// Log files written by workers that run under another user than the master.
#pragma once

#include "app/privileges.hpp"

#include <filesystem>
#include <vector>

namespace bws::app {

// When the master is root and the workers get another identity, creates each of `files` if
// missing (0640) and gives it to the workers' user and group, so that workers can append to
// it and reopen it by name after a rotation, as nginx's master does for its workers. Files
// that cannot be prepared are logged and left alone (the workers then report them).
void hand_log_files_to_workers(const std::vector<std::filesystem::path>& files,
                               const worker_identity& identity);

} // namespace bws::app
