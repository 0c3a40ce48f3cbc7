// The ACME client (src/acme) against Debian's pebble, a real RFC 8555 server, on loopback:
// pebble-challtestsrv answers pebble's DNS so every name is 127.0.0.1, and this test's own
// HTTP responder serves the http-01 key authorizations. Each test starts both programs with
// probed ports and a PKI the openssl CLI makes in a temp dir, waits for the directory to
// answer, and stops them by PID at the end, whatever happened.
#include "acme/client.hpp"
#include "acme/csr.hpp"
#include "acme/key.hpp"
#include "acme/problem.hpp"

#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <atomic>
#include <csignal>
#include <fcntl.h>
#include <map>
#include <mutex>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace bws::acme {

namespace {

using namespace std::chrono_literals;

constexpr const char* pebble_binary = "/usr/bin/pebble";
constexpr const char* challtestsrv_binary = "/usr/bin/pebble-challtestsrv";

// A listening TCP socket on 127.0.0.1 with a kernel-given port.
int listen_loopback(unsigned short& port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(fd, 16) != 0 || ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
        return -1;
    port = ntohs(addr.sin_port);
    return fd;
}

// `count` distinct ports free on 127.0.0.1 (TCP and UDP) a moment ago, for the programs
// this test starts: held open together so they differ, then released.
std::vector<unsigned short> probe_ports(std::size_t count) {
    std::vector<int> fds;
    std::vector<unsigned short> ports;
    while (ports.size() < count) {
        unsigned short port = 0;
        const int fd = listen_loopback(port);
        if (fd < 0)
            break;
        fds.push_back(fd);
        // challtestsrv's DNS port is UDP: the same number must be free there too.
        const int udp = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = htons(port);
        const bool udp_free = ::bind(udp, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
        ::close(udp);
        if (udp_free)
            ports.push_back(port);
    }
    for (const int fd : fds)
        ::close(fd);
    return ports;
}

bool accepts_connections(unsigned short port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return ok;
}

// The HTTP-01 responder: GET /.well-known/acme-challenge/<token> answers what was published
// for the token, 404 otherwise. One connection at a time is plenty for pebble's validator.
class challenge_server {
public:
    challenge_server() : fd_(listen_loopback(port_)), thread_([this] { loop(); }) {}
    ~challenge_server() {
        stop_ = true;
        thread_.join();
        ::close(fd_);
    }
    challenge_server(const challenge_server&) = delete;
    challenge_server& operator=(const challenge_server&) = delete;

    unsigned short port() const { return port_; }
    int hits() const { return hits_; }
    void publish(const std::string& token, const std::string& body) {
        const std::lock_guard lock(mutex_);
        answers_[token] = body;
    }
    void withdraw(const std::string& token) {
        const std::lock_guard lock(mutex_);
        answers_.erase(token);
    }

private:
    void loop() {
        while (!stop_) {
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, 50) <= 0)
                continue;
            const int conn = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (conn >= 0) {
                serve(conn);
                ::close(conn);
            }
        }
    }

    void serve(int conn) {
        timeval limit{2, 0};
        ::setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
        std::string request;
        char buf[2048];
        while (request.find("\r\n\r\n") == std::string::npos && request.size() < 16384) {
            const ssize_t n = ::recv(conn, buf, sizeof buf, 0);
            if (n <= 0)
                return;
            request.append(buf, static_cast<std::size_t>(n));
        }
        constexpr std::string_view prefix = "GET /.well-known/acme-challenge/";
        std::string status = "404 Not Found";
        std::string body = "not found\n";
        if (request.compare(0, prefix.size(), prefix) == 0) {
            const std::size_t end = request.find(' ', prefix.size());
            const std::string token = request.substr(prefix.size(), end - prefix.size());
            const std::lock_guard lock(mutex_);
            ++hits_;
            if (auto it = answers_.find(token); it != answers_.end()) {
                status = "200 OK";
                body = it->second;
            }
        }
        const std::string response =
            "HTTP/1.1 " + status +
            "\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) +
            "\r\nConnection: close\r\n\r\n" + body;
        (void)::send(conn, response.data(), response.size(), MSG_NOSIGNAL);
    }

    unsigned short port_ = 0;
    int fd_;
    std::atomic<bool> stop_{false};
    std::atomic<int> hits_{0};
    std::mutex mutex_;
    std::map<std::string, std::string> answers_;
    std::thread thread_;
};

// A child process stopped by PID (SIGTERM, then SIGKILL) when this goes away.
struct child {
    pid_t pid = -1;
    ~child() {
        if (pid <= 0)
            return;
        ::kill(pid, SIGTERM);
        if (!test::wait_exit(pid, 5s)) {
            ::kill(pid, SIGKILL);
            test::wait_exit(pid, 5s);
        }
    }
};

