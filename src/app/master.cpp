// The master process: startup, generations and reloads, stop, crash replacement, heartbeats,
// sd_notify and the watchdog. One thread, one io_context; signals arrive through a signal_set.
#include "app/master.hpp"

#include "app/backoff.hpp"
#include "app/daemonize.hpp"
#include "app/listener_table.hpp"
#include "app/log_files.hpp"
#include "app/pidfile.hpp"
#include "app/privileges.hpp"
#include "app/proctitle.hpp"
#include "app/reload_state.hpp"
#include "app/status_json.hpp"
#include "app/supervisor.hpp"
#include "config/load.hpp"
#include "log/environment.hpp"
#include "log/line_file.hpp"
#include "log/rotation.hpp"
#include "log/setup.hpp"
#include "net/listeners.hpp"
#include "sys/notify.hpp"
#include "sys/socket_activation.hpp"
#include "sys/watchdog.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <list>

namespace bws::app {

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

// A ready worker whose last message is older than this is stuck (SIGSTOP, a wedged loop):
// it is killed and replaced. Workers send a heartbeat every second.
constexpr clock::duration heartbeat_stale_after = 10s;
// With the watchdog on, a heartbeat counts as fresh for at least this long, so one late
// heartbeat does not skip a ping.
constexpr clock::duration min_fresh = 3s;
constexpr clock::duration startup_timeout = 30s;
constexpr clock::duration reload_timeout = 30s;
constexpr clock::duration fast_stop_grace = 2s;
constexpr clock::duration tick_period = 1s;
constexpr unsigned status_every_ticks = 5; // STATUS= refresh

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

std::string describe_exit(int status) {
    if (WIFEXITED(status)) {
        return "exited with status " + std::to_string(WEXITSTATUS(status));
    }
    if (WIFSIGNALED(status)) {
        const char* name = sigabbrev_np(WTERMSIG(status));
        return "was killed by signal " + std::to_string(WTERMSIG(status)) +
               (name != nullptr ? std::string(" (SIG") + name + ")" : std::string());
    }
    return "ended with wait status " + std::to_string(status);
}

bool exited_cleanly(int status) {
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

enum class phase { starting, running, stopping, stopping_fast, done };

class master {
public:
    master(const master_options& options, daemon_report report,
           log::rotation_coordinator& rotation);
    // Returns the exit code; in a forked worker returns with `child` set instead.
    int run(std::optional<worker_launch>& child);

private:
    struct pending_reload {
        unsigned generation = 0;
        config::snapshot_ptr config;
        worker_identity identity;
        std::vector<inherited_listener> listeners;
    };

    bool start(std::string& error);
    bool spawn_worker(unsigned generation, unsigned index, const config::snapshot_ptr& config,
                      const std::vector<inherited_listener>& listeners,
                      const worker_identity& identity, std::string& error);
    unsigned ready_count(unsigned generation) const;

    void wait_signals();
    void on_signal(int signal_number);

    void on_message(worker_record& worker, std::string_view message);
    void on_ready(worker_record& worker);
    void on_exit(const worker_record& worker, int status);
    void schedule_respawn(unsigned index, clock::duration delay);
    void respawn(unsigned index);

    void on_serving();
    void fail_startup(const std::string& reason);

    void begin_reload();
    void commit_reload();
    void abort_reload(const std::string& reason);
    void finish_reload(bool ok, const std::string& message);

    void begin_stop(bool fast);
    void check_stopped();

    void start_tick();
    void on_tick();
    void start_watchdog();
    bool heartbeats_fresh() const;

    master_view view() const;
    void broadcast_status();
    void write_state(bool reloading);

    // Log files: size rotation is decided here; every process then reopens by name, and a
    // rotated file is compressed only once every worker has confirmed ("reopened").
    void request_reopen();
    void check_reopened();
    void configure_logging(const config::snapshot& config);
    std::vector<std::filesystem::path> log_files(const config::snapshot& config) const;

    master_options options_;
    asio::io_context ioc_; // first member: destroyed last
    asio::signal_set signals_;
    asio::steady_timer tick_timer_;
    asio::steady_timer watchdog_timer_;
    asio::steady_timer startup_timer_;
    asio::steady_timer reload_timer_;
    asio::steady_timer stop_timer_;
    std::list<asio::steady_timer> drain_timers_;
    std::map<unsigned, asio::steady_timer> respawn_timers_;
    listener_table listeners_;
    supervisor supervisor_;
    std::optional<pid_file> pid_file_;
    std::filesystem::path state_file_;
    daemon_report report_;
    log::rotation_coordinator& rotation_;
    bool rotation_awaiting_reopen_ = false;

    config::snapshot_ptr config_;
    worker_identity identity_;
    std::vector<inherited_listener> current_listeners_;
    unsigned generation_ = 1;
    std::optional<pending_reload> reload_;
    bool reload_queued_ = false;
    std::map<unsigned, crash_backoff> backoff_;
    std::map<std::string, std::uint64_t> retired_counters_;
    std::uint64_t reload_count_ = 0;
    reload_view last_reload_;

    phase phase_ = phase::starting;
    bool stopping_announced_ = false;
    int exit_code_ = 0;
    clock::time_point started_ = clock::now();
    std::optional<std::chrono::microseconds> watchdog_;
    clock::duration stale_after_ = heartbeat_stale_after;
    clock::duration fresh_limit_ = heartbeat_stale_after;
    unsigned ticks_ = 0;
    std::optional<worker_launch>* child_ = nullptr;
};

master::master(const master_options& options, daemon_report report,
               log::rotation_coordinator& rotation)
    : options_(options), signals_(ioc_), tick_timer_(ioc_), watchdog_timer_(ioc_),
      startup_timer_(ioc_), reload_timer_(ioc_), stop_timer_(ioc_),
      listeners_([](const config::listen_address& address, int backlog, std::string& error) {
          return net::open_listener(address, backlog, error);
      }),
      supervisor_(ioc_, supervisor::callbacks{
                            [this](worker_record& w, std::string_view m) { on_message(w, m); },
                            [this](const worker_record& w, int status) { on_exit(w, status); }}),
      report_(std::move(report)), rotation_(rotation), config_(options.config) {
    if (!options_.config_file.empty()) {
        options_.config_file = std::filesystem::absolute(options_.config_file);
    }
}

int master::run(std::optional<worker_launch>& child) {
    child_ = &child;
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
    for (int sig : {SIGHUP, SIGTERM, SIGINT, SIGQUIT, SIGUSR1, SIGCHLD}) {
        signals_.add(sig);
    }
    if (!options_.pid_file.empty()) {
        pid_file_ = pid_file::acquire(options_.pid_file, error);
        if (!pid_file_) {
            return false;
        }
        state_file_ = reload_state_path(options_.pid_file);
    }
    for (auto& s : sys::take_activated_sockets(config_->listeners)) {
        listeners_.adopt_activated(s.address, s.fd);
    }
    auto listeners = listeners_.prepare(config_->listeners, config_->server.backlog, error);
    if (!listeners) {
        return false;
    }
    current_listeners_ = std::move(*listeners);
    auto identity = resolve_worker_identity(config_->daemon, geteuid(), error);
    if (!identity) {
        return false;
    }
    identity_ = std::move(*identity);
    hand_log_files_to_workers(log_files(*config_), identity_);

    watchdog_ = sys::watchdog_interval();
    if (watchdog_) {
        auto interval = std::chrono::duration_cast<clock::duration>(*watchdog_);
        fresh_limit_ = std::max(interval, min_fresh);
        // Kill a stuck worker a little after pings stop, so that systemd sees the gap when
        // its interval is short, and the replacement happens before it acts when it is long.
        stale_after_ = std::min(heartbeat_stale_after, fresh_limit_ + 2s);
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
        unsigned count = worker_count(*config_);
        spdlog::info("starting {} worker{} for {} site{} on {} listener{}", count,
                     count == 1 ? "" : "s", config_->sites.size(),
                     config_->sites.size() == 1 ? "" : "s", current_listeners_.size(),
                     current_listeners_.size() == 1 ? "" : "s");
        for (unsigned i = 0; i < count && phase_ == phase::starting; ++i) {
            std::string why;
            if (!spawn_worker(generation_, i, config_, current_listeners_, identity_, why)) {
                fail_startup("cannot start a worker: " + why);
            }
        }
    });
    return true;
}

bool master::spawn_worker(unsigned generation, unsigned index, const config::snapshot_ptr& config,
                          const std::vector<inherited_listener>& listeners,
                          const worker_identity& identity, std::string& error) {
    worker_launch launch;
    launch.context.config = config;
    launch.context.listeners = listeners;
    launch.context.generation = generation;
    launch.context.index = index;
    launch.identity = identity;
    launch.working_directory = config->daemon.working_directory;
    auto* w = supervisor_.spawn(std::move(launch), error);
    if (w == nullptr) {
        return false;
    }
    spdlog::debug("worker {} started (generation {}, slot {})", w->pid, generation, index);
    return true;
}

unsigned master::ready_count(unsigned generation) const {
    unsigned n = 0;
    for (const auto& w : const_cast<supervisor&>(supervisor_).workers()) {
        if (w.generation == generation && w.state == worker_state::ready) {
            ++n;
        }
    }
    return n;
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
        spdlog::info("SIGHUP: reloading {}", options_.config_file.string());
        begin_reload();
        break;
    case SIGTERM:
        spdlog::info("SIGTERM: {}", phase_ == phase::stopping ? "fast stop" : "graceful stop");
        begin_stop(phase_ == phase::stopping);
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

void master::on_message(worker_record& worker, std::string_view message) {
    if (message == "ready") {
        if (worker.state == worker_state::starting) {
            worker.state = worker_state::ready;
            on_ready(worker);
        }
        return;
    }
    if (message.rfind("heartbeat", 0) == 0) {
        std::string_view rest = message.substr(9);
        while (!rest.empty()) {
            auto start = rest.find_first_not_of(' ');
            if (start == std::string_view::npos) {
                break;
            }
            rest.remove_prefix(start);
            auto end = rest.find(' ');
            std::string_view token = rest.substr(0, end);
            rest.remove_prefix(end == std::string_view::npos ? rest.size() : end);
            auto eq = token.rfind('=');
            if (eq == std::string_view::npos) {
                continue;
            }
            std::uint64_t n = 0;
            for (char c : token.substr(eq + 1)) {
                if (c < '0' || c > '9') {
                    n = 0;
                    break;
                }
                n = n * 10 + static_cast<std::uint64_t>(c - '0');
            }
            worker.counters[std::string(token.substr(0, eq))] = n;
        }
        return;
    }
    if (message == "reopened") {
        if (worker.reopen_pending > 0) {
            --worker.reopen_pending;
        }
        check_reopened();
        return;
    }
    if (message == "drained") {
        spdlog::debug("worker {}: {}", worker.pid, message);
        return;
    }
    spdlog::warn("worker {}: unknown control message \"{}\"", worker.pid, message.substr(0, 80));
}

void master::on_ready(worker_record& worker) {
    spdlog::debug("worker {} ready (generation {})", worker.pid, worker.generation);
    if (phase_ == phase::starting && worker.generation == generation_ &&
        ready_count(generation_) == worker_count(*config_)) {
        on_serving();
    } else if (reload_ && worker.generation == reload_->generation &&
               ready_count(reload_->generation) == worker_count(*reload_->config)) {
        commit_reload();
    } else if (phase_ == phase::running && worker.generation == generation_) {
        spdlog::info("worker {} (slot {}) is serving", worker.pid, worker.index);
    }
    broadcast_status();
}

void master::on_serving() {
    phase_ = phase::running;
    startup_timer_.cancel();
    std::string error;
    if (pid_file_ && !pid_file_->write(getpid(), error)) {
        spdlog::error("{}", error);
    }
    write_state(false);
    auto line = status_line(view());
    spdlog::info("bws {} {}", BWS_VERSION, line);
    sys::notify(sys::ready_message(line));
    report_.serving();
    broadcast_status();
    if (reload_queued_) {
        asio::post(ioc_, [this] { begin_reload(); });
    }
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

void master::on_exit(const worker_record& worker, int status) {
    for (const auto& [site, n] : worker.counters) {
        retired_counters_[site] += n;
    }
    auto what = describe_exit(status);
    if (phase_ == phase::stopping || phase_ == phase::stopping_fast || phase_ == phase::done) {
        spdlog::debug("worker {} {}", worker.pid, what);
        check_stopped();
        return;
    }
    if (reload_ && worker.generation == reload_->generation && !worker.exit_expected) {
        spdlog::error("new worker {} {} before it was ready", worker.pid, what);
        abort_reload("a new worker " + what);
        return;
    }
    if (phase_ == phase::starting && !worker.exit_expected) {
        fail_startup("worker " + std::to_string(worker.pid) + " " + what + " during startup");
        return;
    }
    bool unexpected = !worker.exit_expected || worker.killed_stuck;
    if (worker.generation == generation_ && unexpected) {
        auto uptime =
            std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - worker.spawned);
        auto delay = backoff_[worker.index].on_crash(uptime);
        if (worker.killed_stuck) {
            spdlog::warn("stuck worker {} (slot {}) {}; replacing it", worker.pid, worker.index,
                         what);
        } else if (delay.count() == 0) {
            spdlog::error("worker {} (slot {}) {}; replacing it", worker.pid, worker.index, what);
        } else {
            spdlog::error("worker {} (slot {}) {}; it keeps crashing, replacing it in {} ms",
                          worker.pid, worker.index, what, delay.count());
        }
        schedule_respawn(worker.index, delay);
    } else if (!exited_cleanly(status) && !worker.exit_expected) {
        spdlog::warn("worker {} of generation {} {}", worker.pid, worker.generation, what);
    } else {
        spdlog::debug("worker {} of generation {} {}", worker.pid, worker.generation, what);
    }
    broadcast_status();
}

void master::schedule_respawn(unsigned index, clock::duration delay) {
    auto [it, inserted] = respawn_timers_.try_emplace(index, ioc_);
    it->second.expires_after(delay);
    it->second.async_wait([this, index](const boost::system::error_code& ec) {
        if (!ec) {
            respawn(index);
        }
    });
}

void master::respawn(unsigned index) {
    if (phase_ != phase::running || index >= worker_count(*config_)) {
        return;
    }
    for (const auto& w : supervisor_.workers()) {
        if (w.generation == generation_ && w.index == index && !w.exit_expected) {
            return; // already replaced
        }
    }
    std::string error;
    if (!spawn_worker(generation_, index, config_, current_listeners_, identity_, error)) {
        spdlog::error("cannot replace worker slot {}: {}; retrying in 1 s", index, error);
        schedule_respawn(index, 1s);
    }
}

void master::begin_reload() {
    if (phase_ == phase::starting) {
        reload_queued_ = true;
        return;
    }
    if (phase_ != phase::running) {
        return;
    }
    if (reload_) {
        spdlog::info("a reload is in progress; the new one will follow it");
        reload_queued_ = true;
        write_state(true);
        return;
    }
    reload_queued_ = false;
    write_state(true);
    sys::notify(sys::reloading_message(sys::monotonic_usec(), "reloading configuration"));
    if (options_.config_file.empty()) {
        finish_reload(false, "no configuration file to reload (bws serves a directory)");
        return;
    }
    auto loaded = config::load_file(options_.config_file);
    for (const auto& w : loaded.warnings) {
        spdlog::warn("{}", w.to_string());
    }
    if (!loaded.ok()) {
        for (const auto& e : loaded.errors) {
            spdlog::error("{}", e.to_string());
        }
        std::string reason = "invalid configuration";
        if (!loaded.errors.empty()) {
            reason += ": " + loaded.errors.front().to_string();
            if (loaded.errors.size() > 1) {
                reason += " (and " + std::to_string(loaded.errors.size() - 1) + " more)";
            }
        }
        finish_reload(false, reason);
        return;
    }
    std::string error;
    auto identity = resolve_worker_identity(loaded.config->daemon, geteuid(), error);
    if (!identity) {
        finish_reload(false, error);
        return;
    }
    auto listeners =
        listeners_.prepare(loaded.config->listeners, loaded.config->server.backlog, error);
    if (!listeners) {
        finish_reload(false, error);
        return;
    }
    // The new generation is forked from this process: give it the new [logging] first.
    configure_logging(*loaded.config);
    hand_log_files_to_workers(log_files(*loaded.config), *identity);
    reload_ =
        pending_reload{generation_ + 1, loaded.config, std::move(*identity), std::move(*listeners)};
    unsigned count = worker_count(*loaded.config);
    spdlog::info("starting generation {} ({} worker{})", reload_->generation, count,
                 count == 1 ? "" : "s");
    reload_timer_.expires_after(reload_timeout);
    reload_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec && reload_) {
            abort_reload("the new workers did not report ready within 30 s");
        }
    });
    for (unsigned i = 0; i < count; ++i) {
        // Copies: spawn may fork, and abort_reload may reset reload_.
        auto generation = reload_->generation;
        auto config = reload_->config;
        auto listeners_copy = reload_->listeners;
        auto identity_copy = reload_->identity;
        if (!spawn_worker(generation, i, config, listeners_copy, identity_copy, error)) {
            abort_reload("cannot start a worker: " + error);
            return;
        }
    }
}

