// The master process: phases (starting, running, stopping), signals, startup, the reload
// events (loading the next generation's configuration), stop. Messages from workers, crash
// replacement, ticks and the watchdog are in master_workers.cpp; the reload steps in
// reload_machine, heartbeat policy in worker_health, status output in master_status.
#include "app/master.hpp"

#include "app/log_files.hpp"
#include "app/master_process.hpp"
#include "app/privileges.hpp"
#include "app/proctitle.hpp"
#include "app/reexec.hpp"
#include "app/reload_state.hpp"
#include "config/diff.hpp"
#include "config/load.hpp"
#include "log/environment.hpp"
#include "log/setup.hpp"
#include "metrics/shared_metrics.hpp"
#include "net/listeners.hpp"
#include "sys/notify.hpp"
#include "sys/socket_activation.hpp"
#include "sys/watchdog.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <sched.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace bws::app {

namespace detail {

unsigned worker_count(const config::snapshot& config) {
    if (config.server.workers > 0) {
        return config.server.workers;
    }
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        return std::max(1, CPU_COUNT(&set));
    }
    return 1;
}

namespace {

std::filesystem::path state_file_for(const std::filesystem::path& pid_file) {
    return pid_file.empty() ? std::filesystem::path() : reload_state_path(pid_file);
}

} // namespace

master::master(const master_options& options, daemon_report report,
               log::rotation_coordinator& rotation)
    : options_(options), signals_(ioc_), tick_timer_(ioc_), watchdog_timer_(ioc_),
      startup_timer_(ioc_), stop_timer_(ioc_),
      listeners_([](const config::listen_address& address, int backlog, std::string& error) {
          return net::open_listener(address, backlog, error);
      }),
      supervisor_(ioc_,
                  supervisor::callbacks{
                      [this](worker_record& w, const control::message& m) { on_message(w, m); },
                      [this](const worker_record& w, int status) { on_exit(w, status); }}),
      reloads_(ioc_, *this, *this, reload_machine::timing{}),
      status_(state_file_for(options.pid_file)), report_(std::move(report)), rotation_(rotation) {
    if (!options_.config_file.empty()) {
        options_.config_file = std::filesystem::absolute(options_.config_file);
    }
}

int master::run(std::optional<worker_launch>& child) {
    std::string error;
    if (!start(error)) {
        if (pid_file_) {
            pid_file_->remove();
        }
        spdlog::critical("{}", error);
        if (!options_.daemonize) {
            std::fprintf(stderr, "bws: %s\n", error.c_str());
        }
        report_.failed(error);
        return 1;
    }
    try {
        ioc_.run();
    } catch (become_worker& worker) {
        // We are a freshly forked worker: keep only our listeners, and let the caller destroy
        // the master state before worker_main runs.
        listeners_.keep_only_for_child(worker.launch.context.listeners);
        child = std::move(worker.launch);
        return 0;
    }
    return exit_code_;
}

bool master::start(std::string& error) {
    std::signal(SIGPIPE, SIG_IGN);
    // First: from here on a SIGHUP or SIGTERM is queued for the loop instead of killing us.
    for (int sig : {SIGHUP, SIGTERM, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCHLD}) {
        signals_.add(sig);
    }
    // After an upgrade the previous image blocked these across execve: what arrived meanwhile
    // is delivered to the handlers now.
    reexec::unblock_handled_signals();
    const auto& initial = *options_.config;
    if (const char* text = std::getenv(upgrade_env)) {
        std::string why;
        handover_ = decode_handover(text, why);
        ::unsetenv(upgrade_env);
        if (!handover_) {
            error = "cannot take over from the previous binary: " + why;
            return false;
        }
        if (!adopt_handover(*handover_, error)) {
            return false;
        }
    } else if (!options_.pid_file.empty()) {
        pid_file_ = pid_file::acquire(options_.pid_file, error);
        if (!pid_file_) {
            return false;
        }
    }
    for (auto& s : sys::take_activated_sockets(initial.listeners)) {
        listeners_.adopt_activated(s.address, s.fd);
    }
    auto listeners = listeners_.prepare(initial.listeners, initial.server.backlog, error);
    if (!listeners) {
        return false;
    }
    auto identity = master_worker_identity(initial.daemon, error);
    if (!identity) {
        return false;
    }
    hand_log_files_to_workers(log_files(initial), *identity);
    upstreams_.prepare(initial);
    upstreams_.commit(options_.config);
    if (!start_management(*identity, error)) {
        return false;
    }
    register_metrics_sites(initial);
    reloads_.start(generation_setup{options_.config,
                                    std::move(*identity),
                                    std::move(*listeners),
                                    worker_count(initial),
                                    {}},
                   handover_ ? handover_->generation + 1 : 1,
                   handover_ ? handover_->reload_count : 0);
    if (auto* region = metrics::region::shared()) {
        region->set_generation(reloads_.generation());
    }

    watchdog_ = sys::watchdog_interval();
    health_.emplace(worker_health::timing_for(watchdog_));
    if (watchdog_) {
        spdlog::info("systemd watchdog: {} ms, pinging every {} ms",
                     std::chrono::duration_cast<std::chrono::milliseconds>(*watchdog_).count(),
                     std::chrono::duration_cast<std::chrono::milliseconds>(
                         sys::watchdog_ping_period(*watchdog_))
                         .count());
    }

    set_proctitle("bws: master process " + original_command_line());
    wait_signals();
    start_tick();
    start_watchdog();
    startup_timer_.expires_after(startup_timeout);
    startup_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec && phase_ == phase::starting) {
            fail_startup("workers did not report ready within 30 s");
        }
    });
    asio::post(ioc_, [this] {
        const auto& current = reloads_.current();
        unsigned count = current.workers;
        auto listener_count = current.listeners.size();
        spdlog::info("starting {} worker{} for {} site{} on {} listener{}", count,
                     count == 1 ? "" : "s", current_config().sites.size(),
                     current_config().sites.size() == 1 ? "" : "s", listener_count,
                     listener_count == 1 ? "" : "s");
        for (unsigned i = 0; i < count && phase_ == phase::starting; ++i) {
            std::string why;
            if (!spawn_worker(reloads_.generation(), i, reloads_.current(), why)) {
                fail_startup("cannot start a worker: " + why);
            }
        }
    });
    return true;
}