class AcmePebble : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_EQ(::access(pebble_binary, X_OK), 0)
            << "pebble is not installed (scripts/dev/install-deps.sh --tests)";
        ASSERT_EQ(::access(challtestsrv_binary, X_OK), 0);
        make_pki();
        const std::vector<unsigned short> ports = probe_ports(5);
        ASSERT_EQ(ports.size(), 5U);
        const unsigned short acme_port = ports[0];
        const unsigned short management_port = ports[1];
        const unsigned short tls_port = ports[2];
        const unsigned short dns_port = ports[3];
        const unsigned short dns_management = ports[4];
        directory_url_ = "https://127.0.0.1:" + std::to_string(acme_port) + "/dir";
        roots_url_ = "https://127.0.0.1:" + std::to_string(management_port) + "/roots/0";

        const std::string loopback = "127.0.0.1:";
        const int log =
            ::open((dir_ / "servers.log").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        // Every A query answers 127.0.0.1, and no AAAA: the responder listens on IPv4 only.
        dns_.pid = test::spawn({challtestsrv_binary, "-dns01", loopback + std::to_string(dns_port),
                                "-management", loopback + std::to_string(dns_management),
                                "-defaultIPv4", "127.0.0.1", "-defaultIPv6", "", "-http01", "",
                                "-https01", "", "-tlsalpn01", ""},
                               {}, log, log);
        ASSERT_GT(dns_.pid, 0);
        ASSERT_TRUE(test::wait_until([&] { return accepts_connections(dns_management); }, 20s))
            << servers_log();

        const std::string config =
            R"({"pebble": {"listenAddress": "127.0.0.1:)" + std::to_string(acme_port) +
            R"(", "managementListenAddress": "127.0.0.1:)" + std::to_string(management_port) +
            R"(", "certificate": ")" + (dir_ / "pebble.pem").string() + R"(", "privateKey": ")" +
            (dir_ / "pebble.key").string() + R"(", "httpPort": )" +
            std::to_string(responder_.port()) + R"(, "tlsPort": )" + std::to_string(tls_port) +
            R"(, "ocspResponderURL": "", "externalAccountBindingRequired": false}})";
        const auto config_path = dir_.write("pebble.json", config);
        // No artificial validation delay, no randomly rejected good nonces (a random
        // rejection rate would make the runs nondeterministic), real validation, and no
        // reuse of an earlier valid authorization (each order must go through http-01).
        pebble_.pid = test::spawn({pebble_binary, "-config", config_path.string(), "-dnsserver",
                                   loopback + std::to_string(dns_port)},
                                  {"PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0",
                                   "PEBBLE_VA_ALWAYS_VALID=0", "PEBBLE_AUTHZREUSE=0"},
                                  log, log);
        ::close(log);
        ASSERT_GT(pebble_.pid, 0);
        auto probe = https_transport::create({ca_file(), 2s, 1 << 20});
        ASSERT_TRUE(probe.ok()) << probe.error().to_string();
        ASSERT_TRUE(test::wait_until(
            [&] {
                auto res = probe.value()->request(http_method::get, directory_url_);
                return res.ok() && res->status == 200;
            },
            30s))
            << "pebble's directory never answered\n"
            << servers_log();
    }

    void TearDown() override {
        if (HasFailure())
            std::cerr << servers_log();
    }

    std::filesystem::path ca_file() const { return dir_ / "ca.pem"; }

    client_options options() const {
        client_options o;
        o.directory_url = directory_url_;
        o.transport.ca_file = ca_file();
        o.transport.timeout = 10s;
        o.poll_limit = 30s;
        o.poll_interval = 100ms;
        return o;
    }

    std::unique_ptr<client> make_client(tls::pkey_ptr key) const {
        auto made = client::create(options(), std::move(key));
        EXPECT_TRUE(made.ok()) << made.error().to_string();
        return made.ok() ? std::move(made.value()) : nullptr;
    }

    http01_responder honest_responder() {
        return {[this](const http01_challenge& c) -> status {
                    responder_.publish(c.token, c.key_authorization);
                    return done{};
                },
                [this](const http01_challenge& c) { responder_.withdraw(c.token); }};
    }

    std::string servers_log() const { return test::read_file(dir_ / "servers.log"); }

    // pebble's root of the day (it makes a new one at every start), from its management API.
    std::string pebble_root() const {
        auto transport = https_transport::create({ca_file(), 5s, 1 << 20});
        auto res = transport.value()->request(http_method::get, roots_url_);
        return res.ok() ? res->body : std::string();
    }

    test::temp_dir dir_{"bws-acme-pebble"};
    challenge_server responder_;
    std::string directory_url_;
    std::string roots_url_;
    child dns_; // declared after dir_: stopped before the directory goes
    child pebble_;