void master::commit_reload() {
    reload_timer_.cancel();
    auto next = std::move(*reload_);
    reload_.reset();
    std::vector<pid_t> draining;
    for (auto& w : supervisor_.workers()) {
        if (w.generation != next.generation && w.state != worker_state::draining) {
            supervisor_.send(w, "drain");
            w.state = worker_state::draining;
            w.exit_expected = true;
            draining.push_back(w.pid);
        }
    }
    // Old workers get the old configuration's shutdown_timeout: it is what they were started
    // with and what their clients were promised.
    auto& timer = drain_timers_.emplace_back(ioc_, config_->server.shutdown_timeout);
    auto timer_it = std::prev(drain_timers_.end());
    timer.async_wait([this, draining, timer_it](const boost::system::error_code& ec) {
        if (ec) {
            return;
        }
        for (pid_t pid : draining) {
            if (auto* w = supervisor_.find(pid)) {
                spdlog::warn("old worker {} still running after shutdown_timeout; killing it", pid);
                supervisor_.signal(*w, SIGKILL);
            }
        }
        drain_timers_.erase(timer_it);
    });
    respawn_timers_.clear();
    backoff_.clear();
    listeners_.commit(next.config->listeners);
    config_ = next.config;
    identity_ = std::move(next.identity);
    current_listeners_ = std::move(next.listeners);
    generation_ = next.generation;
    finish_reload(true, "generation " + std::to_string(generation_) + " serving");
}

