// The session's write path (see session.cpp for the state machine): writes are tried at
// once without waiting, and wait for writability only when the stream cannot take more. The
// head and in-memory pieces go out in one gathered write; file slices go out with send_file
// where the stream can (zero copy) and otherwise through a bounded chunk read with pread,
// never the whole file. A file piece with an encoder is compressed chunk by chunk as it is
// read and framed as HTTP/1.1 chunks (the response is `streamed`).
#include "content/stream_encoder.hpp"
#include "http/failure_funnel.hpp"
#include "http/proxy_call.hpp"
#include "http/request_log.hpp"
#include "http/server.hpp"
#include "http/session.hpp"
#include "metrics/shared_metrics.hpp"

#include <boost/asio/error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <iterator>
#include <unistd.h>

namespace bws::http {

namespace asio = boost::asio;

namespace {

constexpr std::size_t file_chunk = 64 * 1024; // buffered path: bytes read from a file at once
constexpr std::size_t max_iov = 16;
constexpr std::uint64_t max_sendfile = 1u << 30;
// A compressed stream yields to the worker's other connections after this many chunks
// (256 KiB of input, 3-8 ms of brotli or gzip at level 6 here): a client that drains as fast
// as the coder produces would otherwise never make the write wait, and hold the worker for
// the whole file.
constexpr int encoded_chunks_per_turn = 4;

// One pread of up to `want` bytes of `fd` at `at`, retried on EINTR: the count read, or 0 with
// `err` set (0 when the file ended: it shrank).
std::size_t read_at(int fd, char* into, std::size_t want, std::uint64_t at, int& err) {
    for (;;) {
        const ssize_t n = ::pread(fd, into, want, static_cast<off_t>(at));
        if (n > 0)
            return static_cast<std::size_t>(n);
        if (n < 0 && errno == EINTR)
            continue;
        err = n == 0 ? 0 : errno;
        return 0;
    }
}

} // namespace

template <class Stream>
void session<Stream>::do_write() {
    int encoded_chunks = 0;
    while (phase_ != phase::closed) {
        while (piece_ < out_body_.size() && piece_sent_ == 0 && out_body_[piece_].size() == 0 &&
               !out_body_[piece_].encoder)
            ++piece_; // nothing to send for an empty piece
        const bool head_left = out_head_sent_ < out_head_.size();
        if (!head_left && piece_ >= out_body_.size()) {
            boost::system::error_code ec;
            if (!stream_.flushed(ec)) {
                on_write_error(ec);
                return;
            }
            on_written();
            return;
        }
        const bool file_next = !head_left && out_body_[piece_].file;
        const bool encoded = file_next && out_body_[piece_].encoder;
        if (encoded && chunk_sent_ >= chunk_.size() && ++encoded_chunks > encoded_chunks_per_turn) {
            // Let the worker's other connections run; the send timeout restarts meanwhile,
            // as it does when a write waits.
            deadline_ = clock::now() + server_.limits().send_timeout;
            asio::post(stream_.get_executor(), [self = self()] {
                if (self->phase_ == phase::writing)
                    self->do_write();
            });
            return;
        }
        const bool ok = file_next && !encoded && stream_.can_send_file() ? write_file_zero_copy()
                                                                         : write_gathered();
        if (!ok)
            return;
    }
}

template <class Stream>
bool session<Stream>::write_gathered() {
    // Gather the rest of the head and every in-memory piece up to the next file; on the
    // buffered path the current file piece's chunk joins them.
    iovec iov[max_iov];
    std::size_t count = 0;
    std::size_t total = 0;
    auto add = [&](char* data, std::size_t size) {
        iov[count].iov_base = data;
        iov[count].iov_len = size;
        ++count;
        total += size;
    };
    if (out_head_sent_ < out_head_.size())
        add(out_head_.data() + out_head_sent_, out_head_.size() - out_head_sent_);
    std::size_t p = piece_;
    bool more_file = false; // the gathered chunk is not the end of its file piece
    for (; p < out_body_.size() && count < max_iov; ++p) {
        auto& piece = out_body_[p];
        const std::uint64_t offset = p == piece_ ? piece_sent_ : 0;
        if (!piece.file) {
            const std::string_view memory = piece.memory();
            if (memory.size() > offset) // writev takes non-const bases; nothing writes to them
                add(const_cast<char*>(memory.data()) + offset, memory.size() - offset);
            continue;
        }
        if ((stream_.can_send_file() && !piece.encoder) || p != piece_)
            break; // sent by send_file, or its chunk is read once the pieces before it are out
        if (chunk_sent_ >= chunk_.size() && !(piece.encoder ? fill_encoded_chunk() : fill_chunk()))
            return false;
        add(chunk_.data() + chunk_sent_, chunk_.size() - chunk_sent_);
        more_file = piece.encoder ? !piece.encoder->finished()
                                  : piece_sent_ + (chunk_.size() - chunk_sent_) < piece.length;
        ++p;
        break;
    }
    boost::system::error_code ec;
    const std::size_t n = count > 0 ? stream_.write_some(iov, static_cast<int>(count),
                                                         more_file || p < out_body_.size(), ec)
                                    : 0;
    if (ec) {
        on_write_error(ec);
        return false;
    }
    // Account for what went out, in order: head, memory pieces, the file chunk.
    std::uint64_t sent = n;
    const auto head_take = std::min<std::uint64_t>(sent, out_head_.size() - out_head_sent_);
    out_head_sent_ += head_take;
    sent -= head_take;
    while (sent > 0 && piece_ < out_body_.size()) {
        auto& piece = out_body_[piece_];
        if (piece.encoder) {
            // Its chunk was gathered last; piece_sent_ counts the input it was made from.
            const std::uint64_t take = std::min<std::uint64_t>(sent, chunk_.size() - chunk_sent_);
            chunk_sent_ += take;
            body_bytes_ += take; // as sent, chunk framing included (as the proxy counts)
            sent -= take;
            if (chunk_sent_ < chunk_.size() || !piece.encoder->finished())
                break;
            ++piece_;
            piece_sent_ = 0;
            continue;
        }
        const std::uint64_t left = piece.size() - piece_sent_;
        const std::uint64_t take = std::min(sent, left);
        if (piece.file)
            chunk_sent_ += take; // only the chunk of this piece was gathered
        piece_sent_ += take;
        sent -= take;
        if (piece_sent_ < piece.size())
            break;
        ++piece_;
        piece_sent_ = 0;
    }
    if (n < total) {
        wait_writable(); // partial write: the stream cannot take more now
        return false;
    }
    return true;
}

template <class Stream>
bool session<Stream>::fill_chunk() {
    auto& piece = out_body_[piece_];
    const auto want =
        static_cast<std::size_t>(std::min<std::uint64_t>(piece.length - piece_sent_, file_chunk));
    chunk_.resize(want);
    chunk_sent_ = 0;
    int err = 0;
    const std::size_t n =
        read_at(piece.file->fd(), chunk_.data(), want, piece.offset + piece_sent_, err);
    chunk_.resize(n);
    if (n == 0) {
        fail_file_read(err);
        return false;
    }
    return true;
}

template <class Stream>
bool session<Stream>::fill_encoded_chunk() {
    auto& piece = out_body_[piece_];
    content::stream_encoder& encoder = *piece.encoder;
    // One worker thread, one response being compressed at a time: scratch buffers shared by
    // the worker's sessions instead of 64 KiB more in each.
    thread_local std::vector<char> input(file_chunk);
    thread_local std::string output;
    output.clear();
    chunk_.clear();
    chunk_sent_ = 0;
    // Coders buffer up to a block: read until one emits something (or the body ends).
    while (output.empty() && !encoder.finished()) {
        const auto want = static_cast<std::size_t>(
            std::min<std::uint64_t>(piece.length - piece_sent_, file_chunk));
        std::size_t got = 0;
        if (want > 0) {
            int err = 0;
            got = read_at(piece.file->fd(), input.data(), want, piece.offset + piece_sent_, err);
            if (got == 0) {
                fail_file_read(err);
                return false;
            }
        }
        piece_sent_ += got;
        if (!encoder.write({input.data(), got}, piece_sent_ == piece.length, output)) {
            fail(failure_kind::compress, make_error_code(boost::system::errc::not_enough_memory));
            return false;
        }
    }
    auto out = std::back_inserter(chunk_);
    if (!output.empty()) {
        fmt::format_to(out, "{:x}\r\n", output.size());
        chunk_.insert(chunk_.end(), output.begin(), output.end());
        fmt::format_to(out, "\r\n");
    }
    if (encoder.finished())
        fmt::format_to(out, "0\r\n\r\n"); // the last chunk, no trailer fields
    return true;
}

template <class Stream>
void session<Stream>::fail_file_read(int err) {
    chunk_.clear();
    if (err == 0) // the promised length cannot be delivered
        fail(failure_kind::file_shrank, asio::error::eof);
    else
        fail(failure_kind::file_read, {err, boost::system::system_category()});
}

template <class Stream>
bool session<Stream>::write_file_zero_copy() {
    auto& piece = out_body_[piece_];
    const auto chunk =
        static_cast<std::size_t>(std::min<std::uint64_t>(piece.length - piece_sent_, max_sendfile));
    boost::system::error_code ec;
    const auto n = stream_.send_file(piece.file->fd(), piece.offset + piece_sent_, chunk, ec);
    if (ec) {
        on_write_error(ec);
        return false;
    }
    if (n == 0) {
        // The file shrank under us: the promised length cannot be delivered.
        fail(failure_kind::file_shrank, asio::error::eof);
        return false;
    }
    piece_sent_ += n;
    if (piece_sent_ >= piece.length) {
        ++piece_;
        piece_sent_ = 0;
    }
    return true;
}

template <class Stream>
void session<Stream>::on_write_error(const boost::system::error_code& ec) {
    if (ec == asio::error::would_block)
        wait_writable(); // the stream cannot take more: resume when it drains
    else
        fail(failure_kind::peer_write, ec);
}

template <class Stream>
void session<Stream>::wait_writable() {
    deadline_ = clock::now() + server_.limits().send_timeout;
    stream_.async_wait_writable([self = self()](boost::system::error_code ec) {
        if (self->phase_ == phase::closed)
            return;
        if (ec) {
            self->fail(failure_kind::peer_write, ec);
            return;
        }
        self->do_write();
    });
}

// The write path's members for both streams (the rest of each class is instantiated in
// session.cpp).
template <class Stream>
void session<Stream>::log_request() {
    if (!parser_)
        return;
    finished_request request;
    request.time = request_time_;
    request.duration =
        std::chrono::duration_cast<std::chrono::microseconds>(clock::now() - request_start_);
    // Taken for this line and cleared, so a next request that fails before check_access
    // (a 400) does not inherit them.
    const std::string forwarded = std::exchange(forwarded_client_, {});
    const std::string user = std::exchange(remote_user_, {});
    request.client_address = forwarded.empty() ? client_address_ : forwarded;
    request.remote_user = user;
    request.status = status_;
    request.body_bytes = body_bytes_;
    if constexpr (handshaking_stream<Stream>) {
        if (!stream_.is_plain()) {
            request.tls_version = stream_.info().version;
            request.tls_cipher = stream_.info().cipher;
            request.client_subject = stream_.info().client_subject;
        }
    }
    if (call_) {
        if (call_->peer.empty()) {
            // Never connected: the server tried last names the failure.
            const auto& pools = call_->upstreams->config().pools;
            call_->peer = pools[call_->route->pool].servers[call_->server].authority;
        }
        request.upstream_address = call_->peer;
        request.upstream_status = call_->status;
        request.upstream_time =
            std::chrono::duration_cast<std::chrono::microseconds>(clock::now() - call_->started);
        metrics::count_upstream(server_.site(site_).metrics_site, call_->status == 0,
                                static_cast<std::uint64_t>(request.upstream_time.count()));
    }
    // Relaxed adds on this worker's own slot: no lock, nothing shared with other workers.
    metrics::count_request(server_.site(site_).metrics_site, parser_->head().method_string, status_,
                           std::exchange(bytes_read_, 0), body_bytes_,
                           static_cast<std::uint64_t>(request.duration.count()));
    log_finished_request(server_, server_.site(site_), parser_->head(), request);
}

#define BWS_SESSION_WRITE_PATH(Stream)                                                             \
    template void session<Stream>::do_write();                                                     \
    template bool session<Stream>::write_gathered();                                               \
    template bool session<Stream>::fill_chunk();                                                   \
    template bool session<Stream>::fill_encoded_chunk();                                           \
    template void session<Stream>::fail_file_read(int);                                            \
    template bool session<Stream>::write_file_zero_copy();                                         \
    template void session<Stream>::on_write_error(const boost::system::error_code&);               \
    template void session<Stream>::wait_writable();                                                \
    template void session<Stream>::log_request();
BWS_SESSION_WRITE_PATH(plain_stream)
BWS_SESSION_WRITE_PATH(tls_stream)
#undef BWS_SESSION_WRITE_PATH

} // namespace bws::http
