// One base64 decoder for both alphabets (see base64.hpp): a 256-entry table per alphabet and the
// same 6-bit accumulator; only the length, padding and canonical-bits rules differ.
#include "text/base64.hpp"

#include <array>
#include <cstdint>

namespace bws::text {

namespace {

using table = std::array<std::uint8_t, 256>;
constexpr std::uint8_t invalid = 0xff;

constexpr table make_table(std::string_view last_two) {
    table t{};
    t.fill(invalid);
    constexpr std::string_view common =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    for (std::size_t i = 0; i < common.size(); ++i)
        t[static_cast<unsigned char>(common[i])] = static_cast<std::uint8_t>(i);
    t[static_cast<unsigned char>(last_two[0])] = 62;
    t[static_cast<unsigned char>(last_two[1])] = 63;
    return t;
}

constexpr table standard_table = make_table("+/");
constexpr table url_table = make_table("-_");

} // namespace

std::optional<std::string> base64_decode(std::string_view in, base64_alphabet alphabet) {
    const bool url = alphabet == base64_alphabet::url;
    const table& values = url ? url_table : standard_table;
    if (url ? in.size() % 4 == 1 : in.size() % 4 != 0)
        return std::nullopt;
    if (!url) {
        std::size_t pad = 0;
        while (pad < 2 && pad < in.size() && in[in.size() - 1 - pad] == '=')
            ++pad;
        in.remove_suffix(pad);
    }
    std::string out;
    out.reserve(in.size() * 3 / 4);
    std::uint32_t acc = 0;
    int bits = 0;
    for (const char c : in) {
        const std::uint8_t v = values[static_cast<unsigned char>(c)];
        if (v == invalid)
            return std::nullopt;
        acc = (acc << 6) | v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((acc >> bits) & 0xff));
        }
    }
    // JOSE wants the canonical encoding: the leftover bits of the last character are zero.
    if (url && (acc & ((1U << bits) - 1)) != 0)
        return std::nullopt;
    return out;
}

} // namespace bws::text
