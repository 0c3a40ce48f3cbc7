// The status JSON for /health/detailed and the STATUS= line.
#include "app/status_json.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace {

using namespace bws::app;

master_view sample() {
    master_view v;
    v.master_pid = 100;
    v.generation = 3;
    v.workers = {{101, 3, "ready", {}}, {102, 2, "draining", {}}};
    v.reload_count = 2;
    v.last_reload.time = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));
    v.last_reload.ok = false;
    v.last_reload.message = "invalid configuration: x.toml:3:1: boom";
    v.site_requests = {{"main", 10}, {"blog", 5}};
    v.site_count = 2;
    v.listener_count = 1;
    v.uptime = std::chrono::seconds(42);
    v.version = "0.1.0";
    return v;
}

TEST(StatusJson, AllFields) {
    auto json = boost::json::parse(status_json(sample())).as_object();
    EXPECT_EQ(json.at("master_pid").to_number<long long>(), 100);
    EXPECT_EQ(json.at("generation").to_number<long long>(), 3);
    auto& workers = json.at("workers").as_array();
    ASSERT_EQ(workers.size(), 2u);
    EXPECT_EQ(workers[0].at("pid").to_number<long long>(), 101);
    EXPECT_EQ(workers[0].at("generation").to_number<long long>(), 3);
    EXPECT_EQ(workers[0].at("state").as_string(), "ready");
    EXPECT_EQ(workers[1].at("state").as_string(), "draining");
    EXPECT_EQ(json.at("reload_count").to_number<long long>(), 2);
    auto& last = json.at("last_reload").as_object();
    EXPECT_EQ(last.at("time").as_string(), "2023-11-14T22:13:20Z");
    EXPECT_EQ(last.at("result").as_string(), "failed");
    EXPECT_EQ(last.at("message").as_string(), "invalid configuration: x.toml:3:1: boom");
    EXPECT_EQ(json.at("requests").at("main").to_number<long long>(), 10);
    EXPECT_EQ(json.at("requests").at("blog").to_number<long long>(), 5);
    EXPECT_EQ(json.at("requests_total").to_number<long long>(), 15);
    EXPECT_EQ(json.at("uptime_seconds").to_number<long long>(), 42);
    EXPECT_EQ(json.at("version").as_string(), "0.1.0");
    EXPECT_EQ(json.at("draining").as_bool(), false);
}

TEST(StatusJson, DrainingShowsInTheViewAndTheStatusLine) {
    auto view = sample();
    view.draining = true;
    EXPECT_EQ(boost::json::parse(status_json(view)).at("draining").as_bool(), true);
    EXPECT_EQ(status_line(view), "draining (/health answers 503); serving 2 sites on 1 listener, "
                                 "2 workers, generation 3, 15 requests");
}

TEST(StatusJson, NoReloadYet) {
    auto v = sample();
    v.last_reload = {};
    auto json = boost::json::parse(status_json(v)).as_object();
    EXPECT_TRUE(json.at("last_reload").at("time").is_null());
    EXPECT_EQ(json.at("last_reload").at("result").as_string(), "none");
}

TEST(StatusJson, StatusLine) {
    EXPECT_EQ(status_line(sample()),
              "serving 2 sites on 1 listener, 2 workers, generation 3, 15 requests");
    master_view one;
    one.site_count = 1;
    one.listener_count = 2;
    one.workers = {{1, 1, "ready", {}}};
    one.generation = 1;
    one.site_requests = {{"a", 1}};
    EXPECT_EQ(status_line(one), "serving 1 site on 2 listeners, 1 worker, generation 1, 1 request");
}

TEST(StatusJson, Rfc3339) {
    EXPECT_EQ(rfc3339(std::chrono::system_clock::time_point{}), "1970-01-01T00:00:00Z");
}

} // namespace

namespace {

using namespace bws::app;

TEST(StatusJson, WorkerFailuresAndRestartKeys) {
    auto v = sample();
    v.workers[0].failures = {{"peer", 3}, {"filesystem", 1}};
    v.last_reload.ok = true;
    v.last_reload.restart_needed = {"[daemon] pid_file", "[server] backlog"};
    auto json = boost::json::parse(status_json(v)).as_object();
    auto& workers = json.at("workers").as_array();
    EXPECT_EQ(workers[0].at("failures").at("peer").to_number<long long>(), 3);
    EXPECT_EQ(workers[0].at("failures").at("filesystem").to_number<long long>(), 1);
    EXPECT_TRUE(workers[1].at("failures").as_object().empty());
    auto& keys = json.at("last_reload").at("restart_needed").as_array();
    ASSERT_EQ(keys.size(), 2u);
    EXPECT_EQ(keys[0].as_string(), "[daemon] pid_file");
}

TEST(StatusJson, ReloadStatusLine) {
    auto v = sample();
    EXPECT_EQ(reload_status_line(v), "reload #2 failed: invalid configuration: x.toml:3:1: boom; "
                                     "serving 2 sites on 1 listener, 2 workers, generation 3, "
                                     "15 requests");
    v.last_reload.ok = true;
    EXPECT_EQ(reload_status_line(v).rfind("reload #2 ok; serving 2 sites", 0), 0u);
    v.last_reload.restart_needed = {"[daemon] pid_file", "[daemon] daemonize"};
    EXPECT_EQ(reload_status_line(v).rfind("reload #2 ok; restart needed to apply [daemon] "
                                          "pid_file, [daemon] daemonize; serving 2 sites",
                                          0),
              0u);
}

} // namespace
