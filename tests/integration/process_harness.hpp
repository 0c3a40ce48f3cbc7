// Helpers for the process-model integration tests: temp dirs and configs, starting the real
// bws binary, a NOTIFY_SOCKET listener, a minimal HTTP/1.1 client and /proc scans.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace bws::test::proc {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

inline bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds limit) {
    auto deadline = steady::now() + limit;
    while (steady::now() < deadline) {
        if (pred()) {
            return true;
        }
        std::this_thread::sleep_for(20ms);
    }
    return pred();
}

struct temp_dir {
    fs::path path;
    temp_dir() {
        std::string tmpl = (fs::temp_directory_path() / "bws-proc-XXXXXX").string();
        path = mkdtemp(tmpl.data());
        // Workers started as root drop to "nobody": they must be able to read the docroots.
        chmod(path.c_str(), 0755);
    }
    ~temp_dir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    fs::path write(const std::string& name, const std::string& content) const {
        auto p = path / name;
        fs::create_directories(p.parent_path());
        for (auto d = p.parent_path(); d != path && d.has_relative_path(); d = d.parent_path()) {
            chmod(d.c_str(), 0755);
        }
        std::ofstream(p, std::ios::binary) << content;
        chmod(p.c_str(), 0644);
        return p;
    }
};

// A free loopback port: bound to port 0, read back, closed.
inline std::uint16_t free_port() {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    close(fd);
    return ntohs(addr.sin_port);
}

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
    fs::path pid_file;
    std::string extra; // appended verbatim (e.g. [daemon] settings)
    std::vector<site_spec> sites;
};

inline std::string render(const config_spec& c) {
    std::ostringstream out;
    out << "[server]\nworkers = " << c.workers << "\nshutdown_timeout = \"" << c.shutdown_timeout
        << "\"\n\n";
    if (!c.pid_file.empty()) {
        out << "[daemon]\npid_file = \"" << c.pid_file.string() << "\"\n\n";
    }
    out << "[logging]\nlevel = \"info\"\n\n" << c.extra << "\n";
    for (const auto& s : c.sites) {
        out << "[[sites]]\nname = \"" << s.name << "\"\nhostname = \"" << s.hostname
            << "\"\nport = " << s.port << "\nbind = \"127.0.0.1\"\nstatic_dir = \""
            << s.static_dir.string() << "\"\n";
        if (!s.headers.empty()) {
            out << "[sites.headers]\n";
            for (const auto& [k, v] : s.headers) {
                out << "\"" << k << "\" = \"" << v << "\"\n";
            }
        }
        out << "\n";
    }
    return out.str();
}

// Datagrams sent to our NOTIFY_SOCKET, with arrival times.
class notify_listener {
public:
    struct message {
        steady::time_point time;
        std::string text;
    };
    explicit notify_listener(const fs::path& dir) : path_((dir / "notify.sock").string()) {
        fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path_.c_str());
        bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
        thread_ = std::thread([this] { loop(); });
    }
    ~notify_listener() {
        stop_ = true;
        thread_.join();
        close(fd_);
    }
    const std::string& path() const { return path_; }
    std::vector<message> messages() {
        std::lock_guard lock(mutex_);
        return messages_;
    }
    // Waits for a message containing `needle` among those from index `from` on; returns its
    // index.
    std::optional<std::size_t> wait_for(const std::string& needle, std::size_t from,
                                        std::chrono::milliseconds limit) {
        std::unique_lock lock(mutex_);
        std::optional<std::size_t> found;
        cv_.wait_for(lock, limit, [&] {
            for (std::size_t i = from; i < messages_.size(); ++i) {
                if (messages_[i].text.find(needle) != std::string::npos) {
                    found = i;
                    return true;
                }
            }
            return false;
        });
        return found;
    }
    std::size_t size() {
        std::lock_guard lock(mutex_);
        return messages_.size();
    }

private:
    void loop() {
        while (!stop_) {
            pollfd p{fd_, POLLIN, 0};
            if (poll(&p, 1, 50) != 1) {
                continue;
            }
            char buf[8192];
            auto n = recv(fd_, buf, sizeof buf, 0);
            if (n > 0) {
                std::lock_guard lock(mutex_);
                messages_.push_back({steady::now(), std::string(buf, static_cast<size_t>(n))});
                cv_.notify_all();
            }
        }
    }
    std::string path_;
    int fd_ = -1;
    std::atomic<bool> stop_{false};
    std::mutex mutex_;
    std::condition_variable cv_;
    std::vector<message> messages_;
    std::thread thread_;
};

inline std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

inline std::string cmdline_of(pid_t pid) {
    auto s = read_file("/proc/" + std::to_string(pid) + "/cmdline");
    while (!s.empty() && s.back() == '\0') {
        s.pop_back();
    }
    for (auto& c : s) {
        if (c == '\0') {
            c = ' ';
        }
    }
    return s;
}

