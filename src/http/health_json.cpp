// /health and /health/detailed bodies (see health_json.hpp).
#include "http/health_json.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

namespace bws::http {

std::string basic_health_json(std::int64_t uptime_seconds, long pid, bool draining) {
    return fmt::format(R"({{"status":"{}","version":"{}","uptime_seconds":{},"pid":{}}})"
                       "\n",
                       draining ? "draining" : "healthy", BWS_VERSION, uptime_seconds, pid);
}

std::string detailed_health_json(const boost::json::object* master, const worker_health& worker) {
    boost::json::object object;
    if (master != nullptr)
        object = *master;
    object["status"] = worker.draining ? "draining" : "healthy";
    object["version"] = BWS_VERSION;
    if (!object.contains("uptime_seconds"))
        object["uptime_seconds"] = worker.uptime_seconds;
    if (!object.contains("generation"))
        object["generation"] = worker.generation;
    // The master's counters (in "requests") lag by up to a heartbeat; this worker's own are
    // exact.
    boost::json::object requests;
    for (const auto& [site, count] : worker.requests)
        requests[site] = count;
    boost::json::object failures;
    for (const auto& [category, count] : worker.failures)
        failures[category] = count;
    boost::json::object served{{"pid", worker.pid},
                               {"generation", worker.generation},
                               {"connections", worker.connections},
                               {"requests", std::move(requests)},
                               {"failures", std::move(failures)}};
    if (!worker.upstreams.empty()) {
        boost::json::array upstreams;
        for (const auto& u : worker.upstreams) {
            boost::json::object entry{{"site", u.site},        {"pool", u.pool},
                                      {"url", u.url},          {"state", u.down ? "down" : "up"},
                                      {"active", u.active},    {"idle", u.idle},
                                      {"failures", u.failures}};
            if (u.check)
                entry["health_check"] =
                    boost::json::object{{"state", u.check->state},
                                        {"last_check", u.check->last},
                                        {"consecutive_failures", u.check->failures},
                                        {"consecutive_successes", u.check->successes}};
            upstreams.push_back(std::move(entry));
        }
        served["upstreams"] = std::move(upstreams);
    }
    object["served_by"] = std::move(served);
    auto out = boost::json::serialize(object);
    out += '\n';
    return out;
}

} // namespace bws::http
