// Creating and chowning log files for the workers (see log_files.hpp).
#include "app/log_files.hpp"

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace bws::app {

void hand_log_files_to_workers(const std::vector<std::filesystem::path>& files,
                               const worker_identity& identity) {
    if (!identity.change || ::geteuid() != 0)
        return;
    for (const auto& file : files) {
        // O_NOFOLLOW: a symlink planted in a log directory must not make root chown its target.
        int fd = ::open(file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
        if (fd < 0) {
            spdlog::warn("cannot prepare log file {} for the workers: {}", file.string(),
                         std::strerror(errno));
            continue;
        }
        struct stat st {};
        if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
            (st.st_uid != identity.uid || st.st_gid != identity.gid) &&
            ::fchown(fd, identity.uid, identity.gid) != 0)
            spdlog::warn("cannot give log file {} to user {}: {}", file.string(), identity.user,
                         std::strerror(errno));
        ::close(fd);
    }
}

} // namespace bws::app
