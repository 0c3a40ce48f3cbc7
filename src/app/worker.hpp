// A worker process: serves traffic on listening sockets it inherited from the master until it
// is told to drain or stop. Also used in-process by tests and single-process mode.
//
// Control channel: an AF_UNIX SOCK_SEQPACKET socketpair; the messages and their framing are in
// control_protocol.hpp.
// EOF on the channel means the master is gone: the worker drains and exits.
// Signals have the same meaning when sent directly: SIGTERM shutdown, SIGINT/SIGQUIT stop,
// SIGUSR1 reopen.
#pragma once

#include "config/model.hpp"

#include <vector>

namespace bws::app {

struct inherited_listener {
    config::listen_address address;
    int fd = -1; // bound, listening, non-blocking
};

struct worker_context {
    config::snapshot_ptr config;
    std::vector<inherited_listener> listeners;
    int control_fd = -1; // -1: no master (single-process mode)
    unsigned generation = 1;
    unsigned index = 0;
    bool draining = false; // started during a drain: /health answers 503 from the first request
};

// Runs the event loop until drained or stopped; returns the process exit code.
int worker_main(const worker_context& context);

} // namespace bws::app
