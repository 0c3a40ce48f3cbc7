// Opening files beneath a site root (see root_dir.hpp).
#include "files/root_dir.hpp"

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <fcntl.h>
#include <linux/openat2.h>
#include <memory>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace bws::files {

namespace {

// O_NONBLOCK: opening a FIFO placed in the docroot must not hang the worker (nginx does the
// same); it has no effect on reads of regular files.
constexpr int open_flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;

// Set once the kernel has said it lacks openat2, so later calls skip straight to the fallback.
std::atomic<bool> openat2_missing{false};

std::string canonical(const std::string& path, int& err) {
    std::unique_ptr<char, decltype(&std::free)> resolved(::realpath(path.c_str(), nullptr),
                                                         &std::free);
    if (!resolved) {
        err = errno;
        return {};
    }
    err = 0;
    return resolved.get();
}

} // namespace

root_dir::root_dir(const std::filesystem::path& path, strategy how)
    : strategy_(how), path_(path.string()) {
    open_root();
}

void root_dir::open_root() {
    fd_ = ::open(path_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd_ < 0) {
        error_ = errno;
        return;
    }
    error_ = 0;
    struct stat st {};
    if (::fstat(fd_, &st) != 0) {
        error_ = errno;
        ::close(fd_);
        fd_ = -1;
        return;
    }
    identity_ = std::to_string(st.st_dev) + ':' + std::to_string(st.st_ino);
    int err = 0;
    realpath_ = canonical(path_, err);
    if (err != 0)
        realpath_.clear(); // the fallback then refuses everything rather than guessing
}

bool root_dir::removed() const noexcept {
    struct stat st {};
    return fd_ >= 0 && ::fstat(fd_, &st) == 0 && st.st_nlink == 0;
}

bool root_dir::reopen() {
    const int old_fd = fd_;
    const int old_error = error_;
    std::string old_identity = identity_;
    std::string old_realpath = realpath_;
    open_root();
    if (fd_ < 0) {
        fd_ = old_fd;
        error_ = old_error;
        identity_ = std::move(old_identity);
        realpath_ = std::move(old_realpath);
        return false;
    }
    if (old_fd >= 0)
        ::close(old_fd);
    return true;
}

root_dir::~root_dir() {
    if (fd_ >= 0)
        ::close(fd_);
}

int root_dir::open_beneath(std::string_view relative) const {
    if (fd_ < 0)
        return -(error_ != 0 ? error_ : EBADF);
    std::string rel = relative.empty() ? std::string(".") : std::string(relative);
    if (strategy_ == strategy::automatic && !openat2_missing.load(std::memory_order_relaxed)) {
        int fd = open_with_openat2(rel);
        if (fd != -ENOSYS && fd != -EXDEV)
            return fd;
        if (fd == -ENOSYS) {
            openat2_missing.store(true, std::memory_order_relaxed);
        } else {
            // EXDEV: a symlink left the root or was absolute. An absolute link may still point
            // inside the root; the canonical path decides, and openat2 then opens that path
            // beneath the root, so a concurrent swap of a component cannot escape either.
            return open_with_realpath(rel, true);
        }
    }
    return open_with_realpath(rel, false);
}

int root_dir::open_with_openat2(const std::string& relative) const {
    open_how how{};
    how.flags = static_cast<std::uint64_t>(open_flags);
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    for (int attempt = 0; attempt < 3; ++attempt) {
        long fd = ::syscall(SYS_openat2, fd_, relative.c_str(), &how, sizeof how);
        if (fd >= 0)
            return static_cast<int>(fd);
        // EAGAIN: a rename raced the lookup; the kernel asks for a retry.
        if (errno != EAGAIN && errno != EINTR)
            return -errno;
    }
    return -EAGAIN;
}

int root_dir::open_with_realpath(const std::string& relative, bool use_openat2) const {
    if (realpath_.empty())
        return -ENOENT;
    int err = 0;
    std::string target = canonical(path_ + '/' + relative, err);
    if (err != 0)
        return -err;
    std::string inside;
    if (realpath_ == "/") {
        inside = target == "/" ? "." : target.substr(1);
    } else if (target == realpath_) {
        inside = ".";
    } else if (target.size() > realpath_.size() &&
               target.compare(0, realpath_.size(), realpath_) == 0 &&
               target[realpath_.size()] == '/') {
        inside = target.substr(realpath_.size() + 1);
    } else {
        return -EXDEV;
    }
    if (use_openat2)
        return open_with_openat2(inside);
    // No openat2: the canonical path has no symlinks left; O_NOFOLLOW refuses one swapped into
    // the last component meanwhile.
    int fd = ::openat(fd_, inside.c_str(), open_flags | O_NOFOLLOW);
    return fd >= 0 ? fd : -errno;
}

} // namespace bws::files
