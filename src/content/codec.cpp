// The three encoders, each in its library's one-shot form with an output bound computed up
// front, so a body is compressed with a single allocation.
#include "content/codec.hpp"

#include <brotli/encode.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <climits>

namespace bws::content {

namespace {

std::optional<std::string> gzip(std::string_view input, int level) {
    if (input.size() > UINT_MAX)
        return std::nullopt; // one-shot deflate counts in uInt; such bodies are never cached
    z_stream z{};
    // windowBits 15 + 16: a gzip wrapper (RFC 1952), not zlib's; memLevel 8 is zlib's default.
    if (deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return std::nullopt;
    std::string out(deflateBound(&z, static_cast<uLong>(input.size())), '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
    z.avail_in = static_cast<uInt>(input.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    const int rc = deflate(&z, Z_FINISH);
    const auto produced = z.total_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END)
        return std::nullopt;
    out.resize(produced);
    return out;
}

std::optional<std::string> brotli(std::string_view input, int level) {
    std::size_t size = BrotliEncoderMaxCompressedSize(input.size());
    if (size == 0)
        return std::nullopt;
    std::string out(size, '\0');
    if (!BrotliEncoderCompress(level, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_GENERIC, input.size(),
                               reinterpret_cast<const std::uint8_t*>(input.data()), &size,
                               reinterpret_cast<std::uint8_t*>(out.data())))
        return std::nullopt;
    out.resize(size);
    return out;
}

std::optional<std::string> zstd(std::string_view input, int level) {
    std::string out(ZSTD_compressBound(input.size()), '\0');
    const std::size_t n = ZSTD_compress(out.data(), out.size(), input.data(), input.size(), level);
    if (ZSTD_isError(n))
        return std::nullopt;
    out.resize(n);
    return out;
}

} // namespace

std::optional<std::string> compress(coding c, std::string_view input, int level) {
    level = std::clamp(level, min_level, max_level);
    switch (c) {
    case coding::gzip:
        return gzip(input, level);
    case coding::br:
        return brotli(input, level);
    case coding::zstd:
        return zstd(input, level);
    case coding::identity:
        break;
    }
    return std::nullopt;
}

} // namespace bws::content
