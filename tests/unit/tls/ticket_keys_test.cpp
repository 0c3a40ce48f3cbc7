// Shared session-ticket keys: a ticket issued through one table resumes on a second table built
// separately (another worker, or the next generation after a reload), in a forked child too,
// and survives one rotation but not two.
#include "tls/ticket_keys.hpp"

#include "tls_fixture.hpp"

#include <gtest/gtest.h>
#include <openssl/err.h>

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

using namespace bws::tls;
using namespace bws::tls::testing;

struct session_deleter {
    void operator()(SSL_SESSION* s) const { SSL_SESSION_free(s); }
};
using session_ptr = std::unique_ptr<SSL_SESSION, session_deleter>;

std::unique_ptr<ticket_keys> make_keys() {
    std::string error;
    auto keys = ticket_keys::create(std::chrono::hours(1), error);
    EXPECT_NE(keys, nullptr) << error;
    return keys;
}

// Connects with `resume` (may be null), reads one byte so TLS 1.3 tickets arrive, and returns
// whether the server resumed and the session the client now holds.
std::pair<bool, session_ptr> connect(const context_table& table, SSL_CTX* client_ctx,
                                     SSL_SESSION* resume,
                                     const std::string& sni = "b.example.com") {
    connection_pair c(table, client_ctx, sni);
    if (resume)
        SSL_set_session(c.client.get(), resume);
    EXPECT_TRUE(c.handshake());
    const iovec byte{const_cast<char*>("x"), 1};
    EXPECT_EQ(c.server->write({&byte, 1}).state, status::done);
    EXPECT_EQ(c.client_read(1), "x");
    // An SSL freed without close_notify marks its session not resumable.
    SSL_shutdown(c.client.get());
    return {c.server->info().resumed, session_ptr(SSL_get1_session(c.client.get()))};
}

class TlsTicketKeys : public ::testing::TestWithParam<int> {
protected:
    ssl_ctx_ptr client = make_client_ctx(TLS1_2_VERSION, GetParam());
};

TEST_P(TlsTicketKeys, ResumesOnASeparatelyBuiltTableWithTheSameKeys) {
    auto keys = make_keys();
    auto worker1 = make_table({}, keys.get());
    auto worker2 = make_table({}, keys.get());
    auto [resumed, session] = connect(*worker1, client.get(), nullptr);
    EXPECT_FALSE(resumed);
    ASSERT_NE(session, nullptr);
    EXPECT_TRUE(connect(*worker2, client.get(), session.get()).first);

    // Negative control: other keys cannot decrypt the ticket.
    auto other_keys = make_keys();
    auto stranger = make_table({}, other_keys.get());
    EXPECT_FALSE(connect(*stranger, client.get(), session.get()).first);
}

TEST_P(TlsTicketKeys, TicketOfOneSiteDoesNotResumeOnAnother) {
    auto keys = make_keys();
    auto table = make_table({}, keys.get());
    auto [resumed, session] = connect(*table, client.get(), nullptr, "b.example.com");
    ASSERT_NE(session, nullptr);
    EXPECT_FALSE(connect(*table, client.get(), session.get(), "x.c.example.com").first);
}

TEST_P(TlsTicketKeys, PreviousKeyStillDecryptsAfterOneRotation) {
    auto keys = make_keys();
    auto table = make_table({}, keys.get());
    auto [resumed, session] = connect(*table, client.get(), nullptr);
    ASSERT_NE(session, nullptr);
    ASSERT_TRUE(keys->rotate());
    EXPECT_EQ(keys->read().generation, 1u);
    auto [again, renewed] = connect(*table, client.get(), session.get());
    EXPECT_TRUE(again);
    ASSERT_TRUE(keys->rotate());
    EXPECT_FALSE(connect(*table, client.get(), session.get()).first); // its key is gone
    // The session renewed after the first rotation used the then-current key.
    EXPECT_TRUE(connect(*table, client.get(), renewed.get()).first);
}

INSTANTIATE_TEST_SUITE_P(Versions, TlsTicketKeys, ::testing::Values(TLS1_3_VERSION, TLS1_2_VERSION),
                         [](const auto& info) {
                             return info.param == TLS1_3_VERSION ? "tls13" : "tls12";
                         });

TEST(TlsTicketKeysView, RotationKeepsTheOldCurrentAsPrevious) {
    auto keys = make_keys();
    const auto before = keys->read();
    EXPECT_NE(before.current.name, before.previous.name);
    ASSERT_TRUE(keys->rotate());
    const auto after = keys->read();
    EXPECT_EQ(after.previous.name, before.current.name);
    EXPECT_EQ(after.previous.aes_key, before.current.aes_key);
    EXPECT_NE(after.current.name, before.current.name);
    EXPECT_EQ(after.generation, before.generation + 1);
}

