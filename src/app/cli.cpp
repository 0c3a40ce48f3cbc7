// Command-line parsing and mode dispatch. Precedence for the config file: -c/--config, then
// $BWS_CONFIG, then /etc/bws/config.toml, then ./config.toml.
#include "app/cli.hpp"

#include "app/serve.hpp"
#include "config/load.hpp"
#include "config/port.hpp"
#include "log/setup.hpp"
#include "sys/saved_root.hpp"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bws::app {

namespace {

constexpr const char* usage_text =
    R"(Usage: bws [OPTIONS]
       bws DIRECTORY [--port N] [--bind ADDR]
       bws --config-check [FILE]
       bws -s reload|stop|quit|reopen|drain | --reload

bws serves many static sites from one TOML file, with a master process that owns the
configuration, signals and listening sockets, and worker processes that serve.

Options:
  -c, --config FILE        configuration file (default: $BWS_CONFIG, /etc/bws/config.toml,
                           then ./config.toml)
  -t, --config-check [FILE], --dry-run [FILE]
                           load and validate the configuration (and the files and
                           directories it names), print "configuration OK" or every problem
                           as FILE:LINE:COL: message; exit 0 or 1
  -q, --quiet              with --config-check: print nothing when the configuration is OK
  -p, --port N             with DIRECTORY: port to listen on (default 8080)
  -b, --bind ADDR          with DIRECTORY: address to listen on (default 127.0.0.1)
      --pid-file PATH      PID file (default: $BWS_PID_FILE, then [daemon] pid_file)
  -u, --user USER          started as root: run as USER at once, the master too, keeping
                           root only to open private key files and bind ports below 1024
                           (workers drop it entirely); a key can then stay root:root 0600.
                           bws.service uses it; also with --config-check
  -d, --daemon             detach from the terminal once serving
  -s, --signal ACTION      send ACTION to the running master (found through the PID file):
                           reload (wait for the new generation), stop (graceful),
                           quit (fast), reopen (log files), drain (/health
                           answers 503 "draining" until the next reload),
                           upgrade (re-execute the binary at the same path, e.g.
                           after a package upgrade, without dropping a request;
                           waits and prints the outcome)
      --reload             same as -s reload
  -v, --verbose            log at debug level
  -V, --version            print the version and exit
  -h, --help               print this help and exit

Signals to the master: HUP reload, TERM graceful stop (after [server] drain_delay), INT/QUIT
fast stop, USR1 reopen logs, WINCH drain, USR2 binary upgrade.
TLS ([sites.ssl]): certificates and keys are read by the master at start and on every reload.
Reverse proxy ([sites.proxy]): http://, https:// (verified TLS) and unix: upstreams, max_conns,
WebSocket tunnels, active health checks ([sites.proxy.health_check], run by the master) and
periodic host lookups (resolve_interval).
Management ([management] enabled = true): the master answers on a loopback address (default
127.0.0.1:7654) or a Unix socket ([management] socket), optional api_key: GET /metrics
(Prometheus/OpenMetrics, summed over all workers), GET /api/status, POST /api/config/reload
(like --reload), GET /api/config/check. The same /metrics on a site's port: [sites.metrics]
(loopback only unless allow_ips). api_only = true: a site that serves no static files.
Protection: request rate limits shared by all workers ([security.rate_limiting],
[sites.rate_limit]: 429), IP allow/deny and basic auth ([sites.access]), the client behind
load balancers ([security] trusted_proxies).
Not supported yet: automatic certificates (ACME) and the other keys the loader names as such;
a configuration that uses them is rejected.

Exit status: 0 success, 1 failure (invalid configuration, failed reload, ...), 2 usage error.
)";

struct options {
    std::optional<std::string> config;
    bool config_check = false;
    std::optional<std::string> check_file;
    bool quiet = false;
    std::optional<std::string> directory;
    std::optional<std::string> port;
    std::optional<std::string> bind;
    std::optional<std::string> pid_file;
    bool daemon = false;
    bool verbose = false;
    std::optional<std::string> signal;
    std::optional<std::string> user;
};

