// The per-worker file cache (see file_cache.hpp).
#include "files/file_cache.hpp"

#include "files/conditional.hpp"
#include "files/http_date.hpp"

#include <cerrno>
#include <sys/stat.h>
#include <unistd.h>

namespace bws::files {

namespace {

bool same_file(const file_entry& e, const struct stat& st) {
    return e.device == st.st_dev && e.inode == st.st_ino && e.directory == S_ISDIR(st.st_mode) &&
           e.size == static_cast<std::uint64_t>(st.st_size) && e.mtime_sec == st.st_mtim.tv_sec &&
           e.mtime_nsec == st.st_mtim.tv_nsec;
}

// Reads the whole file; false if it did not yield exactly `size` bytes (being written to).
bool read_all(int fd, std::uint64_t size, std::string& out) {
    out.resize(size);
    std::uint64_t done = 0;
    while (done < size) {
        ssize_t n = ::pread(fd, out.data() + done, size - done, static_cast<off_t>(done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        done += static_cast<std::uint64_t>(n);
    }
    return true;
}

// Builds an entry from a freshly opened fd (taking ownership of it); error on failure.
file_lookup make_entry(int fd, const struct stat& st, std::size_t max_inline) {
    auto entry = std::make_shared<file_entry>();
    entry->device = st.st_dev;
    entry->inode = st.st_ino;
    entry->size = static_cast<std::uint64_t>(st.st_size);
    entry->mtime_sec = st.st_mtim.tv_sec;
    entry->mtime_nsec = st.st_mtim.tv_nsec;
    if (S_ISDIR(st.st_mode)) {
        ::close(fd); // only its existence matters: index files are looked up by path
        entry->directory = true;
        return {0, std::move(entry)};
    }
    if (!S_ISREG(st.st_mode)) {
        ::close(fd);
        return {ENOENT, nullptr};
    }
    entry->file = std::make_shared<http::open_file>(fd);
    entry->etag = make_etag(entry->size, entry->mtime_sec, entry->mtime_nsec);
    entry->last_modified = format_http_date(entry->mtime_sec);
    if (entry->size <= max_inline)
        entry->inline_content = read_all(fd, entry->size, entry->content);
    if (!entry->inline_content)
        entry->content.clear();
    return {0, std::move(entry)};
}

} // namespace

file_cache::file_cache(std::size_t max_entries, std::chrono::milliseconds revalidate_after,
                       std::size_t max_inline_bytes, std::function<clock::time_point()> now,
                       opener open)
    : max_entries_(max_entries == 0 ? 1 : max_entries), revalidate_after_(revalidate_after),
      max_inline_bytes_(max_inline_bytes), now_(std::move(now)), open_(std::move(open)) {}

file_lookup file_cache::open(const root_dir& root, std::string_view relative) {
    std::string key;
    key.reserve(root.identity().size() + 1 + relative.size());
    key += root.identity();
    key.push_back('\0'); // cannot occur in either part
    key += relative;

    const clock::time_point now = now_();
    auto found = map_.find(key);
    if (found != map_.end()) {
        auto it = found->second;
        lru_.splice(lru_.begin(), lru_, it);
        if (now - it->checked < revalidate_after_)
            return {0, it->entry};
    }

    int fd = open_ ? open_(root, relative) : root.open_beneath(relative);
    struct stat st {};
    if (fd >= 0 && ::fstat(fd, &st) != 0) {
        int err = errno;
        ::close(fd);
        fd = -err;
    }
    if (fd < 0) {
        if (found != map_.end()) {
            auto it = found->second;
            map_.erase(found);
            lru_.erase(it);
        }
        return {-fd, nullptr};
    }

    if (found != map_.end()) {
        auto it = found->second;
        if (same_file(*it->entry, st)) {
            ::close(fd);
            it->checked = now;
            return {0, it->entry};
        }
        file_lookup fresh = make_entry(fd, st, max_inline_bytes_);
        if (!fresh.entry) {
            map_.erase(found);
            lru_.erase(it);
            return fresh;
        }
        it->entry = fresh.entry;
        it->checked = now;
        return fresh;
    }

    file_lookup fresh = make_entry(fd, st, max_inline_bytes_);
    if (!fresh.entry)
        return fresh;
    lru_.push_front(node{std::move(key), fresh.entry, now});
    map_.emplace(lru_.front().key, lru_.begin());
    while (map_.size() > max_entries_) {
        map_.erase(lru_.back().key);
        lru_.pop_back();
    }
    return fresh;
}

} // namespace bws::files
