// Rotation naming and retention (pure), the coordinator's rename/reopen/compress sequence, and
// rotation under concurrent writers in several processes.
#include "log/access_log.hpp"
#include "log/gzip_file.hpp"
#include "log/rotation.hpp"
#include "support/log_text.hpp"
#include "support/temp_dir.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <gtest/gtest.h>
#include <poll.h>
#include <set>
#include <sys/wait.h>
#include <unistd.h>

namespace bws::log {
namespace {

using test::temp_dir;
using names = std::vector<std::string>;
using renames = std::vector<std::pair<std::string, std::string>>;

TEST(LogRotationNaming, RotatedNames) {
    EXPECT_EQ(rotated_name("/var/log/bws/bws.log", 1, false), "/var/log/bws/bws.log.1");
    EXPECT_EQ(rotated_name("/var/log/bws/bws.log", 12, true), "/var/log/bws/bws.log.12.gz");
}

TEST(LogRotationNaming, FirstRotationOnlyRenamesTheBase) {
    const auto plan = plan_rotation("bws.log", 10, {"bws.log", "access.log", "bws.log.bak"});
    EXPECT_TRUE(plan.removals.empty());
    EXPECT_EQ(plan.renames, (renames{{"bws.log", "bws.log.1"}}));
}

TEST(LogRotationNaming, ShiftsHighestFirstAndKeepsSuffixes) {
    const auto plan = plan_rotation(
        "bws.log", 10, {"bws.log", "bws.log.1.gz", "bws.log.2.gz", "bws.log.3", "access.log.1"});
    EXPECT_TRUE(plan.removals.empty());
    EXPECT_EQ(plan.renames, (renames{{"bws.log.3", "bws.log.4"},
                                     {"bws.log.2.gz", "bws.log.3.gz"},
                                     {"bws.log.1.gz", "bws.log.2.gz"},
                                     {"bws.log", "bws.log.1"}}));
}

TEST(LogRotationNaming, RetentionRemovesFilesAtAndBeyondMaxFiles) {
    const auto plan = plan_rotation("a.log", 3,
                                    {"a.log", "a.log.1", "a.log.2", "a.log.3.gz", "a.log.3",
                                     "a.log.7", "a.log.01", "a.log.x", "a.log.2.gz.tmp"});
    EXPECT_EQ(plan.removals, (names{"a.log.7", "a.log.3", "a.log.3.gz"}));
    EXPECT_EQ(plan.renames,
              (renames{{"a.log.2", "a.log.3"}, {"a.log.1", "a.log.2"}, {"a.log", "a.log.1"}}));
}

TEST(LogRotationNaming, MaxFilesZeroKeepsOne) {
    const auto plan = plan_rotation("a.log", 0, {"a.log", "a.log.1"});
    EXPECT_EQ(plan.removals, (names{"a.log.1"}));
    EXPECT_EQ(plan.renames, (renames{{"a.log", "a.log.1"}}));
}

TEST(LogGzip, CompressedFileGunzipsToTheOriginal) {
    temp_dir dir;
    std::string original;
    for (int i = 0; i < 20000; ++i)
        original += "line " + std::to_string(i * 7919 % 10007) + " with some text\n";
    {
        std::ofstream out(dir / "x.log.1", std::ios::binary);
        out << original;
    }
    ASSERT_EQ(gzip_file(dir / "x.log.1", dir / "x.log.1.gz"), "");
    EXPECT_FALSE(std::filesystem::exists(dir / "x.log.1"));
    EXPECT_FALSE(std::filesystem::exists(dir / "x.log.1.gz.tmp"));
    const auto raw = test::read_file(dir / "x.log.1.gz");
    ASSERT_GE(raw.size(), 2u);
    EXPECT_EQ(static_cast<unsigned char>(raw[0]), 0x1f); // gzip magic
    EXPECT_EQ(static_cast<unsigned char>(raw[1]), 0x8b);
    EXPECT_LT(raw.size(), original.size() / 4);
    EXPECT_EQ(test::read_maybe_gzip(dir / "x.log.1.gz"), original);
}

TEST(LogGzip, MissingSourceIsReportedNotThrown) {
    temp_dir dir;
    EXPECT_NE(gzip_file(dir / "nope", dir / "nope.gz"), "");
    EXPECT_FALSE(std::filesystem::exists(dir / "nope.gz.tmp"));
}

void write_bytes(const std::filesystem::path& path, std::size_t n, char fill = 'x') {
    std::ofstream out(path, std::ios::binary | std::ios::app);
    out << std::string(n - 1, fill) << '\n';
}

TEST(LogRotationCoordinator, RotatesOverSizeFilesAndCompressesAfterReopen) {
    temp_dir dir;
    const auto log = dir / "bws.log";
    const auto other = dir / "access.log";
    write_bytes(log, 200, 'a');
    write_bytes(other, 50);
    rotation_coordinator coordinator({100, 3, true}, {log, other});

    EXPECT_EQ(coordinator.check(), std::vector<std::filesystem::path>{log});
    EXPECT_TRUE(std::filesystem::exists(dir / "bws.log.1"));
    EXPECT_FALSE(std::filesystem::exists(log));
    EXPECT_TRUE(coordinator.busy());

    // Until every process has reopened, the file is neither compressed nor rotated again.
    write_bytes(log, 300, 'b');
    EXPECT_TRUE(coordinator.check().empty());
    EXPECT_TRUE(std::filesystem::exists(dir / "bws.log.1"));

    coordinator.reopen_complete();
    coordinator.wait_idle();
    EXPECT_FALSE(coordinator.busy());
    EXPECT_FALSE(std::filesystem::exists(dir / "bws.log.1"));
    EXPECT_EQ(test::read_maybe_gzip(dir / "bws.log.1.gz"), std::string(199, 'a') + "\n");

    // Next rotations shift the .gz files and keep max_files of them.
    for (char c : std::string("cde")) {
        EXPECT_EQ(coordinator.check().size(), 1u);
        coordinator.reopen_complete();
        coordinator.wait_idle();
        write_bytes(log, 300, c);
    }
    EXPECT_EQ(coordinator.rotations(), 4u);
    EXPECT_EQ(test::read_maybe_gzip(dir / "bws.log.1.gz"), std::string(299, 'd') + "\n");
    EXPECT_EQ(test::read_maybe_gzip(dir / "bws.log.2.gz"), std::string(299, 'c') + "\n");
    EXPECT_EQ(test::read_maybe_gzip(dir / "bws.log.3.gz"), std::string(299, 'b') + "\n");
    EXPECT_FALSE(std::filesystem::exists(dir / "bws.log.4.gz"));
    EXPECT_EQ(test::read_file(log), std::string(299, 'e') + "\n");
    EXPECT_EQ(test::read_file(other).size(), 50u);
}

TEST(LogRotationCoordinator, WithoutCompressionKeepsPlainFiles) {
    temp_dir dir;
    const auto log = dir / "e.log";
    rotation_coordinator coordinator({10, 2, false}, {log});
    EXPECT_TRUE(coordinator.check().empty()); // missing file: nothing to do
    write_bytes(log, 20, '1');
    EXPECT_EQ(coordinator.check().size(), 1u);
    coordinator.reopen_complete();
    EXPECT_FALSE(coordinator.busy());
    write_bytes(log, 20, '2');
    EXPECT_EQ(coordinator.check().size(), 1u);
    coordinator.reopen_complete();
    write_bytes(log, 20, '3');
    EXPECT_EQ(coordinator.check().size(), 1u);
    coordinator.reopen_complete();
    EXPECT_EQ(test::read_file(dir / "e.log.1"), std::string(19, '3') + "\n");
    EXPECT_EQ(test::read_file(dir / "e.log.2"), std::string(19, '2') + "\n");
    EXPECT_FALSE(std::filesystem::exists(dir / "e.log.3"));
}

// Child side of the concurrency test: writes `count` access lines through the real writer,
// reopening on SIGUSR1 and acknowledging each reopen with one byte on `ack_fd`.
volatile std::sig_atomic_t reopen_requested = 0;
extern "C" void on_sigusr1(int) {
    reopen_requested = 1;
}

[[noreturn]] void writer_child(const std::filesystem::path& path, int index, int count,
                               int ack_fd) {
    struct sigaction action {};
    action.sa_handler = on_sigusr1;
    ::sigemptyset(&action.sa_mask);
    ::sigaction(SIGUSR1, &action, nullptr);
    // The parent forked with SIGUSR1 blocked: a rotation's signal that came before the
    // handler was in place waits as pending instead of killing the child.
    sigset_t usr1;
    ::sigemptyset(&usr1);
    ::sigaddset(&usr1, SIGUSR1);
    ::sigprocmask(SIG_UNBLOCK, &usr1, nullptr);
    auto writer =
        open_access_log({access_target::kind::file, path}, config::access_log_format::json,
                        {std::chrono::milliseconds(2), 4096});
    const std::string site = "site" + std::to_string(index);
    for (int i = 0; i < count; ++i) {
        if (reopen_requested) {
            reopen_requested = 0;
            writer->reopen();
            const char ack = static_cast<char>('0' + index);
            if (::write(ack_fd, &ack, 1) != 1)
                ::_exit(3);
        }
        const auto target = "/child/" + std::to_string(index) + "/" + std::to_string(i);
        access_record record;
        record.time = std::chrono::system_clock::now();
        record.site = site;
        record.client_address = "127.0.0.1";
        record.method = "GET";
        record.target = target;
        record.status = 200;
        record.bytes_sent = static_cast<std::uint64_t>(i);
        record.user_agent = "test \"agent\"";
        writer->write(record);
        if (i % 8 == 0)
            ::usleep(1000); // spread the writes so that many rotations happen meanwhile
    }
    writer->flush();
    ::_exit(0);
}

TEST(LogRotationConcurrency, NoLineLostOrTornAcrossProcesses) {
    temp_dir dir;
    const auto path = dir / "access.log";
    constexpr int children = 4;
    constexpr int per_child = 3000;
    int ack_pipe[2];
    ASSERT_EQ(::pipe2(ack_pipe, O_CLOEXEC), 0);
    std::vector<pid_t> pids;
    // A slow child (a loaded machine, the sanitizers) may not have installed its SIGUSR1
    // handler when the first rotation signals it; blocked across fork, the signal waits.
    sigset_t usr1, saved;
    ::sigemptyset(&usr1);
    ::sigaddset(&usr1, SIGUSR1);
    ASSERT_EQ(::sigprocmask(SIG_BLOCK, &usr1, &saved), 0);
    for (int c = 0; c < children; ++c) {
        const pid_t pid = ::fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            ::close(ack_pipe[0]);
            writer_child(path, c, per_child, ack_pipe[1]);
        }
        pids.push_back(pid);
    }
    ::sigprocmask(SIG_SETMASK, &saved, nullptr);
    ::close(ack_pipe[1]);

