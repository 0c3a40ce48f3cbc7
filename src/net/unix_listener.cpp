// Unix listening sockets (unix_listener.hpp).
#include "net/unix_listener.hpp"

#include "sys/saved_root.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace bws::net {

namespace {

std::string describe(const std::filesystem::path& path, const char* what) {
    return std::string(what) + " " + path.string() + ": " + std::strerror(errno);
}

sockaddr_un address_of(const std::filesystem::path& path) {
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::memcpy(a.sun_path, path.c_str(), path.native().size()); // length checked by caller
    return a;
}

// Whether a process accepts connections on the socket at `path`.
bool someone_listens(const sockaddr_un& a) {
    const int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (probe < 0)
        return false;
    const bool answered =
        ::connect(probe, reinterpret_cast<const sockaddr*>(&a), sizeof(a)) == 0 || errno == EAGAIN;
    ::close(probe);
    return answered;
}

} // namespace

unix_listener open_unix_listener(const std::filesystem::path& path, gid_t group, int backlog,
                                 bool take_over, std::string& error) {
    if (path.native().size() >= sizeof(sockaddr_un::sun_path)) {
        error = path.string() + ": too long for a Unix socket path";
        return {};
    }
    const sockaddr_un a = address_of(path);
    // As root while one is kept: /run/bws and the chown to root need it, nothing else.
    sys::root_scope root;
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            error = path.string() + " exists and is not a socket";
            return {};
        }
        if (!take_over && someone_listens(a)) {
            error = path.string() + " is in use (another process listens on it)";
            return {};
        }
        if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
            error = describe(path, "cannot remove the old socket");
            return {};
        }
    }
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        error = describe(path, "socket() for");
        return {};
    }
    // Owner-only until the mode is set: a client can connect only with write permission, so
    // nobody else can use the window between bind() and chmod().
    const mode_t old_mask = ::umask(0177);
    const int bound = ::bind(fd, reinterpret_cast<const sockaddr*>(&a), sizeof(a));
    ::umask(old_mask);
    if (bound != 0) {
        error = describe(path, "cannot bind");
        ::close(fd);
        return {};
    }
    const uid_t owner = ::geteuid() == 0 ? 0 : static_cast<uid_t>(-1);
    if ((group != static_cast<gid_t>(-1) || owner == 0) && ::chown(path.c_str(), owner, group) != 0)
        error = describe(path, "cannot chown"); // reported below if nothing worse happens
    if (::chmod(path.c_str(), 0660) != 0 || !error.empty() || ::lstat(path.c_str(), &st) != 0 ||
        ::listen(fd, backlog) != 0) {
        if (error.empty())
            error = describe(path, "cannot set up");
        ::close(fd);
        ::unlink(path.c_str());
        return {};
    }
    return {fd, st.st_ino, ::getpid()};
}

void remove_unix_listener(const std::filesystem::path& path, const unix_listener& listener) {
    if (listener.owner != ::getpid())
        return;
    sys::root_scope root;
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode) && st.st_ino == listener.inode)
        ::unlink(path.c_str());
}

} // namespace bws::net
