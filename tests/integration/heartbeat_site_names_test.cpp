// Per-site request counters travel from the workers to /health/detailed intact, whatever the
// site names hold (the old text heartbeat split "my site=3" on the space and lost it).
#include "process_harness.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace {

using namespace bws::test::proc;

TEST(HeartbeatSiteNames, NamesWithSpacesAndEqualsSignsAreCountedRight) {
    simple_setup s("main\n", 1);
    s.dir.write("odd/index.html", "odd\n");
    s.dir.write("eq/index.html", "eq\n");
    s.spec.sites[0].name = "my main site";
    s.spec.sites.push_back({"a=b c", "eq.test", s.port, s.dir / "eq", {}});
    s.spec.sites.push_back({"  padded  ", "odd.test", s.port, s.dir / "odd", {}});
    s.save();
    bws_process bws(s.dir, s.config_path);
    ASSERT_TRUE(bws.wait_ready()) << bws.log();
    for (int i = 0; i < 3; ++i) {
        ASSERT_EQ(get(s.port, "/").body, "main\n");
    }
    for (int i = 0; i < 2; ++i) {
        ASSERT_EQ(get(s.port, "/", "eq.test").body, "eq\n");
    }
    ASSERT_EQ(get(s.port, "/", "odd.test").body, "odd\n");

    // The next heartbeat (every second) carries the counters. /health/detailed is itself a
    // request of the default site: count only what came before.
    boost::json::object requests;
    std::string body;
    ASSERT_TRUE(wait_until(
        [&] {
            body = get(s.port, "/health/detailed").body;
            boost::system::error_code ec;
            auto json = boost::json::parse(body, ec);
            if (ec || !json.is_object() || !json.as_object().contains("requests")) {
                return false;
            }
            requests = json.at("requests").as_object();
            return requests.contains("a=b c") && requests.at("a=b c").to_number<long long>() == 2;
        },
        10s))
        << body;
    EXPECT_GE(requests.at("my main site").to_number<long long>(), 3) << body;
    EXPECT_EQ(requests.at("  padded  ").to_number<long long>(), 1) << body;
    EXPECT_EQ(requests.size(), 3u) << body; // no fragments such as "main" or "site"
    // Each worker entry lists its failure counters.
    auto json = boost::json::parse(body).as_object();
    for (const auto& w : json.at("workers").as_array()) {
        EXPECT_TRUE(w.as_object().contains("failures")) << body;
    }
    EXPECT_EQ(bws.stop(), 0);
}

} // namespace
