// Proxy route matching and target rewriting (see route_match.hpp).
#include "proxy/route_match.hpp"

#include <vector>

namespace bws::proxy {

namespace {

bool iequals_dot(std::string_view s, std::string_view dots) {
    // s is one segment; dots is "." or ".."; "%2e" (any case) counts as a dot.
    std::size_t i = 0;
    for (std::size_t d = 0; d < dots.size(); ++d) {
        if (i < s.size() && s[i] == '.') {
            ++i;
        } else if (i + 2 < s.size() && s[i] == '%' && s[i + 1] == '2' &&
                   (s[i + 2] == 'e' || s[i + 2] == 'E')) {
            i += 3;
        } else {
            return false;
        }
    }
    return i == s.size();
}

} // namespace

std::optional<std::string> remove_dot_segments(std::string_view raw_path) {
    if (raw_path.find('.') == std::string_view::npos &&
        raw_path.find('%') == std::string_view::npos)
        return std::string(raw_path); // the common case: nothing to look at
    std::vector<std::string_view> kept;
    bool trailing = false; // the path ends in a directory form ("/a/", "/a/.", "/a/..")
    std::size_t pos = 1;   // raw_path starts with '/'
    while (pos <= raw_path.size()) {
        const auto end = std::min(raw_path.find('/', pos), raw_path.size());
        const auto segment = raw_path.substr(pos, end - pos);
        const bool last = end == raw_path.size();
        if (iequals_dot(segment, ".")) {
            trailing = last;
        } else if (iequals_dot(segment, "..")) {
            if (kept.empty())
                return std::nullopt;
            kept.pop_back();
            trailing = last;
        } else {
            kept.push_back(segment);
            trailing = false;
        }
        pos = end + 1;
    }
    std::string out;
    for (const auto& segment : kept) {
        out += '/';
        out += segment;
    }
    if (out.empty() || trailing)
        out += '/';
    return out;
}

const config::proxy_route* match_route(const config::site_proxy& proxy, std::string_view path) {
    for (const auto& route : proxy.routes) { // longest first
        const std::string_view prefix = route.path;
        if (path.size() < prefix.size() || path.compare(0, prefix.size(), prefix) != 0)
            continue;
        if (prefix == "/" || path.size() == prefix.size() || path[prefix.size()] == '/')
            return &route;
    }
    return nullptr;
}

std::string upstream_target(const config::proxy_route& route, std::string_view path,
                            std::string_view query, bool has_query) {
    std::string target;
    if (route.strip_prefix || route.rewrite_target) {
        std::string_view rest = route.path == "/" ? path : path.substr(route.path.size());
        const std::string_view replacement =
            route.rewrite_target ? std::string_view(*route.rewrite_target) : std::string_view();
        if (replacement == "/" || replacement.empty()) {
            target = rest.empty() ? "/" : std::string(rest);
            if (target.front() != '/')
                target.insert(target.begin(), '/');
        } else {
            target = std::string(replacement);
            target += rest;
        }
    } else {
        target = std::string(path);
    }
    if (has_query) {
        target += '?';
        target += query;
    }
    return target;
}

} // namespace bws::proxy
