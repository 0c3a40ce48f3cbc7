// A listening Unix stream socket at a path, for the management API: the path's permissions
// are its access control (0660, owner root where the process can, group the workers' group).
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>

namespace bws::net {

struct unix_listener {
    int fd = -1;
    ino_t inode = 0; // of the socket file, so that only this one is ever removed
    pid_t owner = 0; // the process that made it: a forked child that unwinds leaves it
};

// Binds and listens at `path` (non-blocking, close-on-exec). A socket already there that
// nobody listens on (left by a crash) is replaced; one that answers is an error unless
// `take_over` (a new master taking over from the old one in an upgrade: the path then leads
// to the new socket while the old master finishes). Anything that is not a socket is an
// error. The socket gets mode 0660 and group `group` (unless it is (gid_t)-1); while a
// saved root ID is kept (sys/saved_root.hpp) the owner becomes root. fd -1 with `error` set
// when it fails.
unix_listener open_unix_listener(const std::filesystem::path& path, gid_t group, int backlog,
                                 bool take_over, std::string& error);

// Removes the socket at `path` if this is the process that made it and it still is the one
// `listener` made (a newer master's, or a file someone put there since, stays).
void remove_unix_listener(const std::filesystem::path& path, const unix_listener& listener);

} // namespace bws::net
