// Validator construction and precondition evaluation (see conditional.hpp).
#include "files/conditional.hpp"

#include "files/http_date.hpp"
#include "http/header_text.hpp"

#include <array>
#include <cstdio>

namespace bws::files {

namespace {

// Strips the quotes (and reports a W/ prefix) of one entity-tag; false when malformed.
bool split_tag(std::string_view tag, bool& weak, std::string_view& opaque) {
    weak = false;
    if (tag.size() >= 2 && tag[0] == 'W' && tag[1] == '/') {
        weak = true;
        tag.remove_prefix(2);
    }
    if (tag.size() < 2 || tag.front() != '"' || tag.back() != '"')
        return false;
    opaque = tag.substr(1, tag.size() - 2);
    return opaque.find('"') == std::string_view::npos;
}

} // namespace

std::string make_etag(std::uint64_t size, std::int64_t mtime_sec, std::int64_t mtime_nsec) {
    std::array<char, 64> buf{};
    int n = std::snprintf(
        buf.data(), buf.size(), "\"%llx.%llx-%llx\"", static_cast<unsigned long long>(mtime_sec),
        static_cast<unsigned long long>(mtime_nsec), static_cast<unsigned long long>(size));
    return std::string(buf.data(), static_cast<std::size_t>(n));
}

bool etag_list_matches(std::string_view list, std::string_view etag, etag_compare mode) {
    list = http::trim_ows(list);
    if (list == "*")
        return true;
    bool ours_weak;
    std::string_view ours;
    if (!split_tag(etag, ours_weak, ours))
        return false;
    if (mode == etag_compare::strong && ours_weak)
        return false;
    // Entity-tags may contain ',' inside quotes, so walk the list quote-aware.
    std::size_t pos = 0;
    while (pos < list.size()) {
        while (pos < list.size() && (http::is_ows(list[pos]) || list[pos] == ','))
            ++pos;
        if (pos >= list.size())
            break;
        std::size_t start = pos;
        if (list.compare(pos, 2, "W/") == 0)
            pos += 2;
        if (pos < list.size() && list[pos] == '"') {
            std::size_t close = list.find('"', pos + 1);
            if (close == std::string_view::npos)
                return false;
            pos = close + 1;
        } else {
            // Not an entity-tag: skip this member.
            while (pos < list.size() && list[pos] != ',')
                ++pos;
            continue;
        }
        bool weak;
        std::string_view opaque;
        if (split_tag(list.substr(start, pos - start), weak, opaque) && opaque == ours &&
            (mode == etag_compare::weak || !weak))
            return true;
    }
    return false;
}

precondition evaluate_preconditions(const request_info& request, std::string_view etag,
                                    std::optional<std::int64_t> last_modified, std::int64_t now) {
    const std::string_view if_match = etag.empty() ? std::string_view() : request.if_match;
    const std::string_view if_none_match =
        etag.empty() ? std::string_view() : request.if_none_match;
    if (!if_match.empty()) {
        if (!etag_list_matches(if_match, etag, etag_compare::strong))
            return precondition::failed;
    } else if (!request.if_unmodified_since.empty() && last_modified) {
        auto date = parse_http_date(request.if_unmodified_since);
        if (date && *last_modified > *date)
            return precondition::failed;
    }
    if (!if_none_match.empty()) {
        if (etag_list_matches(if_none_match, etag, etag_compare::weak))
            return precondition::not_modified;
    } else if (!request.if_modified_since.empty() && last_modified) {
        auto date = parse_http_date(request.if_modified_since);
        if (date && *date <= now && *last_modified <= *date)
            return precondition::not_modified;
    }
    return precondition::proceed;
}

bool if_range_allows(std::string_view if_range, std::string_view etag,
                     std::optional<std::int64_t> last_modified) {
    if_range = http::trim_ows(if_range);
    if (if_range.empty())
        return true;
    if (if_range.front() == '"' || if_range.substr(0, 2) == "W/") {
        bool weak;
        std::string_view theirs;
        bool ours_weak;
        std::string_view ours;
        return split_tag(if_range, weak, theirs) && !weak && split_tag(etag, ours_weak, ours) &&
               !ours_weak && theirs == ours;
    }
    auto date = parse_http_date(if_range);
    return date && last_modified && *date == *last_modified;
}

} // namespace bws::files
