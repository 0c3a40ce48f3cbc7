// Typed, immutable configuration snapshot: what config::load() produces from the TOML file and
// what every other part of bws reads. Nothing here is parsed at request time.
#pragma once

#include "content/coding.hpp"
#include "net/address.hpp"
#include "net/address_set.hpp"
#include "tls/settings.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace bws::tls {
class certificate;
class site_context;
} // namespace bws::tls

namespace bws::config {

using std::chrono::milliseconds;

// Where a value came from, for diagnostics ("FILE:LINE:COL: message").
struct source_pos {
    std::string file;
    int line = 0;
    int column = 0;
};

enum class log_level { trace, debug, info, warn, error, critical, off };
enum class log_output { automatic, file, stdout_stream, stderr_stream, journald };
enum class access_log_format { combined, json };

// Request limits and timeouts: each one bounds what a peer can make a worker hold.
struct limits {
    std::size_t max_header_bytes = 16 * 1024;   // request line + headers; over it: 431
    std::size_t max_header_count = 100;         // over it: 431
    std::size_t max_uri_bytes = 8 * 1024;       // over it: 414
    std::size_t max_body_bytes = 1024 * 1024;   // over it: 413
    std::size_t max_ranges = 16;                // more ranges than this: the whole file (200)
    std::size_t max_keepalive_requests = 10000; // then Connection: close
    std::size_t max_connections = 10000;        // per worker; above it new connections wait
    milliseconds header_timeout{10'000};        // first byte to end of headers: 408
    milliseconds keepalive_timeout{75'000};     // idle between requests: silent close
    milliseconds send_timeout{60'000};          // no write progress for this long: close
    milliseconds body_timeout{60'000};          // reading a request body
    // Open connections from one client (IPv4 address, IPv6 /64) across all workers; over it
    // a new connection is closed at once. 0: no limit (like nginx's limit_conn, off unless set).
    std::size_t max_connections_per_ip = 0;
};

struct server_section {
    std::string name = "bws";
    std::string version;     // informational only (original BWS key)
    std::string description; // informational only (original BWS key)
    unsigned workers = 0;    // 0 = "auto": one per CPU
    milliseconds shutdown_timeout{10'000};
    // Before a graceful stop, /health answers 503 "draining" for this long while everything
    // else is served, so a load balancer takes the instance out first. 0: stop at once.
    milliseconds drain_delay{0};
    // How long upgraded connections (WebSocket tunnels) keep running once a reload or a
    // graceful stop drains a worker; unset: shutdown_timeout. Never longer than that.
    std::optional<milliseconds> tunnel_drain_timeout;
    source_pos tunnel_drain_pos; // where it was written, for the check against shutdown_timeout
    std::string health_path = "/health";
    bool server_header = true; // send "Server: bws/VERSION"
    int backlog = 4096;
    // Qualified: a member named like its type must not use the unqualified name (GCC rejects it).
    config::limits limits;
};

struct daemon_section {
    std::string user;  // empty: do not change user
    std::string group; // empty: the user's primary group
    std::filesystem::path pid_file;
    std::filesystem::path working_directory;
    bool daemonize = false;
    bool allow_root_workers = false; // workers stay root only when this is set
};

// [security.rate_limiting] or a site's [sites.rate_limit]: requests per client address
// (IPv4 address, IPv6 /64) over all workers (net/rate_limit.hpp); over it: 429.
struct rate_limit {
    bool enabled = true;
    std::uint32_t requests_per_minute = 0; // the steady rate, > 0 when enabled
    std::uint32_t burst_size = 0;          // requests at once from a full bucket, > 0
    // Clients never limited. A site's table without its own whitelist keeps the server's.
    net::address_set whitelist;
    bool whitelist_given = false;
    // Which shared state the limit counts in (net::rate_bucket): the server-wide limit's, or
    // the site's by name, so a reload keeps it.
    std::uint64_t bucket = 0;
};

// [security]: what every site's responses carry unless the site says otherwise.
struct security_section {
    bool hide_server_header = false; // no "Server:" line, whatever [server] server_header says
    // security_headers: sent on every response of every site without its own
    // security_headers; empty when off (the default).
    std::vector<std::pair<std::string, std::string>> headers;
    // Peers whose X-Forwarded-For names the client (load balancers in front of bws): the
    // address access rules and the access log use (http/client_address.hpp). Empty: the peer.
    net::address_set trusted_proxies;
    // The limit of every site without its own [sites.rate_limit]; one budget per client for
    // all of them.
    std::optional<config::rate_limit> rate_limiting;
};

struct logging_section {
    log_level level = log_level::info;
    log_output output = log_output::automatic;
    std::filesystem::path file_path;                 // server log when output = file
    std::uint64_t max_size = 0;                      // bytes; 0 = never rotate by size
    unsigned max_files = 10;                         // rotated files kept
    bool compress = false;                           // gzip rotated files
    std::optional<std::filesystem::path> access_log; // nullopt = default; empty path = off
    config::access_log_format access_log_format = config::access_log_format::combined;
    std::filesystem::path error_log; // empty = none
    bool log_requests = true;        // access logging on/off globally
};

// [sites.ssl] of one site. The loader fills `settings` from the keys; when it checks the
// filesystem (startup, reload, --config-check) it also loads every certificate and key into
// memory and builds the site's OpenSSL context, so a master that loaded a snapshot as root can
// drop privileges and fork workers that never read a key file.
struct site_tls {
    tls::settings settings;
    // Strict-Transport-Security on this site's responses (HTTPS only); none when unset.
    std::optional<std::chrono::seconds> hsts_max_age;
    bool hsts_include_subdomains = false;
    bool hsts_preload = false;
    // A ClientHello whose SNI names no site on this port is refused (unrecognized_name)
    // instead of getting the port's default site. Any site of a port setting it makes the
    // whole port strict.
    bool strict_sni = false;

    // Loaded material (null/empty when the loader did not check the filesystem).
    std::shared_ptr<const std::vector<tls::certificate>> certificates;
    std::shared_ptr<const tls::site_context> context;
};

// [sites.proxy] of one site: upstream pools and the routes that send requests to them.
enum class balance_method { round_robin, weighted, least_connections, consistent_hash };

// One [[sites.proxy.upstreams]] entry: a server of the pool its name forms.
// How bws reaches an upstream server: its URL's scheme.
enum class upstream_transport {
    tcp,         // http://host:port
    unix_socket, // unix:/path/to.sock (a Unix stream socket)
    tls,         // https://host:port (TLS over TCP)
};

struct upstream_server {
    std::string url; // as written, for messages and the access log
    upstream_transport transport = upstream_transport::tcp;
    std::string host; // the URL's host: a name or an IP literal (no brackets); unix: empty
    std::uint16_t port = 80;
    // "host[:port]" as a Host header names it (no port when it is the scheme's default);
    // "localhost" for a Unix socket.
    std::string authority;
    std::filesystem::path unix_path; // unix: absolute
    // https: the name sent as SNI and checked against the certificate; empty: `host` (an IP
    // literal host is checked as an address and gets no SNI).
    std::string tls_server_name;
    unsigned weight = 1;
    // Connections (busy and idle) to this server at once, over all workers; 0: no cap.
    unsigned max_conns = 0;
    // The host's addresses, resolved when the loader checks the environment (startup, reload,
    // --config-check); an IP literal is its own address. Empty without that check.
    std::vector<net::ip_address> addresses;
    source_pos pos;
};

struct upstream_pool {
    std::string name;
    std::vector<upstream_server> servers; // in file order
};

struct proxy_route {
    std::string path;     // starts with '/', no trailing '/' except for "/" itself
    std::size_t pool = 0; // index into site_proxy::pools
    bool strip_prefix = false;
    // Replaces the matched prefix ("/api" -> "/v2": "/api/x" goes to "/v2/x").
    std::optional<std::string> rewrite_target;
    // Upgrade requests (WebSocket) on this route become a raw tunnel after the upstream's 101.
    bool websocket = false;
    source_pos pos;
};

struct proxy_headers {
    // Peers whose X-Forwarded-*/Forwarded/X-Real-IP are kept and extended rather than
    // replaced (a load balancer in front of bws); from anyone else they are replaced.
    net::address_set trusted_proxies;
    bool preserve_host = true;   // the client's Host; false: the upstream's authority
    bool add_x_forwarded = true; // X-Forwarded-For/-Proto/-Host and X-Real-IP
    bool add_forwarded = false;  // RFC 7239 Forwarded
    std::vector<std::pair<std::string, std::string>> add; // set on every proxied request
    std::vector<std::string> remove;                      // lower-case names, never forwarded
};

// [sites.proxy.health_check]: active checks of every server of the site, run once for the whole
// server by the master; every worker reads the results (proxy/health_table.hpp).
struct active_health_check {
    bool enabled = false;
    std::string path = "/health"; // starts with '/'
    milliseconds interval{10'000};
    milliseconds timeout{2'000}; // below interval
    // This many failed checks in a row take a server out, this many passed ones bring it back
    // (HAProxy's fall and rise).
    unsigned retries = 3;
    // The statuses a check passes with: 200-399, or the one expect_status gives.
    unsigned expect_min = 200;
    unsigned expect_max = 399;
    source_pos timeout_pos; // for the timeout < interval check
};

// How https:// upstreams are verified (one setting per site).
struct upstream_tls {
    bool verify = true;            // the certificate chain and name; false: anything is accepted
    std::filesystem::path ca_file; // PEM CA certificates; empty: the system store
    // The PEM text of ca_file, read by the loader's environment check, so a worker never
    // opens the file (nor fails to) while serving.
    std::string ca_pem;
    source_pos ca_pos;
    source_pos verify_pos;
};

struct site_proxy {
    std::vector<upstream_pool> pools;
    std::vector<proxy_route> routes; // longest path first
    balance_method method = balance_method::round_robin;
    // consistent_hash: the request header whose value picks the server; empty: the client's
    // address.
    std::string hash_header;
    milliseconds connect_timeout{10'000};
    milliseconds read_timeout{60'000};  // waiting for the upstream's next bytes
    milliseconds write_timeout{60'000}; // the upstream taking no request bytes
    // An upgraded connection (WebSocket) with no byte either way for this long is closed;
    // long enough for idle chat clients.
    milliseconds tunnel_idle_timeout{3'600'000};
    proxy_headers headers;
    // Further servers tried when connecting fails, for a request that can be sent again.
    unsigned retries = 1;
    // Idle keep-alive connections each worker keeps per server (nginx's upstream
    // `keepalive`); 0: a new connection per request.
    std::size_t keepalive = 128;
    active_health_check health_check;
    // How often the master looks the servers' host names up again (0: only at load).
    milliseconds resolve_interval{30'000};
    upstream_tls tls;
};

// [sites.compression]: compression of static responses (see docs/configuration.md).
struct site_compression {
    bool enabled = false; // the table absent: off; present: on unless enabled = false
    // Lower-case media types without parameters; "text/*" names every subtype of one type.
    std::vector<std::string> types{"text/*",
                                   "application/javascript",
                                   "application/json",
                                   "application/manifest+json",
                                   "application/xml",
                                   "application/rss+xml",
                                   "application/atom+xml",
                                   "application/wasm",
                                   "image/svg+xml",
                                   "image/x-icon",
                                   "font/ttf",
                                   "font/otf"};
    int level = 6;                 // 1-9, one scale for all codings (content/codec.hpp)
    std::uint64_t min_size = 1024; // smaller files are sent as they are
    // The server's preference among codings the client weighs equally.
    std::vector<content::coding> algorithms{content::coding::br, content::coding::zstd,
                                            content::coding::gzip};
    bool precompressed = false; // serve x.br / x.zst / x.gz beside x
};

// [sites.cache]: Cache-Control, Expires and validators of static-file responses.
// A Cache-Control value and the max-age it carries (what Expires is computed from).
struct cache_header {
    std::string value;                           // the header's value, never empty
    std::optional<std::chrono::seconds> max_age; // its max-age directive, if any
};

// One pattern of a rule's `match`: a file whose URL path starts with `prefix` at a segment
// boundary and whose name ends with `suffix` (ASCII case-insensitively).
struct cache_pattern {
    std::string prefix; // "" (any path) or "/assets" (no trailing '/'): the path or beneath it
    std::string suffix; // "" (any name) or ".css", lower-case
};

// One [[sites.cache.rules]] entry; the first rule that matches a file gives its header.
struct cache_rule {
    std::vector<cache_pattern> patterns; // any of them
    cache_header header;
    source_pos pos;
};

struct site_cache {
    bool enabled = false;      // the table absent: off; present: on unless enabled = false
    bool etag = true;          // etag_enabled: ETag sent, If-Match/If-None-Match evaluated
    bool last_modified = true; // last_modified_enabled: Last-Modified, If-*-Since evaluated
    bool expires = false;      // also Expires = now + max-age, where a max-age applies
    std::chrono::seconds max_age_static{3600};
    std::chrono::seconds max_age_dynamic{300};
    // [sites.cache] cache_control, or the site's cache_control shorthand: every file no rule
    // matches gets it instead of the static/dynamic default.
    std::optional<cache_header> cache_control;
    std::vector<cache_rule> rules; // in file order
};

// One [[sites]] entry, normalised: hostnames lower-case without a trailing dot, the primary
// hostname first; wildcard names keep their leading "*.".
// [sites.access_control]: CORS. Origins are compared as serialised by browsers
// ("https://app.example.com:8443"), scheme and host lower-case.
struct cors_policy {
    bool any_origin = false;          // "*"
    std::vector<std::string> origins; // exact origins
    // "https://*.example.com": scheme "https", suffix ".example.com" (with a port if given).
    struct origin_suffix {
        std::string scheme;
        std::string suffix;
        bool operator==(const origin_suffix&) const = default;
    };
    std::vector<origin_suffix> origin_suffixes;
    std::vector<std::string> allow_methods{"GET", "HEAD", "POST"};
    std::vector<std::string> allow_headers; // "*" alone: whatever the preflight asks for
    std::vector<std::string> expose_headers;
    bool allow_credentials = false;
    std::optional<std::chrono::seconds> max_age; // Access-Control-Max-Age, when set
};

// One htpasswd line: a user and a crypt(3) hash (bcrypt, yescrypt, SHA-512/256-crypt).
struct htpasswd_user {
    std::string name;
    std::string hash;
};

// [sites.access]: who may use the site, checked before anything else is done for a request.
struct site_access {
    net::address_set allow; // empty: every address that is not denied
    net::address_set deny;  // wins over allow
    bool require_auth = false;
    std::string realm = "Restricted";
    std::filesystem::path auth_file; // absolute
    source_pos auth_file_pos;
    // Normalised paths without the leading '/' ("admin"); "" is the whole site. Empty: the
    // whole site.
    std::vector<std::string> auth_paths;
    // auth_file's users sorted by name, read by the loader's environment check (the master
    // reads it, so it can be root's 0600 file); null without that check: nobody gets in.
    std::shared_ptr<const std::vector<htpasswd_user>> users;
};

// [sites.metrics]: the site's workers answer GET/HEAD `path` with the server-wide metrics
// (the same exposition as the management API's /metrics), for clients in `allow`.
struct site_metrics {
    std::string path = "/metrics"; // starts with '/', normalised, no query
    // Who may scrape; the loader puts loopback (127.0.0.0/8, ::1) here when allow_ips is not
    // given. Others get 403.
    net::address_set allow;
    source_pos pos; // where path is written (the table's position when it is not)
};

struct site {
    std::string name;
    std::vector<std::string> hostnames;
    std::uint16_t port = 0;
    net::ip_address bind; // listener address; default 0.0.0.0
    bool is_default = false;
    std::filesystem::path static_dir; // absolute, lexically normal; may be empty if api_only
    // No static files: what no proxy route, health or metrics endpoint, CORS preflight or
    // redirect answers gets 404.
    bool api_only = false;
    std::vector<std::string> index_files{"index.html", "index.htm"};
    std::vector<std::pair<std::string, std::string>> headers; // in file order
    std::map<unsigned, std::filesystem::path> error_pages;    // status -> absolute path
    // A directory without an index file is listed (HTML, or JSON when asked) instead of 404.
    bool directory_listing = false;
    // Single-page apps: a GET/HEAD for a path that does not exist is answered with this file
    // (relative to static_dir, normalised, no leading '/'), like Caddy's try_files.
    std::optional<std::string> fallback;
    // Whether the fallback also answers paths whose last segment has an extension
    // ("/app.js"): off by default, so a missing asset stays a 404 instead of an HTML page.
    bool fallback_for_extensions = false;
    std::optional<cors_policy> cors;   // set when [sites.access_control] is given
    std::optional<site_access> access; // set when [sites.access] is given
    // The site's own security_headers, replacing [security]'s (empty vector: none).
    std::optional<std::vector<std::pair<std::string, std::string>>> security_headers;
    std::optional<std::filesystem::path> access_log; // per-site override; empty = off
    std::optional<site_tls> tls;                     // set when [sites.ssl] enabled
    // Plain-HTTP site: answer with a redirect to the HTTPS site serving the same Host.
    bool redirect_to_https = false;
    std::optional<site_proxy> proxy; // set when [sites.proxy] is enabled
    site_compression compression;
    // [sites.rate_limit]: the site's own limit, replacing [security.rate_limiting]
    // (enabled = false: the site is not limited).
    std::optional<config::rate_limit> rate_limit;
    site_cache cache;
    std::optional<site_metrics> metrics; // set when [sites.metrics] is enabled
    source_pos pos;
};

// A listening address shared by every site that names it.
struct listen_address {
    net::ip_address bind;
    std::uint16_t port = 0;

    // "127.0.0.1:8080", "[::1]:8080": for messages.
    std::string to_string() const {
        const std::string ip = bind.to_string();
        return (bind.is_v6() ? "[" + ip + "]" : ip) + ":" + std::to_string(port);
    }
    auto operator<=>(const listen_address&) const = default;
};

// [management]: the master's HTTP API (metrics, status, reload), on loopback only.
struct management_section {
    bool enabled = false;
    net::ip_address host = *net::ip_address::parse("127.0.0.1");
    std::uint16_t port = 7654;
    std::string api_key; // empty: no key asked for
    // Set: the API listens on this Unix socket (mode 0660, group of the workers' user)
    // instead of host and port.
    std::filesystem::path socket;
};

struct snapshot {
    std::filesystem::path source_file; // empty for `bws DIR`
    // Every configuration file read: the main file first, then the included ones in the order
    // they were read (absolute paths). Empty for `bws DIR`.
    std::vector<std::filesystem::path> files;
    server_section server;
    security_section security;
    daemon_section daemon;
    logging_section logging;
    management_section management;
    std::vector<site> sites;

    // Distinct listener addresses, sorted; derived from sites by the loader.
    std::vector<listen_address> listeners;
};

using snapshot_ptr = std::shared_ptr<const snapshot>;

} // namespace bws::config
