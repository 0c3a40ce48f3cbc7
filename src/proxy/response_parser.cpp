// Upstream response parsing (see response_parser.hpp).
#include "proxy/response_parser.hpp"

#include <boost/beast/http/error.hpp>

#include <algorithm>

namespace bws::proxy {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

response_parser::response_parser(bool head_request) {
    header_limit(max_head_bytes);
    body_limit(boost::none); // any size: the body is streamed, never held
    if (head_request)
        skip(true);
}

void response_parser::on_request_impl(bhttp::verb, beast::string_view, beast::string_view, int,
                                      beast::error_code& ec) {
    ec = bhttp::error::bad_method; // never called for a response parser
}

void response_parser::on_response_impl(int code, beast::string_view, int version,
                                       beast::error_code& ec) {
    if (version / 10 != 1 || code < 100 || code > 599) {
        ec = bhttp::error::bad_status;
        return;
    }
    status_ = static_cast<unsigned>(code);
    version_ = version;
}

void response_parser::on_field_impl(bhttp::field, beast::string_view name, beast::string_view value,
                                    beast::error_code& ec) {
    if (fields_.size() >= max_fields) {
        ec = bhttp::error::header_limit;
        return;
    }
    fields_.emplace_back(std::string(name.data(), name.size()),
                         std::string(value.data(), value.size()));
}

void response_parser::on_header_impl(beast::error_code&) {}

void response_parser::on_body_init_impl(const boost::optional<std::uint64_t>&, beast::error_code&) {
}

std::size_t response_parser::take(beast::string_view body, beast::error_code& ec) {
    if (sink_ == nullptr) {
        ec = bhttp::error::need_buffer;
        return 0;
    }
    const std::size_t room = capacity_ > sink_->size() ? capacity_ - sink_->size() : 0;
    const std::size_t n = std::min(room, body.size());
    sink_->append(body.data(), n);
    if (n < body.size())
        ec = bhttp::error::need_buffer;
    return n;
}

std::size_t response_parser::on_body_impl(beast::string_view body, beast::error_code& ec) {
    return take(body, ec);
}

void response_parser::on_chunk_header_impl(std::uint64_t, beast::string_view, beast::error_code&) {}

std::size_t response_parser::on_chunk_body_impl(std::uint64_t, beast::string_view body,
                                                beast::error_code& ec) {
    return take(body, ec);
}

void response_parser::on_finish_impl(beast::error_code&) {}

} // namespace bws::proxy
