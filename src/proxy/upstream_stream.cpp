// Upstream stream (see upstream_stream.hpp): socket setup, the idle check and the TLS error
// mapping.
#include "proxy/upstream_stream.hpp"

#include "tls/error.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <sys/socket.h>

#include <cerrno>

namespace bws::proxy {

void upstream_stream::connected(bool tcp, tls::ssl_ptr ssl) {
    boost::system::error_code ec;
    if (tcp)
        socket_.set_option(boost::asio::ip::tcp::no_delay(true), ec);
    if (ssl) {
        // tls::stream does its own reads and writes on the fd and waits only after EAGAIN.
        socket_.native_non_blocking(true, ec);
        tls_ = std::make_unique<tls::stream>(std::move(ssl), socket_.native_handle(),
                                             tls::stream::role::client);
    }
}

void upstream_stream::close(boost::system::error_code& ec) {
    if (tls_ && socket_.is_open() && SSL_is_init_finished(tls_->native()) == 1)
        tls_->shutdown();
    socket_.close(ec);
}

bool upstream_stream::still_open() {
    if (tls_) {
        // want_read: the socket said EAGAIN after any tickets were taken in.
        return tls_->peek().state == tls::status::want_read;
    }
    char byte;
    const auto n = ::recv(socket_.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

void upstream_stream::consume(std::size_t bytes) {
    std::size_t i = 0;
    while (i < pending_.size() && bytes >= pending_[i].iov_len)
        bytes -= pending_[i++].iov_len;
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(i));
    if (bytes > 0 && !pending_.empty()) {
        pending_.front().iov_base = static_cast<char*>(pending_.front().iov_base) + bytes;
        pending_.front().iov_len -= bytes;
    }
}

boost::system::error_code upstream_stream::to_error(const tls::io_result& r) {
    if (r.state == tls::status::closed && (!r.ec || r.ec == tls::errc::stream_truncated))
        return boost::asio::error::eof; // what a plain socket's EOF reads as
    return boost::system::error_code(r.ec);
}

} // namespace bws::proxy
