// Size-based rotation of log files written by many processes. The naming/retention logic is
// pure; rotation_coordinator runs in the master only and sequences rename -> reopen everywhere
// -> background gzip so that no line is lost, duplicated or torn. See docs/logging.md.
#pragma once

#include "config/model.hpp"
#include "log/environment.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace bws::log {

struct rotation_policy {
    std::uint64_t max_size = 0; // bytes; 0 = never rotate
    unsigned max_files = 10;    // rotated files kept (0 is treated as 1)
    bool compress = false;

    static rotation_policy from(const config::logging_section& logging);
};

// bws.log + 3 -> bws.log.3, or bws.log.3.gz when compressed.
std::filesystem::path rotated_name(const std::filesystem::path& base, unsigned index,
                                   bool compressed);

struct rotation_plan {
    std::vector<std::string> removals;                        // file names, in order
    std::vector<std::pair<std::string, std::string>> renames; // from, to; in order
};

// What rotating `base_name` means, given the names in its directory: rotated files numbered
// max_files or more (plain or .gz) are removed, the others shift up by one (highest first, so
// nothing is overwritten), and the base becomes base.1.
rotation_plan plan_rotation(const std::string& base_name, unsigned max_files,
                            const std::vector<std::string>& directory_names);

// Runs in the master. Protocol, driven by the master's 1 s timer:
//   auto rotated = coordinator.check();          // renames over-size files
//   if (!rotated.empty()) { log::reopen_all(); send "reopen" to every worker; }
//   ... when every live worker has answered every "reopen" sent so far:
//   coordinator.reopen_complete();               // compression may start
// A file is never rotated again while its previous rotation waits for the reopen answers or
// for its compression, so the file being compressed is never renamed under the compressor.
class rotation_coordinator {
public:
    static constexpr std::chrono::seconds check_interval{1};

    rotation_coordinator(rotation_policy policy, std::vector<std::filesystem::path> files);
    ~rotation_coordinator(); // waits for running compressions
    rotation_coordinator(const rotation_coordinator&) = delete;
    rotation_coordinator& operator=(const rotation_coordinator&) = delete;

    // The files of this process's server log (installed by setup()) and every access log of
    // `config`.
    static std::vector<std::filesystem::path> watched_files(const config::snapshot& config,
                                                            const environment& env);

    // After a reload: new policy and file list (files with work in flight keep their state).
    void reconfigure(rotation_policy policy, std::vector<std::filesystem::path> files);

    // stat()s every file and rotates those at or over max_size; returns the rotated files
    // (their original names). Also collects finished compressions and logs their failures.
    std::vector<std::filesystem::path> check();

    // Every process has reopened its files since the last check() that rotated something.
    void reopen_complete();

    // True while a rotation waits for reopen_complete() or a compression runs.
    bool busy() const;
    // Blocks until running compressions have finished (shutdown, tests).
    void wait_idle();

    std::uint64_t rotations() const { return rotations_; }

private:
    enum class state { idle, awaiting_reopen, compressing };
    struct compression {
        std::thread thread;
        std::atomic<bool> done{false};
        std::string failure;
        std::filesystem::path source;
    };
    struct file_state {
        state current = state::idle;
        std::filesystem::path rotated; // base.1 while awaiting reopen / compressing
        std::unique_ptr<compression> job;
    };

    bool rotate(const std::filesystem::path& file);
    void collect(bool wait);

    rotation_policy policy_;
    std::vector<std::filesystem::path> files_;
    std::map<std::filesystem::path, file_state> states_;
    std::uint64_t rotations_ = 0;
};

} // namespace bws::log
