// The byte stream to one upstream server, whatever the transport: a TCP or a Unix stream
// socket (one Asio generic stream socket holds either), with TLS on top for https:// upstreams
// (tls::stream in client mode, driven over the non-blocking socket like the server side in
// http::tls_stream). The proxy session reads, writes and closes through this and never asks
// which transport it is.
#pragma once

#include "tls/error.hpp"
#include "tls/stream.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/system/error_code.hpp>

#include <sys/uio.h>

#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace bws::proxy {

class upstream_stream {
public:
    using socket_type = boost::asio::generic::stream_protocol::socket;
    using endpoint_type = socket_type::endpoint_type;

    explicit upstream_stream(const boost::asio::any_io_executor& executor) : socket_(executor) {}
    ~upstream_stream() {
        boost::system::error_code ignored;
        close(ignored);
    }
    upstream_stream(const upstream_stream&) = delete;
    upstream_stream& operator=(const upstream_stream&) = delete;

    // Handler: void(error_code). Opens the socket for the endpoint's family.
    template <class Handler>
    void async_connect(const endpoint_type& endpoint, Handler&& handler) {
        socket_.async_connect(endpoint, std::forward<Handler>(handler));
    }
    // After the connect: TCP_NODELAY on a TCP socket (the head and a small body go out at
    // once), and TLS on top when `ssl` is given (client mode; the handshake comes next).
    void connected(bool tcp, tls::ssl_ptr ssl);

    bool is_tls() const { return tls_ != nullptr; }
    // Handler: void(error_code). The TLS handshake (client side); never completes inline.
    template <class Handler>
    void async_handshake(Handler&& handler) {
        handshake_step(std::forward<Handler>(handler), false);
    }
    // OpenSSL's reason for the last failed TLS step, or "".
    std::string tls_failure() const { return tls_ ? tls_->failure_reason() : std::string(); }
    const SSL* native_ssl() const { return tls_ ? tls_->native() : nullptr; }

    // Handler: void(error_code, size_t). EOF (also a TLS close, with or without close_notify)
    // is asio::error::eof.
    template <class MutableBuffer, class Handler>
    void async_read_some(const MutableBuffer& buffer, Handler&& handler) {
        if (!tls_) {
            socket_.async_read_some(buffer, std::forward<Handler>(handler));
            return;
        }
        read_step(boost::asio::mutable_buffer(buffer), std::forward<Handler>(handler), false);
    }

    // Handler: void(error_code, size_t). Writes all of `buffers` (their memory must stay valid
    // until the handler runs); over TLS, also the record gathered from them.
    template <class ConstBufferSequence, class Handler>
    void async_write(const ConstBufferSequence& buffers, Handler&& handler) {
        if (!tls_) {
            boost::asio::async_write(socket_, buffers, std::forward<Handler>(handler));
            return;
        }
        pending_.clear();
        written_ = 0;
        for (auto it = boost::asio::buffer_sequence_begin(buffers);
             it != boost::asio::buffer_sequence_end(buffers); ++it) {
            const boost::asio::const_buffer b(*it);
            if (b.size() > 0)
                pending_.push_back({const_cast<void*>(b.data()), b.size()});
            written_ += b.size();
        }
        write_step(std::forward<Handler>(handler), false);
    }

    // For an idle pooled connection: true when it is still open and nothing arrived on it
    // (over TLS: nothing but session tickets, which this takes in).
    bool still_open();
    // Frees the TLS write buffer of a connection about to wait idle.
    void release_idle_buffers() {
        if (tls_)
            tls_->release_write_buffer();
    }

    int native_handle() { return socket_.native_handle(); }
    // Over TLS, sends close_notify first (best effort, without waiting): OpenSSL drops the
    // session of a connection freed without it from resumption.
    void close(boost::system::error_code& ec);

private:
    static boost::system::error_code to_error(const tls::io_result& r);

