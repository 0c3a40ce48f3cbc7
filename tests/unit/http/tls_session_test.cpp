// Sessions over TLS, driven inside the test process like session_test.cpp: a real http::server
// with one TLS site on a loopback listener and blocking OpenSSL clients. Covers the write path
// that differs from plain TCP (records held back by a full socket, a large file through the
// buffered path to a slow reader, keep-alive after it), pipelining, plain HTTP on the TLS port,
// a stalled or garbage handshake, and failed handshakes counted per site.
#include "loopback_server.hpp"
#include "tls/openssl_ptr.hpp"

#include "../tls/test_certs.hpp"

#include <boost/asio/post.hpp>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <arpa/inet.h>
#include <chrono>
#include <cstring>
#include <future>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace {

namespace asio = boost::asio;
using namespace bws;
using namespace std::chrono_literals;

int connect_loopback(std::uint16_t port, int receive_buffer = 0) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (receive_buffer > 0)
        ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    timeval tv{10, 0}; // a hung server fails the test instead of blocking it
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
        ADD_FAILURE() << "connect: " << std::strerror(errno);
    return fd;
}

struct reply {
    unsigned status = 0;
    std::string head;
    std::string body;
};

// A blocking TLS client: SNI s.test, verifies the server against the test CA.
class tls_client {
public:
    tls_client(std::uint16_t port, const std::filesystem::path& ca_file, int receive_buffer = 0,
               int max_version = TLS1_3_VERSION)
        : fd_(connect_loopback(port, receive_buffer)), ctx_(SSL_CTX_new(TLS_client_method())) {
        SSL_CTX_load_verify_locations(ctx_.get(), ca_file.c_str(), nullptr);
        SSL_CTX_set_verify(ctx_.get(), SSL_VERIFY_PEER, nullptr);
        SSL_CTX_set_max_proto_version(ctx_.get(), max_version);
        SSL_CTX_set_min_proto_version(ctx_.get(), TLS1_VERSION);
        SSL_CTX_set_security_level(ctx_.get(), 0); // let the client offer TLS 1.0/1.1 at all
        ssl_.reset(SSL_new(ctx_.get()));
        SSL_set_fd(ssl_.get(), fd_);
        SSL_set_tlsext_host_name(ssl_.get(), "s.test");
        SSL_set1_host(ssl_.get(), "s.test");
        connected_ = SSL_connect(ssl_.get()) == 1;
        ERR_clear_error();
    }
    ~tls_client() {
        ssl_.reset();
        ::close(fd_);
    }
    tls_client(const tls_client&) = delete;
    tls_client& operator=(const tls_client&) = delete;

    bool connected() const { return connected_; }
    void send(const std::string& data) {
        std::size_t written = 0;
        ASSERT_EQ(SSL_write_ex(ssl_.get(), data.data(), data.size(), &written), 1);
        ASSERT_EQ(written, data.size());
    }
    // One response with a Content-Length body; `chunk` bounds each read (a slow reader).
    reply read_reply(std::size_t chunk = 16 * 1024) {
        reply r;
        std::size_t end;
        while ((end = buffer_.find("\r\n\r\n")) == std::string::npos)
            if (!fill(chunk))
                return r;
        r.head = buffer_.substr(0, end + 4);
        buffer_.erase(0, end + 4);
        r.status = static_cast<unsigned>(std::stoul(r.head.substr(9, 3)));
        std::size_t length = 0;
        if (auto at = r.head.find("Content-Length: "); at != std::string::npos)
            length = std::stoul(r.head.substr(at + 16));
        while (buffer_.size() < length)
            if (!fill(chunk))
                break;
        r.body = buffer_.substr(0, std::min(length, buffer_.size()));
        buffer_.erase(0, r.body.size());
        return r;
    }

private:
    bool fill(std::size_t chunk) {
        std::string data(chunk, '\0');
        std::size_t got = 0;
        if (SSL_read_ex(ssl_.get(), data.data(), data.size(), &got) != 1)
            return false;
        buffer_.append(data.data(), got);
        return true;
    }
    int fd_;
    tls::ssl_ctx_ptr ctx_;
    tls::ssl_ptr ssl_;
    bool connected_ = false;
    std::string buffer_;
};

