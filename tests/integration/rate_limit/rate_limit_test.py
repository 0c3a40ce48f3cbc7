#!/usr/bin/python3
"""[security.rate_limiting] and [sites.rate_limit] end to end: the real bws binary on
loopback, with 2 workers and then with 4.

Usage: rate_limit_test.py --bws PATH [--keep] [-k SUBSTRING]

The limit is requests_per_minute = 1 with burst_size = 5: a client may send 5 requests at
once and then one a minute, so within a check (well under a minute) exactly 5 requests of a
burst pass and every further one gets 429. Every request opens a new connection (so the
workers' accept loops share them) from a source address of its own check (127.0.0.N, bound
before connecting), because the limit's state lasts for the server's lifetime.

Sites on one port: "main" (the default, the server-wide limit, a 429 error page), "other"
(also the server-wide limit: one budget with "main"), "own" (its own limit, burst 2), "free"
(enabled = false). Each check prints PASS or FAIL; exit status 1 when any failed.
"""

import json
import os
import socket
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from bws_harness import (LOOPBACK, TIMEOUT, Bws, Connection, expect, expect_eq,  # noqa: E402
                         free_ports, http, run_checks, wait_until)

BURST = 5
ERROR_PAGE = b"<h1>slow down</h1>"


def config_text(s, burst):
    return f"""
[server]
workers = {s.workers}
[daemon]
pid_file = "{s.pid_file}"
[logging]
access_log_format = "json"
[management]
enabled = true
port = {s.mgmt}
[security.rate_limiting]
requests_per_minute = 1
burst_size = {burst}
whitelist = ["127.0.0.200", "127.0.1.0/24", "::1"]

[[sites]]
name = "main"
hostname = "main.test"
port = {s.port}
bind = "127.0.0.1"
static_dir = "{s.www}"
default = true
[sites.error_pages]
429 = "429.html"

[[sites]]
name = "other"
hostname = "other.test"
port = {s.port}
bind = "127.0.0.1"
static_dir = "{s.www}"

[[sites]]
name = "own"
hostname = "own.test"
port = {s.port}
bind = "127.0.0.1"
static_dir = "{s.www}"
[sites.rate_limit]
requests_per_minute = 1
burst_size = 2

[[sites]]
name = "free"
hostname = "free.test"
port = {s.port}
bind = "127.0.0.1"
static_dir = "{s.www}"
[sites.rate_limit]
enabled = false
"""


class Server:
    def __init__(self, binary, root, workers):
        self.binary = binary
        self.dir = root
        self.workers = workers
        self.www = os.path.join(root, "www")
        os.makedirs(self.www)
        with open(os.path.join(self.www, "index.html"), "wb") as f:
            f.write(b"hello")
        with open(os.path.join(self.www, "429.html"), "wb") as f:
            f.write(ERROR_PAGE)
        self.port, self.mgmt = free_ports(2)
        self.pid_file = os.path.join(root, "bws.pid")
        self.config = os.path.join(root, "bws.toml")
        self.write_config(BURST)
        self.bws = Bws(binary, root, self.config, self.pid_file)
        self.serial = 0

    def write_config(self, burst):
        with open(self.config, "w") as f:
            f.write(config_text(self, burst))

    def get(self, source, host="main.test", target=None):
        """One request on a new connection from `source`; the response."""
        self.serial += 1
        target = target or f"/?n={self.serial}"
        sock = socket.create_connection((LOOPBACK, self.port), timeout=TIMEOUT,
                                        source_address=(source, 0))
        conn = Connection(sock)
        try:
            return conn.request("GET", target, host, close=True)
        finally:
            conn.close()

    def statuses(self, source, count, host="main.test"):
        return [self.get(source, host).status for _ in range(count)]

    def stop(self):
        return self.bws.stop()


def burst(passed, refused):
    return [200] * passed + [429] * refused


def check_a_burst_passes_then_429_with_retry_after(s):
    expect_eq(s.statuses("127.0.0.10", 12), burst(BURST, 7), "statuses of a burst of 12")
    r = s.get("127.0.0.10")
    expect_eq(r.status, 429, "still limited")
    retry = r.header("retry-after")
    expect(retry is not None and retry.isdigit() and 1 <= int(retry) <= 60,
           f"Retry-After in whole seconds until the next token (at most 60): {retry!r}")
    expect_eq(r.body, ERROR_PAGE, "the site's error page for 429")


def check_another_client_is_not_affected(s):
    expect_eq(s.statuses("127.0.0.11", BURST + 2), burst(BURST, 2), "first client")
    expect_eq(s.statuses("127.0.0.12", BURST + 2), burst(BURST, 2), "second client")


def check_whitelisted_clients_are_never_limited(s):
    expect_eq(s.statuses("127.0.0.200", 3 * BURST), [200] * (3 * BURST), "an address")
    expect_eq(s.statuses("127.0.1.5", 3 * BURST), [200] * (3 * BURST), "in a block")


def check_a_site_with_its_own_limit(s):
    expect_eq(s.statuses("127.0.0.13", 5, host="own.test"), burst(2, 3), "own limit")
    # Its own budget: the server-wide one of the same client is untouched.
    expect_eq(s.statuses("127.0.0.13", BURST + 1), burst(BURST, 1), "server-wide limit")


