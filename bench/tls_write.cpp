// Bulk write throughput over one TLS 1.3 connection (a socketpair, the client in a forked child
// reading everything): bws's tls::stream (gathered 16 KiB records, SSL_write on the fd) against
// Boost.Asio's ssl::stream. Usage: bws_tls_write [ours|asio] [MiB]
#include "test_certs.hpp"
#include "tls/certificate.hpp"
#include "tls/context.hpp"
#include "tls/stream.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/asio/write.hpp>

#include <openssl/err.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <string>
#include <vector>

namespace {

using namespace bws::tls;
namespace asio = boost::asio;

// Reads until close and exits with status 0 when `expected` bytes arrived.
[[noreturn]] void run_client(int fd, std::size_t expected) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd); // blocking fd: plain loop
    if (SSL_connect(ssl) != 1)
        _exit(2);
    std::vector<char> buffer(1 << 16);
    std::size_t total = 0, got = 0;
    while (SSL_read_ex(ssl, buffer.data(), buffer.size(), &got) == 1)
        total += got;
    _exit(total == expected ? 0 : 1);
}

void wait_fd(int fd, status s) {
    pollfd p{fd, static_cast<short>(s == status::want_read ? POLLIN : POLLOUT), 0};
    poll(&p, 1, 1000);
}

// One response: a small header and a 64 KiB body, written as one gather, like the session.
constexpr std::size_t body_size = 64 * 1024;
const std::string header(200, 'h');

void write_ours(const context_table& table, int fd, std::size_t responses) {
    stream s(table.new_ssl(), fd);
    for (io_result r = s.handshake(); r.state != status::done; r = s.handshake())
        wait_fd(fd, r.state);
    const std::vector<char> body(body_size, 'b');
    for (std::size_t i = 0; i < responses; ++i) {
        iovec pieces[] = {{const_cast<char*>(header.data()), header.size()},
                          {const_cast<char*>(body.data()), body.size()}};
        std::span<iovec> rest(pieces);
        for (;;) {
            const io_result r = s.write(rest);
            std::size_t n = r.bytes;
            while (!rest.empty() && n >= rest.front().iov_len) {
                n -= rest.front().iov_len;
                rest = rest.subspan(1);
            }
            if (!rest.empty()) {
                rest.front().iov_base = static_cast<char*>(rest.front().iov_base) + n;
                rest.front().iov_len -= n;
            }
            if (r.state == status::done && rest.empty())
                break;
            if (r.state != status::want_write && r.state != status::want_read)
                std::exit(1);
            wait_fd(fd, r.state);
        }
    }
    while (s.shutdown().state == status::want_write)
        wait_fd(fd, status::want_write);
}

void write_asio(SSL_CTX* native, int fd, std::size_t responses) {
    SSL_CTX_up_ref(native);
    asio::ssl::context context(native);
    asio::io_context ioc;
    using socket = asio::local::stream_protocol::socket;
    asio::ssl::stream<socket> s(socket(ioc), context);
    s.next_layer().assign(asio::local::stream_protocol(), fd);
    s.handshake(asio::ssl::stream_base::server);
    const std::vector<char> body(body_size, 'b');
    for (std::size_t i = 0; i < responses; ++i) {
        const std::array<asio::const_buffer, 2> pieces = {asio::buffer(header), asio::buffer(body)};
        asio::write(s, pieces);
    }
    boost::system::error_code ec;
    s.shutdown(ec);
    s.next_layer().release();
}

} // namespace

int main(int argc, char** argv) {
    const std::string mode = argc > 1 ? argv[1] : "ours";
    const std::size_t mib = argc > 2 ? std::stoul(argv[2]) : 512;
    const std::size_t responses = mib * 1024 * 1024 / body_size;
    std::signal(SIGPIPE, SIG_IGN);

    bws::tls::testing::temp_directory dir;
    bws::tls::testing::cert_factory ca(dir.path);
    const auto files = ca.issue("localhost", {});
    std::vector<diagnostic> out;
    std::vector<certificate> certs;
    certs.push_back(*certificate::load({files.cert_file, files.key_file}, out));
    auto site = site_context::build(settings{}, certs, nullptr, "localhost", out);
    std::vector<table_site> sites;
    sites.push_back({0, {"localhost"}, site});
    context_table table(std::move(sites), 0, false);

    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0)
        return 1;
    const pid_t client = fork();
    if (client == 0) {
        close(fds[0]);
        run_client(fds[1], responses * (header.size() + body_size));
    }
    close(fds[1]);
    const auto start = std::chrono::steady_clock::now();
    if (mode == "asio") {
        write_asio(site->native(), fds[0], responses); // blocking fd for asio's sync calls
    } else {
        fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
        write_ours(table, fds[0], responses);
    }
    close(fds[0]);
    int wstatus = 0;
    waitpid(client, &wstatus, 0);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const bool ok = WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0;
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage); // the server's own CPU: the client decrypts in its child
    const double cpu = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                       static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
    std::printf("%s: %zu MiB in %.2f s, %.0f MiB/s, server CPU %.2f s%s\n", mode.c_str(), mib,
                seconds, static_cast<double>(mib) / seconds, cpu,
                ok ? "" : " (client saw a wrong byte count)");
    return ok ? 0 : 1;
}
