// PID file: locking, stale replacement, the refusal message, removal.
#include "app/pidfile.hpp"

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace {

namespace fs = std::filesystem;
using bws::app::pid_file;
using bws::app::probe_pid_file;

struct temp_dir {
    fs::path path;
    temp_dir() {
        std::string tmpl = (fs::temp_directory_path() / "bws-pidfile-XXXXXX").string();
        path = mkdtemp(tmpl.data());
    }
    ~temp_dir() { fs::remove_all(path); }
};

std::string read_all(const fs::path& p) {
    std::ifstream in(p);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(PidFile, AcquireWriteRemove) {
    temp_dir dir;
    auto path = dir.path / "bws.pid";
    std::string error;
    auto pf = pid_file::acquire(path, error);
    ASSERT_TRUE(pf) << error;
    EXPECT_TRUE(fs::exists(path));
    EXPECT_EQ(read_all(path), ""); // nothing before ready
    ASSERT_TRUE(pf->write(4242, error)) << error;
    EXPECT_EQ(read_all(path), "4242\n");
    auto status = probe_pid_file(path);
    EXPECT_TRUE(status.exists);
    EXPECT_TRUE(status.locked);
    ASSERT_TRUE(status.pid);
    EXPECT_EQ(*status.pid, 4242);
    pf->remove();
    EXPECT_FALSE(fs::exists(path));
}

TEST(PidFile, SecondInstanceIsRefusedWithPid) {
    temp_dir dir;
    auto path = dir.path / "bws.pid";
    std::string error;
    auto first = pid_file::acquire(path, error);
    ASSERT_TRUE(first) << error;
    ASSERT_TRUE(first->write(getpid(), error));
    // flock locks belong to the open file description: a second open in this process
    // conflicts exactly like another process would.
    auto second = pid_file::acquire(path, error);
    EXPECT_FALSE(second);
    EXPECT_EQ(error, "another bws (pid " + std::to_string(getpid()) +
                         ") is running with PID file " + path.string());
    // The refused attempt must not have touched the content.
    EXPECT_EQ(read_all(path), std::to_string(getpid()) + "\n");
}

TEST(PidFile, StaleFileIsReplaced) {
    temp_dir dir;
    auto path = dir.path / "bws.pid";
    {
        std::ofstream out(path);
        out << "999999\n";
    }
    auto status = probe_pid_file(path);
    EXPECT_TRUE(status.exists);
    EXPECT_FALSE(status.locked);
    std::string error;
    auto pf = pid_file::acquire(path, error);
    ASSERT_TRUE(pf) << error;
    EXPECT_EQ(read_all(path), ""); // the dead pid is gone at once
    ASSERT_TRUE(pf->write(77, error));
    EXPECT_EQ(read_all(path), "77\n");
}

TEST(PidFile, LockIsReleasedWhenOwnerDies) {
    temp_dir dir;
    auto path = dir.path / "bws.pid";
    int ready[2];
    ASSERT_EQ(pipe(ready), 0);
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        std::string error;
        auto pf = pid_file::acquire(path, error);
        if (!pf || !pf->write(getpid(), error)) {
            _exit(1);
        }
        char c = 'x';
        [[maybe_unused]] auto n = write(ready[1], &c, 1);
        pause();
        _exit(0);
    }
    close(ready[1]);
    char c;
    ASSERT_EQ(read(ready[0], &c, 1), 1);
    close(ready[0]);
    std::string error;
    EXPECT_FALSE(pid_file::acquire(path, error));
    EXPECT_NE(error.find("(pid " + std::to_string(child) + ")"), std::string::npos) << error;
    kill(child, SIGKILL);
    int status = 0;
    waitpid(child, &status, 0);
    // The file still names the dead process, but nobody holds the lock any more.
    EXPECT_FALSE(probe_pid_file(path).locked);
    auto pf = pid_file::acquire(path, error);
    EXPECT_TRUE(pf) << error;
}

TEST(PidFile, UnwritableDirectoryIsAnError) {
    std::string error;
    auto pf = pid_file::acquire("/nonexistent-dir-bws/bws.pid", error);
    EXPECT_FALSE(pf);
    EXPECT_NE(error.find("cannot open PID file /nonexistent-dir-bws/bws.pid"), std::string::npos);
}

TEST(PidFile, DestructorDoesNotRemove) {
    temp_dir dir;
    auto path = dir.path / "bws.pid";
    std::string error;
    {
        auto pf = pid_file::acquire(path, error);
        ASSERT_TRUE(pf);
    }
    EXPECT_TRUE(fs::exists(path));
    EXPECT_FALSE(probe_pid_file(path).locked);
}

} // namespace
