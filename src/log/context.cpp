// Process role, pid and per-thread site for log lines.
#include "log/context.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <pthread.h>
#include <unistd.h>

namespace bws::log {
namespace {

// A fixed buffer rather than std::string: set_role() runs right after fork() and the value is
// read from every logging thread, so it must not allocate or be reallocated under a reader.
std::array<char, 16> role_buffer{'b', 'w', 's', '\0'};
std::atomic<std::size_t> role_length{3};
std::atomic<pid_t> cached_pid{0};
thread_local std::string_view thread_site;

// A child forked without calling set_role() must not print its parent's pid.
void forget_pid_in_child() {
    cached_pid.store(0, std::memory_order_relaxed);
}
const int atfork_registered = ::pthread_atfork(nullptr, nullptr, forget_pid_in_child);

} // namespace

void set_role(std::string_view name) {
    const auto length = std::min(name.size(), role_buffer.size() - 1);
    std::copy_n(name.data(), length, role_buffer.data());
    role_buffer[length] = '\0';
    role_length.store(length, std::memory_order_release);
    cached_pid.store(::getpid(), std::memory_order_release);
}

std::string_view role() {
    return {role_buffer.data(), role_length.load(std::memory_order_acquire)};
}

pid_t role_pid() {
    static_cast<void>(atfork_registered);
    auto pid = cached_pid.load(std::memory_order_acquire);
    if (pid == 0) {
        pid = ::getpid();
        cached_pid.store(pid, std::memory_order_release);
    }
    return pid;
}

std::string_view current_site() {
    return thread_site;
}

site_scope::site_scope(std::string_view site) noexcept : previous_(thread_site) {
    thread_site = site;
}

site_scope::~site_scope() {
    thread_site = previous_;
}

} // namespace bws::log
