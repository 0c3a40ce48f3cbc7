// Temporary directories: mkdtemp, permissions opened for unprivileged readers, forced removal.
#include "support/temp_dir.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <sys/stat.h>

namespace bws::test {

namespace fs = std::filesystem;

namespace {

// Gives the owner full access to every directory below `dir` (tests lock some on purpose), so
// that remove_all works without root too.
void unlock_tree(const fs::path& dir) {
    std::error_code ec;
    fs::permissions(dir, fs::perms::owner_all, fs::perm_options::add, ec);
    for (const auto& entry : fs::directory_iterator(dir, ec))
        if (entry.is_directory(ec) && !entry.is_symlink(ec))
            unlock_tree(entry.path());
}

} // namespace

temp_dir::temp_dir(const std::string& prefix) {
    std::string pattern = (fs::temp_directory_path() / (prefix + "-XXXXXX")).string();
    if (::mkdtemp(pattern.data()) == nullptr)
        throw std::runtime_error("mkdtemp failed");
    ::chmod(pattern.c_str(), 0755);
    path_ = pattern;
}

temp_dir::~temp_dir() {
    unlock_tree(path_);
    std::error_code ec;
    fs::remove_all(path_, ec);
}

fs::path temp_dir::write(const std::string& name, const std::string& content) const {
    auto p = path_ / name;
    mkdir(p.parent_path().lexically_relative(path_).string());
    write_file(p, content);
    ::chmod(p.c_str(), 0644);
    return p;
}

fs::path temp_dir::mkdir(const std::string& name) const {
    const auto dir = path_ / name;
    fs::create_directories(dir);
    for (auto d = dir; d != path_ && d.has_relative_path(); d = d.parent_path())
        ::chmod(d.c_str(), 0755);
    return dir;
}

void write_file(const fs::path& path, const std::string& content) {
    fs::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
}

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream data;
    data << in.rdbuf();
    return data.str();
}

} // namespace bws::test
