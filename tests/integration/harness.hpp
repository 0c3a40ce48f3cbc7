// Integration-test harness, the generic primitives every integration test shares: temp dirs and
// files, child processes and readiness waits (from tests/support/, re-exported here), reserved
// loopback ports, the real bws binary, and a small blocking HTTP/1.1 client over raw sockets.
// process_harness.hpp builds the process-model helpers on top of it.
#pragma once

#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

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

// A loopback TCP port reserved for this test process: a socket bound to 127.0.0.1:port with
// SO_REUSEADDR but not listening stays open until the process exits. The kernel then never
// hands the port to anyone else (bind to port 0 and connect() skip bound ports; an explicit
// bind without SO_REUSEADDR fails), while bws, whose listeners set SO_REUSEADDR, can still
// bind and listen on it; connections only ever reach a listening socket. So no other process
// can take the port between this call and bws starting (the race of bind-read-close).
std::uint16_t free_port();

// A listening socket on 127.0.0.1:port, e.g. to make the port busy (SO_REUSEADDR, so that it
// can take a port reserved by free_port()); -1 when bind or listen fail.
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

// run_command() for `bws args...`.
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
