// Per-worker cache of opened files beneath site roots: fd, stat data, validators and (for small
// files) the content, revalidated against the filesystem at most once per interval.
#pragma once

#include "files/root_dir.hpp"
#include "http/response.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <unordered_map>

namespace bws::files {

// What the cache knows about one path. Immutable once published: a change on disk produces a
// new entry, so responses that still hold the old one stay self-consistent.
struct file_entry {
    bool directory = false;
    std::shared_ptr<http::open_file> file; // regular files only
    std::uint64_t size = 0;
    std::int64_t mtime_sec = 0;
    std::int64_t mtime_nsec = 0;
    dev_t device = 0;
    ino_t inode = 0;
    std::string etag;          // strong, quoted
    std::string last_modified; // IMF-fixdate
    bool inline_content = false;
    std::string content; // the whole file when inline_content
};

struct file_lookup {
    int error = 0; // errno when entry is null: ENOENT, EACCES, EXDEV (escaping symlink), ...
    std::shared_ptr<const file_entry> entry;
};

// Single-threaded (one per worker, shared by that worker's sites): no locks.
class file_cache {
public:
    using clock = std::chrono::steady_clock;
    // Opens a path beneath a root as root_dir::open_beneath does (an fd, or -errno). Replaceable
    // like the clock, so tests can give the cache storage that fails the way a dying disk or a
    // stale NFS mount does (EIO, ESTALE), which no local filesystem can be made to do.
    using opener = std::function<int(const root_dir&, std::string_view)>;

    // `open` empty: root_dir::open_beneath.
    explicit file_cache(std::size_t max_entries = 10000,
                        std::chrono::milliseconds revalidate_after = std::chrono::seconds(1),
                        std::size_t max_inline_bytes = 64 * 1024,
                        std::function<clock::time_point()> now = &clock::now, opener open = {});

    // The entry for `relative` (normalised) beneath `root`. A cached entry younger than the
    // revalidation interval is returned without a syscall; an older one is checked against a
    // fresh open (same device, inode, size, mtime, type) and replaced when anything changed.
    // Errors (missing file, permission) are not cached. Sockets, FIFOs and devices → ENOENT.
    file_lookup open(const root_dir& root, std::string_view relative);

    std::size_t size() const noexcept { return map_.size(); }

private:
    struct node {
        std::string key;
        std::shared_ptr<const file_entry> entry;
        clock::time_point checked;
    };

    std::size_t max_entries_;
    clock::duration revalidate_after_;
    std::size_t max_inline_bytes_;
    std::function<clock::time_point()> now_;
    opener open_;
    std::list<node> lru_; // most recently used first
    std::unordered_map<std::string_view, std::list<node>::iterator> map_; // views into lru_ keys
};

} // namespace bws::files
