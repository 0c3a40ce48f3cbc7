// Rotation naming/retention and the master-side coordinator (rename, then reopen everywhere,
// then gzip in the background).
#include "log/rotation.hpp"

#include "log/access_log.hpp"
#include "log/gzip_file.hpp"
#include "log/setup.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

namespace bws::log {
namespace {

// "bws.log.12" -> 12, "bws.log.3.gz" -> 3 (compressed = true); nullopt for anything else.
struct rotated_index {
    unsigned index = 0;
    bool compressed = false;
};

std::optional<rotated_index> parse_rotated(std::string_view base, std::string_view name) {
    if (name.size() <= base.size() + 1 || name.substr(0, base.size()) != base ||
        name[base.size()] != '.')
        return std::nullopt;
    auto rest = name.substr(base.size() + 1);
    rotated_index result;
    if (rest.size() > 3 && rest.substr(rest.size() - 3) == ".gz") {
        result.compressed = true;
        rest.remove_suffix(3);
    }
    if (rest.empty() || rest.front() == '0')
        return std::nullopt;
    const auto* end = rest.data() + rest.size();
    const auto parsed = std::from_chars(rest.data(), end, result.index);
    if (parsed.ec != std::errc{} || parsed.ptr != end)
        return std::nullopt;
    return result;
}

std::string with_index(const std::string& base, unsigned index, bool compressed) {
    return base + "." + std::to_string(index) + (compressed ? ".gz" : "");
}

} // namespace

rotation_policy rotation_policy::from(const config::logging_section& logging) {
    return {logging.max_size, logging.max_files, logging.compress};
}

std::filesystem::path rotated_name(const std::filesystem::path& base, unsigned index,
                                   bool compressed) {
    auto name = base;
    name += "." + std::to_string(index) + (compressed ? ".gz" : "");
    return name;
}

rotation_plan plan_rotation(const std::string& base_name, unsigned max_files,
                            const std::vector<std::string>& directory_names) {
    max_files = std::max(max_files, 1u);
    std::vector<rotated_index> existing;
    for (const auto& name : directory_names)
        if (auto parsed = parse_rotated(base_name, name))
            existing.push_back(*parsed);
    // Highest first, so that each rename's target is already free.
    std::sort(existing.begin(), existing.end(), [](const auto& a, const auto& b) {
        return a.index != b.index ? a.index > b.index : a.compressed < b.compressed;
    });
    rotation_plan plan;
    for (const auto& file : existing) {
        const auto name = with_index(base_name, file.index, file.compressed);
        if (file.index >= max_files)
            plan.removals.push_back(name);
        else
            plan.renames.emplace_back(name, with_index(base_name, file.index + 1, file.compressed));
    }
    plan.renames.emplace_back(base_name, with_index(base_name, 1, false));
    return plan;
}

rotation_coordinator::rotation_coordinator(rotation_policy policy,
                                           std::vector<std::filesystem::path> files)
    : policy_(policy), files_(std::move(files)) {}

rotation_coordinator::~rotation_coordinator() {
    collect(true);
}

std::vector<std::filesystem::path>
rotation_coordinator::watched_files(const config::snapshot& config, const environment& env) {
    auto files = server_log_files();
    for (auto& file : access_log_files(config, env))
        if (std::find(files.begin(), files.end(), file) == files.end())
            files.push_back(std::move(file));
    return files;
}

void rotation_coordinator::reconfigure(rotation_policy policy,
                                       std::vector<std::filesystem::path> files) {
    policy_ = policy;
    files_ = std::move(files);
}

bool rotation_coordinator::busy() const {
    return std::any_of(states_.begin(), states_.end(),
                       [](const auto& entry) { return entry.second.current != state::idle; });
}

void rotation_coordinator::wait_idle() {
    collect(true);
}

void rotation_coordinator::collect(bool wait) {
    for (auto& [file, st] : states_) {
        if (st.current != state::compressing || !st.job)
            continue;
        if (!wait && !st.job->done.load(std::memory_order_acquire))
            continue;
        st.job->thread.join();
        if (!st.job->failure.empty())
            spdlog::warn("log rotation: compressing {} failed ({}); it stays uncompressed",
                         st.job->source.string(), st.job->failure);
        st.job.reset();
        st.current = state::idle;
    }
}

std::vector<std::filesystem::path> rotation_coordinator::check() {
    collect(false);
    std::vector<std::filesystem::path> rotated;
    if (policy_.max_size == 0)
        return rotated;
    for (const auto& file : files_) {
        auto& st = states_[file];
        if (st.current != state::idle)
            continue;
        struct stat info {};
        if (::stat(file.c_str(), &info) != 0 || !S_ISREG(info.st_mode) ||
            static_cast<std::uint64_t>(info.st_size) < policy_.max_size)
            continue;
        if (rotate(file))
            rotated.push_back(file);
    }
    return rotated;
}

bool rotation_coordinator::rotate(const std::filesystem::path& file) {
    const auto directory = file.has_parent_path() ? file.parent_path() : ".";
    std::vector<std::string> names;
    std::error_code ec;
    for (std::filesystem::directory_iterator it(directory, ec), end; !ec && it != end;
         it.increment(ec))
        names.push_back(it->path().filename().string());
    if (ec) {
        spdlog::warn("log rotation: cannot list {}: {}", directory.string(), ec.message());
        return false;
    }
    const auto plan = plan_rotation(file.filename().string(), policy_.max_files, names);
    for (const auto& name : plan.removals)
        if (::unlink((directory / name).c_str()) != 0 && errno != ENOENT)
            spdlog::warn("log rotation: cannot remove {}: {}", (directory / name).string(),
                         std::strerror(errno));
    for (const auto& [from, to] : plan.renames) {
        if (::rename((directory / from).c_str(), (directory / to).c_str()) != 0) {
            spdlog::warn("log rotation: cannot rename {} to {}: {}", (directory / from).string(),
                         to, std::strerror(errno));
            if (from == plan.renames.back().first)
                return false; // the live file was not rotated
        }
    }
    ++rotations_;
    auto& st = states_[file];
    st.current = state::awaiting_reopen;
    st.rotated = directory / plan.renames.back().second;
    return true;
}

void rotation_coordinator::reopen_complete() {
    for (auto& [file, st] : states_) {
        if (st.current != state::awaiting_reopen)
            continue;
        if (!policy_.compress) {
            st.current = state::idle;
            continue;
        }
        // Every process now writes to the new file: the rotated one is complete and can be
        // compressed without losing a line. The thread never logs (a fork in the master
        // while it held spdlog's lock would deadlock the child); check() reports for it.
        st.job = std::make_unique<compression>();
        st.job->source = st.rotated;
        auto* job = st.job.get();
        auto target = st.rotated;
        target += ".gz";
        st.current = state::compressing;
        job->thread = std::thread([job, target] {
            job->failure = gzip_file(job->source, target);
            job->done.store(true, std::memory_order_release);
        });
    }
}

} // namespace bws::log