bool master::spawn_worker(unsigned generation, unsigned index, const generation_setup& setup,
                          std::string& error) {
    worker_launch launch;
    launch.context.config = setup.config;
    launch.context.listeners = setup.listeners;
    launch.context.generation = generation;
    launch.context.index = index;
    launch.context.draining = status_.draining();
    launch.identity = setup.identity;
    launch.working_directory = setup.config->daemon.working_directory;
    auto* w = supervisor_.spawn(std::move(launch), error);
    if (w == nullptr) {
        return false;
    }
    spdlog::debug("worker {} started (generation {}, slot {})", w->pid, generation, index);
    return true;
}

void master::wait_signals() {
    signals_.async_wait([this](const boost::system::error_code& ec, int sig) {
        if (ec) {
            return;
        }
        // Re-arm before handling: the handler may fork, and the child unwinds out of here.
        wait_signals();
        on_signal(sig);
    });
}

void master::on_signal(int signal_number) {
    switch (signal_number) {
    case SIGCHLD:
        supervisor_.reap();
        break;
    case SIGHUP:
        if (stop_after_drain_) {
            spdlog::warn("SIGHUP ignored: bws stops once its drain delay is over");
            break;
        }
        spdlog::info("SIGHUP: reloading {}", options_.config_file.string());
        reloads_.request();
        break;
    case SIGTERM:
        request_graceful_stop();
        break;
    case SIGWINCH:
        start_drain("SIGWINCH");
        break;
    case SIGUSR2:
        start_upgrade();
        break;
    case SIGINT:
    case SIGQUIT:
        spdlog::info("{}: fast stop", signal_number == SIGINT ? "SIGINT" : "SIGQUIT");
        begin_stop(true);
        break;
    case SIGUSR1:
        spdlog::info("SIGUSR1: reopening log files");
        request_reopen();
        break;
    default:
        break;
    }
}

void master::on_serving() {
    phase_ = phase::running;
    startup_timer_.cancel();
    std::string error;
    if (pid_file_ && !pid_file_->write(getpid(), error)) {
        spdlog::error("{}", error);
    }
    if (handover_) {
        finish_upgrade();
    }
    status_.write_state(reloads_, false);
    auto line = status_line(status_.view(supervisor_.workers(), reloads_));
    spdlog::info("bws {} {}", BWS_VERSION, line);
    sys::notify(sys::ready_message(line));
    report_.serving();
    broadcast_status();
    reloads_.open();
}

void master::fail_startup(const std::string& reason) {
    if (exit_code_ != 0) {
        return;
    }
    spdlog::critical("startup failed: {}", reason);
    if (!options_.daemonize) {
        std::fprintf(stderr, "bws: %s\n", reason.c_str());
    }
    report_.failed(reason);
    exit_code_ = 1;
    begin_stop(true);
}

void master::reload_started() {
    reload_rejections_.clear();
    status_.write_state(reloads_, true);
    sys::notify(sys::reloading_message(sys::monotonic_usec(), "reloading configuration"));
}

std::optional<generation_setup> master::prepare_generation(std::string& error) {
    reload_rejections_.clear();
    auto setup = load_generation(error);
    if (!setup) {
        if (reload_rejections_.empty())
            reload_rejections_.push_back(error);
        return std::nullopt;
    }
    register_metrics_sites(*setup->config);
    return setup;
}

