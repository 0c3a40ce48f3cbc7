// --daemon: detaching from the terminal for non-systemd use. The launching process waits until
// the detached master says it is serving (exit 0) or why it failed (stderr, exit 1).
#pragma once

#include <optional>
#include <string>

namespace bws::app {

// The detached master's end of the pipe to the launching process.
class daemon_report {
public:
    daemon_report() = default;
    explicit daemon_report(int fd) : fd_(fd) {}
    daemon_report(daemon_report&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
    daemon_report& operator=(daemon_report&& other) noexcept;
    daemon_report(const daemon_report&) = delete;
    daemon_report& operator=(const daemon_report&) = delete;
    ~daemon_report(); // closes: the launcher then sees EOF, i.e. "died during startup"

    void serving();                          // launcher exits 0
    void failed(const std::string& message); // launcher prints "bws: MESSAGE", exits 1

private:
    void send(const std::string& text);
    int fd_ = -1;
};

// Double fork + setsid; stdin/stdout/stderr of the daemon go to /dev/null. Returns the exit
// code in the launching process (after waiting for the report), or nullopt in the daemon,
// with `report` set. On fork/pipe failure returns 1 after printing the reason.
std::optional<int> daemonize(daemon_report& report);

} // namespace bws::app
