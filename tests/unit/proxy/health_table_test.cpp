// Unit tests for the shared upstream table: rise/fall counting, slots kept by key across
// claims, health read as one word, the address seqlock (a reader in another process never sees
// a torn list), the keep-last-good rule of lookups, and the balancer skipping unhealthy servers.
#include "proxy/address_update.hpp"
#include "proxy/balancer.hpp"
#include "proxy/health_table.hpp"

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

namespace bws::proxy {
namespace {

net::ip_address ip(const char* text) {
    return *net::ip_address::parse(text);
}

TEST(HealthCounter, FallsAfterThresholdFailuresAndRisesAfterThresholdSuccesses) {
    health_counter c;
    EXPECT_EQ(c.state, health_state::unknown);
    EXPECT_FALSE(c.record(false, 3));
    EXPECT_FALSE(c.record(false, 3));
    EXPECT_EQ(c.state, health_state::unknown); // still treated as healthy
    EXPECT_TRUE(c.record(false, 3));
    EXPECT_EQ(c.state, health_state::unhealthy);
    EXPECT_EQ(c.failures, 3u);
    EXPECT_FALSE(c.record(false, 3));
    // Two successes, a failure: the count of successes starts again.
    EXPECT_FALSE(c.record(true, 3));
    EXPECT_FALSE(c.record(true, 3));
    EXPECT_FALSE(c.record(false, 3));
    EXPECT_FALSE(c.record(true, 3));
    EXPECT_FALSE(c.record(true, 3));
    EXPECT_EQ(c.state, health_state::unhealthy);
    EXPECT_TRUE(c.record(true, 3));
    EXPECT_EQ(c.state, health_state::healthy);
    EXPECT_EQ(c.failures, 0u);
    // A failure between successes does not accumulate.
    EXPECT_FALSE(c.record(false, 3));
    EXPECT_FALSE(c.record(true, 3));
    EXPECT_FALSE(c.record(false, 3));
    EXPECT_FALSE(c.record(false, 3));
    EXPECT_EQ(c.state, health_state::healthy);
}

TEST(HealthCounter, FirstSuccessMakesAnUnknownServerHealthy) {
    health_counter c;
    EXPECT_TRUE(c.record(true, 5));
    EXPECT_EQ(c.state, health_state::healthy);
    health_counter one;
    EXPECT_TRUE(one.record(false, 1));
    EXPECT_EQ(one.state, health_state::unhealthy);
    EXPECT_TRUE(one.record(true, 1));
}

TEST(HealthTable, SlotsAreKeptByKeyAndReleased) {
    auto* table = health_table::create();
    ASSERT_NE(table, nullptr);
    const auto a = health_table::key_of("site", "app", "http://a:1");
    const auto b = health_table::key_of("site", "app", "http://b:1");
    EXPECT_NE(a, b);
    EXPECT_NE(health_table::key_of("si", "teapp", "http://a:1"), a); // parts are separated
    const auto sa = table->claim(a);
    const auto sb = table->claim(b);
    ASSERT_NE(sa, health_table::no_slot);
    EXPECT_NE(sa, sb);
    EXPECT_EQ(table->claim(a), sa);
    EXPECT_EQ(table->find(a), sa);

    health_view v;
    v.counter.state = health_state::unhealthy;
    v.counter.failures = 4;
    v.last = check_result::bad_status;
    v.last_status = 503;
    table->publish_health(sa, v);
    auto read = table->health(sa, a);
    EXPECT_EQ(read.counter.state, health_state::unhealthy);
    EXPECT_EQ(read.counter.failures, 4u);
    EXPECT_EQ(read.last, check_result::bad_status);
    EXPECT_EQ(read.last_status, 503u);
    // Another key in that slot (a reader of an older generation): unknown.
    EXPECT_EQ(table->health(sa, b).counter.state, health_state::unknown);

    table->release(sa);
    EXPECT_EQ(table->find(a), health_table::no_slot);
    EXPECT_EQ(table->health(sa, a).counter.state, health_state::unknown);
    const auto again = table->claim(a); // a fresh claim starts unknown
    EXPECT_EQ(table->health(again, a).counter.state, health_state::unknown);
}

TEST(HealthTable, AddressesAreReadOnceWhenTheyChange) {
    auto* table = health_table::create();
    ASSERT_NE(table, nullptr);
    const auto key = health_table::key_of("s", "p", "http://name:80");
    const auto slot = table->claim(key);
    std::uint32_t seen = 0;
    EXPECT_FALSE(table->addresses(slot, key, seen)); // nothing published
    table->publish_addresses(slot, {ip("10.0.0.1"), ip("2001:db8::7")});
    auto got = table->addresses(slot, key, seen);
    ASSERT_TRUE(got);
    ASSERT_EQ(got->size(), 2u);
    EXPECT_EQ((*got)[0], ip("10.0.0.1"));
    EXPECT_EQ((*got)[1], ip("2001:db8::7"));
    EXPECT_FALSE(table->addresses(slot, key, seen)); // unchanged since
    std::vector<net::ip_address> many;
    for (int i = 1; i <= 10; ++i)
        many.push_back(ip(("10.1.0." + std::to_string(i)).c_str()));
    table->publish_addresses(slot, many);
    got = table->addresses(slot, key, seen);
    ASSERT_TRUE(got);
    EXPECT_EQ(got->size(), health_table::max_addresses);
    std::uint32_t other = 0;
    EXPECT_FALSE(table->addresses(slot, key + 1, other)); // not this key's slot
}

TEST(HealthTable, AReaderInAnotherProcessNeverSeesATornList) {
    // The master publishes lists whose addresses all carry the same number (10.N.N.N and
    // 2001:db8::N:N); a forked reader checks every list it gets is of one publication.
    auto* table = health_table::create();
    ASSERT_NE(table, nullptr);
    const auto key = health_table::key_of("s", "p", "http://x");
    const auto slot = table->claim(key);
    table->publish_addresses(slot, {ip("10.0.0.0")});
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        std::uint32_t seen = 0;
        int torn = 0;
        int reads = 0;
        const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(700);
        while (std::chrono::steady_clock::now() < end) {
            auto got = table->addresses(slot, key, seen);
            if (!got)
                continue;
            ++reads;
            if (got->size() != health_table::max_addresses && got->size() != 1)
                ++torn;
            const auto first = (*got)[0].bytes()[1];
            for (const auto& a : *got)
                if (a.bytes()[a.is_v6() ? 15 : 1] != first)
                    ++torn;
        }
        _exit(torn == 0 && reads > 0 ? 0 : 1);
    }
    const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
    unsigned n = 0;
    while (std::chrono::steady_clock::now() < end) {
        n = (n + 1) % 250;
        const auto b = std::to_string(n);
        char hex[8];
        std::snprintf(hex, sizeof hex, "%x", n);
        std::vector<net::ip_address> list;
        for (std::size_t i = 0; i < health_table::max_addresses; ++i)
            list.push_back(i % 2 ? ip(("2001:db8::" + std::string(hex)).c_str())
                                 : ip(("10." + b + "." + b + "." + b).c_str()));
        table->publish_addresses(slot, list);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << "the reader saw a torn list (or none)";
}

TEST(AddressUpdate, AFailedLookupKeepsTheLastGoodAddresses) {
    const std::vector<net::ip_address> current{ip("10.0.0.1"), ip("10.0.0.2")};
    EXPECT_FALSE(updated_addresses(current, {})); // failed or empty: keep
    // The same set in another order (round-robin DNS) is no change.
    EXPECT_FALSE(updated_addresses(current, {ip("10.0.0.2"), ip("10.0.0.1"), ip("10.0.0.1")}));
    auto next = updated_addresses(current, {ip("10.0.0.3"), ip("10.0.0.3"), ip("::1")});
    ASSERT_TRUE(next);
    EXPECT_EQ(*next, (std::vector<net::ip_address>{ip("10.0.0.3"), ip("::1")}));
    EXPECT_TRUE(updated_addresses({}, {ip("10.0.0.1")}));
}

TEST(BalancerHealth, UnhealthyServersAreNeverPicked) {
    config::upstream_pool pool;
    pool.servers.resize(3);
    balancer b(pool, config::balance_method::round_robin);
    std::uint64_t unhealthy = 0b010;
    b.set_health([&](std::size_t i) { return ((unhealthy >> i) & 1) != 0; });
    const auto now = balancer::clock::now();
    for (int k = 0; k < 6; ++k)
        EXPECT_NE(b.pick(0, now).value(), 1u);
    // Even when the others are passively down, an unhealthy server is not the fallback.
    b.failed(0, now);
    b.failed(2, now);
    auto pick = b.pick(0, now);
    ASSERT_TRUE(pick);
    EXPECT_NE(*pick, 1u);
    unhealthy = 0b111;
    EXPECT_FALSE(b.pick(0, now));
    unhealthy = 0;
    EXPECT_EQ(b.pick(0b101, now).value(), 1u);
}

} // namespace
} // namespace bws::proxy
