// The session's reverse-proxy path, connecting (see session_proxy.cpp): a new connection to
// the chosen server over TCP or a Unix socket, counted against its max_conns, with the TLS
// handshake of an https:// server; a failure goes to the server's next address or the next
// server, and marks the server down (passive health).
#include "http/failure_funnel.hpp"
#include "http/proxy_call.hpp"
#include "http/server.hpp"
#include "http/session.hpp"
#include "tls/error.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>

namespace bws::http {

namespace asio = boost::asio;

template <class Stream>
void session<Stream>::proxy_connect_address() {
    auto& call = *call_;
    const auto& config = call.upstreams->config();
    const auto& server = config.pools[call.route->pool].servers[call.server];
    const bool unix_socket = server.transport == config::upstream_transport::unix_socket;
    // The master's latest lookup (proxy::health_table), which may change between attempts.
    const auto& addresses = call.upstreams->addresses(call.route->pool, call.server);
    if (!unix_socket && call.address >= addresses.size()) {
        on_proxy_connected(asio::error::host_not_found);
        return;
    }
    net::conn_ticket ticket;
    if (call.address == 0 &&
        call.upstreams->admit(call.route->pool, call.server, ticket) == proxy::room::full) {
        // Another worker took the last place since the balancer looked: another server.
        call.full |= std::uint64_t{1} << call.server;
        call.tried &= ~(std::uint64_t{1} << call.server);
        --call.attempts;
        proxy_connect();
        return;
    }
    proxy::upstream_stream::endpoint_type endpoint;
    std::string peer; // for the access log: the address this attempt goes to
    if (unix_socket) {
        endpoint = asio::local::stream_protocol::endpoint(server.unix_path.string());
        peer = "unix:" + server.unix_path.string();
    } else {
        const auto& address = addresses[call.address];
        boost::system::error_code ec;
        const auto ip = asio::ip::make_address(address.to_string(), ec);
        endpoint = asio::ip::tcp::endpoint(ip, server.port);
        peer = (address.is_v6() ? "[" + address.to_string() + "]" : address.to_string()) + ":" +
               std::to_string(server.port);
    }
    auto previous = call.conn ? std::move(call.conn->ticket) : net::conn_ticket{};
    call.conn = std::make_unique<proxy::upstream_connection>(stream_.get_executor());
    // The next address of the same server keeps the place the first one took.
    call.conn->ticket = ticket.counted() ? std::move(ticket) : std::move(previous);
    call.conn->pool = call.route->pool;
    call.conn->server = call.server;
    call.conn->peer = std::move(peer);
    call.waiting = proxy_call::wait::connect;
    deadline_ = clock::now() + config.connect_timeout;
    call.conn->stream.async_connect(endpoint, [self = self()](const boost::system::error_code& e) {
        if (self->phase_ == phase::closed || !self->call_)
            return;
        if (e || self->call_->upstreams->config()
                         .pools[self->call_->route->pool]
                         .servers[self->call_->server]
                         .transport != config::upstream_transport::tls)
            return self->on_proxy_connected(e);
        self->proxy_handshake();
    });
}

template <class Stream>
void session<Stream>::proxy_handshake() {
    auto& call = *call_;
    auto* tls = call.upstreams->tls();
    auto ssl = tls->new_ssl(call.route->pool, call.server);
    if (!ssl) {
        call.connect_failure = "cannot set up TLS: " + tls::last_openssl_error();
        on_proxy_connected(make_error_code(tls::errc::handshake_failed));
        return;
    }
    call.conn->stream.connected(true, std::move(ssl));
    // The connect timeout covers the handshake too: deadline_ stays.
    call.conn->stream.async_handshake([self = self()](const boost::system::error_code& ec) {
        if (self->phase_ == phase::closed || !self->call_)
            return;
        auto& c = *self->call_;
        if (ec && !c.timed_out && ec != asio::error::operation_aborted)
            c.connect_failure = "TLS handshake: " +
                                proxy::upstream_tls::failure_reason(c.conn->stream.native_ssl(),
                                                                    c.conn->stream.tls_failure());
        if (!ec)
            c.conn->handshaken = true;
        self->on_proxy_connected(ec);
    });
}

template <class Stream>
void session<Stream>::on_proxy_connected(const boost::system::error_code& ec) {
    if (phase_ == phase::closed || !call_)
        return;
    auto& call = *call_;
    call.waiting = proxy_call::wait::none;
    const auto& config = call.upstreams->config();
    const auto& server = config.pools[call.route->pool].servers[call.server];
    if (ec) {
        const bool timed_out = call.timed_out || ec == asio::error::timed_out;
        server_.failures().report(
            failure_kind::upstream, timed_out ? asio::error::timed_out : ec,
            server_.site(site_).config->name, client_address_,
            "connecting to " + server.url +
                (call.connect_failure.empty() ? std::string() : " (" + call.connect_failure + ")"));
        call.connect_failure.clear();
        const bool next_address =
            server.transport != config::upstream_transport::unix_socket &&
            call.address + 1 < call.upstreams->addresses(call.route->pool, call.server).size();
        if (call.conn) { // none when the server had no address to try
            boost::system::error_code ignored;
            call.conn->stream.close(ignored);
            if (!next_address)
                call.conn.reset(); // and its max_conns place with it
        }
        if (next_address) {
            ++call.address; // the next address of the same server
            call.timed_out = false;
            proxy_connect_address();
            return;
        }
        call.upstreams->pool(call.route->pool).failed(call.server, clock::now());
        // Nothing was sent: any request can go to the next server.
        call.timed_out = timed_out;
        proxy_connect();
        return;
    }
    if (!call.conn->reused) {
        // The peer was set when the connect began (the address list may have changed since).
        if (server.transport == config::upstream_transport::unix_socket)
            call.conn->stream.connected(false, nullptr);
        else if (server.transport == config::upstream_transport::tcp)
            call.conn->stream.connected(true, nullptr); // TLS did it before its handshake
    }
    call.peer = call.conn->peer;
    call.upstreams->pool(call.route->pool).started(call.server);
    call.counted = true;
    if (call.request_body && parser_->head().expect_continue) {
        // The client waits for this before it sends the body (RFC 9110 §10.1.1); bws reads the
        // body itself, so the upstream never sees the Expect.
        out_head_ = "HTTP/1.1 100 Continue\r\n\r\n";
        out_head_sent_ = 0;
        out_body_.clear();
        piece_ = 0;
        piece_sent_ = 0;
        call.client_write = true;
        phase_ = phase::writing;
        do_write();
        return;
    }
    proxy_send_head();
}

// session.hpp declares the instantiations extern, so each member defined here is
// instantiated here.
#define BWS_SESSION_PROXY_CONNECT(Stream)                                                          \
    template void session<Stream>::proxy_connect_address();                                        \
    template void session<Stream>::proxy_handshake();                                              \
    template void session<Stream>::on_proxy_connected(const boost::system::error_code&);
BWS_SESSION_PROXY_CONNECT(plain_stream)
BWS_SESSION_PROXY_CONNECT(tls_stream)
#undef BWS_SESSION_PROXY_CONNECT

} // namespace bws::http
