// The compressed-body LRU.
#include "content/compressed_cache.hpp"

namespace bws::content {

namespace {

constexpr std::size_t node_overhead = 128; // a "not smaller" entry still costs its node

} // namespace

compressed_cache::body compressed_cache::get(const compressed_key& key, std::uint64_t original_size,
                                             const producer& make) {
    if (auto it = map_.find(key); it != map_.end()) {
        lru_.splice(lru_.begin(), lru_, it->second);
        return it->second->value;
    }
    std::optional<std::string> made = make();
    if (!made)
        return nullptr;
    body value;
    if (made->size() < original_size)
        value = std::make_shared<const std::string>(std::move(*made));
    const std::size_t cost = (value ? value->size() : 0) + node_overhead;
    if (cost > max_bytes_)
        return value;
    evict_to(max_bytes_ - cost);
    lru_.push_front(node{key, value, cost});
    map_.emplace(key, lru_.begin());
    bytes_ += cost;
    return value;
}

void compressed_cache::evict_to(std::size_t limit) {
    while (bytes_ > limit && !lru_.empty()) {
        const node& last = lru_.back();
        bytes_ -= last.cost;
        map_.erase(last.key);
        lru_.pop_back();
    }
}

} // namespace bws::content
