// Who workers run as. Resolved by the master (startup and every reload, so an unknown user is
// a startup/reload error) and applied by each worker right after fork.
#pragma once

#include "config/model.hpp"

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace bws::app {

struct worker_identity {
    bool change = false; // false: keep the master's credentials
    std::string user;
    uid_t uid = 0;
    gid_t gid = 0;
    std::vector<gid_t> groups; // supplementary groups, from the group database
};

// Policy, when the master runs as root (euid 0):
//   [daemon] user set          -> that user (group: [daemon] group or the user's primary group)
//   no user, allow_root_workers -> workers stay root (a warning is logged)
//   no user                    -> "nobody", as nginx does
//   the user resolves to uid 0 -> refused unless allow_root_workers
// When the master is not root, workers keep its credentials; a configured user that differs
// is logged as ignored (an unprivileged process cannot switch users).
// `euid` is a parameter so the policy can be tested without root.
std::optional<worker_identity> resolve_worker_identity(const config::daemon_section& daemon,
                                                       uid_t euid, std::string& error);

// The master's call: resolve_worker_identity() for its euid, except in a master that keeps
// root (`bws --user USER`, sys/saved_root.hpp): its workers run as its own user and drop the
// saved root ID; a different [daemon] user is ignored with a warning (the master could not
// signal workers of another user).
std::optional<worker_identity> master_worker_identity(const config::daemon_section& daemon,
                                                      std::string& error);

// In the worker: setgroups, setgid, setuid, then checks that root cannot be regained. In the
// worker of a master that keeps root, the effective user is root again first, so setuid()
// replaces the saved ID too.
bool drop_privileges(const worker_identity& identity, std::string& error);

} // namespace bws::app
