// Unit tests for the config loader: values, defaults, normalisation, and every error class with
// its FILE:LINE:COL position.
#include "config/load.hpp"

#include "../config_test_util.hpp"

#include <gtest/gtest.h>

namespace bws::config {
namespace {

using test::all;
using test::find_one;
using test::listener;

load_result load(const std::string& text, const std::string& name = "/srv/conf/bws.toml") {
    load_options options;
    options.check_filesystem = false;
    return load_string(text, name, options);
}

void expect_at(const diagnostic& d, int line, int column) {
    EXPECT_EQ(d.pos.file, "/srv/conf/bws.toml");
    EXPECT_EQ(d.pos.line, line) << d.to_string();
    EXPECT_EQ(d.pos.column, column) << d.to_string();
}

// The "Main Configuration" example of the daemon-mode manual, verbatim.
constexpr const char* manual_example = R"(# /etc/bws/config.toml
[daemon]
user = "bws"
group = "bws"
pid_file = "/var/run/bws.pid"
working_directory = "/opt/bws"

[logging]
level = "info"
output = "file"
file_path = "/var/log/bws/bws.log"
max_size = "100MB"
max_files = 10
compress = true

[[sites]]
name = "main"
hostname = "localhost"
port = 8080
static_dir = "/opt/bws/static"

[sites.headers]
"X-Served-By" = "BWS"
"Cache-Control" = "public, max-age=3600"
)";

TEST(ConfigLoad, ManualExampleLoadsAsWritten) {
    auto r = load(manual_example, "/etc/bws/config.toml");
    ASSERT_TRUE(r.ok()) << all(r.errors);
    const snapshot& c = *r.config;
    EXPECT_EQ(c.daemon.user, "bws");
    EXPECT_EQ(c.daemon.group, "bws");
    EXPECT_EQ(c.daemon.pid_file, "/var/run/bws.pid");
    EXPECT_EQ(c.daemon.working_directory, "/opt/bws");
    EXPECT_EQ(c.logging.level, log_level::info);
    EXPECT_EQ(c.logging.output, log_output::file);
    EXPECT_EQ(c.logging.file_path, "/var/log/bws/bws.log");
    EXPECT_EQ(c.logging.max_size, 100u * 1024 * 1024);
    EXPECT_EQ(c.logging.max_files, 10u);
    EXPECT_TRUE(c.logging.compress);
    ASSERT_EQ(c.sites.size(), 1u);
    const site& s = c.sites[0];
    EXPECT_EQ(s.name, "main");
    EXPECT_EQ(s.hostnames, std::vector<std::string>{"localhost"});
    EXPECT_EQ(s.port, 8080);
    EXPECT_EQ(s.bind.to_string(), "0.0.0.0");
    EXPECT_EQ(s.static_dir, "/opt/bws/static");
    EXPECT_TRUE(s.is_default);
    const std::vector<std::pair<std::string, std::string>> headers{
        {"X-Served-By", "BWS"}, {"Cache-Control", "public, max-age=3600"}};
    EXPECT_EQ(s.headers, headers); // file order, not toml++'s sorted order
    EXPECT_EQ(s.pos.line, 16);
    ASSERT_EQ(c.listeners.size(), 1u);
    EXPECT_EQ(c.listeners[0], listener("0.0.0.0", 8080));
}

TEST(ConfigLoad, DefaultsForOmittedKeys) {
    auto r = load(R"([[sites]]
name = "a"
hostname = "a.test"
port = 80
static_dir = "www"
)");
    ASSERT_TRUE(r.ok()) << all(r.errors);
    const snapshot& c = *r.config;
    const snapshot defaults;
    EXPECT_EQ(c.server.name, "bws");
    EXPECT_EQ(c.server.workers, 0u);
    EXPECT_EQ(c.server.shutdown_timeout, defaults.server.shutdown_timeout);
    EXPECT_EQ(c.server.health_path, "/health");
    EXPECT_TRUE(c.server.server_header);
    EXPECT_EQ(c.server.backlog, 4096);
    EXPECT_EQ(c.server.limits.max_header_bytes, 16u * 1024);
    EXPECT_EQ(c.server.limits.keepalive_timeout, std::chrono::seconds(75));
    EXPECT_EQ(c.logging.level, log_level::info);
    EXPECT_EQ(c.logging.output, log_output::automatic);
    EXPECT_FALSE(c.logging.access_log.has_value());
    EXPECT_TRUE(c.logging.log_requests);
    EXPECT_FALSE(c.daemon.daemonize);
    EXPECT_TRUE(c.daemon.user.empty());
    const site& s = c.sites[0];
    EXPECT_EQ(s.bind.to_string(), "0.0.0.0");
    EXPECT_EQ(s.index_files, (std::vector<std::string>{"index.html", "index.htm"}));
    EXPECT_TRUE(s.headers.empty());
    EXPECT_TRUE(s.error_pages.empty());
    EXPECT_FALSE(s.cache.enabled);
    EXPECT_FALSE(s.cache.cache_control.has_value());
    EXPECT_FALSE(s.access_log.has_value());
    EXPECT_TRUE(s.is_default);
    EXPECT_TRUE(r.warnings.empty());
}

TEST(ConfigLoad, EveryKeyIsRead) {
    auto r = load(R"([server]
name = "edge"
version = "1.2"
description = "test"
workers = 3
shutdown_timeout = "1m30s"
health_path = "/_health"
server_header = false
backlog = 511

[server.limits]
max_header_size = "32KB"
max_header_count = 50
max_uri_length = 4096
max_body_size = "0"
max_ranges = 4
max_keepalive_requests = 7
max_connections = 99
max_connections_per_ip = 12
header_timeout = "500ms"
keepalive_timeout = 5
send_timeout = "2m"
body_timeout = "1h"

[daemon]
user = "www-data"
group = "www-data"
pid_file = "run/bws.pid"
working_directory = "/"
daemonize = true
allow_root_workers = true

[logging]
level = "debug"
output = "journald"
file_path = "log/bws.log"
max_size = 1000
max_files = 3
compress = true
access_log = "off"
access_log_format = "json"
error_log = "/var/log/err.log"
log_requests = false

[[sites]]
name = "a"
hostname = "a.test"
hostnames = ["www.a.test", "*.cdn.a.test"]
port = 8080
bind = "127.0.0.1"
static_dir = "sites/a/"
default = true
index_files = ["home.html"]
cache_control = "no-cache"
access_log = "logs/a.log"

[sites.error_pages]
404 = "errors/404.html"
503 = "/srv/down.html"
)");
    ASSERT_TRUE(r.ok()) << all(r.errors);
    const snapshot& c = *r.config;
    EXPECT_EQ(c.server.name, "edge");
    EXPECT_EQ(c.server.version, "1.2");
    EXPECT_EQ(c.server.description, "test");
    EXPECT_EQ(c.server.workers, 3u);
    EXPECT_EQ(c.server.shutdown_timeout, std::chrono::seconds(90));
    EXPECT_EQ(c.server.health_path, "/_health");
    EXPECT_FALSE(c.server.server_header);
    EXPECT_EQ(c.server.backlog, 511);
    const limits& l = c.server.limits;
    EXPECT_EQ(l.max_header_bytes, 32u * 1024);
    EXPECT_EQ(l.max_header_count, 50u);
    EXPECT_EQ(l.max_uri_bytes, 4096u);
    EXPECT_EQ(l.max_body_bytes, 0u);
    EXPECT_EQ(l.max_ranges, 4u);
    EXPECT_EQ(l.max_keepalive_requests, 7u);
    EXPECT_EQ(l.max_connections, 99u);
    EXPECT_EQ(l.max_connections_per_ip, 12u);
    EXPECT_EQ(l.header_timeout, milliseconds(500));
    EXPECT_EQ(l.keepalive_timeout, std::chrono::seconds(5));
    EXPECT_EQ(l.send_timeout, std::chrono::minutes(2));
    EXPECT_EQ(l.body_timeout, std::chrono::hours(1));
    EXPECT_EQ(c.daemon.user, "www-data");
    EXPECT_EQ(c.daemon.pid_file, "/srv/conf/run/bws.pid"); // relative to the config file
    EXPECT_EQ(c.daemon.working_directory, "/");
    EXPECT_TRUE(c.daemon.daemonize);
    EXPECT_TRUE(c.daemon.allow_root_workers);
    EXPECT_EQ(c.logging.level, log_level::debug);
    EXPECT_EQ(c.logging.output, log_output::journald);
    EXPECT_EQ(c.logging.file_path, "/srv/conf/log/bws.log");
    EXPECT_EQ(c.logging.max_size, 1000u);
    EXPECT_EQ(c.logging.max_files, 3u);
    ASSERT_TRUE(c.logging.access_log.has_value());
    EXPECT_TRUE(c.logging.access_log->empty()); // "off"
    EXPECT_EQ(c.logging.access_log_format, access_log_format::json);
    EXPECT_EQ(c.logging.error_log, "/var/log/err.log");
    EXPECT_FALSE(c.logging.log_requests);
    const site& s = c.sites[0];
    EXPECT_EQ(s.hostnames, (std::vector<std::string>{"a.test", "www.a.test", "*.cdn.a.test"}));
    EXPECT_EQ(s.bind.to_string(), "127.0.0.1");
    EXPECT_EQ(s.static_dir, "/srv/conf/sites/a");
    EXPECT_EQ(s.index_files, std::vector<std::string>{"home.html"});
    EXPECT_TRUE(s.cache.enabled);
    ASSERT_TRUE(s.cache.cache_control.has_value());
    EXPECT_EQ(s.cache.cache_control->value, "no-cache");
    EXPECT_EQ(s.access_log, std::filesystem::path("/srv/conf/logs/a.log"));
    ASSERT_EQ(s.error_pages.size(), 2u);
    EXPECT_EQ(s.error_pages.at(404), "/srv/conf/sites/a/errors/404.html");
    EXPECT_EQ(s.error_pages.at(503), "/srv/down.html");
}

TEST(ConfigLoad, NormalisesHostnamesPathsAndAddresses) {
    auto r = load(R"([[sites]]
name = "a"
hostname = "WWW.Example.COM."
hostnames = ["Example.com", "*.Example.com", "[::FFFF:127.0.0.1]", "10.0.0.1", "LOCALHOST"]
port = 80
bind = "::0"
static_dir = "./x/../public//"
)");
    ASSERT_TRUE(r.ok()) << all(r.errors);
    const site& s = r.config->sites[0];
    EXPECT_EQ(s.hostnames,
              (std::vector<std::string>{"www.example.com", "example.com", "*.example.com",
                                        "[::ffff:127.0.0.1]", "10.0.0.1", "localhost"}));
    EXPECT_EQ(s.bind.to_string(), "::");
    EXPECT_EQ(s.static_dir, "/srv/conf/public");
    EXPECT_EQ(r.config->listeners, (std::vector<listen_address>{listener("::", 80)}));
}

TEST(ConfigLoad, HostnamesAloneGiveThePrimaryName) {
    auto r = load(R"([[sites]]
name = "a"
hostnames = ["one.test", "two.test"]
port = 80
static_dir = "/srv/a"
)");
    ASSERT_TRUE(r.ok()) << all(r.errors);
    EXPECT_EQ(r.config->sites[0].hostnames, (std::vector<std::string>{"one.test", "two.test"}));
}

TEST(ConfigLoad, FirstSiteOnAPortIsItsDefault) {
    auto r = load(R"([[sites]]
name = "a"
hostname = "a.test"
port = 80
static_dir = "/srv/a"

[[sites]]
name = "b"
hostname = "b.test"
port = 80
static_dir = "/srv/b"

[[sites]]
name = "c"
hostname = "c.test"
port = 81
static_dir = "/srv/c"

[[sites]]
name = "d"
hostname = "d.test"
port = 81
static_dir = "/srv/d"
default = true
)");
    ASSERT_TRUE(r.ok()) << all(r.errors);
    const auto& sites = r.config->sites;
    ASSERT_EQ(sites.size(), 4u);
    EXPECT_TRUE(sites[0].is_default); // first on port 80, none explicit
    EXPECT_FALSE(sites[1].is_default);
    EXPECT_FALSE(sites[2].is_default); // port 81 has an explicit default
    EXPECT_TRUE(sites[3].is_default);
    EXPECT_EQ(r.config->listeners,
              (std::vector<listen_address>{listener("0.0.0.0", 80), listener("0.0.0.0", 81)}));
}

TEST(ConfigLoad, SameHostnameOnDifferentPortsIsFine) {
    auto r = load(R"([[sites]]
name = "a"
hostname = "a.test"
port = 80
static_dir = "/srv/a"

[[sites]]
name = "b"
hostname = "a.test"
port = 8080
bind = "127.0.0.1"
static_dir = "/srv/b"
)");
    ASSERT_TRUE(r.ok()) << all(r.errors);
    EXPECT_EQ(r.config->listeners,
              (std::vector<listen_address>{listener("0.0.0.0", 80), listener("127.0.0.1", 8080)}));
}

TEST(ConfigLoad, ParseErrorHasItsPosition) {
    auto r = load("[server]\nname = = 1\n");
    ASSERT_FALSE(r.ok());
    ASSERT_EQ(r.errors.size(), 1u) << all(r.errors);
    expect_at(r.errors[0], 2, 8);
    EXPECT_EQ(r.errors[0].to_string().rfind("/srv/conf/bws.toml:2:8: ", 0), 0u);
}

TEST(ConfigLoad, ThreeProblemsGiveThreeDiagnostics) {
    auto r = load(R"([[sites]]
name = "a"
hostname = "a.test"
port = "80"
static_dir = "/srv/a"
colour = "blue"

[logging]
max_size = "100XB"
)");
    ASSERT_FALSE(r.ok());
    ASSERT_EQ(r.errors.size(), 3u) << all(r.errors);
    EXPECT_EQ(r.errors[0].to_string(),
              "/srv/conf/bws.toml:4:8: port: expected an integer, got a string");
    EXPECT_EQ(r.errors[1].to_string(), "/srv/conf/bws.toml:6:1: unknown key 'colour' in [[sites]]");
    EXPECT_EQ(r.errors[2].to_string(),
              "/srv/conf/bws.toml:9:12: max_size: size '100XB' has an unknown unit 'XB' "
              "(use B, KB, MB, GB or TB)");
}

TEST(ConfigLoad, UnknownKeysAndTables) {
    auto r = load(R"(colour = 1

[monitoring]
enabled = true

[server]
host = "x"

[server.limits]
max_speed = 1

[daemon]
umask = 2

[logging]
format = "combined"

[[sites]]
name = "a"
hostname = "a.test"
port = 80
static_dir = "/srv/a"
[sites.firewall]
x = 1
)");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.errors.size(), 7u) << all(r.errors);
    expect_at(find_one(r.errors, "unknown key 'colour' in the top level"), 1, 1);
    expect_at(find_one(r.errors, "unknown table 'monitoring' in the top level"), 3, 2);
    expect_at(find_one(r.errors, "unknown key 'host' in [server]"), 7, 1);
    expect_at(find_one(r.errors, "unknown key 'max_speed' in [server.limits]"), 10, 1);
    expect_at(find_one(r.errors, "unknown key 'umask' in [daemon]"), 13, 1);
    expect_at(find_one(r.errors, "unknown key 'format' in [logging]"), 16, 1);
    expect_at(find_one(r.errors, "unknown table 'firewall' in [[sites]]"), 23, 8);
}

TEST(ConfigLoad, UnknownSiteSubTable) {
    auto r = load(R"([[sites]]
name = "a"
hostname = "a.test"
port = 80
static_dir = "/srv/a"

[sites.firewall]
x = 1
)");
    ASSERT_FALSE(r.ok());
    ASSERT_EQ(r.errors.size(), 1u) << all(r.errors);
    expect_at(find_one(r.errors, "unknown table 'firewall' in [[sites]]"), 7, 8);
}

TEST(ConfigLoad, WrongTypes) {
    auto r = load(R"([server]
name = 5
server_header = "yes"
workers = 2.5

[logging]
compress = 1

[[sites]]
name = "a"
hostname = ["a.test"]
port = 80
static_dir = true
headers = "X: y"
)");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.errors.size(), 7u) << all(r.errors);
    expect_at(find_one(r.errors, "name: expected a string, got an integer"), 2, 8);
    expect_at(find_one(r.errors, "server_header: expected a boolean, got a string"), 3, 17);
    expect_at(find_one(r.errors, "workers: expected an integer or \"auto\", got a float"), 4, 11);
    expect_at(find_one(r.errors, "compress: expected a boolean, got an integer"), 7, 12);
    expect_at(find_one(r.errors, "hostname: expected a string, got an array"), 11, 12);
    expect_at(find_one(r.errors, "static_dir: expected a string, got a boolean"), 13, 14);
    expect_at(find_one(r.errors, "[sites.headers]: expected a table, got a string"), 14, 11);
}

TEST(ConfigLoad, SitesMustBeAnArrayOfTables) {
    auto r = load(R"([sites]
name = "a"
)");
    ASSERT_FALSE(r.ok());
    ASSERT_EQ(r.errors.size(), 1u) << all(r.errors);
    EXPECT_NE(r.errors[0].message.find("expected an array of tables ([[sites]]), got a table"),
              std::string::npos);
}

TEST(ConfigLoad, NoSitesIsAnError) {
    auto r = load("[server]\nname = \"x\"\n");
    ASSERT_FALSE(r.ok());
    ASSERT_EQ(r.errors.size(), 1u) << all(r.errors);
    EXPECT_EQ(r.errors[0].to_string(),
              "/srv/conf/bws.toml: no site is configured (add a [[sites]] table)");
}

TEST(ConfigLoad, MissingRequiredSiteKeys) {
    auto r = load(R"([[sites]]
default = false

[[sites]]
name = "b"
hostnames = []
)");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.errors.size(), 7u) << all(r.errors);
    expect_at(find_one(r.errors, "[[sites]] entry is missing the required key 'name'"), 1, 1);
    expect_at(find_one(r.errors, "[[sites]] entry is missing the required key 'hostname'"), 1, 1);
    expect_at(find_one(r.errors, "[[sites]] entry is missing the required key 'port'"), 1, 1);
    expect_at(find_one(r.errors, "[[sites]] entry is missing the required key 'static_dir'"), 1, 1);
    expect_at(find_one(r.errors, "site 'b' has an empty hostnames list and no hostname"), 4, 1);
    expect_at(find_one(r.errors, "site 'b' is missing the required key 'port'"), 4, 1);
    expect_at(find_one(r.errors, "site 'b' is missing the required key 'static_dir'"), 4, 1);
}

TEST(ConfigLoad, InvalidPortsAndBindAddresses) {
    auto r = load(R"([[sites]]
name = "a"
hostname = "a.test"
port = 0
static_dir = "/srv/a"

[[sites]]
name = "b"
hostname = "b.test"
port = 65536
bind = "localhost"
static_dir = "/srv/b"
)");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.errors.size(), 3u) << all(r.errors);
    expect_at(find_one(r.errors, "port: 0 is out of range (must be between 1 and 65535)"), 4, 8);
    expect_at(find_one(r.errors, "port: 65536 is out of range"), 10, 8);
    expect_at(find_one(r.errors, "bind address 'localhost' is not an IPv4 or IPv6"), 11, 8);
}

TEST(ConfigLoad, InvalidHostnames) {
    auto r = load(R"([[sites]]
name = "a"
hostname = "a..test"
hostnames = ["a.*.test", "-a.test", "a.test:80", "", "[::1", "*.", "ex ample.com", "é.test"]
port = 80
static_dir = "/srv/a"
)");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.errors.size(), 9u) << all(r.errors);
    expect_at(find_one(r.errors, "hostname 'a..test' has an empty label"), 3, 12);
    expect_at(find_one(r.errors, "'a.*.test' has a '*' that is not the whole first label"), 4, 14);
    find_one(r.errors, "'-a.test' has a label that starts or ends with '-'");
    find_one(r.errors, "'a.test:80' contains ':'");
    find_one(r.errors, "hostname is empty");
    find_one(r.errors, "'[::1' has '[' without a closing ']'");
    expect_at(find_one(r.errors, "hostname '*.' has a '*' that is not the whole first label"), 4,
              62);
    find_one(r.errors, "'ex ample.com' has the invalid character ' '");
    find_one(r.errors, "non-ASCII");
}

TEST(ConfigLoad, DuplicateHostnamePortPairs) {
    auto r = load(R"([[sites]]
name = "a"
hostname = "a.test"
port = 80
static_dir = "/srv/a"

[[sites]]
name = "b"
hostname = "b.test"
hostnames = ["A.TEST."]
port = 80
static_dir = "/srv/b"

[[sites]]
name = "c"
hostname = "c.test"
hostnames = ["c.test"]
port = 80
static_dir = "/srv/c"
)");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.errors.size(), 2u) << all(r.errors);
    expect_at(find_one(r.errors, "duplicate hostname:port a.test:80: already used by site 'a' "
                                 "(line 1)"),
              10, 14);
    expect_at(find_one(r.errors, "hostname 'c.test' is listed twice in site 'c'"), 17, 14);
}

TEST(ConfigLoad, TwoDefaultSitesOnOnePort) {
    auto r = load(R"([[sites]]
name = "a"
hostname = "a.test"
port = 80
static_dir = "/srv/a"
default = true

[[sites]]
name = "b"
hostname = "b.test"
port = 80
static_dir = "/srv/b"
default = true

[[sites]]
name = "c"
hostname = "c.test"
port = 81
static_dir = "/srv/c"
default = true
)");
    ASSERT_FALSE(r.ok());
    ASSERT_EQ(r.errors.size(), 1u) << all(r.errors);
    expect_at(find_one(r.errors, "sites 'a' and 'b' are both default on port 80"), 13, 11);
}

TEST(ConfigLoad, OnePortWithTwoBindAddresses) {
    auto r = load(R"([[sites]]
name = "a"
hostname = "a.test"
port = 8080
static_dir = "/srv/a"

[[sites]]
name = "b"
hostname = "b.test"
port = 8080
bind = "127.0.0.1"
static_dir = "/srv/b"
)");
    ASSERT_FALSE(r.ok());
    ASSERT_EQ(r.errors.size(), 1u) << all(r.errors);
    expect_at(find_one(r.errors, "port 8080 is bound both on 0.0.0.0 (site 'a') and 127.0.0.1 "
                                 "(site 'b')"),
              11, 8);
}

TEST(ConfigLoad, DuplicateSiteNames) {
    auto r = load(R"([[sites]]
name = "a"
hostname = "a.test"
port = 80
static_dir = "/srv/a"

[[sites]]
name = "a"
hostname = "b.test"
port = 80
static_dir = "/srv/b"
)");
    ASSERT_FALSE(r.ok());
    ASSERT_EQ(r.errors.size(), 1u) << all(r.errors);
    expect_at(find_one(r.errors, "site name 'a' is already used by another site (line 1)"), 8, 8);
}

TEST(ConfigLoad, BadSizesDurationsAndRanges) {
    auto r = load(R"([server]
shutdown_timeout = "10 parsecs"
backlog = 0

[server.limits]
max_body_size = "1.5MB"
max_header_size = -5
max_uri_length = ""
header_timeout = "0s"
keepalive_timeout = -1
max_ranges = 0

[logging]
max_size = "-5MB"
max_files = 0

[[sites]]
name = "a"
hostname = "a.test"
port = 80
static_dir = "/srv/a"
)");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.errors.size(), 10u) << all(r.errors);
    expect_at(find_one(r.errors, "shutdown_timeout: duration '10 parsecs' has an unknown unit"), 2,
              20);
    expect_at(find_one(r.errors, "backlog: 0 is out of range (must be between 1 and 65535)"), 3,
              11);
    expect_at(find_one(r.errors, "max_body_size: size '1.5MB' is not a whole number"), 6, 17);
    expect_at(find_one(r.errors, "max_header_size: a size cannot be negative"), 7, 19);
    expect_at(find_one(r.errors, "max_uri_length: empty size"), 8, 18);
    expect_at(find_one(r.errors, "header_timeout: must be longer than 0"), 9, 18);
    expect_at(find_one(r.errors, "keepalive_timeout: a duration cannot be negative"), 10, 21);
    expect_at(find_one(r.errors, "max_ranges: 0 is out of range (must be at least 1)"), 11, 14);
    expect_at(find_one(r.errors, "max_size: size '-5MB' is negative"), 14, 12);
    expect_at(find_one(r.errors, "max_files: 0 is out of range"), 15, 13);
}

TEST(ConfigLoad, BadEnumValues) {
    auto r = load(R"([logging]
level = "verbose"
output = "syslog"
access_log_format = "common"

[server]
workers = "many"

[[sites]]
name = "a"
hostname = "a.test"
port = 80
static_dir = "/srv/a"
)");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.errors.size(), 4u) << all(r.errors);
    expect_at(find_one(r.errors, "level: 'verbose' is not one of trace, debug, info, warn, error, "
                                 "critical, off"),
              2, 9);
    expect_at(find_one(r.errors, "output: 'syslog' is not one of auto, file, stdout, stderr, "
                                 "journald"),
              3, 10);
    expect_at(find_one(r.errors, "access_log_format: 'common' is not one of combined, json"), 4,
              21);
    expect_at(find_one(r.errors, "workers: expected an integer of at least 1 or \"auto\""), 7, 11);
}

TEST(ConfigLoad, WorkersAuto) {
    auto r = load(R"([server]
workers = "auto"
[[sites]]
name = "a"
hostname = "a.test"
port = 80
static_dir = "/srv/a"
)");
    ASSERT_TRUE(r.ok()) << all(r.errors);
    EXPECT_EQ(r.config->server.workers, 0u);
}

TEST(ConfigLoad, FileOutputNeedsFilePath) {
    auto r = load(R"([logging]
output = "file"

[[sites]]
name = "a"
hostname = "a.test"
port = 80
static_dir = "/srv/a"
)");
    ASSERT_FALSE(r.ok());
    ASSERT_EQ(r.errors.size(), 1u) << all(r.errors);
    expect_at(find_one(r.errors, "output = \"file\" needs file_path"), 2, 10);
}

TEST(ConfigLoad, FeaturesNotBuiltYetAreErrors) {
    auto r = load(R"([management]
enabled = false

[security]
hide_server_header = true

[performance]
worker_threads = 4

[[sites]]
name = "a"
hostname = "a.test"
port = 80
static_dir = "/srv/a"
api_only = false

[sites.ssl]
auto_cert = true

[sites.cachexx]
enabled = true
)");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.errors.size(), 3u) << all(r.errors); // api_only = false is a key now
    expect_at(find_one(r.errors, "[performance] is not supported"), 7, 2);
    expect_at(find_one(r.errors, "'auto_cert' is not supported yet"), 18, 1);
    expect_at(find_one(r.errors, "unknown table 'cachexx'"), 20, 8);
}

TEST(ConfigLoad, HeaderNamesAndValuesAreChecked) {
    auto r = load(R"([[sites]]
name = "a"
hostname = "a.test"
port = 80
static_dir = "/srv/a"

[sites.headers]
"Bad Name" = "x"
"X-Split" = "a\r\nInjected: yes"
"Content-Length" = "5"
"X-Number" = 5
"X-Ok" = "fine"
)");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.errors.size(), 4u) << all(r.errors);
    expect_at(find_one(r.errors, "headers: 'Bad Name' is not a valid header name"), 8, 1);
    expect_at(find_one(r.errors, "the value of 'X-Split' contains a line break"), 9, 13);
    expect_at(find_one(r.errors, "'Content-Length' is set by the server"), 10, 1);
    expect_at(find_one(r.errors, "headers.X-Number: expected a string, got an integer"), 11, 14);
}

TEST(ConfigLoad, IndexFilesAndErrorPagesAreChecked) {
    auto r = load(R"([[sites]]
name = "a"
hostname = "a.test"
port = 80
static_dir = "/srv/a"
index_files = ["index.html", "sub/index.html", ""]
cache_control = "a\nb"

[sites.error_pages]
200 = "ok.html"
abc = "x.html"
404 = ""
500 = "500.html"
)");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.errors.size(), 6u) << all(r.errors);
    expect_at(find_one(r.errors, "index_files: 'sub/index.html' must be a plain file name"), 6, 30);
    expect_at(find_one(r.errors, "index_files: '' must be a plain file name"), 6, 48);
    expect_at(find_one(r.errors, "cache_control: contains a line break"), 7, 17);
    expect_at(find_one(r.errors, "error_pages: '200' is not an HTTP error status (400-599)"), 10,
              1);
    expect_at(find_one(r.errors, "error_pages: 'abc' is not an HTTP error status"), 11, 1);
    expect_at(find_one(r.errors, "error_pages.404: must not be empty"), 12, 7);
}

TEST(ConfigLoad, EmptyIndexFilesKeepsTheDefaults) {
    auto r = load(R"([[sites]]
name = "a"
hostname = "a.test"
port = 80
static_dir = "/srv/a"
index_files = []
)");
    ASSERT_TRUE(r.ok()) << all(r.errors);
    EXPECT_EQ(r.config->sites[0].index_files,
              (std::vector<std::string>{"index.html", "index.htm"}));
}

TEST(ConfigLoad, HealthPathMustBeAPath) {
    auto r = load(R"([server]
health_path = "health"
[[sites]]
name = "a"
hostname = "a.test"
port = 80
static_dir = "/srv/a"
)");
    ASSERT_FALSE(r.ok());
    expect_at(find_one(r.errors, "health_path: 'health' must be a path starting with '/'"), 2, 15);
}

TEST(ConfigLoad, DiagnosticToString) {
    EXPECT_EQ((diagnostic{{"f.toml", 3, 7}, "bad"}).to_string(), "f.toml:3:7: bad");
    EXPECT_EQ((diagnostic{{"f.toml", 0, 0}, "bad"}).to_string(), "f.toml: bad");
}

TEST(ConfigLoad, TunnelDrainTimeoutIsAtMostShutdownTimeout) {
    auto r = load(R"([server]
shutdown_timeout = "5s"
tunnel_drain_timeout = "2s"
[[sites]]
name = "a"
hostname = "a.test"
port = 80
static_dir = "/srv/a"
)");
    ASSERT_TRUE(r.ok()) << all(r.errors);
    EXPECT_EQ(r.config->server.tunnel_drain_timeout, std::chrono::milliseconds(2000));
    r = load(R"([server]
shutdown_timeout = "5s"
tunnel_drain_timeout = "6s"
[[sites]]
name = "a"
hostname = "a.test"
port = 80
static_dir = "/srv/a"
)");
    ASSERT_FALSE(r.ok());
    expect_at(find_one(r.errors, "tunnel_drain_timeout must not be longer than shutdown_timeout"),
              3, 24);
}

} // namespace
} // namespace bws::config
