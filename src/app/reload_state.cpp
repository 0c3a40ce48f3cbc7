// Reading and writing the reload state file.
#include "app/reload_state.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace bws::app {

std::filesystem::path reload_state_path(const std::filesystem::path& pid_file) {
    return std::filesystem::path(pid_file.string() + ".state");
}

std::string format_reload_state(const reload_state& state) {
    auto one_line = [](std::string text) {
        std::replace(text.begin(), text.end(), '\n', ' ');
        return text;
    };
    const char* last = state.reload_count == 0 ? "none" : (state.last_ok ? "ok" : "failed");
    const char* last_upgrade =
        state.upgrade_count == 0 ? "none" : (state.upgrade_ok ? "ok" : "failed");
    return "pid=" + std::to_string(state.pid) + "\ngeneration=" + std::to_string(state.generation) +
           "\nreload_count=" + std::to_string(state.reload_count) +
           "\nreloading=" + (state.reloading ? "1" : "0") + "\nlast_reload=" + last +
           "\nmessage=" + one_line(state.message) +
           "\nupgrade_count=" + std::to_string(state.upgrade_count) +
           "\nlast_upgrade=" + last_upgrade +
           "\nupgrade_message=" + one_line(state.upgrade_message) + "\n";
}

std::optional<reload_state> parse_reload_state(const std::string& text) {
    reload_state state;
    bool have_pid = false;
    std::istringstream in(text);
    std::string line;
    try {
        while (std::getline(in, line)) {
            auto eq = line.find('=');
            if (eq == std::string::npos) {
                continue;
            }
            std::string key = line.substr(0, eq);
            std::string value = line.substr(eq + 1);
            if (key == "pid") {
                state.pid = static_cast<pid_t>(std::stol(value));
                have_pid = true;
            } else if (key == "generation") {
                state.generation = static_cast<unsigned>(std::stoul(value));
            } else if (key == "reload_count") {
                state.reload_count = std::stoull(value);
            } else if (key == "reloading") {
                state.reloading = value == "1";
            } else if (key == "last_reload") {
                state.last_ok = value != "failed"; // "ok", or "none" before the first reload
            } else if (key == "message") {
                state.message = value;
            } else if (key == "upgrade_count") {
                state.upgrade_count = std::stoull(value);
            } else if (key == "last_upgrade") {
                state.upgrade_ok = value != "failed";
            } else if (key == "upgrade_message") {
                state.upgrade_message = value;
            }
        }
    } catch (const std::exception&) {
        return std::nullopt;
    }
    if (!have_pid) {
        return std::nullopt;
    }
    return state;
}

bool write_reload_state(const std::filesystem::path& path, const reload_state& state,
                        std::string& error) {
    std::string text = format_reload_state(state);
    std::string temp = path.string() + ".tmp";
    int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        error = "cannot write " + temp + ": " + std::strerror(errno);
        return false;
    }
    bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    ::close(fd);
    if (!ok || ::rename(temp.c_str(), path.c_str()) != 0) {
        error = "cannot write " + path.string() + ": " + std::strerror(errno);
        ::unlink(temp.c_str());
        return false;
    }
    return true;
}

std::optional<reload_state> read_reload_state(const std::filesystem::path& path) {
    std::ifstream in(path);
    if (!in) {
        return std::nullopt;
    }
    std::stringstream buffer;
    buffer << in.rdbuf();
    return parse_reload_state(buffer.str());
}

} // namespace bws::app
