// Forking, talking to and reaping workers.
#include "app/supervisor.hpp"

#include "app/proctitle.hpp"
#include "metrics/shared_metrics.hpp"
#include "net/conn_limit.hpp"
#include "net/rate_limit.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>

namespace bws::app {

namespace asio = boost::asio;

const char* to_string(worker_state state) {
    switch (state) {
    case worker_state::starting:
        return "starting";
    case worker_state::ready:
        return "ready";
    case worker_state::draining:
        return "draining";
    }
    return "unknown";
}

namespace {

bool watch_parent(pid_t master_pid) {
    // SIGTERM = drain: a worker whose master died finishes its requests and leaves. The check
    // after prctl closes the race where the master died before the call.
    prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
    return getppid() == master_pid;
}

} // namespace

int run_worker_child(const worker_launch& launch) {
    // Back to a pristine signal state: the master's handlers and mask mean nothing here.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int sig = 1; sig < NSIG; ++sig) {
        if (sig != SIGKILL && sig != SIGSTOP) {
            std::signal(sig, SIG_DFL);
        }
    }
    // A peer closing its socket must cost an error code, never the process.
    std::signal(SIGPIPE, SIG_IGN);
    // Workers never talk to systemd: the master owns notify, watchdog and activation.
    for (const char* name : {"NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS",
                             "LISTEN_PID", "LISTEN_FDNAMES"}) {
        unsetenv(name);
    }
    std::string error;
    if (!drop_privileges(launch.identity, error)) {
        spdlog::critical("worker {}: cannot drop privileges to {}: {}", getpid(),
                         launch.identity.user, error);
        return 1;
    }
    // Changing credentials clears the parent-death signal: set it again.
    if (!watch_parent(launch.master_pid)) {
        return 1;
    }
    if (!launch.working_directory.empty() && chdir(launch.working_directory.c_str()) != 0) {
        spdlog::critical("worker {}: cannot change to working_directory {}: {}", getpid(),
                         launch.working_directory.string(), std::strerror(errno));
        return 1;
    }
    set_proctitle("bws: worker process");
    return worker_main(launch.context);
}

supervisor::supervisor(asio::io_context& ioc, callbacks cb) : ioc_(ioc), cb_(std::move(cb)) {
    // Mapped before the first fork, so every worker of every generation shares one table.
    if (net::conn_limit_table::shared() == nullptr)
        spdlog::warn("cannot map the per-address connection table: max_connections_per_ip is "
                     "not enforced");
    if (net::rate_limit_table::shared() == nullptr)
        spdlog::warn("cannot map the shared request rate table: rate limits are not enforced");
    if (metrics::region::shared() == nullptr)
        spdlog::warn("cannot map the shared metrics region: /metrics shows no request counters");
}

worker_record* supervisor::spawn(worker_launch launch, std::string& error) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
        error = std::string("socketpair: ") + std::strerror(errno);
        return nullptr;
    }
    launch.master_pid = ::getpid();
    auto* limit_table = net::conn_limit_table::shared();
    const int limit_owner = limit_table != nullptr ? limit_table->claim_owner() : -1;
    if (limit_table != nullptr && limit_owner < 0)
        spdlog::warn("no free column in the per-address connection table: the new worker does "
                     "not enforce max_connections_per_ip");
    auto* metrics_region = metrics::region::shared();
    const std::size_t metrics_slot = metrics_region != nullptr ? metrics_region->claim_slot() : 0;
    ioc_.notify_fork(asio::execution_context::fork_prepare);
    pid_t pid = ::fork();
    if (pid < 0) {
        error = std::string("fork: ") + std::strerror(errno);
        if (limit_table != nullptr)
            limit_table->release_owner(limit_owner);
        if (metrics_region != nullptr)
            metrics_region->release_slot(metrics_slot);
        ioc_.notify_fork(asio::execution_context::fork_parent);
        ::close(sv[0]);
        ::close(sv[1]);
        return nullptr;
    }
    if (pid == 0) {
        if (!watch_parent(launch.master_pid)) {
            _exit(1);
        }
        ::close(sv[0]);
        // Gives the child its own epoll and signal pipe, so that tearing down the master's
        // objects cannot deregister anything from the master's reactor.
        ioc_.notify_fork(asio::execution_context::fork_child);
        launch.context.control_fd = sv[1];
        net::conn_limit_table::set_current_owner(limit_owner);
        metrics::region::set_current_slot(metrics_slot);
        throw become_worker{std::move(launch)};
    }
    ioc_.notify_fork(asio::execution_context::fork_parent);
    ::close(sv[1]);
    worker_record record;
    record.pid = pid;
    record.generation = launch.context.generation;
    record.index = launch.context.index;
    record.limit_owner = limit_owner;
    record.metrics_slot = metrics_slot;
    record.spawned = clock::now();
    record.last_heartbeat = record.spawned;
    record.channel = std::make_unique<asio::posix::stream_descriptor>(ioc_, sv[0]);
    record.channel->non_blocking(true);
    workers_.push_back(std::move(record));
    start_read(pid);
    return &workers_.back();
}

