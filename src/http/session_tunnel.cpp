// An upgraded proxied connection (WebSocket): after the upstream's 101, raw bytes both ways
// until either side closes or the tunnel is idle for tunnel_idle (see session_proxy.cpp).
#include "http/failure_funnel.hpp"
#include "http/header_text.hpp"
#include "http/proxy_call.hpp"
#include "http/server.hpp"
#include "http/session.hpp"

#include <boost/asio/write.hpp>

namespace bws::http {

namespace asio = boost::asio;

template <class Stream>
void session<Stream>::tunnel_start() {
    auto& call = *call_;
    call.tunnel_started = true;
    parser_->set_body_sink(nullptr, 0);
    phase_ = phase::tunnel;
    deadline_ = clock::now() + call.upstreams->config().tunnel_idle_timeout;
    tunnel_up();   // bytes the client sent after its request go first
    tunnel_down(); // and those the upstream sent after its 101
}

template <class Stream>
void session<Stream>::tunnel_up() {
    if (phase_ != phase::tunnel)
        return;
    if (buffer_.size() > 0) {
        call_->conn->stream.async_write(
            buffer_.data(), [self = self()](const boost::system::error_code& ec, std::size_t n) {
                if (self->phase_ != phase::tunnel)
                    return;
                if (ec)
                    return self->tunnel_end();
                self->buffer_.consume(n);
                self->deadline_ =
                    clock::now() + self->call_->upstreams->config().tunnel_idle_timeout;
                self->tunnel_up();
            });
        return;
    }
    read_pending_ = true;
    stream_.async_read_some(buffer_.prepare(upstream_read),
                            [self = self()](boost::system::error_code ec, std::size_t n) {
                                self->read_pending_ = false;
                                if (self->phase_ != phase::tunnel)
                                    return;
                                if (ec)
                                    return self->tunnel_end(); // the client closed
                                self->buffer_.commit(n);
                                self->tunnel_up();
                            });
}

template <class Stream>
void session<Stream>::tunnel_down() {
    if (phase_ != phase::tunnel)
        return;
    auto& call = *call_;
    deadline_ = clock::now() + call.upstreams->config().tunnel_idle_timeout;
    auto& in = call.conn->buffer;
    if (in.size() > 0) {
        body_piece data;
        const auto bytes = in.data();
        data.bytes.assign(static_cast<const char*>(bytes.data()), bytes.size());
        body_bytes_ += bytes.size();
        in.consume(bytes.size());
        out_head_.clear();
        out_head_sent_ = 0;
        out_body_.clear();
        out_body_.push_back(std::move(data));
        piece_ = 0;
        piece_sent_ = 0;
        call.client_write = true;
        do_write();
        return;
    }
    call.conn->stream.async_read_some(
        in.prepare(upstream_read),
        [self = self()](const boost::system::error_code& ec, std::size_t n) {
            if (self->phase_ != phase::tunnel)
                return;
            if (ec)
                return self->tunnel_end(); // the upstream closed
            self->call_->conn->buffer.commit(n);
            self->tunnel_down();
        });
}

template <class Stream>
void session<Stream>::tunnel_end() {
    if (phase_ != phase::tunnel)
        return;
    log_request();
    close_now(); // also closes the upstream side, which ends the other direction's wait
}

// session.hpp declares the instantiations extern, so each member defined here is
// instantiated here.
#define BWS_SESSION_TUNNEL(Stream)                                                                 \
    template void session<Stream>::tunnel_start();                                                 \
    template void session<Stream>::tunnel_up();                                                    \
    template void session<Stream>::tunnel_down();                                                  \
    template void session<Stream>::tunnel_end();
BWS_SESSION_TUNNEL(plain_stream)
BWS_SESSION_TUNNEL(tls_stream)
#undef BWS_SESSION_TUNNEL

} // namespace bws::http
