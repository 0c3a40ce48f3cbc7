// The direct OpenSSL stream: data both ways, records gathered from small buffers, a 1 MiB write
// through a small socket buffer, and how closes and failures are classified.
#include "tls/stream.hpp"

#include "tls/error.hpp"
#include "tls_fixture.hpp"

#include <gtest/gtest.h>
#include <openssl/err.h>

#include <sys/socket.h>
#include <unistd.h>

#include <poll.h>

namespace {

using namespace bws::tls;
using namespace bws::tls::testing;

struct connected {
    std::unique_ptr<context_table> table = make_table();
    ssl_ctx_ptr client_ctx = make_client_ctx();
    connection_pair c{*table, client_ctx.get(), "a.example.com"};
    connected() {
        EXPECT_TRUE(c.handshake());
        drain_client(); // let the client take the session tickets off the wire
    }
    void drain_client() {
        char byte;
        std::size_t got = 0;
        EXPECT_EQ(SSL_read_ex(c.client.get(), &byte, 1, &got), 0);
        ERR_clear_error();
    }
    std::string server_read(std::size_t size) {
        std::string data;
        char buffer[4096];
        while (data.size() < size) {
            const io_result r = c.server->read(buffer, sizeof buffer);
            if (r.state == status::done)
                data.append(buffer, r.bytes);
            else if (r.state == status::want_read) {
                pollfd p{c.server_fd, POLLIN, 0};
                ::poll(&p, 1, 1000);
            } else
                break;
        }
        return data;
    }
    io_result server_read_result() {
        char buffer[256];
        for (;;) {
            const io_result r = c.server->read(buffer, sizeof buffer);
            if (r.state != status::want_read)
                return r;
            pollfd p{c.server_fd, POLLIN, 0};
            ::poll(&p, 1, 1000);
        }
    }
};

iovec piece(const std::string& s) {
    return {const_cast<char*>(s.data()), s.size()};
}

TEST(TlsStream, DataRoundTrips) {
    connected t;
    ASSERT_TRUE(t.c.client_write_all("GET / HTTP/1.1\r\n\r\n"));
    EXPECT_EQ(t.server_read(18), "GET / HTTP/1.1\r\n\r\n");
    const std::string head = "HTTP/1.1 200 OK\r\n\r\n", body = "hello";
    const iovec pieces[] = {piece(head), piece(body)};
    const io_result r = t.c.server->write(pieces);
    EXPECT_EQ(r.state, status::done);
    EXPECT_EQ(r.bytes, head.size() + body.size());
    EXPECT_FALSE(t.c.server->write_pending());
    EXPECT_EQ(t.c.client_read(head.size() + body.size()), head + body);
}

TEST(TlsStream, SmallPiecesAreGatheredIntoOneRecord) {
    connected t;
    std::vector<std::string> parts(100, std::string(10, 'x'));
    std::vector<iovec> pieces;
    for (const std::string& s : parts)
        pieces.push_back(piece(s));
    ASSERT_EQ(t.c.server->write(pieces).state, status::done);
    // TLS 1.3 record: 5 header bytes, the data, 1 content-type byte and a 16-byte tag.
    char raw[4096];
    const ssize_t on_wire = ::recv(t.c.client_fd, raw, sizeof raw, MSG_PEEK);
    EXPECT_EQ(on_wire, 1000 + 22);
    EXPECT_EQ(t.c.client_read(1000), std::string(1000, 'x'));
}

// A 1 MiB body behind a small header, through socket buffers far smaller than the data, so
// writes stop half way and resume.
TEST(TlsStream, LargeWriteThroughSmallSocketBuffers) {
    connected t;
    shrink_buffers(t.c.server_fd, 4096);
    shrink_buffers(t.c.client_fd, 4096);
    const std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\n\r\n";
    std::string body(1 << 20, '\0');
    for (std::size_t i = 0; i < body.size(); ++i)
        body[i] = static_cast<char>('a' + (i * 7919) % 26);
    const std::string expected = head + body;

    std::vector<iovec> pieces = {piece(head), piece(body)};
    std::span<iovec> rest(pieces);
    std::string received;
    int blocked = 0;
    bool written = false;
    char buffer[65536];
    for (int round = 0; round < 100000 && received.size() < expected.size(); ++round) {
        if (!written) {
            const io_result r = t.c.server->write(rest);
            ASSERT_TRUE(r.state == status::done || r.state == status::want_write) << r.ec.message();
            std::size_t n = r.bytes;
            while (!rest.empty() && n >= rest.front().iov_len) {
                n -= rest.front().iov_len;
                rest = rest.subspan(1);
            }
            if (!rest.empty()) {
                rest.front().iov_base = static_cast<char*>(rest.front().iov_base) + n;
                rest.front().iov_len -= n;
            }
            written = r.state == status::done && rest.empty();
            blocked += r.state == status::want_write;
        }
        std::size_t got = 0;
        if (SSL_read_ex(t.c.client.get(), buffer, sizeof buffer, &got) == 1)
            received.append(buffer, got);
        ERR_clear_error();
    }
    EXPECT_TRUE(written);
    EXPECT_GT(blocked, 0);
    ASSERT_EQ(received.size(), expected.size());
    EXPECT_TRUE(received == expected);
}

TEST(TlsStream, CloseNotifyIsACleanClose) {
    connected t;
    ASSERT_GE(SSL_shutdown(t.c.client.get()), 0);
    const io_result r = t.server_read_result();
    EXPECT_EQ(r.state, status::closed);
    EXPECT_FALSE(r.ec);
    EXPECT_EQ(t.c.server->shutdown().state, status::done);
}

TEST(TlsStream, EofWithoutCloseNotifyIsBenignTruncation) {
    connected t;
    ::shutdown(t.c.client_fd, SHUT_RDWR);
    const io_result r = t.server_read_result();
    EXPECT_EQ(r.state, status::closed);
    EXPECT_EQ(r.ec, errc::stream_truncated);
    EXPECT_TRUE(is_benign(r.ec));
}

TEST(TlsStream, GarbageAfterTheHandshakeIsAProtocolError) {
    connected t;
    const char garbage[] = "\x17\x03\x03\x00\x05hello";
    ASSERT_EQ(::write(t.c.client_fd, garbage, sizeof garbage - 1),
              static_cast<ssize_t>(sizeof garbage - 1));
    const io_result r = t.server_read_result();
    EXPECT_EQ(r.state, status::error);
    EXPECT_EQ(r.ec, errc::protocol_error);
    EXPECT_FALSE(is_benign(r.ec));
}

TEST(TlsStream, DisconnectMidHandshakeIsBenign) {
    auto table = make_table();
    auto client = make_client_ctx();
    connection_pair c(*table, client.get(), "a.example.com");
    EXPECT_EQ(c.server->handshake().state, status::want_read);
    ::shutdown(c.client_fd, SHUT_RDWR);
    const io_result r = c.server->handshake();
    EXPECT_EQ(r.state, status::closed);
    EXPECT_TRUE(is_benign(r.ec));
}

TEST(TlsStream, PlainHttpIsAHandshakeFailure) {
    auto table = make_table();
    auto client = make_client_ctx();
    connection_pair c(*table, client.get(), "a.example.com");
    const std::string request = "GET / HTTP/1.1\r\nHost: a.example.com\r\n\r\n";
    ASSERT_EQ(::write(c.client_fd, request.data(), request.size()),
              static_cast<ssize_t>(request.size()));
    const io_result r = c.server->handshake();
    EXPECT_EQ(r.state, status::error);
    EXPECT_EQ(r.ec, errc::handshake_failed);
}

TEST(TlsStream, ServerShutdownSendsCloseNotify) {
    connected t;
    EXPECT_EQ(t.c.server->shutdown().state, status::done);
    char byte;
    std::size_t got = 0;
    pollfd p{t.c.client_fd, POLLIN, 0};
    ::poll(&p, 1, 1000);
    EXPECT_EQ(SSL_read_ex(t.c.client.get(), &byte, 1, &got), 0);
    EXPECT_EQ(SSL_get_error(t.c.client.get(), 0), SSL_ERROR_ZERO_RETURN);
}

} // namespace
