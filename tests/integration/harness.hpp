// Integration-test harness: temp dirs, free loopback ports, the real bws binary as a child
// process, and a small blocking HTTP/1.1 client over raw sockets.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace bws::test {

using namespace std::chrono_literals;

// A directory under $TMPDIR removed (recursively) when the object goes away.
class temp_dir {
public:
    temp_dir();
    ~temp_dir();
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

private:
    std::filesystem::path path_;
};

void write_file(const std::filesystem::path& path, const std::string& content);
std::string read_file(const std::filesystem::path& path);

// A loopback TCP port that was free a moment ago (bind to port 0, read it, close).
std::uint16_t free_port();

// Connects to 127.0.0.1:port until it accepts or the timeout passes.
bool wait_for_port(std::uint16_t port, std::chrono::milliseconds timeout = 10s);

struct http_response {
    int status = 0;
    std::string reason;
    std::multimap<std::string, std::string> headers; // lower-case names
    std::string body;
    bool complete = false; // a whole response was read

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

// Sends one raw request on a new connection and reads one response.
http_response request(std::uint16_t port, const std::string& raw, bool head = false);
// A GET with the given Host and extra header lines ("Name: value\r\n"...).
http_response get(std::uint16_t port, const std::string& target,
                  const std::string& host = "localhost", const std::string& extra = "");

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
    // SIGTERM, then SIGKILL after `grace`; returns the exit status (-1 if killed).
    int stop(std::chrono::milliseconds grace = 15s);
    // Waits for the process to exit by itself; nullopt on timeout.
    std::optional<int> wait_exit(std::chrono::milliseconds timeout);
    std::string out() const;
    std::string err() const;

private:
    pid_t pid_ = -1;
    temp_dir io_;
};

} // namespace bws::test
