// `bws -s ACTION` / `bws --reload`: finds the master through its PID file, signals it and waits
// for the outcome (reload: the state file next to the PID file; stop: the PID file lock).
#include "app/master.hpp"
#include "app/pidfile.hpp"
#include "app/reload_state.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <thread>

namespace bws::app {

namespace {

using namespace std::chrono_literals;

constexpr auto poll_interval = 50ms;
constexpr auto reload_wait = 60s; // > the master's 30 s reload timeout
constexpr auto stop_wait = 120s;  // > any sane shutdown_timeout
constexpr auto quit_wait = 30s;

int fail(const std::string& message) {
    std::fprintf(stderr, "bws: %s\n", message.c_str());
    return 1;
}

int wait_reload(pid_t pid, const std::filesystem::path& pid_file) {
    auto state_path = reload_state_path(pid_file);
    auto before = read_reload_state(state_path);
    std::uint64_t target = 1;
    if (before && before->pid == pid) {
        // A reload already running read the configuration before our change may have been
        // saved: ours is the one queued after it.
        target = before->reload_count + (before->reloading ? 2 : 1);
    }
    if (::kill(pid, SIGHUP) != 0) {
        return fail("cannot signal bws (pid " + std::to_string(pid) + "): " + std::strerror(errno));
    }
    auto deadline = std::chrono::steady_clock::now() + reload_wait;
    while (std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(poll_interval);
        auto now = read_reload_state(state_path);
        if (now && now->pid == pid && now->reload_count >= target) {
            if (now->last_ok) {
                std::printf("bws: reload ok: %s\n", now->message.c_str());
                return 0;
            }
            return fail("reload failed: " + now->message);
        }
        if (::kill(pid, 0) != 0 && errno == ESRCH) {
            return fail("bws (pid " + std::to_string(pid) + ") exited during the reload");
        }
    }
    return fail("no reload result from bws (pid " + std::to_string(pid) + ") after 60 s");
}

int wait_upgrade(pid_t pid, const std::filesystem::path& pid_file) {
    auto state_path = reload_state_path(pid_file);
    auto before = read_reload_state(state_path);
    std::uint64_t target = before && before->pid == pid ? before->upgrade_count + 1 : 1;
    if (::kill(pid, SIGUSR2) != 0) {
        return fail("cannot signal bws (pid " + std::to_string(pid) + "): " + std::strerror(errno));
    }
    // The same process answers, as its old or its new image: the PID does not change.
    auto deadline = std::chrono::steady_clock::now() + reload_wait;
    while (std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(poll_interval);
        auto now = read_reload_state(state_path);
        if (now && now->pid == pid && now->upgrade_count >= target) {
            if (now->upgrade_ok) {
                std::printf("bws: upgrade ok: %s\n", now->upgrade_message.c_str());
                return 0;
            }
            return fail("upgrade failed: " + now->upgrade_message);
        }
        if (::kill(pid, 0) != 0 && errno == ESRCH) {
            return fail("bws (pid " + std::to_string(pid) + ") exited during the upgrade");
        }
    }
    return fail("no upgrade result from bws (pid " + std::to_string(pid) + ") after 60 s");
}

int wait_gone(pid_t pid, int lock_fd, std::chrono::seconds limit) {
    // The master holds the PID file lock until it exits (a zombie holds nothing), so the lock
    // becoming free is the exit, whoever is its parent.
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        if (::flock(lock_fd, LOCK_SH | LOCK_NB) == 0) {
            return 0;
        }
        std::this_thread::sleep_for(poll_interval);
    }
    return fail("bws (pid " + std::to_string(pid) + ") still running after " +
                std::to_string(limit.count()) + " s");
}

} // namespace

int signal_master(const std::string& action, const std::filesystem::path& pid_file) {
    int signal_number = 0;
    if (action == "reload") {
        signal_number = SIGHUP;
    } else if (action == "stop") {
        signal_number = SIGTERM;
    } else if (action == "quit") {
        signal_number = SIGQUIT;
    } else if (action == "reopen") {
        signal_number = SIGUSR1;
    } else if (action == "drain") {
        signal_number = SIGWINCH;
    } else if (action == "upgrade") {
        signal_number = SIGUSR2;
    } else {
        std::fprintf(stderr,
                     "bws: unknown signal \"%s\" (use reload, stop, quit, reopen, drain or "
                     "upgrade)\n",
                     action.c_str());
        return 2;
    }
    if (pid_file.empty()) {
        return fail("no PID file configured (use --pid-file, $BWS_PID_FILE or [daemon] pid_file)");
    }
    // Open before probing so that, for stop, we watch the lock of the very file we read.
    int fd = ::open(pid_file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return fail("PID file " + pid_file.string() + " not found: is bws running?");
    }
    auto status = probe_pid_file(pid_file);
    if (!status.locked) {
        ::close(fd);
        return fail("PID file " + pid_file.string() + " is stale: no bws is running");
    }
    if (!status.pid) {
        ::close(fd);
        return fail("bws is still starting (PID file " + pid_file.string() + " is empty)");
    }
    pid_t pid = *status.pid;
    int code = 0;
    if (signal_number == SIGHUP) {
        code = wait_reload(pid, pid_file);
    } else if (signal_number == SIGUSR2) {
        code = wait_upgrade(pid, pid_file);
    } else if (::kill(pid, signal_number) != 0) {
        code = fail("cannot signal bws (pid " + std::to_string(pid) + "): " + std::strerror(errno));
    } else if (signal_number == SIGTERM) {
        code = wait_gone(pid, fd, stop_wait);
    } else if (signal_number == SIGQUIT) {
        code = wait_gone(pid, fd, quit_wait);
    }
    ::close(fd);
    return code;
}

} // namespace bws::app
