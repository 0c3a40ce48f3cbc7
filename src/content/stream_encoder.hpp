// Incremental compression of a body that is compressed as it is read and sent: static files
// larger than the on-the-fly cache takes (files/compression.hpp). One encoder per response;
// its memory is bounded by the coder's window, never by the body's size.
#pragma once

#include "content/coding.hpp"

#include <memory>
#include <string>
#include <string_view>

namespace bws::content {

class stream_encoder {
public:
    virtual ~stream_encoder() = default;
    stream_encoder() = default;
    stream_encoder(const stream_encoder&) = delete;
    stream_encoder& operator=(const stream_encoder&) = delete;

    // Compresses `input` and appends what the coder emits to `out` (possibly nothing: coders
    // buffer up to a block). `last`: the input ends with this call; the coder flushes and
    // writes its trailer, and finished() turns true. False when the library fails (out of
    // memory); the encoder is then unusable.
    virtual bool write(std::string_view input, bool last, std::string& out) = 0;
    bool finished() const noexcept { return finished_; }

protected:
    bool finished_ = false;
};

// An encoder for `c` at `level` (content/codec.hpp's scale); null for identity or when the
// library cannot allocate its state. Its state is capped, because it is paid per concurrent
// download: windows of 2^19 bytes (brotli, zstd; gzip's is 2^15 anyway), zstd's match tables
// at 2^17 entries, and brotli at quality 3 at most (its higher qualities need 6-39 MiB each).
// So an encoder holds at most 3.5 MiB (brotli), 2 MiB (zstd) or 270 KiB (gzip).
std::unique_ptr<stream_encoder> make_stream_encoder(coding c, int level);

} // namespace bws::content
