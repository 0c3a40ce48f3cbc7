// Heap cost of idle TLS connections (handshake done, nothing pending): bws's direct OpenSSL
// stream against Boost.Asio's ssl::stream, on the same SSL_CTX. A forked child is the client, so
// only the server side is counted. Usage: bws_tls_memory [ours|asio] [connections]
#include "test_certs.hpp"
#include "tls/certificate.hpp"
#include "tls/context.hpp"
#include "tls/stream.hpp"
#include "tls/ticket_keys.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/ssl/impl/src.hpp>

#include <openssl/err.h>

#include <malloc.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

using namespace bws::tls;
namespace asio = boost::asio;

std::size_t heap_in_use() {
    return mallinfo2().uordblks;
}

// The client: one OpenSSL client per fd, all handshakes driven by one poll loop, tickets read;
// then it holds the connections open until `hold` closes.
[[noreturn]] void run_clients(const std::vector<int>& fds, int hold) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    std::vector<SSL*> ssls;
    for (int fd : fds) {
        SSL* ssl = SSL_new(ctx);
        SSL_set_fd(ssl, fd);
        SSL_set_connect_state(ssl);
        SSL_set_tlsext_host_name(ssl, "localhost");
        ssls.push_back(ssl);
    }
    std::vector<bool> done(fds.size(), false);
    std::size_t remaining = fds.size();
    while (remaining > 0) {
        for (std::size_t i = 0; i < ssls.size(); ++i)
            if (!done[i] && SSL_do_handshake(ssls[i]) == 1) {
                done[i] = true;
                --remaining;
            }
        ERR_clear_error();
        poll(nullptr, 0, 1);
    }
    char byte;
    pollfd p{hold, POLLIN, 0};
    for (;;) {
        for (SSL* ssl : ssls) {
            std::size_t got = 0;
            SSL_read_ex(ssl, &byte, 1, &got); // takes the tickets off the wire
            ERR_clear_error();
        }
        if (poll(&p, 1, 50) > 0)
            _exit(0);
    }
}

std::size_t measure_ours(const std::vector<int>& fds, const context_table& table) {
    const std::size_t before = heap_in_use();
    std::vector<std::unique_ptr<bws::tls::stream>> streams;
    for (int fd : fds)
        streams.push_back(std::make_unique<bws::tls::stream>(table.new_ssl(), fd));
    std::vector<bool> done(fds.size(), false);
    std::size_t remaining = fds.size();
    while (remaining > 0) {
        for (std::size_t i = 0; i < streams.size(); ++i) {
            if (done[i])
                continue;
            const io_result r = streams[i]->handshake();
            if (r.state == status::done) {
                done[i] = true;
                --remaining;
            } else if (r.state != status::want_read && r.state != status::want_write) {
                std::fprintf(stderr, "handshake failed: %s\n", r.ec.message().c_str());
                std::exit(1);
            }
        }
        poll(nullptr, 0, 1);
    }
    char byte;
    for (auto& s : streams) // idle: the next read would wait
        s->read(&byte, 1);
    malloc_trim(0);
    const std::size_t after = heap_in_use();
    return after - before;
}

std::size_t measure_asio(const std::vector<int>& fds, SSL_CTX* native) {
    SSL_CTX_up_ref(native); // asio's context takes ownership of one reference
    asio::ssl::context context(native);
    asio::io_context ioc;
    const std::size_t before = heap_in_use();
    using socket = asio::local::stream_protocol::socket;
    std::vector<std::unique_ptr<asio::ssl::stream<socket>>> streams;
    std::size_t done = 0;
    for (int fd : fds) {
        auto s = std::make_unique<asio::ssl::stream<socket>>(socket(ioc), context);
        s->next_layer().assign(asio::local::stream_protocol(), fd);
        s->async_handshake(asio::ssl::stream_base::server, [&](boost::system::error_code ec) {
            if (ec) {
                std::fprintf(stderr, "handshake failed: %s\n", ec.message().c_str());
                std::exit(1);
            }
            ++done;
        });
        streams.push_back(std::move(s));
    }
    while (done < fds.size())
        ioc.run_one();
    malloc_trim(0);
    const std::size_t after = heap_in_use();
    for (auto& s : streams)
        s->next_layer().release(); // the fds are closed by main
    return after - before;
}

} // namespace

int main(int argc, char** argv) {
    const std::string mode = argc > 1 ? argv[1] : "ours";
    const std::size_t count = argc > 2 ? std::stoul(argv[2]) : 1000;
    std::signal(SIGPIPE, SIG_IGN);

    bws::tls::testing::temp_directory dir;
    bws::tls::testing::cert_factory ca(dir.path);
    const auto files = ca.issue("localhost", {});
    std::vector<diagnostic> out;
    std::vector<certificate> certs;
    certs.push_back(*certificate::load({files.cert_file, files.key_file}, out));
    std::string error;
    auto keys = ticket_keys::create(std::chrono::hours(1), error);
    settings config;
    auto site = site_context::build(config, certs, keys.get(), "localhost", out);
    std::vector<table_site> sites;
    sites.push_back({0, {"localhost"}, site});
    context_table table(std::move(sites), 0, false);

    std::vector<int> server_fds, client_fds;
    for (std::size_t i = 0; i < count; ++i) {
        int fds[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds) != 0) {
            std::perror("socketpair");
            return 1;
        }
        server_fds.push_back(fds[0]);
        client_fds.push_back(fds[1]);
    }
    int hold[2];
    if (pipe(hold) != 0)
        return 1;
    const pid_t client = fork();
    if (client == 0) {
        close(hold[1]);
        for (int fd : server_fds)
            close(fd);
        run_clients(client_fds, hold[0]);
    }
    close(hold[0]);
    for (int fd : client_fds)
        close(fd);

    const std::size_t bytes =
        mode == "asio" ? measure_asio(server_fds, site->native()) : measure_ours(server_fds, table);
    std::printf("%s: %zu idle TLS 1.3 connections, %.1f KiB heap per connection\n", mode.c_str(),
                count, static_cast<double>(bytes) / 1024.0 / count);
    close(hold[1]);
    for (int fd : server_fds)
        close(fd);
    int wstatus = 0;
    waitpid(client, &wstatus, 0);
    return 0;
}