void master::abort_reload(const std::string& reason) {
    reload_timer_.cancel();
    if (reload_) {
        for (auto& w : supervisor_.workers()) {
            if (w.generation == reload_->generation) {
                w.exit_expected = true;
                supervisor_.signal(w, SIGKILL);
            }
        }
        reload_.reset();
    }
    listeners_.commit(config_->listeners); // closes what the failed generation opened
    configure_logging(*config_);
    finish_reload(false, reason);
}

void master::finish_reload(bool ok, const std::string& message) {
    ++reload_count_;
    last_reload_ = reload_view{std::chrono::system_clock::now(), ok, message};
    if (ok) {
        spdlog::info("reload #{} ok: {}", reload_count_, message);
    } else {
        spdlog::error("reload #{} failed: {}; still serving generation {}", reload_count_, message,
                      generation_);
    }
    write_state(reload_queued_);
    std::string status = "reload #" + std::to_string(reload_count_) +
                         (ok ? " ok" : " failed: " + message) + "; " + status_line(view());
    sys::notify(sys::ready_message(status));
    broadcast_status();
    if (reload_queued_) {
        asio::post(ioc_, [this] { begin_reload(); });
    }
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
    reload_.reset();
    reload_queued_ = false;
    reload_timer_.cancel();
    startup_timer_.cancel();
    respawn_timers_.clear();
    for (auto& w : supervisor_.workers()) {
        w.exit_expected = true;
        if (fast) {
            supervisor_.send(w, "stop");
            supervisor_.signal(w, SIGQUIT);
        } else {
            // Also to workers still draining after a reload: a stop closes idle connections.
            supervisor_.send(w, "shutdown");
            w.state = worker_state::draining;
        }
    }
    listeners_.close_all();
    current_listeners_.clear();
    stop_timer_.expires_after(
        fast ? fast_stop_grace
             : std::chrono::duration_cast<clock::duration>(config_->server.shutdown_timeout));
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
    if (!state_file_.empty()) {
        std::error_code ec;
        std::filesystem::remove(state_file_, ec);
    }
    if (pid_file_) {
        pid_file_->remove();
    }
    spdlog::info("stopped");
    ioc_.stop();
}

