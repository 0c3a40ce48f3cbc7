// The master's view of the server as JSON (what workers serve at /health/detailed) and as the
// one-line STATUS= text for systemd.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace bws::app {

struct worker_view {
    pid_t pid = 0;
    unsigned generation = 0;
    std::string state;                             // "starting", "ready", "draining"
    std::map<std::string, std::uint64_t> failures; // per category, from its heartbeats
};

struct reload_view {
    std::optional<std::chrono::system_clock::time_point> time; // nullopt: no reload yet
    bool ok = true;
    std::string message;
    std::vector<std::string> restart_needed; // changed keys the reload could not apply
};

struct master_view {
    pid_t master_pid = 0;
    unsigned generation = 0;
    std::vector<worker_view> workers;
    std::uint64_t reload_count = 0;
    reload_view last_reload;
    std::map<std::string, std::uint64_t> site_requests;
    std::size_t site_count = 0;
    std::size_t listener_count = 0;
    std::chrono::seconds uptime{0};
    std::string version;
    bool draining = false; // `bws -s drain` or a graceful stop's drain_delay: /health says 503
};

// RFC 3339 UTC with seconds: "2024-05-01T12:00:00Z".
std::string rfc3339(std::chrono::system_clock::time_point time);

// {"master_pid":..,"generation":..,"workers":[{"pid":..,"generation":..,"state":"..",
//  "failures":{"category":n,...}}],"reload_count":..,"last_reload":{"time":..|null,
//  "result":"ok"|"failed"|"none","message":"..","restart_needed":["[daemon] pid_file",...]},
//  "requests":{"site":n,...},"requests_total":n,"uptime_seconds":..,"version":"..",
//  "draining":bool}
std::string status_json(const master_view& view);

// "serving 3 sites on 2 listeners, 4 workers, generation 2, 1234 requests", after
// "draining (/health answers 503); " while draining.
std::string status_line(const master_view& view);

// STATUS= after a reload: "reload #2 ok; serving ...", "reload #2 ok; restart needed to apply
// [daemon] pid_file; serving ...", "reload #2 failed: WHY; serving ...".
std::string reload_status_line(const master_view& view);

} // namespace bws::app