std::string pattern(std::size_t size) {
    std::string out(size, '\0');
    for (std::size_t i = 0; i < size; ++i)
        out[i] = static_cast<char>((i * 13 + i / 509) & 0xff);
    return out;
}

std::string get(std::string_view path, std::string_view extra = {}) {
    return fmt::format("GET {} HTTP/1.1\r\nHost: s.test\r\n{}\r\n", path, extra);
}

// Reads until EOF or the receive timeout; what arrived.
std::string read_to_end(int fd) {
    std::string out;
    char data[4096];
    for (;;) {
        const auto n = ::recv(fd, data, sizeof data, 0);
        if (n <= 0)
            return out;
        out.append(data, static_cast<std::size_t>(n));
    }
}

class TlsSession : public ::testing::Test {
protected:
    void SetUp() override {
        dir_.write("www/a.txt", "alpha");
        dir_.write("www/b.txt", "bravo!");
        medium_ = pattern(12 * 1024);
        dir_.write("www/medium.bin", medium_);
        big_ = pattern(5 * 1024 * 1024 + 77);
        dir_.write("www/big.bin", big_);
        leaf_ = ca_.issue("s", {.common_name = "s.test", .dns_names = {"s.test"}});
        port_ = server_.port();
        listen_fd_ = server_.listen_fd();
    }

    void start(std::string_view limits = {}) {
        server_.start(fmt::format(R"(
[server.limits]
{}

[logging]
level = "warn"
log_requests = false

[[sites]]
name = "s"
hostname = "s.test"
port = {}
bind = "127.0.0.1"
static_dir = "{}"

[sites.ssl]
enabled = true
cert_file = "{}"
key_file = "{}"
)",
                                  limits, port_, (dir_ / "www").string(), leaf_.cert_file.string(),
                                  leaf_.key_file.string()));
    }
    std::map<std::string, std::uint64_t> failures() { return server_.failures(); }

    config::test::temp_dir dir_;
    tls::testing::temp_directory pki_dir_;
    tls::testing::cert_factory ca_{pki_dir_.path};
    tls::testing::pem_files leaf_;
    std::string medium_;
    std::string big_;
    http::testing::loopback_server server_;
    std::uint16_t port_ = 0;
    int listen_fd_ = -1;
};

TEST_F(TlsSession, LargeFileToASlowReaderThenKeepAlive) {
    start();
    // A small receive buffer and small reads: the server's socket fills up again and again,
    // so records are held back and resumed many times.
    tls_client c(port_, ca_.ca_file(), 4096);
    ASSERT_TRUE(c.connected());
    c.send(get("/big.bin"));
    auto big = c.read_reply(1024);
    EXPECT_EQ(big.status, 200u);
    ASSERT_EQ(big.body.size(), big_.size());
    EXPECT_TRUE(big.body == big_) << "the body differs from the file";
    // The connection is still usable: nothing of the large response was left behind.
    c.send(get("/a.txt"));
    auto a = c.read_reply();
    EXPECT_EQ(a.status, 200u);
    EXPECT_EQ(a.body, "alpha");
}

TEST_F(TlsSession, RangeOfALargeFile) {
    start();
    tls_client c(port_, ca_.ca_file());
    ASSERT_TRUE(c.connected());
    c.send(get("/big.bin", "Range: bytes=1000000-1999999\r\n"));
    auto r = c.read_reply();
    EXPECT_EQ(r.status, 206u);
    EXPECT_TRUE(r.body == big_.substr(1000000, 1000000));
}

TEST_F(TlsSession, PipelinedRequestsAreAnsweredInOrder) {
    start();
    tls_client c(port_, ca_.ca_file());
    ASSERT_TRUE(c.connected());
    c.send(get("/b.txt") + get("/missing") + get("/a.txt"));
    auto b = c.read_reply();
    auto missing = c.read_reply();
    auto a = c.read_reply();
    EXPECT_EQ(b.body, "bravo!");
    EXPECT_EQ(missing.status, 404u);
    EXPECT_EQ(a.body, "alpha");
}

