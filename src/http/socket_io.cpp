// Socket system calls shared by the streams (see socket_io.hpp).
#include "http/socket_io.hpp"

#include <boost/asio/error.hpp>

#include <cerrno>
#include <sys/sendfile.h>
#include <sys/socket.h>

namespace bws::http {

namespace {

// Runs one non-blocking system call that returns a byte count: EINTR is retried, EAGAIN
// becomes would_block, any other errno the error code.
template <class Call>
std::size_t checked(Call&& call, boost::system::error_code& ec) {
    for (;;) {
        const ssize_t n = call();
        if (n >= 0) {
            ec = {};
            return static_cast<std::size_t>(n);
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            ec = boost::asio::error::would_block;
        else
            ec = {errno, boost::system::system_category()};
        return 0;
    }
}

} // namespace

std::size_t send_gathered(int fd, const iovec* iov, int count, bool more,
                          boost::system::error_code& ec) {
    msghdr msg{};
    msg.msg_iov = const_cast<iovec*>(iov);
    msg.msg_iovlen = static_cast<std::size_t>(count);
    const int flags = MSG_NOSIGNAL | (more ? MSG_MORE : 0);
    return checked([&] { return ::sendmsg(fd, &msg, flags); }, ec);
}

std::size_t send_file_slice(int fd, int file_fd, std::uint64_t offset, std::size_t count,
                            boost::system::error_code& ec) {
    auto position = static_cast<off_t>(offset);
    return checked([&] { return ::sendfile(fd, file_fd, &position, count); }, ec);
}

std::string peer_address(const boost::asio::ip::tcp::socket& socket) {
    boost::system::error_code ec;
    auto remote = socket.remote_endpoint(ec);
    if (ec)
        return std::string(1, '-'); // not "-": GCC 12 warns falsely (PR 105651)
    return remote.address().to_string();
}

} // namespace bws::http
