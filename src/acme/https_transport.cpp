// The blocking HTTPS transport of the ACME client (see https_transport.hpp). Each phase is an
// asynchronous operation on a private io_context, run until it completes or the request's
// deadline passes, when the socket is closed and the loop drained: a timeout that covers name
// resolution too, which the synchronous calls cannot give.
#include "acme/https_transport.hpp"

#include "acme/url.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

namespace bws::acme {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

struct https_transport::impl {
    transport_options options;
    asio::ssl::context ctx{asio::ssl::context::tls_client};
};

namespace {

using clock = std::chrono::steady_clock;

// Runs `ioc` until the operation started on it completes (true) or `deadline` passes (false:
// `cancel` then aborts it and the loop drains, so no handler outlives this frame).
template <class Cancel>
bool completes_by(asio::io_context& ioc, clock::time_point deadline, Cancel cancel) {
    ioc.restart();
    ioc.run_until(deadline);
    if (ioc.stopped())
        return true;
    cancel();
    ioc.restart();
    ioc.run();
    return false;
}

acme::error failure(const std::string& where, const std::string& phase, const error_code& ec) {
    return acme::error{where + ": " + phase, 0, {}, ec.message()};
}

acme::error timed_out(const std::string& where, const std::string& phase) {
    return acme::error{where + ": " + phase, 0, {}, "timed out"};
}

const char* method_name(http_method method) {
    switch (method) {
    case http_method::get:
        return "GET";
    case http_method::head:
        return "HEAD";
    case http_method::post:
        return "POST";
    }
    return "GET";
}

http::verb verb_of(http_method method) {
    switch (method) {
    case http_method::get:
        return http::verb::get;
    case http_method::head:
        return http::verb::head;
    case http_method::post:
        return http::verb::post;
    }
    return http::verb::get;
}

} // namespace

https_transport::https_transport(std::unique_ptr<impl> state) : impl_(std::move(state)) {}
https_transport::~https_transport() = default;

result<std::unique_ptr<https_transport>> https_transport::create(const transport_options& options) {
    auto state = std::make_unique<impl>();
    state->options = options;
    SSL_CTX* ctx = state->ctx.native_handle();
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    error_code ec;
    if (!options.ca_file.empty())
        state->ctx.load_verify_file(options.ca_file.string(), ec);
    else
        state->ctx.set_default_verify_paths(ec);
    if (ec)
        return acme::error{"CA bundle " + options.ca_file.string(), 0, {}, ec.message()};
    return std::unique_ptr<https_transport>(new https_transport(std::move(state)));
}

result<http_response> https_transport::request(http_method method, std::string_view url_text,
                                               std::string_view body, std::string_view content_type,
                                               std::string_view accept) {
    auto parsed = parse_https_url(url_text);
    if (!parsed.ok())
        return std::move(parsed).error();
    const https_url& url = parsed.value();
    const std::string where = std::string(method_name(method)) + " " + std::string(url_text);
    const clock::time_point deadline = clock::now() + impl_->options.timeout;

    asio::io_context ioc;
    tcp::resolver resolver(ioc);
    asio::ssl::stream<tcp::socket> stream(ioc, impl_->ctx);
    const auto close = [&stream] {
        error_code ignored;
        stream.next_layer().close(ignored);
    };
    error_code ec;

    tcp::resolver::results_type endpoints;
    resolver.async_resolve(url.host, url.port,
                           [&](const error_code& e, tcp::resolver::results_type found) {
                               ec = e;
                               endpoints = std::move(found);
                           });
    if (!completes_by(ioc, deadline, [&resolver] { resolver.cancel(); }))
        return timed_out(where, "resolving " + url.host);
    if (ec)
        return failure(where, "resolving " + url.host, ec);

    asio::async_connect(stream.next_layer(), endpoints,
                        [&ec](const error_code& e, const tcp::endpoint&) { ec = e; });
    if (!completes_by(ioc, deadline, close))
        return timed_out(where, "connect");
    if (ec)
        return failure(where, "connect", ec);

    // SNI for names only (RFC 6066 forbids addresses); the certificate must match either way.
    SSL* ssl = stream.native_handle();
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    if (url.host_is_ip) {
        X509_VERIFY_PARAM_set1_ip_asc(param, url.host.c_str());
    } else {
        SSL_set_tlsext_host_name(ssl, url.host.c_str());
        X509_VERIFY_PARAM_set1_host(param, url.host.c_str(), url.host.size());
    }
    stream.async_handshake(asio::ssl::stream_base::client, [&ec](const error_code& e) { ec = e; });
    if (!completes_by(ioc, deadline, close))
        return timed_out(where, "TLS handshake");
    if (ec) {
        const long verify = SSL_get_verify_result(ssl);
        if (verify != X509_V_OK)
            return acme::error{
                where + ": TLS handshake", 0, {}, X509_verify_cert_error_string(verify)};
        return failure(where, "TLS handshake", ec);
    }

    http::request<http::string_body> req{verb_of(method), url.target, 11};
    req.set(http::field::host, url.host_header());
    req.set(http::field::user_agent, "bws/" BWS_VERSION " (ACME client)");
    req.set(http::field::connection, "close");
    if (!accept.empty())
        req.set(http::field::accept, accept);
    if (method == http_method::post) {
        req.set(http::field::content_type, content_type);
        req.body() = std::string(body);
    }
    req.prepare_payload();
    http::async_write(stream, req, [&ec](const error_code& e, std::size_t) { ec = e; });
    if (!completes_by(ioc, deadline, close))
        return timed_out(where, "sending the request");
    if (ec)
        return failure(where, "sending the request", ec);

    boost::beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(impl_->options.body_limit);
    if (method == http_method::head)
        parser.skip(true);
    http::async_read(stream, buffer, parser, [&ec](const error_code& e, std::size_t) { ec = e; });
    if (!completes_by(ioc, deadline, close))
        return timed_out(where, "reading the response");
    if (ec)
        return failure(where, "reading the response", ec);
    // Connection: close was asked for and the whole response is read: no close_notify
    // exchange, which would only add a round trip the server may not answer.
    close();

    const auto& res = parser.get();
    http_response out;
    out.status = res.result_int();
    out.body = res.body();
    out.content_type = std::string(res[http::field::content_type]);
    out.location = std::string(res[http::field::location]);
    out.replay_nonce = std::string(res["Replay-Nonce"]);
    out.retry_after = std::string(res[http::field::retry_after]);
    const auto links = res.equal_range(http::field::link);
    for (auto it = links.first; it != links.second; ++it)
        out.links.emplace_back(it->value());
    return out;
}

} // namespace bws::acme
