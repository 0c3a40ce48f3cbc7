// The master's side of running workers: their messages, their exits and replacement, the
// once-a-second tick (stuck workers, log rotation, status), the watchdog, log reopening.
#include "app/log_files.hpp"
#include "app/master_process.hpp"
#include "log/environment.hpp"
#include "log/line_file.hpp"
#include "log/setup.hpp"
#include "metrics/shared_metrics.hpp"
#include "sys/notify.hpp"
#include "sys/watchdog.hpp"
#include "tls/ticket_keys.hpp"

#include <spdlog/spdlog.h>

#include <csignal>

namespace bws::app::detail {

void master::on_message(worker_record& worker, const control::message& message) {
    switch (message.kind) {
    case control::kind::ready:
        if (worker.state == worker_state::starting) {
            worker.state = worker_state::ready;
            on_ready(worker);
        }
        break;
    case control::kind::heartbeat:
        worker.counters = message.site_requests;
        worker.failures = message.failures;
        break;
    case control::kind::reopened:
        if (worker.reopen_pending > 0) {
            --worker.reopen_pending;
        }
        check_reopened();
        break;
    case control::kind::drained:
        spdlog::debug("worker {}: drained", worker.pid);
        break;
    default:
        spdlog::warn("worker {}: unexpected control message \"{}\"", worker.pid,
                     control::to_string(message.kind));
        break;
    }
}

void master::on_ready(worker_record& worker) {
    spdlog::debug("worker {} ready (generation {})", worker.pid, worker.generation);
    if (phase_ == phase::starting && worker.generation == reloads_.generation() &&
        reloads_.ready_count(reloads_.generation()) == reloads_.current().workers) {
        on_serving();
    } else if (reloads_.on_worker_ready(worker)) {
        // committed: the new generation serves
    } else if (phase_ == phase::running && worker.generation == reloads_.generation()) {
        spdlog::info("worker {} (slot {}) is serving", worker.pid, worker.index);
    }
    broadcast_status();
}

void master::on_exit(const worker_record& worker, int status) {
    status_.retire(worker);
    auto what = describe_exit(status);
    if (phase_ == phase::stopping || phase_ == phase::stopping_fast || phase_ == phase::done) {
        spdlog::debug("worker {} {}", worker.pid, what);
        check_stopped();
        return;
    }
    if (reloads_.on_worker_exit(worker, what)) {
        return;
    }
    // A worker of the previous binary (upgrade) leaving while this one starts is not a failure.
    if (phase_ == phase::starting && !worker.exit_expected &&
        worker.generation == reloads_.generation()) {
        fail_startup("worker " + std::to_string(worker.pid) + " " + what + " during startup");
        return;
    }
    if (!worker.exit_expected || worker.killed_stuck) {
        if (auto* region = metrics::region::shared()) {
            region->count_worker_crash();
        }
    }
    auto delay =
        health_->on_exit(worker, what, exited_cleanly(status), reloads_.generation(), clock::now());
    if (delay) {
        schedule_respawn(worker.index, *delay);
    }
    broadcast_status();
}

void master::schedule_respawn(unsigned index, clock::duration delay) {
    auto [it, inserted] = respawn_timers_.try_emplace(index, ioc_);
    it->second.expires_after(delay);
    it->second.async_wait([this, index](const boost::system::error_code& ec) {
        if (!ec) {
            respawn(index);
        }
    });
}

void master::respawn(unsigned index) {
    if (phase_ != phase::running || index >= reloads_.current().workers) {
        return;
    }
    for (const auto& w : supervisor_.workers()) {
        if (w.generation == reloads_.generation() && w.index == index && !w.exit_expected) {
            return; // already replaced
        }
    }
    std::string error;
    // A copy: spawn may fork, and the child unwinds past this frame.
    auto setup = reloads_.current();
    if (!spawn_worker(reloads_.generation(), index, setup, error)) {
        spdlog::error("cannot replace worker slot {}: {}; retrying in 1 s", index, error);
        schedule_respawn(index, 1s);
    } else if (auto* region = metrics::region::shared()) {
        region->count_worker_respawn();
    }
}

void master::start_tick() {
    tick_timer_.expires_after(tick_period);
    tick_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) {
            on_tick();
        }
    });
}

void master::on_tick() {
    ++ticks_;
    for (auto* w : health_->take_stuck(supervisor_.workers(), clock::now())) {
        supervisor_.signal(*w, SIGKILL);
    }
    if (!rotation_.check().empty()) {
        rotation_awaiting_reopen_ = true;
        request_reopen();
    }
    check_reopened(); // also counts workers that exited without answering
    if (tls::rotate_shared_ticket_keys_when_due(std::chrono::steady_clock::now()))
        spdlog::info("TLS session ticket keys rotated (the previous key still decrypts)");
    broadcast_status();
    if (phase_ == phase::running && !reloads_.pending_generation() &&
        ticks_ % status_every_ticks == 0) {
        sys::notify(
            sys::status_message(status_line(status_.view(supervisor_.workers(), reloads_))));
    }
    start_tick();
}

void master::start_watchdog() {
    if (!watchdog_) {
        return;
    }
    watchdog_timer_.expires_after(sys::watchdog_ping_period(*watchdog_));
    watchdog_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec) {
            return;
        }
        if (health_->heartbeats_fresh(supervisor_.workers(), clock::now())) {
            sys::notify(sys::watchdog_message());
        } else {
            spdlog::warn("watchdog: a worker's heartbeat is stale; not pinging systemd");
        }
        start_watchdog();
    });
}

void master::request_reopen() {
    log::reopen_all();
    // Files recreated by the master's reopen (or by a rotation) belong to root until handed over.
    hand_log_files_to_workers(log_files(current_config()), reloads_.current().identity);
    for (auto& w : supervisor_.workers()) {
        supervisor_.send(w, control::kind::reopen);
        ++w.reopen_pending;
    }
}

void master::check_reopened() {
    if (!rotation_awaiting_reopen_) {
        return;
    }
    for (const auto& w : supervisor_.workers()) {
        if (w.reopen_pending > 0) {
            return;
        }
    }
    rotation_awaiting_reopen_ = false;
    rotation_.reopen_complete();
}

std::vector<std::filesystem::path> master::log_files(const config::snapshot& config) const {
    return log::rotation_coordinator::watched_files(config, log::environment::from_process());
}

void master::configure_logging(const config::snapshot& config) {
    log::setup(config.logging, {.verbose = options_.verbose, .role = "master"});
    rotation_.reconfigure(log::rotation_policy::from(config.logging), log_files(config));
}

} // namespace bws::app::detail
