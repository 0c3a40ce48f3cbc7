// Zero-downtime binary upgrade: the master re-executes the binary at its own path (which a
// package upgrade has replaced), keeping its PID, so systemd's MainPID, the PID file and the
// workers' parent do not change. The listening sockets stay open the whole time, the old
// workers keep accepting until the new image's workers are ready, then drain as after a
// reload: no connection is refused and no request is cut.
#include "app/master_process.hpp"
#include "app/reexec.hpp"
#include "sys/notify.hpp"
#include "sys/socket_activation.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <unistd.h>

namespace bws::app::detail {

namespace {

// A configuration check takes well under a second; this bounds a binary that hangs, within
// the watchdog's 30 s.
constexpr auto preflight_timeout = std::chrono::seconds(10);

std::vector<std::string> preflight_command(const std::filesystem::path& config_file) {
    // The same arguments the master was started with (config file, --user, PID file) plus
    // --config-check: it loads what the new image would load, as the same user. Without a
    // config file (`bws DIR`), --version still proves the binary runs (libraries, loader).
    std::vector<std::string> argv = reexec::arguments();
    argv.front() = reexec::executable().string();
    if (config_file.empty())
        return {argv.front(), "--version"};
    argv.push_back("--config-check");
    return argv;
}

} // namespace

void master::start_upgrade() {
    if (phase_ != phase::running || stop_after_drain_) {
        fail_upgrade(phase_ == phase::starting ? "bws is still starting" : "bws is stopping");
        return;
    }
    if (reloads_.pending_generation() || reloads_.queued()) {
        fail_upgrade("a reload is in progress; upgrade after it");
        return;
    }
    const auto& binary = reexec::executable();
    spdlog::info("SIGUSR2: upgrading to {}; checking it first", binary.string());
    sys::notify(sys::status_message("upgrade: checking " + binary.string()));
    sys::notify(sys::watchdog_message()); // the check blocks this loop for up to 10 s
    auto check = reexec::run_preflight(preflight_command(options_.config_file), preflight_timeout);
    if (!check.ok) {
        fail_upgrade("the new binary " + binary.string() + " failed its check: " + check.message);
        return;
    }

    upgrade_handover h;
    h.from_version = BWS_VERSION;
    h.generation = reloads_.generation();
    h.reload_count = reloads_.reload_count();
    h.upgrade_count = status_.upgrade().count;
    h.draining = status_.draining();
    std::vector<int> keep;
    if (pid_file_) {
        h.pid_file_fd = pid_file_->fd();
        keep.push_back(h.pid_file_fd);
    }
    h.listener_fds = listeners_.fds();
    keep.insert(keep.end(), h.listener_fds.begin(), h.listener_fds.end());
    for (auto& w : supervisor_.workers()) {
        if (!w.channel)
            continue; // its channel is closed: it is exiting, the new image reaps it
        h.workers.push_back({w.pid, w.channel->native_handle(), w.generation, w.index,
                             w.state == worker_state::draining || w.exit_expected});
        keep.push_back(w.channel->native_handle());
    }
    spdlog::info("re-executing {} (generation {}, {} worker{} handed over)", binary.string(),
                 h.generation, h.workers.size(), h.workers.size() == 1 ? "" : "s");
    sys::notify(sys::reloading_message(sys::monotonic_usec(), "upgrading the binary"));
    sys::notify(sys::watchdog_message());
    spdlog::apply_all([](const std::shared_ptr<spdlog::logger>& l) { l->flush(); });
    auto why = reexec::exec_new_image(keep, upgrade_env, encode_handover(h));
    // Still here: execve failed, and nothing was handed over.
    fail_upgrade("cannot execute " + binary.string() + ": " + why);
}

void master::fail_upgrade(const std::string& why) {
    spdlog::error("upgrade failed: {}; the running binary keeps serving", why);
    if (handover_) {
        // This image is itself finishing an upgrade: the outcome the state file will carry
        // is that one (a client waits for it), not this refusal.
        return;
    }
    auto outcome = status_.upgrade();
    status_.set_upgrade({outcome.count + 1, false, why});
    status_.write_state(reloads_, reloads_.queued());
    sys::notify(
        sys::ready_message("upgrade failed: " + why + "; " +
                           reload_status_line(status_.view(supervisor_.workers(), reloads_))));
}

bool master::adopt_handover(const upgrade_handover& h, std::string& error) {
    if (h.pid_file_fd >= 0) {
        if (options_.pid_file.empty()) {
            ::close(h.pid_file_fd);
        } else {
            pid_file_ = pid_file::adopt(options_.pid_file, h.pid_file_fd, error);
            if (!pid_file_)
                return false;
        }
    } else if (!options_.pid_file.empty()) {
        pid_file_ = pid_file::acquire(options_.pid_file, error);
        if (!pid_file_)
            return false;
    }
    const auto& wanted = options_.config->listeners;
    for (int fd : h.listener_fds) {
        ::fcntl(fd, F_SETFD, FD_CLOEXEC);
        const config::listen_address* match = nullptr;
        for (const auto& address : wanted) {
            if (sys::socket_matches(fd, address)) {
                match = &address;
                break;
            }
        }
        if (match != nullptr) {
            listeners_.adopt_inherited(*match, fd);
        } else {
            // The configuration on disk no longer lists it; the old workers hold their copies.
            ::close(fd);
        }
    }
    for (const auto& w : h.workers) {
        supervisor_.adopt(w.pid, w.channel_fd, w.generation, w.index, w.draining);
    }
    status_.set_upgrade({h.upgrade_count, true, {}});
    // A drain is ended by a reload, not by an upgrade: a drained instance stays out of its
    // load balancer, and the new workers answer 503 on /health from their first request.
    status_.set_draining(h.draining);
    spdlog::info("bws {} taking over from bws {} (generation {}, {} worker{})", BWS_VERSION,
                 h.from_version, h.generation, h.workers.size(), h.workers.size() == 1 ? "" : "s");
    // A worker that exited between the handover and our SIGCHLD handler is a zombie by now.
    asio::post(ioc_, [this] { supervisor_.reap(); });
    return true;
}

void master::finish_upgrade() {
    reloads_.retire_older_generations();
    std::string message = "upgraded from bws " + handover_->from_version + " to bws " +
                          BWS_VERSION + "; generation " + std::to_string(reloads_.generation()) +
                          " serving";
    spdlog::info("{}", message);
    status_.set_upgrade({status_.upgrade().count + 1, true, message});
    handover_.reset();
}

} // namespace bws::app::detail