    rotation_coordinator coordinator({16 * 1024, 1000, true}, {path});
    std::set<pid_t> running(pids.begin(), pids.end());
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!running.empty() && std::chrono::steady_clock::now() < deadline) {
        if (!coordinator.check().empty()) {
            // What the master does: signal every live worker, wait for each one's answer (or
            // its exit, which closes its file), then let compression start.
            std::set<pid_t> waiting = running;
            for (const pid_t pid : waiting)
                ::kill(pid, SIGUSR1);
            while (!waiting.empty() && std::chrono::steady_clock::now() < deadline) {
                pollfd pfd{ack_pipe[0], POLLIN, 0};
                if (::poll(&pfd, 1, 5) > 0) {
                    char ack;
                    if (::read(ack_pipe[0], &ack, 1) == 1)
                        waiting.erase(pids[static_cast<std::size_t>(ack - '0')]);
                }
                for (auto it = waiting.begin(); it != waiting.end();) {
                    int status = 0;
                    if (::waitpid(*it, &status, WNOHANG) == *it) {
                        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
                        running.erase(*it);
                        it = waiting.erase(it);
                    } else {
                        ++it;
                    }
                }
            }
            coordinator.reopen_complete();
        }
        for (auto it = running.begin(); it != running.end();) {
            int status = 0;
            if (::waitpid(*it, &status, WNOHANG) == *it) {
                EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
                it = running.erase(it);
            } else {
                ++it;
            }
        }
        ::usleep(1000); // the coordinator's polling period: rotations race the writers
    }
    ASSERT_TRUE(running.empty()) << "writers did not finish in time";
    coordinator.wait_idle();
    ::close(ack_pipe[0]);
    EXPECT_GE(coordinator.rotations(), 5u);

    std::map<int, std::set<int>> seen;
    std::size_t total = 0;
    std::size_t gz_files = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
        const auto name = entry.path().filename().string();
        ASSERT_EQ(name.find(".tmp"), std::string::npos) << name;
        gz_files += entry.path().extension() == ".gz";
        for (const auto& line : test::split_lines(test::read_maybe_gzip(entry.path()))) {
            boost::system::error_code ec;
            const auto value = boost::json::parse(line, ec);
            ASSERT_FALSE(ec) << "torn line in " << name << ": " << line;
            const std::string target(value.at("target").as_string());
            const auto slash = target.find('/', 7);
            const int child = std::stoi(target.substr(7, slash - 7));
            const int index = std::stoi(target.substr(slash + 1));
            EXPECT_TRUE(seen[child].insert(index).second) << "duplicate " << target;
            ++total;
        }
    }
    EXPECT_EQ(total, static_cast<std::size_t>(children * per_child));
    EXPECT_GE(gz_files, 4u);
    for (int c = 0; c < children; ++c)
        EXPECT_EQ(seen[c].size(), static_cast<std::size_t>(per_child));
}

} // namespace
} // namespace bws::log
