// Server choice within a pool (see balancer.hpp).
#include "proxy/balancer.hpp"

#include "net/hash_mix.hpp"

#include <algorithm>
#include <string>

namespace bws::proxy {

namespace {

// FNV-1a then a final mix (splitmix64): stable across processes and builds, so every worker
// (and the next binary after an upgrade) sends a key to the same server.
std::uint64_t hash64(std::string_view text) {
    std::uint64_t h = 1469598103934665603ull;
    for (unsigned char c : text) {
        h ^= c;
        h *= 1099511628211ull;
    }
    return net::hash_mix(h);
}

} // namespace

balancer::balancer(const config::upstream_pool& pool, config::balance_method method)
    : method_(method), servers_(pool.servers.size()) {
    for (std::size_t i = 0; i < servers_.size(); ++i)
        servers_[i].weight = static_cast<int>(pool.servers[i].weight);
    if (method_ == config::balance_method::consistent_hash) {
        // Points named after the server's URL, so a server keeps its keys when others are
        // added or removed from the list.
        for (std::size_t i = 0; i < servers_.size(); ++i)
            for (unsigned p = 0; p < points_per_weight * pool.servers[i].weight; ++p)
                ring_.emplace_back(hash64(pool.servers[i].url + "#" + std::to_string(p)), i);
        std::sort(ring_.begin(), ring_.end());
    }
}

void balancer::failed(std::size_t i, clock::time_point now) {
    servers_[i].down_until = now + down_time;
    ++servers_[i].failures;
}

std::optional<std::size_t> balancer::pick(std::uint64_t tried, clock::time_point now,
                                          std::string_view key) {
    const std::size_t n = std::min<std::size_t>(servers_.size(), 64);
    std::uint64_t down = 0;
    std::uint64_t unhealthy = 0;
    for (std::size_t i = 0; i < n; ++i) {
        if (servers_[i].down_until > now)
            down |= std::uint64_t{1} << i;
        if (is_unhealthy(i))
            unhealthy |= std::uint64_t{1} << i;
    }
    if (auto i = pick_among(tried | down | unhealthy, key))
        return i;
    // Every untried server is down: the one whose down time ends first gets a chance.
    std::optional<std::size_t> soonest;
    for (std::size_t i = 0; i < n; ++i) {
        if (((tried | unhealthy) >> i) & 1)
            continue;
        if (!soonest || servers_[i].down_until < servers_[*soonest].down_until)
            soonest = i;
    }
    return soonest;
}

std::optional<std::size_t> balancer::pick_among(std::uint64_t excluded, std::string_view key) {
    const std::size_t n = std::min<std::size_t>(servers_.size(), 64);
    auto usable = [&](std::size_t i) { return ((excluded >> i) & 1) == 0; };
    switch (method_) {
    case config::balance_method::round_robin:
        for (std::size_t k = 0; k < n; ++k) {
            const std::size_t i = (next_ + k) % n;
            if (usable(i)) {
                next_ = (i + 1) % n;
                return i;
            }
        }
        return std::nullopt;
    case config::balance_method::weighted: {
        // Smooth weighted round robin: every usable server gains its weight, the one with the
        // most goes and pays back the total. Over sum(weights) picks each server is chosen
        // exactly weight times, interleaved.
        int total = 0;
        std::optional<std::size_t> best;
        for (std::size_t i = 0; i < n; ++i) {
            if (!usable(i))
                continue;
            servers_[i].current += servers_[i].weight;
            total += servers_[i].weight;
            if (!best || servers_[i].current > servers_[*best].current)
                best = i;
        }
        if (best)
            servers_[*best].current -= total;
        return best;
    }
    case config::balance_method::consistent_hash: {
        if (ring_.empty())
            return std::nullopt;
        const auto h = hash64(key);
        auto it = std::lower_bound(ring_.begin(), ring_.end(),
                                   std::pair<std::uint64_t, std::size_t>{h, 0});
        for (std::size_t k = 0; k < ring_.size(); ++k, ++it) {
            if (it == ring_.end())
                it = ring_.begin();
            if (usable(it->second))
                return it->second;
        }
        return std::nullopt;
    }
    case config::balance_method::least_connections: {
        // Fewest active requests relative to weight; ties go round robin, so an idle pool
        // still spreads its requests.
        std::optional<std::size_t> best;
        for (std::size_t k = 0; k < n; ++k) {
            const std::size_t i = (next_ + k) % n;
            if (!usable(i))
                continue;
            if (!best ||
                static_cast<std::uint64_t>(servers_[i].active) * servers_[*best].weight <
                    static_cast<std::uint64_t>(servers_[*best].active) * servers_[i].weight)
                best = i;
        }
        if (best)
            next_ = (*best + 1) % n;
        return best;
    }
    }
    return std::nullopt;
}

} // namespace bws::proxy
