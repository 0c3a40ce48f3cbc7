// The master's watch over upstream servers: active health checks ([sites.proxy.health_check])
// and periodic lookups of their host names ([sites.proxy] resolve_interval), once for the whole
// server, on the master's io_context with non-blocking sockets and asio's resolver, never in a
// worker. Results go to the shared health_table, which every worker's balancer reads.
#pragma once

#include "config/model.hpp"
#include "proxy/health_table.hpp"

#include <boost/asio/io_context.hpp>

#include <memory>
#include <vector>

namespace bws::proxy {

class upstream_monitor {
public:
    upstream_monitor(boost::asio::io_context& ioc, health_table* table);
    ~upstream_monitor();
    upstream_monitor(const upstream_monitor&) = delete;
    upstream_monitor& operator=(const upstream_monitor&) = delete;

    // Before the workers of `config` are forked: a slot for each of its servers (a server
    // that stays, same site, pool and url, keeps its slot and so its health), holding the
    // addresses the loader just resolved.
    void prepare(const config::snapshot& config);
    // `config` is what the workers serve now: slots of servers it lacks are given back, its
    // servers are checked and looked up from now on. Also after a failed reload, with the
    // configuration that stays.
    void commit(const config::snapshot_ptr& config);
    // Stops every check and lookup (a stop of the server).
    void stop();

    struct target;

private:
    boost::asio::io_context& ioc_;
    health_table* table_;
    config::snapshot_ptr config_; // what the targets point into
    std::vector<std::shared_ptr<target>> targets_;
};

} // namespace bws::proxy
