// The session's reverse-proxy path, request side (see session.cpp for the state machine):
// pick a server (balancer, max_conns), reuse an idle connection or have
// session_proxy_connect.cpp open one, send the re-serialised
// request head and stream the body up; and the failure, release and deadline handling of the
// whole exchange. The response side is session_proxy_response.cpp, upgraded connections
// session_tunnel.cpp. One buffer of at most proxy_chunk bytes is in flight in each direction,
// so memory per proxied request is bounded whatever the body sizes. Timeouts are the
// session's deadline, checked by the server's sweep.
#include "http/failure_funnel.hpp"
#include "http/header_text.hpp"
#include "http/proxy_call.hpp"
#include "http/server.hpp"
#include "http/session.hpp"
#include "proxy/forward_headers.hpp"
#include "proxy/route_match.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/error.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <vector>

namespace bws::http {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;

namespace {

// RFC 9110 §9.2.2: requests that may be sent again when a reused connection turns out to
// have been closed by the upstream before it answered.
bool idempotent(bhttp::verb m) {
    switch (m) {
    case bhttp::verb::get:
    case bhttp::verb::head:
    case bhttp::verb::options:
    case bhttp::verb::put:
    case bhttp::verb::delete_:
    case bhttp::verb::trace:
        return true;
    default:
        return false;
    }
}

} // namespace

template <class Stream>
void session<Stream>::start_proxy(route_decision& decision) {
    auto& site = server_.site(site_);
    call_ = std::make_unique<proxy_call>();
    call_->upstreams = site.upstreams.get();
    call_->route = decision.proxy_route;
    call_->request_body = !parser_->is_done();
    if (call_->request_body && parser_->content_length())
        call_->request_length = *parser_->content_length();
    call_->request_chunked = call_->request_body && !call_->request_length;
    call_->target = proxy::upstream_target(*decision.proxy_route, decision.proxy_path,
                                           decision.query, decision.has_query);
    if (decision.proxy_route->websocket && !call_->request_body &&
        parser_->head().method == bhttp::verb::get) {
        // An upgrade: "Upgrade: x" with "upgrade" among the Connection tokens (RFC 9110 §7.8).
        const auto& fields = parser_->head().fields;
        const auto tokens = proxy::connection_tokens(fields);
        const bool asked = std::find(tokens.begin(), tokens.end(), "upgrade") != tokens.end();
        for (const auto& [name, value] : fields)
            if (asked && iequals(name, "upgrade") && !value.empty())
                call_->upgrade = value;
    }
    const auto& pool = call_->upstreams->config().pools[call_->route->pool];
    auto& balancer = call_->upstreams->pool(call_->route->pool);
    const auto now = clock::now();
    call_->all_down = true;
    for (std::size_t i = 0; i < pool.servers.size(); ++i)
        if (!balancer.is_down(i, now) && !balancer.is_unhealthy(i))
            call_->all_down = false;
    phase_ = phase::proxying;
    proxy_connect();
}

template <class Stream>
void session<Stream>::proxy_connect() {
    auto& call = *call_;
    const auto& config = call.upstreams->config();
    auto& balancer = call.upstreams->pool(call.route->pool);
    const auto now = clock::now();
    std::optional<std::size_t> pick;
    if (call.attempts <= config.retries) {
        std::string_view key = client_address_;
        if (config.method == config::balance_method::consistent_hash &&
            !config.hash_header.empty()) {
            key = {}; // no such header: every such request hashes alike
            for (const auto& field : parser_->head().fields)
                if (iequals(field.first, config.hash_header))
                    key = field.second;
        }
        // A server at its max_conns is skipped like one that was tried.
        call.full |= call.upstreams->full_servers(call.route->pool);
        pick = balancer.pick(call.tried | call.full, now, key);
    }
    if (!pick && (call.full & ~call.tried) != 0 && !call.timed_out) {
        // The servers not tried are all at their max_conns: the pool is busy, not broken.
        call.waiting = proxy_call::wait::none;
        proxy_fail(503, asio::error::try_again,
                   "every server of pool '" + config.pools[call.route->pool].name +
                       "' is at its max_conns");
        return;
    }
    if (!pick) {
        // Every server (within the retries) was tried and none took the connection.
        const unsigned status = call.timed_out ? 504 : (call.all_down ? 503 : 502);
        call.waiting = proxy_call::wait::none;
        proxy_fail(status, {}, "no server of the pool could be reached");
        return;
    }
    call.server = *pick;
    call.tried |= std::uint64_t{1} << *pick;
    ++call.attempts;
    call.address = 0;
    call.timed_out = false;

    // The head names the server when Host is not preserved, so it is built per server.
    const auto& server = config.pools[call.route->pool].servers[call.server];
    auto& head = parser_->head();
    proxy::forward_request f;
    f.method = head.method_string;
    f.target = call.target;
    f.fields = &head.fields;
    f.host = head.host;
    f.client_ip = client_address_;
    f.trusted_peer = proxy::is_trusted(client_address_, config.headers.trusted_proxies);
    if constexpr (handshaking_stream<Stream>)
        f.https = !stream_.is_plain();
    if (call.request_body) {
        f.content_length = call.request_length;
        f.chunked = !call.request_length;
    }
    f.upgrade = call.upgrade;
    proxy::build_request_head(call.head, f, server, config.headers);

    // A request with a body goes on a fresh connection: if a reused one had been closed by
    // the upstream, the body could not be sent again. An upgrade becomes a tunnel: it never
    // takes a connection the pool could reuse.
    if (!call.request_body && call.upgrade.empty()) {
        // An idempotent request is sent again on a new connection if the upstream closed
        // this one (proxy_fail), so it skips the check's system call; others are checked.
        const bool verify = !idempotent(parser_->head().method);
        if (auto idle = call.upstreams->take_idle(call.route->pool, call.server, now, verify)) {
            call.conn = std::move(idle);
            on_proxy_connected({});
            return;
        }
    }
    proxy_connect_address();
}

template <class Stream>
void session<Stream>::proxy_send_head() {
    auto& call = *call_;
    phase_ = phase::proxying;
    call.waiting = proxy_call::wait::upstream_write;
    deadline_ = clock::now() + call.upstreams->config().write_timeout;
    call.conn->stream.async_write(
        asio::buffer(call.head), [self = self()](const boost::system::error_code& ec, std::size_t) {
            if (self->phase_ == phase::closed || !self->call_)
                return;
            self->call_->waiting = proxy_call::wait::none;
            if (ec) {
                self->proxy_fail(self->call_->timed_out ? 504 : 502, ec, "sending the request");
                return;
            }
            if (self->call_->request_body)
                self->proxy_pump_body();
            else
                self->proxy_read_head();
        });
}

template <class Stream>
void session<Stream>::proxy_pump_body() {
    auto& call = *call_;
    parser_->set_body_sink(&call.body, proxy_chunk);
    while (true) {
        if (call.body.size() >= proxy_chunk || (parser_->is_done() && !call.body.empty())) {
            proxy_send_body();
            return;
        }
        if (parser_->is_done()) {
            parser_->set_body_sink(nullptr, 0);
            if (call.request_chunked) {
                call.body_sent = true;
                call.frame = "0\r\n\r\n";
                proxy_send_body();
                return;
            }
            call.body_sent = true;
            proxy_read_head();
            return;
        }
        if (buffer_.size() == 0) {
            if (!call.body.empty()) {
                proxy_send_body(); // send what is there before waiting for more
                return;
            }
            proxy_read_client();
            return;
        }
        boost::system::error_code ec;
        const auto used = parser_->put(buffer_.data(), ec);
        buffer_.consume(used);
        if (ec == bhttp::error::need_buffer)
            continue; // the sink is full: send it
        if (ec == bhttp::error::need_more) {
            if (!call.body.empty()) {
                proxy_send_body();
                return;
            }
            proxy_read_client();
            return;
        }
        if (ec) {
            // A broken body (bad chunk, over max_body_size): the upstream has part of it, so
            // its connection is dropped; the client gets the status and a close.
            proxy_release(false);
            call_.reset();
            auto data = buffer_.data();
            std::string_view buffered(static_cast<const char*>(data.data()), data.size());
            respond_error(parser_->status_for(ec, buffered));
            return;
        }
    }
}

template <class Stream>
void session<Stream>::proxy_read_client() {
    auto& call = *call_;
    phase_ = phase::proxying;
    call.waiting = proxy_call::wait::client_read;
    deadline_ = clock::now() + server_.limits().body_timeout;
    read_pending_ = true;
    stream_.async_read_some(buffer_.prepare(upstream_read),
                            [self = self()](boost::system::error_code ec, std::size_t n) {
                                self->read_pending_ = false;
                                if (self->phase_ == phase::closed || !self->call_ ||
                                    self->call_->waiting != proxy_call::wait::client_read)
                                    return;
                                self->call_->waiting = proxy_call::wait::none;
                                if (ec) {
                                    // The client left in the middle of its body: nothing to answer.
                                    self->fail(failure_kind::peer_read, ec);
                                    return;
                                }
                                self->buffer_.commit(n);
                                self->proxy_pump_body();
                            });
}

template <class Stream>
void session<Stream>::proxy_send_body() {
    auto& call = *call_;
    // The buffer sequence goes into the write operation by value: a vector, not a view of
    // this frame's array, which would dangle once the write waits (ASan: stack-use-after-
    // return in the sanitizer run).
    std::vector<asio::const_buffer> pieces(3);
    std::size_t count = 0;
    if (!call.body.empty()) {
        if (call.request_chunked) {
            call.frame = fmt::format("{:x}\r\n", call.body.size());
            pieces[count++] = asio::buffer(call.frame);
            pieces[count++] = asio::buffer(call.body);
            pieces[count++] = asio::buffer("\r\n", 2);
        } else {
            pieces[count++] = asio::buffer(call.body);
        }
    } else {
        pieces[count++] = asio::buffer(call.frame); // the last chunk
    }
    phase_ = phase::proxying;
    call.waiting = proxy_call::wait::upstream_write;
    deadline_ = clock::now() + call.upstreams->config().write_timeout;
    pieces.resize(count);
    // `pieces` is kept in the call: the TLS path reads the sequence after this returns.
    call.pieces = std::move(pieces);
    call.conn->stream.async_write(
        call.pieces, [self = self()](const boost::system::error_code& ec, std::size_t) {
            if (self->phase_ == phase::closed || !self->call_)
                return;
            auto& c = *self->call_;
            c.waiting = proxy_call::wait::none;
            if (ec) {
                self->proxy_fail(c.timed_out ? 504 : 502, ec, "sending the request body");
                return;
            }
            c.body.clear();
            c.frame.clear();
            if (c.body_sent)
                self->proxy_read_head();
            else
                self->proxy_pump_body();
        });
}

template <class Stream>
void session<Stream>::proxy_release(bool reusable) {
    auto& call = *call_;
    if (call.counted) {
        call.upstreams->pool(call.route->pool).finished(call.server);
        call.counted = false;
    }
    if (!call.conn)
        return;
    if (reusable) {
        call.upstreams->put_idle(std::move(call.conn), clock::now());
        return;
    }
    boost::system::error_code ec;
    call.conn->stream.close(ec);
    call.conn.reset();
}

template <class Stream>
void session<Stream>::proxy_fail(unsigned status, const boost::system::error_code& ec,
                                 std::string_view what) {
    auto& call = *call_;
    const auto& config = call.upstreams->config();
    const auto& server = config.pools[call.route->pool].servers[call.server];
    const bool reused = call.conn && call.conn->reused;
    if (!call.head_sent && reused && !call.got_response_bytes && !call.request_body &&
        !call.retried_fresh && idempotent(parser_->head().method)) {
        // The idle connection was closed by the upstream as the request went out: the same
        // server again, on a new connection, once.
        spdlog::debug("{} upstream {}: a reused connection failed ({}); retrying on a new one",
                      client_address_, server.url, ec.message());
        proxy_release(false);
        call.retried_fresh = true;
        call.address = 0;
        call.parser.reset();
        proxy_connect_address(); // the same head goes out again
        return;
    }
    if (ec == asio::error::try_again) // max_conns: no server to name
        server_.failures().report(failure_kind::upstream, ec, server_.site(site_).config->name,
                                  client_address_, what);
    else if (ec)
        server_.failures().report(failure_kind::upstream, ec, server_.site(site_).config->name,
                                  client_address_, std::string(what) + " from " + server.url);
    else
        server_.failures().report(failure_kind::upstream, asio::error::host_unreachable,
                                  server_.site(site_).config->name, client_address_,
                                  std::string(what));
    proxy_release(false);
    if (call.head_sent) {
        // The client has a status already: a truncated body is all it can be told.
        call_.reset();
        close_now();
        return;
    }
    const bool body_unread = call.request_body && !call.body_sent;
    if (body_unread)
        keep_alive_ = false; // the rest of the body is still on the connection
    response r;
    r.status = status;
    r.use_error_page = true;
    phase_ = phase::writing;
    respond(std::move(r), site_, parser_->head().method == bhttp::verb::head);
}

template <class Stream>
void session<Stream>::on_proxy_deadline() {
    if (!call_)
        return close_now();
    auto& call = *call_;
    switch (call.waiting) {
    case proxy_call::wait::connect:
    case proxy_call::wait::upstream_write:
    case proxy_call::wait::upstream_read: {
        // Cancelling completes the pending operation with an error; its handler goes on.
        call.timed_out = true;
        boost::system::error_code ec;
        call.conn->stream.close(ec);
        deadline_ = clock::time_point::max();
        break;
    }
    case proxy_call::wait::client_read: {
        call.waiting = proxy_call::wait::none;
        boost::system::error_code ec;
        stream_.cancel(ec);
        proxy_release(false);
        call_.reset();
        respond_error(408);
        break;
    }
    case proxy_call::wait::none:
        close_now();
        break;
    }
}

// session.hpp declares the instantiations extern, so each member defined here is
// instantiated here.
#define BWS_SESSION_PROXY_REQUEST(Stream)                                                          \
    template void session<Stream>::start_proxy(route_decision&);                                   \
    template void session<Stream>::proxy_connect();                                                \
    template void session<Stream>::proxy_send_head();                                              \
    template void session<Stream>::proxy_pump_body();                                              \
    template void session<Stream>::proxy_read_client();                                            \
    template void session<Stream>::proxy_send_body();                                              \
    template void session<Stream>::proxy_fail(unsigned, const boost::system::error_code&,          \
                                              std::string_view);                                   \
    template void session<Stream>::proxy_release(bool);                                            \
    template void session<Stream>::on_proxy_deadline();
BWS_SESSION_PROXY_REQUEST(plain_stream)
BWS_SESSION_PROXY_REQUEST(tls_stream)
#undef BWS_SESSION_PROXY_REQUEST

} // namespace bws::http
