// fork/exec/poll for the preflight, and the execve of the new image.
#include "app/reexec.hpp"

#include "sys/saved_root.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>

namespace bws::app::reexec {

namespace {

std::filesystem::path executable_path;
std::vector<std::string> saved_arguments;

// Every signal the master handles: blocked across execve, unblocked by the new image.
sigset_t handled_signals() {
    sigset_t set;
    sigemptyset(&set);
    for (int sig : {SIGHUP, SIGTERM, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCHLD})
        sigaddset(&set, sig);
    return set;
}

std::vector<char*> c_argv(const std::vector<std::string>& argv) {
    std::vector<char*> out;
    out.reserve(argv.size() + 1);
    for (const auto& a : argv)
        out.push_back(const_cast<char*>(a.c_str()));
    out.push_back(nullptr);
    return out;
}

// A --user master is not root but keeps root as its saved ID; the binary it starts must
// begin as root (and become the user again itself), as the first start did.
void raise_root_for_exec() {
    if (sys::keeps_root())
        (void)::seteuid(0);
}

// Lines printed for the journal start with a priority: "<3>bws: ...".
std::string_view without_priority(std::string_view line) {
    if (line.size() > 3 && line[0] == '<' && line[2] == '>')
        line.remove_prefix(3);
    return line;
}

// What the binary said, in one line: its first line that is not a warning (the first
// FILE:LINE:COL error of a configuration check) and its last (the summary), when they differ.
std::string summary(std::string_view text) {
    std::string first;
    std::string last;
    while (!text.empty()) {
        auto end = text.find('\n');
        auto line = without_priority(text.substr(0, end));
        text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
        if (line.empty())
            continue;
        if (first.empty() && line.find("warning:") == std::string_view::npos)
            first = line;
        last = line;
    }
    if (first.empty() || first == last)
        return last;
    return first + "; " + last;
}

} // namespace

void remember_command_line(int argc, char** argv) {
    saved_arguments.clear();
    for (int i = 0; i < argc; ++i)
        saved_arguments.emplace_back(argv[i]);
    std::array<char, 4096> buffer{};
    ssize_t n = ::readlink("/proc/self/exe", buffer.data(), buffer.size() - 1);
    if (n > 0) {
        std::string path(buffer.data(), static_cast<std::size_t>(n));
        // A binary replaced since this process started shows as "PATH (deleted)".
        constexpr std::string_view deleted = " (deleted)";
        if (path.ends_with(deleted))
            path.erase(path.size() - deleted.size());
        executable_path = path;
    } else if (!saved_arguments.empty()) {
        executable_path = saved_arguments.front();
    }
}

const std::filesystem::path& executable() {
    return executable_path;
}

const std::vector<std::string>& arguments() {
    return saved_arguments;
}

preflight_result run_preflight(const std::vector<std::string>& argv,
                               std::chrono::milliseconds timeout) {
    preflight_result result;
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
        result.message = std::string("pipe: ") + std::strerror(errno);
        return result;
    }
    auto args = c_argv(argv);
    pid_t pid = ::fork();
    if (pid < 0) {
        result.message = std::string("fork: ") + std::strerror(errno);
        ::close(pipe_fds[0]);
        ::close(pipe_fds[1]);
        return result;
    }
    if (pid == 0) {
        // Only async-signal-safe calls from here to execve.
        ::dup2(pipe_fds[1], STDOUT_FILENO);
        ::dup2(pipe_fds[1], STDERR_FILENO);
        int null_fd = ::open("/dev/null", O_RDONLY);
        if (null_fd >= 0)
            ::dup2(null_fd, STDIN_FILENO);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        ::unsetenv("NOTIFY_SOCKET");
        ::unsetenv("WATCHDOG_USEC");
        ::unsetenv("WATCHDOG_PID");
        raise_root_for_exec();
        ::execv(args[0], args.data());
        const char* why = std::strerror(errno);
        const char* prefix = "cannot execute: ";
        (void)!::write(STDERR_FILENO, prefix, std::strlen(prefix));
        (void)!::write(STDERR_FILENO, why, std::strlen(why));
        ::_exit(127);
    }
    ::close(pipe_fds[1]);
    std::string output;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    bool timed_out = false;
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            timed_out = true;
            break;
        }
        pollfd p{pipe_fds[0], POLLIN, 0};
        int ready = ::poll(&p, 1, static_cast<int>(left.count()));
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready <= 0)
            continue;
        std::array<char, 4096> chunk{};
        ssize_t n = ::read(pipe_fds[0], chunk.data(), chunk.size());
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break; // EOF: the binary exited (or closed its output)
        if (output.size() < 16384)
            output.append(chunk.data(), static_cast<std::size_t>(n));
    }
    ::close(pipe_fds[0]);
    if (timed_out)
        ::kill(pid, SIGKILL);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    std::string line = summary(output);
    if (timed_out) {
        result.message = "did not finish within " + std::to_string(timeout.count() / 1000) + " s";
    } else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        result.ok = true;
        result.message = line;
        return result;
    } else if (WIFEXITED(status)) {
        result.message = "exit status " + std::to_string(WEXITSTATUS(status));
    } else if (WIFSIGNALED(status)) {
        result.message = std::string("killed by ") + ::strsignal(WTERMSIG(status));
    }
    if (!line.empty())
        result.message = line + " (" + result.message + ")";
    return result;
}

std::string exec_new_image(const std::vector<int>& keep_fds, const std::string& env_name,
                           const std::string& env_value) {
    std::vector<std::pair<int, int>> restore; // fd, its descriptor flags before
    for (int fd : keep_fds) {
        int flags = ::fcntl(fd, F_GETFD);
        if (flags < 0)
            continue;
        restore.emplace_back(fd, flags);
        ::fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC);
    }
    ::setenv(env_name.c_str(), env_value.c_str(), 1);
    sigset_t blocked = handled_signals();
    sigset_t before;
    ::sigprocmask(SIG_BLOCK, &blocked, &before);
    uid_t euid = ::geteuid();
    raise_root_for_exec();
    auto args = c_argv(saved_arguments);
    ::execv(executable_path.c_str(), args.data());
    std::string why = std::strerror(errno);
    if (::geteuid() != euid)
        (void)::seteuid(euid);
    ::sigprocmask(SIG_SETMASK, &before, nullptr);
    ::unsetenv(env_name.c_str());
    for (auto [fd, flags] : restore)
        ::fcntl(fd, F_SETFD, flags);
    return why;
}

void unblock_handled_signals() {
    sigset_t set = handled_signals();
    ::sigprocmask(SIG_UNBLOCK, &set, nullptr);
}

} // namespace bws::app::reexec
