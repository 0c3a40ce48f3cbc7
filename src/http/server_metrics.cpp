// The gauges a worker samples into its slot of the shared metrics region (metrics/), next to
// the counters its sessions add as they go.
#include "http/server.hpp"
#include "http/session_base.hpp"
#include "metrics/shared_metrics.hpp"

namespace bws::http {

void server::sample_metrics() const {
    // Once a second from the heartbeat, rather than on every phase change of every session.
    std::int64_t idle = 0;
    for (const auto* s : sessions_)
        idle += s->idle() ? 1 : 0;
    metrics::set_idle_connections(idle);
}

} // namespace bws::http
