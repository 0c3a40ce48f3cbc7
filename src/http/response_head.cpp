// Response-head serialisation (see response_head.hpp). Appends into a string the session
// reuses, so the small-response path does not allocate once the string has grown.
#include "http/response_head.hpp"

#include "http/header_text.hpp"
#include "http/status.hpp"

#include <fmt/format.h>

#include <iterator>

namespace bws::http {

namespace {

bool named_by_site(std::string_view name, const std::vector<std::string>* site_names) {
    if (site_names == nullptr)
        return false;
    for (const auto& own : *site_names)
        if (iequals(name, own))
            return true;
    return false;
}

} // namespace

std::uint64_t serialize_head(std::string& out, const response& r, const head_context& context,
                             bool head_request) {
    out.clear();
    auto it = std::back_inserter(out);
    fmt::format_to(it, "HTTP/1.1 {} {}\r\n", r.status, reason_phrase(r.status));
    out += context.date_line;
    out += context.server_line;
    bool has_length = false;
    for (const auto& [name, value] : r.headers) {
        if (iequals(name, "content-length"))
            has_length = true;
        if (named_by_site(name, context.site_names))
            continue;
        out += name;
        out += ": ";
        out += value;
        out += "\r\n";
    }
    out += context.site_block;
    const bool bodiless_status = r.status == 304 || r.status == 204;
    const std::uint64_t length = r.content_length();
    if (!has_length && !bodiless_status && !r.streamed)
        fmt::format_to(it, "Content-Length: {}\r\n", length);
    if (r.upgrade)
        out += "Connection: Upgrade\r\n\r\n";
    else
        out += context.keep_alive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";
    return head_request || bodiless_status ? 0 : length;
}

void apply_error_page(response& r, const std::map<unsigned, std::string>& pages) {
    if (!r.use_error_page || !r.body.empty())
        return;
    auto page = pages.find(r.status);
    body_piece piece;
    piece.bytes = page != pages.end() ? page->second : builtin_error_page(r.status);
    r.body.push_back(std::move(piece));
    r.set_header("Content-Type", "text/html; charset=utf-8");
}

} // namespace bws::http
