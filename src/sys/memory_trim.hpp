// Giving freed heap memory back to the kernel after a crowd of connections has gone.
//
// A worker that held many connections frees their buffers and sessions when they close, but
// glibc keeps the freed pages in its heap (it returns only a free top of the heap, and the
// chunks of short- and long-lived connections interleave), so the worker's RSS stays at its
// peak for good. malloc_trim(0) also releases the free pages inside the heap. It walks every
// free chunk, so it runs only after a large drop: idle_trim_policy says when.
#pragma once

#include <cstddef>

namespace bws::sys {

// Fed the open-connection count now and then (the worker's timeout sweep); says when the
// connections have fallen far enough below their peak since the last trim for a trim to be
// worth it: at least `min_drop` fewer and at most half the peak.
class idle_trim_policy {
public:
    explicit idle_trim_policy(std::size_t min_drop = 1024) : min_drop_(min_drop) {}

    // True when the caller should trim now; the peak then starts again from `open`.
    bool should_trim(std::size_t open) {
        if (open > peak_)
            peak_ = open;
        if (peak_ - open < min_drop_ || open > peak_ / 2)
            return false;
        peak_ = open;
        return true;
    }

private:
    std::size_t min_drop_;
    std::size_t peak_ = 0;
};

// malloc_trim(0) where the C library has it (glibc); true when it gave memory back.
bool release_free_heap();

} // namespace bws::sys
