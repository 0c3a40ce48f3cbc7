// End-to-end HTTP behaviour of the real binary: virtual hosts, static files, conditional and
// range requests, limits, malformed requests, health, keep-alive and pipelining.
#include "harness.hpp"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <thread>

using namespace bws::test;

namespace {

class Serving : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        dir_ = new temp_dir();
        auto& d = *dir_;
        write_file(d / "main/index.html", "<h1>main</h1>\n");
        write_file(d / "main/hello.txt", "hello world\n");
        write_file(d / "main/style.css", "body{}\n");
        write_file(d / "main/data.json", "{}\n");
        write_file(d / "main/sub/index.html", "<p>sub</p>\n");
        write_file(d / "main/sub/page.html", "<p>page</p>\n");
        write_file(d / "main/.env", "SECRET=1\n");
        write_file(d / "main/.well-known/security.txt", "Contact: x\n");
        write_file(d / "main/404.html", "<p>custom not found</p>\n");
        write_file(d / "main/file with space.txt", "spaced\n");
        std::string digits;
        for (int i = 0; i < 100; ++i)
            digits += static_cast<char>('0' + i % 10);
        write_file(d / "main/digits.txt", digits);
        // Large enough that it can only be streamed (several socket buffers).
        std::string big(8 * 1024 * 1024, 'x');
        for (std::size_t i = 0; i < big.size(); i += 4096)
            big[i] = static_cast<char>('a' + (i / 4096) % 26);
        write_file(d / "main/big.bin", big);
        write_file(d / "secret.txt", "CANARY-OUTSIDE-ROOT\n");
        std::filesystem::create_symlink(d / "secret.txt", d / "main/escape.txt");
        std::filesystem::create_symlink(d / "main/hello.txt", d / "main/inside-link.txt");
        write_file(d / "blog/index.html", "<h1>blog</h1>\n");
        write_file(d / "other/index.html", "<h1>other port</h1>\n");

        port_ = free_port();
        other_port_ = free_port();
        write_file(d / "bws.toml", fmt::format(R"(
[server]
name = "integration"

[server.limits]
header_timeout = "1s"
keepalive_timeout = "1s"
send_timeout = "1s"
max_body_size = "1KB"
max_header_count = 50

[logging]
level = "warn"

[[sites]]
name = "main"
hostname = "main.test"
hostnames = ["alias.test"]
port = {0}
bind = "127.0.0.1"
static_dir = "main"
default = true

[sites.headers]
"X-Site" = "main"
"X-Frame-Options" = "DENY"

[sites.error_pages]
404 = "404.html"

[[sites]]
name = "blog"
hostname = "blog.test"
hostnames = ["*.wild.test"]
port = {0}
bind = "127.0.0.1"
static_dir = "blog"
cache_control = "public, max-age=60"

[sites.headers]
"X-Site" = "blog"

[[sites]]
name = "other"
hostname = "blog.test"
port = {1}
bind = "127.0.0.1"
static_dir = "other"
)",
                                               port_, other_port_));
        server_ = new bws_process();
        ASSERT_TRUE(server_->start({"-c", (d / "bws.toml").string()}));
        ASSERT_TRUE(wait_for_port(port_)) << server_->err();
        ASSERT_TRUE(wait_for_port(other_port_)) << server_->err();
    }

    static void TearDownTestSuite() {
        delete server_;
        delete dir_;
        server_ = nullptr;
        dir_ = nullptr;
    }

    static temp_dir* dir_;
    static bws_process* server_;
    static std::uint16_t port_;
    static std::uint16_t other_port_;
};

temp_dir* Serving::dir_ = nullptr;
bws_process* Serving::server_ = nullptr;
std::uint16_t Serving::port_ = 0;
std::uint16_t Serving::other_port_ = 0;

TEST_F(Serving, ServesIndexAndFilesWithTypesAndValidators) {
    auto r = get(port_, "/", "main.test");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "<h1>main</h1>\n");
    EXPECT_EQ(r.header("content-type"), "text/html; charset=utf-8");
    EXPECT_FALSE(r.header("etag").empty());
    EXPECT_FALSE(r.header("last-modified").empty());
    EXPECT_EQ(r.header("x-site"), "main");
    EXPECT_FALSE(r.header("date").empty());

    EXPECT_EQ(get(port_, "/style.css", "main.test").header("content-type"),
              "text/css; charset=utf-8");
    EXPECT_EQ(get(port_, "/hello.txt", "main.test").body, "hello world\n");
    EXPECT_EQ(get(port_, "/file%20with%20space.txt", "main.test").body, "spaced\n");
}

