// What a master passes to the binary it re-executes for a zero-downtime upgrade (`bws -s
// upgrade`, SIGUSR2). The process keeps its PID, so systemd's MainPID, the PID file and the
// workers' parent stay the same; what the new image cannot know by itself travels in one
// environment variable: the descriptors left open across execve (PID file lock, listening
// sockets, each worker's control channel) and the counters that must not go back to zero.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bws::app {

inline constexpr const char* upgrade_env = "BWS_UPGRADE_HANDOVER";

struct handover_worker {
    pid_t pid = 0;
    int channel_fd = -1;
    unsigned generation = 0;
    unsigned index = 0;
    bool draining = false; // already leaving (an old generation of a reload)
};

struct upgrade_handover {
    std::string from_version; // the old binary's BWS_VERSION, for the log
    unsigned generation = 0;  // the old image's current generation
    std::uint64_t reload_count = 0;
    std::uint64_t upgrade_count = 0; // upgrades finished before this one, ok or failed
    bool draining = false;           // `bws -s drain` in force: it stays after the upgrade
    int pid_file_fd = -1;            // -1: no PID file
    std::vector<int> listener_fds;
    std::vector<handover_worker> workers;
};

// One line of space-separated key=value fields; the version comes first so that a later
// format can be told apart.
std::string encode_handover(const upgrade_handover& handover);
// nullopt with `error` set on anything malformed: a new image that cannot read the handover
// must not guess which descriptors are what.
std::optional<upgrade_handover> decode_handover(std::string_view text, std::string& error);

} // namespace bws::app
