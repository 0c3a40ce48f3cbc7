// Writability checks with access(2)/open(2) on existing files only: a config check must not
// leave files behind.
#include "log/path_check.hpp"

#include "log/access_log.hpp"
#include "log/setup.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

namespace bws::log {
namespace {

// Empty when `path` can be appended to (or created in its directory), else the reason.
std::string why_unwritable(const std::filesystem::path& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) {
        if (S_ISDIR(st.st_mode))
            return "is a directory";
        const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
            return std::strerror(errno);
        ::close(fd);
        return {};
    }
    if (errno != ENOENT)
        return std::strerror(errno);
    const auto directory = path.has_parent_path() ? path.parent_path() : ".";
    if (::stat(directory.c_str(), &st) != 0)
        return fmt::format("directory {}: {}", directory.string(), std::strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return fmt::format("{} is not a directory", directory.string());
    if (::access(directory.c_str(), W_OK | X_OK) != 0)
        return fmt::format("directory {}: {}", directory.string(), std::strerror(errno));
    return {};
}

} // namespace

std::vector<std::string> check_log_paths(const config::snapshot& config, const environment& env) {
    std::vector<std::pair<std::string, std::filesystem::path>> files;
    if (resolve_output(config.logging.output, env) == config::log_output::file) {
        if (auto path = resolve_log_file(config.logging, env); !path.empty())
            files.emplace_back("server log", std::move(path));
    }
    if (!config.logging.error_log.empty())
        files.emplace_back("error log", config.logging.error_log);
    for (auto& path : access_log_files(config, env))
        files.emplace_back("access log", std::move(path));

    std::vector<std::string> problems;
    for (const auto& [what, path] : files)
        if (auto why = why_unwritable(path); !why.empty())
            problems.push_back(fmt::format("cannot write {} {}: {}", what, path.string(), why));
    return problems;
}

} // namespace bws::log
