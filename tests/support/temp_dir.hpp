// Temporary directories and whole-file reads and writes, shared by the unit and integration
// tests.
#pragma once

#include <filesystem>
#include <string>

namespace bws::test {

// A directory under $TMPDIR, removed (recursively, whatever the permissions left inside) when
// the object goes away. It is mode 0755, so that a process dropped to "nobody" (bws's workers
// when started as root, or as_unprivileged() checks) can traverse it.
class temp_dir {
public:
    temp_dir() : temp_dir("bws-test") {}
    // The directory's name starts with `prefix` (e.g. "bws-cache"), for leftovers' sake.
    explicit temp_dir(const std::string& prefix);
    ~temp_dir();
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }
    // Writes `name` (relative, parents created with mode 0755) with mode 0644, readable by
    // all. Returns the full path.
    std::filesystem::path write(const std::string& name, const std::string& content) const;
    // Creates the directory `name` (and its parents) with mode 0755; returns the full path.
    std::filesystem::path mkdir(const std::string& name) const;

private:
    std::filesystem::path path_;
};

// Writes `content` to `path` (binary, truncating), creating the parent directories.
void write_file(const std::filesystem::path& path, const std::string& content);
// The whole content of `path`; "" when it cannot be read.
std::string read_file(const std::filesystem::path& path);

} // namespace bws::test
