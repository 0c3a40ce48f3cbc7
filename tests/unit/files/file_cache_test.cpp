// The per-worker file cache: hits without syscalls, revalidation after the interval, replaced
// and deleted files, eviction, and the handler serving fresh content after a change.
#include "files/file_cache.hpp"
#include "files/static_handler.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace bws;
using files::file_cache;
using files::root_dir;

namespace {

// Test-controlled time: nothing here sleeps.
file_cache::clock::time_point fake_now{};
file_cache::clock::time_point now_fn() {
    return fake_now;
}

class FilesCache : public ::testing::Test {
protected:
    void SetUp() override {
        root_path_ = dir_.path();
        fake_now = file_cache::clock::time_point{} + std::chrono::hours(1);
        write("a.txt", "first");
    }
    void write(const std::string& rel, const std::string& text) {
        bws::test::write_file(root_path_ / rel, text);
    }
    // Replace by rename, as deploy tools do: a new inode under the same name.
    void replace(const std::string& rel, const std::string& text) {
        write(rel + ".tmp", text);
        fs::rename(root_path_ / (rel + ".tmp"), root_path_ / rel);
    }
    std::shared_ptr<file_cache> make_cache(std::size_t max_entries = 100,
                                           std::size_t max_inline = 64 * 1024) {
        return std::make_shared<file_cache>(max_entries, std::chrono::milliseconds(1000),
                                            max_inline, &now_fn);
    }
    static std::string content(const files::file_entry& e) {
        if (e.inline_content)
            return e.content;
        std::string out(e.size, '\0');
        EXPECT_EQ(::pread(e.file->fd(), out.data(), out.size(), 0), static_cast<ssize_t>(e.size));
        return out;
    }

    bws::test::temp_dir dir_{"bws-cache"};
    fs::path root_path_;
};

} // namespace

TEST_F(FilesCache, HitReturnsTheSameEntryWithinTheInterval) {
    root_dir root(root_path_);
    auto cache = make_cache();
    auto a = cache->open(root, "a.txt");
    ASSERT_TRUE(a.entry);
    EXPECT_TRUE(a.entry->inline_content);
    EXPECT_EQ(a.entry->content, "first");
    EXPECT_FALSE(a.entry->etag.empty());
    EXPECT_FALSE(a.entry->last_modified.empty());
    replace("a.txt", "second!");
    fake_now += std::chrono::milliseconds(999);
    auto b = cache->open(root, "a.txt");
    EXPECT_EQ(b.entry, a.entry); // not yet revalidated: served from memory
    fake_now += std::chrono::milliseconds(1);
    auto c = cache->open(root, "a.txt");
    ASSERT_TRUE(c.entry);
    EXPECT_NE(c.entry, a.entry);
    EXPECT_EQ(content(*c.entry), "second!");
    EXPECT_NE(c.entry->etag, a.entry->etag);
    // The old entry stays usable by responses that still hold it.
    EXPECT_EQ(a.entry->content, "first");
}

TEST_F(FilesCache, UnchangedFileKeepsItsEntryAfterRevalidation) {
    root_dir root(root_path_);
    auto cache = make_cache();
    auto a = cache->open(root, "a.txt");
    fake_now += std::chrono::seconds(5);
    auto b = cache->open(root, "a.txt");
    EXPECT_EQ(a.entry, b.entry);
}

TEST_F(FilesCache, InPlaceModificationIsDetected) {
    root_dir root(root_path_);
    auto cache = make_cache();
    auto a = cache->open(root, "a.txt");
    write("a.txt", "fir5t"); // same size, same inode: mtime decides
    struct timespec times[2] = {{0, UTIME_OMIT}, {a.entry->mtime_sec + 10, 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, (root_path_ / "a.txt").c_str(), times, 0), 0);
    fake_now += std::chrono::seconds(1);
    auto b = cache->open(root, "a.txt");
    ASSERT_TRUE(b.entry);
    EXPECT_NE(a.entry, b.entry);
    EXPECT_EQ(b.entry->content, "fir5t");
}

