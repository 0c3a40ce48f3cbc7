// Sessions driven over loopback inside the test process: a real http::server on a listener the
// test opens, a config snapshot built from TOML here, and blocking client sockets. Covers
// pipelining, keep-alive, limits, the header timeout, slow readers (partial writes), the
// buffered file path against the zero-copy one, and a file shrinking mid-response.
#include "loopback_server.hpp"

#include <boost/asio/post.hpp>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <chrono>
#include <cstring>
#include <future>
#include <netinet/in.h>
#include <optional>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace {

namespace asio = boost::asio;
using namespace bws;
using namespace std::chrono_literals;

struct reply {
    unsigned status = 0;
    std::string head; // without the Date line
    std::string body;
    bool closed = false; // the server closed the connection after this reply
};

// A blocking client connection with its own read buffer.
class client {
public:
    explicit client(std::uint16_t port, int receive_buffer = 0) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        if (receive_buffer > 0)
            ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
        timeval tv{10, 0}; // a hung server fails the test instead of blocking it
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
            ADD_FAILURE() << "connect: " << std::strerror(errno);
    }
    ~client() { ::close(fd_); }
    client(const client&) = delete;
    client& operator=(const client&) = delete;

    void send(std::string_view data) {
        while (!data.empty()) {
            auto n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
            ASSERT_GT(n, 0) << std::strerror(errno);
            data.remove_prefix(static_cast<std::size_t>(n));
        }
    }
    // Reads one response (head and Content-Length body); status 0 when the connection ended
    // first. `chunk` bounds each read, to make a slow reader.
    reply read_reply(bool head_request = false, std::size_t chunk = 64 * 1024) {
        reply r;
        std::size_t end;
        while ((end = buffer_.find("\r\n\r\n")) == std::string::npos)
            if (!fill(chunk))
                return r;
        std::string head = buffer_.substr(0, end + 4);
        buffer_.erase(0, end + 4);
        r.status = static_cast<unsigned>(std::stoul(head.substr(9, 3)));
        std::size_t length = 0;
        std::size_t line = 0;
        while (line < head.size()) {
            auto next = head.find("\r\n", line);
            auto text = head.substr(line, next - line);
            if (text.rfind("Content-Length: ", 0) == 0)
                length = std::stoul(text.substr(16));
            if (text.rfind("Date: ", 0) != 0)
                r.head += text + "\n";
            line = next + 2;
        }
        if (head_request)
            length = 0;
        while (buffer_.size() < length)
            if (!fill(chunk))
                break;
        r.body = buffer_.substr(0, std::min(length, buffer_.size()));
        buffer_.erase(0, r.body.size());
        r.closed = r.head.find("Connection: close") != std::string::npos;
        return r;
    }
    // Whether the server closed the connection (EOF, no further bytes).
    bool at_eof() {
        char c;
        return buffer_.empty() && ::recv(fd_, &c, 1, 0) == 0;
    }

private:
    bool fill(std::size_t chunk) {
        std::string data(chunk, '\0');
        auto n = ::recv(fd_, data.data(), data.size(), 0);
        if (n <= 0)
            return false;
        buffer_.append(data.data(), static_cast<std::size_t>(n));
        return true;
    }
    int fd_ = -1;
    std::string buffer_;
};

std::string pattern(std::size_t size) {
    std::string out(size, '\0');
    for (std::size_t i = 0; i < size; ++i)
        out[i] = static_cast<char>((i * 7 + i / 251) & 0xff);
    return out;
}

std::string get(std::string_view path, std::string_view extra = {}) {
    return fmt::format("GET {} HTTP/1.1\r\nHost: s.test\r\n{}\r\n", path, extra);
}

class Session : public ::testing::Test {
protected:
    void SetUp() override {
        dir_.write("www/a.txt", "alpha");
        dir_.write("www/b.txt", "bravo!");
        dir_.write("www/c.txt", "charlie");
        big_ = pattern(6 * 1024 * 1024 + 123);
        dir_.write("www/big.bin", big_);
        port_ = server_.port();
    }

    // Starts a server whose [server.limits] holds `limits`.
    void start(std::string_view limits = {}, bool zero_copy = true) {
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
)",
                                  limits, port_, (dir_ / "www").string()),
                      http::server_options{zero_copy});
    }
    void stop() { server_.stop(); }
    std::map<std::string, std::uint64_t> failures() { return server_.failures(); }

    config::test::temp_dir dir_;
    std::string big_;
    http::testing::loopback_server server_;
    std::uint16_t port_ = 0;
};

TEST_F(Session, PipelinedRequestsAreAnsweredInOrder) {
    start();
    client c(port_);
    c.send(get("/b.txt") + get("/a.txt") + get("/missing") +
           get("/c.txt", "Connection: close\r\n"));
    auto b = c.read_reply();
    auto a = c.read_reply();
    auto missing = c.read_reply();
    auto last = c.read_reply();
    EXPECT_EQ(b.status, 200u);
    EXPECT_EQ(b.body, "bravo!");
    EXPECT_EQ(a.body, "alpha");
    EXPECT_EQ(missing.status, 404u);
    EXPECT_FALSE(missing.closed);
    EXPECT_EQ(last.body, "charlie");
    EXPECT_TRUE(last.closed);
    EXPECT_TRUE(c.at_eof());
}

