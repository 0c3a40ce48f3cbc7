// Response-head serialisation: status line, Date, Server, the handler's headers merged with
// the site's configured ones (the site's win), Content-Length and Connection; and the error
// page a bodiless error response gets.
#pragma once

#include "http/response.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace bws::http {

// What the head needs besides the response itself. Lines end in "\r\n".
struct head_context {
    std::string_view date_line;   // "Date: ...\r\n"
    std::string_view server_line; // "Server: ...\r\n" or empty
    std::string_view site_block;  // the site's configured headers, "Name: value\r\n" each
    const std::vector<std::string>* site_names = nullptr; // their names, lower-case
    bool keep_alive = true;
};

// Replaces `out` with the head of `r`. Handler headers named like a site header are dropped
// (the site's value is sent instead); Content-Length is added unless the handler set one or
// the status has no body (204, 304). Returns the number of body bytes to send: 0 for HEAD
// requests and bodiless statuses, otherwise r.content_length().
std::uint64_t serialize_head(std::string& out, const response& r, const head_context& context,
                             bool head_request);

// A response that asked for an error page and has no body gets the site's page for its status
// (from `pages`) or the built-in one, as text/html.
void apply_error_page(response& r, const std::map<unsigned, std::string>& pages);

} // namespace bws::http
