#!/usr/bin/python3
"""[sites.metrics] and api_only end to end: the real bws binary with 2 workers. A site's
/metrics (parsed by Debian's prometheus_client) has the management endpoint's families and
figures whichever worker answers, counts the requests both workers served, and the master's
reloads and generation; allow_ips refuses others with 403; HEAD works, POST is 405. An
api_only site answers 404 for a file that exists on disk, while its proxy route and /health
still answer.

Usage: site_metrics_test.py --bws PATH [--keep] [-k SUBSTRING]

Ports come from the kernel; bws reports readiness over a NOTIFY_SOCKET; every process and
thread started here is stopped. Each check prints PASS or FAIL; the exit status is 1 on a
failure.
"""

import json
import os
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client.openmetrics.parser import \
    text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families as parse_prometheus

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from bws_harness import (LOOPBACK, TIMEOUT, Bws, Connection, expect, expect_eq,  # noqa: E402
                         free_ports, http, run_checks, wait_until)

PAGE_404 = "api site: nothing here\n"


class Upstream(ThreadingHTTPServer):
    """The api site's application: answers every GET with its path."""

    daemon_threads = True

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            body = f"upstream {self.path}\n".encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    def __init__(self):
        super().__init__((LOOPBACK, 0), Upstream.Handler)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.shutdown()
        self.server_close()
        self.thread.join(TIMEOUT)


class Server:
    def __init__(self, binary, root):
        self.binary = binary
        self.dir = root
        self.www = os.path.join(root, "www")
        os.makedirs(self.www)
        with open(os.path.join(self.www, "index.html"), "w") as f:
            f.write("hello\n")
        self.page_404 = os.path.join(root, "404.html")
        with open(self.page_404, "w") as f:
            f.write(PAGE_404)
        self.upstream = Upstream()
        self.alpha, self.web, self.closed, self.api, self.mgmt = free_ports(5)
        self.pid_file = os.path.join(root, "bws.pid")
        self.config = os.path.join(root, "bws.toml")
        with open(self.config, "w") as f:
            f.write(self.text())
        try:
            self.bws = Bws(binary, root, self.config, self.pid_file)
        except Exception:
            self.upstream.stop()
            raise

    def text(self):
        def site(name, port, body):
            return f"""
[[sites]]
name = "{name}"
hostname = "localhost"
port = {port}
bind = "127.0.0.1"
{body}"""
        return f"""[server]
workers = 2
[daemon]
pid_file = "{self.pid_file}"
[logging]
level = "info"
access_log = "off"
[management]
enabled = true
port = {self.mgmt}
""" + site("alpha", self.alpha, f'static_dir = "{self.www}"\n') + site(
            "web", self.web, f'static_dir = "{self.www}"\n[sites.metrics]\n') + site(
            "closed", self.closed, f"""static_dir = "{self.www}"
[sites.metrics]
path = "/stats"
allow_ips = ["10.0.0.0/8", "::1"]
""") + site("api", self.api, f"""api_only = true
static_dir = "{self.www}"
[sites.error_pages]
404 = "{self.page_404}"
[sites.proxy]
enabled = true
[[sites.proxy.upstreams]]
name = "app"
url = "http://{LOOPBACK}:{self.upstream.server_address[1]}"
[[sites.proxy.routes]]
path = "/api"
upstream = "app"
""")

    def management(self, openmetrics=False):
        headers = {"Accept": "application/openmetrics-text; version=1.0.0"} if openmetrics else {}
        r = http(self.mgmt, "/metrics", headers=headers)
        expect_eq(r.status, 200, "management /metrics")
        return r

    def stop(self):
        try:
            return self.bws.stop()
        finally:
            self.upstream.stop()


def samples_of(text):
    """{(name, frozenset(labels)): value} of a Prometheus-format exposition."""
    out = {}
    for family in parse_prometheus(text):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def requests_of(samples, site, method="GET", status="2xx"):
    return samples.get(("bws_http_requests_total", frozenset(
        {"site": site, "method": method, "status": status}.items())), 0)


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0)


def connect(port):
    return Connection(socket.create_connection((LOOPBACK, port), timeout=TIMEOUT))