def check_a_site_with_enabled_false_is_not_limited(s):
    expect_eq(s.statuses("127.0.0.14", 3 * BURST, host="free.test"), [200] * (3 * BURST),
              "statuses")


def check_sites_without_their_own_limit_share_one_budget(s):
    got = s.statuses("127.0.0.15", 3) + s.statuses("127.0.0.15", 4, host="other.test")
    expect_eq(got, burst(BURST, 2), "three on main, then four on other")


def check_keep_alive_requests_count_one_by_one(s):
    sock = socket.create_connection((LOOPBACK, s.port), timeout=TIMEOUT,
                                    source_address=("127.0.0.16", 0))
    conn = Connection(sock)
    try:
        got = [conn.request("GET", "/", "main.test").status for _ in range(BURST + 2)]
        expect_eq(got, burst(BURST, 2), "statuses on one connection")
        expect_eq(conn.request("GET", "/", "main.test").header("connection"), "keep-alive",
                  "a 429 keeps the connection")
    finally:
        conn.close()


def check_the_429_is_in_the_access_log(s):
    s.statuses("127.0.0.18", BURST)
    target = "/logged-429"
    expect_eq(s.get("127.0.0.18", target=target).status, 429, "limited")

    def find():
        for line in s.bws.log().splitlines():
            if line.startswith("{") and f'"target":"{target}"' in line:
                return json.loads(line)
        return None
    record = wait_until(find, 3)
    expect(record is not None, f"no access log line for {target}")
    expect_eq((record["status"], record["client"], record["site"]), (429, "127.0.0.18", "main"),
              "status, client and site")


def rate_limited_total(s, site):
    r = http(s.mgmt, "/metrics")
    expect_eq(r.status, 200, "GET /metrics")
    for line in r.body.decode().splitlines():
        if line.startswith(f'bws_rate_limited_requests_total{{site="{site}"}} '):
            return int(line.split()[-1])
    return 0


def check_refusals_are_counted_in_metrics(s):
    before = rate_limited_total(s, "own")
    expect_eq(s.statuses("127.0.0.21", 5, host="own.test"), burst(2, 3), "own limit")
    expect_eq(rate_limited_total(s, "own") - before, 3, "bws_rate_limited_requests_total")


def check_health_is_never_limited(s):
    s.statuses("127.0.0.19", BURST)
    expect_eq(s.get("127.0.0.19", target="/health").status, 200, "/health of a limited client")


def check_a_reload_keeps_the_state_and_applies_the_new_rate(s):
    expect_eq(s.statuses("127.0.0.17", BURST + 1), burst(BURST, 1), "before the reload")
    code, out = s.bws.reload()
    expect_eq(code, 0, "reload: " + out)
    expect_eq(s.statuses("127.0.0.17", 1), [429], "the same configuration: still limited")
    # burst_size 5 -> 7: the client's state is kept and has room for exactly two more.
    s.write_config(BURST + 2)
    code, out = s.bws.reload()
    expect_eq(code, 0, "reload: " + out)
    expect_eq(s.statuses("127.0.0.17", 4), burst(2, 2), "after raising burst_size to 7")
    expect_eq(s.statuses("127.0.0.20", 9), burst(BURST + 2, 2), "a new client gets 7")


def check_config_errors_name_the_place(s):
    bad = os.path.join(s.dir, "bad.toml")
    with open(bad, "w") as f:
        f.write(f"""[security.rate_limiting]
requests_per_minute = 0
whitelist = ["10.0.0.0/40"]

[[sites]]
name = "x"
hostname = "x.test"
port = {s.port}
static_dir = "{s.www}"
""")
    out = subprocess.run([s.binary, "--config-check", bad], capture_output=True, text=True,
                         timeout=30)
    expect_eq(out.returncode, 1, "--config-check exit status")
    for where in (f"{bad}:2:23:", f"{bad}:3:14:", f"{bad}:1:1:"):
        expect(where in out.stderr, f"an error at {where}: " + out.stderr)
    expect("missing the required key 'burst_size'" in out.stderr, out.stderr)


COMMON = [check_a_burst_passes_then_429_with_retry_after, check_another_client_is_not_affected,
          check_whitelisted_clients_are_never_limited, check_a_site_with_its_own_limit,
          check_sites_without_their_own_limit_share_one_budget]
TWO_ONLY = [check_a_site_with_enabled_false_is_not_limited,
            check_keep_alive_requests_count_one_by_one, check_the_429_is_in_the_access_log,
            check_refusals_are_counted_in_metrics, check_health_is_never_limited,
            check_config_errors_name_the_place,
            check_a_reload_keeps_the_state_and_applies_the_new_rate]


def named(functions, workers):
    return [(f"{f.__name__[len('check_'):]} ({workers} workers)", f) for f in functions]


def main():
    two = run_checks(named(COMMON + TWO_ONLY, 2), lambda b, r: Server(b, r, 2),
                     "bws-rate-limit-it-")
    four = run_checks(named(COMMON, 4), lambda b, r: Server(b, r, 4), "bws-rate-limit-it-")
    return max(two, four)


if __name__ == "__main__":
    sys.exit(main())
