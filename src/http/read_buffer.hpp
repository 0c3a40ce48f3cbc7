// The sessions' read buffers: 16 KiB, page-aligned, from a pool of their own.
//
// From glibc's heap, each connection's 16 KiB buffer sits between its session's long-lived
// objects, so even a freed buffer leaves a resident page per connection that nothing can
// give back (the page is shared with live neighbours). Blocks carved from separate mappings
// keep the heap dense and let a buffer that is given up (an idle connection parks, a
// connection closes) leave RAM: the worker's sweep madvise(MADV_DONTNEED)s the free blocks
// past a small hot cache (so a block freed and taken again between two sweeps, as TLS
// sessions do on every keep-alive request, costs no system call), and they fault back in
// as zero pages when reused.
#pragma once

#include <boost/beast/core/flat_buffer.hpp>

#include <cstddef>
#include <memory>
#include <mutex>
#include <new>
#include <vector>

// Under AddressSanitizer the buffers come from the heap, so that it still sees their misuse
// (it does not watch mmap'd memory).
#if defined(__SANITIZE_ADDRESS__)
#define BWS_READ_BLOCK_POOL 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BWS_READ_BLOCK_POOL 0
#endif
#endif
#ifndef BWS_READ_BLOCK_POOL
#define BWS_READ_BLOCK_POOL 1
#endif

namespace bws::http {

class read_block_pool {
public:
    static constexpr std::size_t block_size = 16 * 1024;

    // The process's pool (a worker is single-threaded; the lock is for tests that are not).
    static read_block_pool& shared();

    read_block_pool() = default;
    read_block_pool(const read_block_pool&) = delete;
    read_block_pool& operator=(const read_block_pool&) = delete;
    // The mappings are never unmapped: blocks may still be in use at exit.
    ~read_block_pool() = default;

    // A block_size block, page-aligned; nullptr when no memory could be mapped.
    void* allocate();
    void deallocate(void* block);
    // Gives the pages of all free blocks but the `keep` most recently freed back to the
    // kernel; returns how many blocks it gave back.
    std::size_t release_idle(std::size_t keep);

    struct stats {
        std::size_t mapped = 0; // blocks carved so far
        std::size_t hot = 0;    // free, still resident
        std::size_t cold = 0;   // free, given back to the kernel
    };
    stats counts() const;

private:
    mutable std::mutex mutex_;
    std::vector<void*> hot_; // oldest first
    std::vector<void*> cold_;
    char* chunk_ = nullptr;
    std::size_t chunk_used_ = 0;
    std::size_t mapped_ = 0;
};

// Allocator for beast::basic_flat_buffer: exactly block_size (what a session's empty buffer
// asks for) comes from the pool, anything else (a buffer grown around a pipelined request)
// from the heap.
template <class T>
struct read_buffer_allocator {
    using value_type = T;
    read_buffer_allocator() = default;
    template <class U>
    read_buffer_allocator(const read_buffer_allocator<U>&) noexcept {}

    T* allocate(std::size_t n) {
        if (BWS_READ_BLOCK_POOL && n * sizeof(T) == read_block_pool::block_size) {
            if (void* p = read_block_pool::shared().allocate())
                return static_cast<T*>(p);
            throw std::bad_alloc();
        }
        return std::allocator<T>().allocate(n);
    }
    void deallocate(T* p, std::size_t n) noexcept {
        if (BWS_READ_BLOCK_POOL && n * sizeof(T) == read_block_pool::block_size)
            read_block_pool::shared().deallocate(p);
        else
            std::allocator<T>().deallocate(p, n);
    }
    template <class U>
    bool operator==(const read_buffer_allocator<U>&) const noexcept {
        return true;
    }
};

using read_buffer = boost::beast::basic_flat_buffer<read_buffer_allocator<char>>;

} // namespace bws::http
