// The plain-TCP stream a session runs over: reads through Asio, writes straight on the
// non-blocking descriptor (sendmsg with gathered buffers, sendfile for file slices) so a small
// response costs one system call and no handler hop. The operations here are the whole stream
// contract of http::session (see session.hpp); a TLS stream provides the same ones.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <sys/uio.h>
#include <utility>

namespace bws::http {

class plain_stream {
public:
    using executor_type = boost::asio::ip::tcp::socket::executor_type;

    // `zero_copy` false sends file slices through the buffered path (pread + write_some), as
    // a stream that cannot sendfile does; tests use it to compare both paths.
    explicit plain_stream(boost::asio::ip::tcp::socket socket, bool zero_copy = true)
        : socket_(std::move(socket)), zero_copy_(zero_copy) {}

    executor_type get_executor() { return socket_.get_executor(); }

    // Per-connection setup: TCP_NODELAY and a non-blocking descriptor for write_some.
    void start(boost::system::error_code& ec);
    // The peer's address as text, "-" when it cannot be had.
    std::string peer_address() const;

    template <class MutableBuffer, class Handler>
    void async_read_some(const MutableBuffer& buffer, Handler&& handler) {
        socket_.async_read_some(buffer, std::forward<Handler>(handler));
    }

    // Writes what it can of `count` buffers without blocking; `more` says that more of the
    // same response follows at once (the kernel may hold a partial segment). Returns the bytes
    // written; sets `ec` to would_block when none could be, or to the error.
    std::size_t write_some(const iovec* iov, int count, bool more, boost::system::error_code& ec);

    // Whether everything write_some took is on its way (a TLS stream may hold a record
    // back); a plain socket holds nothing.
    bool flushed(boost::system::error_code& ec) {
        ec = {};
        return true;
    }

    // Whether a read would make progress now (bytes, end of stream or an error), without
    // reading; false when the socket says EAGAIN.
    bool readable_now();
    // Completes when the socket has something to read; call it right after readable_now()
    // said false, so the next arrival wakes the edge-triggered reactor.
    template <class Handler>
    void async_wait_readable(Handler&& handler) {
        socket_.async_wait(boost::asio::ip::tcp::socket::wait_read, std::forward<Handler>(handler));
    }

    // Completes when write_some can make progress again (or with an error).
    template <class Handler>
    void async_wait_writable(Handler&& handler) {
        socket_.async_wait(boost::asio::ip::tcp::socket::wait_write,
                           std::forward<Handler>(handler));
    }

    // Whether send_file may be used; when false the session reads file slices itself.
    bool can_send_file() const { return zero_copy_; }
    // sendfile(2) of up to `count` bytes of `file_fd` from `offset`; like write_some. Returns
    // 0 without an error when the file has no bytes at `offset` any more.
    std::size_t send_file(int file_fd, std::uint64_t offset, std::size_t count,
                          boost::system::error_code& ec);

    void cancel(boost::system::error_code& ec) { socket_.cancel(ec); }
    void shutdown_send(boost::system::error_code& ec) {
        socket_.shutdown(boost::asio::ip::tcp::socket::shutdown_send, ec);
    }
    void close(boost::system::error_code& ec) { socket_.close(ec); }

private:
    boost::asio::ip::tcp::socket socket_;
    bool zero_copy_;
};

} // namespace bws::http
