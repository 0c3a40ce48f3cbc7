// The non-blocking TLS steps over a socket BIO, result classification (benign closes apart
// from failures) and record gathering for writes.
#include "tls/stream.hpp"

#include "tls/certificate.hpp"
#include "tls/context.hpp"
#include "tls/error.hpp"

#include <openssl/err.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace bws::tls {

namespace {

// classify() reads errno and the error queue, so neither may hold leftovers of earlier calls.
// ERR_clear_error() wipes every slot of the queue, which costs 2 % of a keep-alive worker's
// CPU when done before each call; the queue is nearly always empty already (classify() leaves
// it so), and a peek says whether it is.
void reset_errors() {
    if (ERR_peek_error() != 0)
        ERR_clear_error();
    errno = 0;
}

} // namespace

stream::stream(ssl_ptr ssl, int fd, role side) : ssl_(std::move(ssl)) {
    SSL_set_fd(ssl_.get(), fd);
    if (side == role::client)
        SSL_set_connect_state(ssl_.get());
    else
        SSL_set_accept_state(ssl_.get());
    SSL_set_mode(ssl_.get(), SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                                 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
}

io_result stream::classify(int ret, bool in_handshake) {
    const int saved_errno = errno;
    const int code = SSL_get_error(ssl_.get(), ret);
    const unsigned long queued = ERR_peek_last_error();
    // Each connection leaves the thread's error queue clean for the next one.
    if (queued != 0)
        ERR_clear_error();
    last_error_ = queued;
    switch (code) {
    case SSL_ERROR_WANT_READ:
        return {status::want_read, 0, {}};
    case SSL_ERROR_WANT_WRITE:
        return {status::want_write, 0, {}};
    case SSL_ERROR_ZERO_RETURN:
        return {status::closed, 0, {}};
    case SSL_ERROR_SYSCALL:
        if (queued == 0 && saved_errno == 0) // EOF seen by the socket BIO, no alert
            return {status::closed, 0, errc::stream_truncated};
        if (saved_errno == ECONNRESET || saved_errno == EPIPE)
            return {status::closed, 0, std::error_code(saved_errno, std::generic_category())};
        return {status::error, 0, std::error_code(saved_errno, std::generic_category())};
    case SSL_ERROR_SSL:
        if (ERR_GET_REASON(queued) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
            return {status::closed, 0, errc::stream_truncated};
        if (sni_refused(ssl_.get()))
            return {status::error, 0, errc::sni_refused};
        return {status::error, 0, in_handshake ? errc::handshake_failed : errc::protocol_error};
    default:
        return {status::error, 0, in_handshake ? errc::handshake_failed : errc::protocol_error};
    }
}

io_result stream::handshake() {
    reset_errors();
    const int ret = SSL_do_handshake(ssl_.get());
    if (ret == 1)
        return {status::done, 0, {}};
    return classify(ret, true);
}

io_result stream::read(void* buffer, std::size_t size) {
    reset_errors();
    std::size_t got = 0;
    const int ret = SSL_read_ex(ssl_.get(), buffer, size, &got);
    if (ret == 1)
        return {status::done, got, {}};
    return classify(ret, false);
}

io_result stream::peek() {
    reset_errors();
    unsigned char byte = 0;
    std::size_t got = 0;
    const int ret = SSL_peek_ex(ssl_.get(), &byte, 1, &got);
    if (ret == 1)
        return {status::done, got, {}};
    return classify(ret, false);
}

io_result stream::write_direct(const unsigned char* data, std::size_t size) {
    reset_errors();
    std::size_t sent = 0;
    // With partial writes on, this returns after each record that reached the socket; on
    // want_write OpenSSL keeps the encrypted record and the caller retries with the same bytes.
    const int ret = SSL_write_ex(ssl_.get(), data, size, &sent);
    if (ret == 1)
        return {status::done, sent, {}};
    return classify(ret, false);
}

io_result stream::flush_record() {
    std::size_t offset = 0;
    while (offset < record_size_) {
        io_result r = write_direct(record_.get() + offset, record_size_ - offset);
        if (r.state != status::done) {
            // Keep the unsent tail at the front so the retry passes the same bytes again.
            if (offset > 0) {
                std::memmove(record_.get(), record_.get() + offset, record_size_ - offset);
                record_size_ -= offset;
            }
            return r;
        }
        offset += r.bytes;
    }
    record_size_ = 0;
    return {status::done, 0, {}};
}

io_result stream::write(std::span<const iovec> buffers) {
    std::size_t consumed = 0;
    auto stop = [&](io_result r) {
        r.bytes = consumed;
        return r;
    };
    if (record_size_ > 0)
        if (io_result r = flush_record(); r.state != status::done)
            return stop(r);
    for (const iovec& piece : buffers) {
        const auto* data = static_cast<const unsigned char*>(piece.iov_base);
        std::size_t left = piece.iov_len;
        while (left > 0) {
            if (record_size_ == 0 && left >= record_size) {
                // Large enough for whole records: encrypt straight from the caller's memory.
                io_result r = write_direct(data, left);
                if (r.state != status::done)
                    return stop(r);
                consumed += r.bytes;
                data += r.bytes;
                left -= r.bytes;
                continue;
            }
            if (!record_)
                record_ = std::make_unique_for_overwrite<unsigned char[]>(record_size);
            const std::size_t take = std::min(left, record_size - record_size_);
            std::memcpy(record_.get() + record_size_, data, take);
            record_size_ += take;
            consumed += take;
            data += take;
            left -= take;
            if (record_size_ == record_size)
                if (io_result r = flush_record(); r.state != status::done)
                    return stop(r);
        }
    }
    if (record_size_ > 0)
        if (io_result r = flush_record(); r.state != status::done)
            return stop(r);
    return {status::done, consumed, {}};
}

io_result stream::shutdown() {
    reset_errors();
    const int ret = SSL_shutdown(ssl_.get());
    if (ret >= 0)
        return {status::done, 0, {}};
    return classify(ret, false);
}

std::string stream::failure_reason() const {
    if (last_error_ == 0)
        return {};
    const char* reason = ERR_reason_error_string(last_error_);
    return reason != nullptr ? reason : std::string();
}

peer_info stream::info() const {
    SSL* ssl = ssl_.get();
    peer_info info;
    info.version = SSL_get_version(ssl);
    if (const char* cipher = SSL_get_cipher_name(ssl))
        info.cipher = cipher;
    const unsigned char* alpn = nullptr;
    unsigned int alpn_size = 0;
    SSL_get0_alpn_selected(ssl, &alpn, &alpn_size);
    if (alpn != nullptr)
        info.alpn.assign(reinterpret_cast<const char*>(alpn), alpn_size);
    if (X509* peer = SSL_get0_peer_certificate(ssl);
        peer != nullptr && SSL_get_verify_result(ssl) == X509_V_OK)
        info.client_subject = subject_text(peer);
    info.site = selected_site(ssl);
    info.resumed = SSL_session_reused(ssl) == 1;
    return info;
}

} // namespace bws::tls
