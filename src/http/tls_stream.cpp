// TLS stream (see tls_stream.hpp): socket setup, the first-byte peek, the write path over
// tls::stream and the error mapping the session and the failure funnel understand.
#include "http/tls_stream.hpp"

#include "http/socket_io.hpp"
#include "tls/error.hpp"

#include <cerrno>
#include <sys/socket.h>

namespace bws::http {

namespace {

constexpr unsigned char tls_handshake_record = 0x16;

} // namespace

tls_stream::tls_stream(boost::asio::ip::tcp::socket socket, tls::ssl_ptr ssl)
    : socket_(std::move(socket)),
      tls_(std::make_unique<tls::stream>(std::move(ssl), socket_.native_handle())) {}

void tls_stream::start(boost::system::error_code& ec) {
    socket_.set_option(boost::asio::ip::tcp::no_delay(true), ec);
    socket_.native_non_blocking(true, ec);
}

std::string tls_stream::peer_address() const {
    return http::peer_address(socket_);
}

tls_stream::peek_result tls_stream::peek(boost::system::error_code& ec) {
    unsigned char first = 0;
    for (;;) {
        const ssize_t n = ::recv(socket_.native_handle(), &first, 1, MSG_PEEK);
        if (n == 1)
            break;
        if (n == 0)
            return peek_result::eof;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return peek_result::would_block;
        ec = {errno, boost::system::system_category()};
        return peek_result::error;
    }
    if (first == tls_handshake_record)
        return peek_result::tls;
    // Every HTTP method starts with an upper-case letter.
    if (first >= 'A' && first <= 'Z')
        return peek_result::plain_http;
    return peek_result::other;
}

boost::system::error_code tls_stream::to_error(const tls::io_result& r) {
    if (r.state == tls::status::closed) {
        // close_notify or a close without it: the peer left, which sessions treat as EOF.
        if (!r.ec || r.ec == tls::errc::stream_truncated)
            return boost::asio::error::eof;
        return boost::system::error_code(r.ec);
    }
    return boost::system::error_code(r.ec);
}

std::size_t tls_stream::write_some(const iovec* iov, int count, bool /*more*/,
                                   boost::system::error_code& ec) {
    if (plain_) // plain mode answers one short 400 in the clear
        return send_gathered(socket_.native_handle(), iov, count, false, ec);
    const tls::io_result r = tls_->write({iov, static_cast<std::size_t>(count)});
    wants_read_ = r.state == tls::status::want_read;
    switch (r.state) {
    case tls::status::done:
        ec = {};
        return r.bytes;
    case tls::status::want_read:
    case tls::status::want_write:
        // What was consumed counts as written; a record still pending is flushed by the next
        // write_some or by flushed().
        ec = r.bytes == 0 ? boost::system::error_code(boost::asio::error::would_block)
                          : boost::system::error_code{};
        return r.bytes;
    case tls::status::closed:
    case tls::status::error:
        ec = to_error(r);
        if (ec == boost::asio::error::eof)
            ec = boost::asio::error::broken_pipe;
        return 0;
    }
    return 0;
}

bool tls_stream::flushed(boost::system::error_code& ec) {
    ec = {};
    if (plain_ || !tls_->write_pending())
        return true;
    write_some(nullptr, 0, false, ec);
    if (ec)
        return false;
    if (tls_->write_pending()) {
        ec = boost::asio::error::would_block;
        return false;
    }
    return true;
}

void tls_stream::shutdown_send(boost::system::error_code& ec) {
    if (!plain_ && peeked_ && SSL_is_init_finished(tls_->native()) == 1)
        tls_->shutdown(); // close_notify; a peer that is gone already changes nothing
    socket_.shutdown(boost::asio::ip::tcp::socket::shutdown_send, ec);
}

} // namespace bws::http
