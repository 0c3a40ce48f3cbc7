// /health and /health/detailed bodies.
#include "http/health_json.hpp"

#include <boost/json.hpp>

#include <gtest/gtest.h>

namespace {

using namespace bws::http;

TEST(HealthJson, BasicHasStatusVersionUptimeAndPid) {
    auto body = basic_health_json(42, 1234);
    ASSERT_FALSE(body.empty());
    EXPECT_EQ(body.back(), '\n');
    auto v = boost::json::parse(body).as_object();
    EXPECT_EQ(v.at("status"), "healthy");
    EXPECT_EQ(v.at("version"), BWS_VERSION);
    EXPECT_EQ(v.at("uptime_seconds").to_number<std::int64_t>(), 42);
    EXPECT_EQ(v.at("pid").to_number<long>(), 1234);
}

TEST(HealthJson, DetailedWithoutMasterUsesTheWorkersFacts) {
    worker_health w;
    w.uptime_seconds = 7;
    w.pid = 99;
    w.generation = 3;
    w.connections = 2;
    w.requests = {{"blog", 5}, {"a \"quoted\" site", 1}};
    w.failures = {{"peer_write", 4}};
    auto body = detailed_health_json(nullptr, w);
    EXPECT_EQ(body.back(), '\n');
    auto v = boost::json::parse(body).as_object();
    EXPECT_EQ(v.at("status"), "healthy");
    EXPECT_EQ(v.at("uptime_seconds").to_number<int>(), 7);
    EXPECT_EQ(v.at("generation").to_number<int>(), 3);
    const auto& served = v.at("served_by").as_object();
    EXPECT_EQ(served.at("pid").to_number<int>(), 99);
    EXPECT_EQ(served.at("generation").to_number<int>(), 3);
    EXPECT_EQ(served.at("connections").to_number<int>(), 2);
    EXPECT_EQ(served.at("requests").at("blog").to_number<int>(), 5);
    EXPECT_EQ(served.at("requests").at("a \"quoted\" site").to_number<int>(), 1);
    EXPECT_EQ(served.at("failures").at("peer_write").to_number<int>(), 4);
}

TEST(HealthJson, DetailedKeepsTheMastersViewButOwnsStatusAndVersion) {
    boost::json::object master{{"status", "reloading"},
                               {"version", "old"},
                               {"uptime_seconds", 1000},
                               {"generation", 8},
                               {"workers", 4}};
    worker_health w;
    w.uptime_seconds = 7;
    w.generation = 3;
    auto v = boost::json::parse(detailed_health_json(&master, w)).as_object();
    EXPECT_EQ(v.at("status"), "healthy");
    EXPECT_EQ(v.at("version"), BWS_VERSION);
    EXPECT_EQ(v.at("uptime_seconds").to_number<int>(), 1000);
    EXPECT_EQ(v.at("generation").to_number<int>(), 8);
    EXPECT_EQ(v.at("workers").to_number<int>(), 4);
    EXPECT_TRUE(v.at("served_by").at("failures").as_object().empty());
}

} // namespace

namespace {

// A draining master (`bws -s drain`, a stop's drain_delay) turns both bodies to "draining".
TEST(HealthJson, DrainingSaysSoInBothBodies) {
    auto basic = boost::json::parse(basic_health_json(1, 2, true)).as_object();
    EXPECT_EQ(basic.at("status"), "draining");
    boost::json::object master{{"generation", 4}, {"draining", true}};
    worker_health w;
    w.draining = true;
    auto detailed = boost::json::parse(detailed_health_json(&master, w)).as_object();
    EXPECT_EQ(detailed.at("status"), "draining");
    // Before the master's first view (a worker started during a drain) it says so too.
    detailed = boost::json::parse(detailed_health_json(nullptr, w)).as_object();
    EXPECT_EQ(detailed.at("status"), "draining");
    w.draining = false;
    detailed = boost::json::parse(detailed_health_json(&master, w)).as_object();
    EXPECT_EQ(detailed.at("status"), "healthy");
}

} // namespace

namespace {

// A server of a site with active checks carries the master's result; others do not.
TEST(HealthJson, UpstreamsShowTheActiveCheck) {
    worker_health w;
    upstream_health checked{"main", "app", "http://10.0.0.1:80", false, 0, 2, 0, {}};
    checked.check = upstream_health::active_check{"unhealthy", "status 500", 3, 0};
    w.upstreams.push_back(checked);
    w.upstreams.push_back({"main", "app", "http://10.0.0.2:80", true, 1, 0, 4, {}});
    auto v = boost::json::parse(detailed_health_json(nullptr, w)).as_object();
    const auto& list = v.at("served_by").at("upstreams").as_array();
    ASSERT_EQ(list.size(), 2u);
    const auto& check = list[0].at("health_check").as_object();
    EXPECT_EQ(check.at("state"), "unhealthy");
    EXPECT_EQ(check.at("last_check"), "status 500");
    EXPECT_EQ(check.at("consecutive_failures").to_number<int>(), 3);
    EXPECT_EQ(check.at("consecutive_successes").to_number<int>(), 0);
    EXPECT_EQ(list[0].at("state"), "up");
    EXPECT_FALSE(list[1].as_object().contains("health_check"));
    EXPECT_EQ(list[1].at("state"), "down");
}

} // namespace
