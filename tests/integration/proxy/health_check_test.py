#!/usr/bin/python3
"""Active upstream health checks end to end: the real bws (two workers) in front of backend.py
upstreams whose /health the test turns bad and good again.

Usage: health_check_test.py --bws PATH [--keep] [-k SUBSTRING]

What it shows: a server whose /health fails is taken out of every worker within interval x
retries (no client request reaches it), and back after it recovers; the checks come from one
checker (the master), not one per worker; a pool with no healthy server answers 503 with the
site's error page; /health/detailed shows each server's check; the state survives a reload;
a host name ("localhost") is looked up again on a schedule without errors.
"""

import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bws_harness import (Bws, CheckFailed, expect, expect_eq, free_ports, http,  # noqa: E402
                         run_checks, wait_until)
from proxy_test import Backend, route  # noqa: E402

INTERVAL = 0.5  # seconds; the config's "500ms"
RETRIES = 2
# The time a change of /health needs to show: retries checks, one more interval for the
# phase of the cadence, and slack for a loaded machine.
SETTLE = INTERVAL * (RETRIES + 1) + 1.5


class Server:
    def __init__(self, binary, root):
        self.dir = os.path.join(root, "hc")
        os.makedirs(os.path.join(self.dir, "www"))
        os.chmod(self.dir, 0o755)
        with open(os.path.join(self.dir, "www", "503.html"), "w") as f:
            f.write("all upstreams are unhealthy\n")
        self.port, self.bad_port, self.dns_port, a, b, c, d = free_ports(7)
        self.b = {n: Backend(self.dir, p, n) for n, p in (("a", a), ("b", b), ("c", c), ("d", d))}
        self.set_health("c", 500)  # the "bad" site's only server fails from the start
        self.pid_file = os.path.join(self.dir, "bws.pid")
        self.config = os.path.join(self.dir, "bws.toml")
        with open(self.config, "w") as f:
            f.write(self.text())
        self.bws = Bws(binary, self.dir, self.config, self.pid_file)

    def set_health(self, name, status):
        path = os.path.join(self.dir, f"{name}.health")
        if status is None:
            os.unlink(path)
        else:
            with open(path, "w") as f:
                f.write(str(status))

    def text(self):
        www = os.path.join(self.dir, "www")
        check = (f'[sites.proxy.health_check]\nenabled = true\ninterval = "{int(INTERVAL * 1000)}ms"\n'
                 f'timeout = "300ms"\nretries = {RETRIES}\n')

        def site(name, port, servers, extra=""):
            ups = "".join(f'[[sites.proxy.upstreams]]\nname = "p"\nurl = "{u}"\n' for u in servers)
            return (f'[[sites]]\nname = "{name}"\nhostname = "localhost"\nport = {port}\n'
                    f'bind = "127.0.0.1"\nstatic_dir = "{www}"\n'
                    f'[sites.error_pages]\n503 = "503.html"\n'
                    f"[sites.proxy]\nenabled = true\n{extra}{ups}{route('/', 'p')}{check}\n")

        return (f'[server]\nworkers = 2\n[daemon]\npid_file = "{self.pid_file}"\n'
                f'[logging]\nlevel = "info"\n\n'
                + site("main", self.port, [f"http://127.0.0.1:{self.b['a'].port}",
                                           f"http://127.0.0.1:{self.b['b'].port}"])
                + site("bad", self.bad_port, [f"http://127.0.0.1:{self.b['c'].port}"])
                + site("dns", self.dns_port, [f"http://localhost:{self.b['d'].port}"],
                       'resolve_interval = "300ms"\n'))

    def served_by(self, name, requests=20):
        """How many of `requests` client requests (not checks) reached backend `name`."""
        before = self.client_requests(name)
        for i in range(requests):
            r = http(self.port, f"/req/{i}")
            expect_eq(r.status, 200, "a request while one server is healthy")
        return self.client_requests(name) - before

    def client_requests(self, name):
        return sum(1 for line in self.b[name].requests().splitlines()
                   if line.startswith("GET ") and not line.startswith("GET /health "))

    def checks(self, name):
        return sum(1 for line in self.b[name].requests().splitlines()
                   if line.startswith("GET /health "))

    def check_state(self, site, url_port):
        """The health_check object of a server in /health/detailed (any worker's)."""
        detailed = json.loads(http(self.port, "/health/detailed").body)
        for u in detailed["served_by"].get("upstreams", []):
            if u["site"] == site and u["url"].endswith(f":{url_port}"):
                return u.get("health_check")
        raise CheckFailed(f"no upstream {site} :{url_port} in /health/detailed: {detailed}")

    def stop(self):
        code = self.bws.stop()
        for b in self.b.values():
            b.stop()
        return code


