// Socket activation: listening sockets passed by systemd (bws.socket, $LISTEN_FDS), matched to
// the configured listen addresses.
#pragma once

#include "config/model.hpp"

#include <string>
#include <vector>

namespace bws::sys {

struct activated_socket {
    config::listen_address address;
    int fd = -1;
};

// True when `fd` is a listening TCP socket bound to exactly `address` (bind literal + port).
bool socket_matches(int fd, const config::listen_address& address);

// Takes the sockets systemd passed ($LISTEN_FDS, checked against $LISTEN_PID), matches each to
// one of `wanted` and makes it non-blocking and close-on-exec. Sockets that match nothing are
// logged and closed. The environment variables are removed so no child sees them.
std::vector<activated_socket>
take_activated_sockets(const std::vector<config::listen_address>& wanted);

} // namespace bws::sys
