// A reload that changes keys only a restart applies still succeeds, and says which keys: in
// `bws --reload`'s output, in STATUS=, in the log and in /health/detailed.
#include "process_harness.hpp"

#include <gtest/gtest.h>

namespace {

using namespace bws::test::proc;

// `text` with `line` added right after the first `table` header.
std::string add_after(std::string text, const std::string& table, const std::string& line) {
    auto at = text.find(table + "\n");
    EXPECT_NE(at, std::string::npos) << text;
    return text.insert(at + table.size() + 1, line + "\n");
}

TEST(ReloadRestartKeys, NamedInEveryOutputAndTheReloadStillApplies) {
    simple_setup s;
    bws_process bws(s.dir, s.config_path);
    ASSERT_TRUE(bws.wait_ready()) << bws.log();
    const auto pid_path = (s.dir / "bws.pid").string();

    // Three startup-only changes, and a header that a reload does apply.
    auto changed = s.spec;
    changed.pid_file = s.dir / "other.pid";
    changed.sites[0].headers = {{"X-Generation", "two"}};
    auto text = add_after(render(changed), "[daemon]", "daemonize = true");
    text = add_after(text, "[server]", "backlog = 128");
    s.dir.write("config.toml", text);
    auto notify_from = bws.notify().size();
    auto r = run_bws({"--reload", "--pid-file", pid_path}, 70s);
    ASSERT_EQ(r.exit_code, 0) << r.output << bws.log();
    const std::string keys = "[daemon] pid_file, [daemon] daemonize, [server] backlog";
    EXPECT_NE(r.output.find("reload ok: generation 2 serving; restart needed to apply " + keys),
              std::string::npos)
        << r.output;
    EXPECT_EQ(get(s.port, "/").header("x-generation"), "two");
    EXPECT_TRUE(bws.notify().wait_for("STATUS=reload #1 ok; restart needed to apply " + keys,
                                      notify_from, 5s))
        << bws.log();
    auto log = bws.log();
    for (const char* key : {"[daemon] pid_file", "[daemon] daemonize", "[server] backlog"}) {
        EXPECT_NE(log.find(std::string(key) + " changed: only a restart applies it"),
                  std::string::npos)
            << key << "\n"
            << log;
    }
    // Not applied indeed: the master still uses its PID file, and is still in the foreground.
    EXPECT_FALSE(fs::exists(s.dir / "other.pid"));
    EXPECT_TRUE(fs::exists(pid_path));
    EXPECT_TRUE(alive(bws.pid()));
    std::string body;
    EXPECT_TRUE(wait_until(
        [&] {
            body = get(s.port, "/health/detailed").body;
            return body.find(R"("restart_needed":["[daemon] pid_file","[daemon] daemonize",)"
                             R"("[server] backlog"])") != std::string::npos;
        },
        5s))
        << body;

    // Back to the original keys: nothing left to restart for, whatever the last reload said.
    s.save();
    auto back = run_bws({"--reload", "--pid-file", pid_path}, 70s);
    ASSERT_EQ(back.exit_code, 0) << back.output << bws.log();
    EXPECT_NE(back.output.find("reload ok: generation 3 serving"), std::string::npos)
        << back.output;
    EXPECT_EQ(back.output.find("restart needed"), std::string::npos) << back.output;
    EXPECT_EQ(bws.stop(), 0);
}

// A reload that only changes what it can apply mentions no restart.
TEST(ReloadRestartKeys, LiveChangesNeedNoRestart) {
    simple_setup s;
    bws_process bws(s.dir, s.config_path);
    ASSERT_TRUE(bws.wait_ready()) << bws.log();
    s.spec.workers = 1;
    s.spec.shutdown_timeout = "5s";
    s.spec.sites[0].headers = {{"X-Live", "yes"}};
    s.save();
    auto r = run_bws({"--reload", "--pid-file", (s.dir / "bws.pid").string()}, 70s);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("reload ok: generation 2 serving"), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find("restart"), std::string::npos) << r.output;
    EXPECT_EQ(bws.log().find("only a restart applies it"), std::string::npos) << bws.log();
    EXPECT_EQ(get(s.port, "/").header("x-live"), "yes");
    EXPECT_EQ(bws.stop(), 0);
}

} // namespace