    template <class Handler>
    void handshake_step(Handler&& handler, bool from_wait) {
        const tls::io_result r = tls_->handshake();
        switch (r.state) {
        case tls::status::done:
            return complete(std::forward<Handler>(handler), from_wait, {});
        case tls::status::want_read:
        case tls::status::want_write:
            return wait(r.state == tls::status::want_write, std::forward<Handler>(handler),
                        [](upstream_stream& s, auto&& h) {
                            s.handshake_step(std::forward<decltype(h)>(h), true);
                        });
        case tls::status::closed:
        case tls::status::error:
            return complete(
                std::forward<Handler>(handler), from_wait,
                r.state == tls::status::closed && !r.ec
                    ? boost::system::error_code(boost::asio::error::eof)
                    : boost::system::error_code(
                          r.ec ? r.ec : tls::make_error_code(tls::errc::handshake_failed)));
        }
    }

    template <class Handler>
    void read_step(boost::asio::mutable_buffer buffer, Handler&& handler, bool from_wait) {
        const tls::io_result r = tls_->read(buffer.data(), buffer.size());
        switch (r.state) {
        case tls::status::done:
            return complete(std::forward<Handler>(handler), from_wait, {}, r.bytes);
        case tls::status::want_read:
        case tls::status::want_write:
            return wait(r.state == tls::status::want_write, std::forward<Handler>(handler),
                        [buffer](upstream_stream& s, auto&& h) {
                            s.read_step(buffer, std::forward<decltype(h)>(h), true);
                        });
        case tls::status::closed:
        case tls::status::error:
            return complete(std::forward<Handler>(handler), from_wait, to_error(r), 0);
        }
    }

    template <class Handler>
    void write_step(Handler&& handler, bool from_wait) {
        const tls::io_result r = tls_->write({pending_.data(), pending_.size()});
        consume(r.bytes);
        switch (r.state) {
        case tls::status::done:
            return complete(std::forward<Handler>(handler), from_wait, {}, written_);
        case tls::status::want_read:
        case tls::status::want_write:
            // Consumed bytes may still sit in a pending record: the next step flushes it.
            return wait(r.state == tls::status::want_write, std::forward<Handler>(handler),
                        [](upstream_stream& s, auto&& h) {
                            s.write_step(std::forward<decltype(h)>(h), true);
                        });
        case tls::status::closed:
        case tls::status::error: {
            auto ec = to_error(r);
            if (ec == boost::asio::error::eof)
                ec = boost::asio::error::broken_pipe;
            return complete(std::forward<Handler>(handler), from_wait, ec, 0);
        }
        }
    }

    // Drops what the TLS layer took from the front of pending_.
    void consume(std::size_t bytes);

    // Runs the handler: at once after a wait, else posted (an async operation never completes
    // inside the call that started it).
    template <class Handler, class... Args>
    void complete(Handler&& handler, bool from_wait, boost::system::error_code ec, Args... args) {
        if (from_wait)
            return handler(ec, args...);
        boost::asio::post(socket_.get_executor(), [h = std::forward<Handler>(handler), ec,
                                                   args...]() mutable { h(ec, args...); });
    }

    // Waits for the socket, then runs `next(*this, handler)`; a failed wait (cancel, close)
    // goes to the handler as its error. The handler keeps the session, and so this stream,
    // alive while the wait is pending.
    template <class Handler, class Next>
    void wait(bool writable, Handler&& handler, Next next) {
        socket_.async_wait(
            writable ? socket_type::wait_write : socket_type::wait_read,
            [this, h = std::forward<Handler>(handler), next](boost::system::error_code ec) mutable {
                if (ec) {
                    if constexpr (std::is_invocable_v<Handler&, boost::system::error_code>)
                        return h(ec);
                    else
                        return h(ec, std::size_t{0});
                }
                next(*this, std::move(h));
            });
    }

    socket_type socket_;
    std::unique_ptr<tls::stream> tls_;
    std::vector<iovec> pending_; // what the write in progress has not handed to TLS yet
    std::size_t written_ = 0;    // the size of that write, for its handler
};

} // namespace bws::proxy