def per_worker(port, workers=2, attempts=200):
    """Keep-alive connections to `port`, one served by each of `workers` worker processes
    (told apart by the pid of /health): {pid: connection}, and how many requests it took."""
    found, sent = {}, 0
    for _ in range(attempts):
        conn = connect(port)
        r = conn.request("GET", "/health", "localhost")
        sent += 1
        expect_eq(r.status, 200, "/health")
        pid = json.loads(r.body)["pid"]
        if pid in found:
            conn.close()
        else:
            found[pid] = conn
        if len(found) == workers:
            return found, sent
    for c in found.values():
        c.close()
    raise AssertionError(f"only {len(found)} of {workers} workers reached in {attempts} "
                         "connections")


CHECKS = []


def check(fn):
    CHECKS.append((fn.__name__, fn))
    return fn


@check
def site_metrics_has_the_management_families(s):
    r = http(s.web, "/metrics")
    expect_eq(r.status, 200, f"site /metrics: {r.body[:200]!r}")
    expect(r.header("content-type").startswith("text/plain; version=0.0.4"),
           r.header("content-type"))
    expect_eq(r.header("cache-control"), "no-store", "Cache-Control")
    site_families = {f.name: f.type for f in parse_prometheus(r.body.decode())}
    mgmt_families = {f.name: f.type for f in parse_prometheus(s.management().body.decode())}
    expect_eq(site_families, mgmt_families, "families and types")
    for n in ("bws_http_requests", "bws_reloads", "bws_worker_crashes", "bws_generation",
              "bws_connections_open", "bws_uptime_seconds"):
        expect(n in site_families, f"family {n} missing")
    # OpenMetrics when asked, as on the management listener.
    r = http(s.web, "/metrics?x=1",
             headers={"Accept": "application/openmetrics-text; version=1.0.0"})
    expect_eq(r.status, 200, "OpenMetrics")
    expect(r.header("content-type").startswith("application/openmetrics-text"),
           r.header("content-type"))
    expect(r.body.endswith(b"# EOF\n"), "# EOF")
    families = {f.name: f.type for f in parse_openmetrics(r.body.decode())}
    mgmt = {f.name: f.type for f in parse_openmetrics(s.management(True).body.decode())}
    expect_eq(families, mgmt, "OpenMetrics families")


@check
def both_workers_report_the_whole_servers_figures(s):
    # A reload first, so that the master's own counters (kept in the shared memory the
    # workers read) are not all zero.
    r = http(s.mgmt, "/api/config/reload", method="POST")
    expect_eq(r.status, 200, f"reload: {r.body!r}")
    before = samples_of(s.management().body.decode())
    # Requests to alpha served by each of the two workers, on connections known to be theirs.
    alpha, sent = per_worker(s.alpha)
    scrapers = {}
    try:
        counts = {}
        for n, (pid, conn) in zip((70, 30), alpha.items()):
            for _ in range(n):
                expect_eq(conn.request("GET", "/index.html", "localhost").status, 200, "alpha")
            counts[pid] = n
        sent += sum(counts.values())
        want = requests_of(before, "alpha") + sent
        ok = wait_until(lambda: requests_of(samples_of(s.management().body.decode()),
                                            "alpha") >= want, 10, 0.05)
        expect(ok, "management endpoint counted the requests")
        # The site's /metrics on each worker: both see every request, of both workers.
        scrapers, _ = per_worker(s.web)
        mgmt = samples_of(s.management().body.decode())
        for pid, conn in scrapers.items():
            r = conn.request("GET", "/metrics", "localhost")
            expect_eq(r.status, 200, f"/metrics from worker {pid}")
            got = samples_of(r.body.decode())
            expect_eq(requests_of(got, "alpha"), want,
                      f"worker {pid}: alpha requests (workers served {counts})")
            expect_eq(requests_of(got, "alpha"), requests_of(mgmt, "alpha"), "as management")
            for name, labels in (("bws_generation", {}), ("bws_reloads_total",
                                                          {"outcome": "success"}),
                                 ("bws_worker_crashes_total", {}),
                                 ("bws_worker_respawns_total", {}),
                                 ("bws_start_time_seconds", {})):
                expect_eq(value(got, name, **labels), value(mgmt, name, **labels),
                          f"worker {pid}: {name}")
        expect_eq(value(mgmt, "bws_generation"), value(before, "bws_generation"), "generation")
        expect(value(mgmt, "bws_reloads_total", outcome="success") >= 1, "a reload counted")
        expect(value(mgmt, "bws_generation") >= 2, "generation after a reload")
    finally:
        for c in list(alpha.values()) + list(scrapers.values()):
            c.close()


