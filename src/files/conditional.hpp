// Validators (strong ETag, Last-Modified) and RFC 9110 §13 precondition evaluation for GET/HEAD.
#pragma once

#include "files/static_handler.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bws::files {

// Strong ETag from size and modification time (nanoseconds included, so two writes within one
// second still differ): "\"<mtime sec hex>.<nsec hex>-<size hex>\"", quotes included.
std::string make_etag(std::uint64_t size, std::int64_t mtime_sec, std::int64_t mtime_nsec);

// Whether `etag` (a quoted strong tag such as make_etag() produces) is in the If-Match /
// If-None-Match style `list`. "*" matches anything. Strong comparison never matches a W/ tag;
// weak comparison ignores the W/ prefix on either side.
enum class etag_compare { strong, weak };
bool etag_list_matches(std::string_view list, std::string_view etag, etag_compare mode);

enum class precondition {
    proceed,      // evaluate Range next (or send 200)
    not_modified, // 304
    failed,       // 412
};

// RFC 9110 §13.2.2 order for a GET/HEAD of an existing representation:
// If-Match (strong) → else If-Unmodified-Since → If-None-Match (weak) → else If-Modified-Since.
// Unparsable dates, and If-Modified-Since dates later than `now`, are ignored. A validator the
// response does not carry (an empty `etag`, no `last_modified`: [sites.cache] turned it off)
// makes the headers that compare with it ignored, as if absent.
precondition evaluate_preconditions(const request_info& request, std::string_view etag,
                                    std::optional<std::int64_t> last_modified, std::int64_t now);

// If-Range (§13.1.5): the range applies only if the value is the current strong ETag or an
// HTTP-date equal to Last-Modified. An empty header always allows the range; one naming a
// validator the response does not carry never does (the whole file is sent).
bool if_range_allows(std::string_view if_range, std::string_view etag,
                     std::optional<std::int64_t> last_modified);

} // namespace bws::files
