// Socket activation through libsystemd's sd_listen_fds and sd_is_socket_inet.
#include "sys/socket_activation.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

namespace bws::sys {

namespace {

std::string describe(const sockaddr_storage& ss) {
    if (auto bound = net::ip_address::from_sockaddr(ss))
        return config::listen_address{bound->first, bound->second}.to_string();
    return "(not an inet socket)";
}

} // namespace

bool socket_matches(int fd, const config::listen_address& address) {
    if (sd_is_socket_inet(fd, AF_UNSPEC, SOCK_STREAM, 1, address.port) <= 0) {
        return false;
    }
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
        return false;
    }
    // Compare parsed addresses, not texts: "::0" and "::" are the same address.
    const auto bound = net::ip_address::from_sockaddr(ss);
    return bound && bound->first == address.bind;
}

std::vector<activated_socket>
take_activated_sockets(const std::vector<config::listen_address>& wanted) {
    std::vector<activated_socket> result;
    int n = sd_listen_fds(1); // 1: unset LISTEN_* so children never see them
    if (n <= 0) {
        return result;
    }
    for (int fd = SD_LISTEN_FDS_START; fd < SD_LISTEN_FDS_START + n; ++fd) {
        const config::listen_address* match = nullptr;
        for (const auto& address : wanted) {
            if (socket_matches(fd, address)) {
                match = &address;
                break;
            }
        }
        sockaddr_storage ss{};
        socklen_t len = sizeof ss;
        getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
        if (match == nullptr) {
            spdlog::warn("socket activation: passed socket {} ({}) matches no configured "
                         "listen address; closing it",
                         fd, describe(ss));
            ::close(fd);
            continue;
        }
        int flags = fcntl(fd, F_GETFL);
        fcntl(fd, F_SETFL, flags | O_NONBLOCK);
        fcntl(fd, F_SETFD, FD_CLOEXEC);
        spdlog::info("socket activation: using passed socket {} for {}", fd, describe(ss));
        result.push_back({*match, fd});
    }
    return result;
}

} // namespace bws::sys