void master::start_tick() {
    tick_timer_.expires_after(tick_period);
    tick_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) {
            on_tick();
        }
    });
}

void master::on_tick() {
    ++ticks_;
    auto now = clock::now();
    for (auto& w : supervisor_.workers()) {
        if (w.state == worker_state::ready && !w.exit_expected &&
            now - w.last_heartbeat > stale_after_) {
            spdlog::error(
                "worker {} (slot {}) sent no heartbeat for {} s; killing it", w.pid, w.index,
                std::chrono::duration_cast<std::chrono::seconds>(now - w.last_heartbeat).count());
            w.exit_expected = true;
            w.killed_stuck = true;
            supervisor_.signal(w, SIGKILL);
        }
    }
    if (!rotation_.check().empty()) {
        rotation_awaiting_reopen_ = true;
        request_reopen();
    }
    check_reopened(); // also counts workers that exited without answering
    broadcast_status();
    if (phase_ == phase::running && !reload_ && ticks_ % status_every_ticks == 0) {
        sys::notify(sys::status_message(status_line(view())));
    }
    start_tick();
}

bool master::heartbeats_fresh() const {
    auto now = clock::now();
    for (const auto& w : const_cast<supervisor&>(supervisor_).workers()) {
        if (!w.exit_expected && now - w.last_heartbeat >= fresh_limit_) {
            return false;
        }
    }
    return true;
}

