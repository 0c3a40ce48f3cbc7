// A TLS connection (server side, or client side for https:// upstreams) driven directly over a
// non-blocking socket fd (no memory BIO pair, no Asio ssl::stream): each step returns what it needs
// next, so an async session waits with socket.async_wait(wait_read / wait_write) and calls the step
// again.
#pragma once

#include "tls/openssl_ptr.hpp"

#include <sys/uio.h>

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <system_error>

namespace bws::tls {

struct table_site;

enum class status {
    done,       // the step finished
    want_read,  // wait until the fd is readable, then call the same step again
    want_write, // wait until the fd is writable, then call the same step again
    closed,     // the peer went away: ec is empty after close_notify, else benign (truncated)
    error,      // a real failure: ec says which (errc::handshake_failed, a system error, ...)
};

struct io_result {
    status state;
    std::size_t bytes = 0; // read: bytes read; write: bytes of the caller's buffers consumed
    std::error_code ec;
};

struct peer_info {
    std::string version;        // "TLSv1.3"
    std::string cipher;         // "TLS_AES_128_GCM_SHA256"
    std::string alpn;           // "http/1.1" or ""
    std::string client_subject; // RFC 2253 subject of a verified client certificate, or ""
    const table_site* site = nullptr;
    bool resumed = false;
};

class stream {
public:
    // Plaintext bytes per TLS record; small pieces are gathered into records this large.
    static constexpr std::size_t record_size = 16384;

    enum class role { server, client };

    // Takes a non-null SSL from context_table::new_ssl() (server) or upstream_tls (client);
    // `fd` stays owned by the caller and must be non-blocking. The process must ignore SIGPIPE
    // (bws workers do): OpenSSL writes with write(2), and a peer that went away then gives
    // EPIPE.
    stream(ssl_ptr ssl, int fd, role side = role::server);

    io_result handshake();
    // Reads decrypted bytes into `buffer`; done with bytes > 0, or want_read/closed/error.
    io_result read(void* buffer, std::size_t size);
    // Processes what arrived without taking it: done when decrypted bytes wait to be read,
    // else want_read (the socket said EAGAIN), want_write, closed or error. Lets an idle
    // connection wait for readability without holding a read buffer.
    io_result peek();
    // Encrypts and sends the buffers, gathering small ones into full records. `bytes` is how
    // much of `buffers` was consumed; done means all of it was consumed and sent. After
    // want_read/want_write call again with the unconsumed rest (possibly nothing) once the fd
    // is ready: consumed bytes may still sit in a pending record until a call returns done.
    io_result write(std::span<const iovec> buffers);
    // Sends close_notify (does not wait for the peer's).
    io_result shutdown();

    peer_info info() const;
    // OpenSSL's reason for the last failed step ("unsupported protocol", "no shared cipher",
    // ...), or "" when it gave none; for log lines.
    std::string failure_reason() const;
    SSL* native() const noexcept { return ssl_.get(); }
    // True while a gathered record waits for the socket.
    bool write_pending() const noexcept { return record_size_ > 0; }
    // Frees the gathering buffer unless a record in it waits for the socket. For a connection
    // that is about to wait idle: a busy one keeps the buffer from response to response.
    void release_write_buffer() noexcept {
        if (record_size_ == 0)
            record_.reset();
    }

private:
    io_result classify(int ret, bool in_handshake);
    io_result flush_record();
    io_result write_direct(const unsigned char* data, std::size_t size);

    ssl_ptr ssl_;
    // Allocated by the first write that gathers, kept while the connection is busy, freed by
    // release_write_buffer() when it goes idle.
    std::unique_ptr<unsigned char[]> record_;
    std::size_t record_size_ = 0;
    unsigned long last_error_ = 0; // the OpenSSL error code behind the last error result
};

} // namespace bws::tls
