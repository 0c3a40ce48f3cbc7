// Level/file/output resolution, journal stream detection, the line pattern, error_log and
// reopen of the server log.
#include "log/context.hpp"
#include "log/line_sink.hpp"
#include "log/setup.hpp"
#include "support/log_text.hpp"
#include "support/temp_dir.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <regex>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

namespace bws::log {
namespace {

using config::log_level;
using config::log_output;
using test::temp_dir;

TEST(LogLevel, ParsesNamesCaseInsensitively) {
    EXPECT_EQ(parse_level("trace"), log_level::trace);
    EXPECT_EQ(parse_level(" DEBUG "), log_level::debug);
    EXPECT_EQ(parse_level("Warning"), log_level::warn);
    EXPECT_EQ(parse_level("err"), log_level::error);
    EXPECT_EQ(parse_level("critical"), log_level::critical);
    EXPECT_EQ(parse_level("off"), log_level::off);
    EXPECT_EQ(parse_level("loud"), std::nullopt);
    EXPECT_EQ(parse_level(""), std::nullopt);
}

TEST(LogLevel, PrecedenceVerboseThenBwsLogLevelThenRustLogThenConfig) {
    environment env;
    EXPECT_EQ(resolve_level(log_level::warn, false, env).level, log_level::warn);
    env.rust_log = "error";
    EXPECT_EQ(resolve_level(log_level::warn, false, env).level, log_level::error);
    env.bws_log_level = "trace";
    EXPECT_EQ(resolve_level(log_level::warn, false, env).level, log_level::trace);
    EXPECT_EQ(resolve_level(log_level::warn, true, env).level, log_level::debug);
    const auto choice = resolve_level(log_level::warn, false, env);
    EXPECT_TRUE(choice.warnings.empty());
}

TEST(LogLevel, InvalidBwsLogLevelFallsThroughWithAWarning) {
    environment env;
    env.bws_log_level = "chatty";
    env.rust_log = "debug";
    const auto choice = resolve_level(log_level::info, false, env);
    EXPECT_EQ(choice.level, log_level::debug);
    ASSERT_EQ(choice.warnings.size(), 1u);
    EXPECT_NE(choice.warnings[0].find("BWS_LOG_LEVEL"), std::string::npos);
}

TEST(LogLevel, RustLogDirectivesUseTheLastPlainLevel) {
    environment env;
    env.rust_log = "info,hyper=warn,debug,tokio=trace";
    auto choice = resolve_level(log_level::error, false, env);
    EXPECT_EQ(choice.level, log_level::debug);
    EXPECT_EQ(choice.warnings.size(), 1u);

    env.rust_log = "bws=trace,hyper=warn";
    choice = resolve_level(log_level::error, false, env);
    EXPECT_EQ(choice.level, log_level::error); // no plain level: ignored
    ASSERT_EQ(choice.warnings.size(), 1u);
    EXPECT_NE(choice.warnings[0].find("ignored"), std::string::npos);
}

TEST(LogFile, EnvironmentOverridesConfig) {
    config::logging_section logging;
    environment env;
    EXPECT_EQ(resolve_log_file(logging, env), "");
    logging.file_path = "/var/log/bws/bws.log";
    EXPECT_EQ(resolve_log_file(logging, env), "/var/log/bws/bws.log");
    env.bws_log_file = "/tmp/other.log";
    EXPECT_EQ(resolve_log_file(logging, env), "/tmp/other.log");
}

std::string dev_inode(int fd) {
    struct stat st {};
    EXPECT_EQ(::fstat(fd, &st), 0);
    return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
}

TEST(LogOutput, JournalStreamMustMatchTheDescriptor) {
    temp_dir dir;
    const int a = ::open((dir / "a").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    const int b = ::open((dir / "b").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    ASSERT_GE(a, 0);
    ASSERT_GE(b, 0);
    EXPECT_TRUE(stream_is_journal(dev_inode(a), a));
    EXPECT_FALSE(stream_is_journal(dev_inode(a), b));
    EXPECT_FALSE(stream_is_journal("", a));
    EXPECT_FALSE(stream_is_journal("12", a));
    EXPECT_FALSE(stream_is_journal(dev_inode(a) + "x", a));

    environment env;
    EXPECT_EQ(resolve_output(log_output::automatic, env, a), log_output::stderr_stream);
    env.journal_stream = dev_inode(a);
    EXPECT_EQ(resolve_output(log_output::automatic, env, a), log_output::journald);
    EXPECT_EQ(resolve_output(log_output::automatic, env, b), log_output::stderr_stream);
    EXPECT_EQ(resolve_output(log_output::file, env, a), log_output::file);
    ::close(a);
    ::close(b);
}

// In a child with a temp file dup'd onto stderr, as systemd sets it up.
TEST(LogOutput, AutoDetectsJournalOnRealStderr) {
    temp_dir dir;
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        const int fd = ::open((dir / "stream").c_str(), O_CREAT | O_WRONLY, 0600);
        if (fd < 0 || ::dup2(fd, 2) < 0)
            ::_exit(2);
        environment env;
        env.journal_stream = dev_inode(fd);
        ::_exit(resolve_output(log_output::automatic, env) == log_output::journald ? 0 : 1);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
}

const std::regex line_regex(
    R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d (\w+) (\w+)\[(\d+)\]( \[[^\]]+\])? (.*)$)");

TEST(LogPattern, LineHasMillisecondsOffsetLevelRolePidAndSite) {
    temp_dir dir;
    auto file = std::make_shared<line_file>(dir / "p.log");
    auto logger = std::make_shared<spdlog::logger>("t", std::make_shared<line_sink>(file));
    set_role("worker");
    logger->info("hello {}", 1);
    {
        site_scope scope("main");
        logger->warn("with site");
        {
            site_scope inner("blog");
            logger->error("nested");
        }
        logger->info("back");
    }
    logger->info("no site");
    set_role("bws");
    const auto lines = test::split_lines(test::read_file(dir / "p.log"));
    ASSERT_EQ(lines.size(), 5u);
    const std::string pid = std::to_string(::getpid());
    const std::vector<std::vector<std::string>> expected{{"INFO", "", "hello 1"},
                                                         {"WARN", " [main]", "with site"},
                                                         {"ERROR", " [blog]", "nested"},
                                                         {"INFO", " [main]", "back"},
                                                         {"INFO", "", "no site"}};
    for (std::size_t i = 0; i < lines.size(); ++i) {
        std::smatch m;
        ASSERT_TRUE(std::regex_match(lines[i], m, line_regex)) << lines[i];
        EXPECT_EQ(m[1], expected[i][0]);
        EXPECT_EQ(m[2], "worker");
        EXPECT_EQ(m[3], pid);
        EXPECT_EQ(m[4], expected[i][1]);
        EXPECT_EQ(m[5], expected[i][2]);
    }
}

TEST(LogPattern, UsesTheLocalOffset) {
    temp_dir dir;
    const std::string saved = std::getenv("TZ") ? std::getenv("TZ") : "";
    ::setenv("TZ", "EST5", 1);
    ::tzset();
    {
        auto file = std::make_shared<line_file>(dir / "tz.log");
        spdlog::logger logger("tz", std::make_shared<line_sink>(file));
        logger.info("x");
    }
    if (saved.empty())
        ::unsetenv("TZ");
    else
        ::setenv("TZ", saved.c_str(), 1);
    ::tzset();
    const auto text = test::read_file(dir / "tz.log");
    EXPECT_EQ(text.substr(23, 6), "-05:00") << text;
}

TEST(LogSetup, FileOutputErrorLogAndReopen) {
    temp_dir dir;
    config::logging_section logging;
    logging.level = log_level::info;
    logging.output = log_output::file;
    logging.file_path = dir / "ignored.log";
    logging.error_log = dir / "error.log";
    environment env;
    env.bws_log_file = (dir / "bws.log").string();
    env.rust_log = "debug";
    const auto result = setup(logging, {false, "master"}, env);
    EXPECT_EQ(result.output, log_output::file);
    EXPECT_EQ(result.file, dir / "bws.log");
    EXPECT_EQ(result.level, log_level::debug);
    EXPECT_EQ(server_log_files(),
              (std::vector<std::filesystem::path>{dir / "bws.log", dir / "error.log"}));

    spdlog::trace("not shown");
    spdlog::debug("debug line");
    spdlog::warn("warn line");
    std::filesystem::rename(dir / "bws.log", dir / "bws.log.moved");
    spdlog::info("after move, before reopen");
    reopen_all();
    spdlog::error("after reopen");

    const auto moved = test::read_file(dir / "bws.log.moved");
    EXPECT_NE(moved.find(" DEBUG master["), std::string::npos) << moved;
    EXPECT_NE(moved.find("warn line"), std::string::npos);
    EXPECT_NE(moved.find("after move, before reopen"), std::string::npos);
    EXPECT_EQ(moved.find("not shown"), std::string::npos);
    EXPECT_EQ(test::read_file(dir / "bws.log").find("after reopen") != std::string::npos, true);
    const auto errors = test::split_lines(test::read_file(dir / "error.log"));
    ASSERT_EQ(errors.size(), 2u);
    EXPECT_NE(errors[0].find("WARN master["), std::string::npos);
    EXPECT_NE(errors[1].find("ERROR master["), std::string::npos);
    EXPECT_FALSE(std::filesystem::exists(dir / "ignored.log"));

    set_role("bws");
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("null"));
}

TEST(LogSetup, FileOutputWithoutPathFallsBackToStderr) {
    config::logging_section logging;
    logging.output = log_output::file;
    const auto result = setup(logging, {true, "bws"}, environment{});
    EXPECT_EQ(result.output, log_output::stderr_stream);
    EXPECT_EQ(result.level, log_level::debug);
    EXPECT_EQ(result.warnings.size(), 1u);
    EXPECT_TRUE(server_log_files().empty());
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("null"));
}

} // namespace
} // namespace bws::log