void master::start_watchdog() {
    if (!watchdog_) {
        return;
    }
    watchdog_timer_.expires_after(sys::watchdog_ping_period(*watchdog_));
    watchdog_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec) {
            return;
        }
        if (heartbeats_fresh()) {
            sys::notify(sys::watchdog_message());
        } else {
            spdlog::warn("watchdog: a worker's heartbeat is stale; not pinging systemd");
        }
        start_watchdog();
    });
}

master_view master::view() const {
    master_view v;
    v.master_pid = getpid();
    v.generation = generation_;
    v.site_requests = retired_counters_;
    for (const auto& w : const_cast<supervisor&>(supervisor_).workers()) {
        v.workers.push_back({w.pid, w.generation, to_string(w.state)});
        for (const auto& [site, n] : w.counters) {
            v.site_requests[site] += n;
        }
    }
    v.reload_count = reload_count_;
    v.last_reload = last_reload_;
    v.site_count = config_->sites.size();
    v.listener_count = config_->listeners.size();
    v.uptime = std::chrono::duration_cast<std::chrono::seconds>(clock::now() - started_);
    v.version = BWS_VERSION;
    return v;
}

void master::broadcast_status() {
    std::string message = "status " + status_json(view());
    for (auto& w : supervisor_.workers()) {
        supervisor_.send(w, message);
    }
}

