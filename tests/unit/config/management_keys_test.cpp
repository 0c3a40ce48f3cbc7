// [management]: defaults, the loopback-only host, the port that must not be a site's, the key.
#include "config/diff.hpp"
#include "config/load.hpp"

#include "../config_test_util.hpp"

#include <gtest/gtest.h>

namespace bws::config {
namespace {

using test::all;
using test::find_one;

load_result load(const std::string& management) {
    load_options options;
    options.check_filesystem = false;
    return load_string(management + R"(

[[sites]]
name = "a"
hostname = "a.test"
port = 8080
static_dir = "/srv/a"
)",
                       "/srv/conf/bws.toml", options);
}

TEST(ManagementKeys, DefaultsAreOffOnLoopbackPort7654) {
    auto r = load("");
    ASSERT_TRUE(r.ok()) << all(r.errors);
    EXPECT_FALSE(r.config->management.enabled);
    EXPECT_EQ(r.config->management.host.to_string(), "127.0.0.1");
    EXPECT_EQ(r.config->management.port, 7654);
    EXPECT_TRUE(r.config->management.api_key.empty());
}

TEST(ManagementKeys, ReadsEveryKey) {
    auto r = load(R"([management]
enabled = true
host = "::1"
port = 9100
api_key = "s3cret-key")");
    ASSERT_TRUE(r.ok()) << all(r.errors);
    EXPECT_TRUE(r.config->management.enabled);
    EXPECT_EQ(r.config->management.host.to_string(), "::1");
    EXPECT_EQ(r.config->management.port, 9100);
    EXPECT_EQ(r.config->management.api_key, "s3cret-key");
    EXPECT_TRUE(load("[management]\nhost = \"127.0.0.2\"").ok());
}

TEST(ManagementKeys, OnlyLoopbackHostsAreAccepted) {
    for (const char* host : {"0.0.0.0", "192.168.1.10", "::", "2001:db8::1", "::ffff:127.0.0.1"}) {
        auto r = load(std::string("[management]\nenabled = true\nhost = \"") + host + "\"");
        ASSERT_FALSE(r.ok()) << host;
        auto d = find_one(r.errors, "is not a loopback address");
        EXPECT_EQ(d.pos.line, 3) << d.to_string();
    }
    EXPECT_FALSE(load("[management]\nhost = \"localhost\"").ok()); // names are not resolved
}

TEST(ManagementKeys, PortMustNotBeASitePort) {
    auto r = load("[management]\nenabled = true\nport = 8080");
    ASSERT_FALSE(r.ok());
    auto d = find_one(r.errors, "[management] port 8080 is also the port of site 'a'");
    EXPECT_EQ(d.pos.line, 3) << d.to_string();
    // Not listening, so no conflict.
    EXPECT_TRUE(load("[management]\nenabled = false\nport = 8080").ok());
}

TEST(ManagementKeys, SocketReplacesHostAndPort) {
    auto r = load("[management]\nenabled = true\nsocket = \"/run/bws/control.sock\"");
    ASSERT_TRUE(r.ok()) << all(r.errors);
    EXPECT_EQ(r.config->management.socket, "/run/bws/control.sock");
    // Relative to the configuration's directory, like the other paths.
    r = load("[management]\nsocket = \"api.sock\"");
    ASSERT_TRUE(r.ok()) << all(r.errors);
    EXPECT_EQ(r.config->management.socket, "/srv/conf/api.sock");
    // The socket is the listener, so a site may use 7654; host or port beside it is an error.
    r = load("[management]\nenabled = true\nsocket = \"/run/a.sock\"\nport = 8080");
    ASSERT_FALSE(r.ok());
    auto d = find_one(r.errors, "has both 'socket' and 'port'");
    EXPECT_EQ(d.pos.line, 4) << d.to_string();
    r = load("[management]\nenabled = true\nhost = \"::1\"\nsocket = \"/run/a.sock\"");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(find_one(r.errors, "has both 'socket' and 'host'").pos.line, 3);
    r = load("[management]\nsocket = \"/" + std::string(120, 'x') + "\"");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(find_one(r.errors, "longer than a Unix socket path").pos.line, 2);
}

TEST(ManagementKeys, BadValuesAndUnknownKeysAreErrors) {
    EXPECT_FALSE(load("[management]\nport = 0").ok());
    EXPECT_FALSE(load("[management]\napi_key = \"has space\"").ok());
    EXPECT_FALSE(load("[management]\nenabled = \"yes\"").ok());
    auto r = load("[management]\nbogus = 1");
    ASSERT_FALSE(r.ok());
    find_one(r.errors, "unknown key 'bogus' in [management]");
}

TEST(ManagementKeys, ListenerChangesNeedARestartButTheKeyDoesNot) {
    auto a = load("[management]\nenabled = true\napi_key = \"one\"");
    auto b = load("[management]\nenabled = true\napi_key = \"two\"");
    auto c = load("[management]\nenabled = true\nport = 7000");
    ASSERT_TRUE(a.ok() && b.ok() && c.ok());
    EXPECT_TRUE(restart_required_changes(*a.config, *b.config).empty());
    auto keys = restart_required_changes(*a.config, *c.config);
    ASSERT_EQ(keys.size(), 1u);
    EXPECT_EQ(keys[0], "[management] enabled/host/port/socket");
}

} // namespace
} // namespace bws::config
