// Unit tests for net::rate_limit_table (GCRA with an injected clock): the burst and then one
// request per interval, Retry-After, separate buckets and clients, IPv6 /64 grouping, threads
// and processes never admitting more than allowed, stale slots reused, a full window failing
// open.
#include "net/conn_limit.hpp"
#include "net/rate_limit.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace bws::net {
namespace {

using boost::asio::ip::make_address;

constexpr std::uint64_t second = rate_ticks_per_second;

// Admitted requests out of `n` at the same instant.
int admitted(rate_limit_table& table, std::uint64_t bucket, std::uint64_t client,
             const rate_limit_rule& rule, std::uint64_t now, int n) {
    int ok = 0;
    for (int i = 0; i < n; ++i)
        ok += table.admit(bucket, client, rule, now).verdict == rate_verdict::admitted ? 1 : 0;
    return ok;
}

TEST(RateLimitRule, IntervalAndTolerance) {
    const auto rule = rate_limit_rule::make(60, 5);
    EXPECT_EQ(rule.interval, second);
    EXPECT_EQ(rule.tolerance, 5 * second);
    EXPECT_EQ(rate_limit_rule::make(120, 1).interval, second / 2);
}

TEST(RateLimitTable, AdmitsTheBurstThenOnePerInterval) {
    auto* table = rate_limit_table::create();
    ASSERT_NE(table, nullptr);
    const auto rule = rate_limit_rule::make(60, 5); // one a second, five at once
    const auto client = client_key(make_address("192.0.2.1"));
    const std::uint64_t t0 = 100 * second;
    EXPECT_EQ(admitted(*table, server_rate_bucket, client, rule, t0, 5), 5);
    auto refused = table->admit(server_rate_bucket, client, rule, t0);
    EXPECT_EQ(refused.verdict, rate_verdict::limited);
    EXPECT_EQ(refused.retry_after, second);
    EXPECT_EQ(refused.retry_after_seconds(), 1U);
    // Refused requests cost nothing: still exactly one more after one interval.
    EXPECT_EQ(admitted(*table, server_rate_bucket, client, rule, t0 + second / 2, 3), 0);
    const auto half = table->admit(server_rate_bucket, client, rule, t0 + second / 2);
    EXPECT_EQ(half.retry_after, second / 2);
    EXPECT_EQ(half.retry_after_seconds(), 1U); // rounded up, at least 1
    EXPECT_EQ(admitted(*table, server_rate_bucket, client, rule, t0 + second, 3), 1);
    EXPECT_EQ(admitted(*table, server_rate_bucket, client, rule, t0 + 3 * second, 5), 2);
    // Idle long enough, the whole burst is back.
    EXPECT_EQ(admitted(*table, server_rate_bucket, client, rule, t0 + 60 * second, 9), 5);
}

TEST(RateLimitTable, RetryAfterCountsWholeSeconds) {
    auto* table = rate_limit_table::create();
    ASSERT_NE(table, nullptr);
    const auto rule = rate_limit_rule::make(2, 1); // one every 30 s
    const auto client = client_key(make_address("192.0.2.9"));
    EXPECT_EQ(admitted(*table, server_rate_bucket, client, rule, 0, 1), 1);
    const auto refused = table->admit(server_rate_bucket, client, rule, 10 * second + 1);
    EXPECT_EQ(refused.verdict, rate_verdict::limited);
    EXPECT_EQ(refused.retry_after_seconds(), 20U);
}

TEST(RateLimitTable, BucketsAndClientsAreSeparate) {
    auto* table = rate_limit_table::create();
    ASSERT_NE(table, nullptr);
    const auto rule = rate_limit_rule::make(60, 2);
    const auto a = client_key(make_address("127.0.0.1"));
    const auto b = client_key(make_address("127.0.0.2"));
    EXPECT_EQ(admitted(*table, server_rate_bucket, a, rule, second, 4), 2);
    EXPECT_EQ(admitted(*table, server_rate_bucket, b, rule, second, 4), 2);
    EXPECT_EQ(admitted(*table, rate_bucket("blog"), a, rule, second, 4), 2);
    EXPECT_EQ(rate_bucket("blog"), rate_bucket("blog"));
    EXPECT_NE(rate_bucket("blog"), rate_bucket("shop"));
    EXPECT_NE(rate_bucket(""), server_rate_bucket);
}

TEST(RateLimitTable, GroupsIpv6By64) {
    auto* table = rate_limit_table::create();
    ASSERT_NE(table, nullptr);
    const auto rule = rate_limit_rule::make(60, 3);
    const auto one = client_key(make_address("2001:db8:1:2::1"));
    const auto same64 = client_key(make_address("2001:db8:1:2:aaaa::7"));
    const auto other64 = client_key(make_address("2001:db8:1:3::1"));
    EXPECT_EQ(admitted(*table, server_rate_bucket, one, rule, second, 2), 2);
    EXPECT_EQ(admitted(*table, server_rate_bucket, same64, rule, second, 5), 1);
    EXPECT_EQ(admitted(*table, server_rate_bucket, other64, rule, second, 5), 3);
}

TEST(RateLimitTable, ARateChangeTakesEffectOnTheSameEntry) {
    auto* table = rate_limit_table::create();
    ASSERT_NE(table, nullptr);
    const auto client = client_key(make_address("198.51.100.4"));
    EXPECT_EQ(admitted(*table, server_rate_bucket, client, rate_limit_rule::make(60, 2), 0, 5), 2);
    // A reload that allows a bigger burst: the state is kept, the new tolerance applies.
    EXPECT_EQ(admitted(*table, server_rate_bucket, client, rate_limit_rule::make(60, 4), 0, 5), 2);
}

TEST(RateLimitTable, ThreadsNeverAdmitMoreThanTheBurst) {
    auto* table = rate_limit_table::create();
    ASSERT_NE(table, nullptr);
    const auto rule = rate_limit_rule::make(1, 50);
    const auto client = client_key(make_address("203.0.113.5"));
    std::atomic<int> total{0};
    std::vector<std::thread> threads;
    threads.reserve(8);
    for (int t = 0; t < 8; ++t)
        threads.emplace_back(
            [&] { total += admitted(*table, server_rate_bucket, client, rule, second, 200); });
    for (auto& t : threads)
        t.join();
    EXPECT_EQ(total.load(), 50);
}

TEST(RateLimitTable, ForkedProcessesShareTheLimit) {
    auto* table = rate_limit_table::create();
    ASSERT_NE(table, nullptr);
    const auto rule = rate_limit_rule::make(1, 30);
    const auto client = client_key(make_address("203.0.113.77"));
    std::vector<pid_t> children;
    children.reserve(3);
    for (int p = 0; p < 3; ++p) {
        const pid_t pid = ::fork();
        ASSERT_GE(pid, 0);
        if (pid == 0)
            ::_exit(admitted(*table, server_rate_bucket, client, rule, second, 100));
        children.push_back(pid);
    }
    int total = 0;
    for (const pid_t pid : children) {
        int status = 0;
        ASSERT_EQ(::waitpid(pid, &status, 0), pid);
        ASSERT_TRUE(WIFEXITED(status));
        total += WEXITSTATUS(status);
    }
    EXPECT_EQ(total, 30);
    EXPECT_EQ(admitted(*table, server_rate_bucket, client, rule, second, 1), 0);
}

// Clients whose first probe is `home`, found by trying keys.
std::vector<std::uint64_t> clients_at(std::size_t home, std::size_t n) {
    std::vector<std::uint64_t> found;
    for (std::uint64_t key = 1; found.size() < n; ++key)
        if (rate_limit_table::home_slot(server_rate_bucket, key) == home)
            found.push_back(key);
    return found;
}

TEST(RateLimitTable, FullWindowFailsOpenAndStaleSlotsAreReused) {
    auto* table = rate_limit_table::create();
    ASSERT_NE(table, nullptr);
    const auto rule = rate_limit_rule::make(60, 1);
    const auto keys = clients_at(12345, rate_limit_table::probe_window + 1);
    for (std::size_t i = 0; i < rate_limit_table::probe_window; ++i)
        ASSERT_EQ(admitted(*table, server_rate_bucket, keys[i], rule, 0, 1), 1);
    const auto last = keys.back();
    // Every slot of its window holds a live entry: admitted, untracked, however often.
    for (int i = 0; i < 3; ++i)
        EXPECT_EQ(table->admit(server_rate_bucket, last, rule, second / 2).verdict,
                  rate_verdict::untracked);
    EXPECT_EQ(table->untracked(), 3U);
    // Once those entries' time has passed, their slots take new clients.
    EXPECT_EQ(table->admit(server_rate_bucket, last, rule, second).verdict, rate_verdict::admitted);
    EXPECT_EQ(table->admit(server_rate_bucket, last, rule, second).verdict, rate_verdict::limited);
    EXPECT_EQ(table->untracked(), 3U);
}

TEST(RateLimitTable, RealClockStartsNearZero) {
    auto* table = rate_limit_table::create();
    ASSERT_NE(table, nullptr);
    const auto a = table->now();
    const auto b = table->now();
    EXPECT_LE(a, b);
    EXPECT_LT(b, 60 * second); // the table's own epoch, not the machine's uptime
}

} // namespace
} // namespace bws::net
