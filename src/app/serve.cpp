// Serving and signalling: resolves the PID file and hands over to the master.
#include "app/serve.hpp"

#include "app/master.hpp"
#include "config/load.hpp"
#include "log/setup.hpp"

#include <cstdio>
#include <cstdlib>

namespace bws::app {

std::filesystem::path resolve_pid_file(const serve_options& options,
                                       const config::snapshot* config) {
    if (!options.pid_file.empty())
        return options.pid_file;
    if (const char* env = std::getenv("BWS_PID_FILE"); env && *env)
        return env;
    if (config)
        return config->daemon.pid_file;
    return {};
}

int serve_config(const serve_options& options) {
    log::setup(options.config->logging, {.verbose = options.verbose, .role = "master"});
    master_options master;
    master.config = options.config;
    master.config_file = options.config_file;
    master.pid_file = resolve_pid_file(options, options.config.get());
    master.daemonize = options.daemonize || options.config->daemon.daemonize;
    master.verbose = options.verbose;
    master.argc = options.argc;
    master.argv = options.argv;
    return run_master(master);
}

int send_action(const std::string& action, const serve_options& options) {
    config::snapshot_ptr config;
    // Only needed for [daemon] pid_file when neither --pid-file nor $BWS_PID_FILE says where.
    if (resolve_pid_file(options, nullptr).empty() && !options.config_file.empty()) {
        auto result = config::load_file(options.config_file, {.check_filesystem = false});
        if (!result.ok()) {
            for (const auto& error : result.errors)
                std::fprintf(stderr, "%s\n", error.to_string().c_str());
            std::fprintf(stderr,
                         "bws: cannot find the PID file through %s, which has errors; pass "
                         "--pid-file or set BWS_PID_FILE\n",
                         options.config_file.c_str());
            return 1;
        }
        config = result.config;
    }
    auto pid_file = resolve_pid_file(options, config.get());
    if (pid_file.empty()) {
        std::fprintf(stderr, "bws: no PID file to find the master: pass --pid-file, set "
                             "BWS_PID_FILE, or set [daemon] pid_file\n");
        return 1;
    }
    return signal_master(action, pid_file);
}

} // namespace bws::app
