// Where access lines go (per-site, global, default, off), writer sharing by path, buffering
// and reopen.
#include "log/access_log.hpp"
#include "support/log_text.hpp"
#include "support/temp_dir.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <thread>

namespace bws::log {
namespace {

using kind = access_target::kind;
using test::temp_dir;

config::snapshot two_sites() {
    config::snapshot s;
    s.sites.resize(2);
    s.sites[0].name = "main";
    s.sites[1].name = "blog";
    return s;
}

TEST(LogAccessTarget, DefaultsToStdoutWithoutAServerLogFile) {
    auto s = two_sites();
    EXPECT_EQ(resolve_access_target(s, s.sites[0], {}), (access_target{kind::stdout_stream, {}}));
}

TEST(LogAccessTarget, DefaultsNextToTheServerLogFile) {
    auto s = two_sites();
    s.logging.file_path = "/var/log/bws/bws.log";
    EXPECT_EQ(resolve_access_target(s, s.sites[0], {}),
              (access_target{kind::file, "/var/log/bws/access.log"}));
    environment env;
    env.bws_log_file = "/srv/logs/server.log";
    EXPECT_EQ(resolve_access_target(s, s.sites[0], env),
              (access_target{kind::file, "/srv/logs/access.log"}));
}

TEST(LogAccessTarget, GlobalAndPerSiteOverridesAndOff) {
    auto s = two_sites();
    s.logging.file_path = "/var/log/bws/bws.log";
    s.logging.access_log = "/logs/all.log";
    s.sites[1].access_log = "/logs/blog.log";
    EXPECT_EQ(resolve_access_target(s, s.sites[0], {}),
              (access_target{kind::file, "/logs/all.log"}));
    EXPECT_EQ(resolve_access_target(s, s.sites[1], {}),
              (access_target{kind::file, "/logs/blog.log"}));
    EXPECT_EQ(access_log_files(s, {}),
              (std::vector<std::filesystem::path>{"/logs/all.log", "/logs/blog.log"}));

    s.sites[0].access_log = std::filesystem::path{}; // site says off
    EXPECT_EQ(resolve_access_target(s, s.sites[0], {}).where, kind::off);
    s.logging.access_log = std::filesystem::path{}; // global off, site override still wins
    EXPECT_EQ(resolve_access_target(s, s.sites[1], {}).where, kind::file);
    s.logging.log_requests = false;
    EXPECT_EQ(resolve_access_target(s, s.sites[1], {}).where, kind::off);
    EXPECT_EQ(make_access_log(s, s.sites[1], {}), nullptr);
    EXPECT_TRUE(access_log_files(s, {}).empty());
}

access_record record_for(std::string_view target, std::string_view site = "main") {
    access_record r;
    r.time = std::chrono::system_clock::now();
    r.site = site;
    r.client_address = "127.0.0.1";
    r.method = "GET";
    r.target = target;
    r.status = 200;
    return r;
}

TEST(LogAccessWriter, SitesSharingAPathShareOneWriter) {
    temp_dir dir;
    auto s = two_sites();
    s.logging.access_log = dir / "access.log";
    s.logging.access_log_format = config::access_log_format::json;
    auto a = make_access_log(s, s.sites[0], {});
    auto b = make_access_log(s, s.sites[1], {});
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(a, b);
    s.sites[1].access_log = dir / "blog.log";
    auto c = make_access_log(s, s.sites[1], {});
    EXPECT_NE(a, c);

    a->write(record_for("/1", "main"));
    c->write(record_for("/2", "blog"));
    flush_access_logs();
    const auto lines = test::split_lines(test::read_file(dir / "access.log"));
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(boost::json::parse(lines[0]).at("site").as_string(), "main");
    EXPECT_EQ(test::split_lines(test::read_file(dir / "blog.log")).size(), 1u);
}

TEST(LogAccessWriter, BuffersUntilSizeIntervalOrFlush) {
    temp_dir dir;
    const auto path = dir / "a.log";
    auto log = open_access_log({kind::file, path}, config::access_log_format::combined,
                               {std::chrono::milliseconds(100000), 1024});
    log->write(record_for("/first"));
    EXPECT_EQ(test::read_file(path), ""); // buffered
    std::size_t written = 1;
    while (test::read_file(path).empty() && written < 100) {
        log->write(record_for("/more"));
        ++written;
    }
    const auto text = test::read_file(path);
    ASSERT_FALSE(text.empty());
    EXPECT_GE(text.size(), 1024u);
    EXPECT_LT(text.size(), 1024u + 200u); // flushed as soon as the buffer passed the limit
    EXPECT_EQ(text.back(), '\n');
    EXPECT_EQ(test::split_lines(text).size(), written);

    log->write(record_for("/last"));
    log->flush();
    EXPECT_EQ(test::split_lines(test::read_file(path)).size(), written + 1);

    auto timed = open_access_log({kind::file, dir / "t.log"}, config::access_log_format::combined,
                                 {std::chrono::milliseconds(20), 1 << 20});
    timed->write(record_for("/a"));
    std::this_thread::sleep_for(std::chrono::milliseconds(30)); // the interval under test
    timed->write(record_for("/b"));
    EXPECT_EQ(test::split_lines(test::read_file(dir / "t.log")).size(), 2u);
}

TEST(LogAccessWriter, ReopenAfterExternalMoveKeepsEveryLine) {
    temp_dir dir;
    auto s = two_sites();
    s.logging.access_log = dir / "access.log";
    auto log = make_access_log(s, s.sites[0], {});
    log->write(record_for("/before"));
    std::filesystem::rename(dir / "access.log", dir / "access.log.1");
    log->write(record_for("/between")); // still buffered: goes to the moved file
    reopen_access_logs();
    log->write(record_for("/after"));
    log.reset(); // the last user: flushed on destruction
    const auto old_text = test::read_file(dir / "access.log.1");
    EXPECT_NE(old_text.find("/before"), std::string::npos);
    EXPECT_NE(old_text.find("/between"), std::string::npos);
    const auto new_text = test::read_file(dir / "access.log");
    EXPECT_EQ(test::split_lines(new_text).size(), 1u);
    EXPECT_NE(new_text.find("/after"), std::string::npos);
}

} // namespace
} // namespace bws::log
