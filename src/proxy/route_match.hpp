// Which proxy route takes a request path, and the path the upstream gets: pure functions over
// the site's [sites.proxy] routes.
#pragma once

#include "config/model.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace bws::proxy {

// Removes "." and ".." segments from a raw (still percent-encoded) path, treating "%2e" as a
// dot, so "/api/../admin" is matched, and forwarded, as "/admin", as nginx does. Nothing else
// changes: the upstream gets the client's encoding. nullopt when a ".." climbs above the root.
std::optional<std::string> remove_dot_segments(std::string_view raw_path);

// The route whose path is a prefix of `path` on a segment boundary ("/api" takes "/api" and
// "/api/x", never "/apix"); the longest wins. Null when none does.
const config::proxy_route* match_route(const config::site_proxy& proxy, std::string_view path);

// The upstream's request target: the path with the route's prefix stripped or replaced, and
// the query as the client sent it (`has_query`: the target had a '?').
std::string upstream_target(const config::proxy_route& route, std::string_view path,
                            std::string_view query, bool has_query);

} // namespace bws::proxy
