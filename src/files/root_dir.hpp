// A site root opened once, and opening of paths strictly beneath it: openat2(RESOLVE_BENEATH)
// where the kernel has it, a realpath containment check where it does not.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace bws::files {

class root_dir {
public:
    enum class strategy {
        automatic,    // openat2, falling back when the kernel answers ENOSYS
        realpath_only // the fallback alone (tests exercise it on kernels that have openat2)
    };

    explicit root_dir(const std::filesystem::path& path, strategy how = strategy::automatic);
    ~root_dir();
    root_dir(const root_dir&) = delete;
    root_dir& operator=(const root_dir&) = delete;

    // 0 when the root is open, else the errno of opening it.
    int error() const noexcept { return error_; }
    // "dev:inode" of the root directory: names the tree, whatever path led to it.
    const std::string& identity() const noexcept { return identity_; }

    // True when the directory held open has been removed (rm -rf, or unmounted lazily): its link
    // count is 0 and every lookup beneath it fails with ENOENT. A directory renamed away is not
    // removed: the root follows it, since it holds the directory and not the path.
    bool removed() const noexcept;
    // Opens the configured path again, for a root that was removed and may have been recreated
    // (a deploy that replaces the directory). True when the path now names a directory, which
    // the root then holds; false leaves the root as it was.
    bool reopen();

    // Opens `relative` (normalised: no "..", no leading '/', "" for the root itself) read-only
    // and non-blocking, never leaving the root: returns the fd, or -errno. A symlink whose target
    // lies outside the root fails with -EXDEV; magic links (/proc/self/...) with -ELOOP.
    int open_beneath(std::string_view relative) const;

private:
    // Opens path_ and fills fd_, error_, identity_ and realpath_.
    void open_root();
    int open_with_openat2(const std::string& relative) const;
    int open_with_realpath(const std::string& relative, bool use_openat2) const;

    int fd_ = -1;
    int error_ = 0;
    strategy strategy_;
    std::string path_;     // as configured
    std::string realpath_; // canonical form of the root, for the containment check
    std::string identity_;
};

} // namespace bws::files
