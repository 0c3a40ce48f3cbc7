// Buffered access-log writers, shared by path within a process, and the rules that decide where
// a site's lines go.
#include "log/access_log.hpp"

#include "log/access_format.hpp"
#include "log/line_file.hpp"
#include "log/setup.hpp"

#include <algorithm>
#include <map>
#include <mutex>
#include <unistd.h>

namespace bws::log {
namespace {

class buffered_access_log final : public access_log {
public:
    buffered_access_log(std::unique_ptr<line_file> file, config::access_log_format format,
                        access_buffering buffering)
        : file_(std::move(file)), format_(format), buffering_(buffering) {
        buffer_.reserve(buffering_.max_buffer + 1024);
    }
    ~buffered_access_log() override { flush(); }

    void write(const access_record& record) override {
        std::lock_guard lock(mutex_);
        const auto now = std::chrono::steady_clock::now();
        if (buffer_.empty())
            oldest_ = now;
        if (format_ == config::access_log_format::json)
            append_json(buffer_, record);
        else
            append_combined(buffer_, record);
        if (buffer_.size() >= buffering_.max_buffer || now - oldest_ >= buffering_.flush_interval)
            flush_locked();
    }

    void flush() override {
        std::lock_guard lock(mutex_);
        flush_locked();
    }

    void reopen() override {
        std::lock_guard lock(mutex_);
        // Lines buffered before the reopen belong to the old file: the rotation coordinator
        // compresses it only after every process has answered the reopen.
        flush_locked();
        file_->reopen();
    }

private:
    void flush_locked() {
        if (buffer_.empty())
            return;
        file_->write(buffer_);
        buffer_.clear();
    }

    std::mutex mutex_;
    std::unique_ptr<line_file> file_;
    config::access_log_format format_;
    access_buffering buffering_;
    std::string buffer_;
    std::chrono::steady_clock::time_point oldest_{};
};

// Writers in use in this process, by target: sites sharing a path share the writer, and
// flush/reopen reach every one. Weak references: a writer lives as long as its sites use it.
std::mutex registry_mutex;
std::map<std::string, std::weak_ptr<access_log>> registry;

std::string registry_key(const access_target& target, config::access_log_format format) {
    const char* prefix = format == config::access_log_format::json ? "json:" : "combined:";
    if (target.where == access_target::kind::stdout_stream)
        return std::string(prefix) + "-";
    return prefix + target.path.string();
}

std::vector<std::shared_ptr<access_log>> live_writers() {
    std::lock_guard lock(registry_mutex);
    std::vector<std::shared_ptr<access_log>> writers;
    for (auto it = registry.begin(); it != registry.end();) {
        if (auto writer = it->second.lock()) {
            writers.push_back(std::move(writer));
            ++it;
        } else {
            it = registry.erase(it);
        }
    }
    return writers;
}

} // namespace

access_target resolve_access_target(const config::snapshot& config, const config::site& site,
                                    const environment& env) {
    const auto& logging = config.logging;
    if (!logging.log_requests)
        return {};
    const auto& chosen = site.access_log ? site.access_log : logging.access_log;
    if (chosen) {
        if (chosen->empty())
            return {};
        return {access_target::kind::file, *chosen};
    }
    const auto server_log = resolve_log_file(logging, env);
    if (!server_log.empty())
        return {access_target::kind::file, server_log.parent_path() / "access.log"};
    return {access_target::kind::stdout_stream, {}};
}

std::vector<std::filesystem::path> access_log_files(const config::snapshot& config,
                                                    const environment& env) {
    std::vector<std::filesystem::path> files;
    for (const auto& site : config.sites) {
        auto target = resolve_access_target(config, site, env);
        if (target.where == access_target::kind::file &&
            std::find(files.begin(), files.end(), target.path) == files.end())
            files.push_back(std::move(target.path));
    }
    return files;
}

std::shared_ptr<access_log> open_access_log(const access_target& target,
                                            config::access_log_format format,
                                            access_buffering buffering) {
    std::unique_ptr<line_file> file;
    switch (target.where) {
    case access_target::kind::off:
        return nullptr;
    case access_target::kind::stdout_stream:
        file = std::make_unique<line_file>(STDOUT_FILENO, "stdout");
        break;
    case access_target::kind::file:
        file = std::make_unique<line_file>(target.path);
        break;
    }
    return std::make_shared<buffered_access_log>(std::move(file), format, buffering);
}

std::shared_ptr<access_log> make_access_log(const config::snapshot& config,
                                            const config::site& site, const environment& env,
                                            access_buffering buffering) {
    const auto target = resolve_access_target(config, site, env);
    if (target.where == access_target::kind::off)
        return nullptr;
    const auto key = registry_key(target, config.logging.access_log_format);
    std::lock_guard lock(registry_mutex);
    if (auto it = registry.find(key); it != registry.end())
        if (auto writer = it->second.lock())
            return writer;
    auto writer = open_access_log(target, config.logging.access_log_format, buffering);
    registry[key] = writer;
    return writer;
}

std::shared_ptr<access_log> make_access_log(const config::snapshot& config,
                                            const config::site& site) {
    return make_access_log(config, site, environment::from_process());
}

void flush_access_logs() {
    for (const auto& writer : live_writers())
        writer->flush();
}

void reopen_access_logs() {
    for (const auto& writer : live_writers())
        writer->reopen();
}

} // namespace bws::log