TEST_F(Session, KeepAliveSequenceThenHttp10Closes) {
    start();
    client c(port_);
    for (const char* path : {"/a.txt", "/b.txt", "/a.txt"}) {
        c.send(get(path));
        auto r = c.read_reply();
        EXPECT_EQ(r.status, 200u) << path;
        EXPECT_NE(r.head.find("Connection: keep-alive"), std::string::npos) << r.head;
    }
    c.send("GET /c.txt HTTP/1.0\r\n\r\n");
    auto r = c.read_reply();
    EXPECT_EQ(r.body, "charlie");
    EXPECT_TRUE(r.closed);
    EXPECT_TRUE(c.at_eof());
}

TEST_F(Session, MaxKeepaliveRequestsEndsTheConnection) {
    start("max_keepalive_requests = 2");
    client c(port_);
    c.send(get("/a.txt") + get("/a.txt"));
    EXPECT_FALSE(c.read_reply().closed);
    auto second = c.read_reply();
    EXPECT_EQ(second.status, 200u);
    EXPECT_TRUE(second.closed);
    EXPECT_TRUE(c.at_eof());
}

TEST_F(Session, LimitsAnswerWithTheirStatusAndClose) {
    start("max_header_size = \"2KB\"\nmax_uri_length = 200\nmax_body_size = 10");
    struct probe {
        std::string request;
        unsigned status;
    };
    for (const auto& [request, status] :
         {probe{get("/a.txt", "X-Big: " + std::string(4000, 'x') + "\r\n"), 431},
          probe{get("/" + std::string(300, 'u')), 414},
          probe{get("/a.txt", "Content-Length: 11\r\n"), 413}}) {
        client c(port_);
        c.send(request);
        auto r = c.read_reply();
        EXPECT_EQ(r.status, status);
        EXPECT_TRUE(r.closed);
        EXPECT_TRUE(c.at_eof());
    }
}

TEST_F(Session, SlowHeadersGet408) {
    start("header_timeout = \"300ms\"");
    client c(port_);
    auto begin = std::chrono::steady_clock::now();
    c.send("GET /a.txt HTTP/1.1\r\nHost: s.test\r\n");
    auto r = c.read_reply();
    auto waited = std::chrono::steady_clock::now() - begin;
    EXPECT_EQ(r.status, 408u);
    EXPECT_TRUE(r.closed);
    EXPECT_TRUE(c.at_eof());
    EXPECT_GE(waited, 300ms);
    EXPECT_LT(waited, 5s);
}

// A body (read and discarded on GET) has body_timeout from the end of the headers, in total.
TEST_F(Session, SlowBodyGets408AfterBodyTimeout) {
    start("header_timeout = \"5s\"\nbody_timeout = \"300ms\"");
    client c(port_);
    auto begin = std::chrono::steady_clock::now();
    c.send(get("/a.txt", "Content-Length: 100\r\n") + "0123456789");
    auto r = c.read_reply();
    auto waited = std::chrono::steady_clock::now() - begin;
    EXPECT_EQ(r.status, 408u);
    EXPECT_TRUE(r.closed);
    EXPECT_TRUE(c.at_eof());
    EXPECT_GE(waited, 300ms);
    EXPECT_LT(waited, 4s); // well before the header timeout
}

TEST_F(Session, BodyTimeoutNotHeaderTimeoutBoundsTheBody) {
    start("header_timeout = \"300ms\"\nbody_timeout = \"10s\"");
    client c(port_);
    c.send(get("/a.txt", "Content-Length: 8\r\n"));
    for (int i = 0; i < 4; ++i) { // 800 ms of body, past the header timeout
        std::this_thread::sleep_for(200ms);
        c.send("ab");
    }
    auto r = c.read_reply();
    EXPECT_EQ(r.status, 200u);
    EXPECT_EQ(r.body, "alpha");
}

// An idle keep-alive connection gives up its read buffer after a second (the sweep parks
// it); its next requests, one or pipelined, are answered as before.
TEST_F(Session, ParkedIdleConnectionServesItsNextRequests) {
    start();
    client c(port_);
    c.send(get("/a.txt"));
    EXPECT_EQ(c.read_reply().body, "alpha");
    std::this_thread::sleep_for(1600ms); // park_after (1 s) and a sweep (250 ms)
    c.send(get("/b.txt"));
    EXPECT_EQ(c.read_reply().body, "bravo!");
    std::this_thread::sleep_for(1600ms);
    c.send(get("/c.txt") + get("/a.txt"));
    EXPECT_EQ(c.read_reply().body, "charlie");
    EXPECT_EQ(c.read_reply().body, "alpha");
    std::this_thread::sleep_for(1600ms);
    c.send(get("/a.txt", "Connection: close\r\n"));
    auto r = c.read_reply();
    EXPECT_EQ(r.body, "alpha");
    EXPECT_TRUE(r.closed);
    EXPECT_TRUE(c.at_eof());
    EXPECT_TRUE(failures().empty());
}

