// Unit tests for net::conn_limit_table: address grouping (/64, IPv4-mapped), the limit, release,
// many threads against one address, a full table, and giving back a dead owner's counts.
#include "net/conn_limit.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace bws::net {
namespace {

using boost::asio::ip::make_address;

TEST(ConnLimitKey, GroupsIpv6By64AndIpv4ByAddress) {
    EXPECT_EQ(client_key(make_address("2001:db8:1:2::1")),
              client_key(make_address("2001:db8:1:2:ffff:ffff:ffff:ffff")));
    EXPECT_NE(client_key(make_address("2001:db8:1:2::1")),
              client_key(make_address("2001:db8:1:3::1")));
    EXPECT_NE(client_key(make_address("127.0.0.1")), client_key(make_address("127.0.0.2")));
    EXPECT_EQ(client_key(make_address("::ffff:192.0.2.7")), client_key(make_address("192.0.2.7")));
    EXPECT_NE(client_key(make_address("::1")), 0U);
    EXPECT_NE(client_key(make_address("0.0.0.0")), 0U);
}

TEST(ConnLimitKey, ParsedAddressesGiveTheSocketAddressesKeys) {
    // The rate limit keys the text address it matched rules against; the connection limit
    // keys the socket's: one client must be one key for both.
    for (const char* text : {"127.0.0.1", "192.0.2.7", "::ffff:192.0.2.7", "::1", "0.0.0.0",
                             "2001:db8:1:2::1", "fe80::1"})
        EXPECT_EQ(client_key(*ip_address::parse(text)), client_key(make_address(text))) << text;
}

TEST(ConnLimitTable, RefusesOverTheLimitAndFreesOnRelease) {
    auto* table = conn_limit_table::create();
    ASSERT_NE(table, nullptr);
    const auto key = client_key(make_address("192.0.2.1"));
    std::vector<conn_ticket> held(3);
    for (auto& t : held)
        EXPECT_EQ(table->admit(key, 3, 0, t), admission::admitted);
    EXPECT_EQ(table->count(key), 3U);
    conn_ticket refused;
    EXPECT_EQ(table->admit(key, 3, 0, refused), admission::over_limit);
    EXPECT_FALSE(refused.counted());
    // Another address is not affected.
    conn_ticket other;
    EXPECT_EQ(table->admit(client_key(make_address("192.0.2.2")), 3, 0, other),
              admission::admitted);
    held.pop_back();
    EXPECT_EQ(table->count(key), 2U);
    EXPECT_EQ(table->admit(key, 3, 0, refused), admission::admitted);
    held.clear();
    refused.release();
    EXPECT_EQ(table->count(key), 0U);
}

TEST(ConnLimitTable, ThreadsNeverExceedTheLimit) {
    auto* table = conn_limit_table::create();
    ASSERT_NE(table, nullptr);
    constexpr std::uint32_t limit = 5;
    const auto key = client_key(make_address("2001:db8::7"));
    std::atomic<int> live{0}, peak{0}, admitted{0}, refused{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 20000; ++i) {
                conn_ticket ticket;
                // Owners 0..7: the columns must add up like the totals.
                if (table->admit(key, limit, t, ticket) == admission::admitted) {
                    int now = ++live;
                    int seen = peak.load();
                    while (now > seen && !peak.compare_exchange_weak(seen, now)) {
                    }
                    ++admitted;
                    --live;
                } else {
                    ++refused;
                }
            }
        });
    }
    for (auto& t : threads)
        t.join();
    EXPECT_LE(peak.load(), static_cast<int>(limit));
    EXPECT_GT(admitted.load(), 0);
    EXPECT_EQ(admitted.load() + refused.load(), 8 * 20000);
    EXPECT_EQ(table->count(key), 0U);
}

TEST(ConnLimitTable, FullTableAdmitsUncounted) {
    auto* table = conn_limit_table::create();
    ASSERT_NE(table, nullptr);
    std::vector<conn_ticket> held;
    held.reserve(conn_limit_table::slot_count + 1000);
    std::size_t full = 0;
    for (std::uint32_t i = 0; i < conn_limit_table::slot_count + 1000; ++i) {
        conn_ticket t;
        auto result =
            table->admit(client_key(boost::asio::ip::address_v4(0x0a000000 + i)), 1, 0, t);
        ASSERT_NE(result, admission::over_limit);
        if (result == admission::table_full) {
            EXPECT_FALSE(t.counted());
            ++full;
        }
        held.push_back(std::move(t));
    }
    // More addresses than slots: some found no slot and were let in.
    EXPECT_GE(full, 1000U);
    held.clear();
    conn_ticket t;
    EXPECT_EQ(table->admit(client_key(make_address("10.255.0.1")), 1, 0, t), admission::admitted);
}

TEST(ConnLimitTable, ReleaseOwnerGivesBackWhatADeadProcessHeld) {
    auto* table = conn_limit_table::create();
    ASSERT_NE(table, nullptr);
    const auto key = client_key(make_address("198.51.100.9"));
    const int dead = table->claim_owner();
    const int alive = table->claim_owner();
    ASSERT_GT(dead, 0);
    ASSERT_GT(alive, 0);
    ASSERT_NE(dead, alive);
    conn_ticket kept;
    ASSERT_EQ(table->admit(key, 10, alive, kept), admission::admitted);
    // A child process (sharing the mapping) takes three connections and dies holding them.
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        for (int i = 0; i < 3; ++i) {
            auto* leaked = new conn_ticket;
            if (table->admit(key, 10, dead, *leaked) != admission::admitted)
                ::_exit(1);
        }
        ::_exit(0);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    EXPECT_EQ(table->count(key), 4U);
    table->release_owner(dead);
    EXPECT_EQ(table->count(key), 1U);
    // The column is free again.
    EXPECT_EQ(table->claim_owner(), dead);
    kept.release();
    EXPECT_EQ(table->count(key), 0U);
}

} // namespace
} // namespace bws::net
