// Integration-test harness implementation (POSIX sockets and processes, no Asio, so the test
// client shares no code with the server it checks).
#include "harness.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sstream>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace bws::test {

namespace {

sockaddr_in loopback(std::uint16_t port) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    return addr;
}

} // namespace

std::uint16_t free_port() {
    // The reservation is never closed: the process (one test, under ctest) ends soon enough,
    // and closing it after bws started would gain nothing.
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    auto addr = loopback(0);
    socklen_t len = sizeof addr;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
        throw std::runtime_error(std::string("free_port: ") + std::strerror(errno));
    return ntohs(addr.sin_port);
}

int listen_on(std::uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    auto addr = loopback(port);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 1) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

int connect_to(std::uint16_t port, int receive_buffer) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    // Set before connect: the buffer size decides the window scale offered in the handshake.
    if (receive_buffer > 0)
        ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    auto addr = loopback(port);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        int saved = errno; // for the callers' error messages
        ::close(fd);
        errno = saved;
        return -1;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

namespace {

std::string lower(std::string s) {
    for (auto& c : s)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

} // namespace

bool wait_for_port(std::uint16_t port, std::chrono::milliseconds timeout) {
    auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
        int fd = connect_to(port);
        if (fd >= 0) {
            ::close(fd);
            return true;
        }
        std::this_thread::sleep_for(20ms);
    }
    return false;
}

bool port_refuses(std::uint16_t port) {
    int fd = connect_to(port);
    if (fd < 0)
        return true;
    ::close(fd);
    return false;
}

std::string http_response::header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
}

bool http_response::has_header(const std::string& name) const {
    return headers.find(name) != headers.end();
}

connection::connection(std::uint16_t port, std::chrono::milliseconds timeout)
    : fd_(connect_to(port)), timeout_(timeout) {}

connection::~connection() {
    if (fd_ >= 0)
        ::close(fd_);
}

bool connection::send(const std::string& raw) {
    std::size_t sent = 0;
    while (sent < raw.size()) {
        auto n = ::send(fd_, raw.data() + sent, raw.size() - sent, MSG_NOSIGNAL);
        if (n <= 0)
            return false;
        sent += static_cast<std::size_t>(n);
    }
    return true;
}

bool connection::fill() {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout_.count())) <= 0)
        return false;
    char chunk[65536];
    auto n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0)
        return false;
    buffer_.append(chunk, static_cast<std::size_t>(n));
    return true;
}

http_response connection::read_response(bool head) {
    http_response r;
    if (fd_ < 0)
        return r;
    std::size_t end;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos)
        if (!fill())
            return r;
    std::string head_text = buffer_.substr(0, end);
    buffer_.erase(0, end + 4);
    std::istringstream lines(head_text);
    std::string line;
    std::getline(lines, line);
    if (!line.empty() && line.back() == '\r')
        line.pop_back();
    // "HTTP/1.1 200 OK"
    auto sp1 = line.find(' ');
    auto sp2 = line.find(' ', sp1 + 1);
    r.status = std::atoi(line.substr(sp1 + 1, sp2 - sp1 - 1).c_str());
    r.reason = sp2 == std::string::npos ? "" : line.substr(sp2 + 1);
    while (std::getline(lines, line)) {
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        auto colon = line.find(':');
        if (colon == std::string::npos)
            continue;
        auto value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ')
            value.erase(0, 1);
        r.headers.emplace(lower(line.substr(0, colon)), value);
    }
    if (head || r.status == 304 || r.status == 204) {
        r.complete = true;
        return r;
    }
    if (r.has_header("content-length")) {
        auto length = std::stoull(r.header("content-length"));
        while (buffer_.size() < length)
            if (!fill())
                return r;
        r.body = buffer_.substr(0, length);
        buffer_.erase(0, length);
        r.complete = true;
        return r;
    }
    while (fill()) {
    }
    r.body = std::move(buffer_);
    buffer_.clear();
    r.complete = true;
    return r;
}

