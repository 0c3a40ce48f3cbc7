// Building and publishing the master's status.
#include "app/master_status.hpp"

#include "app/reload_state.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

namespace bws::app {

master_status::master_status(std::filesystem::path state_file)
    : state_file_(std::move(state_file)) {}

void master_status::retire(const worker_record& worker) {
    for (const auto& [site, n] : worker.counters) {
        retired_counters_[site] += n;
    }
}

master_view master_status::view(const std::list<worker_record>& workers,
                                const reload_machine& reloads) const {
    const auto& config = *reloads.current().config;
    master_view v;
    v.master_pid = getpid();
    v.generation = reloads.generation();
    v.site_requests = retired_counters_;
    for (const auto& w : workers) {
        v.workers.push_back({w.pid, w.generation, to_string(w.state), w.failures});
        for (const auto& [site, n] : w.counters) {
            v.site_requests[site] += n;
        }
    }
    v.reload_count = reloads.reload_count();
    v.last_reload = reloads.last_reload();
    v.site_count = config.sites.size();
    v.listener_count = config.listeners.size();
    v.uptime = std::chrono::duration_cast<std::chrono::seconds>(clock::now() - started_);
    v.version = BWS_VERSION;
    v.draining = draining_;
    return v;
}

void master_status::broadcast(supervisor& workers, const reload_machine& reloads) const {
    auto frame = control::encode_status(status_json(view(workers.workers(), reloads)));
    if (!frame) {
        spdlog::debug("status view exceeds a control frame; not sent to the workers");
        return;
    }
    for (auto& w : workers.workers()) {
        workers.send_frame(w, *frame);
    }
}

void master_status::write_state(const reload_machine& reloads, bool reloading) const {
    if (state_file_.empty()) {
        return;
    }
    reload_state state;
    state.pid = getpid();
    state.generation = reloads.generation();
    state.reload_count = reloads.reload_count();
    state.reloading = reloading;
    state.last_ok = reloads.last_reload().ok;
    state.message = reloads.last_reload().message;
    state.upgrade_count = upgrade_.count;
    state.upgrade_ok = upgrade_.ok;
    state.upgrade_message = upgrade_.message;
    std::string error;
    if (!write_reload_state(state_file_, state, error)) {
        spdlog::error("{}", error);
    }
}

void master_status::remove_state() const {
    if (!state_file_.empty()) {
        std::error_code ec;
        std::filesystem::remove(state_file_, ec);
    }
}

} // namespace bws::app
