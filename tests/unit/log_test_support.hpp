// Helpers shared by the logging unit tests: temp directories, reading files (gzip-aware).
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>
#include <zlib.h>

namespace bws::log::test {

// A fresh directory under $TMPDIR, removed with everything in it.
class temp_dir {
public:
    temp_dir() {
        auto pattern = (std::filesystem::temp_directory_path() / "bws-log-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr)
            throw std::runtime_error("mkdtemp failed");
        path_ = pattern;
    }
    ~temp_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

private:
    std::filesystem::path path_;
};

inline std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

// Reads a file, decompressing it when its name ends in ".gz" (gzread also reads plain files).
inline std::string read_maybe_gzip(const std::filesystem::path& path) {
    if (path.extension() != ".gz")
        return read_file(path);
    gzFile gz = ::gzopen(path.c_str(), "rb");
    if (gz == nullptr)
        throw std::runtime_error("gzopen failed: " + path.string());
    std::string data;
    char buffer[65536];
    int n;
    while ((n = ::gzread(gz, buffer, sizeof buffer)) > 0)
        data.append(buffer, static_cast<std::size_t>(n));
    const bool ok = n == 0;
    ::gzclose(gz);
    if (!ok)
        throw std::runtime_error("gzread failed: " + path.string());
    return data;
}

inline std::vector<std::string> split_lines(const std::string& text) {
    std::vector<std::string> lines;
    std::size_t start = 0;
    while (start < text.size()) {
        const auto end = text.find('\n', start);
        if (end == std::string::npos) {
            lines.push_back(text.substr(start)); // unterminated: a torn line
            break;
        }
        lines.push_back(text.substr(start, end - start));
        start = end + 1;
    }
    return lines;
}

} // namespace bws::log::test
