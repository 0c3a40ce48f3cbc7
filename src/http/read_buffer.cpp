// read_block_pool (see read_buffer.hpp): blocks carved from 2 MiB anonymous mappings.
#include "http/read_buffer.hpp"

#include <sys/mman.h>

namespace bws::http {

namespace {
constexpr std::size_t chunk_size = 2 * 1024 * 1024;
} // namespace

read_block_pool& read_block_pool::shared() {
    static auto* pool = new read_block_pool(); // never destroyed: blocks outlive static dtors
    return *pool;
}

void* read_block_pool::allocate() {
    std::lock_guard lock(mutex_);
    if (!hot_.empty()) { // the most recently freed: its pages are likely still cached
        void* p = hot_.back();
        hot_.pop_back();
        return p;
    }
    if (!cold_.empty()) {
        void* p = cold_.back();
        cold_.pop_back();
        return p;
    }
    if (chunk_ == nullptr || chunk_used_ == chunk_size) {
        void* m =
            ::mmap(nullptr, chunk_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED)
            return nullptr;
        chunk_ = static_cast<char*>(m);
        chunk_used_ = 0;
    }
    void* p = chunk_ + chunk_used_;
    chunk_used_ += block_size;
    ++mapped_;
    return p;
}

void read_block_pool::deallocate(void* block) {
    std::lock_guard lock(mutex_);
    hot_.push_back(block);
}

std::size_t read_block_pool::release_idle(std::size_t keep) {
    std::lock_guard lock(mutex_);
    if (hot_.size() <= keep)
        return 0;
    const std::size_t excess = hot_.size() - keep;
    for (std::size_t i = 0; i < excess; ++i) {
        // Free blocks hold nothing: their pages go back, zero pages when next touched.
        ::madvise(hot_[i], block_size, MADV_DONTNEED);
        cold_.push_back(hot_[i]);
    }
    hot_.erase(hot_.begin(), hot_.begin() + static_cast<std::ptrdiff_t>(excess));
    return excess;
}

read_block_pool::stats read_block_pool::counts() const {
    std::lock_guard lock(mutex_);
    return {mapped_, hot_.size(), cold_.size()};
}

} // namespace bws::http
