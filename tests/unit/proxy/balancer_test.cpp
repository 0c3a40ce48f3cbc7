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

} // namespace
} // namespace bws::proxy