int usage_error(const std::string& message) {
    std::fprintf(stderr, "bws: %s (see 'bws --help')\n", message.c_str());
    return 2;
}

// Returns the config file to use, or nullopt after printing why there is none.
std::optional<std::filesystem::path> resolve_config(const std::optional<std::string>& flag) {
    if (flag)
        return std::filesystem::path(*flag);
    if (const char* env = std::getenv("BWS_CONFIG"); env && *env)
        return std::filesystem::path(env);
    for (const char* candidate : {"/etc/bws/config.toml", "config.toml"}) {
        std::error_code ec;
        if (std::filesystem::exists(candidate, ec))
            return std::filesystem::path(candidate);
    }
    std::fprintf(stderr, "bws: no configuration file: pass -c FILE, set BWS_CONFIG, or create "
                         "/etc/bws/config.toml or ./config.toml (or serve a directory: bws DIR)\n");
    return std::nullopt;
}

// Under systemd (stderr is the journal stream) a "<N>" prefix gives each line its syslog
// priority, so `journalctl -p err` shows why a start or reload was refused.
const char* journal_priority(const char* priority) {
    static const bool journal = [] {
        const char* stream = std::getenv("JOURNAL_STREAM");
        return stream && log::stream_is_journal(stream, 2);
    }();
    return journal ? priority : "";
}

void print_diagnostics(const config::load_result& result) {
    for (const auto& error : result.errors)
        std::fprintf(stderr, "%s%s\n", journal_priority("<3>"), error.to_string().c_str());
    for (const auto& warning : result.warnings) {
        auto text = warning.to_string();
        // Insert "warning: " after the position prefix so editors still jump to it.
        auto at = text.find(": ");
        if (at != std::string::npos)
            text.insert(at + 2, "warning: ");
        std::fprintf(stderr, "%s%s\n", journal_priority("<4>"), text.c_str());
    }
}

int config_check(const options& opts) {
    auto file = resolve_config(opts.check_file ? opts.check_file : opts.config);
    if (!file)
        return 2;
    auto result = config::load_file(*file);
    print_diagnostics(result);
    if (!result.ok()) {
        std::fprintf(stderr, "%sconfiguration %s has %zu error%s\n", journal_priority("<3>"),
                     file->c_str(), result.errors.size(), result.errors.size() == 1 ? "" : "s");
        return 1;
    }
    if (!opts.quiet) {
        std::printf("configuration OK: %s\n", file->c_str());
        // Every file read, so a drop-in that a glob missed (or matched by mistake) shows.
        for (const auto& read : result.config->files)
            std::printf("  read %s\n", read.c_str());
    }
    return 0;
}

} // namespace