inline std::optional<pid_t> parent_of(pid_t pid) {
    auto stat = read_file("/proc/" + std::to_string(pid) + "/stat");
    auto close_paren = stat.rfind(')');
    if (close_paren == std::string::npos) {
        return std::nullopt;
    }
    std::istringstream in(stat.substr(close_paren + 2));
    char state;
    pid_t ppid;
    in >> state >> ppid;
    if (state == 'Z') {
        return std::nullopt; // exited, not reaped yet
    }
    return ppid;
}

inline std::vector<pid_t> children_of(pid_t parent) {
    std::vector<pid_t> result;
    DIR* d = opendir("/proc");
    while (dirent* e = readdir(d)) {
        pid_t pid = std::atoi(e->d_name);
        if (pid > 0 && parent_of(pid) == parent) {
            result.push_back(pid);
        }
    }
    closedir(d);
    std::sort(result.begin(), result.end());
    return result;
}

inline bool alive(pid_t pid) {
    auto p = parent_of(pid);
    return p.has_value();
}

// The uid a process runs as (real uid from /proc/PID/status).
inline std::optional<uid_t> uid_of(pid_t pid) {
    std::istringstream in(read_file("/proc/" + std::to_string(pid) + "/status"));
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("Uid:", 0) == 0) {
            return static_cast<uid_t>(std::stoul(line.substr(4)));
        }
    }
    return std::nullopt;
}

struct command_result {
    int exit_code = -1;
    std::string output; // stdout + stderr
};

inline pid_t spawn(const std::vector<std::string>& args,
                   const std::vector<std::pair<std::string, std::string>>& env, int out_fd) {
    pid_t pid = fork();
    if (pid == 0) {
        for (const auto& [k, v] : env) {
            setenv(k.c_str(), v.c_str(), 1);
        }
        if (out_fd >= 0) {
            dup2(out_fd, STDOUT_FILENO);
            dup2(out_fd, STDERR_FILENO);
        }
        std::vector<char*> argv;
        for (const auto& a : args) {
            argv.push_back(const_cast<char*>(a.c_str()));
        }
        argv.push_back(nullptr);
        execv(argv[0], argv.data());
        _exit(127);
    }
    return pid;
}

inline std::optional<int> wait_exit(pid_t pid, std::chrono::milliseconds limit) {
    auto deadline = steady::now() + limit;
    for (;;) {
        int status = 0;
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) {
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        if (steady::now() > deadline) {
            return std::nullopt;
        }
        std::this_thread::sleep_for(10ms);
    }
}

// Runs `bws ARGS...` to completion (bounded), capturing its output.
inline command_result run_bws(std::vector<std::string> args, std::chrono::milliseconds limit = 70s,
                              const std::vector<std::pair<std::string, std::string>>& env = {}) {
    args.insert(args.begin(), BWS_BINARY);
    char tmpl[] = "/tmp/bws-cmd-XXXXXX";
    int fd = mkstemp(tmpl);
    unlink(tmpl);
    pid_t pid = spawn(args, env, fd);
    command_result r;
    auto code = wait_exit(pid, limit);
    if (!code) {
        kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
    }
    r.exit_code = code.value_or(-1);
    lseek(fd, 0, SEEK_SET);
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        r.output.append(buf, static_cast<size_t>(n));
    }
    close(fd);
    return r;
}

// A bws master started by the test; killed (with its workers) if the test ends early.
class bws_process {
public:
    bws_process(const temp_dir& dir, const fs::path& config,
                std::vector<std::pair<std::string, std::string>> env = {},
                std::vector<std::string> extra_args = {})
        : notify_(dir.path), log_path_(dir.path / "bws.out") {
        std::vector<std::string> args{BWS_BINARY, "-c", config.string()};
        args.insert(args.end(), extra_args.begin(), extra_args.end());
        env.emplace_back("NOTIFY_SOCKET", notify_.path());
        int fd = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        pid_ = spawn(args, env, fd);
        close(fd);
    }
    ~bws_process() {
        if (pid_ > 0 && !exited_) {
            for (pid_t w : children_of(pid_)) {
                kill(w, SIGKILL);
            }
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
        }
    }
    pid_t pid() const { return pid_; }
    notify_listener& notify() { return notify_; }
    std::string log() const { return read_file(log_path_); }

    // READY=1 on our notify socket (bounded).
    bool wait_ready(std::chrono::milliseconds limit = 20s) {
        return notify_.wait_for("READY=1", 0, limit).has_value();
    }
    std::vector<pid_t> workers() const { return children_of(pid_); }