TEST_F(Serving, VirtualHostsByHostHeader) {
    EXPECT_EQ(get(port_, "/", "blog.test").body, "<h1>blog</h1>\n");
    EXPECT_EQ(get(port_, "/", "BLOG.TEST.").body, "<h1>blog</h1>\n");
    EXPECT_EQ(get(port_, "/", fmt::format("blog.test:{}", port_)).body, "<h1>blog</h1>\n");
    EXPECT_EQ(get(port_, "/", "alias.test").body, "<h1>main</h1>\n");
    EXPECT_EQ(get(port_, "/", "a.wild.test").body, "<h1>blog</h1>\n");
    EXPECT_EQ(get(port_, "/", "x.y.wild.test").body, "<h1>blog</h1>\n");
    EXPECT_EQ(get(port_, "/", "wild.test").body, "<h1>main</h1>\n");
    EXPECT_EQ(get(port_, "/", "unknown.test").body, "<h1>main</h1>\n");
    // The same name on another port is another site.
    EXPECT_EQ(get(other_port_, "/", "blog.test").body, "<h1>other port</h1>\n");
    // Absolute-form targets name the host themselves.
    auto r = request(port_, "GET http://blog.test/ HTTP/1.1\r\nHost: main.test\r\n"
                            "Connection: close\r\n\r\n");
    EXPECT_EQ(r.body, "<h1>blog</h1>\n");
    // HTTP/1.0 without Host: the default site; HTTP/1.1 without Host: 400.
    EXPECT_EQ(request(port_, "GET / HTTP/1.0\r\n\r\n").body, "<h1>main</h1>\n");
    EXPECT_EQ(request(port_, "GET / HTTP/1.1\r\nConnection: close\r\n\r\n").status, 400);
}

TEST_F(Serving, SiteHeadersOnEveryResponseIncludingErrors) {
    auto r = get(port_, "/missing", "blog.test");
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(r.header("x-site"), "blog");
    auto bad = request(port_, "GET /x HTTP/1.1\r\nHost: main.test\r\nHost: b\r\n\r\n");
    EXPECT_EQ(bad.status, 400);
    EXPECT_EQ(bad.header("x-site"), "main");
    auto health = get(port_, "/health", "blog.test");
    EXPECT_EQ(health.header("x-site"), "blog");
}

TEST_F(Serving, CustomErrorPageAndCacheControl) {
    auto r = get(port_, "/nope.html", "main.test");
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(r.body, "<p>custom not found</p>\n");
    auto blog = get(port_, "/", "blog.test");
    EXPECT_EQ(blog.header("cache-control"), "public, max-age=60");
    auto builtin = get(port_, "/nope.html", "blog.test");
    EXPECT_NE(builtin.body.find("404 Not Found"), std::string::npos);
}

TEST_F(Serving, HiddenFilesAndWellKnown) {
    EXPECT_EQ(get(port_, "/.env", "main.test").status, 404);
    EXPECT_EQ(get(port_, "/%2eenv", "main.test").status, 404);
    EXPECT_EQ(get(port_, "/.well-known/security.txt", "main.test").status, 200);
}

TEST_F(Serving, TraversalNeverLeavesTheRoot) {
    for (const char* target :
         {"/../secret.txt", "/%2e%2e/secret.txt", "/%2E%2e/%2e%2e/etc/passwd", "/..%2fsecret.txt",
          "/sub/../../secret.txt", "/..\\secret.txt", "/%5c..%5csecret.txt", "/hello.txt%00.html",
          "/escape.txt", "/../../../../etc/passwd"}) {
        auto r = get(port_, target, "main.test");
        EXPECT_TRUE(r.status == 400 || r.status == 404) << target << " -> " << r.status;
        EXPECT_EQ(r.body.find("CANARY"), std::string::npos) << target;
        EXPECT_EQ(r.body.find("root:x:0:0"), std::string::npos) << target;
    }
    EXPECT_EQ(get(port_, "/../index.html", "main.test").status, 400);
    EXPECT_EQ(get(port_, "/sub/../hello.txt", "main.test").status, 200);
    EXPECT_EQ(get(port_, "/inside-link.txt", "main.test").body, "hello world\n");
}