int run(int argc, char** argv) {
    options opts;
    std::vector<std::string_view> args(argv + 1, argv + argc);
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string_view arg = args[i];
        std::optional<std::string> inline_value;
        if (arg.rfind("--", 0) == 0) {
            auto eq = arg.find('=');
            if (eq != std::string_view::npos) {
                inline_value = std::string(arg.substr(eq + 1));
                arg = arg.substr(0, eq);
            }
        }
        // Fetches the value of an option that requires one.
        auto value = [&](std::optional<std::string>& out) -> bool {
            if (inline_value) {
                out = *inline_value;
                return true;
            }
            if (i + 1 >= args.size())
                return false;
            out = std::string(args[++i]);
            return true;
        };
        if (inline_value && (arg == "--help" || arg == "--version" || arg == "--daemon" ||
                             arg == "--verbose" || arg == "--quiet" || arg == "--reload"))
            return usage_error(std::string(arg) + " takes no value");

        if (arg == "-h" || arg == "--help") {
            std::fputs(usage_text, stdout);
            return 0;
        } else if (arg == "-V" || arg == "--version") {
            std::printf("bws %s\n", BWS_VERSION);
            return 0;
        } else if (arg == "-c" || arg == "--config") {
            if (!value(opts.config))
                return usage_error(std::string(arg) + " needs a file name");
        } else if (arg == "-t" || arg == "--config-check" || arg == "--dry-run") {
            opts.config_check = true;
            if (inline_value)
                opts.check_file = inline_value;
            else if (i + 1 < args.size() && !args[i + 1].empty() && args[i + 1][0] != '-')
                opts.check_file = std::string(args[++i]);
        } else if (arg == "-q" || arg == "--quiet") {
            opts.quiet = true;
        } else if (arg == "-p" || arg == "--port") {
            if (!value(opts.port))
                return usage_error(std::string(arg) + " needs a port number");
        } else if (arg == "-b" || arg == "--bind") {
            if (!value(opts.bind))
                return usage_error(std::string(arg) + " needs an address");
        } else if (arg == "--pid-file") {
            if (!value(opts.pid_file))
                return usage_error("--pid-file needs a path");
        } else if (arg == "-u" || arg == "--user") {
            if (!value(opts.user) || opts.user->empty())
                return usage_error(std::string(arg) + " needs a user name");
        } else if (arg == "-d" || arg == "--daemon") {
            opts.daemon = true;
        } else if (arg == "-v" || arg == "--verbose") {
            opts.verbose = true;
        } else if (arg == "-s" || arg == "--signal") {
            if (!value(opts.signal))
                return usage_error(std::string(arg) +
                                   " needs reload, stop, quit, reopen, drain or upgrade");
        } else if (arg == "--reload") {
            opts.signal = "reload";
        } else if (!arg.empty() && arg[0] == '-') {
            return usage_error("unknown option '" + std::string(args[i]) + "'");
        } else if (!opts.directory) {
            opts.directory = std::string(arg);
        } else {
            return usage_error("unexpected argument '" + std::string(arg) + "'");
        }
    }

    // Before anything is read: config files are read as USER, as the master rereads them on
    // every reload, so a check passes only if a reload would.
    if (opts.user && !opts.signal) {
        sys::user_ids ids;
        std::string error;
        if (!sys::lookup_user(*opts.user, ids, error) ||
            !sys::become_user_keeping_root(ids, error)) {
            std::fprintf(stderr, "%sbws: %s\n", journal_priority("<3>"), error.c_str());
            return 1;
        }
    }

    if (opts.config_check)
        return config_check(opts);

    serve_options serve;
    serve.argc = argc;
    serve.argv = argv;
    serve.verbose = opts.verbose;
    serve.daemonize = opts.daemon;
    if (opts.pid_file)
        serve.pid_file = *opts.pid_file;

    if (opts.signal) {
        const auto& action = *opts.signal;
        if (action != "reload" && action != "stop" && action != "quit" && action != "reopen" &&
            action != "drain" && action != "upgrade")
            return usage_error("unknown signal action '" + action +
                               "' (reload, stop, quit, reopen, drain, upgrade)");
        if (!serve.pid_file.empty())
            return send_action(action, serve);
        // The PID file comes from the environment or the configuration, as for serving.
        if (auto file = resolve_config(opts.config))
            serve.config_file = *file;
        return send_action(action, serve);
    }

    if (opts.directory) {
        if (opts.config)
            return usage_error("give either DIRECTORY or --config, not both");
        std::uint16_t port = 8080;
        if (opts.port) {
            std::string why;
            auto parsed = config::parse_port(*opts.port, why);
            if (!parsed)
                return usage_error("invalid port: " + why);
            port = *parsed;
        }
        auto result =
            config::directory_config(*opts.directory, opts.bind.value_or("127.0.0.1"), port);
        print_diagnostics(result);
        if (!result.ok())
            return 1;
        serve.config = result.config;
        return serve_config(serve);
    }
    if (opts.port || opts.bind)
        return usage_error("--port and --bind go with DIRECTORY; set ports in the config file");

    auto file = resolve_config(opts.config);
    if (!file)
        return 2;
    auto result = config::load_file(*file);
    print_diagnostics(result);
    if (!result.ok()) {
        std::fprintf(stderr, "%sbws: configuration %s has errors; not starting\n",
                     journal_priority("<3>"), file->c_str());
        return 1;
    }
    serve.config = result.config;
    serve.config_file = *file;
    return serve_config(serve);
}

} // namespace bws::app
