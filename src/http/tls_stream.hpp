// The TLS stream a session runs over on a TLS port: the session's stream contract (see
// session.hpp) on top of tls::stream, which drives OpenSSL directly over the non-blocking
// socket. Every step is tried at once and waits on the socket only when OpenSSL says it must
// (want_read / want_write), which is the order edge-triggered epoll needs: a wait is queued
// only after the socket said EAGAIN.
//
// Before the handshake the first byte is peeked: a TLS connection starts with a handshake
// record (0x16). A letter means a plain HTTP request on the TLS port: the stream then switches
// to plain mode, so the session can answer it with a readable 400 and close.
#pragma once

#include "tls/stream.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/system/error_code.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <sys/uio.h>
#include <utility>

namespace bws::http {

// How a handshake ended, beyond its error code.
enum class handshake_result {
    done,       // TLS established
    plain_http, // the client sent plain HTTP: the stream is in plain mode now
    closed,     // the peer went away (or sent what is neither TLS nor HTTP): nothing to say
    failed,     // a TLS failure (no shared cipher, bad client certificate, refused SNI, ...)
};

class tls_stream {
public:
    using executor_type = boost::asio::ip::tcp::socket::executor_type;
    static constexpr bool has_handshake = true;

    tls_stream(boost::asio::ip::tcp::socket socket, tls::ssl_ptr ssl);

    executor_type get_executor() { return socket_.get_executor(); }
    void start(boost::system::error_code& ec);
    std::string peer_address() const;

    // Handler: void(handshake_result, error_code). Completes inline when the first step
    // decides (the session expects that), else from the socket wait's completion.
    template <class Handler>
    void async_handshake(Handler&& handler) {
        handshake_step(std::forward<Handler>(handler));
    }

    template <class MutableBuffer, class Handler>
    void async_read_some(const MutableBuffer& buffer, Handler&& handler) {
        if (plain_) {
            socket_.async_read_some(buffer, std::forward<Handler>(handler));
            return;
        }
        read_step(boost::asio::mutable_buffer(buffer), std::forward<Handler>(handler), false);
    }

    // For an idle session, before it reads: what a read would do now, without a read buffer.
    // `ready` when it would make progress (decrypted bytes wait, or a close or an error that
    // the read then reports); otherwise the socket said EAGAIN and the session should wait,
    // after releasing its buffers, with async_wait_idle(). A plain connection always waits.
    enum class idle_state { ready, wait_read, wait_write };
    idle_state poll_idle() {
        if (plain_)
            return idle_state::wait_read;
        switch (tls_->peek().state) {
        case tls::status::want_read:
            return idle_state::wait_read;
        case tls::status::want_write:
            return idle_state::wait_write;
        default:
            return idle_state::ready;
        }
    }
    // Frees what the TLS layer keeps between writes, for a connection about to wait idle.
    void release_idle_buffers() {
        if (tls_)
            tls_->release_write_buffer();
    }
    // Handler: void(error_code). Waits for what poll_idle() said; it came after EAGAIN, so the
    // next arrival wakes the edge-triggered reactor.
    template <class Handler>
    void async_wait_idle(idle_state state, Handler&& handler) {
        socket_.async_wait(state == idle_state::wait_write
                               ? boost::asio::ip::tcp::socket::wait_write
                               : boost::asio::ip::tcp::socket::wait_read,
                           std::forward<Handler>(handler));
    }

    std::size_t write_some(const iovec* iov, int count, bool more, boost::system::error_code& ec);
    // True when nothing of what write_some took still waits inside the TLS layer; false
    // with would_block (wait, then call again) or another error.
    bool flushed(boost::system::error_code& ec);

    template <class Handler>
    void async_wait_writable(Handler&& handler) {
        // A TLS write can need the socket readable (never with renegotiation off, but OpenSSL
        // decides): wait for what the last step asked for.
        socket_.async_wait(wants_read_ ? boost::asio::ip::tcp::socket::wait_read
                                       : boost::asio::ip::tcp::socket::wait_write,
                           std::forward<Handler>(handler));
    }

    bool can_send_file() const { return false; }
    std::size_t send_file(int, std::uint64_t, std::size_t, boost::system::error_code& ec) {
        ec = boost::asio::error::operation_not_supported;
        return 0;
    }

    void cancel(boost::system::error_code& ec) { socket_.cancel(ec); }
    // Sends close_notify when the session is established (best effort: it does not wait),
    // then half-closes the TCP connection.
    void shutdown_send(boost::system::error_code& ec);
    void close(boost::system::error_code& ec) { socket_.close(ec); }

