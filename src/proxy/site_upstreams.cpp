// Balancers and idle upstream connections of a site (see site_upstreams.hpp).
#include "proxy/site_upstreams.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

namespace bws::proxy {

namespace {

// An idle connection is usable when reading would block: no EOF, no reset, and no stray
// bytes (which would be the start of a response to nothing).
bool still_open(upstream_connection& c) {
    if (c.buffer.size() > 0)
        return false;
    char byte;
    const auto n = ::recv(c.socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

} // namespace

site_upstreams::site_upstreams(const config::site_proxy& config, std::string_view site,
                               const health_table* table)
    : config_(config), table_(table) {
    balancers_.reserve(config.pools.size());
    idle_.resize(config.pools.size());
    links_.resize(config.pools.size());
    for (std::size_t i = 0; i < config.pools.size(); ++i) {
        const auto& pool = config.pools[i];
        balancers_.emplace_back(pool, config.method);
        idle_[i].resize(pool.servers.size());
        links_[i].resize(pool.servers.size());
        if (table_ == nullptr)
            continue;
        for (std::size_t s = 0; s < pool.servers.size(); ++s) {
            auto& link = links_[i][s];
            link.key = health_table::key_of(site, pool.name, pool.servers[s].url);
            link.slot = table_->find(link.key);
        }
        if (config.health_check.enabled)
            balancers_[i].set_health([this, i](std::size_t s) { return unhealthy(i, s); });
    }
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
        c->socket.close(ec);
    }
    return nullptr;
}

void site_upstreams::put_idle(std::unique_ptr<upstream_connection> c, clock::time_point now) {
    auto& stack = idle_[c->pool][c->server];
    c->idle_since = now;
    c->buffer.clear();
    if (stack.size() >= config_.keepalive) {
        if (config_.keepalive == 0) {
            boost::system::error_code ec;
            c->socket.close(ec);
            return;
        }
        boost::system::error_code ec;
        stack.front()->socket.close(ec);
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
                c->socket.close(ec);
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
