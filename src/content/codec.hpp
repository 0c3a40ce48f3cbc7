// One-shot compression of a response body held in memory, for the on-the-fly cache
// (content/compressed_cache.hpp). gzip through zlib, brotli through libbrotlienc, zstd through
// libzstd.
#pragma once

#include "content/coding.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace bws::content {

// [sites.compression] level is one scale for the three codings, 1 (fastest) to 9 (smallest):
// gzip's own 1-9, brotli quality = level (of brotli's 0-11: 10 and 11 cost ~50x more CPU than 9
// for a few per cent), zstd level = level (of zstd's 1-19; its default is 3).
constexpr int min_level = 1;
constexpr int max_level = 9;

// The compressed bytes; nullopt when the library fails (out of memory) or for identity.
std::optional<std::string> compress(coding c, std::string_view input, int level);

} // namespace bws::content
