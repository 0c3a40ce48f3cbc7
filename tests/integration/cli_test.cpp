// The command line as a user runs it: --config-check, config discovery, `bws DIR`, --help,
// --version and usage errors.
#include "harness.hpp"

#include <gtest/gtest.h>

#include <fmt/format.h>

using namespace bws::test;

namespace {

TEST(Cli, VersionAndHelp) {
    bws_process p;
    EXPECT_EQ(p.run({"--version"}), 0);
    EXPECT_NE(p.out().find("bws " BWS_VERSION), std::string::npos);
    bws_process h;
    EXPECT_EQ(h.run({"--help"}), 0);
    EXPECT_NE(h.out().find("--config-check"), std::string::npos);
    EXPECT_NE(h.out().find("Not supported yet"), std::string::npos);
}

TEST(Cli, UnknownFlagIsAUsageError) {
    bws_process p;
    EXPECT_EQ(p.run({"--frobnicate"}), 2);
    auto err = p.err();
    EXPECT_NE(err.find("unknown option '--frobnicate'"), std::string::npos);
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
}

TEST(Cli, NoConfigAnywhereExitsTwo) {
    temp_dir d;
    bws_process p;
    // No -c, no BWS_CONFIG; the test machine may have /etc/bws/config.toml, so only check
    // the no-config path when it does not.
    if (std::filesystem::exists("/etc/bws/config.toml"))
        GTEST_SKIP() << "/etc/bws/config.toml exists on this machine";
    auto cwd = std::filesystem::current_path();
    std::filesystem::current_path(d.path());
    int code = p.run({});
    std::filesystem::current_path(cwd);
    EXPECT_EQ(code, 2);
    EXPECT_NE(p.err().find("no configuration file"), std::string::npos);
}

TEST(Cli, ConfigCheckOk) {
    temp_dir d;
    write_file(d / "www/index.html", "hi");
    write_file(d / "ok.toml", R"([[sites]]
name = "main"
hostname = "localhost"
port = 8080
static_dir = "www"
)");
    for (const char* flag : {"--config-check", "-t", "--dry-run"}) {
        bws_process p;
        EXPECT_EQ(p.run({flag, (d / "ok.toml").string()}), 0) << flag << p.err();
        EXPECT_NE(p.out().find("configuration OK"), std::string::npos) << flag;
    }
    bws_process quiet;
    EXPECT_EQ(quiet.run({"-t", "-q", "-c", (d / "ok.toml").string()}), 0);
    EXPECT_EQ(quiet.out(), "");
    bws_process env;
    EXPECT_EQ(env.run({"--config-check"}, 30s, {"BWS_CONFIG=" + (d / "ok.toml").string()}), 0);
}

TEST(Cli, ConfigCheckReportsEveryErrorWithPosition) {
    temp_dir d;
    auto file = (d / "bad.toml").string();
    write_file(d / "bad.toml", R"([server]
workers = "many"

[[sites]]
name = "main"
hostname = "localhost"
port = 8080
static_dir = "missing-dir"
colour = "blue"
[sites.ssl]
auto_cert = true
)");
    bws_process p;
    EXPECT_EQ(p.run({"--config-check", file}), 1);
    auto err = p.err();
    EXPECT_NE(err.find(file + ":2:"), std::string::npos) << err; // workers
    EXPECT_NE(err.find(file + ":9:"), std::string::npos) << err; // unknown key
    EXPECT_NE(err.find("not supported yet"), std::string::npos) << err;
    EXPECT_NE(err.find("missing-dir"), std::string::npos) << err;
    // The server refuses to start with it, with the same messages.
    bws_process serve;
    EXPECT_EQ(serve.run({"-c", file}), 1);
    EXPECT_NE(serve.err().find(file + ":9:"), std::string::npos);
}

TEST(Cli, ConfigCheckSyntaxError) {
    temp_dir d;
    write_file(d / "broken.toml", "[[sites]\nname = \n");
    bws_process p;
    EXPECT_EQ(p.run({"-t", (d / "broken.toml").string()}), 1);
    EXPECT_NE(p.err().find((d / "broken.toml").string() + ":1:"), std::string::npos) << p.err();
}

TEST(Cli, ServesADirectory) {
    temp_dir d;
    write_file(d / "site/index.html", "directory mode\n");
    auto port = free_port();
    bws_process p;
    ASSERT_TRUE(p.start({(d / "site").string(), "--port", std::to_string(port)}));
    ASSERT_TRUE(wait_for_port(port)) << p.err();
    auto r = get(port, "/", "anything");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "directory mode\n");
    EXPECT_EQ(get(port, "/health").status, 200);
    EXPECT_EQ(p.stop(), 0);
}

TEST(Cli, DirectoryErrors) {
    bws_process missing;
    EXPECT_EQ(missing.run({"/nonexistent/bws-test-dir"}), 1);
    EXPECT_FALSE(missing.err().empty());
    bws_process port;
    EXPECT_EQ(port.run({"/tmp", "--port", "99999"}), 2);
}

} // namespace
