// Unit tests for the loader's filesystem checks, load_file() and directory_config().
#include "config/load.hpp"

#include "../config_test_util.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

namespace bws::config {
namespace {

namespace fs = std::filesystem;
using test::all;
using test::find_one;
using test::listener;
using test::temp_dir;

std::string site_toml(const std::string& static_dir, const std::string& extra = "") {
    return "[[sites]]\nname = \"a\"\nhostname = \"a.test\"\nport = 8080\nstatic_dir = \"" +
           static_dir + "\"\n" + extra;
}

TEST(ConfigFilesystem, CompleteSetupLoadsWithoutWarnings) {
    temp_dir t;
    t.write("www/index.html", "hi");
    t.write("www/404.html", "missing");
    t.mkdir("log");
    const auto file = t.write("conf/bws.toml", R"([logging]
output = "file"
file_path = "../log/bws.log"
access_log = "../log/access.log"
error_log = "../log/error.log"

[daemon]
pid_file = "../bws.pid"
working_directory = ".."

[[sites]]
name = "a"
hostname = "a.test"
port = 8080
static_dir = "../www"
access_log = "../log/a.log"

[sites.error_pages]
404 = "404.html"
)");
    auto r = load_file(file);
    ASSERT_TRUE(r.ok()) << all(r.errors);
    EXPECT_TRUE(r.warnings.empty()) << all(r.warnings);
    const snapshot& c = *r.config;
    EXPECT_EQ(c.source_file, file);
    EXPECT_EQ(c.sites[0].static_dir, t / "www");
    EXPECT_EQ(c.sites[0].error_pages.at(404), t / "www/404.html");
    EXPECT_EQ(c.logging.file_path, t / "log/bws.log");
    EXPECT_EQ(c.logging.access_log, t / "log/access.log");
    EXPECT_EQ(c.daemon.working_directory, t.path());
}

TEST(ConfigFilesystem, RelativeConfigPathResolvesAgainstTheFilesDirectory) {
    temp_dir t;
    t.write("conf/www/index.html", "hi");
    t.write("conf/bws.toml", site_toml("www"));
    const fs::path before = fs::current_path();
    fs::current_path(t.path());
    auto r = load_file("conf/bws.toml");
    fs::current_path(before);
    ASSERT_TRUE(r.ok()) << all(r.errors);
    EXPECT_EQ(r.config->source_file, t / "conf/bws.toml");
    EXPECT_EQ(r.config->sites[0].static_dir, t / "conf/www");
}

TEST(ConfigFilesystem, MissingStaticDirAndErrorPages) {
    temp_dir t;
    t.write("file.txt", "x");
    t.write("www/index.html", "hi");
    t.mkdir("www/dir.html");
    const auto file = t.write("bws.toml", R"([[sites]]
name = "a"
hostname = "a.test"
port = 8080
static_dir = "nowhere"

[[sites]]
name = "b"
hostname = "b.test"
port = 8080
static_dir = "file.txt"

[[sites]]
name = "c"
hostname = "c.test"
port = 8080
static_dir = "www"

[sites.error_pages]
404 = "missing.html"
500 = "dir.html"
)");
    auto r = load_file(file);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.errors.size(), 4u) << all(r.errors);
    const std::string name = file.string();
    auto d = find_one(r.errors, "static_dir '" + (t / "nowhere").string() + "' does not exist");
    EXPECT_EQ(d.to_string().rfind(name + ":5:14: ", 0), 0u) << d.to_string();
    d = find_one(r.errors, "static_dir '" + (t / "file.txt").string() + "' is not a directory");
    EXPECT_EQ(d.pos.line, 11);
    d = find_one(r.errors, "error page '" + (t / "www/missing.html").string() + "' does not exist");
    EXPECT_EQ(d.pos.line, 20);
    EXPECT_EQ(d.pos.column, 7);
    d = find_one(r.errors,
                 "error page '" + (t / "www/dir.html").string() + "' is not a regular file");
    EXPECT_EQ(d.pos.line, 21);
}

TEST(ConfigFilesystem, NoIndexFileIsAWarning) {
    temp_dir t;
    t.mkdir("www");
    const auto file = t.write("bws.toml", site_toml("www", "index_files = [\"home.html\"]\n"));
    auto r = load_file(file);
    ASSERT_TRUE(r.ok()) << all(r.errors);
    ASSERT_EQ(r.warnings.size(), 1u) << all(r.warnings);
    EXPECT_EQ(r.warnings[0].pos.line, 1);
    EXPECT_NE(r.warnings[0].message.find("no index file (home.html) exists"), std::string::npos);
}

TEST(ConfigFilesystem, LogDirectoriesMustExistAndBeWritable) {
    temp_dir t;
    t.write("www/index.html", "hi");
    t.mkdir("locked");
    t.mkdir("log/taken.log");
    const auto file = t.write("bws.toml", R"([logging]
file_path = "nodir/bws.log"
access_log = "log/taken.log"
error_log = "locked/error.log"

[[sites]]
name = "a"
hostname = "a.test"
port = 8080
static_dir = "www"
access_log = "nodir/a.log"
)");
    fs::permissions(t / "locked", fs::perms::owner_read | fs::perms::owner_exec);
    auto r = load_file(file);
    ASSERT_FALSE(r.ok());
    find_one(r.errors, "file_path directory '" + (t / "nodir").string() + "' does not exist");
    find_one(r.errors, "access_log '" + (t / "log/taken.log").string() + "' is a directory");
    auto d =
        find_one(r.errors, "access_log directory '" + (t / "nodir").string() + "' does not exist");
    EXPECT_EQ(d.pos.line, 11);
    if (::geteuid() != 0) { // root may write anywhere
        EXPECT_EQ(r.errors.size(), 4u) << all(r.errors);
        d = find_one(r.errors,
                     "error_log directory '" + (t / "locked").string() + "' is not writable");
        EXPECT_EQ(d.pos.line, 4);
        EXPECT_EQ(d.pos.column, 13);
    } else {
        EXPECT_EQ(r.errors.size(), 3u) << all(r.errors);
    }
}

TEST(ConfigFilesystem, UnknownUserAndGroup) {
    temp_dir t;
    t.write("www/index.html", "hi");
    const auto file = t.write("bws.toml", "[daemon]\nuser = \"no-such-user-bws-test\"\n"
                                          "group = \"no-such-group-bws-test\"\n" +
                                              site_toml("www"));
    auto r = load_file(file);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.errors.size(), 2u) << all(r.errors);
    EXPECT_EQ(find_one(r.errors, "user 'no-such-user-bws-test' does not exist").pos.line, 2);
    EXPECT_EQ(find_one(r.errors, "group 'no-such-group-bws-test' does not exist").pos.line, 3);
}

