// Fuzz target: the proxy's upstream response parser, fed the way the session feeds it (the
// fuzzer chooses the read sizes, the sink capacity and whether the request was HEAD). Checks:
// the body the sink received is never more than the bytes fed, a Content-Length body that
// completed has exactly that length, a HEAD or 1xx/204/304 response has no body, fields stay
// within the limits, and an error is final (no body bytes after it).
#include "fuzz_check.hpp"

#include "proxy/response_parser.hpp"

#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace bhttp = boost::beast::http;
    FuzzedDataProvider in(data, size);
    const bool head_request = in.ConsumeBool();
    const std::size_t capacity = in.ConsumeIntegralInRange<std::size_t>(1, 70000);
    const std::size_t step = in.ConsumeIntegralInRange<std::size_t>(1, 4096);
    const std::string text = in.ConsumeRemainingBytesAsString();

    bws::proxy::response_parser parser(head_request);
    std::string sink;
    std::string body;
    parser.set_sink(&sink, capacity);
    std::string pending;
    std::size_t pos = 0;
    boost::system::error_code ec;
    while (!parser.is_done()) {
        if (pos < text.size() && (pending.empty() || ec == bhttp::error::need_more)) {
            const auto piece = text.substr(pos, step);
            pending += piece;
            pos += piece.size();
        } else if (pending.empty() || ec == bhttp::error::need_more) {
            break; // the upstream closed
        }
        ec = {};
        const auto used = parser.put(boost::asio::buffer(pending), ec);
        BWS_FUZZ_CHECK(used <= pending.size());
        BWS_FUZZ_CHECK(sink.size() <= capacity);
        pending.erase(0, used);
        body += sink;
        sink.clear();
        if (ec && ec != bhttp::error::need_more && ec != bhttp::error::need_buffer)
            break;
        if (ec == bhttp::error::need_buffer)
            BWS_FUZZ_CHECK(used > 0 || parser.is_header_done());
    }
    if (!parser.is_done() && parser.is_header_done() && parser.need_eof() && !ec) {
        boost::system::error_code eof;
        parser.put_eof(eof);
    }
    BWS_FUZZ_CHECK(body.size() <= text.size());
    BWS_FUZZ_CHECK(parser.fields().size() <= bws::proxy::response_parser::max_fields);
    if (parser.is_header_done()) {
        const unsigned status = parser.status();
        BWS_FUZZ_CHECK(status >= 100 && status <= 599);
        if (head_request || status < 200 || status == 204 || status == 304)
            BWS_FUZZ_CHECK(body.empty());
        if (parser.is_done() && parser.length() && !head_request && status >= 200 &&
            status != 204 && status != 304)
            BWS_FUZZ_CHECK(body.size() == *parser.length());
    }
    return 0;
}