// A request that arrives byte by byte across the park is still read whole.
TEST_F(Session, RequestStartedBeforeTheParkIsReadWhole) {
    start("header_timeout = \"10s\"");
    client c(port_);
    c.send(get("/a.txt"));
    EXPECT_EQ(c.read_reply().body, "alpha");
    const auto request = get("/b.txt");
    c.send(request.substr(0, 1)); // the first byte leaves idle: no park while reading
    std::this_thread::sleep_for(1600ms);
    c.send(request.substr(1));
    EXPECT_EQ(c.read_reply().body, "bravo!");
}

class SessionPaths : public Session, public ::testing::WithParamInterface<bool> {};

TEST_P(SessionPaths, SlowReaderGetsEveryByteExactly) {
    start({}, GetParam());
    client c(port_, 4096);
    c.send(get("/big.bin") + get("/a.txt"));
    // Let the server fill the socket buffers and wait for writability before reading.
    std::this_thread::sleep_for(200ms);
    auto r = c.read_reply(false, 1500);
    EXPECT_EQ(r.status, 200u);
    ASSERT_EQ(r.body.size(), big_.size());
    EXPECT_TRUE(r.body == big_) << "body bytes differ";
    EXPECT_EQ(c.read_reply().body, "alpha");
    EXPECT_TRUE(failures().empty());
}

TEST_P(SessionPaths, AFileThatShrinksMidResponseIsCountedAndCloses) {
    start({}, GetParam());
    client c(port_, 4096);
    c.send(get("/big.bin"));
    std::this_thread::sleep_for(200ms); // the server is now waiting for writability
    std::filesystem::resize_file(dir_ / "www/big.bin", 1024);
    auto r = c.read_reply();
    EXPECT_EQ(r.status, 200u);
    EXPECT_LT(r.body.size(), big_.size());
    EXPECT_TRUE(c.at_eof());
    auto counts = failures();
    EXPECT_EQ(counts["file_shrank"], 1u);
    // This worker's counts show in /health/detailed.
    client health(port_);
    health.send(get("/health/detailed"));
    auto detailed = health.read_reply();
    EXPECT_EQ(detailed.status, 200u);
    EXPECT_NE(detailed.body.find(R"("failures":{"file_shrank":1})"), std::string::npos)
        << detailed.body;
}

INSTANTIATE_TEST_SUITE_P(ZeroCopyAndBuffered, SessionPaths, ::testing::Bool());

// Multipart boundaries are random per response: name them alike before comparing.
void normalise_boundary(reply& r) {
    const std::string key = "boundary=";
    auto at = r.head.find(key);
    if (at == std::string::npos)
        return;
    auto begin = at + key.size();
    auto boundary = r.head.substr(begin, r.head.find('\n', begin) - begin);
    for (auto* text : {&r.head, &r.body})
        for (auto pos = text->find(boundary); pos != std::string::npos;
             pos = text->find(boundary, pos))
            text->replace(pos, boundary.size(), "BOUNDARY");
}

TEST_F(Session, BufferedPathSendsTheSameBytesAsSendfile) {
    const std::string requests = get("/big.bin") +
                                 get("/big.bin", "Range: bytes=5-70000,100000-100010,-3\r\n") +
                                 get("/big.bin", "Range: bytes=65530-65545\r\n") + get("/a.txt") +
                                 "HEAD /big.bin HTTP/1.1\r\nHost: s.test\r\n\r\n" + get("/nothing");
    auto run = [&](bool zero_copy) {
        start({}, zero_copy);
        client c(port_);
        c.send(requests);
        std::vector<reply> out;
        for (int i = 0; i < 6; ++i) {
            out.push_back(c.read_reply(i == 4));
            normalise_boundary(out.back());
        }
        stop();
        return out;
    };
    auto zero_copy = run(true);
    auto buffered = run(false);
    ASSERT_EQ(zero_copy.size(), buffered.size());
    for (std::size_t i = 0; i < zero_copy.size(); ++i) {
        EXPECT_EQ(zero_copy[i].head, buffered[i].head) << i;
        EXPECT_TRUE(zero_copy[i].body == buffered[i].body) << i;
    }
    EXPECT_EQ(zero_copy[0].body.size(), big_.size());
    EXPECT_EQ(zero_copy[1].status, 206u);
    EXPECT_NE(zero_copy[1].body.find(big_.substr(5, 69996)), std::string::npos);
    EXPECT_NE(zero_copy[1].body.find(big_.substr(big_.size() - 3)), std::string::npos);
    EXPECT_EQ(zero_copy[2].body, big_.substr(65530, 16));
    EXPECT_EQ(zero_copy[5].status, 404u);
}

} // namespace
