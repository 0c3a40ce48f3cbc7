// A log destination that takes whole lines and writes each batch with a single write(2) on an
// O_APPEND descriptor, so lines from many processes never interleave or tear and logrotate's
// copytruncate stays safe. Failures never throw: lines are dropped, counted and reported.
#pragma once

#include "log/failure_report.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <string_view>
#include <sys/types.h>

namespace bws::log {

// How often a failing file is reported and how often opening it is retried.
struct line_file_timing {
    std::chrono::steady_clock::duration report_interval = std::chrono::seconds(30);
    std::chrono::steady_clock::duration retry_interval = std::chrono::seconds(1);
};

// The owner given to every log file this process opens by name while it runs as root: a
// master started as root creates the files (at start, after a rotation or a reopen) that its
// workers, dropped to another user, must open by name again on their next reopen. Only the
// user changes (the group keeps what the directory or the operator gave). Set by the master
// once it knows the workers' user; unset (the default), files are left as created.
void set_log_file_owner(uid_t uid);

class line_file {
public:
    using clock = std::chrono::steady_clock;
    using timing = line_file_timing;

    // A file opened by name (O_WRONLY|O_APPEND|O_CREAT|O_CLOEXEC, 0640). Opening failures are
    // reported and retried on later writes, never thrown.
    explicit line_file(std::filesystem::path path, timing t = timing{});
    // A borrowed descriptor (stdout, stderr): never closed, reopen() does nothing.
    line_file(int fd, std::string name, timing t = timing{});
    ~line_file();
    line_file(const line_file&) = delete;
    line_file& operator=(const line_file&) = delete;

    // Writes `lines` (one or more lines, each ending in '\n') with one write(2); on a pipe or
    // terminal, batches are split at line boundaries into PIPE_BUF-sized writes, which the
    // kernel keeps whole. Returns false when (some) lines were dropped.
    bool write(std::string_view lines);

    // Closes and opens the path again: after an external rename or a rotation.
    void reopen();

    const std::filesystem::path& path() const { return path_; }
    bool is_open() const;
    std::uint64_t dropped_lines() const { return report_.total_dropped(); }

private:
    bool write_all_locked(std::string_view data); // caller holds mutex_
    ssize_t write_some_locked(std::string_view data);
    void open_locked();
    void close_locked();

    mutable std::mutex mutex_;
    std::filesystem::path path_; // empty for borrowed descriptors
    int fd_ = -1;
    bool owned_ = true;
    bool split_for_pipe_ = false;
    timing timing_;
    clock::time_point last_open_attempt_{};
    int last_open_error_ = 0;
    int last_write_error_ = 0;
    std::string pending_tail_; // the unwritten end of a line cut by a short write
    failure_report report_;
};

} // namespace bws::log
