// Resolution rules for level, file and output, and installation of spdlog's default logger.
#include "log/setup.hpp"

#include "log/access_log.hpp"
#include "log/context.hpp"
#include "log/journald_sink.hpp"
#include "log/line_sink.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fmt/format.h>
#include <mutex>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

namespace bws::log {
namespace {

std::string lower(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
        text.remove_prefix(1);
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
        text.remove_suffix(1);
    return text;
}

spdlog::level::level_enum to_spdlog(config::log_level level) {
    switch (level) {
    case config::log_level::trace:
        return spdlog::level::trace;
    case config::log_level::debug:
        return spdlog::level::debug;
    case config::log_level::info:
        return spdlog::level::info;
    case config::log_level::warn:
        return spdlog::level::warn;
    case config::log_level::error:
        return spdlog::level::err;
    case config::log_level::critical:
        return spdlog::level::critical;
    case config::log_level::off:
        break;
    }
    return spdlog::level::off;
}

// The files of the installed logger, for reopen() and the rotation coordinator.
std::mutex installed_mutex;
std::vector<std::shared_ptr<line_file>> installed_files;

} // namespace

std::optional<config::log_level> parse_level(std::string_view name) {
    const auto n = lower(trim(name));
    if (n == "trace")
        return config::log_level::trace;
    if (n == "debug")
        return config::log_level::debug;
    if (n == "info")
        return config::log_level::info;
    if (n == "warn" || n == "warning")
        return config::log_level::warn;
    if (n == "error" || n == "err")
        return config::log_level::error;
    if (n == "critical" || n == "crit")
        return config::log_level::critical;
    if (n == "off")
        return config::log_level::off;
    return std::nullopt;
}

level_choice resolve_level(config::log_level configured, bool verbose, const environment& env) {
    level_choice choice;
    choice.level = configured;
    std::optional<config::log_level> from_env;
    if (env.bws_log_level) {
        from_env = parse_level(*env.bws_log_level);
        if (!from_env)
            choice.warnings.push_back(fmt::format(
                "ignoring BWS_LOG_LEVEL={:?}: not one of trace, debug, info, warn, error, "
                "critical, off",
                *env.bws_log_level));
    }
    if (!from_env && env.rust_log) {
        // env_logger syntax: comma-separated directives, "level" or "module=level". Only plain
        // levels mean something for bws; the last one wins, as in env_logger.
        std::string_view rest = *env.rust_log;
        bool had_directive = false;
        while (!rest.empty()) {
            const auto comma = rest.find(',');
            const auto item = trim(rest.substr(0, comma));
            rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
            if (item.empty())
                continue;
            if (auto level = parse_level(item))
                from_env = level;
            else
                had_directive = true;
        }
        if (had_directive)
            choice.warnings.push_back(
                fmt::format("RUST_LOG={:?}: only plain level names apply to bws; {}", *env.rust_log,
                            from_env ? "using its last plain level" : "ignored"));
    }
    if (from_env)
        choice.level = *from_env;
    if (verbose)
        choice.level = config::log_level::debug;
    return choice;
}

std::filesystem::path resolve_log_file(const config::logging_section& logging,
                                       const environment& env) {
    if (env.bws_log_file)
        return *env.bws_log_file;
    return logging.file_path;
}

bool stream_is_journal(std::string_view journal_stream, int fd) {
    const auto colon = journal_stream.find(':');
    if (colon == std::string_view::npos)
        return false;
    unsigned long long dev = 0;
    unsigned long long ino = 0;
    const auto* begin = journal_stream.data();
    const auto* end = begin + journal_stream.size();
    auto r1 = std::from_chars(begin, begin + colon, dev);
    auto r2 = std::from_chars(begin + colon + 1, end, ino);
    if (r1.ec != std::errc{} || r1.ptr != begin + colon || r2.ec != std::errc{} || r2.ptr != end)
        return false;
    struct stat st {};
    if (::fstat(fd, &st) != 0)
        return false;
    return static_cast<unsigned long long>(st.st_dev) == dev &&
           static_cast<unsigned long long>(st.st_ino) == ino;
}

config::log_output resolve_output(config::log_output configured, const environment& env,
                                  int stderr_fd) {
    if (configured != config::log_output::automatic)
        return configured;
    if (env.journal_stream && stream_is_journal(*env.journal_stream, stderr_fd))
        return config::log_output::journald;
    return config::log_output::stderr_stream;
}

setup_result setup(const config::logging_section& logging, const setup_options& options,
                   const environment& env) {
    set_role(options.role);
    setup_result result;
    auto level = resolve_level(logging.level, options.verbose, env);
    result.level = level.level;
    result.warnings = std::move(level.warnings);
    result.output = resolve_output(logging.output, env);

    std::vector<std::shared_ptr<line_file>> files;
    std::vector<spdlog::sink_ptr> sinks;
    if (result.output == config::log_output::file) {
        result.file = resolve_log_file(logging, env);
        if (result.file.empty()) {
            result.warnings.emplace_back(
                "logging.output is \"file\" but neither logging.file_path nor BWS_LOG_FILE is "
                "set; logging to stderr");
            result.output = config::log_output::stderr_stream;
        }
    }
    switch (result.output) {
    case config::log_output::file:
        files.push_back(std::make_shared<line_file>(result.file));
        sinks.push_back(std::make_shared<line_sink>(files.back()));
        break;
    case config::log_output::stdout_stream:
        sinks.push_back(std::make_shared<line_sink>(std::make_shared<line_file>(1, "stdout")));
        break;
    case config::log_output::journald:
        sinks.push_back(std::make_shared<journald_sink>());
        break;
    case config::log_output::automatic:
    case config::log_output::stderr_stream:
        sinks.push_back(std::make_shared<line_sink>(std::make_shared<line_file>(2, "stderr")));
        break;
    }
    if (!logging.error_log.empty()) {
        files.push_back(std::make_shared<line_file>(logging.error_log));
        auto sink = std::make_shared<line_sink>(files.back());
        sink->set_level(spdlog::level::warn);
        sinks.push_back(std::move(sink));
    }

    auto logger = std::make_shared<spdlog::logger>("bws", sinks.begin(), sinks.end());
    logger->set_level(to_spdlog(result.level));
    // Sinks write each line with write(2) straight away; nothing is buffered in spdlog.
    logger->flush_on(spdlog::level::trace);
    spdlog::set_default_logger(logger);
    {
        std::lock_guard lock(installed_mutex);
        installed_files = std::move(files);
    }
    for (const auto& warning : result.warnings)
        spdlog::warn("{}", warning);
    return result;
}

std::vector<std::filesystem::path> server_log_files() {
    std::lock_guard lock(installed_mutex);
    std::vector<std::filesystem::path> paths;
    paths.reserve(installed_files.size());
    for (const auto& file : installed_files)
        paths.push_back(file->path());
    return paths;
}

void reopen_server_logs() {
    std::lock_guard lock(installed_mutex);
    for (const auto& file : installed_files)
        file->reopen();
}

void reopen_all() {
    reopen_server_logs();
    reopen_access_logs();
}

} // namespace bws::log
