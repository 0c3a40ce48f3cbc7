// Log files under failure: missing directory, read-only filesystem, full disk (a 64 KiB tmpfs
// when the tests run as root). Nothing throws, drops are counted and reported, and writing
// recovers by itself.
#include "log/failure_report.hpp"
#include "log/line_file.hpp"
#include "support/log_text.hpp"
#include "support/temp_dir.hpp"

#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

namespace bws::log {
namespace {

using test::temp_dir;
constexpr line_file::timing immediate{std::chrono::hours(1), std::chrono::seconds(0)};

// Captures failure reports in a file instead of stderr.
class LogLineFile : public ::testing::Test {
protected:
    void SetUp() override {
        report_fd_ = ::open((dir_ / "reports").c_str(), O_CREAT | O_WRONLY | O_APPEND, 0600);
        ASSERT_GE(report_fd_, 0);
        failure_report::set_report_fd(report_fd_);
    }
    void TearDown() override {
        failure_report::set_report_fd(2);
        ::close(report_fd_);
    }
    std::vector<std::string> reports() {
        return test::split_lines(test::read_file(dir_ / "reports"));
    }
    temp_dir dir_;
    int report_fd_ = -1;
};

TEST_F(LogLineFile, CreatesWith0640AndAppends) {
    const auto path = dir_ / "x.log";
    const auto old_mask = ::umask(0);
    {
        line_file file(path);
        EXPECT_TRUE(file.write("one\n"));
        EXPECT_TRUE(file.write("two\nthree\n"));
    }
    ::umask(old_mask);
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0640u);
    line_file again(path);
    EXPECT_TRUE(again.write("four\n"));
    EXPECT_EQ(test::read_file(path), "one\ntwo\nthree\nfour\n");
}

TEST_F(LogLineFile, AppendsAfterCopytruncate) {
    const auto path = dir_ / "c.log";
    line_file file(path);
    file.write("before truncation\n");
    ASSERT_EQ(::truncate(path.c_str(), 0), 0); // what logrotate's copytruncate does
    file.write("after\n");
    EXPECT_EQ(test::read_file(path), "after\n"); // O_APPEND: no hole of zero bytes
}

TEST_F(LogLineFile, MissingDirectoryDropsThenRecovers) {
    const auto path = dir_ / "later" / "x.log";
    line_file file(path, immediate);
    EXPECT_FALSE(file.is_open());
    EXPECT_NO_THROW(EXPECT_FALSE(file.write("lost 1\n")));
    EXPECT_FALSE(file.write("lost 2\nlost 3\n"));
    EXPECT_EQ(file.dropped_lines(), 3u);
    const auto r = reports();
    ASSERT_EQ(r.size(), 1u); // once per interval, not once per line
    EXPECT_NE(r[0].find("No such file or directory"), std::string::npos) << r[0];

    std::filesystem::create_directory(dir_ / "later");
    EXPECT_TRUE(file.write("kept\n"));
    EXPECT_EQ(test::read_file(path), "kept\n");
}

TEST_F(LogLineFile, RecoveryIsReportedAfterTheInterval) {
    const auto path = dir_ / "gone" / "y.log";
    line_file file(path, {std::chrono::milliseconds(0), std::chrono::seconds(0)});
    file.write("lost\n");
    std::filesystem::create_directory(dir_ / "gone");
    file.write("kept\n");
    const auto r = reports();
    ASSERT_GE(r.size(), 2u);
    EXPECT_NE(r.back().find("works again"), std::string::npos) << r.back();
}

// A private tmpfs for the filesystem-level failures; needs root (CAP_SYS_ADMIN).
class LogLineFileTmpfs : public LogLineFile {
protected:
    void SetUp() override {
        LogLineFile::SetUp();
        mount_point_ = dir_ / "mnt";
        std::filesystem::create_directory(mount_point_);
        if (::mount("tmpfs", mount_point_.c_str(), "tmpfs", 0, "size=64k,mode=0755") != 0)
            GTEST_SKIP() << "cannot mount a tmpfs (not root?): " << std::strerror(errno);
        mounted_ = true;
    }
    void TearDown() override {
        if (mounted_)
            ::umount2(mount_point_.c_str(), MNT_DETACH);
        LogLineFile::TearDown();
    }
    std::filesystem::path mount_point_;
    bool mounted_ = false;
};

TEST_F(LogLineFileTmpfs, FullDiskDropsWholeLinesAndRecovers) {
    const auto path = mount_point_ / "bws.log";
    line_file file(path, immediate);
    ASSERT_TRUE(file.is_open());
    // Fill the filesystem with another file, leaving a little room.
    {
        std::ofstream filler(mount_point_ / "filler", std::ios::binary);
        filler << std::string(60 * 1024, 'f');
    }
    const std::string line = std::string(99, 'l') + "\n";
    int failures = 0;
    for (int i = 0; i < 200; ++i)
        EXPECT_NO_THROW(failures += file.write(line) ? 0 : 1);
    EXPECT_GT(failures, 0);
    EXPECT_EQ(file.dropped_lines(), static_cast<std::uint64_t>(failures));
    EXPECT_EQ(reports().size(), 1u);
    EXPECT_NE(reports()[0].find("No space left on device"), std::string::npos);

    std::filesystem::remove(mount_point_ / "filler");
    EXPECT_TRUE(file.write("recovered\n"));
    const auto lines = test::split_lines(test::read_file(path));
    ASSERT_FALSE(lines.empty());
    EXPECT_EQ(lines.back(), "recovered");
    for (std::size_t i = 0; i + 1 < lines.size(); ++i)
        ASSERT_EQ(lines[i] + "\n", line) << "torn line " << i;
    EXPECT_EQ(lines.size() - 1, 200u - static_cast<std::size_t>(failures));
}

TEST_F(LogLineFileTmpfs, ReadOnlyFilesystemDropsThenRecoversOnReopen) {
    const auto path = mount_point_ / "ro.log";
    ASSERT_EQ(::mount(nullptr, mount_point_.c_str(), nullptr, MS_REMOUNT | MS_RDONLY, nullptr), 0);
    line_file file(path, immediate);
    EXPECT_FALSE(file.is_open());
    EXPECT_NO_THROW(EXPECT_FALSE(file.write("lost\n")));
    EXPECT_EQ(file.dropped_lines(), 1u);
    ASSERT_FALSE(reports().empty());
    EXPECT_NE(reports()[0].find("Read-only file system"), std::string::npos) << reports()[0];

    ASSERT_EQ(::mount(nullptr, mount_point_.c_str(), nullptr, MS_REMOUNT, "size=64k"), 0);
    EXPECT_TRUE(file.write("kept\n"));
    EXPECT_EQ(test::read_file(path), "kept\n");
}

} // namespace
} // namespace bws::log
