// Reading what loggers wrote: lines (torn last line detected) and gzip-compressed rotations.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace bws::test {

// The lines of `text` without their '\n'; an unterminated last line (a torn write) is kept and
// sets *whole to false when `whole` is given.
std::vector<std::string> split_lines(const std::string& text, bool* whole = nullptr);

// The decompressed content of a gzip file; throws std::runtime_error when it cannot be opened,
// is not gzip-compressed, or is truncated or corrupt.
std::string gunzip(const std::filesystem::path& path);

// A file's content, decompressed (as gunzip()) when its name ends in ".gz".
std::string read_maybe_gzip(const std::filesystem::path& path);

} // namespace bws::test
