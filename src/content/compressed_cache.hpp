// Per-worker cache of bodies compressed on the fly: a static file is compressed once per coding
// and level, and every later response shares the result. Keyed by what identifies the file's
// content (device, inode, size, mtime to the nanosecond), so an edit, a replacement by rename or
// a truncation makes a new key and the old entry ages out; capped in bytes, least recently used
// evicted first. Single-threaded (one per worker, shared by its sites): no locks.
#pragma once

#include "content/coding.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <sys/types.h>

namespace bws::content {

struct compressed_key {
    dev_t device = 0;
    ino_t inode = 0;
    std::uint64_t size = 0;
    std::int64_t mtime_sec = 0;
    std::int64_t mtime_nsec = 0;
    coding encoding = coding::identity;
    int level = 0;
    auto operator<=>(const compressed_key&) const = default;
};

class compressed_cache {
public:
    // What a lookup gives: the compressed body, or null when compressing did not make the file
    // smaller (remembered too, so the attempt is not repeated per request).
    using body = std::shared_ptr<const std::string>;
    using producer = std::function<std::optional<std::string>()>;

    static constexpr std::size_t default_max_bytes = 32u << 20;

    explicit compressed_cache(std::size_t max_bytes = default_max_bytes) : max_bytes_(max_bytes) {}

    // The cached result for `key`, else make() it (nullopt: failed, nothing is cached), keep it
    // when `original_size` shrank, and return it. A result larger than the cap is returned but
    // not kept.
    body get(const compressed_key& key, std::uint64_t original_size, const producer& make);

    std::size_t bytes() const noexcept { return bytes_; }
    std::size_t entries() const noexcept { return map_.size(); }

private:
    struct node {
        compressed_key key;
        body value;
        std::size_t cost;
    };
    void evict_to(std::size_t limit);

    std::size_t max_bytes_;
    std::size_t bytes_ = 0;
    std::list<node> lru_; // most recently used first
    std::map<compressed_key, std::list<node>::iterator> map_;
};

} // namespace bws::content
