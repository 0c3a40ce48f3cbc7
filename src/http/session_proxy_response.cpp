// The session's reverse-proxy path, response side (see session_proxy.cpp): read the
// upstream's head (skipping interim responses), answer the client with its status and
// end-to-end headers and bws's own framing, and stream the body down with backpressure.
#include "http/failure_funnel.hpp"
#include "http/header_text.hpp"
#include "http/proxy_call.hpp"
#include "http/server.hpp"
#include "http/session.hpp"
#include "proxy/forward_headers.hpp"

#include <boost/asio/error.hpp>
#include <boost/beast/http/error.hpp>
#include <fmt/format.h>

#include <vector>

namespace bws::http {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;

namespace {

// Response headers never passed to the client: hop-by-hop ones, the framing (bws frames the
// body itself) and Date/Server (bws sends its own, like nginx).
bool dropped_response_header(std::string_view name, const std::vector<std::string>& tokens) {
    return proxy::is_hop_by_hop(name, tokens) || iequals(name, "content-length") ||
           iequals(name, "date") || iequals(name, "server");
}

// Moves `out` (decoded body bytes) into `pieces` for the client: as they are, or as one chunk
// when the client gets chunks, then the last chunk when `last`.
void frame_body(std::string& out, bool chunked, bool last, std::vector<body_piece>& pieces) {
    if (!chunked) {
        if (!out.empty()) {
            body_piece data;
            data.bytes = std::move(out);
            pieces.push_back(std::move(data));
        }
    } else {
        if (!out.empty()) {
            body_piece size;
            size.bytes = fmt::format("{:x}\r\n", out.size());
            pieces.push_back(std::move(size));
            body_piece data;
            data.bytes = std::move(out);
            data.bytes += "\r\n";
            pieces.push_back(std::move(data));
        }
        if (last) {
            body_piece end;
            end.bytes = "0\r\n\r\n";
            pieces.push_back(std::move(end));
        }
    }
    out.clear();
}

} // namespace

template <class Stream>
void session<Stream>::proxy_read_head() {
    auto& call = *call_;
    if (!call.parser)
        call.parser.emplace(parser_->head().method == bhttp::verb::head);
    while (call.conn->buffer.size() > 0) {
        boost::system::error_code ec;
        const auto used = call.parser->put(call.conn->buffer.data(), ec);
        call.conn->buffer.consume(used);
        if (ec == bhttp::error::need_more)
            break;
        if (ec && ec != bhttp::error::need_buffer) {
            proxy_fail(502, ec, "a malformed response head");
            return;
        }
        if (call.parser->is_header_done()) {
            const unsigned status = call.parser->status();
            if (status >= 100 && status < 200) {
                if (status == 101) {
                    if (!call.upgrade.empty()) {
                        proxy_on_head(); // the tunnel
                        return;
                    }
                    proxy_fail(502, bhttp::error::bad_status,
                               "101 Switching Protocols to a request that asked for none");
                    return;
                }
                call.parser.emplace(parser_->head().method == bhttp::verb::head);
                continue; // an interim response (100, 103): the final one follows
            }
            proxy_on_head();
            return;
        }
    }
    proxy_read_upstream(&session::proxy_read_head);
}

template <class Stream>
void session<Stream>::proxy_read_upstream(void (session::*next)()) {
    auto& call = *call_;
    phase_ = phase::proxying;
    call.waiting = proxy_call::wait::upstream_read;
    deadline_ = clock::now() + call.upstreams->config().read_timeout;
    call.conn->stream.async_read_some(
        call.conn->buffer.prepare(upstream_read),
        [self = self(), next](const boost::system::error_code& ec, std::size_t n) {
            self->on_upstream_read(ec, n, next);
        });
}

template <class Stream>
void session<Stream>::on_upstream_read(const boost::system::error_code& ec, std::size_t n,
                                       void (session::*next)()) {
    if (phase_ == phase::closed || !call_)
        return;
    auto& c = *call_;
    c.waiting = proxy_call::wait::none;
    if (!ec) {
        c.got_response_bytes = true;
        c.conn->buffer.commit(n);
        (this->*next)();
        return;
    }
    if (ec == asio::error::eof && c.head_sent && c.parser && c.parser->need_eof()) {
        // A body delimited by the close: this is its end.
        boost::system::error_code e;
        c.parser->put_eof(e);
        c.conn->buffer.consume(c.conn->buffer.size());
        proxy_stream();
        return;
    }
    proxy_fail(c.timed_out ? 504 : 502, ec,
               c.head_sent ? "reading the response body" : "reading the response head");
}

template <class Stream>
void session<Stream>::proxy_on_head() {
    auto& call = *call_;
    auto& parser = *call.parser;
    call.upstreams->pool(call.route->pool).succeeded(call.server);
    call.status = parser.status();
    response r;
    r.status = parser.status();
    r.streamed = true;
    const auto tokens = proxy::connection_tokens(parser.fields());
    for (const auto& [name, value] : parser.fields())
        if (!dropped_response_header(name, tokens))
            r.headers.emplace_back(name, value);
    const bool head_request = parser_->head().method == bhttp::verb::head;
    if (r.status == 101) {
        // The upstream switched protocols: the client gets the 101 with the upstream's
        // Upgrade, then the connection is a tunnel and never serves another request.
        for (const auto& [name, value] : parser.fields())
            if (iequals(name, "upgrade"))
                r.set_header("Upgrade", value);
        r.upgrade = true;
        keep_alive_ = false;
        call.tunnel = true;
        call.head_sent = true;
        call.client_write = true;
        call.last_write = false;
        phase_ = phase::writing;
        respond(std::move(r), site_, false);
        return;
    }
    const bool bodiless = head_request || r.status == 204 || r.status == 304;
    if (bodiless) {
        // A HEAD answer says how long the body would be, as the upstream said.
        if (head_request && r.status != 204 && r.status != 304 && parser.length())
            r.set_header("Content-Length", std::to_string(*parser.length()));
    } else if (parser.length()) {
        r.set_header("Content-Length", std::to_string(*parser.length()));
    } else if (parser_->head().version >= 11) {
        r.set_header("Transfer-Encoding", "chunked");
        call.chunked_out = true;
    } else {
        keep_alive_ = false; // an HTTP/1.0 client: the close ends the body
    }
    if (call.request_body && !call.body_sent)
        keep_alive_ = false;
    // The body bytes that came with the head go out in the same write: one system call for
    // a small response instead of two.
    parser.set_sink(&call.out, proxy_chunk);
    while (!parser.is_done() && call.conn->buffer.size() > 0) {
        boost::system::error_code ec;
        const auto used = parser.put(call.conn->buffer.data(), ec);
        call.conn->buffer.consume(used);
        if (ec == bhttp::error::need_buffer || ec == bhttp::error::need_more)
            break;
        if (ec) {
            proxy_fail(502, ec, "a malformed response body");
            return;
        }
    }
    const bool done = parser.is_done();
    frame_body(call.out, call.chunked_out, done && !bodiless, r.body);
    call.head_sent = true;
    call.client_write = true;
    call.last_write = done;
    phase_ = phase::writing;
    respond(std::move(r), site_, head_request);
}

template <class Stream>
void session<Stream>::on_proxy_written() {
    auto& call = *call_;
    call.client_write = false;
    out_body_.clear();
    if (!call.head_sent) {
        // The 100 Continue went out: now the request.
        proxy_send_head();
        return;
    }
    if (call.tunnel) {
        if (!call.tunnel_started)
            tunnel_start();
        else
            tunnel_down(); // what was read from the upstream went out: read more
        return;
    }
    if (call.last_write) {
        proxy_finish();
        return;
    }
    proxy_stream();
}

template <class Stream>
void session<Stream>::proxy_stream() {
    auto& call = *call_;
    auto& parser = *call.parser;
    parser.set_sink(&call.out, proxy_chunk);
    while (true) {
        const bool done = parser.is_done();
        if (!call.out.empty() &&
            (done || call.out.size() >= proxy_chunk || call.conn->buffer.size() == 0)) {
            proxy_write_client(done);
            return;
        }
        if (done) {
            proxy_write_client(true);
            return;
        }
        if (call.conn->buffer.size() == 0) {
            proxy_read_upstream(&session::proxy_stream);
            return;
        }
        boost::system::error_code ec;
        const auto used = parser.put(call.conn->buffer.data(), ec);
        call.conn->buffer.consume(used);
        if (ec == bhttp::error::need_buffer)
            continue;
        if (ec == bhttp::error::need_more) {
            if (!call.out.empty()) {
                proxy_write_client(false);
                return;
            }
            proxy_read_upstream(&session::proxy_stream);
            return;
        }
        if (ec) {
            proxy_fail(502, ec, "a malformed response body");
            return;
        }
    }
}

template <class Stream>
void session<Stream>::proxy_write_client(bool last) {
    auto& call = *call_;
    out_head_.clear();
    out_head_sent_ = 0;
    out_body_.clear();
    piece_ = 0;
    piece_sent_ = 0;
    frame_body(call.out, call.chunked_out, last, out_body_);
    // As nginx's body_bytes_sent: the body as sent, chunk framing included.
    for (const auto& piece : out_body_)
        body_bytes_ += piece.size();
    call.last_write = last;
    call.client_write = true;
    phase_ = phase::writing;
    do_write();
}

template <class Stream>
void session<Stream>::proxy_finish() {
    auto& call = *call_;
    const bool reusable = call.parser && call.parser->is_done() && call.parser->keep_alive() &&
                          call.conn && call.conn->buffer.size() == 0 &&
                          (!call.request_body || call.body_sent);
    proxy_release(reusable);
    phase_ = phase::writing;
    on_written(); // logs the request with the upstream's facts, then drops call_
}

// session.hpp declares the instantiations extern, so each member defined here is
// instantiated here.
#define BWS_SESSION_PROXY_RESPONSE(Stream)                                                         \
    template void session<Stream>::proxy_read_head();                                              \
    template void session<Stream>::proxy_on_head();                                                \
    template void session<Stream>::proxy_stream();                                                 \
    template void session<Stream>::proxy_read_upstream(void (session<Stream>::*)());               \
    template void session<Stream>::on_upstream_read(const boost::system::error_code&, std::size_t, \
                                                    void (session<Stream>::*)());                  \
    template void session<Stream>::proxy_write_client(bool);                                       \
    template void session<Stream>::on_proxy_written();                                             \
    template void session<Stream>::proxy_finish();
BWS_SESSION_PROXY_RESPONSE(plain_stream)
BWS_SESSION_PROXY_RESPONSE(tls_stream)
#undef BWS_SESSION_PROXY_RESPONSE

} // namespace bws::http