TEST(ConfigFilesystem, ChecksCanBeSkipped) {
    load_options options;
    options.check_filesystem = false;
    auto r = load_string(site_toml("/nonexistent/bws-test"), "/nowhere/bws.toml", options);
    EXPECT_TRUE(r.ok()) << all(r.errors);
    auto checked = load_string(site_toml("/nonexistent/bws-test"), "/nowhere/bws.toml");
    EXPECT_FALSE(checked.ok());
}

TEST(ConfigFilesystem, UnreadableConfigFile) {
    temp_dir t;
    auto r = load_file(t / "missing.toml");
    ASSERT_FALSE(r.ok());
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_EQ(r.errors[0].to_string(),
              (t / "missing.toml").string() + ": cannot open: No such file or directory");
    r = load_file(t.path());
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.errors[0].message.find("is a directory"), std::string::npos);
}

TEST(ConfigDirectoryMode, ServesOneDirectory) {
    temp_dir t;
    t.write("www/index.html", "hi");
    const fs::path before = fs::current_path();
    fs::current_path(t.path());
    auto r = directory_config("www/", "127.0.0.1", 8080);
    fs::current_path(before);
    ASSERT_TRUE(r.ok()) << all(r.errors);
    const snapshot& c = *r.config;
    EXPECT_TRUE(c.source_file.empty());
    ASSERT_EQ(c.sites.size(), 1u);
    const site& s = c.sites[0];
    EXPECT_EQ(s.name, "main");
    EXPECT_EQ(s.hostnames, std::vector<std::string>{"localhost"});
    EXPECT_EQ(s.static_dir, t / "www");
    EXPECT_TRUE(s.is_default);
    EXPECT_EQ(s.port, 8080);
    EXPECT_EQ(s.bind.to_string(), "127.0.0.1");
    EXPECT_EQ(c.listeners, (std::vector<listen_address>{listener("127.0.0.1", 8080)}));
}

TEST(ConfigDirectoryMode, RejectsMissingDirectoryAndBadBind) {
    temp_dir t;
    t.write("file.txt", "x");
    auto r = directory_config(t / "nope", "127.0.0.1", 8080);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.errors[0].message.find("does not exist"), std::string::npos) << all(r.errors);
    r = directory_config(t / "file.txt", "127.0.0.1", 8080);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.errors[0].message.find("is not a directory"), std::string::npos);
    r = directory_config(t.path(), "my-host", 8080);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.errors[0].message.find("not an IPv4 or IPv6 address literal"), std::string::npos);
}

TEST(ConfigExample, BundledExampleLoadsWithItsFiles) {
    const fs::path file = fs::path(BWS_SOURCE_DIR) / "examples/bws.example.toml";
    auto r = load_file(file);
    ASSERT_TRUE(r.ok()) << all(r.errors);
    EXPECT_TRUE(r.warnings.empty()) << all(r.warnings);
    const snapshot& c = *r.config;
    ASSERT_EQ(c.sites.size(), 2u);
    EXPECT_EQ(c.sites[0].name, "main");
    EXPECT_TRUE(c.sites[0].is_default);
    EXPECT_FALSE(c.sites[1].is_default);
    EXPECT_EQ(c.sites[1].static_dir,
              fs::path(BWS_SOURCE_DIR).lexically_normal() / "examples/sites/blog");
    EXPECT_EQ(c.listeners, (std::vector<listen_address>{listener("127.0.0.1", 8080)}));
}

} // namespace
} // namespace bws::config
