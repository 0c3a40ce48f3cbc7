// Request-head parsing rules (see request_parser.hpp); the status choices follow what nginx
// answers for the same malformed requests.
#include "http/request_parser.hpp"

#include "http/header_text.hpp"

#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>

#include <algorithm>

namespace bws::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

namespace {

bool is_decimal_digit(char c) {
    return c >= '0' && c <= '9';
}

// A line of the head that starts with a space or tab: obs-fold (a header continued on the next
// line) or whitespace before the first field. RFC 9112 §5.2 lets a server reject it with 400;
// a proxy must not pass it on, and nothing legitimate sends it. Stops at the blank line.
bool has_folded_line(std::string_view bytes) {
    for (auto nl = bytes.find('\n'); nl != std::string_view::npos && nl + 1 < bytes.size();
         nl = bytes.find('\n', nl + 1)) {
        const char next = bytes[nl + 1];
        if (next == ' ' || next == '\t')
            return true;
        if (next == '\r' || next == '\n')
            return false; // the end of the head
    }
    return false;
}

// A field sent on several lines is one comma-separated list (RFC 9110 §5.3).
void append_list(std::string& to, std::string_view value) {
    if (!to.empty())
        to += ", ";
    to.append(value);
}

} // namespace

request_parser::request_parser(const config::limits& limits, bool keep_fields)
    : limits_(limits), keep_fields_(keep_fields) {
    header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
    body_limit(limits.max_body_bytes);
}

std::size_t request_parser::put(boost::asio::const_buffer buffer, beast::error_code& ec) {
    if (is_header_done())
        return basic_parser::put(buffer, ec);
    const std::string_view bytes(static_cast<const char*>(buffer.data()), buffer.size());
    // Beast consumes whole lines of the head, so once it has taken some, the next byte starts
    // a line: a space or tab there is a folded line (or whitespace before the first field).
    if (head_bytes_ > 0 && !bytes.empty() && (bytes.front() == ' ' || bytes.front() == '\t')) {
        reject(400, ec);
        return 0;
    }
    const std::size_t used = basic_parser::put(buffer, ec);
    // Within the lines Beast took (and the byte after them), whatever Beast made of them: a
    // fold there is the verdict, so a head is judged the same however it is split into reads
    // (a later line's error would otherwise win when the head came in one piece).
    // The byte after them only while the head goes on: once it is done, that byte is the
    // body's, whatever it is (a fuzz finding: a body starting with a space after a head split
    // before its last line feed).
    const std::size_t lookahead = is_header_done() ? 0 : 1;
    if (has_folded_line(bytes.substr(0, std::min(bytes.size(), used + lookahead)))) {
        head_bytes_ += used;
        reject_status_ = 400;
        ec = bhttp::error::bad_field;
        return used;
    }
    head_bytes_ += used;
    const std::size_t limit = limits_.max_header_bytes;
    if (!ec && is_header_done()) {
        if (head_bytes_ > limit)
            ec = bhttp::error::header_limit;
    } else if (ec == bhttp::error::need_more && head_bytes_ + (buffer.size() - used) >= limit) {
        // What is buffered cannot end the head within the limit any more (Beast's own rule,
        // over the whole head).
        ec = bhttp::error::header_limit;
    }
    return used;
}

void request_parser::reject(unsigned status, beast::error_code& ec) {
    if (reject_status_ == 0)
        reject_status_ = status;
    ec = bhttp::error::bad_field;
}

void request_parser::on_request_impl(bhttp::verb method, beast::string_view method_str,
                                     beast::string_view target, int version,
                                     beast::error_code& ec) {
    head_.method = method;
    head_.method_string.assign(method_str.data(), method_str.size());
    head_.target.assign(target.data(), target.size());
    head_.version = version;
    request_line_seen_ = true;
    if (version / 10 != 1)
        return reject(505, ec);
    if (target.size() > limits_.max_uri_bytes)
        return reject(414, ec);
}

void request_parser::on_response_impl(int, beast::string_view, int, beast::error_code& ec) {
    ec = bhttp::error::bad_version; // never called for a request parser
}

