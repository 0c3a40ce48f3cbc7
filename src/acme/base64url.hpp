// base64url without padding (RFC 4648 §5, as JOSE and ACME use it, RFC 7515 §2), and the
// check that a server-given token is base64url before it goes near a path or a response.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace bws::acme {

std::string base64url_encode(std::string_view bytes);
// nullopt for characters outside the alphabet, padding, or an impossible length (4n+1).
std::optional<std::string> base64url_decode(std::string_view text);

// True when `token` is non-empty and only [A-Za-z0-9_-]: RFC 8555 §8.3 requires it of
// challenge tokens, and it is what keeps "../" and "/" out of a challenge path.
bool is_base64url_token(std::string_view token) noexcept;

} // namespace bws::acme
