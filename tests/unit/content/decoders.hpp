// Test decoders for the three codings, each in its library's streaming form so that they also
// decode what a streaming encoder wrote (a zstd frame without its content size, a brotli
// stream of many meta-blocks), and the compressible text they encode. Shared by the codec and
// stream encoder tests.
#pragma once

#include "content/coding.hpp"

#include <brotli/decode.h>
#include <gtest/gtest.h>
#include <zlib.h>
#include <zstd.h>

#include <cstdint>
#include <string>

namespace bws::test {

// `n` bytes of HTML-like text with some variety (compresses about 10:1).
inline std::string text(std::size_t n) {
    std::string s;
    while (s.size() < n)
        s += "<tr><td>row " + std::to_string(s.size() % 1013) + "</td><td>bws</td></tr>\n";
    s.resize(n);
    return s;
}

inline std::string gunzip(const std::string& in) {
    z_stream z{};
    EXPECT_EQ(inflateInit2(&z, 15 + 16), Z_OK); // gzip wrapper only: a zlib stream fails
    std::string out;
    char buf[16384];
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z.avail_in = static_cast<uInt>(in.size());
    int rc = Z_OK;
    while (rc == Z_OK) {
        z.next_out = reinterpret_cast<Bytef*>(buf);
        z.avail_out = sizeof buf;
        rc = inflate(&z, Z_NO_FLUSH);
        out.append(buf, sizeof buf - z.avail_out);
    }
    EXPECT_EQ(rc, Z_STREAM_END);
    EXPECT_EQ(z.avail_in, 0u) << "bytes after the gzip trailer";
    inflateEnd(&z);
    return out;
}

inline std::string unbrotli(const std::string& in) {
    BrotliDecoderState* s = BrotliDecoderCreateInstance(nullptr, nullptr, nullptr);
    std::string out;
    std::size_t in_left = in.size();
    const auto* next_in = reinterpret_cast<const std::uint8_t*>(in.data());
    BrotliDecoderResult rc = BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT;
    while (rc == BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT) {
        std::uint8_t buf[16384];
        std::size_t out_left = sizeof buf;
        std::uint8_t* next_out = buf;
        rc = BrotliDecoderDecompressStream(s, &in_left, &next_in, &out_left, &next_out, nullptr);
        out.append(reinterpret_cast<const char*>(buf), sizeof buf - out_left);
    }
    EXPECT_EQ(rc, BROTLI_DECODER_RESULT_SUCCESS);
    EXPECT_EQ(in_left, 0u) << "bytes after the brotli stream";
    BrotliDecoderDestroyInstance(s);
    return out;
}

inline std::string unzstd(const std::string& in) {
    ZSTD_DCtx* d = ZSTD_createDCtx();
    std::string out;
    ZSTD_inBuffer input{in.data(), in.size(), 0};
    std::size_t rc = 1;
    while (input.pos < input.size || rc != 0) {
        char buf[16384];
        ZSTD_outBuffer output{buf, sizeof buf, 0};
        rc = ZSTD_decompressStream(d, &output, &input);
        if (ZSTD_isError(rc)) {
            ADD_FAILURE() << ZSTD_getErrorName(rc);
            break;
        }
        out.append(buf, output.pos);
        if (input.pos == input.size && output.pos < output.size && rc != 0) {
            ADD_FAILURE() << "truncated zstd frame";
            break;
        }
    }
    ZSTD_freeDCtx(d);
    return out;
}

inline std::string decode(content::coding c, const std::string& in) {
    switch (c) {
    case content::coding::gzip:
        return gunzip(in);
    case content::coding::br:
        return unbrotli(in);
    case content::coding::zstd:
        return unzstd(in);
    case content::coding::identity:
        break;
    }
    return in;
}

} // namespace bws::test