void request_parser::on_field_impl(bhttp::field name, beast::string_view name_string,
                                   beast::string_view value, beast::error_code& ec) {
    if (++field_count_ > limits_.max_header_count)
        return reject(431, ec);
    std::string_view v(value.data(), value.size());
    if (keep_fields_)
        head_.fields.emplace_back(std::string(name_string.data(), name_string.size()),
                                  std::string(v));
    switch (name) {
    case bhttp::field::host:
        if (head_.host_seen)
            return reject(400, ec); // duplicate Host
        head_.host_seen = true;
        head_.host.assign(v);
        break;
    case bhttp::field::connection:
        for_each_list_item(v, [&](std::string_view token) {
            if (iequals(token, "close"))
                head_.connection_close = true;
            else if (iequals(token, "keep-alive"))
                head_.connection_keep_alive = true;
        });
        break;
    case bhttp::field::transfer_encoding: {
        ++transfer_encoding_count_;
        int codings = 0;
        bool chunked = false;
        for_each_list_item(v, [&](std::string_view token) {
            ++codings;
            chunked = iequals(token, "chunked");
        });
        transfer_encoding_chunked_only_ = codings == 1 && chunked;
        if (transfer_encoding_count_ > 1)
            return reject(400, ec);
        break;
    }
    case bhttp::field::content_length:
        content_length_seen_ = true;
        break;
    case bhttp::field::if_none_match:
        head_.if_none_match.assign(v);
        break;
    case bhttp::field::if_modified_since:
        head_.if_modified_since.assign(v);
        break;
    case bhttp::field::if_match:
        head_.if_match.assign(v);
        break;
    case bhttp::field::if_unmodified_since:
        head_.if_unmodified_since.assign(v);
        break;
    case bhttp::field::range:
        head_.range.assign(v);
        break;
    case bhttp::field::if_range:
        head_.if_range.assign(v);
        break;
    case bhttp::field::accept:
        append_list(head_.accept, v);
        break;
    case bhttp::field::origin:
        head_.origin.assign(v);
        break;
    case bhttp::field::access_control_request_method:
        head_.access_control_request_method.assign(v);
        break;
    case bhttp::field::access_control_request_headers:
        append_list(head_.access_control_request_headers, v);
        break;
    case bhttp::field::accept_encoding:
        if (head_.accept_encoding)
            *head_.accept_encoding += ", ";
        else
            head_.accept_encoding.emplace();
        head_.accept_encoding->append(v.data(), v.size());
        break;
    case bhttp::field::cache_control:
        for_each_list_item(v, [&](std::string_view token) {
            if (iequals(token, "no-transform"))
                head_.no_transform = true;
        });
        break;
    case bhttp::field::user_agent:
        head_.user_agent.assign(v);
        break;
    case bhttp::field::referer:
        head_.referer.assign(v);
        break;
    case bhttp::field::expect:
        head_.expect_continue = iequals(trim_ows(v), "100-continue");
        break;
    case bhttp::field::authorization:
        // Repeated fields are joined, which no credentials parse as: 401, never a choice.
        append_list(head_.authorization, v);
        break;
    case bhttp::field::unknown:
        // Beast has no code for X-Forwarded-For (the client address behind trusted proxies).
        if (name_string.size() == 15 &&
            iequals(std::string_view(name_string.data(), name_string.size()), "x-forwarded-for"))
            append_list(head_.x_forwarded_for, v);
        break;
    default:
        break;
    }
}

void request_parser::on_header_impl(beast::error_code& ec) {
    if (transfer_encoding_count_ > 0) {
        // RFC 9112 §6.1: TE on HTTP/1.0 and TE together with Content-Length are framing
        // attacks (request smuggling); codings other than plain "chunked" are not supported.
        if (head_.version == 10 || content_length_seen_)
            return reject(400, ec);
        if (!transfer_encoding_chunked_only_)
            return reject(501, ec);
    }
}

void request_parser::on_body_init_impl(const boost::optional<std::uint64_t>& content_length,
                                       beast::error_code&) {
    head_.has_body = !content_length || *content_length > 0;
    if (content_length)
        head_.content_length = *content_length;
}

std::size_t request_parser::take_body(beast::string_view body, beast::error_code& ec) {
    if (sink_ == nullptr)
        return body.size(); // discarded: only the proxy consumes request bodies
    const std::size_t room = sink_capacity_ > sink_->size() ? sink_capacity_ - sink_->size() : 0;
    const std::size_t n = std::min(room, body.size());
    sink_->append(body.data(), n);
    if (n < body.size())
        ec = bhttp::error::need_buffer;
    return n;
}

std::size_t request_parser::on_body_impl(beast::string_view body, beast::error_code& ec) {
    return take_body(body, ec);
}

void request_parser::on_chunk_header_impl(std::uint64_t, beast::string_view, beast::error_code&) {}

std::size_t request_parser::on_chunk_body_impl(std::uint64_t, beast::string_view body,
                                               beast::error_code& ec) {
    return take_body(body, ec);
}

void request_parser::on_finish_impl(beast::error_code&) {}

unsigned request_parser::status_for(beast::error_code ec, std::string_view buffered) const {
    if (reject_status_ != 0)
        return reject_status_;
    if (ec == bhttp::error::header_limit) {
        // Beast consumes the request line as soon as it is complete; if it never was, the
        // line itself is what is too long.
        if (request_line_seen_)
            return 431;
        auto line_end = buffered.find("\r\n");
        if (line_end == std::string_view::npos || line_end > limits_.max_uri_bytes)
            return 414;
        return 431;
    }
    if (ec == bhttp::error::body_limit)
        return 413;
    if (ec == bhttp::error::bad_version) {
        // A well-formed request line whose version Beast refuses ("HTTP/3.0" style) is a
        // version problem; anything else ("GET / / HTTP/1.1") is a bad request. Beast refuses
        // an out-of-range version as soon as it has its eight bytes, before it sees what
        // follows, so only those bytes decide: what comes after them may not be read yet.
        auto first = buffered.find(' ');
        auto second = first == std::string_view::npos ? first : buffered.find(' ', first + 1);
        if (first != std::string_view::npos && first > 0 && second != std::string_view::npos &&
            second > first + 1) {
            auto version = buffered.substr(second + 1, 8);
            if (version.size() == 8 && version.rfind("HTTP/", 0) == 0 &&
                is_decimal_digit(version[5]) && version[6] == '.' && is_decimal_digit(version[7]) &&
                version != "HTTP/1.0" && version != "HTTP/1.1")
                return 505;
        }
    }
    return 400;
}

} // namespace bws::http
