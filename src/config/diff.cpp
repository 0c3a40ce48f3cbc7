// Comparing two snapshots for the keys only a restart applies.
#include "config/diff.hpp"

#include <algorithm>

namespace bws::config {

namespace {

bool share_a_listener(const snapshot& a, const snapshot& b) {
    return std::any_of(a.listeners.begin(), a.listeners.end(), [&](const listen_address& l) {
        return std::find(b.listeners.begin(), b.listeners.end(), l) != b.listeners.end();
    });
}

} // namespace

std::vector<std::string> restart_required_changes(const snapshot& running, const snapshot& loaded) {
    std::vector<std::string> keys;
    // The master takes its PID file and its daemon mode once, at startup.
    if (running.daemon.pid_file != loaded.daemon.pid_file) {
        keys.emplace_back("[daemon] pid_file");
    }
    if (running.daemon.daemonize != loaded.daemon.daemonize) {
        keys.emplace_back("[daemon] daemonize");
    }
    // A listening socket kept across the reload (so its port never closes) keeps the backlog
    // it was opened with; only newly opened addresses get the new one.
    if (running.server.backlog != loaded.server.backlog && share_a_listener(running, loaded)) {
        keys.emplace_back("[server] backlog");
    }
    // The master opens the management listener once, at startup (api_key applies on reload).
    const auto& a = running.management;
    const auto& b = loaded.management;
    if (a.enabled != b.enabled ||
        (b.enabled && (a.host != b.host || a.port != b.port || a.socket != b.socket))) {
        keys.emplace_back("[management] enabled/host/port/socket");
    }
    return keys;
}

} // namespace bws::config
