// The master's internals, shared by master.cpp (phases, signals, startup, reloads, stop) and
// master_workers.cpp (messages from workers, exits and replacement, ticks, watchdog, log
// reopening). Not for use outside the master.
#pragma once

#include "app/daemonize.hpp"
#include "app/listener_table.hpp"
#include "app/management_server.hpp"
#include "app/master.hpp"
#include "app/master_status.hpp"
#include "app/pidfile.hpp"
#include "app/reload_machine.hpp"
#include "app/supervisor.hpp"
#include "app/upgrade_handover.hpp"
#include "app/worker_health.hpp"
#include "log/rotation.hpp"
#include "proxy/upstream_monitor.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace bws::app::detail {

using namespace std::chrono_literals;

inline constexpr clock::duration startup_timeout = 30s;
inline constexpr clock::duration fast_stop_grace = 2s;
inline constexpr clock::duration tick_period = 1s;
inline constexpr unsigned status_every_ticks = 5; // STATUS= refresh

// [server] workers, or one per CPU this process may run on.
unsigned worker_count(const config::snapshot& config);

enum class phase { starting, running, stopping, stopping_fast, done };

namespace asio = boost::asio;

class master final : private worker_control, private reload_events {
public:
    master(const master_options& options, daemon_report report,
           log::rotation_coordinator& rotation);
    // Returns the exit code; in a forked worker returns with `child` set instead.
    int run(std::optional<worker_launch>& child);

private:
    bool start(std::string& error);

    // worker_control
    bool spawn_worker(unsigned generation, unsigned index, const generation_setup& setup,
                      std::string& error) override;
    std::list<worker_record>& workers() override { return supervisor_.workers(); }
    void send(worker_record& worker, control::kind message) override {
        supervisor_.send(worker, message);
    }
    void signal(worker_record& worker, int signal_number) override {
        supervisor_.signal(worker, signal_number);
    }

    // reload_events
    std::optional<generation_setup> prepare_generation(std::string& error) override;
    void reload_started() override;
    void reload_queued() override { status_.write_state(reloads_, true); }
    void generation_committed(const generation_setup& next) override;
    void generation_aborted() override;
    void reload_finished(bool ok) override;

    void wait_signals();
    void on_signal(int signal_number);

    void on_message(worker_record& worker, const control::message& message);
    void on_ready(worker_record& worker);
    void on_exit(const worker_record& worker, int status);
    void schedule_respawn(unsigned index, clock::duration delay);
    void respawn(unsigned index);

    void on_serving();
    void fail_startup(const std::string& reason);

    void begin_stop(bool fast);
    void check_stopped();

    // Load-balancer drain (master_drain.cpp): /health answers 503 "draining" in every worker
    // while everything else is served. `bws -s drain` (SIGWINCH) starts it, a successful
    // reload ends it; a graceful stop with [server] drain_delay drains that long first.
    void start_drain(const std::string& why);
    void end_drain_after_reload();
    // SIGTERM: a graceful stop, after the drain delay when one is configured.
    void request_graceful_stop();

    // Zero-downtime binary upgrade (master_upgrade.cpp). SIGUSR2 (`bws -s upgrade`): the new
    // binary at the same path is checked (`--config-check`), then this process re-executes it
    // keeping its PID, PID file lock, listening sockets and workers; the new image starts its
    // generation and drains the old workers once it serves. A binary that fails the check, or
    // an execve that fails, leaves this image serving and says why.
    void start_upgrade();
    void fail_upgrade(const std::string& why);
    // In the new image, from start(): takes the PID file, sockets and workers over.
    bool adopt_handover(const upgrade_handover& handover, std::string& error);
    // In the new image, once its own workers serve: the old ones drain, the outcome is logged.
    void finish_upgrade();

    void start_tick();
    void on_tick();
    void start_watchdog();

    void broadcast_status() { status_.broadcast(supervisor_, reloads_); }

    // Log files: size rotation is decided here; every process then reopens by name, and a
    // rotated file is compressed only once every worker has confirmed ("reopened").
    void request_reopen();
    void check_reopened();
    void configure_logging(const config::snapshot& config);
    std::vector<std::filesystem::path> log_files(const config::snapshot& config) const;

    const config::snapshot& current_config() const { return *reloads_.current().config; }

    // Management API (master_management.cpp): opened at startup when [management] enabled.
    bool start_management(const worker_identity& identity, std::string& error);
    void on_management(const management_request& request, management_server::responder done);
    void request_reload_for_api(management_server::responder done);
    void answer_reload_waiters(bool ok);
    management_reply check_config_file() const;
    // Names every site of `config` in the shared metrics region (before workers are forked).
    static void register_metrics_sites(const config::snapshot& config);
    // The reload's generation could not even be prepared (its configuration is invalid, a
    // port cannot be opened...): the reasons, for the API's 422.
    std::optional<generation_setup> load_generation(std::string& error);

    master_options options_;
    asio::io_context ioc_; // first member: destroyed last
    asio::signal_set signals_;
    asio::steady_timer tick_timer_;
    asio::steady_timer watchdog_timer_;
    asio::steady_timer startup_timer_;
    asio::steady_timer stop_timer_;
    std::map<unsigned, asio::steady_timer> respawn_timers_;
    // Upstream health checks and lookups, once for all workers (shared memory mapped here,
    // before the first fork).
    proxy::upstream_monitor upstreams_{ioc_, proxy::health_table::shared()};
    listener_table listeners_;
    supervisor supervisor_;
    reload_machine reloads_;
    master_status status_;
    std::optional<worker_health> health_;
    std::optional<pid_file> pid_file_;
    daemon_report report_;
    log::rotation_coordinator& rotation_;
    bool rotation_awaiting_reopen_ = false;

    phase phase_ = phase::starting;
    bool stopping_announced_ = false;
    std::optional<upgrade_handover> handover_; // set while this image takes over from the last
    bool stop_after_drain_ = false; // a graceful stop waits for the drain delay (stop_timer_)
    int exit_code_ = 0;
    std::optional<std::chrono::microseconds> watchdog_;
    unsigned ticks_ = 0;
    std::unique_ptr<management_server> management_;
    std::vector<management_server::responder> reload_waiters_;
    std::vector<std::string> reload_rejections_; // set when prepare_generation failed
};

} // namespace bws::app::detail
