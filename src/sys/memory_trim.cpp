// malloc_trim(0) behind a portable name (see memory_trim.hpp).
#include "sys/memory_trim.hpp"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace bws::sys {

bool release_free_heap() {
#if defined(__GLIBC__)
    return malloc_trim(0) != 0;
#else
    return false;
#endif
}

} // namespace bws::sys