TEST_F(FilesCache, DeletedFileDisappearsAfterTheInterval) {
    root_dir root(root_path_);
    auto cache = make_cache();
    ASSERT_TRUE(cache->open(root, "a.txt").entry);
    EXPECT_EQ(cache->size(), 1u);
    fs::remove(root_path_ / "a.txt");
    fake_now += std::chrono::seconds(1);
    auto gone = cache->open(root, "a.txt");
    EXPECT_FALSE(gone.entry);
    EXPECT_EQ(gone.error, ENOENT);
    EXPECT_EQ(cache->size(), 0u);
}

TEST_F(FilesCache, ErrorsAreNotCached) {
    root_dir root(root_path_);
    auto cache = make_cache();
    EXPECT_EQ(cache->open(root, "new.txt").error, ENOENT);
    write("new.txt", "now here");
    auto found = cache->open(root, "new.txt"); // same instant: no negative entry to wait out
    ASSERT_TRUE(found.entry);
    EXPECT_EQ(found.entry->content, "now here");
}

TEST_F(FilesCache, DirectoriesAndSpecialFiles) {
    root_dir root(root_path_);
    auto cache = make_cache();
    fs::create_directory(root_path_ / "d");
    auto d = cache->open(root, "d");
    ASSERT_TRUE(d.entry);
    EXPECT_TRUE(d.entry->directory);
    EXPECT_FALSE(d.entry->file);
    ASSERT_EQ(::mkfifo((root_path_ / "fifo").c_str(), 0644), 0);
    auto f = cache->open(root, "fifo"); // must neither hang nor be served
    EXPECT_FALSE(f.entry);
    EXPECT_EQ(f.error, ENOENT);
}

TEST_F(FilesCache, LargeFilesKeepOnlyTheFd) {
    root_dir root(root_path_);
    auto cache = make_cache(100, 4);
    auto a = cache->open(root, "a.txt"); // 5 bytes > 4
    ASSERT_TRUE(a.entry);
    EXPECT_FALSE(a.entry->inline_content);
    EXPECT_TRUE(a.entry->content.empty());
    ASSERT_TRUE(a.entry->file);
    EXPECT_EQ(content(*a.entry), "first");
}

TEST_F(FilesCache, BoundedByLeastRecentlyUsedEviction) {
    root_dir root(root_path_);
    auto cache = make_cache(2);
    write("b.txt", "b");
    write("c.txt", "c");
    auto a = cache->open(root, "a.txt");
    auto b = cache->open(root, "b.txt");
    EXPECT_EQ(cache->open(root, "a.txt").entry, a.entry); // a is now most recent
    cache->open(root, "c.txt");                           // evicts b
    EXPECT_EQ(cache->size(), 2u);
    EXPECT_EQ(cache->open(root, "a.txt").entry, a.entry);
    EXPECT_NE(cache->open(root, "b.txt").entry, b.entry); // reopened
}

TEST_F(FilesCache, RootsSharingACacheDoNotMix) {
    fs::path other = root_path_ / "other";
    fs::create_directory(other);
    std::ofstream(other / "a.txt") << "other root";
    root_dir first(root_path_);
    root_dir second(other);
    auto cache = make_cache();
    EXPECT_EQ(cache->open(first, "a.txt").entry->content, "first");
    EXPECT_EQ(cache->open(second, "a.txt").entry->content, "other root");
}

TEST_F(FilesCache, HandlerServesTheNewFileAfterTheInterval) {
    config::site site;
    site.static_dir = root_path_;
    auto cache = make_cache();
    files::static_handler handler(site, config::limits{}, cache);
    files::request_info req;
    req.raw_path = "/a.txt";
    auto before = handler.handle(req);
    ASSERT_EQ(before.status, 200u);
    ASSERT_EQ(before.body.size(), 1u);
    EXPECT_EQ(before.body[0].bytes, "first");
    replace("a.txt", "replaced");
    EXPECT_EQ(handler.handle(req).body[0].bytes, "first");
    fake_now += std::chrono::seconds(1);
    auto after = handler.handle(req);
    ASSERT_EQ(after.body.size(), 1u);
    EXPECT_EQ(after.body[0].bytes, "replaced");
    fs::remove(root_path_ / "a.txt");
    fake_now += std::chrono::seconds(1);
    EXPECT_EQ(handler.handle(req).status, 404u);
}