CHECKS = []


def check(fn):
    CHECKS.append((fn.__name__.replace("_", "-"), fn))
    return fn


@check
def one_checker_for_all_workers(s):
    expect_eq(len(s.bws.workers()), 2, "workers")
    first = s.checks("a")
    window = 4.0
    time.sleep(window)
    n = s.checks("a") - first
    # One checker: about window / interval (8); one per worker would be twice that.
    expected = window / INTERVAL
    expect(expected * 0.6 <= n <= expected * 1.3,
           f"{n} checks of a in {window} s at a {INTERVAL} s interval (want about {expected:.0f})")
    line = next(line for line in s.b["a"].requests().splitlines() if line.startswith("GET /health"))
    expect_eq(line.strip(), "GET /health HTTP/1.1", "the check's request line")


@check
def a_failing_server_is_taken_out_and_comes_back(s):
    expect(s.served_by("a") > 0, "a gets requests while healthy")
    s.set_health("a", 500)
    try:
        expect(wait_until(lambda: (s.check_state("main", s.b["a"].port) or {}).get("state")
                          == "unhealthy", SETTLE), "a is not unhealthy in /health/detailed")
        # Both workers (connections land on either) skip it.
        expect_eq(s.served_by("a", 40), 0, "client requests that reached the unhealthy server")
        state = s.check_state("main", s.b["a"].port)
        expect_eq(state["last_check"], "status 500", "last_check")
        expect(state["consecutive_failures"] >= RETRIES, f"consecutive_failures: {state}")
        expect(re.search(r"upstream http://127\.0\.0\.1:%d \(site main, pool p\) is unhealthy "
                         r"after %d failed checks: status 500" % (s.b["a"].port, RETRIES),
                         s.bws.log()), "no log line for the transition")
    finally:
        s.set_health("a", None)
    expect(wait_until(lambda: (s.check_state("main", s.b["a"].port) or {}).get("state")
                      == "healthy", SETTLE), "a is not healthy again")
    expect(s.served_by("a") > 0, "a gets requests again")
    expect("is healthy again after" in s.bws.log(), "no log line for the recovery")


@check
def a_refused_connection_is_a_failed_check(s):
    s.b["b"].stop()
    expect(wait_until(lambda: (s.check_state("main", s.b["b"].port) or {}).get("state")
                      == "unhealthy", SETTLE), "a stopped server is not unhealthy")
    expect_eq(s.check_state("main", s.b["b"].port)["last_check"], "connection refused",
              "last_check")
    expect("failed checks: connection refused" in s.bws.log(), "no log line with the reason")


@check
def a_pool_without_a_healthy_server_answers_503_with_the_error_page(s):
    expect(wait_until(lambda: http(s.bad_port, "/x").status == 503, SETTLE),
           "the bad site does not answer 503")
    before = s.client_requests("c")
    for i in range(10):
        r = http(s.bad_port, f"/x/{i}")
        expect_eq(r.status, 503, "status")
        expect_eq(r.body, b"all upstreams are unhealthy\n", "the site's error page")
    expect_eq(s.client_requests("c") - before, 0,
              "client requests that reached the unhealthy server")


@check
def the_state_survives_a_reload(s):
    # b was stopped above, so it is unhealthy; after a reload it must still be, at once.
    expect_eq(s.check_state("main", s.b["b"].port)["state"], "unhealthy", "before the reload")
    code, out = s.bws.reload()
    expect_eq(code, 0, f"reload: {out}")
    state = s.check_state("main", s.b["b"].port)
    expect_eq(state["state"], "unhealthy", "right after the reload")
    for i in range(10):
        expect_eq(http(s.port, f"/after/{i}").status, 200, "requests after the reload")


@check
def a_host_name_is_looked_up_again_without_errors(s):
    time.sleep(1.0)  # a few lookups at 300 ms
    for i in range(5):
        r = http(s.dns_port, f"/dns/{i}")
        expect_eq(r.status, 200, "a request to an upstream named localhost")
    expect("cannot resolve" not in s.bws.log(), "a lookup of localhost failed")


def main():
    return run_checks(CHECKS, Server, "bws-hc-it-")


if __name__ == "__main__":
    sys.exit(main())
