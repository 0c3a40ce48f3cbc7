// The static file handler: path → file beneath the root → 200/206/304/301/4xx (see
// static_handler.hpp). Contract with the session: the handler sets Content-Length itself only on
// HEAD responses (whose body is empty); for everything else the session derives it from the body,
// except a body compressed as it is sent, which is chunked (`streamed`).
#include "files/static_handler.hpp"

#include "content/negotiate.hpp"
#include "content/stream_encoder.hpp"
#include "files/cache_policy.hpp"
#include "files/compression.hpp"
#include "files/conditional.hpp"
#include "files/dir_listing.hpp"
#include "files/file_cache.hpp"
#include "files/mime.hpp"
#include "files/open_error.hpp"
#include "files/path.hpp"
#include "files/range.hpp"
#include "files/root_dir.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <spdlog/spdlog.h>

namespace bws::files {

namespace {

http::response error(unsigned status) {
    http::response r;
    r.status = status;
    r.use_error_page = true;
    return r;
}

// A slice of the file: from memory when the cache holds the content (no syscall at send time),
// else a file piece the session sends with sendfile.
http::body_piece slice(const file_entry& entry, std::uint64_t offset, std::uint64_t length) {
    http::body_piece piece;
    if (entry.inline_content) {
        piece.bytes.assign(entry.content, offset, length);
    } else {
        piece.file = entry.file;
        piece.offset = offset;
        piece.length = length;
    }
    return piece;
}

std::int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

} // namespace

struct static_handler::impl {
    impl(const config::site& site, const config::limits& limits, std::shared_ptr<file_cache> c,
         std::shared_ptr<content::compressed_cache> z)
        : site_name(site.name), root_path(site.static_dir.string()), root(site.static_dir),
          index_files(site.index_files), caching(site.cache),
          directory_listing(site.directory_listing), fallback(site.fallback),
          fallback_for_extensions(site.fallback_for_extensions), max_ranges(limits.max_ranges),
          compression(site.compression), cache(std::move(c)), compressed(std::move(z)) {
        if (!cache)
            cache = std::make_shared<file_cache>();
        if (!compressed)
            compressed = std::make_shared<content::compressed_cache>();
        if (root.error() != 0) {
            spdlog::error("site {}: cannot open static_dir {}: {}", site.name,
                          site.static_dir.string(), std::strerror(root.error()));
            said_removed = true; // root_came_back() need not say it again
        }
    }

    http::response handle(const request_info& request) const;
    http::response serve_file(const request_info& request, const file_entry& entry,
                              std::string_view name) const;
    // One representation of a file: its bytes (`file`, or `compressed` when compressed on the
    // fly from it), validators and coding. `keep` holds a sibling entry while it is served.
    struct variant {
        const file_entry* file = nullptr;
        content::compressed_cache::body compressed;
        std::string etag;
        content::coding encoding = content::coding::identity;
        std::shared_ptr<const file_entry> keep;
        // Compressed as it is sent (too large for the compressed cache): chunked, no Range.
        bool streamed = false;

        static variant identity(const file_entry& f) {
            return {&f, nullptr, f.etag, content::coding::identity, nullptr, false};
        }
    };
    std::shared_ptr<const file_entry>
    precompressed_sibling(const file_entry& entry, std::string_view name, content::coding c) const;
    http::response serve_variant(const request_info& request, const variant& v,
                                 std::string_view type, cache_policy::choice cache) const;
    http::response open_failed(std::string_view relative, int err) const;
    http::response list_directory(const request_info& request, const std::string& relative) const;
    bool fallback_applies(const request_info& request) const;
    http::response serve_fallback(const request_info& request) const;
    bool root_came_back() const;

