// Streaming gzip of one file through zlib's gz* API on a descriptor opened 0640 like the logs.
#include "log/gzip_file.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>
#include <vector>
#include <zlib.h>

namespace bws::log {

std::string gzip_file(const std::filesystem::path& source, const std::filesystem::path& target) {
    const int in = ::open(source.c_str(), O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return fmt::format("cannot open {}: {}", source.string(), std::strerror(errno));
    auto temporary = target;
    temporary += ".tmp";
    const int out = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (out < 0) {
        const int error = errno;
        ::close(in);
        return fmt::format("cannot create {}: {}", temporary.string(), std::strerror(error));
    }
    // gzdopen takes ownership of `out`; keep a duplicate for fsync before gzclose closes it.
    const int sync_fd = ::dup(out);
    gzFile gz = ::gzdopen(out, "wb6");
    std::string failure;
    if (gz == nullptr) {
        ::close(out);
        failure = "gzdopen failed";
    }
    std::vector<char> buffer(128 * 1024);
    while (failure.empty()) {
        const auto n = ::read(in, buffer.data(), buffer.size());
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            failure = fmt::format("reading {}: {}", source.string(), std::strerror(errno));
            break;
        }
        if (n == 0)
            break;
        if (::gzwrite(gz, buffer.data(), static_cast<unsigned>(n)) != static_cast<int>(n)) {
            int zerr = 0;
            const char* message = ::gzerror(gz, &zerr);
            failure = fmt::format("writing {}: {}", temporary.string(),
                                  zerr == Z_ERRNO ? std::strerror(errno) : message);
        }
    }
    ::close(in);
    if (gz != nullptr) {
        const int result = ::gzclose(gz);
        if (failure.empty() && result != Z_OK)
            failure = fmt::format("finishing {}: {}", temporary.string(),
                                  result == Z_ERRNO ? std::strerror(errno) : "zlib error");
    }
    if (sync_fd >= 0) {
        if (failure.empty() && ::fsync(sync_fd) != 0)
            failure = fmt::format("syncing {}: {}", temporary.string(), std::strerror(errno));
        ::close(sync_fd);
    }
    if (failure.empty() && ::rename(temporary.c_str(), target.c_str()) != 0)
        failure = fmt::format("renaming {}: {}", temporary.string(), std::strerror(errno));
    if (!failure.empty()) {
        ::unlink(temporary.c_str());
        return failure;
    }
    ::unlink(source.c_str());
    return {};
}

} // namespace bws::log
