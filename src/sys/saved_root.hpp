// Running as an unprivileged user while keeping root in reserve, for the one thing bws needs
// root for: opening private key files that stay root:root 0600.
//
// `bws --user USER` started as root (bws.service's `ExecStart=!`) becomes USER at once, the
// master included: real and effective IDs are USER's, groups are USER's, and only the saved
// set-user-ID stays 0. Everything the master does (PID file, logs, signals to its workers,
// config files) it does as USER, exactly as under `User=bws`. A root_scope makes the
// effective user root again for the length of one open() of a key file or one bind(), and
// workers drop the saved ID as well before they serve, so no process that talks to a client
// can ever become root again.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace bws::sys {

struct user_ids {
    std::string name;
    uid_t uid = 0;
    gid_t gid = 0;
    std::vector<gid_t> groups; // supplementary groups, from the group database
};

// Looks USER up in the user and group databases; false with `error` set if it does not exist.
bool lookup_user(const std::string& name, user_ids& out, std::string& error);

// Becomes `user` keeping 0 as the saved set-user-ID (see above). Needs euid 0; a process that
// already is `user` (and not root) keeps its credentials and returns true. Any other caller
// gets false and `error`.
bool become_user_keeping_root(const user_ids& user, std::string& error);

// True when this process runs as a non-root user with 0 kept as its saved set-user-ID, i.e.
// after become_user_keeping_root(); false in workers (they drop the saved ID too).
bool keeps_root();

// "user NAME" (or "uid N" without a name) for the effective user, for messages.
std::string current_user_name();

// For its lifetime, the effective user is root again when keeps_root(); a no-op otherwise.
// Not for long work, and never around code that parses what a client sent.
class root_scope {
public:
    root_scope();
    ~root_scope();
    root_scope(const root_scope&) = delete;
    root_scope& operator=(const root_scope&) = delete;

private:
    uid_t restore_ = 0;
    bool raised_ = false;
};

} // namespace bws::sys
