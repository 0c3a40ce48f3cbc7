// Becoming a user while keeping root in the saved set-user-ID (see saved_root.hpp).
#include "sys/saved_root.hpp"

#include <grp.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace bws::sys {

bool lookup_user(const std::string& name, user_ids& out, std::string& error) {
    passwd pw{};
    passwd* found = nullptr;
    std::vector<char> buffer(16384);
    if (getpwnam_r(name.c_str(), &pw, buffer.data(), buffer.size(), &found) != 0 ||
        found == nullptr) {
        error = "user \"" + name + "\" does not exist";
        return false;
    }
    out.name = name;
    out.uid = pw.pw_uid;
    out.gid = pw.pw_gid;
    int count = 64;
    out.groups.assign(static_cast<std::size_t>(count), 0);
    if (getgrouplist(name.c_str(), out.gid, out.groups.data(), &count) < 0) {
        out.groups.assign(static_cast<std::size_t>(count), 0);
        getgrouplist(name.c_str(), out.gid, out.groups.data(), &count);
    }
    out.groups.resize(static_cast<std::size_t>(count));
    return true;
}

bool become_user_keeping_root(const user_ids& user, std::string& error) {
    if (::geteuid() != 0) {
        if (::getuid() == user.uid && ::geteuid() == user.uid)
            return true; // already that user: nothing to keep, nothing to drop
        error =
            "--user " + user.name + " needs bws to be started as root (or as " + user.name + ")";
        return false;
    }
    if (user.uid == 0) {
        error = "--user " + user.name + " is root; it must name an unprivileged user";
        return false;
    }
    if (::setgroups(user.groups.size(), user.groups.data()) != 0) {
        error = std::string("setgroups: ") + std::strerror(errno);
        return false;
    }
    if (::setresgid(user.gid, user.gid, user.gid) != 0) {
        error = "setresgid(" + std::to_string(user.gid) + "): " + std::strerror(errno);
        return false;
    }
    // Real and effective: the user (signals, access(), file ownership); saved: root.
    if (::setresuid(user.uid, user.uid, 0) != 0) {
        error = "setresuid(" + std::to_string(user.uid) + "): " + std::strerror(errno);
        return false;
    }
    // The ID change made the process non-dumpable, which hands /proc/PID to root; dumpable
    // again, it belongs to the user as under User=bws. Its memory stays out of the user's
    // reach: ptrace (and /proc/PID/mem) needs the saved ID to match as well.
    ::prctl(PR_SET_DUMPABLE, 1);
    return true;
}

std::string current_user_name() {
    const uid_t uid = ::geteuid();
    passwd pw{};
    passwd* found = nullptr;
    std::vector<char> buffer(16384);
    if (getpwuid_r(uid, &pw, buffer.data(), buffer.size(), &found) == 0 && found != nullptr)
        return std::string("user ") + pw.pw_name;
    return "uid " + std::to_string(uid);
}

bool keeps_root() {
    uid_t real = 0, effective = 0, saved = 0;
    return ::getresuid(&real, &effective, &saved) == 0 && saved == 0 && effective != 0;
}

root_scope::root_scope() {
    if (!keeps_root())
        return;
    restore_ = ::geteuid();
    // Cannot fail: 0 is this process's saved set-user-ID. If it did, the open() that follows
    // fails with EACCES and says so; nothing here runs as the wrong user.
    raised_ = ::seteuid(0) == 0;
}

root_scope::~root_scope() {
    if (!raised_)
        return;
    const int saved = errno; // what the open() or bind() in the scope left, for its caller
    if (::seteuid(restore_) != 0)
        std::abort(); // staying root by accident is worse than stopping
    errno = saved;
}

} // namespace bws::sys
