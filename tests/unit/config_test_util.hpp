// Helpers shared by the config unit tests: temp directories and diagnostic lookup.
#pragma once

#include "config/load.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace bws::config::test {

// A fresh directory under $TMPDIR, removed with everything in it when the test ends.
class temp_dir {
public:
    temp_dir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "bws-config-XXXXXX");
        if (::mkdtemp(pattern.data()) == nullptr)
            throw std::runtime_error("mkdtemp failed");
        path_ = pattern;
    }
    ~temp_dir() {
        std::error_code ec;
        std::filesystem::permissions(path_, std::filesystem::perms::owner_all,
                                     std::filesystem::perm_options::add, ec);
        std::filesystem::remove_all(path_, ec);
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;

    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

    std::filesystem::path write(const std::string& name, const std::string& text) const {
        const auto file = path_ / name;
        std::filesystem::create_directories(file.parent_path());
        std::ofstream(file) << text;
        return file;
    }
    std::filesystem::path mkdir(const std::string& name) const {
        const auto dir = path_ / name;
        std::filesystem::create_directories(dir);
        return dir;
    }

private:
    std::filesystem::path path_;
};

// A listener address from a literal the test knows is valid.
inline listen_address listener(const char* ip, std::uint16_t port) {
    return {net::ip_address::parse(ip).value(), port};
}

inline std::string all(const std::vector<diagnostic>& list) {
    std::string out;
    for (const auto& d : list)
        out += d.to_string() + "\n";
    return out;
}

// The only diagnostic whose message contains `text`; fails the test if there is not exactly one.
inline diagnostic find_one(const std::vector<diagnostic>& list, const std::string& text) {
    const diagnostic* found = nullptr;
    int count = 0;
    for (const auto& d : list) {
        if (d.message.find(text) != std::string::npos) {
            found = &d;
            ++count;
        }
    }
    EXPECT_EQ(count, 1) << "looking for '" << text << "' in:\n" << all(list);
    return found != nullptr ? *found : diagnostic{};
}

} // namespace bws::config::test
