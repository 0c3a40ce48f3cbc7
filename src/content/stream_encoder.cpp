// The three streaming encoders: zlib's deflate with a gzip wrapper, libbrotlienc's
// BrotliEncoderCompressStream and libzstd's ZSTD_compressStream2. Each loops until the coder
// has taken all the input (and, on the last call, written everything out), growing `out` in
// steps of the coder's own output bound.
#include "content/stream_encoder.hpp"

#include "content/codec.hpp"

#include <brotli/encode.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <climits>
#include <cstdint>

namespace bws::content {

namespace {

// The caps of the header, measured here with mallinfo2 after 4 MiB of text: brotli's hash
// tables do not shrink with its window (quality 5: 6 MiB, 6: 8 MiB, 9: 39 MiB of state), so
// a stream uses at most quality 3 (3.5 MiB); zstd's hash and chain tables capped at 2^17
// entries keep every level at 2 MiB (level 9 uncapped: 13.5 MiB). gzip: 261 KiB.
constexpr int window_log = 19; // brotli's lgwin and zstd's windowLog
constexpr int max_brotli_quality = 3;
constexpr int zstd_table_log = 17;
constexpr std::size_t out_step = 16 * 1024; // room added to `out` per coder call

class gzip_encoder final : public stream_encoder {
public:
    explicit gzip_encoder(int level) {
        // windowBits 15 + 16: a gzip wrapper (RFC 1952); memLevel 8 is zlib's default.
        ok_ = deflateInit2(&z_, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK;
    }
    ~gzip_encoder() override {
        if (ok_)
            deflateEnd(&z_);
    }
    gzip_encoder(const gzip_encoder&) = delete;
    gzip_encoder& operator=(const gzip_encoder&) = delete;
    bool ok() const noexcept { return ok_; }

    bool write(std::string_view input, bool last, std::string& out) override {
        if (!ok_ || finished_)
            return false;
        z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
        while (!input.empty() || last) {
            // deflate counts in uInt: feed a huge input in slices.
            const auto slice = static_cast<uInt>(std::min<std::size_t>(input.size(), UINT_MAX));
            z_.avail_in = slice;
            const bool final_slice = last && slice == input.size();
            int rc = Z_OK;
            do {
                const std::size_t used = out.size();
                out.resize(used + out_step);
                z_.next_out = reinterpret_cast<Bytef*>(out.data() + used);
                z_.avail_out = static_cast<uInt>(out_step);
                rc = deflate(&z_, final_slice ? Z_FINISH : Z_NO_FLUSH);
                out.resize(out.size() - z_.avail_out);
                if (rc == Z_STREAM_ERROR)
                    return false;
            } while (z_.avail_out == 0 || (final_slice && rc != Z_STREAM_END));
            input.remove_prefix(slice);
            if (final_slice) {
                finished_ = true;
                break;
            }
        }
        return true;
    }

private:
    z_stream z_{};
    bool ok_ = false;
};

class brotli_encoder final : public stream_encoder {
public:
    explicit brotli_encoder(int level)
        : state_(BrotliEncoderCreateInstance(nullptr, nullptr, nullptr)) {
        if (state_ == nullptr)
            return;
        BrotliEncoderSetParameter(state_, BROTLI_PARAM_QUALITY,
                                  static_cast<std::uint32_t>(std::min(level, max_brotli_quality)));
        BrotliEncoderSetParameter(state_, BROTLI_PARAM_LGWIN, window_log);
    }
    ~brotli_encoder() override {
        if (state_ != nullptr)
            BrotliEncoderDestroyInstance(state_);
    }
    brotli_encoder(const brotli_encoder&) = delete;
    brotli_encoder& operator=(const brotli_encoder&) = delete;
    bool ok() const noexcept { return state_ != nullptr; }

    bool write(std::string_view input, bool last, std::string& out) override {
        if (state_ == nullptr || finished_)
            return false;
        std::size_t in_left = input.size();
        const auto* in = reinterpret_cast<const std::uint8_t*>(input.data());
        const BrotliEncoderOperation op = last ? BROTLI_OPERATION_FINISH : BROTLI_OPERATION_PROCESS;
        for (;;) {
            const std::size_t used = out.size();
            out.resize(used + out_step);
            std::size_t out_left = out_step;
            auto* next_out = reinterpret_cast<std::uint8_t*>(out.data() + used);
            if (!BrotliEncoderCompressStream(state_, op, &in_left, &in, &out_left, &next_out,
                                             nullptr))
                return false;
            out.resize(out.size() - out_left);
            if (last ? BrotliEncoderIsFinished(state_) != 0
                     : in_left == 0 && BrotliEncoderHasMoreOutput(state_) == 0)
                break;
        }
        finished_ = last;
        return true;
    }

private:
    BrotliEncoderState* state_;
};

class zstd_encoder final : public stream_encoder {
public:
    explicit zstd_encoder(int level) : ctx_(ZSTD_createCCtx()) {
        if (ctx_ == nullptr)
            return;
        if (ZSTD_isError(ZSTD_CCtx_setParameter(ctx_, ZSTD_c_compressionLevel, level)) ||
            ZSTD_isError(ZSTD_CCtx_setParameter(ctx_, ZSTD_c_windowLog, window_log)) ||
            ZSTD_isError(ZSTD_CCtx_setParameter(ctx_, ZSTD_c_hashLog, zstd_table_log)) ||
            ZSTD_isError(ZSTD_CCtx_setParameter(ctx_, ZSTD_c_chainLog, zstd_table_log))) {
            ZSTD_freeCCtx(ctx_);
            ctx_ = nullptr;
        }
    }
    ~zstd_encoder() override { ZSTD_freeCCtx(ctx_); }
    zstd_encoder(const zstd_encoder&) = delete;
    zstd_encoder& operator=(const zstd_encoder&) = delete;
    bool ok() const noexcept { return ctx_ != nullptr; }

    bool write(std::string_view input, bool last, std::string& out) override {
        if (ctx_ == nullptr || finished_)
            return false;
        ZSTD_inBuffer in{input.data(), input.size(), 0};
        const ZSTD_EndDirective mode = last ? ZSTD_e_end : ZSTD_e_continue;
        for (;;) {
            const std::size_t used = out.size();
            out.resize(used + out_step);
            ZSTD_outBuffer o{out.data() + used, out_step, 0};
            const std::size_t rc = ZSTD_compressStream2(ctx_, &o, &in, mode);
            out.resize(used + o.pos);
            if (ZSTD_isError(rc))
                return false;
            // rc: bytes still to flush (ZSTD_e_end) or a hint (ZSTD_e_continue).
            if (last ? rc == 0 : in.pos == in.size)
                break;
        }
        finished_ = last;
        return true;
    }

private:
    ZSTD_CCtx* ctx_;
};

template <class Encoder>
std::unique_ptr<stream_encoder> made(int level) {
    auto e = std::make_unique<Encoder>(level);
    if (!e->ok())
        return nullptr;
    return e;
}

} // namespace

std::unique_ptr<stream_encoder> make_stream_encoder(coding c, int level) {
    level = std::clamp(level, min_level, max_level);
    switch (c) {
    case coding::gzip:
        return made<gzip_encoder>(level);
    case coding::br:
        return made<brotli_encoder>(level);
    case coding::zstd:
        return made<zstd_encoder>(level);
    case coding::identity:
        break;
    }
    return nullptr;
}

} // namespace bws::content
