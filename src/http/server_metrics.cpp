// The worker's side of the shared metrics region (metrics/): the gauges it samples into its
// slot, next to the counters its sessions add as they go, and the [sites.metrics] endpoint,
// which sums every slot as the management API's /metrics does.
#include "http/server.hpp"
#include "http/session_base.hpp"
#include "metrics/exposition.hpp"
#include "metrics/shared_metrics.hpp"

#include <ctime>

namespace bws::http {

void server::sample_metrics() const {
    // Once a second from the heartbeat, rather than on every phase change of every session.
    std::int64_t idle = 0;
    for (const auto* s : sessions_)
        idle += s->idle() ? 1 : 0;
    metrics::set_idle_connections(idle);
}

response server::metrics_response(std::string_view accept) const {
    const auto f = metrics::negotiate(accept);
    const auto* region = metrics::region::shared();
    response r;
    r.set_header("Content-Type", std::string(metrics::content_type(f)));
    r.set_header("Cache-Control", "no-store");
    body_piece body;
    body.bytes = metrics::render(region != nullptr ? region->scrape() : metrics::totals{}, f,
                                 static_cast<std::uint64_t>(std::time(nullptr)));
    r.body.push_back(std::move(body));
    return r;
}

} // namespace bws::http
