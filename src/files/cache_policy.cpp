// Cache-Control and Expires of static files (cache_policy.hpp).
#include "files/cache_policy.hpp"

#include "files/http_date.hpp"

#include <algorithm>
#include <array>
#include <limits>

namespace bws::files {

namespace {

char ascii_lower(char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// `text` ends with `suffix` (lower-case), ASCII case-insensitively.
bool ends_with_nocase(std::string_view text, std::string_view suffix) {
    if (text.size() < suffix.size())
        return false;
    const std::string_view tail = text.substr(text.size() - suffix.size());
    return std::equal(tail.begin(), tail.end(), suffix.begin(),
                      [](char a, char b) { return ascii_lower(a) == b; });
}

std::string_view last_segment(std::string_view relative) {
    const std::size_t slash = relative.rfind('/');
    return slash == std::string_view::npos ? relative : relative.substr(slash + 1);
}

config::cache_header public_max_age(std::chrono::seconds age) {
    return {"public, max-age=" + std::to_string(age.count()), age};
}

} // namespace

bool is_static_class(std::string_view name) {
    // The original BWS's list, sorted for the binary search.
    static constexpr std::array<std::string_view, 22> extensions{
        "avif", "css", "eot", "gif", "ico", "jpeg", "jpg",  "js",   "mp3",  "mp4",   "ogg",
        "otf",  "pdf", "png", "svg", "ttf", "wav",  "webm", "webp", "woff", "woff2", "zip"};
    const std::string_view last = last_segment(name);
    const std::size_t dot = last.rfind('.');
    if (dot == std::string_view::npos || dot + 1 == last.size() || last.size() - dot - 1 > 5)
        return false;
    std::array<char, 5> buf{};
    const std::string_view ext = last.substr(dot + 1);
    std::transform(ext.begin(), ext.end(), buf.begin(), ascii_lower);
    return std::binary_search(extensions.begin(), extensions.end(),
                              std::string_view(buf.data(), ext.size()));
}

bool pattern_matches(const config::cache_pattern& pattern, std::string_view relative) {
    if (!pattern.prefix.empty()) {
        // The prefix is "/dir" (never "/" alone); the file is "dir" or beneath it.
        const std::string_view dir = std::string_view(pattern.prefix).substr(1);
        if (relative.substr(0, dir.size()) != dir ||
            (relative.size() > dir.size() && relative[dir.size()] != '/'))
            return false;
    }
    if (pattern.suffix.empty())
        return true;
    // "*.css" needs a name before the suffix: ".css" alone is a hidden file, never served.
    const std::string_view last = last_segment(relative);
    return last.size() > pattern.suffix.size() && ends_with_nocase(last, pattern.suffix);
}

cache_policy::cache_policy(const config::site_cache& c)
    : expires_on_(c.expires), etag_(c.etag), last_modified_(c.last_modified) {
    if (!c.enabled)
        return;
    auto add = [this](config::cache_header h) {
        headers_.push_back({std::move(h), std::numeric_limits<std::int64_t>::min(), {}});
        return headers_.size() - 1;
    };
    for (const config::cache_rule& r : c.rules)
        rules_.push_back({r.patterns, add(r.header)});
    if (c.cache_control) {
        unmatched_static_ = unmatched_dynamic_ = add(*c.cache_control);
    } else {
        unmatched_static_ = add(public_max_age(c.max_age_static));
        unmatched_dynamic_ = add(public_max_age(c.max_age_dynamic));
    }
}

cache_policy::choice cache_policy::choose(std::string_view relative) const {
    if (headers_.empty())
        return none;
    for (const rule& r : rules_)
        for (const config::cache_pattern& p : r.patterns)
            if (pattern_matches(p, relative))
                return r.header;
    return is_static_class(relative) ? unmatched_static_ : unmatched_dynamic_;
}

void cache_policy::apply(http::response& r, choice c, std::int64_t now) const {
    if (c == none)
        return;
    const entry& e = headers_[c];
    r.set_header("Cache-Control", e.header.value);
    if (!expires_on_ || !e.header.max_age)
        return;
    if (e.expires_at != now) {
        e.expires = format_http_date(now + e.header.max_age->count());
        e.expires_at = now;
    }
    r.set_header("Expires", e.expires);
}

} // namespace bws::files
