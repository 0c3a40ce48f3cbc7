// The worker table: forking workers, their control channels, reaping them. Policy (when to
// spawn, drain, kill or replace) belongs to the master; this file only does the mechanics.
#pragma once

#include "app/control_protocol.hpp"
#include "app/privileges.hpp"
#include "app/worker.hpp"
#include "config/model.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace bws::app {

using clock = std::chrono::steady_clock;

enum class worker_state { starting, ready, draining };
const char* to_string(worker_state state);

struct worker_record {
    pid_t pid = 0;
    unsigned generation = 0;
    unsigned index = 0; // slot within the generation, kept by replacements
    worker_state state = worker_state::starting;
    clock::time_point spawned;
    clock::time_point last_heartbeat; // any message counts; spawn time until the first one
    control::counters counters;       // requests per site, from heartbeats
    control::counters failures;       // failures per category, from heartbeats
    bool exit_expected = false;       // drain/stop sent or killed on purpose: no replacement
    bool killed_stuck = false;        // killed for a stale heartbeat: replace it
    unsigned reopen_pending = 0;      // "reopen" messages not yet answered with "reopened"
    int limit_owner = -1;             // its column in the per-address connection table
    std::size_t metrics_slot = 0;     // its slot in the shared metrics (0: none of its own)
    std::unique_ptr<boost::asio::posix::stream_descriptor> channel;
    control::decoder decoder; // frames from the worker
};

// Everything a freshly forked worker needs once the master's state is gone.
struct worker_launch {
    worker_context context;
    worker_identity identity;
    std::filesystem::path working_directory;
    pid_t master_pid = 0;
};

// Thrown in the child right after fork, so the stack unwinds out of the master's io_context
// (none of its handlers ever run in a worker) and run_master can destroy the master state
// before calling worker_main.
struct become_worker {
    worker_launch launch;
};

// In the child: resets signals and environment, drops privileges, changes directory, sets the
// title, runs worker_main. Returns the exit code for _exit.
int run_worker_child(const worker_launch& launch);

class supervisor {
public:
    struct callbacks {
        std::function<void(worker_record&, const control::message&)> on_message;
        // The record has already left the table.
        std::function<void(const worker_record&, int wait_status)> on_exit;
    };

    supervisor(boost::asio::io_context& ioc, callbacks cb);
    supervisor(const supervisor&) = delete;
    supervisor& operator=(const supervisor&) = delete;

    // Forks a worker. In the master, returns its record, or null with `error` set. In the
    // child, never returns: throws become_worker.
    worker_record* spawn(worker_launch launch, std::string& error);
    // A worker of the previous image of this process (binary upgrade): still our child, its
    // control channel `channel_fd` left open across execve. Returns its record.
    worker_record& adopt(pid_t pid, int channel_fd, unsigned generation, unsigned index,
                         bool draining);

    // Best effort: a message to a worker whose channel is full or closed is dropped (the
    // worker is then either exiting or stuck, and the heartbeat check handles the latter).
    bool send(worker_record& worker, control::kind message);
    // An encoded frame (control::encode_*), e.g. one status frame sent to every worker.
    bool send_frame(worker_record& worker, std::string_view frame);
    void signal(worker_record& worker, int signal_number);

    // Collects every exited child (call on SIGCHLD).
    void reap();

    std::list<worker_record>& workers() { return workers_; }
    worker_record* find(pid_t pid);

private:
    void start_read(pid_t pid);
    void on_readable(pid_t pid);
    // Hands every complete frame buffered for `pid` to on_message; false once it is gone.
    bool deliver(pid_t pid);

    boost::asio::io_context& ioc_;
    callbacks cb_;
    std::list<worker_record> workers_;
    std::vector<char> read_buffer_ = std::vector<char>(control::max_frame_bytes);
};

} // namespace bws::app
