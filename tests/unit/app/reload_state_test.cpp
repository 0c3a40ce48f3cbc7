// The reload state file that `bws --reload` reads.
#include "app/reload_state.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>

namespace {

using namespace bws::app;
namespace fs = std::filesystem;

TEST(ReloadState, RoundTrip) {
    reload_state s;
    s.pid = 12;
    s.generation = 4;
    s.reload_count = 3;
    s.reloading = true;
    s.last_ok = false;
    s.message = "invalid configuration: a.toml:1:2: bad\nsecond line";
    auto parsed = parse_reload_state(format_reload_state(s));
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->pid, 12);
    EXPECT_EQ(parsed->generation, 4u);
    EXPECT_EQ(parsed->reload_count, 3u);
    EXPECT_TRUE(parsed->reloading);
    EXPECT_FALSE(parsed->last_ok);
    EXPECT_EQ(parsed->message, "invalid configuration: a.toml:1:2: bad second line");
    EXPECT_EQ(parsed->upgrade_count, 0u);
    EXPECT_TRUE(parsed->upgrade_ok);
}

TEST(ReloadState, UpgradeOutcome) {
    reload_state s;
    s.pid = 12;
    s.upgrade_count = 2;
    s.upgrade_ok = false;
    s.upgrade_message = "the new binary failed its check:\nexit 127";
    auto text = format_reload_state(s);
    EXPECT_NE(text.find("last_upgrade=failed\n"), std::string::npos) << text;
    auto parsed = parse_reload_state(text);
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->upgrade_count, 2u);
    EXPECT_FALSE(parsed->upgrade_ok);
    EXPECT_EQ(parsed->upgrade_message, "the new binary failed its check: exit 127");
}

TEST(ReloadState, RejectsGarbage) {
    EXPECT_FALSE(parse_reload_state(""));
    EXPECT_FALSE(parse_reload_state("pid=abc\n"));
    EXPECT_FALSE(parse_reload_state("generation=1\n"));
    EXPECT_TRUE(parse_reload_state("pid=1\nfuture_key=x\n"));
}

TEST(ReloadState, FileWriteAndRead) {
    std::string tmpl = (fs::temp_directory_path() / "bws-state-XXXXXX").string();
    fs::path dir = mkdtemp(tmpl.data());
    auto path = reload_state_path(dir / "bws.pid");
    EXPECT_EQ(path, dir / "bws.pid.state");
    EXPECT_FALSE(read_reload_state(path));
    reload_state s;
    s.pid = 5;
    s.reload_count = 1;
    s.message = "generation 2 serving";
    std::string error;
    ASSERT_TRUE(write_reload_state(path, s, error)) << error;
    auto back = read_reload_state(path);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->message, "generation 2 serving");
    EXPECT_FALSE(fs::exists(path.string() + ".tmp"));
    fs::remove_all(dir);
}

} // namespace

TEST(AppReloadState, NoReloadYetReadsAsNone) {
    bws::app::reload_state s;
    s.pid = 42;
    s.reload_count = 0;
    auto text = bws::app::format_reload_state(s);
    EXPECT_NE(text.find("last_reload=none"), std::string::npos) << text;
    s.reload_count = 1;
    s.last_ok = false;
    EXPECT_NE(bws::app::format_reload_state(s).find("last_reload=failed"), std::string::npos);
}