@check
def other_addresses_get_403(s):
    # allow_ips = ["10.0.0.0/8", "::1"]: 127.0.0.1 is not in it.
    for method in ("GET", "HEAD"):
        conn = connect(s.closed)
        try:
            r = conn.request(method, "/stats", "localhost")
        finally:
            conn.close()
        expect_eq(r.status, 403, f"{method} /stats from 127.0.0.1")
        expect(b"bws_http_requests" not in r.body, "no figures in the 403")
    # Its other paths are the site's files as usual, /metrics included (not its path).
    expect_eq(http(s.closed, "/index.html").status, 200, "files")
    expect_eq(http(s.closed, "/metrics").status, 404, "/metrics is a missing file there")
    # A site without [sites.metrics] has no such endpoint.
    expect_eq(http(s.alpha, "/metrics").status, 404, "alpha /metrics")


@check
def head_works_and_post_is_405(s):
    conn = connect(s.web)
    try:
        get = conn.request("GET", "/metrics", "localhost")
        head = conn.request("HEAD", "/metrics", "localhost")
    finally:
        conn.close()
    expect_eq(head.status, 200, "HEAD")
    expect_eq(head.body, b"", "HEAD has no body")
    expect(int(head.header("content-length")) > 1000, f"HEAD length {head.header('content-length')}")
    expect_eq(head.header("content-type"), get.header("content-type"), "HEAD type")
    for method in ("POST", "DELETE"):
        r = http(s.web, "/metrics", method=method, body=b"x=1" if method == "POST" else b"")
        expect_eq(r.status, 405, method)
        expect_eq(r.header("allow"), "GET, HEAD", "Allow")


@check
def api_only_site_serves_no_files(s):
    expect(os.path.isfile(os.path.join(s.www, "index.html")), "the file is on disk")
    for target in ("/index.html", "/", "/missing"):
        r = http(s.api, target)
        expect_eq(r.status, 404, f"api {target}")
        expect_eq(r.body.decode(), PAGE_404, f"api {target}: the site's 404 page")
    r = http(s.api, "/index.html", method="POST", body=b"x")
    expect_eq(r.status, 404, "POST: 404, not 405")
    r = http(s.api, "/api/users?id=1")
    expect_eq(r.status, 200, f"proxy route: {r.body!r}")
    expect_eq(r.body, b"upstream /api/users?id=1\n", "proxied")
    r = http(s.api, "/health")
    expect_eq(r.status, 200, "health")
    expect_eq(json.loads(r.body)["status"], "healthy", "health body")
    # The same files on a site that is not api_only.
    expect_eq(http(s.alpha, "/index.html").body, b"hello\n", "alpha serves the file")


@check
def loader_checks(s):
    def config_check(text):
        path = os.path.join(s.dir, "check.toml")
        with open(path, "w") as f:
            f.write(text)
        r = subprocess.run([s.binary, "--config-check", path], capture_output=True, timeout=30)
        return r.returncode, (r.stdout + r.stderr).decode(), path

    head = f'[[sites]]\nname = "a"\nhostname = "localhost"\nport = {s.alpha}\n'
    code, out, _ = config_check(head + "api_only = true\n")
    expect_eq(code, 0, f"api_only without static_dir: {out}")
    code, out, path = config_check(head)
    expect(code != 0, "neither static_dir nor api_only")
    expect(f"{path}:1:1: " in out and "missing the required key 'static_dir'" in out, out)
    code, out, path = config_check(head + f'static_dir = "{s.www}"\n[sites.metrics]\n'
                                   'path = "/health"\n')
    expect(code != 0, "metrics on the health path")
    expect(f"{path}:7:8: " in out and "is a path of the health endpoint" in out, out)


def main():
    return run_checks(CHECKS, Server, "bws-site-metrics-it-")


if __name__ == "__main__":
    sys.exit(main())
