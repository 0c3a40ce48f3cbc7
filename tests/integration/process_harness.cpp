// Process-model helpers for the integration tests: config rendering, the NOTIFY_SOCKET listener,
// the bws master under test and /proc scans.
#include "process_harness.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sstream>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

namespace bws::test::proc {

std::string render(const config_spec& c) {
    std::ostringstream out;
    out << "[server]\nworkers = " << c.workers << "\nshutdown_timeout = \"" << c.shutdown_timeout
        << "\"\n"
        << c.server_extra << "\n";
    if (!c.pid_file.empty())
        out << "[daemon]\npid_file = \"" << c.pid_file.string() << "\"\n\n";
    out << "[logging]\nlevel = \"info\"\n\n" << c.extra << "\n";
    for (const auto& s : c.sites) {
        out << "[[sites]]\nname = \"" << s.name << "\"\nhostname = \"" << s.hostname
            << "\"\nport = " << s.port << "\nbind = \"127.0.0.1\"\nstatic_dir = \""
            << s.static_dir.string() << "\"\n";
        if (!s.headers.empty()) {
            out << "[sites.headers]\n";
            for (const auto& [k, v] : s.headers)
                out << "\"" << k << "\" = \"" << v << "\"\n";
        }
        out << "\n";
    }
    return out.str();
}

notify_listener::notify_listener(const fs::path& dir) : path_((dir / "notify.sock").string()) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path_.c_str());
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    thread_ = std::thread([this] { loop(); });
}

notify_listener::~notify_listener() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
}

std::vector<notify_listener::message> notify_listener::messages() {
    std::lock_guard lock(mutex_);
    return messages_;
}

std::optional<std::size_t> notify_listener::wait_for(const std::string& needle, std::size_t from,
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

std::size_t notify_listener::size() {
    std::lock_guard lock(mutex_);
    return messages_.size();
}

void notify_listener::loop() {
    // Polls with a short timeout so the destructor's stop_ is seen promptly.
    while (!stop_) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, 50) != 1)
            continue;
        char buf[8192];
        auto n = ::recv(fd_, buf, sizeof buf, 0);
        if (n > 0) {
            std::lock_guard lock(mutex_);
            messages_.push_back({steady::now(), std::string(buf, static_cast<size_t>(n))});
            cv_.notify_all();
        }
    }
}

std::string cmdline_of(pid_t pid) {
    auto s = read_file("/proc/" + std::to_string(pid) + "/cmdline");
    while (!s.empty() && s.back() == '\0')
        s.pop_back();
    std::replace(s.begin(), s.end(), '\0', ' ');
    return s;
}

std::optional<pid_t> parent_of(pid_t pid) {
    auto stat = read_file("/proc/" + std::to_string(pid) + "/stat");
    // The command name in parentheses may itself hold spaces and parentheses.
    auto close_paren = stat.rfind(')');
    if (close_paren == std::string::npos)
        return std::nullopt;
    std::istringstream in(stat.substr(close_paren + 2));
    char state;
    pid_t ppid;
    in >> state >> ppid;
    if (state == 'Z')
        return std::nullopt; // exited, not reaped yet
    return ppid;
}

std::vector<pid_t> children_of(pid_t parent) {
    std::vector<pid_t> result;
    DIR* d = ::opendir("/proc");
    while (dirent* e = ::readdir(d)) {
        pid_t pid = std::atoi(e->d_name);
        if (pid > 0 && parent_of(pid) == parent)
            result.push_back(pid);
    }
    ::closedir(d);
    std::sort(result.begin(), result.end());
    return result;
}

bool alive(pid_t pid) {
    return parent_of(pid).has_value();
}

std::optional<uid_t> uid_of(pid_t pid) {
    std::istringstream in(read_file("/proc/" + std::to_string(pid) + "/status"));
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("Uid:", 0) == 0)
            return static_cast<uid_t>(std::stoul(line.substr(4)));
    }
    return std::nullopt;
}

bws_process::bws_process(const temp_dir& dir, const fs::path& config, std::vector<std::string> env,
                         const std::vector<std::string>& extra_args, const fs::path& binary)
    : notify_(dir.path()), log_path_(dir / "bws.out") {
    std::vector<std::string> argv{binary.string(), "-c", config.string()};
    argv.insert(argv.end(), extra_args.begin(), extra_args.end());
    env.push_back("NOTIFY_SOCKET=" + notify_.path());
    int fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    pid_ = spawn(argv, env, fd, fd);
    ::close(fd);
}

bws_process::~bws_process() {
    if (pid_ > 0 && !exited_) {
        for (pid_t w : children_of(pid_))
            ::kill(w, SIGKILL);
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
}

bool bws_process::wait_ready(std::chrono::milliseconds limit) {
    return notify_.wait_for("READY=1", 0, limit).has_value();
}

std::optional<int> bws_process::stop(int sig, std::chrono::milliseconds limit) {
    ::kill(pid_, sig);
    return wait_exit_code(limit);
}

std::optional<int> bws_process::wait_exit_code(std::chrono::milliseconds limit) {
    auto code = wait_exit(pid_, limit);
    if (code)
        exited_ = true;
    return code;
}

simple_setup::simple_setup(const std::string& body, unsigned workers) {
    dir.write("www/index.html", body);
    spec.workers = workers;
    spec.pid_file = dir / "bws.pid";
    spec.sites.push_back({"main", "localhost", port, dir / "www", {}});
    config_path = dir / "config.toml";
    save();
}

} // namespace bws::test::proc
