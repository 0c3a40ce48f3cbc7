// Shared pieces of the fuzz targets: an invariant check that aborts (the fuzzer reports it as
// a crash with the input), and the session's parse loop without a socket.
#pragma once

#include "config/model.hpp"
#include "http/request_parser.hpp"

#include <boost/beast/http/error.hpp>

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

namespace bws::fuzz {

// Unlike assert(), stays on in every build type, and says which invariant broke.
#define BWS_FUZZ_CHECK(cond)                                                                       \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);      \
            std::abort();                                                                          \
        }                                                                                          \
    } while (false)

// What feeding a request to the parser came to, the way session::parse() sees it.
struct parse_outcome {
    unsigned error_status = 0; // status_for() of a parse error; 0 when none
    bool complete = false;     // a whole request was parsed (what handle_request() gets)
    bool body_refused = false; // headers done, a body follows, not GET/HEAD: answered at once
};

inline bool is_parse_error_status(unsigned s) {
    return s == 400 || s == 413 || s == 414 || s == 431 || s == 501 || s == 505;
}

// Feeds `pieces` one after another into a buffer and runs session::parse()'s loop on it after
// each, so a request split across reads is parsed as the session would parse it.
template <class... Pieces>
parse_outcome parse_like_session(http::request_parser& parser, std::string& buffer,
                                 Pieces... pieces) {
    namespace bhttp = boost::beast::http;
    parse_outcome out;
    auto run = [&](std::string_view piece) {
        buffer.append(piece);
        while (!buffer.empty()) {
            boost::beast::error_code ec;
            auto used = parser.put(boost::asio::const_buffer(buffer.data(), buffer.size()), ec);
            BWS_FUZZ_CHECK(used <= buffer.size());
            buffer.erase(0, used);
            if (ec == bhttp::error::need_more || (!ec && used == 0 && !parser.is_done()))
                return false;
            if (ec) {
                out.error_status = parser.status_for(ec, buffer);
                BWS_FUZZ_CHECK(is_parse_error_status(out.error_status));
                return true;
            }
            if (parser.is_header_done() && !parser.is_done()) {
                auto method = parser.head().method;
                if (method != bhttp::verb::get && method != bhttp::verb::head) {
                    out.body_refused = true;
                    return true;
                }
                continue;
            }
            if (parser.is_done()) {
                out.complete = true;
                return true;
            }
        }
        return false;
    };
    (void)(run(pieces) || ...);
    if (parser.reject_status() != 0)
        BWS_FUZZ_CHECK(is_parse_error_status(parser.reject_status()));
    return out;
}

} // namespace bws::fuzz