    bool is_plain() const { return plain_; }
    // Filled once the handshake is done.
    const tls::peer_info& info() const { return info_; }
    // The SSL, for the site the handshake chose (tls::selected_site).
    const SSL* native() const { return tls_ ? tls_->native() : nullptr; }
    // OpenSSL's reason for a failed handshake, for the log.
    std::string failure_reason() const { return tls_ ? tls_->failure_reason() : std::string(); }

private:
    enum class peek_result { tls, plain_http, other, eof, would_block, error };
    peek_result peek(boost::system::error_code& ec);
    // Converts a failed or closed TLS step into the error a session sees.
    static boost::system::error_code to_error(const tls::io_result& r);

    template <class Handler>
    void handshake_step(Handler&& handler) {
        if (!peeked_) {
            boost::system::error_code ec;
            switch (peek(ec)) {
            case peek_result::would_block:
                return wait(false, std::forward<Handler>(handler), [](tls_stream& s, auto&& h) {
                    s.handshake_step(std::forward<decltype(h)>(h));
                });
            case peek_result::plain_http:
                plain_ = true;
                return handler(handshake_result::plain_http, boost::system::error_code{});
            case peek_result::eof:
            case peek_result::other:
                return handler(handshake_result::closed, boost::asio::error::eof);
            case peek_result::error:
                return handler(handshake_result::closed, ec);
            case peek_result::tls:
                peeked_ = true;
                break;
            }
        }
        const tls::io_result r = tls_->handshake();
        switch (r.state) {
        case tls::status::done:
            info_ = tls_->info();
            return handler(handshake_result::done, boost::system::error_code{});
        case tls::status::want_read:
        case tls::status::want_write:
            return wait(
                r.state == tls::status::want_write, std::forward<Handler>(handler),
                [](tls_stream& s, auto&& h) { s.handshake_step(std::forward<decltype(h)>(h)); });
        case tls::status::closed:
            return handler(handshake_result::closed, to_error(r));
        case tls::status::error:
            return handler(handshake_result::failed, to_error(r));
        }
    }

    template <class Handler>
    void read_step(boost::asio::mutable_buffer buffer, Handler&& handler, bool from_wait) {
        const tls::io_result r = tls_->read(buffer.data(), buffer.size());
        switch (r.state) {
        case tls::status::done:
            if (from_wait)
                return handler(boost::system::error_code{}, r.bytes);
            // Never complete an async read inside the call that started it.
            boost::asio::post(socket_.get_executor(),
                              [h = std::forward<Handler>(handler), n = r.bytes]() mutable {
                                  h(boost::system::error_code{}, n);
                              });
            return;
        case tls::status::want_read:
        case tls::status::want_write:
            return wait(r.state == tls::status::want_write, std::forward<Handler>(handler),
                        [buffer](tls_stream& s, auto&& h) {
                            s.read_step(buffer, std::forward<decltype(h)>(h), true);
                        });
        case tls::status::closed:
        case tls::status::error:
            if (from_wait)
                return handler(to_error(r), 0);
            boost::asio::post(socket_.get_executor(), [h = std::forward<Handler>(handler),
                                                       ec = to_error(r)]() mutable { h(ec, 0); });
            return;
        }
    }

    // Waits for the socket, then runs `next(*this, handler)`; a failed wait (cancel, close)
    // goes to the handler as its error. The handler keeps the session, and so this stream,
    // alive while the wait is pending.
    template <class Handler, class Next>
    void wait(bool writable, Handler&& handler, Next next) {
        socket_.async_wait(
            writable ? boost::asio::ip::tcp::socket::wait_write
                     : boost::asio::ip::tcp::socket::wait_read,
            [this, h = std::forward<Handler>(handler), next](boost::system::error_code ec) mutable {
                if (ec)
                    return fail_wait(h, ec);
                next(*this, std::move(h));
            });
    }

    template <class Handler>
    static void fail_wait(Handler& handler, const boost::system::error_code& ec) {
        if constexpr (std::is_invocable_v<Handler&, handshake_result, boost::system::error_code>)
            handler(handshake_result::closed, ec);
        else
            handler(ec, std::size_t{0});
    }

    boost::asio::ip::tcp::socket socket_;
    std::unique_ptr<tls::stream> tls_;
    tls::peer_info info_;
    bool peeked_ = false;
    bool plain_ = false;
    bool wants_read_ = false; // the last write step waits for readability
};

} // namespace bws::http