bool connection::closed_by_peer() {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout_.count())) <= 0)
        return false;
    char c;
    return ::recv(fd_, &c, 1, MSG_PEEK) <= 0;
}

http_client::http_client(std::uint16_t port, std::chrono::milliseconds timeout)
    : port_(port), timeout_(timeout) {}

http_client::~http_client() = default;

void http_client::reset() {
    connection_.reset();
}

http_response http_client::get(const std::string& target, const std::string& host,
                               bool close_connection) {
    const bool reused = connection_ != nullptr;
    if (!connection_) {
        connection_ = std::make_unique<connection>(port_, timeout_);
        if (!connection_->connected()) {
            last_error = "connect: " + std::string(std::strerror(errno));
            reset();
            return {};
        }
    }
    last_error = reused ? "on a reused connection: " : "on a new connection: ";
    if (!connection_->send("GET " + target + " HTTP/1.1\r\nHost: " + host + "\r\n" +
                           (close_connection ? "Connection: close\r\n" : "") + "\r\n")) {
        last_error += "send: " + std::string(std::strerror(errno));
        reset();
        return {};
    }
    auto r = connection_->read_response();
    if (!r.complete || r.status == 0) {
        last_error += r.status == 0 ? "no response head" : "incomplete response body";
        reset();
        return {};
    }
    if (close_connection || r.header("connection") == "close")
        reset();
    return r;
}

http_response request(std::uint16_t port, const std::string& raw, bool head) {
    connection c(port);
    if (!c.connected() || !c.send(raw))
        return {};
    return c.read_response(head);
}

http_response get(std::uint16_t port, const std::string& target, const std::string& host,
                  const std::string& extra) {
    return request(port, "GET " + target + " HTTP/1.1\r\nHost: " + host +
                             "\r\nConnection: close\r\n" + extra + "\r\n");
}

command_result run_bws(std::vector<std::string> args, std::chrono::milliseconds limit,
                       const std::vector<std::string>& env) {
    args.insert(args.begin(), BWS_BINARY);
    return run_command(args, limit, env);
}

bws_process::~bws_process() {
    if (pid_ > 0)
        stop(5s);
}

bool bws_process::start(const std::vector<std::string>& args, const std::vector<std::string>& env) {
    return start_program(BWS_BINARY, args, env);
}

bool bws_process::start_program(const std::string& program, const std::vector<std::string>& args,
                                const std::vector<std::string>& env) {
    std::vector<std::string> argv{program};
    argv.insert(argv.end(), args.begin(), args.end());
    constexpr int flags = O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC;
    int out = ::open((io_ / "stdout").c_str(), flags, 0644);
    int err = ::open((io_ / "stderr").c_str(), flags, 0644);
    pid_ = spawn(argv, env, out, err);
    ::close(out);
    ::close(err);
    return pid_ > 0;
}

int bws_process::run(const std::vector<std::string>& args, std::chrono::milliseconds timeout,
                     const std::vector<std::string>& env) {
    if (!start(args, env))
        return -1;
    auto status = wait_exit(timeout);
    if (!status) {
        stop(1s);
        return -1;
    }
    return *status;
}

bool bws_process::running() {
    if (pid_ <= 0)
        return false;
    int status = 0;
    auto r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
        pid_ = -1;
        return false;
    }
    return true;
}

std::optional<int> bws_process::wait_exit(std::chrono::milliseconds timeout) {
    if (pid_ <= 0)
        return std::nullopt;
    auto status = bws::test::wait_exit(pid_, timeout);
    if (status)
        pid_ = -1;
    return status;
}

int bws_process::stop(std::chrono::milliseconds grace) {
    if (pid_ <= 0)
        return -1;
    ::kill(pid_, SIGTERM);
    if (auto status = wait_exit(grace))
        return *status;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
    return -1;
}

std::string bws_process::out() const {
    return read_file(io_ / "stdout");
}
std::string bws_process::err() const {
    return read_file(io_ / "stderr");
}

} // namespace bws::test
