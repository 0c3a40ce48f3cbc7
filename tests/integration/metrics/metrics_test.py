#!/usr/bin/python3
"""Server-wide metrics and the management API end to end: the real bws binary with 2 workers,
/metrics parsed by Debian's prometheus_client (both formats), counters exact under load, kept
across reloads and worker kills; the API's key, endpoints, reload and config check.

Usage: metrics_test.py --bws PATH [--keep] [-k SUBSTRING]

Ports come from the kernel; bws reports readiness over a NOTIFY_SOCKET; every process started
here is stopped by its PID. Each check prints PASS or FAIL; the exit status is 1 on a failure.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import threading

from prometheus_client.openmetrics.parser import \
    text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families as parse_prometheus

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from bws_harness import (LOOPBACK, TIMEOUT, Bws, Connection, expect, expect_eq,  # noqa: E402
                         free_ports, http, run_checks, wait_until)

KEY = "metrics-test-key"
AUTH = {"Authorization": f"Bearer {KEY}"}


class Server:
    def __init__(self, binary, root):
        self.binary = binary
        self.dir = root
        os.makedirs(os.path.join(self.dir, "www"))
        with open(os.path.join(self.dir, "www", "index.html"), "w") as f:
            f.write("hello\n")
        self.alpha, self.beta, self.gamma, self.mgmt, self.dead = free_ports(5)
        self.pid_file = os.path.join(self.dir, "bws.pid")
        self.config = os.path.join(self.dir, "bws.toml")
        self.write_config()
        self.bws = Bws(binary, self.dir, self.config, self.pid_file)

    def text(self, extra=""):
        www = os.path.join(self.dir, "www")
        sites = ""
        for name, port in (("alpha", self.alpha), ("beta", self.beta)):
            sites += f"""
[[sites]]
name = "{name}"
hostname = "localhost"
port = {port}
bind = "127.0.0.1"
static_dir = "{www}"
"""
        return f"""{extra}
