// gzip compression of a rotated log file (zlib), run on a background thread by the rotation
// coordinator.
#pragma once

#include <filesystem>
#include <string>

namespace bws::log {

// Compresses `source` into `target` (a gzip stream) by writing `target`.tmp, syncing it and
// renaming it into place, then unlinks `source`. On failure `source` is left untouched, the
// temporary file is removed and the reason is returned; an empty string means success.
std::string gzip_file(const std::filesystem::path& source, const std::filesystem::path& target);

} // namespace bws::log
