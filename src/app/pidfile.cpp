// PID file creation, locking, writing and removal.
#include "app/pidfile.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace bws::app {

namespace {

std::optional<pid_t> read_pid(int fd) {
    char buf[32] = {};
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0) {
        return std::nullopt;
    }
    char* end = nullptr;
    long value = std::strtol(buf, &end, 10);
    if (end == buf || value <= 0 || (*end != '\n' && *end != '\0')) {
        return std::nullopt;
    }
    return static_cast<pid_t>(value);
}

} // namespace

std::optional<pid_file> pid_file::acquire(const std::filesystem::path& path, std::string& error) {
    // A previous owner may unlink the file between our open and our flock; then we hold a lock
    // on a file nobody can find. Retry until the locked inode is the one at `path`.
    for (int attempt = 0; attempt < 10; ++attempt) {
        int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0) {
            error = "cannot open PID file " + path.string() + ": " + std::strerror(errno);
            return std::nullopt;
        }
        if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
            int err = errno;
            if (err == EWOULDBLOCK) {
                auto pid = read_pid(fd);
                error = pid ? "another bws (pid " + std::to_string(*pid) +
                                  ") is running with PID file " + path.string()
                            : "another bws is starting with PID file " + path.string();
            } else {
                error = "cannot lock PID file " + path.string() + ": " + std::strerror(err);
            }
            ::close(fd);
            return std::nullopt;
        }
        struct stat by_fd {};
        struct stat by_path {};
        if (::fstat(fd, &by_fd) == 0 && ::stat(path.c_str(), &by_path) == 0 &&
            by_fd.st_dev == by_path.st_dev && by_fd.st_ino == by_path.st_ino) {
            if (::ftruncate(fd, 0) != 0) {
                error = "cannot truncate PID file " + path.string() + ": " + std::strerror(errno);
                ::close(fd);
                return std::nullopt;
            }
            return pid_file(path, fd);
        }
        ::close(fd);
    }
    error = "PID file " + path.string() + " keeps being replaced by another process";
    return std::nullopt;
}

std::optional<pid_file> pid_file::adopt(const std::filesystem::path& path, int fd,
                                        std::string& error) {
    struct stat by_fd {};
    struct stat by_path {};
    if (::fstat(fd, &by_fd) != 0 || ::stat(path.c_str(), &by_path) != 0 ||
        by_fd.st_dev != by_path.st_dev || by_fd.st_ino != by_path.st_ino) {
        error = "the PID file descriptor handed over is not " + path.string();
        ::close(fd);
        return std::nullopt;
    }
    ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    return pid_file(path, fd);
}

pid_file::pid_file(pid_file&& other) noexcept
    : path_(std::move(other.path_)), fd_(std::exchange(other.fd_, -1)) {}

pid_file& pid_file::operator=(pid_file&& other) noexcept {
    if (this != &other) {
        if (fd_ >= 0) {
            ::close(fd_);
        }
        path_ = std::move(other.path_);
        fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
}

pid_file::~pid_file() {
    if (fd_ >= 0) {
        ::close(fd_);
    }
}

bool pid_file::write(pid_t pid, std::string& error) {
    std::string text = std::to_string(pid) + "\n";
    if (::ftruncate(fd_, 0) != 0 ||
        ::pwrite(fd_, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) {
        error = "cannot write PID file " + path_.string() + ": " + std::strerror(errno);
        return false;
    }
    return true;
}

void pid_file::remove() {
    if (fd_ < 0) {
        return;
    }
    // Unlink while still holding the lock, so a starting instance cannot lock the old inode
    // and then find its file gone.
    ::unlink(path_.c_str());
    ::close(fd_);
    fd_ = -1;
}

pid_file_status probe_pid_file(const std::filesystem::path& path) {
    pid_file_status status;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return status;
    }
    status.exists = true;
    status.pid = read_pid(fd);
    if (::flock(fd, LOCK_SH | LOCK_NB) != 0) {
        status.locked = errno == EWOULDBLOCK;
    }
    ::close(fd); // also drops a shared lock we may just have taken
    return status;
}

} // namespace bws::app