std::optional<generation_setup> master::load_generation(std::string& error) {
    if (options_.config_file.empty()) {
        error = "no configuration file to reload (bws serves a directory)";
        return std::nullopt;
    }
    auto loaded = config::load_file(options_.config_file);
    for (const auto& w : loaded.warnings) {
        spdlog::warn("{}", w.to_string());
    }
    if (!loaded.ok()) {
        for (const auto& e : loaded.errors) {
            spdlog::error("{}", e.to_string());
            reload_rejections_.push_back(e.to_string());
        }
        error = "invalid configuration";
        if (!loaded.errors.empty()) {
            error += ": " + loaded.errors.front().to_string();
            if (loaded.errors.size() > 1) {
                error += " (and " + std::to_string(loaded.errors.size() - 1) + " more)";
            }
        }
        return std::nullopt;
    }
    auto identity = master_worker_identity(loaded.config->daemon, error);
    if (!identity) {
        return std::nullopt;
    }
    auto listeners =
        listeners_.prepare(loaded.config->listeners, loaded.config->server.backlog, error);
    if (!listeners) {
        return std::nullopt;
    }
    // The new generation is forked from this process: give it the new [logging] first.
    configure_logging(*loaded.config);
    hand_log_files_to_workers(log_files(*loaded.config), *identity);
    // Against the configuration the master started with: that is what it still applies for
    // startup-only keys, however many reloads came in between.
    auto restart_keys = config::restart_required_changes(*options_.config, *loaded.config);
    // Before its workers fork: they find their servers' shared health slots when they start.
    upstreams_.prepare(*loaded.config);
    return generation_setup{loaded.config, std::move(*identity), std::move(*listeners),
                            worker_count(*loaded.config), std::move(restart_keys)};
}

void master::generation_committed(const generation_setup& next) {
    respawn_timers_.clear();
    health_->reset_backoff();
    listeners_.commit(next.config->listeners);
    upstreams_.commit(next.config);
}

void master::generation_aborted() {
    listeners_.commit(current_config().listeners); // closes what the failed generation opened
    upstreams_.commit(reloads_.current().config);  // gives back the slots it claimed
    configure_logging(current_config());
}

void master::reload_finished(bool ok) {
    if (auto* region = metrics::region::shared()) {
        region->count_reload(ok);
        region->set_generation(reloads_.generation());
    }
    if (ok)
        end_drain_after_reload();
    answer_reload_waiters(ok);
    status_.write_state(reloads_, reloads_.queued());
    sys::notify(
        sys::ready_message(reload_status_line(status_.view(supervisor_.workers(), reloads_))));
    broadcast_status();
}

void master::begin_stop(bool fast) {
    if (phase_ == phase::stopping_fast || phase_ == phase::done) {
        return;
    }
    phase_ = fast ? phase::stopping_fast : phase::stopping;
    if (!stopping_announced_) {
        stopping_announced_ = true;
        sys::notify(sys::stopping_message("stopping"));
    }
    reloads_.close();
    upstreams_.stop();
    startup_timer_.cancel();
    respawn_timers_.clear();
    for (auto& w : supervisor_.workers()) {
        w.exit_expected = true;
        if (fast) {
            supervisor_.send(w, control::kind::stop);
            supervisor_.signal(w, SIGQUIT);
        } else {
            // Also to workers still draining after a reload: a stop closes idle connections.
            supervisor_.send(w, control::kind::shutdown);
            w.state = worker_state::draining;
        }
    }
    listeners_.close_all();
    stop_timer_.expires_after(fast ? fast_stop_grace
                                   : std::chrono::duration_cast<clock::duration>(
                                         current_config().server.shutdown_timeout));
    stop_timer_.async_wait([this, fast](const boost::system::error_code& ec) {
        if (ec) {
            return;
        }
        auto& workers = supervisor_.workers();
        if (!workers.empty()) {
            spdlog::warn("{} worker{} still running after {}; killing", workers.size(),
                         workers.size() == 1 ? "" : "s",
                         fast ? "the fast-stop grace period" : "shutdown_timeout");
        }
        for (auto& w : workers) {
            supervisor_.signal(w, SIGKILL);
        }
    });
    check_stopped();
}

void master::check_stopped() {
    if ((phase_ != phase::stopping && phase_ != phase::stopping_fast) ||
        !supervisor_.workers().empty()) {
        return;
    }
    phase_ = phase::done;
    status_.remove_state();
    if (pid_file_) {
        pid_file_->remove();
    }
    spdlog::info("stopped");
    ioc_.stop();
}

} // namespace detail

int run_master(const master_options& options) {
    reexec::remember_command_line(options.argc, options.argv);
    proctitle_init(options.argc, options.argv);
    daemon_report report;
    // A re-executed master (binary upgrade) is daemonized already: same PID, same session.
    if (options.daemonize && std::getenv(upgrade_env) == nullptr) {
        if (auto code = daemonize(report)) {
            return *code;
        }
    }
    std::optional<worker_launch> child;
    int code = 0;
    // Owned here rather than by the master so that a forked worker can drop it without
    // joining compression threads that exist only in the master.
    auto rotation = std::make_unique<log::rotation_coordinator>(
        log::rotation_policy::from(options.config->logging),
        log::rotation_coordinator::watched_files(*options.config,
                                                 log::environment::from_process()));
    {
        detail::master m(options, std::move(report), *rotation);
        code = m.run(child);
    }
    if (child) {
        (void)rotation.release(); // see above: never destroyed in a worker
        // A worker: the master's sockets, timers and signal handlers are gone.
        int worker_code = run_worker_child(*child);
        spdlog::default_logger()->flush();
        _exit(worker_code);
    }
    return code;
}

} // namespace bws::app
