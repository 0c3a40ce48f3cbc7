// Serves a site's static_dir: resolves the decoded request path beneath the site root (never
// outside it), picks index files, and answers with conditional (304), range (206/416) and full
// (200) responses. Method checks (405) happen before this is called.
#pragma once

#include "config/model.hpp"
#include "http/response.hpp"

#include <memory>
#include <string_view>

namespace bws::files {

// What the static handler needs of a request; every view points into the request and is only
// valid for the duration of handle().
struct request_info {
    bool head = false;
    std::string_view raw_path; // the target's path, still percent-encoded, no query
    std::string_view query;    // without '?', kept for redirects
    std::string_view if_none_match;
    std::string_view if_modified_since;
    std::string_view if_match;
    std::string_view if_unmodified_since;
    std::string_view range;
    std::string_view if_range;
};

class file_cache;

class static_handler {
public:
    // Opens the site root once; `cache` may be shared between the sites of a worker.
    static_handler(const config::site& site, const config::limits& limits,
                   std::shared_ptr<file_cache> cache);
    ~static_handler();

    http::response handle(const request_info& request) const;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

} // namespace bws::files
