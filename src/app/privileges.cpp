// Resolving and dropping worker privileges.
#include "app/privileges.hpp"

#include "sys/saved_root.hpp"

#include <grp.h>
#include <pwd.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace bws::app {

namespace {

std::optional<passwd> find_user(const std::string& name, std::vector<char>& buffer) {
    passwd pw{};
    passwd* found = nullptr;
    buffer.resize(16384);
    if (getpwnam_r(name.c_str(), &pw, buffer.data(), buffer.size(), &found) != 0 ||
        found == nullptr) {
        return std::nullopt;
    }
    return pw;
}

} // namespace

std::optional<worker_identity> resolve_worker_identity(const config::daemon_section& daemon,
                                                       uid_t euid, std::string& error) {
    worker_identity identity;
    if (euid != 0) {
        if (!daemon.user.empty()) {
            std::vector<char> buffer;
            auto pw = find_user(daemon.user, buffer);
            if (!pw || pw->pw_uid != euid) {
                spdlog::warn("[daemon] user = \"{}\" ignored: bws is not running as root",
                             daemon.user);
            }
        }
        return identity;
    }
    std::string user = daemon.user;
    if (user.empty()) {
        if (daemon.allow_root_workers) {
            spdlog::warn("workers run as root ([daemon] allow_root_workers = true)");
            return identity;
        }
        user = "nobody";
    }
    std::vector<char> buffer;
    auto pw = find_user(user, buffer);
    if (!pw) {
        error = "[daemon] user \"" + user + "\" does not exist";
        return std::nullopt;
    }
    identity.user = user;
    identity.uid = pw->pw_uid;
    identity.gid = pw->pw_gid;
    if (!daemon.group.empty()) {
        group gr{};
        group* found = nullptr;
        std::vector<char> gbuffer(16384);
        if (getgrnam_r(daemon.group.c_str(), &gr, gbuffer.data(), gbuffer.size(), &found) != 0 ||
            found == nullptr) {
            error = "[daemon] group \"" + daemon.group + "\" does not exist";
            return std::nullopt;
        }
        identity.gid = gr.gr_gid;
    }
    if (identity.uid == 0) {
        if (!daemon.allow_root_workers) {
            error = "[daemon] user \"" + user +
                    "\" is root; set [daemon] allow_root_workers = true to run workers as root";
            return std::nullopt;
        }
        spdlog::warn("workers run as root ([daemon] allow_root_workers = true)");
        return worker_identity{};
    }
    // Supplementary groups: the user's memberships, computed here so the worker needs no
    // NSS lookup after fork.
    int count = 64;
    std::vector<gid_t> groups(static_cast<std::size_t>(count));
    if (getgrouplist(user.c_str(), identity.gid, groups.data(), &count) < 0) {
        groups.resize(static_cast<std::size_t>(count));
        getgrouplist(user.c_str(), identity.gid, groups.data(), &count);
    }
    groups.resize(static_cast<std::size_t>(count));
    identity.groups = std::move(groups);
    identity.change = true;
    return identity;
}

std::optional<worker_identity> master_worker_identity(const config::daemon_section& daemon,
                                                      std::string& error) {
    if (!sys::keeps_root())
        return resolve_worker_identity(daemon, ::geteuid(), error);
    passwd pw{};
    passwd* found = nullptr;
    std::vector<char> buffer(16384);
    if (getpwuid_r(::geteuid(), &pw, buffer.data(), buffer.size(), &found) != 0 ||
        found == nullptr) {
        error = "the user bws runs as (uid " + std::to_string(::geteuid()) + ") has no name";
        return std::nullopt;
    }
    sys::user_ids ids;
    if (!sys::lookup_user(pw.pw_name, ids, error))
        return std::nullopt;
    if (!daemon.user.empty() && daemon.user != ids.name)
        spdlog::warn("[daemon] user = \"{}\" ignored: bws was started with --user {}", daemon.user,
                     ids.name);
    worker_identity identity;
    identity.change = true;
    identity.user = ids.name;
    identity.uid = ids.uid;
    identity.gid = ids.gid;
    identity.groups = std::move(ids.groups);
    return identity;
}

bool drop_privileges(const worker_identity& identity, std::string& error) {
    if (!identity.change) {
        return true;
    }
    if (sys::keeps_root() && ::seteuid(0) != 0) {
        error = std::string("seteuid(0): ") + std::strerror(errno);
        return false;
    }
    if (setgroups(identity.groups.size(), identity.groups.data()) != 0) {
        error = std::string("setgroups: ") + std::strerror(errno);
        return false;
    }
    if (setgid(identity.gid) != 0) {
        error = "setgid(" + std::to_string(identity.gid) + "): " + std::strerror(errno);
        return false;
    }
    if (setuid(identity.uid) != 0) {
        error = "setuid(" + std::to_string(identity.uid) + "): " + std::strerror(errno);
        return false;
    }
    // Defence in depth: a saved set-user-ID of 0 would let an exploit switch back.
    if (setuid(0) == 0 || geteuid() == 0) {
        error = "privileges could be regained after dropping them";
        return false;
    }
    return true;
}

} // namespace bws::app
