// Unit tests for `include`: glob order and base directory, empty globs, missing literals, what an
// included file may hold, cycles, depth, and diagnostics that name the included file.
#include "config/load.hpp"

#include "../config_test_util.hpp"

#include <gtest/gtest.h>

namespace bws::config {
namespace {

using test::all;
using test::find_one;
using test::temp_dir;

std::string site_table(const std::string& name, int port = 8080) {
    return "[[sites]]\nname = \"" + name + "\"\nhostname = \"" + name +
           ".test\"\nport = " + std::to_string(port) + "\nstatic_dir = \"/srv/" + name + "\"\n";
}

load_result load(const std::filesystem::path& file) {
    return load_file(file, {.check_filesystem = false});
}

std::vector<std::string> site_names(const snapshot& c) {
    std::vector<std::string> names;
    for (const auto& s : c.sites)
        names.push_back(s.name);
    return names;
}

TEST(ConfigInclude, GlobsAreSortedAndRelativeToTheIncludingFile) {
    temp_dir d;
    const auto main =
        d.write("etc/config.toml", "include = [\"sites/*.toml\"]\n" + site_table("main"));
    d.write("etc/sites/b.toml", site_table("b"));
    d.write("etc/sites/a.toml", site_table("a"));
    d.write("etc/sites/c.toml.disabled", site_table("c"));
    d.write("sites/x.toml", site_table("x")); // relative to the cwd or the parent: not read
    const auto r = load(main);
    ASSERT_TRUE(r.ok()) << all(r.errors);
    // The main file's sites first, then each included file in sorted order.
    EXPECT_EQ(site_names(*r.config), (std::vector<std::string>{"main", "a", "b"}));
    EXPECT_EQ(r.config->files, (std::vector<std::filesystem::path>{main, d / "etc/sites/a.toml",
                                                                   d / "etc/sites/b.toml"}));
    // The first site on the port stays its default, wherever the others come from.
    EXPECT_TRUE(r.config->sites[0].is_default);
    EXPECT_FALSE(r.config->sites[1].is_default);
}

TEST(ConfigInclude, AbsolutePatternsAndRelativePathsInIncludedFiles) {
    temp_dir d;
    d.write("drop/blog.toml", "[[sites]]\nname = \"blog\"\nhostname = \"blog.test\"\nport = 80\n"
                              "static_dir = \"www/blog\"\n");
    const auto main =
        d.write("conf/main.toml", "include = [\"" + (d / "drop").string() + "/*.toml\"]\n");
    const auto r = load(main);
    ASSERT_TRUE(r.ok()) << all(r.errors);
    ASSERT_EQ(r.config->sites.size(), 1u);
    // Relative paths are taken from the file the value is written in.
    EXPECT_EQ(r.config->sites[0].static_dir, d / "drop/www/blog");
}

TEST(ConfigInclude, EmptyGlobIsFineMissingLiteralIsAnError) {
    temp_dir d;
    d.mkdir("sites");
    const auto ok = d.write("ok.toml", "include = [\"sites/*.toml\"]\n" + site_table("main"));
    const auto r = load(ok);
    ASSERT_TRUE(r.ok()) << all(r.errors);
    EXPECT_EQ(r.config->files, std::vector<std::filesystem::path>{ok});

    const auto bad = d.write("bad.toml", "include = [\"sites/*.toml\", \"sites/blog.toml\"]\n" +
                                             site_table("main"));
    const auto e = load(bad);
    ASSERT_FALSE(e.ok());
    const auto err = find_one(e.errors, "does not exist");
    EXPECT_EQ(err.pos.file, bad.string());
    EXPECT_EQ(err.pos.line, 1);
    EXPECT_EQ(err.pos.column, 28);
    EXPECT_NE(err.message.find((d / "sites/blog.toml").string()), std::string::npos) << err.message;
}

TEST(ConfigInclude, IncludedFilesHoldOnlySites) {
    temp_dir d;
    d.write("sites/evil.toml", "[server]\nname = \"other\"\n\n" + site_table("evil") +
                                   "\n[logging]\nlevel = \"off\"\n");
    const auto main = d.write("main.toml", "include = [\"sites/*.toml\"]\n" + site_table("main"));
    const auto r = load(main);
    ASSERT_FALSE(r.ok());
    const std::string evil = (d / "sites/evil.toml").string();
    auto server = find_one(r.errors, "unknown table 'server' in an included file");
    EXPECT_EQ(server.to_string().rfind(evil + ":1:2: ", 0), 0u) << server.to_string();
    auto logging = find_one(r.errors, "unknown table 'logging' in an included file");
    EXPECT_EQ(logging.pos.file, evil);
    EXPECT_EQ(logging.pos.line, 10);
    EXPECT_EQ(r.errors.size(), 2u) << all(r.errors);
}

TEST(ConfigInclude, DiagnosticsNameTheIncludedFileInReadOrder) {
    temp_dir d;
    d.write("sites/a.toml", "[[sites]]\nname = \"a\"\nhostname = \"a.test\"\nport = 0\n"
                            "static_dir = \"/srv/a\"\n");
    d.write("sites/b.toml", "[[sites]]\nname = \"b\"\nhostname = \"b.test\"\nport = 80\n"
                            "static_dir = \"/srv/b\"\ncolour = \"red\"\n");
    const auto main = d.write("main.toml", "include = [\"sites/*.toml\"]\n[server]\nworkers = 0\n" +
                                               site_table("main"));
    const auto r = load(main);
    ASSERT_EQ(r.errors.size(), 3u) << all(r.errors);
    const std::string a = (d / "sites/a.toml").string(), b = (d / "sites/b.toml").string();
    EXPECT_EQ(r.errors[0].to_string().rfind(main.string() + ":3:11: workers:", 0), 0u)
        << all(r.errors);
    EXPECT_EQ(r.errors[1].to_string(),
              a + ":4:8: port: 0 is out of range (must be between 1 and 65535)");
    EXPECT_EQ(r.errors[2].to_string(), b + ":6:1: unknown key 'colour' in [[sites]]");
}

TEST(ConfigInclude, TomlSyntaxErrorInAnIncludedFile) {
    temp_dir d;
    d.write("sites/broken.toml", "[[sites]\n");
    const auto main = d.write("main.toml", "include = [\"sites/broken.toml\"]\n" + site_table("m"));
    const auto r = load(main);
    ASSERT_EQ(r.errors.size(), 1u) << all(r.errors);
    EXPECT_EQ(r.errors[0].pos.file, (d / "sites/broken.toml").string());
    EXPECT_EQ(r.errors[0].pos.line, 1);
}

TEST(ConfigInclude, DuplicateSiteAcrossFilesNamesBothPlaces) {
    temp_dir d;
    d.write("sites/one.toml", site_table("blog"));
    d.write("sites/two.toml", "# again\n" + site_table("blog", 8081));
    const auto main = d.write("main.toml", "include = [\"sites/*.toml\"]\n" + site_table("main"));
    const auto r = load(main);
    ASSERT_FALSE(r.ok());
    const auto e = find_one(r.errors, "site name 'blog' is already used by another site");
    const std::string one = (d / "sites/one.toml").string(), two = (d / "sites/two.toml").string();
    EXPECT_EQ(e.to_string(),
              two + ":3:8: site name 'blog' is already used by another site (" + one + ":1)");
    // Host names too: blog.test:8080 of one.toml against main.toml's site on the same port.
    d.write("sites/two.toml", "[[sites]]\nname = \"other\"\nhostname = \"main.test\"\n"
                              "port = 8080\nstatic_dir = \"/srv/o\"\n");
    const auto h = load(main);
    const auto dup = find_one(h.errors, "duplicate hostname:port main.test:8080");
    EXPECT_EQ(dup.pos.file, two);
    EXPECT_NE(dup.message.find("(" + main.string() + ":2)"), std::string::npos) << dup.message;
}

TEST(ConfigInclude, DefaultSitesPerPortAcrossFiles) {
    temp_dir d;
    d.write("sites/x.toml", site_table("x") + "default = true\n");
    const auto main = d.write("main.toml", "include = [\"sites/*.toml\"]\n" + site_table("main") +
                                               "default = true\n");
    const auto r = load(main);
    const auto e = find_one(r.errors, "sites 'main' and 'x' are both default on port 8080");
    EXPECT_EQ(e.pos.file, (d / "sites/x.toml").string());
}

TEST(ConfigInclude, CyclesAndRepeatsAreErrors) {
    temp_dir d;
    d.write("sites/a.toml", "include = [\"b.toml\"]\n" + site_table("a"));
    d.write("sites/b.toml", "include = [\"a.toml\"]\n" + site_table("b"));
    const auto main = d.write("main.toml", "include = [\"sites/a.toml\"]\n" + site_table("main"));
    const auto r = load(main);
    const auto e = find_one(r.errors, "includes itself (an include cycle)");
    EXPECT_EQ(e.pos.file, (d / "sites/b.toml").string());
    EXPECT_EQ(e.pos.line, 1);

    // A glob that matches the main file itself.
    const auto self = d.write("self.toml", "include = [\"*.toml\"]\n" + site_table("self"));
    find_one(load(self).errors, "self.toml' includes itself");

    // The same file named twice is read once and reported.
    const auto twice =
        d.write("twice.toml", "include = [\"sites/b.toml\", \"sites/*.toml\"]\n" + site_table("t"));
    d.write("sites/b.toml", site_table("b"));
    d.write("sites/a.toml", site_table("a"));
    const auto t = load(twice);
    find_one(t.errors, "b.toml' is already included");
}

TEST(ConfigInclude, NestingIsAllowedButBounded) {
    temp_dir d;
    // main -> n1 -> ... -> n8 is 8 levels: fine. One more level is refused.
    for (int i = 1; i <= 9; ++i) {
        const std::string next =
            i < 9 ? "include = [\"n" + std::to_string(i + 1) + ".toml\"]\n" : "";
        d.write("n" + std::to_string(i) + ".toml", next + site_table("s" + std::to_string(i)));
    }
    const auto main = d.write("main.toml", "include = [\"n1.toml\"]\n" + site_table("main"));
    auto r = load(main);
    const auto e = find_one(r.errors, "is nested more than 8 includes deep");
    EXPECT_EQ(e.pos.file, (d / "n8.toml").string());
    EXPECT_NE(e.message.find("n9.toml"), std::string::npos);

    std::filesystem::remove(d / "n9.toml");
    d.write("n8.toml", site_table("s8"));
    r = load(main);
    ASSERT_TRUE(r.ok()) << all(r.errors);
    EXPECT_EQ(r.config->sites.size(), 9u);
    EXPECT_EQ(r.config->files.size(), 9u);
}

TEST(ConfigInclude, IncludeMustBeAnArrayOfStrings) {
    temp_dir d;
    const auto main = d.write("main.toml", "include = \"sites/*.toml\"\n" + site_table("main"));
    find_one(load(main).errors,
             "include: expected an array of file names or patterns, got a string");
    const auto empty = d.write("empty.toml", "include = [\"\"]\n" + site_table("main"));
    find_one(load(empty).errors, "include: must not be empty");
}

TEST(ConfigInclude, SitesOnlyInIncludedFiles) {
    temp_dir d;
    d.mkdir("sites");
    const auto main = d.write("main.toml", "include = [\"sites/*.toml\"]\n");
    find_one(load(main).errors, "no site is configured");
    d.write("sites/a.toml", site_table("a"));
    const auto r = load(main);
    ASSERT_TRUE(r.ok()) << all(r.errors);
    EXPECT_TRUE(r.config->sites[0].is_default);
}

} // namespace
} // namespace bws::config
