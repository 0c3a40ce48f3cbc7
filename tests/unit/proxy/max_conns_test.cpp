// Unit tests for max_conns in site_upstreams: connections counted in the shared table (so
// every worker sees them), a full server reported to the balancer's caller, an idle
// connection closed to make room, and the count given back when a connection goes away.
#include "proxy/site_upstreams.hpp"

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace bws::proxy {
namespace {

config::site_proxy capped_proxy(unsigned cap) {
    config::site_proxy p;
    config::upstream_pool pool;
    pool.name = "app";
    for (int i = 0; i < 2; ++i) {
        config::upstream_server s;
        s.url = "http://127.0.0.1:" + std::to_string(9000 + i);
        s.max_conns = i == 0 ? cap : 0; // the second server has no cap
        pool.servers.push_back(s);
    }
    p.pools.push_back(pool);
    return p;
}

std::unique_ptr<upstream_connection> connection(boost::asio::io_context& io, net::conn_ticket t) {
    auto c = std::make_unique<upstream_connection>(io.get_executor());
    c->ticket = std::move(t);
    return c;
}

TEST(MaxConns, AServerAtItsCapIsFull) {
    ASSERT_NE(net::conn_limit_table::shared(), nullptr);
    const auto config = capped_proxy(2);
    site_upstreams ups(config, "max-conns-full");
    net::conn_ticket a, b, c;
    EXPECT_EQ(ups.admit(0, 0, a), room::yes);
    EXPECT_EQ(ups.full_servers(0), 0u);
    EXPECT_EQ(ups.admit(0, 0, b), room::yes);
    EXPECT_EQ(ups.full_servers(0), 1u); // server 0 only: server 1 has no cap
    EXPECT_EQ(ups.admit(0, 0, c), room::full);
    EXPECT_FALSE(c.counted());
    a.release();
    EXPECT_EQ(ups.full_servers(0), 0u);
    EXPECT_EQ(ups.admit(0, 0, c), room::yes);
    EXPECT_EQ(ups.admit(0, 1, a), room::yes); // uncapped
    EXPECT_FALSE(a.counted());
}

TEST(MaxConns, TheCountIsSharedByEverySiteUpstreamsOfTheSite) {
    // Two workers (or generations) build their own site_upstreams of one site: one count.
    const auto config = capped_proxy(1);
    site_upstreams first(config, "max-conns-shared");
    site_upstreams second(config, "max-conns-shared");
    site_upstreams other_site(config, "max-conns-other");
    net::conn_ticket a, b;
    EXPECT_EQ(first.admit(0, 0, a), room::yes);
    EXPECT_EQ(second.admit(0, 0, b), room::full);
    EXPECT_EQ(second.full_servers(0), 1u);
    EXPECT_EQ(other_site.admit(0, 0, b), room::yes);
}

TEST(MaxConns, AnIdleConnectionMakesRoom) {
    boost::asio::io_context io;
    const auto config = capped_proxy(1);
    site_upstreams ups(config, "max-conns-idle");
    const auto now = std::chrono::steady_clock::now();
    net::conn_ticket t;
    ASSERT_EQ(ups.admit(0, 0, t), room::yes);
    auto c = connection(io, std::move(t));
    c->pool = 0;
    c->server = 0;
    ups.put_idle(std::move(c), now);
    // An idle connection here can be reused: the server does not count as full.
    EXPECT_EQ(ups.full_servers(0), 0u);
    // A request that needs a new one gets the idle one's place.
    net::conn_ticket fresh;
    EXPECT_EQ(ups.admit(0, 0, fresh), room::yes);
    EXPECT_TRUE(fresh.counted());
    EXPECT_EQ(ups.idle_count(0, 0), 0u);
    EXPECT_EQ(ups.full_servers(0), 1u);
}

} // namespace
} // namespace bws::proxy
