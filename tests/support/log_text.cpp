// Line splitting and gzip reading for the logging tests.
#include "support/log_text.hpp"

#include "support/temp_dir.hpp"

#include <stdexcept>
#include <zlib.h>

namespace bws::test {

std::vector<std::string> split_lines(const std::string& text, bool* whole) {
    std::vector<std::string> lines;
    std::size_t start = 0;
    while (start < text.size()) {
        const auto end = text.find('\n', start);
        if (end == std::string::npos) {
            lines.push_back(text.substr(start)); // unterminated: a torn line
            if (whole != nullptr)
                *whole = false;
            break;
        }
        lines.push_back(text.substr(start, end - start));
        start = end + 1;
    }
    return lines;
}

std::string gunzip(const std::filesystem::path& path) {
    gzFile gz = ::gzopen(path.c_str(), "rb");
    if (gz == nullptr)
        throw std::runtime_error("gzopen failed: " + path.string());
    std::string data;
    char buffer[65536];
    int n;
    while ((n = ::gzread(gz, buffer, sizeof buffer)) > 0)
        data.append(buffer, static_cast<std::size_t>(n));
    int err = Z_OK;
    const std::string message = ::gzerror(gz, &err);
    const bool direct = ::gzdirect(gz) != 0;
    ::gzclose(gz);
    if (direct)
        throw std::runtime_error(path.string() + " is not gzip-compressed");
    if (n != 0 || (err != Z_OK && err != Z_STREAM_END))
        throw std::runtime_error("gzread failed: " + path.string() + ": " + message);
    return data;
}

std::string read_maybe_gzip(const std::filesystem::path& path) {
    return path.extension() == ".gz" ? gunzip(path) : read_file(path);
}

} // namespace bws::test
