// Serving and signalling: resolves the PID file and hands over to the master.
#include "app/serve.hpp"

#include "app/worker.hpp"
#include "config/load.hpp"
#include "net/listeners.hpp"

#include <cstdio>
#include <cstdlib>
#include <unistd.h>

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
    worker_context context;
    context.config = options.config;
    for (const auto& address : options.config->listeners) {
        std::string error;
        int fd = net::open_listener(address, options.config->server.backlog, error);
        if (fd < 0) {
            std::fprintf(stderr, "bws: %s\n", error.c_str());
            return 1;
        }
        context.listeners.push_back({address, fd});
    }
    int status = worker_main(context);
    for (const auto& listener : context.listeners)
        ::close(listener.fd);
    return status;
}

int send_action(const std::string& action, const serve_options& options) {
    config::snapshot_ptr config;
    if (!options.config_file.empty()) {
        auto result = config::load_file(options.config_file, {.check_filesystem = false});
        config = result.config;
    }
    auto pid_file = resolve_pid_file(options, config.get());
    if (pid_file.empty()) {
        std::fprintf(stderr, "bws: no PID file to find the master: pass --pid-file, set "
                             "BWS_PID_FILE, or set [daemon] pid_file\n");
        return 1;
    }
    (void)action;
    std::fprintf(stderr, "bws: signalling a running master needs the master process\n");
    return 1;
}

} // namespace bws::app
