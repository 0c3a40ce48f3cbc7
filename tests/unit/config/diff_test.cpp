// config::restart_required_changes: the keys a reload cannot apply, and only those.
#include "config/diff.hpp"

#include "../config_test_util.hpp"

#include <gtest/gtest.h>

namespace {

using namespace bws::config;
using keys = std::vector<std::string>;

snapshot base() {
    snapshot s;
    s.daemon.pid_file = "/run/bws.pid";
    s.listeners = {test::listener("127.0.0.1", 8080)};
    return s;
}

TEST(ConfigDiff, SameConfigNeedsNothing) {
    EXPECT_TRUE(restart_required_changes(base(), base()).empty());
}

TEST(ConfigDiff, StartupOnlyKeysAreNamedAsWritten) {
    auto loaded = base();
    loaded.daemon.pid_file = "/run/other.pid";
    loaded.daemon.daemonize = true;
    loaded.server.backlog = 128;
    EXPECT_EQ(restart_required_changes(base(), loaded),
              (keys{"[daemon] pid_file", "[daemon] daemonize", "[server] backlog"}));
}

TEST(ConfigDiff, KeysAppliedLiveAreNotListed) {
    auto loaded = base();
    loaded.daemon.user = "www-data";
    loaded.daemon.group = "www-data";
    loaded.daemon.working_directory = "/srv";
    loaded.daemon.allow_root_workers = true;
    loaded.server.workers = 8;
    loaded.server.shutdown_timeout = std::chrono::milliseconds(1000);
    loaded.logging.level = log_level::debug;
    loaded.listeners.push_back(test::listener("127.0.0.1", 9090));
    EXPECT_TRUE(restart_required_changes(base(), loaded).empty());
}

TEST(ConfigDiff, BacklogOnlyMattersForKeptListeners) {
    auto loaded = base();
    loaded.server.backlog = 128;
    loaded.listeners = {test::listener("127.0.0.1", 9090)}; // every socket is new: opened with 128
    EXPECT_TRUE(restart_required_changes(base(), loaded).empty());
    loaded.listeners.push_back(test::listener("127.0.0.1", 8080));
    EXPECT_EQ(restart_required_changes(base(), loaded), keys{"[server] backlog"});
}

} // namespace
