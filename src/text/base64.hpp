// base64 decoding (RFC 4648) for the two alphabets bws meets: the standard one of HTTP basic
// auth credentials (§4, padded) and the URL-safe one of JOSE and ACME (§5, unpadded).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace bws::text {

enum class base64_alphabet {
    standard, // "+/", length a multiple of 4, at most two '=' of padding at the end
    url,      // "-_", no padding, a length other than 4n+1, the last character's unused bits 0
};

// The decoded bytes; nullopt for a character outside the alphabet or a broken length or
// padding, by the rules of `alphabet` above.
std::optional<std::string> base64_decode(std::string_view in, base64_alphabet alphabet);

} // namespace bws::text
