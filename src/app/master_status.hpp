// What the master tells the world about itself: the status view (JSON for /health/detailed,
// broadcast to every worker), the STATUS= text for systemd and the reload state file that
// `bws --reload` reads. Built from the worker table and the reload machine.
#pragma once

#include "app/reload_machine.hpp"
#include "app/status_json.hpp"
#include "app/supervisor.hpp"

#include <filesystem>
#include <list>

namespace bws::app {

class master_status {
public:
    // `state_file` empty: no PID file, so no state file either.
    explicit master_status(std::filesystem::path state_file);

    // A worker left the table: its request counts stay in the totals.
    void retire(const worker_record& worker);

    master_view view(const std::list<worker_record>& workers, const reload_machine& reloads) const;

    // The status frame, sent to every worker (a view too large for a frame is not sent).
    void broadcast(supervisor& workers, const reload_machine& reloads) const;

    // Rewrites the state file; `reloading`: a reload is running or queued.
    void write_state(const reload_machine& reloads, bool reloading) const;
    void remove_state() const;

    // Draining: /health answers 503 in every worker (they learn it from the broadcast view).
    void set_draining(bool draining) { draining_ = draining; }

    // The outcome of the last binary upgrade, for the state file (`bws -s upgrade` waits on it).
    struct upgrade_outcome {
        std::uint64_t count = 0; // finished upgrades, carried across the re-executions
        bool ok = true;
        std::string message;
    };
    void set_upgrade(upgrade_outcome outcome) { upgrade_ = std::move(outcome); }
    const upgrade_outcome& upgrade() const { return upgrade_; }
    bool draining() const { return draining_; }

private:
    std::filesystem::path state_file_;
    bool draining_ = false;
    upgrade_outcome upgrade_;
    std::map<std::string, std::uint64_t> retired_counters_;
    clock::time_point started_ = clock::now();
};

} // namespace bws::app
