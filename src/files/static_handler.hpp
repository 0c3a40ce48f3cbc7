// Serves a site's static_dir: resolves the decoded request path beneath the site root (never
// outside it), picks index files, and answers with conditional (304), range (206/416) and full
// (200) responses. Method checks (405) happen before this is called.
#pragma once

#include "config/model.hpp"
#include "http/response.hpp"

#include <memory>
#include <optional>
#include <string_view>

namespace bws::content {
class compressed_cache; // content/compressed_cache.hpp: one per worker, shared by its sites
}

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
    std::string_view accept; // directory listings: JSON when it names application/json
    // Accept-Encoding (nullopt: the request has none) and Cache-Control: no-transform.
    std::optional<std::string_view> accept_encoding;
    bool no_transform = false;
    // The response may use chunked framing (HTTP/1.1): a file too large for the compressed
    // cache is then compressed as it is sent; an HTTP/1.0 client gets it uncompressed.
    bool chunked_ok = false;
};

class file_cache; // files/file_cache.hpp: one per worker, shared by its sites

// What handle() answers (all error statuses come with use_error_page = true and no body):
// - 400: a path that does not decode or normalise (bad escape, NUL, '\\', %2F, ".." above root);
// - 404: missing, hidden (a dot segment outside /.well-known/), a symlink leaving the root, a
//   directory without an index file (unless enable_directory_listing: then a 200 listing,
//   see files/dir_listing.hpp; without it 404 rather than 403, so a directory's existence is
//   not revealed), "/file/" naming a regular file;
//   with `fallback` set, a 404 for a path that is not hidden (and, unless
//   fallback_for_extensions, whose last segment has no '.') is answered with the fallback file
//   instead (200, 304, 206 as for that file);
// - 403: permission denied (the file or an index file);
// - 500: any other failure to open the file or an index file (EIO, ESTALE, EMFILE, ...: see
//   files/open_error.hpp), each with an error log line naming the site, path and static_dir;
// - 301 (use_error_page set, so the session may add its small built-in body): a directory
//   requested without '/', Location = raw path + "/" (+ "?query"), leading "//" collapsed;
// - 304 (ETag, Last-Modified, Cache-Control, Expires; no Content-Type, no body), 412;
// - 206 / 416 (Content-Range: bytes */size) / 200 with Content-Type, ETag, Last-Modified,
//   Accept-Ranges: bytes (omitted when limits.max_ranges is 0), and the Cache-Control and
//   Expires [sites.cache] gives the file (files/cache_policy.hpp; the same on 200, 206 and
//   304, none on errors; ETag or Last-Modified omitted, and the conditional headers comparing
//   with them ignored, when [sites.cache] turns them off);
// - for a compressible file of a site with [sites.compression]: Vary: Accept-Encoding on every
//   answer above, the variant Accept-Encoding picks (a precompressed sibling, with Range, or a
//   body compressed on the fly, whole, without Accept-Ranges) with Content-Encoding and its own
//   ETag, and 406 when the client refuses identity and every coding the file is available in.
// Bodies are file slices (sendfile-able) or, for files the cache holds in memory, bytes.
// Content-Length: set here ONLY on HEAD responses, whose body is empty; the session must keep
// that header and must not add its own then. For every other response the session derives it
// from the body (and sends none on 304).
class static_handler {
public:
    // Opens the site root once; `cache` and `compressed` may be shared between the sites of a
    // worker (null: the handler makes a private one).
    static_handler(const config::site& site, const config::limits& limits,
                   std::shared_ptr<file_cache> cache,
                   std::shared_ptr<content::compressed_cache> compressed = nullptr);
    ~static_handler();

    http::response handle(const request_info& request) const;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

} // namespace bws::files