    std::optional<int> stop(int sig = SIGTERM, std::chrono::milliseconds limit = 25s) {
        kill(pid_, sig);
        return wait_exit_code(limit);
    }
    std::optional<int> wait_exit_code(std::chrono::milliseconds limit) {
        auto code = wait_exit(pid_, limit);
        if (code) {
            exited_ = true;
        }
        return code;
    }

private:
    notify_listener notify_;
    fs::path log_path_;
    pid_t pid_ = -1;
    bool exited_ = false;
};

inline int connect_to(std::uint16_t port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval tv{5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

struct http_response {
    int status = 0;
    std::map<std::string, std::string> headers; // lower-case names
    std::string body;
    bool ok() const { return status != 0; }
};

// A minimal HTTP/1.1 client over one connection (keep-alive when the server allows it).
class http_client {
public:
    explicit http_client(std::uint16_t port) : port_(port) {}
    ~http_client() { reset(); }
    void reset() {
        if (fd_ >= 0) {
            close(fd_);
        }
        fd_ = -1;
        buffer_.clear();
    }
    // GET; returns status 0 on any transport failure.
    http_response get(const std::string& path, const std::string& host = "localhost",
                      bool close_connection = false) {
        bool reused = fd_ >= 0;
        if (fd_ < 0) {
            fd_ = connect_to(port_);
            if (fd_ < 0) {
                last_error = "connect: " + std::string(std::strerror(errno));
                return {};
            }
        }
        last_error = reused ? "on a reused connection: " : "on a new connection: ";
        std::string req = "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\n" +
                          (close_connection ? "Connection: close\r\n" : "") + "\r\n";
        if (send(fd_, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
            last_error += "send: " + std::string(std::strerror(errno));
            reset();
            return {};
        }
        http_response r;
        auto header_end = fill_until("\r\n\r\n");
        if (!header_end) {
            last_error += "no response head (" + std::to_string(buffer_.size()) + " bytes)";
            reset();
            return {};
        }
        std::istringstream head(buffer_.substr(0, *header_end));
        buffer_.erase(0, *header_end + 4);
        std::string line;
        std::getline(head, line);
        if (line.size() < 12) {
            reset();
            return {};
        }
        r.status = std::atoi(line.c_str() + 9);
        while (std::getline(head, line)) {
            if (!line.empty() && line.back() == '\r') {
                line.pop_back();
            }
            auto colon = line.find(':');
            if (colon == std::string::npos) {
                continue;
            }
            std::string name = line.substr(0, colon);
            for (auto& c : name) {
                c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            }
            auto value = line.substr(colon + 1);
            value.erase(0, value.find_first_not_of(' '));
            r.headers[name] = value;
        }
        std::size_t length =
            r.headers.count("content-length") ? std::stoull(r.headers["content-length"]) : 0;
        while (buffer_.size() < length) {
            if (!read_more()) {
                reset();
                return {};
            }
        }
        r.body = buffer_.substr(0, length);
        buffer_.erase(0, length);
        auto conn = r.headers.find("connection");
        if (close_connection || (conn != r.headers.end() && conn->second == "close")) {
            reset();
        }
        return r;
    }

private:
    bool read_more() {
        char buf[65536];
        ssize_t n = recv(fd_, buf, sizeof buf, 0);
        if (n <= 0) {
            return false;
        }
        buffer_.append(buf, static_cast<size_t>(n));
        return true;
    }
    std::optional<std::size_t> fill_until(const std::string& marker) {
        for (;;) {
            auto pos = buffer_.find(marker);
            if (pos != std::string::npos) {
                return pos;
            }
            if (!read_more()) {
                return std::nullopt;
            }
        }
    }
    std::uint16_t port_;
    int fd_ = -1;
    std::string buffer_;

public:
    std::string last_error; // why the last get() returned status 0
};

inline http_response http_get(std::uint16_t port, const std::string& path,
                              const std::string& host = "localhost") {
    http_client c(port);
    return c.get(path, host, true);
}

inline bool port_refuses(std::uint16_t port) {
    int fd = connect_to(port);
    if (fd >= 0) {
        close(fd);
        return false;
    }
    return true;
}

// One site on a fresh port with an index.html saying `body`.
struct simple_setup {
    temp_dir dir;
    config_spec spec;
    fs::path config_path;
    std::uint16_t port = free_port();
    explicit simple_setup(const std::string& body = "hello\n", unsigned workers = 2) {
        dir.write("www/index.html", body);
        spec.workers = workers;
        spec.pid_file = dir.path / "bws.pid";
        spec.sites.push_back({"main", "localhost", port, dir.path / "www", {}});
        config_path = dir.path / "config.toml";
        save();
    }
    void save() { dir.write("config.toml", render(spec)); }
};

} // namespace bws::test::proc
