// --config-check's log path checks: missing directories and non-files are reported, nothing is
// created.
#include "log/path_check.hpp"
#include "log_test_support.hpp"

#include <gtest/gtest.h>

namespace bws::log {
namespace {

TEST(LogPathCheck, ReportsUnusablePathsWithoutCreatingFiles) {
    test::temp_dir dir;
    config::snapshot s;
    s.sites.resize(2);
    s.logging.output = config::log_output::file;
    s.logging.file_path = dir / "bws.log";
    s.logging.error_log = dir / "missing" / "error.log";
    s.sites[1].access_log = dir.path(); // a directory
    EXPECT_EQ(check_log_paths(s, {}).size(), 2u);
    const auto problems = check_log_paths(s, {});
    ASSERT_EQ(problems.size(), 2u);
    EXPECT_NE(problems[0].find("error log"), std::string::npos) << problems[0];
    EXPECT_NE(problems[0].find("No such file or directory"), std::string::npos) << problems[0];
    EXPECT_NE(problems[1].find("is a directory"), std::string::npos) << problems[1];
    EXPECT_FALSE(std::filesystem::exists(dir / "bws.log"));
    EXPECT_FALSE(std::filesystem::exists(dir / "access.log"));

    s.logging.error_log.clear();
    s.sites[1].access_log.reset();
    EXPECT_TRUE(check_log_paths(s, {}).empty());
    environment env;
    env.bws_log_file = (dir / "nowhere" / "bws.log").string();
    EXPECT_EQ(check_log_paths(s, env).size(), 2u); // server log and the access log beside it
}

} // namespace
} // namespace bws::log
