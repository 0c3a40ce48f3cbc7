// CORS in the session (see http/cors.hpp for the rules): preflights answered by bws, and the
// Access-Control-* headers of every other response of a site with [sites.access_control].
#include "http/cors.hpp"
#include "http/header_text.hpp"
#include "http/server.hpp"
#include "http/session.hpp"

#include <algorithm>

namespace bws::http {

namespace {

cors_request cors_view(const request_head& head) {
    cors_request c;
    c.origin = head.origin;
    c.options = head.method == boost::beast::http::verb::options;
    c.request_method = head.access_control_request_method;
    c.request_headers = head.access_control_request_headers;
    return c;
}

} // namespace

template <class Stream>
bool session<Stream>::answer_cors_preflight(const request_head& head) {
    const auto& policy = server_.site(site_).config->cors;
    if (!policy || head.method != boost::beast::http::verb::options || head.origin.empty() ||
        head.access_control_request_method.empty())
        return false;
    if (!parser_->is_done())
        keep_alive_ = false; // a preflight has no body; one that sends one is not read
    response r;
    r.status = 204;
    respond(std::move(r), site_, false); // respond() adds the preflight's headers
    return true;
}

template <class Stream>
void session<Stream>::add_cors_headers(response& r, std::size_t site_index) {
    if (!parser_ || !parser_->is_header_done())
        return; // a request too malformed to have headers has no Origin either
    const auto& head = parser_->head();
    cors_answer answer = evaluate_cors(*server_.site(site_index).cors, cors_view(head));
    for (auto& [name, value] : answer.headers) {
        if (iequals(name, "vary")) {
            // Merged into a Vary the response has (Accept-Encoding, an upstream's).
            bool merged = false;
            for (auto& [have, list] : r.headers) {
                if (iequals(have, "vary")) {
                    if (list != "*")
                        list += ", " + value;
                    merged = true;
                    break;
                }
            }
            if (!merged)
                r.headers.emplace_back(std::move(name), std::move(value));
            continue;
        }
        // An upstream that states its own CORS keeps it: two Allow-Origin headers would make
        // the browser refuse the response.
        if (iequals(name, "access-control-allow-origin") &&
            std::any_of(r.headers.begin(), r.headers.end(), [](const auto& h) {
                return iequals(h.first, "access-control-allow-origin");
            }))
            return;
        r.headers.emplace_back(std::move(name), std::move(value));
    }
}

#define BWS_SESSION_CORS(Stream)                                                                   \
    template bool session<Stream>::answer_cors_preflight(const request_head&);                     \
    template void session<Stream>::add_cors_headers(response&, std::size_t);
BWS_SESSION_CORS(plain_stream)
BWS_SESSION_CORS(tls_stream)
#undef BWS_SESSION_CORS

} // namespace bws::http