worker_record& supervisor::adopt(pid_t pid, int channel_fd, unsigned generation, unsigned index,
                                 bool draining) {
    ::fcntl(channel_fd, F_SETFD, FD_CLOEXEC);
    worker_record record;
    record.pid = pid;
    record.generation = generation;
    record.index = index;
    record.state = draining ? worker_state::draining : worker_state::ready;
    record.exit_expected = draining;
    record.spawned = clock::now();
    record.last_heartbeat = record.spawned;
    record.channel = std::make_unique<asio::posix::stream_descriptor>(ioc_, channel_fd);
    record.channel->non_blocking(true);
    workers_.push_back(std::move(record));
    start_read(pid);
    return workers_.back();
}

void supervisor::start_read(pid_t pid) {
    auto* w = find(pid);
    if (w == nullptr || !w->channel) {
        return;
    }
    w->channel->async_wait(asio::posix::stream_descriptor::wait_read,
                           [this, pid](const boost::system::error_code& ec) {
                               if (!ec) {
                                   on_readable(pid);
                               }
                           });
}

void supervisor::on_readable(pid_t pid) {
    auto& buf = read_buffer_;
    for (;;) {
        auto* w = find(pid);
        if (w == nullptr || !w->channel) {
            return;
        }
        ssize_t n = ::recv(w->channel->native_handle(), buf.data(), buf.size(), MSG_DONTWAIT);
        if (n > 0) {
            w->last_heartbeat = clock::now();
            w->decoder.feed(std::string_view(buf.data(), static_cast<std::size_t>(n)));
            if (!deliver(pid)) {
                return;
            }
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            start_read(pid);
            return;
        }
        // EOF or error: the worker is exiting; SIGCHLD will tell how.
        w->channel.reset();
        return;
    }
}

bool supervisor::deliver(pid_t pid) {
    for (;;) {
        // The callback may spawn, reap or drop workers: look the record up again each time.
        auto* w = find(pid);
        if (w == nullptr) {
            return false;
        }
        control::message message;
        std::string error;
        auto result = w->decoder.next(message, error);
        if (result == control::decoder::result::need_more) {
            return true;
        }
        if (result == control::decoder::result::error) {
            spdlog::warn("worker {}: {}; message dropped", pid, error);
            return true;
        }
        cb_.on_message(*w, message);
    }
}

bool supervisor::send(worker_record& worker, control::kind message) {
    return send_frame(worker, control::encode(message));
}

bool supervisor::send_frame(worker_record& worker, std::string_view frame) {
    if (!worker.channel) {
        return false;
    }
    ssize_t n = ::send(worker.channel->native_handle(), frame.data(), frame.size(),
                       MSG_DONTWAIT | MSG_NOSIGNAL);
    return n == static_cast<ssize_t>(frame.size());
}

void supervisor::signal(worker_record& worker, int signal_number) {
    ::kill(worker.pid, signal_number);
}

void supervisor::reap() {
    for (;;) {
        int status = 0;
        pid_t pid = ::waitpid(-1, &status, WNOHANG);
        if (pid <= 0) {
            return;
        }
        for (auto it = workers_.begin(); it != workers_.end(); ++it) {
            if (it->pid == pid) {
                worker_record record = std::move(*it);
                workers_.erase(it);
                // Dead, so it cannot count any more: give back whatever it still held (all of
                // it after a crash or a kill, nothing after a clean exit).
                if (auto* table = net::conn_limit_table::shared())
                    table->release_owner(record.limit_owner);
                // Its counters join the retired totals, so a crash loses none of them.
                if (auto* region = metrics::region::shared())
                    region->release_slot(record.metrics_slot);
                cb_.on_exit(record, status);
                break;
            }
        }
    }
}

worker_record* supervisor::find(pid_t pid) {
    for (auto& w : workers_) {
        if (w.pid == pid) {
            return &w;
        }
    }
    return nullptr;
}

} // namespace bws::app
