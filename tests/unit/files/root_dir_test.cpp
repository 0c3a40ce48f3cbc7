// Opening beneath a site root: symlinks in and out, absolute links, both strategies.
#include "files/root_dir.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;
using bws::files::root_dir;

namespace {

class FilesRootDir : public ::testing::TestWithParam<root_dir::strategy> {
protected:
    void SetUp() override {
        base_ = dir_.path();
        root_ = base_ / "root";
        fs::create_directories(root_ / "sub");
        write(root_ / "index.html", "root index");
        write(root_ / "sub" / "page.html", "sub page");
        write(base_ / "secret.txt", "outside");
        fs::create_directories(base_ / "outside_dir");
        write(base_ / "outside_dir" / "x.txt", "outside dir");
    }
    void write(const fs::path& p, const std::string& text) const {
        dir_.write(p.lexically_relative(base_).string(), text);
    }
    // Reads what open_beneath returned, closing it; "" plus errno text on failure.
    static std::string read_fd(int fd) {
        if (fd < 0)
            return "errno " + std::to_string(-fd);
        std::string out(256, '\0');
        ssize_t n = ::read(fd, out.data(), out.size());
        ::close(fd);
        out.resize(n < 0 ? 0 : static_cast<std::size_t>(n));
        return out;
    }

    bws::test::temp_dir dir_{"bws-rootdir"};
    fs::path base_;
    fs::path root_;
};

} // namespace

TEST_P(FilesRootDir, OpensFilesAndTheRootItself) {
    root_dir root(root_, GetParam());
    ASSERT_EQ(root.error(), 0);
    EXPECT_FALSE(root.identity().empty());
    EXPECT_EQ(read_fd(root.open_beneath("index.html")), "root index");
    EXPECT_EQ(read_fd(root.open_beneath("sub/page.html")), "sub page");
    int fd = root.open_beneath("");
    ASSERT_GE(fd, 0);
    struct stat st {};
    ASSERT_EQ(::fstat(fd, &st), 0);
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    ::close(fd);
    EXPECT_EQ(root.open_beneath("missing.html"), -ENOENT);
}

TEST_P(FilesRootDir, RelativeSymlinkInsideIsFollowed) {
    fs::create_symlink("sub/page.html", root_ / "link.html");
    fs::create_directory_symlink("sub", root_ / "sublink");
    root_dir root(root_, GetParam());
    EXPECT_EQ(read_fd(root.open_beneath("link.html")), "sub page");
    EXPECT_EQ(read_fd(root.open_beneath("sublink/page.html")), "sub page");
}

TEST_P(FilesRootDir, AbsoluteSymlinkInsideIsFollowed) {
    fs::create_symlink(root_ / "sub" / "page.html", root_ / "abs.html");
    root_dir root(root_, GetParam());
    EXPECT_EQ(read_fd(root.open_beneath("abs.html")), "sub page");
}

TEST_P(FilesRootDir, SymlinksOutsideAreRefused) {
    fs::create_symlink("../secret.txt", root_ / "rel-out.txt");
    fs::create_symlink(base_ / "secret.txt", root_ / "abs-out.txt");
    fs::create_symlink("/etc/passwd", root_ / "passwd");
    fs::create_directory_symlink(base_ / "outside_dir", root_ / "outdir");
    fs::create_symlink("/proc/self/root/etc/passwd", root_ / "magic");
    root_dir root(root_, GetParam());
    for (const char* name : {"rel-out.txt", "abs-out.txt", "passwd", "outdir/x.txt", "magic"}) {
        int fd = root.open_beneath(name);
        EXPECT_LT(fd, 0) << name;
        if (fd >= 0)
            ::close(fd);
    }
    EXPECT_EQ(root.open_beneath("rel-out.txt"), -EXDEV);
}

TEST_P(FilesRootDir, RootReachedThroughASymlinkWorks) {
    fs::create_directory_symlink(root_, base_ / "current");
    root_dir root(base_ / "current", GetParam());
    ASSERT_EQ(root.error(), 0);
    EXPECT_EQ(read_fd(root.open_beneath("index.html")), "root index");
    fs::create_symlink(root_ / "index.html", root_ / "abs-index.html");
    EXPECT_EQ(read_fd(root.open_beneath("abs-index.html")), "root index");
}

TEST_P(FilesRootDir, MissingRootReportsError) {
    root_dir root(base_ / "nope", GetParam());
    EXPECT_EQ(root.error(), ENOENT);
    EXPECT_LT(root.open_beneath("index.html"), 0);
}

TEST_P(FilesRootDir, PermissionDenied) {
    fs::create_directory(root_ / "locked");
    write(root_ / "locked" / "f.txt", "x");
    write(root_ / "noread.txt", "x");
    fs::permissions(root_ / "noread.txt", fs::perms::none);
    fs::permissions(root_ / "locked", fs::perms::none);
    struct outcome {
        int root_error;
        int noread;
        int locked;
        int readable; // a readable file, to show the user can read at all
    };
    // Root ignores file permissions: as root, the opens run in a child dropped to "nobody".
    const auto r = bws::test::as_unprivileged([&] {
        root_dir root(root_, GetParam());
        auto close_fd = [](int fd) {
            if (fd >= 0)
                ::close(fd);
            return fd >= 0 ? 0 : fd;
        };
        return outcome{root.error(), root.open_beneath("noread.txt"),
                       root.open_beneath("locked/f.txt"),
                       close_fd(root.open_beneath("index.html"))};
    });
    ASSERT_TRUE(r.has_value()) << "the unprivileged child failed";
    EXPECT_EQ(r->root_error, 0);
    EXPECT_EQ(r->noread, -EACCES);
    EXPECT_EQ(r->locked, -EACCES);
    EXPECT_EQ(r->readable, 0);
}

INSTANTIATE_TEST_SUITE_P(Files, FilesRootDir,
                         ::testing::Values(root_dir::strategy::automatic,
                                           root_dir::strategy::realpath_only),
                         [](const auto& info) {
                             return info.param == root_dir::strategy::automatic
                                        ? std::string("openat2")
                                        : std::string("realpath");
                         });
