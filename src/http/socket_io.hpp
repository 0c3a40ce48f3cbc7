// The system calls the streams share on a non-blocking TCP socket: gathered sends, sendfile
// and the peer's address, with EINTR retried and EAGAIN reported as would_block.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <sys/uio.h>

namespace bws::http {

// sendmsg(2) of `count` buffers with MSG_NOSIGNAL (plus MSG_MORE when `more`). Returns the
// bytes written; sets `ec` to would_block when none could be, or to the error.
std::size_t send_gathered(int fd, const iovec* iov, int count, bool more,
                          boost::system::error_code& ec);

// sendfile(2) of up to `count` bytes of `file_fd` from `offset`; like send_gathered. Returns
// 0 without an error when the file has no bytes at `offset` any more.
std::size_t send_file_slice(int fd, int file_fd, std::uint64_t offset, std::size_t count,
                            boost::system::error_code& ec);

// The peer's address as text, "-" when it cannot be had.
std::string peer_address(const boost::asio::ip::tcp::socket& socket);

} // namespace bws::http
