// Generations and reloads: begin, commit, abort, drain.
#include "app/reload_machine.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <csignal>

namespace bws::app {

namespace asio = boost::asio;

namespace {

// "30 s", or "200 ms" for what is not whole seconds.
std::string describe(clock::duration d) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
    return ms % 1000 == 0 ? std::to_string(ms / 1000) + " s" : std::to_string(ms) + " ms";
}

} // namespace

reload_machine::reload_machine(asio::io_context& ioc, worker_control& workers,
                               reload_events& events, timing t)
    : ioc_(ioc), workers_(workers), events_(events), timing_(t), reload_timer_(ioc) {}

void reload_machine::start(generation_setup initial, unsigned generation,
                           std::uint64_t reload_count) {
    current_ = std::move(initial);
    generation_ = generation;
    reload_count_ = reload_count;
}

void reload_machine::open() {
    if (state_ != state::starting) {
        return;
    }
    state_ = state::open;
    if (queued_) {
        asio::post(ioc_, [this] { run_queued(); });
    }
}

void reload_machine::close() {
    state_ = state::closed;
    pending_.reset();
    queued_ = false;
    reload_timer_.cancel();
}

void reload_machine::request() {
    if (state_ == state::starting) {
        queued_ = true;
        return;
    }
    if (state_ != state::open) {
        return;
    }
    if (pending_) {
        spdlog::info("a reload is in progress; the new one will follow it");
        queued_ = true;
        events_.reload_queued();
        return;
    }
    begin();
}

void reload_machine::run_queued() {
    if (queued_ && state_ == state::open && !pending_) {
        begin();
    }
}

std::optional<unsigned> reload_machine::pending_generation() const {
    if (!pending_) {
        return std::nullopt;
    }
    return pending_->generation;
}

unsigned reload_machine::ready_count(unsigned generation) const {
    unsigned n = 0;
    for (const auto& w : workers_.workers()) {
        if (w.generation == generation && w.state == worker_state::ready) {
            ++n;
        }
    }
    return n;
}

void reload_machine::begin() {
    queued_ = false;
    events_.reload_started();
    std::string error;
    auto setup = events_.prepare_generation(error);
    if (!setup) {
        finish(false, error);
        return;
    }
    pending_ = pending{generation_ + 1, std::move(*setup)};
    unsigned count = pending_->setup.workers;
    spdlog::info("starting generation {} ({} worker{})", pending_->generation, count,
                 count == 1 ? "" : "s");
    reload_timer_.expires_after(timing_.reload_timeout);
    reload_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec && pending_) {
            abort("the new workers did not report ready within " +
                  describe(timing_.reload_timeout));
        }
    });
    for (unsigned i = 0; i < count; ++i) {
        // Copies: spawn may fork, and an exit seen during it may abort and reset pending_.
        auto generation = pending_->generation;
        auto setup_copy = pending_->setup;
        if (!workers_.spawn_worker(generation, i, setup_copy, error)) {
            abort("cannot start a worker: " + error);
            return;
        }
        if (!pending_) {
            return;
        }
    }
}

bool reload_machine::on_worker_ready(const worker_record& worker) {
    if (!pending_ || worker.generation != pending_->generation ||
        ready_count(pending_->generation) != pending_->setup.workers) {
        return false;
    }
    commit();
    return true;
}

bool reload_machine::on_worker_exit(const worker_record& worker, const std::string& what) {
    if (!pending_ || worker.generation != pending_->generation || worker.exit_expected) {
        return false;
    }
    spdlog::error("new worker {} {} before it was ready", worker.pid, what);
    abort("a new worker " + what);
    return true;
}

void reload_machine::drain_old(unsigned keep_generation) {
    std::vector<pid_t> draining;
    for (auto& w : workers_.workers()) {
        if (w.generation != keep_generation && w.state != worker_state::draining) {
            workers_.send(w, control::kind::drain);
            w.state = worker_state::draining;
            w.exit_expected = true;
            draining.push_back(w.pid);
        }
    }
    // Old workers get the old configuration's shutdown_timeout: it is what they were started
    // with and what their clients were promised.
    auto& timer = drain_timers_.emplace_back(ioc_, current_.config->server.shutdown_timeout);
    auto timer_it = std::prev(drain_timers_.end());
    timer.async_wait([this, draining, timer_it](const boost::system::error_code& ec) {
        if (ec) {
            return;
        }
        for (auto& w : workers_.workers()) {
            if (std::find(draining.begin(), draining.end(), w.pid) != draining.end()) {
                spdlog::warn("old worker {} still running after shutdown_timeout; killing it",
                             w.pid);
                workers_.signal(w, SIGKILL);
            }
        }
        drain_timers_.erase(timer_it);
    });
}

void reload_machine::commit() {
    reload_timer_.cancel();
    auto next = std::move(*pending_);
    pending_.reset();
    drain_old(next.generation);
    current_ = std::move(next.setup);
    generation_ = next.generation;
    events_.generation_committed(current_);
    std::string message = "generation " + std::to_string(generation_) + " serving";
    if (!current_.restart_keys.empty()) {
        std::string keys;
        for (const auto& key : current_.restart_keys) {
            spdlog::warn("{} changed: only a restart applies it", key);
            keys += (keys.empty() ? "" : ", ") + key;
        }
        message += "; restart needed to apply " + keys;
    }
    finish(true, message, current_.restart_keys);
}

void reload_machine::abort(const std::string& reason) {
    reload_timer_.cancel();
    if (pending_) {
        for (auto& w : workers_.workers()) {
            if (w.generation == pending_->generation) {
                w.exit_expected = true;
                workers_.signal(w, SIGKILL);
            }
        }
        pending_.reset();
    }
    events_.generation_aborted();
    finish(false, reason);
}

void reload_machine::finish(bool ok, const std::string& message,
                            std::vector<std::string> restart_keys) {
    ++reload_count_;
    last_reload_ =
        reload_view{std::chrono::system_clock::now(), ok, message, std::move(restart_keys)};
    if (ok) {
        spdlog::info("reload #{} ok: {}", reload_count_, message);
    } else {
        spdlog::error("reload #{} failed: {}; still serving generation {}", reload_count_, message,
                      generation_);
    }
    events_.reload_finished(ok);
    if (queued_) {
        asio::post(ioc_, [this] { run_queued(); });
    }
}

} // namespace bws::app
