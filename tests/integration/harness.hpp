// Integration-test harness, the generic primitives every integration test shares: temp dirs and
// files, free loopback ports, child processes (the real bws binary or any program), and a small
// blocking HTTP/1.1 client over raw sockets. process_harness.hpp builds the process-model helpers
// on top of it.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace bws::test {

using namespace std::chrono_literals;

// Polls `pred` every 20 ms until it holds or `limit` passes; the last answer of `pred`.
bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds limit);

// A directory under $TMPDIR removed (recursively) when the object goes away.
class temp_dir {
public:
    temp_dir();
    ~temp_dir();
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }
    // Writes `name` (relative, parents created) readable by all: run as root, bws drops its
    // workers to "nobody", who must still read docroots and configs. Returns the full path.
    std::filesystem::path write(const std::string& name, const std::string& content) const;

private:
    std::filesystem::path path_;
};

void write_file(const std::filesystem::path& path, const std::string& content);
std::string read_file(const std::filesystem::path& path);

// A loopback TCP port that was free a moment ago (bind to port 0, read it, close).
std::uint16_t free_port();

// A listening socket on 127.0.0.1:port, e.g. to make the port busy; -1 when bind or listen fail.
int listen_on(std::uint16_t port);
// A blocking TCP connection to 127.0.0.1:port (TCP_NODELAY, SO_RCVBUF set to `receive_buffer`
// when > 0); -1 (errno set) when refused.
int connect_to(std::uint16_t port, int receive_buffer = 0);

// Connects to 127.0.0.1:port until it accepts or the timeout passes.
bool wait_for_port(std::uint16_t port, std::chrono::milliseconds timeout = 10s);
// True when nothing listens on 127.0.0.1:port right now.
bool port_refuses(std::uint16_t port);

struct http_response {
    int status = 0;
    std::string reason;
    std::multimap<std::string, std::string> headers; // lower-case names
    std::string body;
    bool complete = false; // a whole response was read

    bool ok() const { return status != 0; }
    std::string header(const std::string& lower_name) const;
    bool has_header(const std::string& lower_name) const;
};

// One client connection with a read timeout; requests are written raw.
class connection {
public:
    explicit connection(std::uint16_t port, std::chrono::milliseconds timeout = 10s);
    ~connection();
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;
    bool connected() const { return fd_ >= 0; }
    bool send(const std::string& raw);
    // Reads one response (Content-Length, chunked, or until close). `head` for HEAD
    // requests and 304s, whose responses have no body whatever Content-Length says.
    http_response read_response(bool head = false);
    // True when the server closed the connection (reads EOF) within the timeout.
    bool closed_by_peer();
    int fd() const { return fd_; }

private:
    bool fill();
    int fd_ = -1;
    std::string buffer_;
    std::chrono::milliseconds timeout_;
};

// GETs over one connection kept alive as long as the server allows, reconnecting after the
// server closes it or after a failure; for clients that run many requests in a loop.
class http_client {
public:
    explicit http_client(std::uint16_t port, std::chrono::milliseconds timeout = 5s);
    ~http_client();
    http_client(const http_client&) = delete;
    http_client& operator=(const http_client&) = delete;
    // Drops the connection; the next get() opens a new one.
    void reset();
    // A GET; status 0 (and last_error says why) on any transport failure or incomplete response.
    http_response get(const std::string& target, const std::string& host = "localhost",
                      bool close_connection = false);

    std::string last_error; // why the last get() returned status 0

private:
    std::uint16_t port_;
    std::chrono::milliseconds timeout_;
    std::unique_ptr<connection> connection_;
};

// Sends one raw request on a new connection and reads one response.
http_response request(std::uint16_t port, const std::string& raw, bool head = false);
// A GET with the given Host and extra header lines ("Name: value\r\n"...).
http_response get(std::uint16_t port, const std::string& target,
                  const std::string& host = "localhost", const std::string& extra = "");

// Starts `argv` (argv[0] is the program path) with extra environment entries ("NAME=value"),
// stdin from /dev/null, stdout and stderr on the given descriptors (inherited when < 0).
pid_t spawn(const std::vector<std::string>& argv, const std::vector<std::string>& env, int out_fd,
            int err_fd);
// Reaps `pid` once it exits: its exit code, 128 + the signal number when a signal ended it,
// nullopt when it is still running after `limit`.
std::optional<int> wait_exit(pid_t pid, std::chrono::milliseconds limit);

struct command_result {
    int exit_code = -1; // -1 when it was killed for running too long
    std::string output; // stdout and stderr, interleaved as written
};

// Runs `argv` to completion, killed after `limit`; exit code and combined output.
command_result run_command(const std::vector<std::string>& argv,
                           std::chrono::milliseconds limit = 30s,
                           const std::vector<std::string>& env = {});
// The same for `bws args...`.
command_result run_bws(std::vector<std::string> args, std::chrono::milliseconds limit = 70s,
                       const std::vector<std::string>& env = {});

// The bws binary under test, started with arguments; stdout and stderr go to files.
class bws_process {
public:
    bws_process() = default;
    ~bws_process();
    bws_process(const bws_process&) = delete;
    bws_process& operator=(const bws_process&) = delete;

    // Starts `bws args...` with extra environment entries ("NAME=value").
    bool start(const std::vector<std::string>& args, const std::vector<std::string>& env = {});
    // Starts another program (e.g. a wrapper that execs bws) the same way.
    bool start_program(const std::string& program, const std::vector<std::string>& args,
                       const std::vector<std::string>& env = {});
    // Runs `bws args...` to completion (bounded), capturing output; returns the exit code.
    int run(const std::vector<std::string>& args, std::chrono::milliseconds timeout = 30s,
            const std::vector<std::string>& env = {});
    pid_t pid() const { return pid_; }
    bool running();
    // SIGTERM, then SIGKILL after `grace`; returns the exit status (-1 if killed, 128 + the
    // signal number when a signal other than the KILL ended it).
    int stop(std::chrono::milliseconds grace = 15s);
    // Waits for the process to exit by itself (exit status as wait_exit()); nullopt on timeout.
    std::optional<int> wait_exit(std::chrono::milliseconds timeout);
    std::string out() const;
    std::string err() const;

private:
    pid_t pid_ = -1;
    temp_dir io_;
};

} // namespace bws::test