TEST_F(TlsSession, ARecordHeldBackByAFullSocketIsSentBeforeTheNextRead) {
    // Tiny socket buffers on both sides (accepted sockets inherit the listener's): a response
    // under one record's size is taken whole into one record, which the socket cannot take
    // at once. The session must push it out before it waits for the next request, or the
    // client waits for the rest of a response that never comes.
    const int small = 4096;
    ASSERT_EQ(::setsockopt(listen_fd_, SOL_SOCKET, SO_SNDBUF, &small, sizeof small), 0);
    start();
    tls_client c(port_, ca_.ca_file(), small);
    ASSERT_TRUE(c.connected());
    for (int i = 0; i < 3; ++i) {
        c.send(get("/medium.bin"));
        auto r = c.read_reply(1024);
        ASSERT_EQ(r.status, 200u) << "response " << i;
        ASSERT_TRUE(r.body == medium_) << "response " << i;
    }
}

TEST_F(TlsSession, PlainHttpOnTheTlsPortGetsAReadable400) {
    start();
    const int fd = connect_loopback(port_);
    const std::string request = get("/a.txt");
    ASSERT_EQ(::send(fd, request.data(), request.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(request.size()));
    const auto answer = read_to_end(fd); // the server closes after it
    ::close(fd);
    EXPECT_EQ(answer.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << answer;
    EXPECT_NE(answer.find("Connection: close"), std::string::npos) << answer;
    EXPECT_NE(answer.find("speaks HTTPS"), std::string::npos) << answer;
    EXPECT_EQ(answer.find("Strict-Transport-Security"), std::string::npos) << answer;
}

TEST_F(TlsSession, StalledAndGarbageHandshakesAreClosed) {
    start("header_timeout = \"300ms\"");
    // Nothing sent: cut by the header timeout (the receive timeout of 10 s would fail it).
    const int idle = connect_loopback(port_);
    const auto started = std::chrono::steady_clock::now();
    EXPECT_EQ(read_to_end(idle), "");
    EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
    ::close(idle);
    // Neither TLS nor HTTP: closed without an answer, and not counted as a TLS failure.
    const int garbage = connect_loopback(port_);
    const char junk[] = "\x01\x02\x03\x04 not a client hello";
    ASSERT_GT(::send(garbage, junk, sizeof junk - 1, MSG_NOSIGNAL), 0);
    EXPECT_EQ(read_to_end(garbage), "");
    ::close(garbage);
    // The server still serves.
    tls_client c(port_, ca_.ca_file());
    ASSERT_TRUE(c.connected());
    c.send(get("/a.txt"));
    EXPECT_EQ(c.read_reply().body, "alpha");
    EXPECT_EQ(failures().count("tls_handshake"), 0u);
}

TEST_F(TlsSession, FailedHandshakesAreCountedPerSite) {
    start();
    {
        tls_client old(port_, ca_.ca_file(), 0, TLS1_1_VERSION); // refused: TLS 1.2 at least
        EXPECT_FALSE(old.connected());
    }
    {
        // A client that disconnects right after its first bytes costs nothing but a debug line.
        const int fd = connect_loopback(port_);
        const unsigned char hello_start[] = {0x16, 0x03, 0x01, 0x00, 0x80};
        ASSERT_GT(::send(fd, hello_start, sizeof hello_start, MSG_NOSIGNAL), 0);
        ::close(fd);
    }
    tls_client c(port_, ca_.ca_file());
    ASSERT_TRUE(c.connected());
    c.send(get("/a.txt"));
    EXPECT_EQ(c.read_reply().status, 200u);
    const auto counts = failures();
    EXPECT_EQ(counts.count("tls_handshake") ? counts.at("tls_handshake") : 0u, 1u);
    EXPECT_EQ(counts.count("tls_handshake:s") ? counts.at("tls_handshake:s") : 0u, 1u);
}

} // namespace
