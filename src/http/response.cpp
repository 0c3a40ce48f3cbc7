// The out-of-line parts of http::response: closing the file a response or cache entry shares.
#include "http/response.hpp"

#include <unistd.h>

namespace bws::http {

open_file::~open_file() {
    if (fd_ >= 0)
        ::close(fd_);
}

} // namespace bws::http