private:
    // A CA and a certificate for 127.0.0.1 and localhost, for pebble's own HTTPS endpoints.
    void make_pki() {
        dir_.write("san.cnf", "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                              "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n");
        const auto d = [this](const char* name) { return (dir_ / name).string(); };
        const std::vector<std::vector<std::string>> steps{
            {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-keyout", d("ca.key"), "-out", d("ca.pem"), "-days", "2", "-subj",
             "/CN=bws test ACME CA"},
            {"openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", d("pebble.key"), "-out", d("pebble.csr"), "-subj", "/CN=localhost"},
            {"openssl", "x509", "-req", "-in", d("pebble.csr"), "-CA", d("ca.pem"), "-CAkey",
             d("ca.key"), "-CAcreateserial", "-out", d("pebble.pem"), "-days", "2", "-extfile",
             d("san.cnf")},
        };
        for (const auto& step : steps) {
            std::vector<std::string> argv = step;
            argv[0] = "/usr/bin/openssl";
            const auto run = test::run_command(argv, 30s);
            ASSERT_EQ(run.exit_code, 0) << run.output;
        }
    }
};

struct chain_check {
    std::size_t certificates = 0;
    std::vector<std::string> dns_names;
    bool key_matches = false;
    bool verifies = false;
};

chain_check check_chain(const std::string& pem, EVP_PKEY* certificate_key,
                        const std::string& root) {
    chain_check out;
    std::vector<X509*> certs;
    BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr))
        certs.push_back(cert);
    BIO_free(bio);
    out.certificates = certs.size();
    if (certs.empty())
        return out;
    X509* leaf = certs.front();
    out.key_matches = EVP_PKEY_eq(X509_get0_pubkey(leaf), certificate_key) == 1;
    auto* names =
        static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(leaf, NID_subject_alt_name, nullptr, nullptr));
    for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names); ++i) {
        const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
        if (name->type == GEN_DNS)
            out.dns_names.emplace_back(
                reinterpret_cast<const char*>(ASN1_STRING_get0_data(name->d.dNSName)),
                ASN1_STRING_length(name->d.dNSName));
    }
    GENERAL_NAMES_free(names);

    // The chain leads to pebble's root: leaf, the intermediates as untrusted, the root trusted.
    X509_STORE* store = X509_STORE_new();
    BIO* root_bio = BIO_new_mem_buf(root.data(), static_cast<int>(root.size()));
    if (X509* root_cert = PEM_read_bio_X509(root_bio, nullptr, nullptr, nullptr)) {
        X509_STORE_add_cert(store, root_cert);
        X509_free(root_cert);
    }
    BIO_free(root_bio);
    STACK_OF(X509)* untrusted = sk_X509_new_null();
    for (std::size_t i = 1; i < certs.size(); ++i)
        sk_X509_push(untrusted, certs[i]);
    X509_STORE_CTX* ctx = X509_STORE_CTX_new();
    X509_STORE_CTX_init(ctx, store, leaf, untrusted);
    out.verifies = X509_verify_cert(ctx) == 1;
    X509_STORE_CTX_free(ctx);
    sk_X509_free(untrusted);
    X509_STORE_free(store);
    for (X509* cert : certs)
        X509_free(cert);
    return out;
}

} // namespace

TEST_F(AcmePebble, IssuesACertificateOverHttp01) {
    auto account_key = generate_key(key_type::ec_p256);
    ASSERT_TRUE(account_key.ok());
    auto acme = make_client(std::move(account_key.value()));
    ASSERT_TRUE(acme);
    auto account = acme->register_account({"admin@example.test"});
    ASSERT_TRUE(account.ok()) << account.error().to_string();
    EXPECT_TRUE(account->created);
    EXPECT_EQ(account->url.rfind("https://127.0.0.1:", 0), 0U) << account->url;

    auto certificate_key = generate_key(key_type::ec_p256);
    ASSERT_TRUE(certificate_key.ok());
    const std::vector<std::string> names{"test.example", "www.test.example"};
    auto csr = make_csr(certificate_key->get(), names);
    ASSERT_TRUE(csr.ok());
    auto issued = acme->issue(names, csr.value(), honest_responder());
    ASSERT_TRUE(issued.ok()) << issued.error().to_string();
    EXPECT_GE(responder_.hits(), 2); // pebble fetched both key authorizations from us

    const chain_check chain = check_chain(issued->chain_pem, certificate_key->get(), pebble_root());
    EXPECT_GE(chain.certificates, 2U) << issued->chain_pem;
    EXPECT_EQ(chain.dns_names, names);
    EXPECT_TRUE(chain.key_matches);
    EXPECT_TRUE(chain.verifies);
}

