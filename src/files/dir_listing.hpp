// Directory listings (`enable_directory_listing`): the entries of a directory beneath a site
// root, as an HTML page or, for a client that asks for application/json, as JSON (like Caddy's
// `browse`). Hidden names (a leading dot) and symlinks leaving the root are never listed, the
// same rule that keeps them from being served.
#pragma once

#include "files/root_dir.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bws::files {

struct listing_entry {
    std::string name; // as on disk (one path segment)
    bool directory = false;
    std::uint64_t size = 0; // bytes; 0 for directories
    std::int64_t mtime = 0; // seconds since the epoch
};

struct listing {
    std::vector<listing_entry> entries; // directories first, then files, each by name
    bool truncated = false;             // the directory held more than the limit
};

// A listing is built in memory: this many entries at most, so a directory of millions of files
// costs a bounded response (the page then says it is truncated).
inline constexpr std::size_t max_listing_entries = 10'000;

// Reads the directory `relative` (normalised, "" for the root) beneath `root`. Returns 0, or the
// errno of opening or reading it.
int read_listing(const root_dir& root, std::string_view relative, listing& out,
                 std::size_t limit = max_listing_entries);

// `url_path`: the decoded request path of the directory, with its trailing '/' ("/docs/").
std::string listing_html(std::string_view url_path, const listing& l);
std::string listing_json(std::string_view url_path, const listing& l);

// Caddy's rule: JSON when the Accept header names application/json (with a q above 0).
bool wants_json_listing(std::string_view accept);

} // namespace bws::files
