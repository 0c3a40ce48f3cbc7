// Drop-in site files: a main config including sites/*.toml serves the included sites, lists
// them in --config-check, and a SIGHUP reload picks up a newly added file.
#include "process_harness.hpp"

#include <gtest/gtest.h>

#include <csignal>

namespace {

using namespace bws::test::proc;

std::string site_file(const std::string& name, std::uint16_t port, const fs::path& root) {
    return "[[sites]]\nname = \"" + name + "\"\nhostname = \"" + name +
           ".test\"\nport = " + std::to_string(port) + "\nbind = \"127.0.0.1\"\nstatic_dir = \"" +
           root.string() + "\"\n";
}

TEST(ConfigInclude, DropInSiteFilesAndReload) {
    simple_setup s;
    s.dir.write("blog/index.html", "blog\n");
    s.dir.write("shop/index.html", "shop\n");
    s.dir.write("sites/blog.toml", site_file("blog", s.port, s.dir / "blog"));
    s.dir.write("config.toml", "include = [\"sites/*.toml\"]\n" + render(s.spec));

    auto check = run_bws({"--config-check", s.config_path.string()}, 30s);
    ASSERT_EQ(check.exit_code, 0) << check.output;
    EXPECT_NE(check.output.find("configuration OK"), std::string::npos) << check.output;
    EXPECT_NE(check.output.find((s.dir / "sites/blog.toml").string()), std::string::npos)
        << check.output;

    bws_process bws(s.dir, s.config_path);
    ASSERT_TRUE(bws.wait_ready()) << bws.log();
    EXPECT_EQ(get(s.port, "/", "blog.test").body, "blog\n");
    EXPECT_EQ(get(s.port, "/").body, "hello\n");
    // Not configured yet: the port's default site (main) answers.
    EXPECT_EQ(get(s.port, "/", "shop.test").body, "hello\n");

    s.dir.write("sites/shop.toml", site_file("shop", s.port, s.dir / "shop"));
    ASSERT_EQ(::kill(bws.pid(), SIGHUP), 0);
    EXPECT_TRUE(wait_until([&] { return get(s.port, "/", "shop.test").body == "shop\n"; }, 20s))
        << bws.log();
    EXPECT_EQ(get(s.port, "/", "blog.test").body, "blog\n");

    // A broken drop-in is refused by the reload, naming the file; the sites keep serving.
    s.dir.write("sites/zz-broken.toml", "[server]\nname = \"x\"\n");
    auto refused = run_bws({"--reload", "--pid-file", (s.dir / "bws.pid").string()}, 70s);
    EXPECT_NE(refused.exit_code, 0) << refused.output;
    EXPECT_NE(refused.output.find("zz-broken.toml:1:2"), std::string::npos) << refused.output;
    EXPECT_EQ(get(s.port, "/", "shop.test").body, "shop\n");
    EXPECT_EQ(bws.stop(), 0);
}

} // namespace
