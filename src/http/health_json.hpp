// The bodies of /health and /health/detailed, built from facts the server gathers, so their
// shape can be tested without a server.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace boost::json {
class object;
} // namespace boost::json

namespace bws::http {

// {"status":"healthy","version":...,"uptime_seconds":...,"pid":...} and a newline; "draining"
// instead of "healthy" while the master drains (the response is then a 503).
std::string basic_health_json(std::int64_t uptime_seconds, long pid, bool draining = false);

// One upstream server as this worker sees it (its balancer and idle connections).
struct upstream_health {
    std::string site;
    std::string pool;
    std::string url;
    bool down = false; // marked down after a failed connection (passive health)
    unsigned active = 0;
    std::size_t idle = 0;
    std::uint64_t failures = 0;
    // The master's active health check, for sites that have one.
    struct active_check {
        std::string state;      // "unknown" (no result yet), "healthy", "unhealthy"
        std::string last;       // "ok", "status 500", "timeout", "connection refused", ...
        unsigned failures = 0;  // consecutive failed checks
        unsigned successes = 0; // consecutive passed checks
    };
    std::optional<active_check> check;
};

// What this worker knows for /health/detailed.
struct worker_health {
    std::int64_t uptime_seconds = 0;
    long pid = 0;
    unsigned generation = 0;
    std::size_t connections = 0;
    std::vector<std::pair<std::string, std::uint64_t>> requests; // site -> requests, exact
    std::map<std::string, std::uint64_t> failures;               // failure_funnel::counts()
    bool draining = false; // the master drains (its view, or the launch context before it)
    std::vector<upstream_health> upstreams;
};

// The master's view (`master`, may be null) with status ("healthy", or "draining" when
// `worker.draining`) and version set, uptime and generation
// filled in when the master did not give them, and this worker's own facts under "served_by"
// ({"pid","generation","connections","requests":{site:n},"failures":{category:n}}, and for
// sites that proxy "upstreams":[{"site","pool","url","state","active","idle","failures"}], with
// "health_check":{"state","last_check","consecutive_failures","consecutive_successes"} where
// the site has active checks); a
// newline ends it.
std::string detailed_health_json(const boost::json::object* master, const worker_health& worker);

} // namespace bws::http
