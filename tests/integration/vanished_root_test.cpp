// A site's static_dir removed, recreated or renamed while bws runs: 404 (not a crash) while it is
// gone, with one error line; /health unaffected; the same worker serves a recreated directory
// without a reload; a renamed directory keeps being served (the root holds the directory).
#include "process_harness.hpp"

#include <gtest/gtest.h>

namespace {

using namespace bws::test::proc;

std::size_t count(const std::string& text, const std::string& needle) {
    std::size_t n = 0;
    for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
        ++n;
    return n;
}

TEST(VanishedRoot, RemovedRootIs404UntilRecreatedSameWorker) {
    simple_setup s("before\n", 1);
    s.dir.write("www/page.txt", "page\n");
    bws_process bws(s.dir, s.config_path);
    ASSERT_TRUE(bws.wait_ready()) << bws.log();
    ASSERT_EQ(get(s.port, "/").body, "before\n");
    const std::vector<pid_t> workers = bws.workers();
    ASSERT_EQ(workers.size(), 1u);

    fs::remove_all(s.dir / "www");
    // The worker's file cache may answer from memory until it revalidates (after 1 s).
    EXPECT_TRUE(wait_until([&] { return get(s.port, "/").status == 404; }, 5s));
    EXPECT_TRUE(wait_until([&] { return get(s.port, "/page.txt").status == 404; }, 5s));
    EXPECT_EQ(get(s.port, "/missing.txt").status, 404);
    EXPECT_EQ(get(s.port, "/health").status, 200);
    const std::string removed = "site main: static_dir " + (s.dir / "www").string() +
                                " was removed; answering 404 until it is back";
    EXPECT_TRUE(wait_until([&] { return count(bws.log(), removed) > 0; }, 3s)) << bws.log();
    EXPECT_EQ(count(bws.log(), removed), 1u) << "said once, not per request";
    EXPECT_EQ(bws.workers(), workers);

    // A deploy puts a new directory at the configured path: served at once, no reload.
    s.dir.write("www/index.html", "after\n");
    const auto r = get(s.port, "/");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "after\n");
    EXPECT_NE(bws.log().find("site main: static_dir " + (s.dir / "www").string() + " is back"),
              std::string::npos)
        << bws.log();
    EXPECT_EQ(get(s.port, "/page.txt").status, 404);
    EXPECT_EQ(bws.workers(), workers);
    EXPECT_EQ(bws.stop(), 0);
}

TEST(VanishedRoot, RenamedRootIsStillServedUntilReload) {
    simple_setup s("original\n", 1);
    bws_process bws(s.dir, s.config_path);
    ASSERT_TRUE(bws.wait_ready()) << bws.log();
    ASSERT_EQ(get(s.port, "/").body, "original\n");
    const std::vector<pid_t> workers = bws.workers();

    // The documented behaviour (docs/configuration.md, static_dir): the root is the directory
    // opened at start or reload, wherever it moves; a new directory at the path needs a reload.
    fs::rename(s.dir / "www", s.dir / "www.old");
    s.dir.write("www/index.html", "replacement\n");
    // Past the cache's revalidation interval the answer still comes from the moved directory.
    std::this_thread::sleep_for(1100ms);
    EXPECT_EQ(get(s.port, "/").body, "original\n");
    EXPECT_EQ(bws.workers(), workers);

    ASSERT_EQ(kill(bws.pid(), SIGHUP), 0);
    EXPECT_TRUE(wait_until([&] { return get(s.port, "/").body == "replacement\n"; }, 10s))
        << bws.log();
    EXPECT_EQ(bws.stop(), 0);
}

} // namespace
