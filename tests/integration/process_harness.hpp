// Process-model helpers for the integration tests, on top of harness.hpp: bws configs rendered
// from a spec, a NOTIFY_SOCKET listener, a bws master started under it, and /proc scans for its
// workers. The generic primitives are re-exported so the tests can use this namespace alone.
#pragma once

#include "harness.hpp"

#include <atomic>
#include <condition_variable>
#include <csignal>
#include <mutex>
#include <thread>
#include <utility>

namespace bws::test::proc {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

using bws::test::command_result;
using bws::test::connect_to;
using bws::test::free_port;
using bws::test::get;
using bws::test::http_client;
using bws::test::http_response;
using bws::test::listen_on;
using bws::test::port_refuses;
using bws::test::read_file;
using bws::test::run_bws;
using bws::test::temp_dir;
using bws::test::wait_until;

struct site_spec {
    std::string name;
    std::string hostname;
    std::uint16_t port = 0;
    fs::path static_dir;
    std::vector<std::pair<std::string, std::string>> headers;
};

struct config_spec {
    unsigned workers = 2;
    std::string shutdown_timeout = "10s";
    std::string server_extra; // more [server] keys, verbatim
    fs::path pid_file;
    std::string extra; // appended verbatim (e.g. [daemon] settings)
    std::vector<site_spec> sites;
};

// The TOML text of `c`: sites bound to 127.0.0.1, info-level logging.
std::string render(const config_spec& c);

// Datagrams sent to our NOTIFY_SOCKET, with arrival times.
class notify_listener {
public:
    struct message {
        steady::time_point time;
        std::string text;
    };
    explicit notify_listener(const fs::path& dir);
    ~notify_listener();
    notify_listener(const notify_listener&) = delete;
    notify_listener& operator=(const notify_listener&) = delete;
    const std::string& path() const { return path_; }
    std::vector<message> messages();
    // Waits for a message containing `needle` among those from index `from` on; returns its
    // index.
    std::optional<std::size_t> wait_for(const std::string& needle, std::size_t from,
                                        std::chrono::milliseconds limit);
    std::size_t size();

private:
    void loop();
    std::string path_;
    int fd_ = -1;
    std::atomic<bool> stop_{false};
    std::mutex mutex_;
    std::condition_variable cv_;
    std::vector<message> messages_;
    std::thread thread_;
};

// /proc/PID/cmdline with the NULs between arguments as spaces (the process title).
std::string cmdline_of(pid_t pid);
// The parent pid; nullopt when the process is gone or a zombie (exited, not reaped yet).
std::optional<pid_t> parent_of(pid_t pid);
// The live children of `parent`, sorted.
std::vector<pid_t> children_of(pid_t parent);
bool alive(pid_t pid);
// The uid a process runs as (real uid from /proc/PID/status).
std::optional<uid_t> uid_of(pid_t pid);

// A bws master started by the test (`bws -c CONFIG EXTRA_ARGS...`, extra environment entries
// "NAME=value") under our NOTIFY_SOCKET, stdout and stderr in <dir>/bws.out; killed (with its
// workers) if the test ends early.
class bws_process {
public:
    // `binary`: another copy of bws to run (the upgrade tests replace it while it runs).
    bws_process(const temp_dir& dir, const fs::path& config, std::vector<std::string> env = {},
                const std::vector<std::string>& extra_args = {},
                const fs::path& binary = BWS_BINARY);
    ~bws_process();
    bws_process(const bws_process&) = delete;
    bws_process& operator=(const bws_process&) = delete;
    pid_t pid() const { return pid_; }
    notify_listener& notify() { return notify_; }
    std::string log() const { return read_file(log_path_); }

    // READY=1 on our notify socket (bounded).
    bool wait_ready(std::chrono::milliseconds limit = 20s);
    std::vector<pid_t> workers() const { return children_of(pid_); }

    // Sends `sig` and waits for the exit status (as bws::test::wait_exit); nullopt on timeout.
    std::optional<int> stop(int sig = SIGTERM, std::chrono::milliseconds limit = 25s);
    std::optional<int> wait_exit_code(std::chrono::milliseconds limit);

private:
    notify_listener notify_;
    fs::path log_path_;
    pid_t pid_ = -1;
    bool exited_ = false;
};

// One site on a fresh port with an index.html saying `body`.
struct simple_setup {
    temp_dir dir;
    config_spec spec;
    fs::path config_path;
    std::uint16_t port = free_port();
    explicit simple_setup(const std::string& body = "hello\n", unsigned workers = 2);
    void save() { dir.write("config.toml", render(spec)); }
};

} // namespace bws::test::proc
