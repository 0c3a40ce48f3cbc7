// Unit tests for the balancer: round robin, smooth weighted round robin (exact counts and
// interleaving), least connections, and the passive marking of failed servers.
#include "proxy/balancer.hpp"

#include <gtest/gtest.h>

#include <string>

namespace bws::proxy {
namespace {

using config::balance_method;
using clock = balancer::clock;

config::upstream_pool pool(std::initializer_list<unsigned> weights) {
    config::upstream_pool p;
    for (unsigned w : weights) {
        config::upstream_server s;
        s.weight = w;
        p.servers.push_back(s);
    }
    return p;
}

std::string sequence(balancer& b, int n, clock::time_point now = clock::now()) {
    std::string out;
    for (int i = 0; i < n; ++i)
        out += static_cast<char>('a' + b.pick(0, now).value());
    return out;
}

TEST(Balancer, RoundRobinTakesTurns) {
    balancer b(pool({1, 1, 1}), balance_method::round_robin);
    EXPECT_EQ(sequence(b, 7), "abcabca");
}

TEST(Balancer, SmoothWeightedInterleaves) {
    // nginx's example: weights 5, 1, 1 give "aabacaa" in each cycle of 7, never "aaaaabc".
    balancer b(pool({5, 1, 1}), balance_method::weighted);
    EXPECT_EQ(sequence(b, 14), "aabacaaaabacaa");
}

TEST(Balancer, WeightedCountsAreExact) {
    balancer b(pool({3, 1}), balance_method::weighted);
    const auto s = sequence(b, 400);
    EXPECT_EQ(std::count(s.begin(), s.end(), 'a'), 300);
    EXPECT_EQ(std::count(s.begin(), s.end(), 'b'), 100);
}

TEST(Balancer, LeastConnectionsPicksTheLeastBusy) {
    balancer b(pool({1, 1, 1}), balance_method::least_connections);
    const auto now = clock::now();
    b.started(0);
    b.started(0);
    b.started(1);
    EXPECT_EQ(b.pick(0, now).value(), 2u);
    b.started(2);
    b.started(2);
    EXPECT_EQ(b.pick(0, now).value(), 1u);
    b.finished(0);
    b.finished(0);
    EXPECT_EQ(b.pick(0, now).value(), 0u);
}

TEST(Balancer, LeastConnectionsSpreadsAnIdlePool) {
    balancer b(pool({1, 1}), balance_method::least_connections);
    EXPECT_EQ(sequence(b, 4), "abab");
}

TEST(Balancer, LeastConnectionsHonoursWeights) {
    balancer b(pool({3, 1}), balance_method::least_connections);
    const auto now = clock::now();
    for (int i = 0; i < 2; ++i)
        b.started(0);
    b.started(1);
    EXPECT_EQ(b.pick(0, now).value(), 0u); // 2/3 < 1/1
}

TEST(Balancer, TriedServersAreSkipped) {
    balancer b(pool({1, 1, 1}), balance_method::round_robin);
    const auto now = clock::now();
    EXPECT_EQ(b.pick(0b001, now).value(), 1u);
    EXPECT_EQ(b.pick(0b011, now).value(), 2u);
    EXPECT_FALSE(b.pick(0b111, now));
}

TEST(Balancer, AFailedServerRestsForTheDownTime) {
    balancer b(pool({1, 1}), balance_method::round_robin);
    const auto now = clock::now();
    b.failed(0, now);
    EXPECT_TRUE(b.is_down(0, now));
    EXPECT_EQ(sequence(b, 3, now), "bbb");
    EXPECT_FALSE(b.is_down(0, now + balancer::down_time));
    EXPECT_EQ(sequence(b, 2, now + balancer::down_time), "ab");
    b.failed(1, now);
    b.succeeded(1);
    EXPECT_FALSE(b.is_down(1, now));
}

TEST(Balancer, WhenAllAreDownTheSoonestBackIsTried) {
    balancer b(pool({1, 1}), balance_method::weighted);
    const auto now = clock::now();
    b.failed(1, now);
    b.failed(0, now + std::chrono::seconds(1));
    EXPECT_EQ(b.pick(0, now + std::chrono::seconds(1)).value(), 1u);
    EXPECT_EQ(b.pick(0b10, now + std::chrono::seconds(1)).value(), 0u);
}

config::upstream_pool named_pool(int n) {
    config::upstream_pool p;
    for (int i = 0; i < n; ++i) {
        config::upstream_server s;
        s.url = "http://10.0.0." + std::to_string(i + 1) + ":80";
        p.servers.push_back(s);
    }
    return p;
}

TEST(Balancer, ConsistentHashKeepsAKeyOnOneServer) {
    balancer b(named_pool(3), balance_method::consistent_hash);
    const auto now = clock::now();
    for (const char* key : {"203.0.113.7", "user-42", ""}) {
        const auto first = b.pick(0, now, key).value();
        for (int i = 0; i < 20; ++i)
            EXPECT_EQ(b.pick(0, now, key).value(), first) << key;
    }
    // Another balancer of the same pool (another worker) agrees.
    balancer other(named_pool(3), balance_method::consistent_hash);
    EXPECT_EQ(other.pick(0, now, "user-42"), b.pick(0, now, "user-42"));
}

TEST(Balancer, ConsistentHashSpreadsKeysAndMovesOnlyAFailedServersOnes) {
    balancer b(named_pool(3), balance_method::consistent_hash);
    const auto now = clock::now();
    std::vector<std::size_t> before;
    int counts[3] = {};
    for (int k = 0; k < 3000; ++k) {
        before.push_back(b.pick(0, now, "client-" + std::to_string(k)).value());
        ++counts[before.back()];
    }
    for (int c : counts)
        EXPECT_TRUE(c > 700 && c < 1300) << counts[0] << " " << counts[1] << " " << counts[2];
    b.failed(1, now);
    for (int k = 0; k < 3000; ++k) {
        const auto after = b.pick(0, now, "client-" + std::to_string(k)).value();
        EXPECT_NE(after, 1u);
        if (before[k] != 1) {
            EXPECT_EQ(after, before[k]) << k; // keys of the servers still up stay put
        }
    }
    // A server tried already (a failed connect) is skipped for that request.
    const auto first = b.pick(0, now, "client-1").value();
    EXPECT_NE(b.pick(std::uint64_t{1} << first, now, "client-1").value(), first);
}

} // namespace
} // namespace bws::proxy
