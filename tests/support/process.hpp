// Child processes for the tests: programs spawned and reaped with a bound, functions run in a
// forked child, and checks run as an unprivileged user (root bypasses file permissions, so a
// permission-denied path can only be tested without it).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <sys/types.h>
#include <type_traits>
#include <unistd.h>
#include <vector>

namespace bws::test {

// Starts `argv` (argv[0] is the program path) with extra environment entries ("NAME=value"),
// stdin from /dev/null, stdout and stderr on the given descriptors (inherited when < 0).
pid_t spawn(const std::vector<std::string>& argv, const std::vector<std::string>& env, int out_fd,
            int err_fd);
// Reaps `pid` once it exits: its exit code, 128 + the signal number when a signal ended it,
// nullopt when it is still running after `limit`.
std::optional<int> wait_exit(pid_t pid, std::chrono::milliseconds limit);

struct command_result {
    int exit_code = -1; // -1 when it was killed for running too long
    std::string output; // stdout and stderr, interleaved as written
};

// Runs `argv` to completion, killed after `limit`; exit code and combined output.
command_result run_command(const std::vector<std::string>& argv,
                           std::chrono::milliseconds limit = std::chrono::seconds(30),
                           const std::vector<std::string>& env = {});

// Runs `body` in a forked child that leaves with _exit(body()) (no atexit handlers, no gtest
// teardown); returns its exit code as wait_exit() does, -1 when fork fails or it runs longer
// than `limit` (then it is killed).
int run_in_child(const std::function<int()>& body,
                 std::chrono::milliseconds limit = std::chrono::seconds(30));

// The uid and gid ("nobody") that as_unprivileged() drops to when the tests run as root.
inline constexpr uid_t unprivileged_uid = 65534;
inline constexpr gid_t unprivileged_gid = 65534;

namespace detail {
// Runs `produce` in a child dropped to unprivileged_uid/gid (no supplementary groups); it
// fills the `size` bytes at `out`, which are copied back. False when the child could not drop
// its privileges, died, or sent back less.
bool run_dropped(const std::function<void(void*)>& produce, void* out, std::size_t size);
} // namespace detail

// The result of `check()` computed without root's permission bypass: in this process when it
// does not run as root, otherwise in a child dropped to "nobody" (the value travels back
// through a pipe, so it must be trivially copyable). nullopt when the child failed. Whatever
// `check` opens must be reachable by that user: temp_dir trees are 0755 and its files 0644.
template <class F>
auto as_unprivileged(F check) -> std::optional<decltype(check())> {
    using result = decltype(check());
    static_assert(std::is_trivially_copyable_v<result>, "the result crosses a pipe");
    if (::geteuid() != 0)
        return check();
    result value{};
    const bool ok = detail::run_dropped(
        [&](void* out) {
            const result r = check();
            std::memcpy(out, &r, sizeof r);
        },
        &value, sizeof value);
    if (!ok)
        return std::nullopt;
    return value;
}

} // namespace bws::test
