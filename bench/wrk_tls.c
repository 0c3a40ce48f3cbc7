/* LD_PRELOAD shim for wrk's TLS (bench/run.sh builds it with cc into its temporary folder).
 *
 * wrk 4.1 does not make a new TLS session per connection: after a `Connection: close`
 * response it calls SSL_shutdown() and SSL_clear() on the same SSL and connects again, and
 * SSL_clear() keeps the session of a connection that was shut down properly, so every
 * handshake after the first resumes it (checked with nginx's $ssl_session_reused: 951 of 956
 * handshakes resumed in one second). A "new connection per request" run then measures TLS 1.3
 * resumption, not full handshakes.
 *
 *   WRK_TLS_NO_RESUME=1   drop the session in SSL_clear(), so every handshake is a full one
 *   WRK_TLS_STATS=FILE    at exit, write "handshakes N resumed M" (completed SSL_connect calls,
 *                         and those of them that resumed a session) to FILE
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>

static unsigned long handshakes, resumed;

int SSL_clear(SSL *s)
{
    static int (*real)(SSL *);
    if (!real)
        real = (int (*)(SSL *))dlsym(RTLD_NEXT, "SSL_clear");
    const char *no_resume = getenv("WRK_TLS_NO_RESUME");
    if (no_resume && *no_resume == '1')
        SSL_set_session(s, NULL);
    return real(s);
}

int SSL_connect(SSL *s)
{
    static int (*real)(SSL *);
    if (!real)
        real = (int (*)(SSL *))dlsym(RTLD_NEXT, "SSL_connect");
    int r = real(s);
    if (r == 1) {
        __atomic_add_fetch(&handshakes, 1, __ATOMIC_RELAXED);
        if (SSL_session_reused(s))
            __atomic_add_fetch(&resumed, 1, __ATOMIC_RELAXED);
    }
    return r;
}

__attribute__((destructor)) static void write_stats(void)
{
    const char *path = getenv("WRK_TLS_STATS");
    FILE *f = path && *path ? fopen(path, "w") : NULL;
    if (f) {
        fprintf(f, "handshakes %lu resumed %lu\n", handshakes, resumed);
        fclose(f);
    }
}
