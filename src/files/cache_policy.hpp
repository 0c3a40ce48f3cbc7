// A site's [sites.cache] as its static handler uses it: which Cache-Control (and Expires) a
// file's responses carry and which validators are sent. Built once per site and worker, when
// the worker starts; choosing a header for a request allocates nothing.
#pragma once

#include "config/model.hpp"
#include "http/response.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bws::files {

// Whether a file belongs to the original BWS's "static" class (max_age_static): css, js,
// images, fonts, pdf, zip, audio and video, by the extension of its last segment
// (case-insensitive). Everything else (html, json, txt, wasm, ...) is "dynamic".
bool is_static_class(std::string_view name);

// Whether `pattern` matches the file at `relative` (normalised, no leading '/': "assets/a.css").
bool pattern_matches(const config::cache_pattern& pattern, std::string_view relative);

class cache_policy {
public:
    // An index into the policy's headers; none: the file gets no Cache-Control.
    using choice = std::size_t;
    static constexpr choice none = static_cast<choice>(-1);

    explicit cache_policy(const config::site_cache& c);

    // The header for the file at `relative`: the first rule that matches, else the table's
    // cache_control, else the static or dynamic default; none when caching is off.
    choice choose(std::string_view relative) const;

    // Adds Cache-Control and, with `expires` on and a max-age in the header, Expires = now +
    // max-age (formatted once per second and header). `now`: seconds since the epoch.
    void apply(http::response& r, choice c, std::int64_t now) const;

    bool etag() const noexcept { return etag_; }
    bool last_modified() const noexcept { return last_modified_; }

private:
    struct entry {
        config::cache_header header;
        // The last Expires value made, and the second it was made for: a handler belongs to
        // one worker thread.
        mutable std::int64_t expires_at = 0;
        mutable std::string expires;
    };
    struct rule {
        std::vector<config::cache_pattern> patterns;
        choice header = none;
    };

    std::vector<entry> headers_;
    std::vector<rule> rules_;
    choice unmatched_static_ = none; // the header of a file no rule matches, by its class
    choice unmatched_dynamic_ = none;
    bool expires_on_ = false;
    bool etag_ = true;
    bool last_modified_ = true;
};

} // namespace bws::files