TEST_F(AcmePebble, IssuesWithRsaKeys) {
    auto account_key = generate_key(key_type::rsa2048);
    ASSERT_TRUE(account_key.ok());
    auto acme = make_client(std::move(account_key.value()));
    ASSERT_TRUE(acme);
    ASSERT_TRUE(acme->register_account({}).ok());
    auto certificate_key = generate_key(key_type::rsa2048);
    auto csr = make_csr(certificate_key->get(), {"rsa.example"});
    auto issued = acme->issue({"rsa.example"}, csr.value(), honest_responder());
    ASSERT_TRUE(issued.ok()) << issued.error().to_string();
    const chain_check chain = check_chain(issued->chain_pem, certificate_key->get(), pebble_root());
    EXPECT_EQ(chain.dns_names, std::vector<std::string>{"rsa.example"});
    EXPECT_TRUE(chain.key_matches);
    EXPECT_TRUE(chain.verifies);
}

TEST_F(AcmePebble, SameAccountKeyFindsTheSameAccount) {
    auto generated = generate_key(key_type::ec_p256);
    ASSERT_TRUE(generated.ok());
    const auto key_path = dir_ / "account.key";
    ASSERT_TRUE(save_key(generated->get(), key_path).ok());

    auto first = make_client(std::move(generated.value()));
    ASSERT_TRUE(first);
    auto created = first->register_account({"mailto:admin@example.test"});
    ASSERT_TRUE(created.ok()) << created.error().to_string();
    EXPECT_TRUE(created->created);

    // A new client with the key read back from disk, as after a restart.
    auto loaded = load_key(key_path);
    ASSERT_TRUE(loaded.ok());
    auto second = make_client(std::move(loaded.value()));
    ASSERT_TRUE(second);
    auto found = second->find_account();
    ASSERT_TRUE(found.ok()) << found.error().to_string();
    EXPECT_EQ(found->url, created->url);
    EXPECT_FALSE(found->created);
    auto registered = second->register_account({"admin@example.test"});
    ASSERT_TRUE(registered.ok());
    EXPECT_EQ(registered->url, created->url);
    EXPECT_FALSE(registered->created);

    // A key pebble has never seen has no account.
    auto stranger = make_client(std::move(generate_key(key_type::ec_p256).value()));
    auto none = stranger->find_account();
    ASSERT_FALSE(none.ok());
    EXPECT_TRUE(is_problem(none.error(), "accountDoesNotExist")) << none.error().to_string();
}

TEST_F(AcmePebble, WrongKeyAuthorizationFailsWithTheProblemType) {
    auto acme = make_client(std::move(generate_key(key_type::ec_p256).value()));
    ASSERT_TRUE(acme);
    ASSERT_TRUE(acme->register_account({}).ok());
    auto certificate_key = generate_key(key_type::ec_p256);
    auto csr = make_csr(certificate_key->get(), {"wrong.example"});
    int withdrawn = 0;
    const http01_responder liar{[this](const http01_challenge& c) -> status {
                                    responder_.publish(c.token, c.token + ".not-the-thumbprint");
                                    return done{};
                                },
                                [this, &withdrawn](const http01_challenge& c) {
                                    responder_.withdraw(c.token);
                                    ++withdrawn;
                                }};
    auto issued = acme->issue({"wrong.example"}, csr.value(), liar);
    ASSERT_FALSE(issued.ok());
    const acme::error& e = issued.error();
    EXPECT_TRUE(is_problem(e, "unauthorized") || is_problem(e, "incorrectResponse"))
        << e.to_string();
    EXPECT_NE(e.what.find("wrong.example"), std::string::npos) << e.to_string();
    EXPECT_FALSE(e.detail.empty());
    EXPECT_EQ(withdrawn, 1);
    EXPECT_GE(responder_.hits(), 1);
}

TEST_F(AcmePebble, UntrustedServerCertificateIsRefused) {
    // The system store does not know the test CA: the handshake must fail, not fall back.
    client_options o = options();
    o.transport.ca_file.clear();
    auto made = client::create(o, std::move(generate_key(key_type::ec_p256).value()));
    ASSERT_TRUE(made.ok());
    auto loaded = made.value()->load_directory();
    ASSERT_FALSE(loaded.ok());
    EXPECT_NE(loaded.error().to_string().find("TLS handshake"), std::string::npos)
        << loaded.error().to_string();
}

} // namespace bws::acme
