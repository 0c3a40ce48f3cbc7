// Who is logging: the process role and pid (set after fork) and the site a thread is working
// for, read by the line pattern and the journald sink.
#pragma once

#include <string_view>
#include <sys/types.h>

namespace bws::log {

// Records this process's role ("master", "worker", "bws" for single-process mode) and its
// pid. Call it in the child right after fork(): the pid is cached here, not looked up per line.
void set_role(std::string_view role);
std::string_view role();
pid_t role_pid();

// The site the current thread is handling, or empty. Set through site_scope.
std::string_view current_site();

// Attaches `site` to every line this thread logs while the scope lives. The caller keeps the
// string alive for the scope's lifetime (site names live in the config snapshot). Scopes nest.
class site_scope {
public:
    explicit site_scope(std::string_view site) noexcept;
    ~site_scope();
    site_scope(const site_scope&) = delete;
    site_scope& operator=(const site_scope&) = delete;

private:
    std::string_view previous_;
};

} // namespace bws::log
