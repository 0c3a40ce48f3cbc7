// Balancers and idle upstream connections of a site (see site_upstreams.hpp).
#include "proxy/site_upstreams.hpp"

#include <algorithm>
#include <functional>
#include <string>

namespace bws::proxy {

namespace {

// An idle connection is usable when reading would block: no EOF, no reset, and no stray
// bytes (which would be the start of a response to nothing).
bool still_open(upstream_connection& c) {
    return c.buffer.size() == 0 && c.stream.still_open();
}

// The max_conns table key of a server: fffe::/16 is unassigned IPv6 space and ffff:: holds
// the IPv4 keys, so no client address (net::client_key) shares the table's slots with it.
std::uint64_t server_key(std::string_view site, const std::string& pool,
                         const config::upstream_server& server) {
    const std::string identity = std::string(site) + '\0' + pool + '\0' + server.url;
    const std::uint64_t hash = std::hash<std::string>{}(identity);
    return 0xfffe'0000'0000'0000ULL | (hash & 0x0000'ffff'ffff'ffffULL);
}

} // namespace

site_upstreams::site_upstreams(const config::site_proxy& config, std::string_view site,
                               const health_table* table)
    : config_(config), table_(table) {
    balancers_.reserve(config.pools.size());
    idle_.resize(config.pools.size());
    links_.resize(config.pools.size());
    keys_.resize(config.pools.size());
    bool any_tls = false;
    for (std::size_t i = 0; i < config.pools.size(); ++i) {
        const auto& pool = config.pools[i];
        balancers_.emplace_back(pool, config.method);
        idle_[i].resize(pool.servers.size());
        links_[i].resize(pool.servers.size());
        for (std::size_t s = 0; s < pool.servers.size(); ++s) {
            keys_[i].push_back(server_key(site, pool.name, pool.servers[s]));
            any_tls = any_tls || pool.servers[s].transport == config::upstream_transport::tls;
            if (table_ != nullptr) {
                auto& link = links_[i][s];
                link.key = health_table::key_of(site, pool.name, pool.servers[s].url);
                link.slot = table_->find(link.key);
            }
        }
        if (table_ != nullptr && config.health_check.enabled)
            balancers_[i].set_health([this, i](std::size_t s) { return unhealthy(i, s); });
    }
    if (any_tls)
        tls_ = std::make_unique<upstream_tls>(config);
}

std::uint64_t site_upstreams::full_servers(std::size_t pool) const {
    const auto& servers = config_.pools[pool].servers;
    auto* table = net::conn_limit_table::shared();
    std::uint64_t full = 0;
    for (std::size_t i = 0; i < servers.size(); ++i)
        if (table != nullptr && servers[i].max_conns > 0 && idle_[pool][i].empty() &&
            table->count(keys_[pool][i]) >= servers[i].max_conns)
            full |= std::uint64_t{1} << i;
    return full;
}

room site_upstreams::admit(std::size_t pool, std::size_t server, net::conn_ticket& ticket) {
    const unsigned cap = config_.pools[pool].servers[server].max_conns;
    auto* table = net::conn_limit_table::shared();
    if (cap == 0 || table == nullptr)
        return room::yes;
    const int owner = net::conn_limit_table::current_owner();
    const auto limit = std::min<std::uint32_t>(cap, net::conn_limit_table::max_limit);
    for (int attempt = 0; attempt < 2; ++attempt) {
        if (table->admit(keys_[pool][server], limit, owner, ticket) != net::admission::over_limit)
            return room::yes; // counted, or uncounted when the table is full
        auto& stack = idle_[pool][server];
        if (stack.empty())
            break;
        // The oldest idle connection gives its place (destroying it releases its ticket).
        boost::system::error_code ec;
        stack.front()->stream.close(ec);
        stack.erase(stack.begin());
    }
    return room::full;
}

const std::vector<net::ip_address>& site_upstreams::addresses(std::size_t pool,
                                                              std::size_t server) {
    auto& link = links_[pool][server];
    if (table_ != nullptr && link.slot != health_table::no_slot)
        if (auto fresh = table_->addresses(link.slot, link.key, link.sequence))
            link.addresses = std::move(*fresh);
    return link.addresses ? *link.addresses : config_.pools[pool].servers[server].addresses;
}

std::optional<health_view> site_upstreams::active_health(std::size_t pool,
                                                         std::size_t server) const {
    const auto& link = links_[pool][server];
    if (!config_.health_check.enabled || table_ == nullptr || link.slot == health_table::no_slot)
        return std::nullopt;
    return table_->health(link.slot, link.key);
}

bool site_upstreams::unhealthy(std::size_t pool, std::size_t server) const {
    const auto& link = links_[pool][server];
    // One atomic load of the slot's health word (and one of its key).
    return table_ != nullptr && link.slot != health_table::no_slot &&
           table_->health(link.slot, link.key).counter.state == health_state::unhealthy;
}

std::unique_ptr<upstream_connection> site_upstreams::take_idle(std::size_t pool, std::size_t server,
                                                               clock::time_point now, bool verify) {
    auto& stack = idle_[pool][server];
    while (!stack.empty()) {
        auto c = std::move(stack.back());
        stack.pop_back();
        if (now - c->idle_since < idle_timeout && (!verify || still_open(*c))) {
            c->reused = true;
            return c;
        }
        boost::system::error_code ec;
        c->stream.close(ec);
    }
    return nullptr;
}

void site_upstreams::put_idle(std::unique_ptr<upstream_connection> c, clock::time_point now) {
    auto& stack = idle_[c->pool][c->server];
    c->idle_since = now;
    c->buffer.clear();
    c->stream.release_idle_buffers();
    if (stack.size() >= config_.keepalive) {
        if (config_.keepalive == 0) {
            boost::system::error_code ec;
            c->stream.close(ec);
            return;
        }
        boost::system::error_code ec;
        stack.front()->stream.close(ec);
        stack.erase(stack.begin());
    }
    stack.push_back(std::move(c));
}

void site_upstreams::prune(clock::time_point now) {
    for (auto& pool : idle_)
        for (auto& stack : pool)
            std::erase_if(stack, [&](const std::unique_ptr<upstream_connection>& c) {
                if (now - c->idle_since < idle_timeout)
                    return false;
                boost::system::error_code ec;
                c->stream.close(ec);
                return true;
            });
}

std::size_t site_upstreams::idle_count() const {
    std::size_t n = 0;
    for (const auto& pool : idle_)
        for (const auto& stack : pool)
            n += stack.size();
    return n;
}

} // namespace bws::proxy
