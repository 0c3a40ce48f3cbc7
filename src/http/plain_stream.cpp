// Plain-TCP stream (see plain_stream.hpp): socket setup; the writes are socket_io's.
#include "http/plain_stream.hpp"

#include "http/socket_io.hpp"

#include <sys/socket.h>

#include <cerrno>

namespace bws::http {

void plain_stream::start(boost::system::error_code& ec) {
    socket_.set_option(boost::asio::ip::tcp::no_delay(true), ec);
    socket_.native_non_blocking(true, ec);
}

std::string plain_stream::peer_address() const {
    return http::peer_address(socket_);
}

bool plain_stream::readable_now() {
    char byte = 0;
    const auto n = ::recv(socket_.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
}

std::size_t plain_stream::write_some(const iovec* iov, int count, bool more,
                                     boost::system::error_code& ec) {
    return send_gathered(socket_.native_handle(), iov, count, more, ec);
}

std::size_t plain_stream::send_file(int file_fd, std::uint64_t offset, std::size_t count,
                                    boost::system::error_code& ec) {
    return send_file_slice(socket_.native_handle(), file_fd, offset, count, ec);
}

} // namespace bws::http
