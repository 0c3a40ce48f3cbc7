// The reload state machine: generations of workers, and the steps from one to the next
// (begin, commit, abort, drain of the old generation with its shutdown_timeout kill). It does
// no I/O itself: workers are reached through worker_control, and the master does the rest
// (loading the configuration, state file, sd_notify) through reload_events.
#pragma once

#include "app/control_protocol.hpp"
#include "app/privileges.hpp"
#include "app/status_json.hpp"
#include "app/supervisor.hpp"
#include "app/worker.hpp"
#include "config/model.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <list>
#include <optional>
#include <string>
#include <vector>

namespace bws::app {

// Everything one generation of workers is started with.
struct generation_setup {
    config::snapshot_ptr config;
    worker_identity identity;
    std::vector<inherited_listener> listeners;
    unsigned workers = 1;                  // slots in the generation
    std::vector<std::string> restart_keys; // changed keys a reload cannot apply
};

// The worker table, as the machine needs it (supervisor in the master, a fake in tests).
class worker_control {
public:
    virtual ~worker_control() = default;
    // Starts slot `index` of `generation`; false with `error` set. May fork: in the child it
    // does not return.
    virtual bool spawn_worker(unsigned generation, unsigned index, const generation_setup& setup,
                              std::string& error) = 0;
    virtual std::list<worker_record>& workers() = 0;
    virtual void send(worker_record& worker, control::kind message) = 0;
    virtual void signal(worker_record& worker, int signal_number) = 0;
};

// What the machine asks of the master, and tells it.
class reload_events {
public:
    virtual ~reload_events() = default;
    // Loads and validates the configuration and prepares its generation (listeners, worker
    // identity, logging); nullopt with `error` set when the reload cannot go ahead.
    virtual std::optional<generation_setup> prepare_generation(std::string& error) = 0;
    virtual void reload_started() = 0; // before prepare_generation
    virtual void reload_queued() = 0;  // a request arrived during a reload
    // `next` is now the current generation (the old one is draining).
    virtual void generation_committed(const generation_setup& next) = 0;
    // The pending generation was killed: undo what prepare_generation did.
    virtual void generation_aborted() = 0;
    virtual void reload_finished(bool ok) = 0; // last_reload() says how
};

class reload_machine {
public:
    struct timing {
        clock::duration reload_timeout = std::chrono::seconds(30); // new workers to be ready
    };

    reload_machine(boost::asio::io_context& ioc, worker_control& workers, reload_events& events,
                   timing t);
    reload_machine(const reload_machine&) = delete;
    reload_machine& operator=(const reload_machine&) = delete;

    // The first generation, started by the master itself: 1, or the one after the previous
    // binary's after an upgrade (which also carries its reload count on).
    void start(generation_setup initial, unsigned generation = 1, std::uint64_t reload_count = 0);
    // Drains every worker not of the current generation (the previous binary's, after an
    // upgrade), with the shutdown_timeout kill of a reload.
    void retire_older_generations() { drain_old(generation_); }
    // Startup is over: reloads run from now on (a request queued during startup now).
    void open();
    // Stopping: a pending generation is forgotten (the stop handles its workers) and nothing
    // new starts.
    void close();

    // SIGHUP: a reload now, or after the one in progress (or after startup).
    void request();

    // Call when a worker reports ready; true when that committed the pending generation.
    bool on_worker_ready(const worker_record& worker);
    // Call when a worker has exited (`what` describes how); true when it was a new worker not
    // yet ready, which aborts the reload.
    bool on_worker_exit(const worker_record& worker, const std::string& what);

    unsigned generation() const { return generation_; }
    const generation_setup& current() const { return current_; }
    std::optional<unsigned> pending_generation() const;
    bool queued() const { return queued_; }
    std::uint64_t reload_count() const { return reload_count_; }
    const reload_view& last_reload() const { return last_reload_; }
    unsigned ready_count(unsigned generation) const;

private:
    enum class state { starting, open, closed };
    struct pending {
        unsigned generation = 0;
        generation_setup setup;
    };

    void begin();
    void run_queued();
    void commit();
    void abort(const std::string& reason);
    void finish(bool ok, const std::string& message, std::vector<std::string> restart_keys = {});
    void drain_old(unsigned keep_generation);

    boost::asio::io_context& ioc_;
    worker_control& workers_;
    reload_events& events_;
    timing timing_;
    boost::asio::steady_timer reload_timer_;
    std::list<boost::asio::steady_timer> drain_timers_;
    state state_ = state::starting;
    generation_setup current_;
    unsigned generation_ = 1;
    std::optional<pending> pending_;
    bool queued_ = false;
    std::uint64_t reload_count_ = 0;
    reload_view last_reload_;
};

} // namespace bws::app
