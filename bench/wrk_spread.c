/* LD_PRELOAD shim that spreads wrk's connections over many loopback source addresses
 * (bench/run.sh builds it with cc into its temporary folder, for --bws-variants ratelimit).
 *
 * A rate limit is a token bucket per client address, and every wrk connection comes from
 * 127.0.0.1: one client. bws's largest rule (1000000 requests a minute, a burst of 100000)
 * is about 16.7 k requests/s, less than wrk sends on one core, so a "rule that does not
 * trigger" cannot be had from one address. With this shim each IPv4 connection to 127.0.0.0/8
 * is bound first to 127.77.0.N (N = 1..250, in turn; all of 127/8 is local on Linux), so
 * 64 connections are 64 clients, each far below the rule, and every request still goes
 * through the bucket. bench/run.sh preloads it for every server of such a pass, so the
 * servers are measured alike. A bind that fails leaves the connection as it was.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <sys/socket.h>

static unsigned next;

int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
    static int (*real)(int, const struct sockaddr *, socklen_t);
    if (!real)
        real = (int (*)(int, const struct sockaddr *, socklen_t))dlsym(RTLD_NEXT, "connect");
    if (addr && addr->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *to = (const struct sockaddr_in *)addr;
        if ((ntohl(to->sin_addr.s_addr) >> 24) == 127) {
            struct sockaddr_in from = {0};
            from.sin_family = AF_INET;
            from.sin_addr.s_addr = htonl((127u << 24) | (77u << 16) | (1 + __atomic_fetch_add(&next, 1, __ATOMIC_RELAXED) % 250));
            (void)bind(fd, (const struct sockaddr *)&from, sizeof from);
        }
    }
    return real(fd, addr, len);
}
