// Parser of an upstream's response on top of Beast's basic_parser: keeps the status and every
// header field in order (Set-Cookie stays one field per line), bounds the head, and hands
// the decoded body (de-chunked) to a caller-owned buffer with backpressure: when the buffer
// is full, put() stops with need_buffer and the rest stays unconsumed.
#pragma once

#include "proxy/forward_headers.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/basic_parser.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace bws::proxy {

class response_parser final : public boost::beast::http::basic_parser<false> {
public:
    // The longest response head accepted (status line and headers), and the most fields.
    static constexpr std::uint32_t max_head_bytes = 64 * 1024;
    static constexpr std::size_t max_fields = 256;

    // `head_request`: the response has no body whatever its headers say.
    explicit response_parser(bool head_request);

    unsigned status() const { return status_; }
    int version() const { return version_; }
    const header_list& fields() const { return fields_; }
    // The body's length when the upstream sent Content-Length (nullopt: chunked or until
    // close).
    std::optional<std::uint64_t> length() const {
        const auto n = content_length();
        return n ? std::optional<std::uint64_t>(*n) : std::nullopt;
    }

    // Body bytes go to `sink` up to `capacity` bytes in all; the caller empties it.
    void set_sink(std::string* sink, std::size_t capacity) {
        sink_ = sink;
        capacity_ = capacity;
    }

private:
    void on_request_impl(boost::beast::http::verb, boost::beast::string_view,
                         boost::beast::string_view, int, boost::beast::error_code& ec) override;
    void on_response_impl(int code, boost::beast::string_view reason, int version,
                          boost::beast::error_code& ec) override;
    void on_field_impl(boost::beast::http::field name, boost::beast::string_view name_string,
                       boost::beast::string_view value, boost::beast::error_code& ec) override;
    void on_header_impl(boost::beast::error_code& ec) override;
    void on_body_init_impl(const boost::optional<std::uint64_t>& content_length,
                           boost::beast::error_code& ec) override;
    std::size_t on_body_impl(boost::beast::string_view body, boost::beast::error_code& ec) override;
    void on_chunk_header_impl(std::uint64_t size, boost::beast::string_view extensions,
                              boost::beast::error_code& ec) override;
    std::size_t on_chunk_body_impl(std::uint64_t remain, boost::beast::string_view body,
                                   boost::beast::error_code& ec) override;
    void on_finish_impl(boost::beast::error_code& ec) override;

    std::size_t take(boost::beast::string_view body, boost::beast::error_code& ec);

    unsigned status_ = 0;
    int version_ = 11;
    header_list fields_;
    std::string* sink_ = nullptr;
    std::size_t capacity_ = 0;
};

} // namespace bws::proxy
