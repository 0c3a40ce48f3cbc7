// Percent-decoding and lexical normalisation of a request path, so that the result can only name
// something beneath the site root (resolution beneath the root is still enforced by the kernel).
#pragma once

#include <string>
#include <string_view>

namespace bws::files {

enum class path_error {
    none,
    not_absolute,  // the path does not start with '/'
    bad_escape,    // '%' not followed by two hex digits
    nul,           // a decoded NUL byte
    backslash,     // a literal or decoded '\' (Windows separator tricks)
    encoded_slash, // %2F: would let one segment hide a separator
    above_root,    // a ".." that climbs above the root
};

struct normalized_path {
    path_error error = path_error::none;
    // Segments joined by '/', no leading or trailing '/', "" for the root. Decoded bytes.
    std::string relative;
    // Whether the request named a directory form ("/a/", "/a/.", "/"): decides 301 vs index.
    bool trailing_slash = false;
};

// Decodes and normalises `raw` (the request target's path, still percent-encoded, no query).
// "." segments vanish, ".." removes the previous segment, empty segments ("//") collapse.
normalized_path normalize_path(std::string_view raw);

// Whether a normalised relative path names a hidden file: a segment starting with '.', except a
// first segment ".well-known" (RFC 8615). Dot segments below .well-known stay hidden.
bool is_hidden_path(std::string_view relative);

} // namespace bws::files
