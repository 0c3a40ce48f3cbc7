// Opening listening sockets (done by the master, so workers never bind and ports below 1024
// work when started as root).
#pragma once

#include "config/model.hpp"

#include <string>

namespace bws::net {

// Binds and listens on `address` (SO_REUSEADDR, IPV6_V6ONLY for IPv6, non-blocking,
// close-on-exec). Returns the fd, or -1 with a one-line reason in `error`.
int open_listener(const config::listen_address& address, int backlog, std::string& error);

// The port actually bound (useful when the configured port is 0).
std::uint16_t local_port(int fd);

} // namespace bws::net