[server]
workers = 2
[daemon]
pid_file = "{self.pid_file}"
[logging]
level = "info"
access_log = "off"
[management]
enabled = true
port = {self.mgmt}
api_key = "{KEY}"
{sites}
[[sites]]
name = "gamma"
hostname = "localhost"
port = {self.gamma}
bind = "127.0.0.1"
static_dir = "{www}"
[sites.proxy]
enabled = true
[[sites.proxy.upstreams]]
name = "dead"
url = "http://127.0.0.1:{self.dead}"
[[sites.proxy.routes]]
path = "/"
upstream = "dead"
"""

    def write_config(self, extra=""):
        with open(self.config, "w") as f:
            f.write(self.text(extra))

    def api(self, method, target, headers=None, body=b""):
        h = dict(AUTH)
        h.update(headers or {})
        return http(self.mgmt, target, method=method, headers=h, body=body)

    def scrape(self, openmetrics=False):
        headers = {"Accept": "application/openmetrics-text; version=1.0.0"} if openmetrics else {}
        r = self.api("GET", "/metrics", headers)
        expect_eq(r.status, 200, "GET /metrics")
        return r

    def samples(self):
        """{(name, frozenset(labels)): value} of a Prometheus-format scrape."""
        text = self.scrape().body.decode()
        out = {}
        for family in parse_prometheus(text):
            for s in family.samples:
                out[(s.name, frozenset(s.labels.items()))] = s.value
        return out

    def stop(self):
        return self.bws.stop()


def requests_of(samples, site, method, status):
    return samples.get(("bws_http_requests_total", frozenset(
        {"site": site, "method": method, "status": status}.items())), 0)


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0)


def load(port, count, target="/index.html", method="GET", threads=4):
    """`count` requests over `threads` keep-alive connections; the statuses seen."""
    statuses = {}
    lock = threading.Lock()
    errors = []

    def run(n):
        try:
            conn = Connection(socket.create_connection((LOOPBACK, port), timeout=TIMEOUT))
            try:
                for _ in range(n):
                    r = conn.request(method, target, "localhost")
                    with lock:
                        statuses[r.status] = statuses.get(r.status, 0) + 1
            finally:
                conn.close()
        except Exception as e:  # reported below
            errors.append(e)

    share = [count // threads + (1 if i < count % threads else 0) for i in range(threads)]
    workers = [threading.Thread(target=run, args=(n,)) for n in share if n]
    for t in workers:
        t.start()
    for t in workers:
        t.join(60)
    expect(not errors, f"load errors: {errors[:3]}")
    return statuses


def wait_counts(s, want, limit=10.0):
    """Waits until every (site, method, status) -> count in `want` is reached; returns the
    last samples. A response can reach the client just before its worker counts it."""
    last = {}

    def reached():
        last["s"] = s.samples()
        return all(requests_of(last["s"], *k) >= v for k, v in want.items())
    wait_until(reached, limit, 0.05)
    return last["s"]


CHECKS = []


def check(fn):
    CHECKS.append((fn.__name__, fn))
    return fn


@check
def api_key_is_required(s):
    r = http(s.mgmt, "/metrics")
    expect_eq(r.status, 401, "no key")
    expect_eq(json.loads(r.body)["status"], 401, "JSON error body")
    expect_eq(r.header("content-type"), "application/json", "error type")
    expect_eq(http(s.mgmt, "/metrics", headers={"Authorization": "Bearer wrong"}).status, 401,
              "wrong key")
    expect_eq(http(s.mgmt, "/api/status", headers={"X-API-Key": KEY[:-1]}).status, 401,
              "a prefix of the key")
    expect_eq(http(s.mgmt, "/metrics", headers=AUTH).status, 200, "Bearer key")
    expect_eq(http(s.mgmt, "/metrics", headers={"X-API-Key": KEY}).status, 200, "X-API-Key")


@check
def unknown_paths_and_methods(s):
    r = s.api("GET", "/index.html")
    expect_eq(r.status, 404, "no files on the management port")
    expect("error" in json.loads(r.body), "404 JSON")
    r = s.api("GET", "/api/config/reload")
    expect_eq(r.status, 405, "GET reload")
    expect_eq(r.header("allow"), "POST", "Allow")
    expect_eq(s.api("DELETE", "/metrics").status, 405, "DELETE /metrics")


@check
def both_formats_parse(s):
    r = s.scrape()
    expect(r.header("content-type").startswith("text/plain; version=0.0.4"), r.header(
        "content-type"))
    names = {f.name for f in parse_prometheus(r.body.decode())}
    for n in ("bws_http_requests", "bws_http_request_duration_seconds", "bws_connections_open",
              "bws_reloads", "bws_worker_crashes", "bws_generation", "bws_uptime_seconds",
              "bws_tls_handshakes", "bws_upstream_failures", "bws_log_lines_dropped"):
        expect(n in names, f"family {n} missing: {sorted(names)}")
    r = s.scrape(openmetrics=True)
    expect(r.header("content-type").startswith("application/openmetrics-text"),
           r.header("content-type"))
    expect(r.body.endswith(b"# EOF\n"), "OpenMetrics ends with # EOF")
    families = {f.name: f for f in parse_openmetrics(r.body.decode())}
    expect_eq(families["bws_http_requests"].type, "counter", "OpenMetrics counter")
    expect_eq(families["bws_http_request_duration_seconds"].type, "histogram", "histogram")


@check
def counters_are_exact_under_load_across_workers(s):
    before = s.samples()
    got = {}
    got[("alpha", "GET", "2xx")] = load(s.alpha, 400).get(200, 0)
    got[("alpha", "GET", "4xx")] = load(s.alpha, 60, "/missing").get(404, 0)
    got[("beta", "HEAD", "2xx")] = load(s.beta, 50, method="HEAD").get(200, 0)
    post = load(s.beta, 30, method="POST", threads=2)
    expect_eq(sum(post.values()), 30, "POST answers")
    expect(len(post) == 1, f"one POST status: {post}")
    post_status = next(iter(post))
    got[("beta", "POST", f"{post_status // 100}xx")] = 30
    expect_eq(got[("alpha", "GET", "2xx")], 400, "200s")
    want = {k: requests_of(before, *k) + v for k, v in got.items()}
    after = wait_counts(s, want)
    for k, v in want.items():
        expect_eq(requests_of(after, *k), v, f"requests {k}")
    # Nothing else moved (the management API's own requests are not a site's).
    total = sum(v for (n, _), v in after.items() if n == "bws_http_requests_total")
    total_before = sum(v for (n, _), v in before.items() if n == "bws_http_requests_total")
    expect_eq(total - total_before, sum(got.values()), "all requests")
    # The histogram saw each of them, and bytes were counted.
    count = value(after, "bws_http_request_duration_seconds_count", site="alpha")
    count_before = value(before, "bws_http_request_duration_seconds_count", site="alpha")
    expect_eq(count - count_before, 460, "alpha duration count")
    expect(value(after, "bws_http_sent_body_bytes_total", site="alpha") >=
           value(before, "bws_http_sent_body_bytes_total", site="alpha") + 400 * 6, "bytes out")
    expect(value(after, "bws_http_received_bytes_total", site="alpha") >
           value(before, "bws_http_received_bytes_total", site="alpha"), "bytes in")
    # Two workers counted into the totals above.
    status = json.loads(s.api("GET", "/api/status").body)
    expect_eq(len([w for w in status["workers"] if w["state"] == "ready"]), 2, "2 workers")


@check
def upstream_failures_are_counted(s):
    before = s.samples()
    r = http(s.gamma, "/x")
    expect_eq(r.status, 502, "dead upstream")
    want = {("gamma", "GET", "5xx"): requests_of(before, "gamma", "GET", "5xx") + 1}
    after = wait_counts(s, want)
    expect_eq(value(after, "bws_upstream_requests_total", site="gamma") -
              value(before, "bws_upstream_requests_total", site="gamma"), 1, "upstream requests")
    expect_eq(value(after, "bws_upstream_failures_total", site="gamma") -
              value(before, "bws_upstream_failures_total", site="gamma"), 1, "upstream failures")


@check
def open_connections_gauge(s):
    conns = [socket.create_connection((LOOPBACK, s.alpha), timeout=TIMEOUT) for _ in range(5)]
    try:
        ok = wait_until(lambda: value(s.samples(), "bws_connections_open") >= 5, 5)
        expect(ok, "5 open connections")
        # Waiting for their first request: idle, as each worker samples once a second.
        ok = wait_until(lambda: value(s.samples(), "bws_connections_idle") >= 5, 5)
        expect(ok, "5 idle connections")
    finally:
        for c in conns:
            c.close()
    ok = wait_until(lambda: value(s.samples(), "bws_connections_open") == 0, 5)
    expect(ok, "connections closed")


@check
def status_endpoint(s):
    r = s.api("GET", "/api/status")
    expect_eq(r.status, 200, "status")
    body = json.loads(r.body)
    expect_eq(sorted(x["name"] for x in body["sites"]), ["alpha", "beta", "gamma"], "sites")
    expect_eq(len(body["listeners"]), 3, "listeners")
    pids = sorted(w["pid"] for w in body["workers"])
    expect_eq(pids, sorted(s.bws.workers()), "worker pids")
    expect_eq(body["reloading"], False, "reloading")


@check
def reload_keeps_counters(s):
    load(s.alpha, 20)
    before = wait_counts(s, {("alpha", "GET", "2xx"): 1})
    generation = value(before, "bws_generation")
    r = s.api("POST", "/api/config/reload")
    expect_eq(r.status, 200, f"reload: {r.body!r}")
    body = json.loads(r.body)
    expect_eq(body["ok"], True, "reload ok")
    expect_eq(body["generation"], generation + 1, "new generation")
    after = s.samples()
    for key, v in before.items():
        if key[0].endswith("_total") or key[0].endswith("_count") or key[0].endswith("_bucket"):
            expect(after.get(key, 0) >= v, f"{key} went back: {v} -> {after.get(key)}")
    expect_eq(requests_of(after, "alpha", "GET", "2xx"),
              requests_of(before, "alpha", "GET", "2xx"), "counts kept across the reload")
    expect_eq(value(after, "bws_reloads_total", outcome="success") -
              value(before, "bws_reloads_total", outcome="success"), 1, "reload counted")
    expect_eq(value(after, "bws_generation"), generation + 1, "generation gauge")
    # And counting goes on in the new generation.
    load(s.alpha, 10)
    want = {("alpha", "GET", "2xx"): requests_of(after, "alpha", "GET", "2xx") + 10}
    expect_eq(requests_of(wait_counts(s, want), "alpha", "GET", "2xx"),
              want[("alpha", "GET", "2xx")], "after the reload")


@check
def a_killed_worker_keeps_its_counts(s):
    pids = wait_until(lambda: len(s.bws.workers()) == 2 and s.bws.workers(), 10)
    expect(pids, "2 workers")
    load(s.alpha, 100, threads=8)
    before = s.samples()
    want = {("alpha", "GET", "2xx"): requests_of(before, "alpha", "GET", "2xx")}
    for victim in pids:
        os.kill(victim, signal.SIGKILL)
    ok = wait_until(lambda: len(set(s.bws.workers()) - set(pids)) == 2, 15)
    expect(ok, f"workers replaced: {s.bws.workers()} (were {pids})")
    after = s.samples()
    expect_eq(requests_of(after, *next(iter(want))), next(iter(want.values())),
              "counts of killed workers kept")
    expect_eq(value(after, "bws_worker_crashes_total") -
              value(before, "bws_worker_crashes_total"), 2, "crashes counted")
    ok = wait_until(lambda: value(s.samples(), "bws_worker_respawns_total") -
                    value(before, "bws_worker_respawns_total") == 2, 10)
    expect(ok, "respawns counted")


@check
def broken_config_is_422_and_check_endpoint(s):
    r = s.api("GET", "/api/config/check")
    expect_eq(r.status, 200, f"check ok: {r.body!r}")
    expect_eq(json.loads(r.body)["ok"], True, "check ok")
    before = s.samples()
    s.write_config("bogus_key = 1")
    try:
        r = s.api("GET", "/api/config/check")
        expect_eq(r.status, 422, "check of a broken file")
        body = json.loads(r.body)
        expect(any("bogus_key" in e for e in body["errors"]), f"diagnostics: {body}")
        r = s.api("POST", "/api/config/reload")
        expect_eq(r.status, 422, f"reload of a broken file: {r.body!r}")
        body = json.loads(r.body)
        expect_eq(body["ok"], False, "not ok")
        expect(any("bogus_key" in e for e in body["errors"]), f"reasons: {body}")
    finally:
        s.write_config()
    after = s.samples()
    expect_eq(value(after, "bws_reloads_total", outcome="failure") -
              value(before, "bws_reloads_total", outcome="failure"), 1, "failed reload counted")
    expect_eq(value(after, "bws_generation"), value(before, "bws_generation"), "same generation")


@check
def second_reload_while_one_runs_is_409(s):
    a = Connection(socket.create_connection((LOOPBACK, s.mgmt), timeout=30))
    b = Connection(socket.create_connection((LOOPBACK, s.mgmt), timeout=30))
    try:
        head = f"POST /api/config/reload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {KEY}\r\n"
        head += "Content-Length: 0\r\n\r\n"
        # Both at once: whichever the master reads first starts the reload, the other finds it
        # running (the new workers cannot be ready before the master reads the second).
        a.sock.sendall(head.encode())
        b.sock.sendall(head.encode())
        answers = sorted([a.read_response(), b.read_response()], key=lambda r: r.status)
        expect_eq([r.status for r in answers], [200, 409], f"two reloads: {answers}")
        expect("already running" in json.loads(answers[1].body)["error"], "409 says why")
    finally:
        a.close()
        b.close()


@check
def loader_refuses_non_loopback_host(s):
    bad = os.path.join(s.dir, "bad.toml")
    with open(bad, "w") as f:
        f.write(s.text().replace("[management]\n", '[management]\nhost = "0.0.0.0"\n'))
    r = subprocess.run([s.binary, "--config-check", bad], capture_output=True, timeout=30)
    out = (r.stdout + r.stderr).decode()
    expect(r.returncode != 0, "config check must fail")
    expect("not a loopback address" in out, out)


def main():
    return run_checks(CHECKS, Server, "bws-metrics-it-")


if __name__ == "__main__":
    sys.exit(main())
