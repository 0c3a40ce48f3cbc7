// The PID file: created and locked at startup, filled in once the server is ready, removed on
// exit. The flock is what tells a live master from a stale file.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>

namespace bws::app {

class pid_file {
public:
    // Opens (creating it) and locks `path`. Fails with a one-line reason when another process
    // holds the lock ("another bws (pid N) is running with PID file X"). A stale file (nobody
    // holds the lock) is taken over and emptied at once, so a reader never sees the dead pid.
    static std::optional<pid_file> acquire(const std::filesystem::path& path, std::string& error);
    // The PID file a previous image of this process locked and left open across execve (a
    // binary upgrade): `fd` must be the file at `path`. The lock was never released.
    static std::optional<pid_file> adopt(const std::filesystem::path& path, int fd,
                                         std::string& error);

    pid_file(pid_file&& other) noexcept;
    pid_file& operator=(pid_file&& other) noexcept;
    pid_file(const pid_file&) = delete;
    pid_file& operator=(const pid_file&) = delete;
    // Closes the descriptor; never removes the file (a forked worker destroys its copy).
    ~pid_file();

    // Writes "PID\n" with a single write into the (empty) locked file: a reader sees either
    // nothing ("still starting") or the whole pid.
    bool write(pid_t pid, std::string& error);
    // Removes the file, then releases the lock.
    void remove();

    const std::filesystem::path& path() const { return path_; }
    int fd() const { return fd_; }

private:
    pid_file(std::filesystem::path path, int fd) : path_(std::move(path)), fd_(fd) {}
    std::filesystem::path path_;
    int fd_ = -1;
};

struct pid_file_status {
    bool exists = false;
    bool locked = false;      // a live process holds the lock
    std::optional<pid_t> pid; // nullopt: empty or unparsable
};

// Reads the PID file and probes its lock without taking it.
pid_file_status probe_pid_file(const std::filesystem::path& path);

} // namespace bws::app