void master::write_state(bool reloading) {
    if (state_file_.empty()) {
        return;
    }
    reload_state state;
    state.pid = getpid();
    state.generation = generation_;
    state.reload_count = reload_count_;
    state.reloading = reloading;
    state.last_ok = last_reload_.ok;
    state.message = last_reload_.message;
    std::string error;
    if (!write_reload_state(state_file_, state, error)) {
        spdlog::error("{}", error);
    }
}

void master::request_reopen() {
    log::reopen_all();
    // Files recreated by the master's reopen (or by a rotation) belong to root until handed over.
    hand_log_files_to_workers(log_files(*config_), identity_);
    for (auto& w : supervisor_.workers()) {
        supervisor_.send(w, "reopen");
        ++w.reopen_pending;
    }
}

void master::check_reopened() {
    if (!rotation_awaiting_reopen_) {
        return;
    }
    for (const auto& w : supervisor_.workers()) {
        if (w.reopen_pending > 0) {
            return;
        }
    }
    rotation_awaiting_reopen_ = false;
    rotation_.reopen_complete();
}

std::vector<std::filesystem::path> master::log_files(const config::snapshot& config) const {
    return log::rotation_coordinator::watched_files(config, log::environment::from_process());
}

void master::configure_logging(const config::snapshot& config) {
    log::setup(config.logging, {.verbose = options_.verbose, .role = "master"});
    rotation_.reconfigure(log::rotation_policy::from(config.logging), log_files(config));
}

} // namespace

int run_master(const master_options& options) {
    proctitle_init(options.argc, options.argv);
    daemon_report report;
    if (options.daemonize) {
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
        master m(options, std::move(report), *rotation);
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