TEST(TlsTicketKeysView, SharedKeysAreMadeOnceForTheProcess) {
    const ticket_keys* keys = shared_ticket_keys();
    ASSERT_NE(keys, nullptr);
    EXPECT_EQ(shared_ticket_keys(), keys);
    EXPECT_EQ(keys->rotation_interval(), std::chrono::hours(12));
}

// Runs one server connection in a forked child (a worker) and exits with 0 when the
// handshake succeeded and `want_resumed` matched, 1 otherwise.
pid_t serve_in_child(const context_table& table, const ticket_keys& keys, int fd, bool want_resumed,
                     std::uint64_t want_generation) {
    const pid_t pid = fork();
    if (pid != 0)
        return pid;
    stream s(table.new_ssl(), fd);
    bool ok = false;
    for (int round = 0; round < 50; ++round) {
        const io_result r = s.handshake();
        if (r.state == status::done) {
            ok = true;
            break;
        }
        if (r.state != status::want_read && r.state != status::want_write)
            break;
        pollfd p{fd, static_cast<short>(r.state == status::want_read ? POLLIN : POLLOUT), 0};
        ::poll(&p, 1, 100);
    }
    const iovec byte{const_cast<char*>("x"), 1};
    ok = ok && s.write({&byte, 1}).state == status::done;
    ok = ok && s.info().resumed == want_resumed && keys.read().generation == want_generation;
    _exit(ok ? 0 : 1);
}

// The client side of a connection served by a child: a blocking loop over the other end.
session_ptr client_side(int fd, SSL_CTX* ctx, SSL_SESSION* resume) {
    ssl_ptr ssl(SSL_new(ctx));
    SSL_set_fd(ssl.get(), fd);
    SSL_set_connect_state(ssl.get());
    SSL_set_tlsext_host_name(ssl.get(), "b.example.com");
    if (resume)
        SSL_set_session(ssl.get(), resume);
    char byte = 0;
    std::size_t got = 0;
    for (int round = 0; round < 50 && got == 0; ++round) {
        if (SSL_read_ex(ssl.get(), &byte, 1, &got) == 1)
            break;
        const int err = SSL_get_error(ssl.get(), 0);
        ERR_clear_error();
        if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE)
            return nullptr;
        pollfd p{fd, static_cast<short>(err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT), 0};
        ::poll(&p, 1, 100);
    }
    EXPECT_EQ(byte, 'x');
    SSL_shutdown(ssl.get());
    return session_ptr(SSL_get1_session(ssl.get()));
}

bool child_succeeded(pid_t pid) {
    int wstatus = 0;
    return waitpid(pid, &wstatus, 0) == pid && WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0;
}

// Keys and contexts made before fork, as the master does; the master rotates after the fork
// and a second child (started from the same parent state) sees the new generation and still
// resumes the first child's ticket with the previous key.
TEST(TlsTicketKeysFork, WorkersShareKeysAndRotationsThroughTheMapping) {
    auto keys = make_keys();
    auto table = make_table({}, keys.get());
    auto client = make_client_ctx();

    connection_pair first(*table, client.get(), "b.example.com"); // only its fds are used
    const pid_t worker1 = serve_in_child(*table, *keys, first.server_fd, false, 0);
    session_ptr session = client_side(first.client_fd, client.get(), nullptr);
    ASSERT_TRUE(child_succeeded(worker1));
    ASSERT_NE(session, nullptr);

    // A worker forked before the rotation must see it: start it first, then rotate.
    int go[2];
    ASSERT_EQ(pipe(go), 0);
    connection_pair second(*table, client.get(), "b.example.com");
    const pid_t worker2 = fork();
    if (worker2 == 0) {
        char c;
        (void)!::read(go[0], &c, 1);
        serve_in_child(*table, *keys, second.server_fd, true, 1); // exits in its own child
        int wstatus = 0;
        wait(&wstatus);
        _exit(WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 1);
    }
    ASSERT_TRUE(keys->rotate());
    ASSERT_EQ(::write(go[1], "g", 1), 1);
    session_ptr resumed = client_side(second.client_fd, client.get(), session.get());
    EXPECT_NE(resumed, nullptr);
    EXPECT_TRUE(child_succeeded(worker2));
    ::close(go[0]);
    ::close(go[1]);
}

} // namespace
