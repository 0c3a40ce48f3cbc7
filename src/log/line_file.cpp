// Whole-line appends with one write(2) per batch, self-healing after disk-full and permission
// errors.
#include "log/line_file.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace bws::log {
namespace {

std::uint64_t count_lines(std::string_view data) {
    const auto n = static_cast<std::uint64_t>(std::count(data.begin(), data.end(), '\n'));
    return (n == 0 && !data.empty()) ? 1 : n;
}

constexpr uid_t no_owner = static_cast<uid_t>(-1);
std::atomic<uid_t> file_owner{no_owner};

// nginx does the same on (re)open: without it, a worker's reopen of a file the root master
// created fails with EACCES and its lines are lost until the next restart.
void give_to_owner(int fd) {
    const uid_t owner = file_owner.load();
    if (owner == no_owner || ::geteuid() != 0)
        return;
    struct stat st {};
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid != owner)
        (void)::fchown(fd, owner, static_cast<gid_t>(-1)); // best effort: writing still works
}

bool is_regular(int fd) {
    struct stat st {};
    return ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

} // namespace

void set_log_file_owner(uid_t uid) {
    file_owner.store(uid);
}

line_file::line_file(std::filesystem::path path, timing t)
    : path_(std::move(path)), timing_(t), report_(path_.string(), t.report_interval) {
    std::lock_guard lock(mutex_);
    open_locked();
}

line_file::line_file(int fd, std::string name, timing t)
    : fd_(fd), owned_(false), split_for_pipe_(!is_regular(fd)), timing_(t),
      report_(std::move(name), t.report_interval) {}

line_file::~line_file() {
    std::lock_guard lock(mutex_);
    close_locked();
}

bool line_file::is_open() const {
    std::lock_guard lock(mutex_);
    return fd_ >= 0;
}

void line_file::open_locked() {
    last_open_attempt_ = clock::now();
    const int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) {
        last_open_error_ = errno;
        report_.dropped(0, last_open_error_);
        return;
    }
    give_to_owner(fd);
    fd_ = fd;
}

void line_file::close_locked() {
    if (owned_ && fd_ >= 0)
        ::close(fd_);
    if (owned_)
        fd_ = -1;
}

void line_file::reopen() {
    std::lock_guard lock(mutex_);
    if (!owned_)
        return;
    if (!pending_tail_.empty()) {
        // The cut line belongs to the old file; it cannot be finished in the new one.
        report_.dropped(1, last_write_error_);
        pending_tail_.clear();
    }
    close_locked();
    open_locked();
}

bool line_file::write(std::string_view lines) {
    if (lines.empty())
        return true;
    std::lock_guard lock(mutex_);
    if (fd_ < 0 && owned_) {
        if (clock::now() - last_open_attempt_ < timing_.retry_interval) {
            report_.dropped(count_lines(lines), last_open_error_);
            return false;
        }
        open_locked();
        if (fd_ < 0) {
            report_.dropped(count_lines(lines), last_open_error_);
            return false;
        }
    }
    if (!split_for_pipe_ || lines.size() <= PIPE_BUF)
        return write_all_locked(lines);
    // A pipe keeps a write whole only up to PIPE_BUF bytes: cut at line ends below that.
    bool ok = true;
    while (!lines.empty()) {
        auto cut = lines.size() <= PIPE_BUF ? lines.size() : lines.rfind('\n', PIPE_BUF - 1) + 1;
        if (cut == 0 || cut > lines.size()) // a single line longer than PIPE_BUF
            cut = std::min(lines.size(), lines.find('\n') + 1);
        ok = write_all_locked(lines.substr(0, cut)) && ok;
        lines.remove_prefix(cut);
    }
    return ok;
}

bool line_file::write_all_locked(std::string_view data) {
    // The rest of a line cut by an earlier short write goes first, so that the line is
    // completed rather than torn once space returns.
    if (!pending_tail_.empty()) {
        const auto n = write_some_locked(pending_tail_);
        if (n > 0)
            pending_tail_.erase(0, static_cast<std::size_t>(n));
        if (!pending_tail_.empty()) {
            report_.dropped(count_lines(data), last_write_error_);
            return false;
        }
    }
    const auto n = write_some_locked(data);
    if (n == static_cast<ssize_t>(data.size())) {
        report_.succeeded();
        return true;
    }
    // Nothing or part of the batch was written (the disk filled up). A line cut in the middle
    // is finished later (pending_tail_); the whole lines after it are dropped.
    auto rest = data.substr(n > 0 ? static_cast<std::size_t>(n) : 0);
    if (n > 0 && data[static_cast<std::size_t>(n) - 1] != '\n') {
        const auto line_end = rest.find('\n');
        const auto tail_length = line_end == std::string_view::npos ? rest.size() : line_end + 1;
        pending_tail_.assign(rest.substr(0, tail_length));
        rest.remove_prefix(tail_length);
    }
    if (rest.empty())
        return true; // only the cut line remains, and it is kept
    report_.dropped(count_lines(rest), last_write_error_);
    return false;
}

ssize_t line_file::write_some_locked(std::string_view data) {
    ssize_t n;
    do {
        n = ::write(fd_, data.data(), data.size());
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        last_write_error_ = errno;
    else if (static_cast<std::size_t>(n) < data.size())
        last_write_error_ = ENOSPC; // a short write on a regular file means it is full
    return n;
}

} // namespace bws::log
