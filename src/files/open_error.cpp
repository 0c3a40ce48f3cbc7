// The errno → status mapping of the static handler (see open_error.hpp).
#include "files/open_error.hpp"

#include <cerrno>

namespace bws::files {

unsigned status_for_open_error(int err) noexcept {
    switch (err) {
    case EACCES:
    case EPERM:
        return 403;
    case ENOENT:
    case ENOTDIR:
    case EXDEV:
    case ELOOP:
    case ENAMETOOLONG:
        return 404;
    default:
        return 500;
    }
}

} // namespace bws::files
