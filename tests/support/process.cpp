// Child processes: spawn/reap with a bound, forked functions, and checks dropped to "nobody".
#include "support/process.hpp"

#include "support/temp_dir.hpp"

#include <csignal>
#include <fcntl.h>
#include <grp.h>
#include <sys/wait.h>
#include <thread>

namespace bws::test {

using namespace std::chrono_literals;

pid_t spawn(const std::vector<std::string>& argv, const std::vector<std::string>& env, int out_fd,
            int err_fd) {
    // Everything the child needs is prepared before fork: only async-signal-safe calls after.
    std::vector<std::string> argv_storage(argv);
    std::vector<char*> args;
    for (auto& a : argv_storage)
        args.push_back(a.data());
    args.push_back(nullptr);
    std::vector<std::string> env_storage(env);
    const pid_t pid = ::fork();
    if (pid != 0)
        return pid;
    const int null = ::open("/dev/null", O_RDONLY);
    ::dup2(null, 0);
    if (out_fd >= 0)
        ::dup2(out_fd, 1);
    if (err_fd >= 0)
        ::dup2(err_fd, 2);
    for (auto& e : env_storage)
        ::putenv(e.data());
    ::execv(args[0], args.data());
    ::_exit(127);
}

std::optional<int> wait_exit(pid_t pid, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
        int status = 0;
        if (::waitpid(pid, &status, WNOHANG) == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        if (std::chrono::steady_clock::now() >= deadline)
            return std::nullopt;
        std::this_thread::sleep_for(10ms);
    }
}

namespace {

// wait_exit, and SIGKILL plus reap when the bound passes (-1 then).
int reap_or_kill(pid_t pid, std::chrono::milliseconds limit) {
    if (auto code = wait_exit(pid, limit))
        return *code;
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return -1;
}

} // namespace

command_result run_command(const std::vector<std::string>& argv, std::chrono::milliseconds limit,
                           const std::vector<std::string>& env) {
    command_result r;
    temp_dir io;
    const int fd =
        ::open((io / "output").c_str(), O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    const pid_t pid = spawn(argv, env, fd, fd);
    ::close(fd);
    if (pid < 0)
        return r;
    r.exit_code = reap_or_kill(pid, limit);
    r.output = read_file(io / "output");
    return r;
}

int run_in_child(const std::function<int()>& body, std::chrono::milliseconds limit) {
    const pid_t pid = ::fork();
    if (pid < 0)
        return -1;
    if (pid == 0)
        ::_exit(body());
    return reap_or_kill(pid, limit);
}

namespace detail {

bool run_dropped(const std::function<void(void*)>& produce, void* out, std::size_t size) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0)
        return false;
    std::vector<char> buffer(size);
    const int code = run_in_child([&] {
        ::close(fds[0]);
        // Groups first: after setuid the process may no longer change them.
        if (::setgroups(0, nullptr) != 0 || ::setgid(unprivileged_gid) != 0 ||
            ::setuid(unprivileged_uid) != 0 || ::geteuid() != unprivileged_uid)
            return 3;
        produce(buffer.data());
        const auto n = ::write(fds[1], buffer.data(), size);
        return n == static_cast<ssize_t>(size) ? 0 : 4;
    });
    ::close(fds[1]);
    std::size_t got = 0;
    while (got < size) {
        const auto n = ::read(fds[0], buffer.data() + got, size - got);
        if (n <= 0)
            break;
        got += static_cast<std::size_t>(n);
    }
    ::close(fds[0]);
    if (code != 0 || got != size)
        return false;
    std::memcpy(out, buffer.data(), size);
    return true;
}

} // namespace detail
} // namespace bws::test
