// Server choice within a pool (see balancer.hpp).
#include "proxy/balancer.hpp"

namespace bws::proxy {

balancer::balancer(const config::upstream_pool& pool, config::balance_method method)
    : method_(method), servers_(pool.servers.size()) {
    for (std::size_t i = 0; i < servers_.size(); ++i)
        servers_[i].weight = static_cast<int>(pool.servers[i].weight);
}

void balancer::failed(std::size_t i, clock::time_point now) {
    servers_[i].down_until = now + down_time;
    ++servers_[i].failures;
}

std::optional<std::size_t> balancer::pick(std::uint64_t tried, clock::time_point now) {
    const std::size_t n = std::min<std::size_t>(servers_.size(), 64);
    std::uint64_t down = 0;
    for (std::size_t i = 0; i < n; ++i)
        if (servers_[i].down_until > now)
            down |= std::uint64_t{1} << i;
    if (auto i = pick_among(tried | down))
        return i;
    // Every untried server is down: the one whose down time ends first gets a chance.
    std::optional<std::size_t> soonest;
    for (std::size_t i = 0; i < n; ++i) {
        if ((tried >> i) & 1)
            continue;
        if (!soonest || servers_[i].down_until < servers_[*soonest].down_until)
            soonest = i;
    }
    return soonest;
}

std::optional<std::size_t> balancer::pick_among(std::uint64_t excluded) {
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
