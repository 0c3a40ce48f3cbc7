// Whole-line appends with one write(2) per batch, self-healing after disk-full and permission
// errors.
#include "log/line_file.hpp"

#include <algorithm>
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

bool is_regular(int fd) {
    struct stat st {};
    return ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

} // namespace

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
    if (write_once_locked(data)) {
        report_.succeeded();
        return true;
    }
    return false;
}

bool line_file::write_once_locked(std::string_view data) {
    ssize_t n;
    do {
        n = ::write(fd_, data.data(), data.size());
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        report_.dropped(count_lines(data), errno);
        return false;
    }
    if (static_cast<std::size_t>(n) == data.size())
        return true;
    // Short write (the disk filled up mid-batch). Finish the line that was cut so the file
    // does not hold a torn line if at all possible; the lines after it are dropped.
    const auto written = static_cast<std::size_t>(n);
    const int error = ENOSPC;
    auto line_end = data.find('\n', written);
    if (written > 0 && data[written - 1] != '\n' && line_end != std::string_view::npos) {
        auto rest = data.substr(written, line_end + 1 - written);
        while (!rest.empty()) {
            const auto m = ::write(fd_, rest.data(), rest.size());
            if (m < 0 && errno == EINTR)
                continue;
            if (m <= 0)
                break;
            rest.remove_prefix(static_cast<std::size_t>(m));
        }
        data = data.substr(line_end + 1);
    } else {
        data = data.substr(written);
    }
    report_.dropped(count_lines(data), error);
    return false;
}

} // namespace bws::log
