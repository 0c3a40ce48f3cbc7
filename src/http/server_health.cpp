// The worker's side of /health and /health/detailed: its own figures (uptime, connections,
// requests, failures, upstream state) merged with the master's latest status.
#include "http/health_json.hpp"
#include "http/server.hpp"
#include "proxy/site_upstreams.hpp"

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include <unistd.h>

namespace bws::http {

namespace {

upstream_health::active_check active_check_of(const proxy::health_view& h) {
    upstream_health::active_check c;
    c.state = std::string(proxy::to_string(h.counter.state));
    c.last = h.last == proxy::check_result::bad_status ? "status " + std::to_string(h.last_status)
                                                       : std::string(proxy::to_string(h.last));
    c.failures = h.counter.failures;
    c.successes = h.counter.successes;
    return c;
}

} // namespace

response server::health_response(bool detailed) {
    response r;
    r.set_header("Content-Type", "application/json");
    r.set_header("Cache-Control", "no-store");
    auto uptime = std::chrono::duration_cast<std::chrono::seconds>(clock::now() - started_).count();
    body_piece body;
    // Draining: a load balancer's check fails, so it sends no new clients; requests that
    // still come are served as usual.
    if (health_draining_)
        r.status = 503;
    if (!detailed) {
        body.bytes = basic_health_json(uptime, ::getpid(), health_draining_);
    } else {
        worker_health worker;
        worker.uptime_seconds = uptime;
        worker.pid = ::getpid();
        worker.generation = generation_;
        worker.connections = sessions_.size();
        worker.requests = site_counters();
        worker.failures = failure_counts();
        worker.draining = health_draining_;
        const auto now = clock::now();
        for (const auto& site : sites_) {
            if (!site.upstreams)
                continue;
            const auto& pools = site.config->proxy->pools;
            for (std::size_t p = 0; p < pools.size(); ++p) {
                auto& balancer = site.upstreams->pool(p);
                for (std::size_t i = 0; i < pools[p].servers.size(); ++i) {
                    worker.upstreams.push_back({site.config->name,
                                                pools[p].name,
                                                pools[p].servers[i].url,
                                                balancer.is_down(i, now),
                                                balancer.active(i),
                                                site.upstreams->idle_count(p, i),
                                                balancer.failures(i),
                                                {}});
                    if (auto h = site.upstreams->active_health(p, i))
                        worker.upstreams.back().check = active_check_of(*h);
                }
            }
        }
        body.bytes = detailed_health_json(master_status_.get(), worker);
    }
    r.body.push_back(std::move(body));
    return r;
}

std::vector<std::pair<std::string, std::uint64_t>> server::site_counters() const {
    std::vector<std::pair<std::string, std::uint64_t>> out;
    for (const auto& site : sites_)
        out.emplace_back(site.config->name, site.requests);
    return out;
}

void server::set_master_status(const std::string& json) {
    // Parsed here, once per update, rather than on every /health/detailed request.
    boost::system::error_code ec;
    auto parsed = boost::json::parse(json, ec);
    if (ec || !parsed.is_object()) {
        spdlog::warn("ignoring malformed status from the master: {}",
                     ec ? ec.message() : "not an object");
        return;
    }
    master_status_ = std::make_unique<boost::json::object>(std::move(parsed.as_object()));
    const auto* draining = master_status_->if_contains("draining");
    health_draining_ = draining != nullptr && draining->is_bool() && draining->get_bool();
}

} // namespace bws::http
