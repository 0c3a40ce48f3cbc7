// Detaching: double fork so the daemon is not a session leader and can never reacquire a
// controlling terminal; a pipe carries the startup outcome back to the launching process.
#include "app/daemonize.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace bws::app {

daemon_report& daemon_report::operator=(daemon_report&& other) noexcept {
    if (this != &other) {
        if (fd_ >= 0) {
            ::close(fd_);
        }
        fd_ = other.fd_;
        other.fd_ = -1;
    }
    return *this;
}

daemon_report::~daemon_report() {
    if (fd_ >= 0) {
        ::close(fd_);
    }
}

void daemon_report::send(const std::string& text) {
    if (fd_ < 0) {
        return;
    }
    // Short enough for one atomic pipe write; errors mean the launcher is gone.
    [[maybe_unused]] auto n = ::write(fd_, text.data(), text.size());
    ::close(fd_);
    fd_ = -1;
}

void daemon_report::serving() {
    send("ok\n");
}

void daemon_report::failed(const std::string& message) {
    send("error " + message + "\n");
}

std::optional<int> daemonize(daemon_report& report) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        std::fprintf(stderr, "bws: cannot daemonize: pipe: %s\n", std::strerror(errno));
        return 1;
    }
    std::fflush(nullptr);
    pid_t first = ::fork();
    if (first < 0) {
        std::fprintf(stderr, "bws: cannot daemonize: fork: %s\n", std::strerror(errno));
        return 1;
    }
    if (first > 0) {
        // The launcher: wait for the report.
        ::close(fds[1]);
        std::string text;
        char buf[512];
        for (;;) {
            ssize_t n = ::read(fds[0], buf, sizeof buf);
            if (n > 0) {
                text.append(buf, static_cast<std::size_t>(n));
                continue;
            }
            if (n < 0 && errno == EINTR) {
                continue;
            }
            break;
        }
        ::close(fds[0]);
        int status = 0;
        ::waitpid(first, &status, 0);
        if (text.rfind("ok", 0) == 0) {
            return 0;
        }
        if (text.rfind("error ", 0) == 0) {
            std::string message = text.substr(6);
            while (!message.empty() && message.back() == '\n') {
                message.pop_back();
            }
            std::fprintf(stderr, "bws: %s\n", message.c_str());
        } else {
            std::fprintf(stderr, "bws: the daemon exited during startup (see its log)\n");
        }
        return 1;
    }
    // The intermediate process: new session, then fork again and leave.
    ::close(fds[0]);
    if (::setsid() < 0) {
        _exit(1);
    }
    pid_t second = ::fork();
    if (second < 0) {
        _exit(1);
    }
    if (second > 0) {
        _exit(0);
    }
    // The daemon.
    int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) {
        ::dup2(null, STDIN_FILENO);
        ::dup2(null, STDOUT_FILENO);
        ::dup2(null, STDERR_FILENO);
        if (null > STDERR_FILENO) {
            ::close(null);
        }
    }
    ::umask(022);
    report = daemon_report(fds[1]);
    return std::nullopt;
}

} // namespace bws::app
