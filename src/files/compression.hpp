// The static handler's compression helpers: which files a site compresses, the validators of an
// encoded variant, and the bytes compressed on the fly (files/static_handler.cpp decides when).
#pragma once

#include "config/model.hpp"
#include "content/coding.hpp"
#include "content/compressed_cache.hpp"
#include "files/file_cache.hpp"

#include <string>
#include <string_view>

namespace bws::files {

// Files up to this size are compressed on the fly (once per coding and level, then served from
// the worker's compressed_cache); larger ones are compressed as they are sent, chunk by chunk
// (content/stream_encoder.hpp; HTTP/1.1 only, chunked, never cached), unless a precompressed
// sibling exists. Compressing 1 MiB of text at level 6 takes 35 ms (zstd) to 120 ms (brotli)
// on a loaded 2-core test machine and blocks the worker's other connections meanwhile, once per
// file and coding; 100 KiB takes 2-10 ms.
constexpr std::uint64_t max_on_the_fly_size = 1u << 20;

// Whether a file of Content-Type `type` named `name` is a compressible resource of the site:
// its media type (parameters dropped, case-insensitive) is in the site's types, and it is not
// an already-compressed format sharing a text type (".svgz").
bool compressible(const config::site_compression& c, std::string_view type, std::string_view name);

// The ETag of an encoded variant: `"<tag>-<coding>"` for `"<tag>"`, so a cache or a client
// never confuses it with the identity file's (RFC 9110 §8.8.3.3).
std::string variant_etag(std::string_view etag, content::coding c);

// The key of `entry`'s bytes in `c` at `level` in the compressed cache.
content::compressed_key compressed_key_for(const file_entry& entry, content::coding c, int level);

// The whole file compressed in `c` at `level` (read with pread unless the cache holds its
// content); nullopt when reading or compressing fails.
std::optional<std::string> compress_file(const file_entry& entry, content::coding c, int level);

} // namespace bws::files
