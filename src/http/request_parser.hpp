// Request-head parser on top of Beast's basic_parser: keeps only the fields bws uses (no
// per-request field container), counts headers, discards bodies within a limit, and turns
// framing problems into the status the client should get.
#pragma once

#include "config/model.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/verb.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace bws::http {

struct request_head {
    boost::beast::http::verb method = boost::beast::http::verb::unknown;
    std::string method_string;
    std::string target;
    int version = 11; // 10 or 11
    std::string host;
    bool host_seen = false;
    bool connection_close = false;
    bool connection_keep_alive = false;
    std::string if_none_match;
    std::string if_modified_since;
    std::string if_match;
    std::string if_unmodified_since;
    std::string range;
    std::string if_range;
    std::string accept; // repeated fields joined with ", "
    std::string origin; // CORS: Origin and the preflight's two headers
    std::string access_control_request_method;
    std::string access_control_request_headers; // repeated fields joined with ", "
    // Accept-Encoding, several fields joined with ", "; nullopt when the request has none.
    std::optional<std::string> accept_encoding;
    bool no_transform = false;   // Cache-Control: no-transform (RFC 9111 §5.2.1.6)
    std::string authorization;   // repeated fields joined with ", "
    std::string x_forwarded_for; // repeated fields joined with ", "
    std::string user_agent;
    std::string referer;
    bool has_body = false;
    std::optional<std::uint64_t> content_length; // when the body has one
    bool expect_continue = false;                // Expect: 100-continue
    // Every field in order, only when the parser was asked to keep them (sites that proxy).
    std::vector<std::pair<std::string, std::string>> fields;
};

class request_parser final : public boost::beast::http::basic_parser<true> {
public:
    // Keeps a reference to `limits` (the config snapshot's): it must outlive the parser.
    // `keep_fields`: request_head::fields gets every header field (for the proxy).
    explicit request_parser(const config::limits& limits, bool keep_fields = false);

    // From now on the body's bytes are appended to `sink` (up to `capacity` bytes in it)
    // instead of being discarded; put() stops with need_buffer when the sink is full.
    void set_body_sink(std::string* sink, std::size_t capacity) {
        sink_ = sink;
        sink_capacity_ = capacity;
    }

    // basic_parser::put, with max_header_bytes counted over the whole head. Beast applies its
    // header_limit only to the bytes a call has not consumed, and when a head arrives in
    // several reads it consumes the complete lines of the earlier ones, so on its own a head of
    // many times the limit would pass in pieces.
    std::size_t put(boost::asio::const_buffer buffer, boost::beast::error_code& ec);

    request_head& head() { return head_; }
    // The status to answer with when parsing failed or the head is unacceptable; 0 if none.
    unsigned reject_status() const { return reject_status_; }
    // Maps a parse error (after put() failed) to a status, using the buffered bytes to tell
    // an oversized request line (414) from oversized headers (431).
    unsigned status_for(boost::beast::error_code ec, std::string_view buffered) const;

private:
    void on_request_impl(boost::beast::http::verb method, boost::beast::string_view method_str,
                         boost::beast::string_view target, int version,
                         boost::beast::error_code& ec) override;
    void on_response_impl(int, boost::beast::string_view, int,
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

    void reject(unsigned status, boost::beast::error_code& ec);
    std::size_t take_body(boost::beast::string_view body, boost::beast::error_code& ec);

    const config::limits& limits_;
    request_head head_;
    unsigned reject_status_ = 0;
    std::size_t field_count_ = 0;
    std::size_t head_bytes_ = 0; // consumed while the head was being parsed
    int transfer_encoding_count_ = 0;
    bool transfer_encoding_chunked_only_ = false;
    bool content_length_seen_ = false;
    bool request_line_seen_ = false;
    bool keep_fields_ = false;
    std::string* sink_ = nullptr;
    std::size_t sink_capacity_ = 0;
};

} // namespace bws::http
