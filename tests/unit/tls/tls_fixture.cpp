// The shared test PKI and the poll-driven socketpair connection of the TLS unit tests.
#include "tls_fixture.hpp"

#include <openssl/err.h>

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fcntl.h>

#include <csignal>
#include <stdexcept>

namespace bws::tls::testing {

namespace {

leaf_options leaf(std::vector<std::string> names, key_kind kind) {
    leaf_options o;
    o.common_name = names.front();
    o.dns_names = std::move(names);
    o.kind = kind;
    return o;
}

void wait_for(int fd, short events) {
    pollfd p{fd, events, 0};
    ::poll(&p, 1, 1000);
}

} // namespace

test_pki::test_pki() {
    a_rsa = ca.issue("a-rsa", leaf({"a.example.com", "www.a.example.com"}, key_kind::rsa));
    a_ecdsa = ca.issue("a-ecdsa", leaf({"a.example.com", "www.a.example.com"}, key_kind::ecdsa));
    b_ecdsa = ca.issue("b-ecdsa", leaf({"b.example.com"}, key_kind::ecdsa));
    c_wildcard = ca.issue("c-wild", leaf({"*.c.example.com"}, key_kind::ecdsa));
    leaf_options old = leaf({"old.example.com"}, key_kind::ecdsa);
    old.valid_from_seconds = -86400 * 10;
    old.valid_until_seconds = -86400;
    expired = ca.issue("expired", old);
    leaf_options soon = leaf({"soon.example.com"}, key_kind::ecdsa);
    soon.valid_until_seconds = 86400 * 10;
    expiring = ca.issue("expiring", soon);
    mismatched = ca.issue_mismatched("mismatched", leaf({"m.example.com"}, key_kind::ecdsa));
    leaf_options user = leaf({"client.example.com"}, key_kind::ecdsa);
    user.common_name = "alice";
    user.client = true;
    client = client_ca.issue("alice", user);
}

const test_pki& pki() {
    static const test_pki instance;
    return instance;
}

certificate load_or_fail(const pem_files& files) {
    std::vector<diagnostic> out;
    auto cert = certificate::load({files.cert_file, files.key_file}, out);
    if (!cert)
        throw std::runtime_error("cannot load " + files.cert_file.string() + ": " +
                                 (out.empty() ? "" : out.front().message));
    return std::move(*cert);
}

ssl_ctx_ptr make_client_ctx(int min_version, int max_version) {
    ssl_ctx_ptr ctx(SSL_CTX_new(TLS_client_method()));
    SSL_CTX_set_min_proto_version(ctx.get(), min_version);
    SSL_CTX_set_max_proto_version(ctx.get(), max_version);
    SSL_CTX_load_verify_locations(ctx.get(), pki().ca.ca_file().c_str(), nullptr);
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
    return ctx;
}

std::unique_ptr<context_table> make_table(const std::function<void(std::size_t, settings&)>& tweak,
                                          const ticket_keys* keys, bool refuse_unknown_sni) {
    const auto& p = pki();
    const std::vector<std::vector<const pem_files*>> files = {
        {&p.a_rsa, &p.a_ecdsa}, {&p.b_ecdsa}, {&p.c_wildcard}};
    const std::vector<std::vector<std::string>> names = {
        {"a.example.com", "www.a.example.com"}, {"b.example.com"}, {"*.c.example.com"}};
    std::vector<table_site> sites;
    for (std::size_t i = 0; i < files.size(); ++i) {
        settings config;
        std::vector<certificate> certs;
        for (const pem_files* f : files[i]) {
            config.certificates.push_back({f->cert_file, f->key_file});
            certs.push_back(load_or_fail(*f));
        }
        if (tweak)
            tweak(i, config);
        std::vector<diagnostic> out;
        auto context = site_context::build(config, certs, keys, names[i].front(), out);
        if (!context)
            throw std::runtime_error("cannot build site " + names[i].front() + ": " +
                                     (out.empty() ? "" : out.front().message));
        sites.push_back({10 + i, names[i], std::move(context)});
    }
    return std::make_unique<context_table>(std::move(sites), 0, refuse_unknown_sni);
}

connection_pair::connection_pair(const context_table& table, SSL_CTX* client_ctx,
                                 const std::string& sni, bool check_host) {
    std::signal(SIGPIPE, SIG_IGN); // as in bws workers: a write to a closed peer is EPIPE
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0)
        throw std::runtime_error("socketpair failed");
    server_fd = fds[0];
    client_fd = fds[1];
    server = std::make_unique<stream>(table.new_ssl(), server_fd);
    client.reset(SSL_new(client_ctx));
    SSL_set_fd(client.get(), client_fd);
    SSL_set_connect_state(client.get());
    if (!sni.empty()) {
        SSL_set_tlsext_host_name(client.get(), sni.c_str());
        if (check_host)
            SSL_set1_host(client.get(), sni.c_str());
    }
    static const unsigned char alpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
    SSL_set_alpn_protos(client.get(), alpn, sizeof alpn);
}

connection_pair::~connection_pair() {
    server.reset();
    client.reset();
    ::close(server_fd);
    ::close(client_fd);
}

io_result connection_pair::handshake(bool& client_ok) {
    io_result server_result{status::want_read, 0, {}};
    bool client_done = false, client_failed = false;
    for (int round = 0; round < 1000; ++round) {
        if (server_result.state == status::want_read || server_result.state == status::want_write)
            server_result = server->handshake();
        if (!client_done && !client_failed) {
            const int ret = SSL_do_handshake(client.get());
            if (ret == 1)
                client_done = true;
            else {
                const int err = SSL_get_error(client.get(), ret);
                client_failed = err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE;
            }
            ERR_clear_error();
        }
        const bool server_finished =
            server_result.state != status::want_read && server_result.state != status::want_write;
        if (server_finished && (client_done || client_failed))
            break;
        if (server_finished && server_result.state != status::done)
            break; // the server gave up; the client learns from the alert or EOF
        pollfd p[2] = {{server_fd, POLLIN, 0}, {client_fd, POLLIN, 0}};
        ::poll(p, 2, 20);
    }
    client_ok = client_done;
    return server_result;
}

bool connection_pair::handshake() {
    bool client_ok = false;
    return handshake(client_ok).state == status::done && client_ok;
}

bool connection_pair::client_write_all(const std::string& data) {
    std::size_t offset = 0;
    while (offset < data.size()) {
        std::size_t sent = 0;
        if (SSL_write_ex(client.get(), data.data() + offset, data.size() - offset, &sent) == 1) {
            offset += sent;
            continue;
        }
        const int err = SSL_get_error(client.get(), 0);
        ERR_clear_error();
        if (err != SSL_ERROR_WANT_WRITE && err != SSL_ERROR_WANT_READ)
            return false;
        wait_for(client_fd, err == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN);
    }
    return true;
}

std::string connection_pair::client_read(std::size_t size) {
    std::string data(size, '\0');
    std::size_t offset = 0;
    while (offset < size) {
        std::size_t got = 0;
        if (SSL_read_ex(client.get(), data.data() + offset, size - offset, &got) == 1) {
            offset += got;
            continue;
        }
        const int err = SSL_get_error(client.get(), 0);
        ERR_clear_error();
        if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE)
            break;
        wait_for(client_fd, err == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN);
    }
    data.resize(offset);
    return data;
}

void shrink_buffers(int fd, int size) {
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
}

} // namespace bws::tls::testing