    std::string site_name;
    std::string root_path;
    // Mutable for root_came_back(), which reopens it: a handler belongs to one worker thread.
    mutable root_dir root;
    mutable bool said_removed = false;
    std::vector<std::string> index_files;
    cache_policy caching;
    bool directory_listing;
    std::optional<std::string> fallback;
    bool fallback_for_extensions;
    std::size_t max_ranges;
    config::site_compression compression;
    std::shared_ptr<file_cache> cache;
    std::shared_ptr<content::compressed_cache> compressed;
};

static_handler::static_handler(const config::site& site, const config::limits& limits,
                               std::shared_ptr<file_cache> cache,
                               std::shared_ptr<content::compressed_cache> compressed)
    : impl_(std::make_unique<impl>(site, limits, std::move(cache), std::move(compressed))) {}

static_handler::~static_handler() = default;

http::response static_handler::handle(const request_info& request) const {
    http::response r = impl_->handle(request);
    // Only a 404 can mean the root itself went away; the check costs an fstat, kept off the
    // path of every other response.
    if (r.status == 404 && impl_->root_came_back())
        r = impl_->handle(request);
    if (r.status == 404 && impl_->fallback_applies(request))
        r = impl_->serve_fallback(request);
    return r;
}

// Only for what looks like an application route: a path that decodes, is not hidden (those
// stay 404 everywhere) and, unless the operator said otherwise, has no extension in its last
// segment, so a missing "/app.js" is a 404 and not an HTML page the browser cannot run.
bool static_handler::impl::fallback_applies(const request_info& request) const {
    if (!fallback)
        return false;
    const normalized_path path = normalize_path(request.raw_path);
    if (path.error != path_error::none || is_hidden_path(path.relative))
        return false;
    if (fallback_for_extensions)
        return true;
    const std::size_t slash = path.relative.rfind('/');
    const std::string_view last = slash == std::string::npos
                                      ? std::string_view(path.relative)
                                      : std::string_view(path.relative).substr(slash + 1);
    return last.find('.') == std::string_view::npos;
}

http::response static_handler::impl::serve_fallback(const request_info& request) const {
    file_lookup found = cache->open(root, *fallback);
    if (!found.entry || found.entry->directory) {
        // The loader warned when the file was missing; a missing fallback is the 404 the
        // request had, and a failing disk says so once per request as any other open.
        return found.entry ? error(404) : open_failed(*fallback, found.error);
    }
    return serve_file(request, *found.entry, *fallback);
}

http::response static_handler::impl::list_directory(const request_info& request,
                                                    const std::string& relative) const {
    listing l;
    if (const int err = read_listing(root, relative, l); err != 0)
        return open_failed(relative, err);
    const std::string url_path = relative.empty() ? std::string("/") : "/" + relative + "/";
    const bool json = wants_json_listing(request.accept);
    http::response r;
    r.status = 200;
    r.set_header("Content-Type", json ? "application/json" : "text/html; charset=utf-8");
    // The page changes whenever the directory does, and carries no validator of its own.
    r.set_header("Cache-Control", "no-cache");
    r.set_header("Vary", "Accept");
    http::body_piece body;
    body.bytes = json ? listing_json(url_path, l) : listing_html(url_path, l);
    if (request.head)
        r.set_header("Content-Length", std::to_string(body.bytes.size()));
    else
        r.body.push_back(std::move(body));
    return r;
}

http::response static_handler::impl::handle(const request_info& request) const {
    normalized_path path = normalize_path(request.raw_path);
    if (path.error != path_error::none)
        return error(400);
    if (is_hidden_path(path.relative))
        return error(404);
    if (root.error() != 0)
        return error(404);

    file_lookup found = cache->open(root, path.relative);
    if (!found.entry)
        return open_failed(path.relative, found.error);

    if (!found.entry->directory) {
        // "/file.html/" names a directory that is not there (nginx: 404 as well).
        if (path.trailing_slash)
            return error(404);
        return serve_file(request, *found.entry, path.relative);
    }

    if (!path.trailing_slash) {
        http::response r = error(301);
        // A raw path of "//host/dir" would make "//host/dir/" a protocol-relative redirect to
        // another host: collapse the leading slashes.
        std::string_view raw = request.raw_path;
        while (raw.size() > 1 && raw[1] == '/')
            raw.remove_prefix(1);
        std::string location(raw);
        location.push_back('/');
        if (!request.query.empty()) {
            location.push_back('?');
            location += request.query;
        }
        r.set_header("Location", std::move(location));
        return r;
    }

    // Directory with a slash: the first index file that is a regular file; no listings.
    std::string candidate;
    for (const auto& index : index_files) {
        candidate = path.relative;
        if (!candidate.empty())
            candidate.push_back('/');
        candidate += index;
        file_lookup idx = cache->open(root, candidate);
        if (idx.entry && !idx.entry->directory)
            return serve_file(request, *idx.entry, candidate);
        // A missing index file means trying the next; a refused or unreadable one answers now,
        // or a failing disk would pass for a directory without an index.
        if (!idx.entry && status_for_open_error(idx.error) != 404)
            return open_failed(candidate, idx.error);
    }
    if (directory_listing)
        return list_directory(request, path.relative);
    return error(404);
}

// A root whose directory was removed (rm -rf, a deploy replacing it) answers 404 for everything:
// says so once, and reopens the configured path, so a directory recreated there is served
// without a reload. True when the root now holds a different directory worth asking again.
bool static_handler::impl::root_came_back() const {
    if (root.error() == 0 && !root.removed())
        return false;
    if (root.reopen() && !root.removed()) {
        spdlog::info("site {}: static_dir {} is back; serving it", site_name, root_path);
        said_removed = false;
        return true;
    }
    if (!said_removed)
        spdlog::error("site {}: static_dir {} was removed; answering 404 until it is back",
                      site_name, root_path);
    said_removed = true;
    return false;
}

http::response static_handler::impl::open_failed(std::string_view relative, int err) const {
    const unsigned status = status_for_open_error(err);
    // Absence and refusal are the client's business (the access log has them); a storage fault
    // (EIO, ESTALE, ...) is the operator's, and says which file on which root.
    if (is_storage_fault(err))
        spdlog::error("site {}: cannot open \"{}\" beneath static_dir {}: {}", site_name, relative,
                      root_path, std::strerror(err));
    return error(status);
}

// Which representation of a file answers: identity, a precompressed sibling or a body
// compressed on the fly. Negotiation runs over the site's codings in its order; a coding the
// client picks but this file cannot be sent in (no fresh sibling, too small or too large to
// compress, a Range or no-transform request) is dropped and the rest negotiated again, so the
// siblings opened are only those the client would take.
http::response static_handler::impl::serve_file(const request_info& request,
                                                const file_entry& entry,
                                                std::string_view name) const {
    const std::string_view type = mime_type_for(name);
    const cache_policy::choice cache = caching.choose(name);
    if (!compressible(compression, type, name))
        return serve_variant(request, variant::identity(entry), type, cache);

    auto choose = [&](bool allow_on_the_fly, variant& out) {
        std::vector<content::coding> candidates = compression.algorithms;
        for (;;) {
            const content::encoding_choice choice =
                content::negotiate(request.accept_encoding, candidates);
            if (!choice.acceptable)
                return false;
            if (choice.chosen == content::coding::identity) {
                out = variant::identity(entry);
                return true;
            }
            if (auto sibling = precompressed_sibling(entry, name, choice.chosen)) {
                out = {sibling.get(), nullptr, variant_etag(sibling->etag, choice.chosen),
                       choice.chosen, sibling, false};
                return true;
            }
            if (allow_on_the_fly && entry.size >= compression.min_size &&
                entry.size <= max_on_the_fly_size) {
                auto body = compressed->get(
                    compressed_key_for(entry, choice.chosen, compression.level), entry.size,
                    [&] { return compress_file(entry, choice.chosen, compression.level); });
                if (body) {
                    out = {&entry,        std::move(body), variant_etag(entry.etag, choice.chosen),
                           choice.chosen, nullptr,         false};
                    return true;
                }
            } else if (allow_on_the_fly && request.chunked_ok && entry.size > max_on_the_fly_size &&
                       entry.file) {
                // The same coder and level always give the same bytes, so the variant keeps
                // the cached variant's ETag scheme.
                out = {&entry,        nullptr, variant_etag(entry.etag, choice.chosen),
                       choice.chosen, nullptr, true};
                return true;
            }
            candidates.erase(std::find(candidates.begin(), candidates.end(), choice.chosen));
        }
    };
    // A Range is served from the identity file (on-the-fly bodies have no stable byte
    // offsets), unless the client refuses identity: then the whole compressed body, as a server
    // may always ignore Range.
    variant v;
    const bool ranged = !request.range.empty();
    bool ok = choose(!request.no_transform && !ranged, v);
    if (!ok && ranged && !request.no_transform)
        ok = choose(true, v);
    http::response r = ok ? serve_variant(request, v, type, cache) : error(406);
    r.set_header("Vary", "Accept-Encoding");
    return r;
}

// A fresh precompressed sibling of `entry` ("name.br" for br), or null: precompressed on, the
// sibling a regular file not older than the identity file (an edited file whose sibling was not
// rebuilt is served from the file itself, never stale).
std::shared_ptr<const file_entry>
static_handler::impl::precompressed_sibling(const file_entry& entry, std::string_view name,
                                            content::coding c) const {
    if (!compression.precompressed)
        return nullptr;
    std::string sibling_name(name);
    sibling_name += content::file_suffix(c);
    file_lookup found = cache->open(root, sibling_name);
    if (!found.entry || found.entry->directory)
        return nullptr;
    const auto& s = *found.entry;
    if (s.mtime_sec < entry.mtime_sec ||
        (s.mtime_sec == entry.mtime_sec && s.mtime_nsec < entry.mtime_nsec))
        return nullptr;
    return found.entry;
}

http::response static_handler::impl::serve_variant(const request_info& request, const variant& v,
                                                   std::string_view type,
                                                   cache_policy::choice cache) const {
    const file_entry& entry = *v.file;
    const bool encoded = v.encoding != content::coding::identity;
    // A validator turned off is neither sent nor compared with (conditional.hpp).
    const std::string_view etag = caching.etag() ? std::string_view(v.etag) : std::string_view();
    const std::optional<std::int64_t> modified =
        caching.last_modified() ? std::optional<std::int64_t>(entry.mtime_sec) : std::nullopt;
    const std::int64_t now = unix_now();
    // The same on 200, 206 and 304 (RFC 9111 §4.3.4: a 304 updates the stored response's
    // Cache-Control and Expires, so it must not differ from the 200's).
    auto validators = [&](http::response& r) {
        if (!etag.empty())
            r.set_header("ETag", v.etag);
        if (modified)
            r.set_header("Last-Modified", entry.last_modified);
        caching.apply(r, cache, now);
    };
    switch (evaluate_preconditions(request, etag, modified, now)) {
    case precondition::failed:
        return error(412);
    case precondition::not_modified: {
        http::response r;
        r.status = 304;
        validators(r);
        return r;
    }
    case precondition::proceed:
        break;
    }

    http::response r;
    range_result ranges;
    // A body compressed on the fly is sent whole: no Range, no Accept-Ranges (as nginx's gzip).
    const bool on_the_fly = v.compressed || v.streamed;
    if (!on_the_fly && !request.range.empty() && if_range_allows(request.if_range, etag, modified))
        ranges = parse_range(request.range, entry.size, max_ranges);

    if (ranges.outcome == range_outcome::unsatisfiable) {
        r = error(416);
        r.set_header("Content-Range", unsatisfied_content_range(entry.size));
        return r;
    }

    if (ranges.outcome == range_outcome::satisfiable && ranges.ranges.size() == 1) {
        const byte_range& only = ranges.ranges.front();
        r.status = 206;
        r.set_header("Content-Type", std::string(type));
        r.set_header("Content-Range", content_range(only, entry.size));
        r.body.push_back(slice(entry, only.first, only.length()));
    } else if (ranges.outcome == range_outcome::satisfiable) {
        const std::string boundary = make_boundary();
        r.status = 206;
        r.set_header("Content-Type", "multipart/byteranges; boundary=" + boundary);
        bool first = true;
        for (const byte_range& part : ranges.ranges) {
            http::body_piece header;
            header.bytes = multipart_part_header(boundary, type, part, entry.size, first);
            r.body.push_back(std::move(header));
            r.body.push_back(slice(entry, part.first, part.length()));
            first = false;
        }
        http::body_piece trailer;
        trailer.bytes = multipart_trailer(boundary);
        r.body.push_back(std::move(trailer));
    } else {
        r.status = 200;
        r.set_header("Content-Type", std::string(type));
        if (v.compressed) {
            http::body_piece piece;
            piece.shared = v.compressed;
            r.body.push_back(std::move(piece));
        } else if (v.streamed) {
            if (!request.head) { // a HEAD needs no coder: its body is never made
                http::body_piece piece = slice(entry, 0, entry.size);
                piece.encoder = content::make_stream_encoder(v.encoding, compression.level);
                if (!piece.encoder) // the coder's library could not allocate its state
                    return error(503);
                r.body.push_back(std::move(piece));
            }
            r.streamed = true;
            r.set_header("Transfer-Encoding", "chunked");
        } else if (entry.size > 0) {
            r.body.push_back(slice(entry, 0, entry.size));
        }
    }
    if (encoded)
        r.set_header("Content-Encoding", std::string(content::token(v.encoding)));
    validators(r);
    if (max_ranges > 0 && !on_the_fly)
        r.set_header("Accept-Ranges", "bytes");

    if (request.head) {
        if (!r.streamed) // a streamed GET has no length either: HEAD says the same
            r.set_header("Content-Length", std::to_string(r.content_length()));
        r.body.clear();
    }
    return r;
}

} // namespace bws::files