TEST_F(Serving, DirectoryRedirectsAndIndex) {
    auto r = get(port_, "/sub?x=1", "main.test");
    EXPECT_EQ(r.status, 301);
    EXPECT_EQ(r.header("location"), "/sub/?x=1");
    EXPECT_EQ(get(port_, "/sub/", "main.test").body, "<p>sub</p>\n");
}

TEST_F(Serving, ConditionalRequests) {
    auto first = get(port_, "/hello.txt", "main.test");
    auto etag = first.header("etag");
    auto modified = first.header("last-modified");
    ASSERT_FALSE(etag.empty());
    auto r = request(port_, "GET /hello.txt HTTP/1.1\r\nHost: main.test\r\nIf-None-Match: " + etag +
                                "\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(r.status, 304);
    EXPECT_EQ(r.header("etag"), etag);
    r = request(port_, "GET /hello.txt HTTP/1.1\r\nHost: main.test\r\nIf-None-Match: *\r\n"
                       "Connection: close\r\n\r\n");
    EXPECT_EQ(r.status, 304);
    r = request(port_, "GET /hello.txt HTTP/1.1\r\nHost: main.test\r\nIf-Modified-Since: " +
                           modified + "\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(r.status, 304);
    r = request(port_, "GET /hello.txt HTTP/1.1\r\nHost: main.test\r\nIf-None-Match: \"other\"\r\n"
                       "Connection: close\r\n\r\n");
    EXPECT_EQ(r.status, 200);
    r = request(port_,
                "GET /hello.txt HTTP/1.1\r\nHost: main.test\r\n"
                "If-Modified-Since: Tue, 01 Jan 2999 00:00:00 GMT\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(r.status, 200); // a date in the future is ignored
}

TEST_F(Serving, Ranges) {
    auto range = [&](const std::string& spec) {
        return get(port_, "/digits.txt", "main.test", "Range: " + spec + "\r\n");
    };
    auto r = range("bytes=0-9");
    EXPECT_EQ(r.status, 206);
    EXPECT_EQ(r.body, "0123456789");
    EXPECT_EQ(r.header("content-range"), "bytes 0-9/100");
    r = range("bytes=-5");
    EXPECT_EQ(r.status, 206);
    EXPECT_EQ(r.body, "56789");
    EXPECT_EQ(range("bytes=99999-").status, 416);
    EXPECT_EQ(range("bytes=99999-").header("content-range"), "bytes */100");
    r = range("bytes=0-1,3-4");
    EXPECT_EQ(r.status, 206);
    EXPECT_NE(r.header("content-type").find("multipart/byteranges"), std::string::npos);
    EXPECT_NE(r.body.find("01"), std::string::npos);
    EXPECT_NE(r.body.find("Content-Range: bytes 3-4/100"), std::string::npos);
    // If-Range with a stale validator: the whole file.
    r = get(port_, "/digits.txt", "main.test", "Range: bytes=0-9\r\nIf-Range: \"stale\"\r\n");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body.size(), 100u);
    // A range bomb gets the whole file, once.
    std::string bomb = "bytes=";
    for (int i = 0; i < 200; ++i)
        bomb += (i ? "," : "") + std::to_string(i % 50) + "-" + std::to_string(i % 50 + 1);
    r = range(bomb);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body.size(), 100u);
}

TEST_F(Serving, HeadAndMethods) {
    auto r = request(
        port_, "HEAD /hello.txt HTTP/1.1\r\nHost: main.test\r\nConnection: close\r\n\r\n", true);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.header("content-length"), "12");
    connection c(port_);
    c.send("HEAD /hello.txt HTTP/1.1\r\nHost: main.test\r\n\r\n"
           "GET /hello.txt HTTP/1.1\r\nHost: main.test\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(c.read_response(true).status, 200);
    EXPECT_EQ(c.read_response().body, "hello world\n"); // no stray body after HEAD

    for (const char* method : {"POST", "PUT", "DELETE", "TRACE", "PATCH"}) {
        auto m =
            request(port_, std::string(method) + " /hello.txt HTTP/1.1\r\nHost: main.test\r\n"
                                                 "Content-Length: 0\r\nConnection: close\r\n\r\n");
        EXPECT_EQ(m.status, 405) << method;
        EXPECT_EQ(m.header("allow"), "GET, HEAD") << method;
    }
}

TEST_F(Serving, HealthEndpoint) {
    auto r = get(port_, "/health", "blog.test");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.header("content-type"), "application/json");
    EXPECT_NE(r.body.find(R"("status":"healthy")"), std::string::npos);
    EXPECT_NE(r.body.find(R"("uptime_seconds":)"), std::string::npos);
    EXPECT_NE(r.body.find(R"("pid":)"), std::string::npos);
    EXPECT_NE(r.body.find(R"("version":")"), std::string::npos);
}

TEST_F(Serving, KeepAliveAndPipelining) {
    connection c(port_);
    std::string pipeline;
    for (const char* path : {"/hello.txt", "/style.css", "/data.json"})
        pipeline += fmt::format("GET {} HTTP/1.1\r\nHost: main.test\r\n\r\n", path);
    ASSERT_TRUE(c.send(pipeline));
    EXPECT_EQ(c.read_response().body, "hello world\n");
    EXPECT_EQ(c.read_response().body, "body{}\n");
    auto last = c.read_response();
    EXPECT_EQ(last.body, "{}\n");
    EXPECT_EQ(last.header("connection"), "keep-alive");
    // The same connection still works afterwards.
    c.send("GET /hello.txt HTTP/1.1\r\nHost: main.test\r\nConnection: close\r\n\r\n");
    auto closing = c.read_response();
    EXPECT_EQ(closing.status, 200);
    EXPECT_EQ(closing.header("connection"), "close");
    EXPECT_TRUE(c.closed_by_peer());
}

TEST_F(Serving, LargeFileStreamedWhole) {
    auto r = get(port_, "/big.bin", "main.test");
    ASSERT_EQ(r.status, 200);
    auto expected = read_file(dir_->path() / "main/big.bin");
    EXPECT_EQ(r.body.size(), expected.size());
    EXPECT_TRUE(r.body == expected);
}

// The malformed-request table nginx was measured against (notes/reliability-tools.md).
TEST_F(Serving, MalformedRequestsGetTheRightStatus) {
    struct row {
        std::string raw;
        int status;
    };
    auto host = [](const std::string& value) {
        return "GET / HTTP/1.1\r\nHost: " + value + "\r\nConnection: close\r\n\r\n";
    };
    std::vector<row> rows = {
        {host(""), 400},
        {host("."), 400},
        {host("..examp-LE.com"), 400},
        {host("example.com/\\:552"), 400},
        {"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
        {host(std::string("localhost\x02")), 400},
        {host("example.com.:1.2"), 400},
        {host("example.com:98777"), 400},
        {host("example.com:9000:80"), 400},
        {host("[abcd::ef98:0:7654:321"), 400},
        {"GET http://com.exa-m.45..:/ HTTP/1.1\r\nHost: x\r\n\r\n", 400},
        {"GET /foo/bar% HTTP/1.1\r\nHost: x\r\n\r\n", 400},
        {"GET /foo/bar%1 HTTP/1.1\r\nHost: x\r\n\r\n", 400},
        {"GET / / HTTP/1.1\r\nHost: x\r\n\r\n", 400},
        {"GET /\x02 HTTP/1.1\r\nHost: x\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n\r\n", 501},
        {"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n", 501},
        {"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
         "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
         400},
        {"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"
         "0\r\n\r\n",
         400},
        {"GET / HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: x\r\n:colon: first\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: x\r\nX-Bad\x02: y\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: x\r\nX-Foo : bar\r\n\r\n", 400},
        {"GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", 400},
        {"GET /%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", 400},
        {"GET / HTTP/2.7\r\nHost: x\r\n\r\n", 505},
        {"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", 400},
    };
    int index = 0;
    for (const auto& row : rows) {
        auto r = request(port_, row.raw);
        EXPECT_EQ(r.status, row.status) << "row " << index << ": " << row.raw;
        ++index;
    }
    // The server is still fine afterwards.
    EXPECT_EQ(get(port_, "/hello.txt", "main.test").status, 200);
}

TEST_F(Serving, LimitsAnswerWithTheirStatus) {
    EXPECT_EQ(get(port_, "/" + std::string(9000, 'a'), "main.test").status, 414);
    EXPECT_EQ(get(port_, "/" + std::string(20000, 'a'), "main.test").status, 414);
    EXPECT_EQ(get(port_, "/", "main.test", "Cookie: " + std::string(20000, 'c') + "\r\n").status,
              431);
    std::string many;
    for (int i = 0; i < 60; ++i)
        many += fmt::format("X-H{}: v\r\n", i);
    EXPECT_EQ(get(port_, "/", "main.test", many).status, 431);
    auto big_body = request(port_, "GET / HTTP/1.1\r\nHost: main.test\r\nContent-Length: 5000\r\n"
                                   "Connection: close\r\n\r\n" +
                                       std::string(5000, 'b'));
    EXPECT_EQ(big_body.status, 413);
    // A small body on GET is read and ignored; the connection stays usable.
    connection c(port_);
    c.send("GET /hello.txt HTTP/1.1\r\nHost: main.test\r\nContent-Length: 3\r\n\r\nabc"
           "GET /style.css HTTP/1.1\r\nHost: main.test\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(c.read_response().body, "hello world\n");
    EXPECT_EQ(c.read_response().body, "body{}\n");
}

TEST_F(Serving, SlowHeadersTimeOutWith408) {
    connection c(port_, 5s);
    c.send("GET / HTTP/1.1\r\nHost: main.test\r\n"); // never finished
    auto r = c.read_response();
    EXPECT_EQ(r.status, 408);
    EXPECT_TRUE(c.closed_by_peer());
}

TEST_F(Serving, IdleKeepAliveConnectionsAreClosed) {
    connection c(port_, 5s);
    c.send("GET /hello.txt HTTP/1.1\r\nHost: main.test\r\n\r\n");
    EXPECT_EQ(c.read_response().status, 200);
    auto start = std::chrono::steady_clock::now();
    EXPECT_TRUE(c.closed_by_peer()); // keepalive_timeout = 1s
    EXPECT_LT(std::chrono::steady_clock::now() - start, 4s);
}

TEST_F(Serving, SlowReadersAreCutOff) {
    // Sparse: far more than loopback socket buffers can hold, without using the disk.
    constexpr std::uintmax_t size = 256u * 1024 * 1024;
    write_file(dir_->path() / "main/huge.bin", "");
    std::filesystem::resize_file(dir_->path() / "main/huge.bin", size);
    connection c(port_, 5s);
    ASSERT_TRUE(c.send("GET /huge.bin HTTP/1.1\r\nHost: main.test\r\n\r\n"));
    // Read nothing while send_timeout (1 s) passes with the server's socket buffer full: this
    // sleep is the slow reader under test, not a wait for the server.
    std::this_thread::sleep_for(2500ms);
    // Then drain what the server managed to send before it gave up, and see it close.
    std::string head;
    std::size_t body = 0;
    bool closed = false;
    char chunk[65536];
    for (;;) {
        pollfd p{c.fd(), POLLIN, 0};
        if (::poll(&p, 1, 5000) != 1)
            break; // neither data nor EOF for 5 s: the server did not cut the connection
        const auto n = ::recv(c.fd(), chunk, sizeof chunk, 0);
        if (n <= 0) {
            closed = true;
            break;
        }
        if (head.find("\r\n\r\n") == std::string::npos) {
            head.append(chunk, static_cast<std::size_t>(n));
            const auto end = head.find("\r\n\r\n");
            if (end != std::string::npos)
                body = head.size() - end - 4;
        } else {
            body += static_cast<std::size_t>(n);
        }
    }
    ASSERT_EQ(head.rfind("HTTP/1.1 200 ", 0), 0u) << head.substr(0, 200);
    std::string lower_head = head;
    for (auto& ch : lower_head)
        ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    EXPECT_NE(lower_head.find("content-length: " + std::to_string(size) + "\r\n"),
              std::string::npos)
        << head;
    EXPECT_GT(body, 64u * 1024) << "the server sent (almost) nothing"; // it did start sending
    EXPECT_LT(body, size);                                             // but cut before the end
    EXPECT_TRUE(closed) << "the server kept the connection open";
    EXPECT_EQ(get(port_, "/hello.txt", "main.test").status, 200);
}

TEST_F(Serving, AccessLogHasCombinedLines) {
    get(port_, "/hello.txt?q=1", "main.test", "User-Agent: probe/1.0\r\nReferer: http://r/\r\n");
    // Lines are flushed at least every 100 ms.
    std::string out;
    wait_until(
        [&] {
            out = server_->out();
            return out.find("probe/1.0") != std::string::npos;
        },
        2s);
    EXPECT_NE(out.find("\"GET /hello.txt?q=1 HTTP/1.1\" 200 12 \"http://r/\" \"probe/1.0\""),
              std::string::npos)
        << out;
}

} // namespace
