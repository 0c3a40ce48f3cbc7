// `bws --user`: becoming a user with root kept in the saved set-user-ID, root_scope, and the
// workers' drop of that saved ID. The credential changes run in forked children (they cannot
// be undone); those tests need root and are skipped without it.
#include "sys/saved_root.hpp"

#include "app/privileges.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

using namespace bws;

// Runs `body` in a child; its return value is the child's exit code (0: every step held).
template <class Body>
int in_child(Body body) {
    const pid_t pid = fork();
    if (pid == 0)
        _exit(body());
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
}

bool ids_are(uid_t real, uid_t effective, uid_t saved) {
    uid_t r = 1, e = 1, s = 1;
    return getresuid(&r, &e, &s) == 0 && r == real && e == effective && s == saved;
}

// A file only root can read, as a private key under /etc/bws/ssl is packaged.
std::string root_only_file() {
    char path[] = "/tmp/bws-saved-root-XXXXXX";
    const int fd = mkstemp(path);
    EXPECT_GE(fd, 0);
    EXPECT_EQ(fchmod(fd, 0600), 0);
    close(fd);
    return path;
}

bool can_open(const std::string& path) {
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    close(fd);
    return true;
}

TEST(SavedRoot, UnknownUserIsAnError) {
    sys::user_ids ids;
    std::string error;
    EXPECT_FALSE(sys::lookup_user("no-such-user-bws-test", ids, error));
    EXPECT_EQ(error, "user \"no-such-user-bws-test\" does not exist");
}

TEST(SavedRoot, NotKeptInAnOrdinaryProcess) {
    EXPECT_FALSE(sys::keeps_root()) << "the test runner itself keeps no root";
}

// Root, the user "nobody" and a root-only key file, for the tests that change credentials.
class SavedRootAsRoot : public ::testing::Test {
protected:
    void SetUp() override {
        if (geteuid() != 0)
            GTEST_SKIP() << "needs root";
        std::string error;
        ASSERT_TRUE(sys::lookup_user("nobody", nobody, error)) << error;
        key = root_only_file();
    }
    void TearDown() override {
        if (!key.empty())
            unlink(key.c_str());
    }
    sys::user_ids nobody;
    std::string key;
};

TEST_F(SavedRootAsRoot, UserKeepsRootOnlyInsideAScope) {
    const int code = in_child([&] {
        std::string why;
        if (!sys::become_user_keeping_root(nobody, why))
            return 1;
        if (!ids_are(nobody.uid, nobody.uid, 0) || getgid() != nobody.gid || !sys::keeps_root())
            return 2;
        errno = 0;
        if (can_open(key) || errno != EACCES)
            return 3; // as the user, the key is out of reach
        {
            sys::root_scope as_root;
            if (geteuid() != 0 || !can_open(key))
                return 4;
        }
        if (geteuid() != nobody.uid || can_open(key))
            return 5; // the scope gave root back
        return 0;
    });
    EXPECT_EQ(code, 0) << "step that failed: see the return values in the test";
}

TEST_F(SavedRootAsRoot, WorkersOfAKeepingMasterCannotRegainRoot) {
    const int code = in_child([&] {
        std::string why;
        if (!sys::become_user_keeping_root(nobody, why))
            return 1;
        config::daemon_section daemon;
        daemon.user = "root"; // ignored with a warning: workers run as the master's user
        auto identity = app::master_worker_identity(daemon, why);
        if (!identity || !identity->change || identity->uid != nobody.uid)
            return 2;
        if (!app::drop_privileges(*identity, why))
            return 3;
        if (!ids_are(nobody.uid, nobody.uid, nobody.uid) || sys::keeps_root())
            return 4;
        sys::root_scope as_root; // a no-op now
        if (geteuid() == 0 || can_open(key) || seteuid(0) == 0)
            return 5;
        return 0;
    });
    EXPECT_EQ(code, 0) << "step that failed: see the return values in the test";
}

TEST(SavedRoot, AnotherUserCannotAskForIt) {
    if (geteuid() != 0)
        GTEST_SKIP() << "needs root";
    sys::user_ids nobody, root;
    std::string error;
    ASSERT_TRUE(sys::lookup_user("nobody", nobody, error)) << error;
    ASSERT_TRUE(sys::lookup_user("root", root, error)) << error;
    std::string refused_root;
    EXPECT_FALSE(sys::become_user_keeping_root(root, refused_root));
    EXPECT_EQ(refused_root, "--user root is root; it must name an unprivileged user");
    const int code = in_child([&] {
        if (setresuid(nobody.uid, nobody.uid, nobody.uid) != 0)
            return 1;
        std::string why;
        if (!sys::become_user_keeping_root(nobody, why) ||
            !ids_are(nobody.uid, nobody.uid, nobody.uid))
            return 2; // already that user: accepted, nothing kept
        sys::user_ids other = nobody;
        other.uid = nobody.uid - 1;
        other.name = "other";
        if (sys::become_user_keeping_root(other, why) ||
            why != "--user other needs bws to be started as root (or as other)")
            return 3;
        return 0;
    });
    EXPECT_EQ(code, 0);
}

} // namespace
