// [sites.access] and [security] trusted_proxies: lists, auth keys, htpasswd files.
#include "config/htpasswd.hpp"
#include "config/load.hpp"

#include "../config_test_util.hpp"

#include <crypt.h>

#include <gtest/gtest.h>

namespace bws::config {
namespace {

using test::all;
using test::find_one;

load_result load(const std::string& access, const std::string& top = "",
                 bool check_filesystem = false) {
    load_options options;
    options.check_filesystem = check_filesystem;
    return load_string(top + R"(
[[sites]]
name = "a"
hostname = "a.test"
port = 8080
static_dir = "/"
[sites.access]
)" + access,
                       "/srv/conf/bws.toml", options);
}

bool has(const net::address_set& s, const char* ip) {
    return s.contains(net::ip_address::parse(ip).value());
}

std::string bcrypt(const std::string& password) {
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    crypt_data data{};
    if (crypt_gensalt_rn("$2b$", 4, nullptr, 0, setting, sizeof setting) == nullptr)
        return {};
    const char* out = crypt_rn(password.c_str(), setting, &data, sizeof data);
    return out == nullptr ? std::string() : out;
}

TEST(AccessKeys, ReadsAllowAndDenyLists) {
    auto r = load(R"(allow_ips = ["10.0.0.0/8", "::1"]
deny_ips = ["10.0.0.7"])");
    ASSERT_TRUE(r.ok()) << all(r.errors);
    const auto& a = r.config->sites[0].access.value();
    EXPECT_TRUE(has(a.allow, "10.1.2.3"));
    EXPECT_TRUE(has(a.allow, "::1"));
    EXPECT_TRUE(has(a.deny, "10.0.0.7"));
    EXPECT_FALSE(a.require_auth);
    EXPECT_FALSE(r.config->sites[0].access->users);
}

TEST(AccessKeys, BadEntriesAreErrorsAtTheValue) {
    auto r = load(R"(allow_ips = ["10.0.0.0/33", "nope"]
deny_ips = "1.2.3.4")");
    EXPECT_FALSE(r.ok());
    const auto bits = find_one(r.errors, "'10.0.0.0/33' is not an IP address or a CIDR block");
    EXPECT_EQ(bits.pos.line, 8);
    EXPECT_EQ(bits.pos.column, 14);
    find_one(r.errors, "'nope' is not an IP address");
    find_one(r.errors, "deny_ips");
}

TEST(AccessKeys, HostBitsAreAWarning) {
    auto r = load(R"(deny_ips = ["10.0.0.1/8"])");
    ASSERT_TRUE(r.ok()) << all(r.errors);
    find_one(r.warnings, "'10.0.0.1/8' has bits set below its prefix");
    EXPECT_TRUE(has(r.config->sites[0].access->deny, "10.9.9.9"));
}

TEST(AccessKeys, AuthKeys) {
    auto r = load(R"(require_auth = true
auth_type = "basic"
auth_realm = "Staff"
auth_file = "users.htpasswd"
auth_paths = ["/admin", "/private/"])");
    ASSERT_TRUE(r.ok()) << all(r.errors);
    const auto& a = r.config->sites[0].access.value();
    EXPECT_TRUE(a.require_auth);
    EXPECT_EQ(a.realm, "Staff");
    EXPECT_EQ(a.auth_file, "/srv/conf/users.htpasswd");
    EXPECT_EQ(a.auth_paths, (std::vector<std::string>{"admin", "private"}));

    EXPECT_FALSE(load("require_auth = true\nauth_file = \"u\"\nauth_type = \"digest\"").ok());
    find_one(load("auth_type = \"digest\"").errors, "'digest' is not supported (only \"basic\"");
    find_one(load("require_auth = true").errors, "require_auth needs an auth_file");
    find_one(load("auth_realm = \"a\\\"b\"").errors, "auth_realm: must not contain");
    find_one(load("auth_paths = [\"admin\"]").errors, "must be a path starting with '/'");
    find_one(load("auth_file = \"u\"").warnings, "auth_file has no effect");
    find_one(load("allowed_ips = []").errors, "unknown key 'allowed_ips' in [sites.access]");
}

TEST(AccessKeys, TrustedProxiesInSecurity) {
    auto r = load("", "[security]\ntrusted_proxies = [\"10.0.0.0/8\", \"::1\"]\n");
    ASSERT_TRUE(r.ok()) << all(r.errors);
    EXPECT_TRUE(has(r.config->security.trusted_proxies, "10.3.3.3"));
    EXPECT_TRUE(has(r.config->security.trusted_proxies, "::1"));
    EXPECT_FALSE(has(r.config->security.trusted_proxies, "127.0.0.1"));
    EXPECT_FALSE(load("", "[security]\ntrusted_proxies = [\"x\"]\n").ok());
}

TEST(Htpasswd, AcceptsStrongHashesRefusesWeakOnes) {
    const auto h = bcrypt("pw");
    ASSERT_FALSE(h.empty());
    auto r = parse_htpasswd("# comment\n\nzed:" + h + "\r\nann:" + h + ":a comment\n");
    EXPECT_TRUE(r.problems.empty());
    ASSERT_EQ(r.users.size(), 2U);
    EXPECT_EQ(r.users[0].name, "ann");
    EXPECT_EQ(r.users[0].hash, h);
    EXPECT_EQ(r.users[1].name, "zed");

    r = parse_htpasswd("a:$apr1$salt$hash\nb:$1$salt$hash\nc:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n"
                       "d:abJnggxhB/yWI\ne:secret\nf\n" +
                       std::string("g:$2b$04$tooshort\n"));
    ASSERT_EQ(r.problems.size(), 7U);
    EXPECT_EQ(r.problems[0].line, 1);
    EXPECT_NE(r.problems[0].message.find("user 'a' has an MD5 hash"), std::string::npos);
    EXPECT_NE(r.problems[1].message.find("MD5"), std::string::npos);
    EXPECT_NE(r.problems[2].message.find("{SHA}"), std::string::npos);
    EXPECT_NE(r.problems[3].message.find("DES"), std::string::npos);
    EXPECT_NE(r.problems[4].message.find("not a supported hash"), std::string::npos);
    EXPECT_NE(r.problems[5].message.find("is not 'user:hash'"), std::string::npos);
    EXPECT_EQ(r.problems[6].line, 7);
    EXPECT_NE(r.problems[6].message.find("malformed"), std::string::npos);

    r = parse_htpasswd("a:" + h + "\na:" + h + "\n");
    ASSERT_EQ(r.problems.size(), 1U);
    EXPECT_NE(r.problems[0].message.find("listed twice"), std::string::npos);
}

TEST(Htpasswd, TheLoaderReadsTheFileAndPointsAtAuthFile) {
    test::temp_dir dir;
    const auto good = dir.write("good", "alice:" + bcrypt("pw") + "\n");
    const auto bad = dir.write("bad", "alice:" + bcrypt("pw") + "\nbob:$apr1$x$y\n");
    auto r = load("require_auth = true\nauth_file = \"" + good.string() + "\"", "", true);
    ASSERT_TRUE(r.ok()) << all(r.errors);
    ASSERT_TRUE(r.config->sites[0].access->users);
    EXPECT_EQ(r.config->sites[0].access->users->size(), 1U);
    r = load("require_auth = true\nauth_file = \"" + bad.string() + "\"", "", true);
    EXPECT_FALSE(r.ok());
    const auto d = find_one(r.errors, "line 2: user 'bob' has an MD5 hash");
    EXPECT_EQ(d.pos.line, 9);
    EXPECT_EQ(d.pos.column, 13);
    r = load("require_auth = true\nauth_file = \"" + (dir / "missing").string() + "\"", "", true);
    find_one(r.errors, "auth_file: cannot read");
}

} // namespace
} // namespace bws::config
