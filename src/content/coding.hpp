// The content codings bws can send (RFC 9110 §8.4.1): their tokens, the file suffix of their
// precompressed siblings and the ETag suffix that keeps each variant's validator distinct.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace bws::content {

enum class coding : std::uint8_t { identity, br, zstd, gzip };

// "br", "zstd", "gzip"; "identity" for identity.
std::string_view token(coding c) noexcept;
// ".br", ".zst", ".gz"; empty for identity.
std::string_view file_suffix(coding c) noexcept;
// The coding a configured algorithm name or an Accept-Encoding token names (case-insensitive;
// "x-gzip" is gzip, RFC 9110 §8.4.1.3); nullopt for anything else ("deflate", "compress", ...).
std::optional<coding> coding_from_token(std::string_view name) noexcept;

} // namespace bws::content
