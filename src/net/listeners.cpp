// Listening sockets, opened by the master and inherited by workers.
#include "net/listeners.hpp"

#include "sys/saved_root.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace bws::net {

int open_listener(const config::listen_address& address, int backlog, std::string& error) {
    sockaddr_storage storage{};
    const socklen_t length = address.bind.to_sockaddr(address.port, storage);
    const int family = address.bind.is_v6() ? AF_INET6 : AF_INET;
    int fd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        error = std::string("socket: ") + std::strerror(errno);
        return -1;
    }
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (family == AF_INET6)
        ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    int bound = 0;
    {
        // A `bws --user` master binds ports below 1024 with the root it keeps for that.
        sys::root_scope as_root;
        bound = ::bind(fd, reinterpret_cast<sockaddr*>(&storage), length);
    }
    if (bound != 0) {
        error = "cannot listen on " + address.to_string() + ": " + std::strerror(errno);
        ::close(fd);
        return -1;
    }
    if (::listen(fd, backlog) != 0) {
        error = std::string("listen: ") + std::strerror(errno);
        ::close(fd);
        return -1;
    }
    return fd;
}

std::uint16_t local_port(int fd) {
    sockaddr_storage storage{};
    socklen_t length = sizeof storage;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &length) != 0)
        return 0;
    const auto bound = ip_address::from_sockaddr(storage);
    return bound ? bound->second : 0;
}

} // namespace bws::net
