// Range header parsing (RFC 9110 §14.2) with nginx's outcomes, and the pieces of 206 bodies.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bws::files {

struct byte_range {
    std::uint64_t first = 0; // inclusive
    std::uint64_t last = 0;  // inclusive
    std::uint64_t length() const { return last - first + 1; }
    bool operator==(const byte_range&) const = default;
};

enum class range_outcome {
    ignore,        // send the whole representation (200)
    satisfiable,   // 206 with `ranges`
    unsatisfiable, // 416
};

struct range_result {
    range_outcome outcome = range_outcome::ignore;
    // In request order (each merged range where its first member was), ends clamped to
    // size - 1; never overlapping or touching, so they add up to at most the file.
    std::vector<byte_range> ranges;
};

// Evaluates a Range header against a representation of `size` bytes:
// - not "bytes=" or syntactically invalid → ignore (RFC 9110: a server MAY ignore Range);
// - "a-b", "a-", "-n" and comma lists; ends beyond the file are clamped;
// - ranges starting at or past the end (and "a-b" with b < a) are dropped, as nginx does; when
//   none is left → unsatisfiable (416), except that an empty file answers 200;
// - more than `max_ranges` satisfiable ranges (0 disables ranges) → ignore;
// - overlapping or adjacent ranges are coalesced (RFC 9110 §14.2, §15.3.7.2), so a 206 is never
//   larger than the file plus its part headers, however the ranges repeat ("0-99,0-99" is one
//   range; "0-60,40-99" is "0-99").
range_result parse_range(std::string_view header, std::uint64_t size, std::size_t max_ranges);

// "bytes a-b/size"
std::string content_range(const byte_range& range, std::uint64_t size);
// "bytes */size", for 416
std::string unsatisfied_content_range(std::uint64_t size);

// A fresh multipart boundary: 20 random hex characters, never seen inside our own part headers.
std::string make_boundary();

// The header block that opens one part of a multipart/byteranges body (RFC 9110 §14.6),
// including the CRLF that ends the previous part's data when `first_part` is false.
std::string multipart_part_header(std::string_view boundary, std::string_view content_type,
                                  const byte_range& range, std::uint64_t size, bool first_part);
// The closing delimiter, after the last part's data.
std::string multipart_trailer(std::string_view boundary);

} // namespace bws::files
