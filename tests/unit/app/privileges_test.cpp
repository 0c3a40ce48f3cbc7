// Worker identity policy (resolution; the drop itself is covered by the integration test when
// run as root, and here in a forked child).
#include "app/privileges.hpp"

#include <gtest/gtest.h>

#include <pwd.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

using namespace bws::app;

TEST(Privileges, NotRootKeepsCredentials) {
    bws::config::daemon_section d;
    d.user = "nobody";
    std::string error;
    auto id = resolve_worker_identity(d, 1000, error);
    ASSERT_TRUE(id) << error;
    EXPECT_FALSE(id->change);
}

TEST(Privileges, RootWithoutUserDropsToNobody) {
    bws::config::daemon_section d;
    std::string error;
    auto id = resolve_worker_identity(d, 0, error);
    ASSERT_TRUE(id) << error;
    EXPECT_TRUE(id->change);
    EXPECT_EQ(id->user, "nobody");
    EXPECT_EQ(id->uid, getpwnam("nobody")->pw_uid);
}

TEST(Privileges, RootWithAllowRootWorkersStaysRoot) {
    bws::config::daemon_section d;
    d.allow_root_workers = true;
    std::string error;
    auto id = resolve_worker_identity(d, 0, error);
    ASSERT_TRUE(id) << error;
    EXPECT_FALSE(id->change);
}

TEST(Privileges, RootUserRefusedWithoutSetting) {
    bws::config::daemon_section d;
    d.user = "root";
    std::string error;
    EXPECT_FALSE(resolve_worker_identity(d, 0, error));
    EXPECT_NE(error.find("allow_root_workers"), std::string::npos) << error;
}

TEST(Privileges, UnknownUserAndGroup) {
    bws::config::daemon_section d;
    d.user = "no-such-user-bws-test";
    std::string error;
    EXPECT_FALSE(resolve_worker_identity(d, 0, error));
    EXPECT_EQ(error, "[daemon] user \"no-such-user-bws-test\" does not exist");
    d.user = "nobody";
    d.group = "no-such-group-bws-test";
    EXPECT_FALSE(resolve_worker_identity(d, 0, error));
    EXPECT_EQ(error, "[daemon] group \"no-such-group-bws-test\" does not exist");
}

TEST(Privileges, DropInChildWhenRoot) {
    if (geteuid() != 0) {
        GTEST_SKIP() << "needs root";
    }
    bws::config::daemon_section d;
    std::string error;
    auto id = resolve_worker_identity(d, 0, error);
    ASSERT_TRUE(id) << error;
    pid_t pid = fork();
    if (pid == 0) {
        std::string why;
        if (!drop_privileges(*id, why)) {
            _exit(1);
        }
        _exit(getuid() == id->uid && geteuid() == id->uid && getgid() == id->gid ? 0 : 2);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
}

} // namespace
