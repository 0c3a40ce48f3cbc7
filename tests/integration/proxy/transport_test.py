#!/usr/bin/python3
"""Upstream transports and max_conns end to end: the real bws in front of backend.py upstreams
on a Unix socket and over TLS (a test PKI made here with the openssl CLI), and the per-server
connection cap counted over two workers.

Usage: transport_test.py --bws PATH [--keep] [-k SUBSTRING]

Ports come from the kernel; bws reports readiness over a NOTIFY_SOCKET; the upstreams print
"ready"; every process started here is stopped by its PID. Each check prints PASS or FAIL with
its name; the exit status is 1 when any check failed.
"""

import json
import os
import re
import socket
import ssl
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bws_harness import (LOOPBACK, TIMEOUT, Bws, CheckFailed, Connection, expect,  # noqa: E402
                         expect_eq, free_ports, http, run_checks, wait_until)
from upstream_fixtures import (Backend, make_pki, route, site, upstream,  # noqa: E402
                               websocket_round_trip, worker_rss_kib)


class Setup:
    """The PKI, the upstreams and one bws (two workers) with a site per case."""

    def __init__(self, binary, root):
        self.binary = binary
        self.dir = os.path.join(root, "transport")
        self.www = os.path.join(self.dir, "www")
        os.makedirs(self.www)
        os.chmod(self.dir, 0o755)
        make_pki(self.dir)
        self.sock = os.path.join(self.dir, "app.sock")
        ports = free_ports(16)
        (self.unix, self.unix_nohost, self.tls, self.tls_ip, self.noverify, self.capped2,
         self.capped1, self.room) = ports[:8]
        self.unix_failover, self.tls_fresh = ports[14:16]
        self.tls_front = ports[13]
        b_tls, b_s1, b_s2, b_s3, b_room = ports[8:13]
        cert = [os.path.join(self.dir, "server.pem"), os.path.join(self.dir, "server.key")]
        self.backends = [
            Backend(self.dir, 0, "unix", "--unix", self.sock),
            Backend(self.dir, b_tls, "tls", "--tls", *cert),
            Backend(self.dir, b_s1, "s1", "--slow", "1.5"),
            Backend(self.dir, b_s2, "s2", "--slow", "1.5"),
            Backend(self.dir, b_s3, "s3", "--slow", "1.5"),
            Backend(self.dir, b_room, "room"),
        ]
        self.tls_port = b_tls
        ca = os.path.join(self.dir, "ca.pem")
        tls_named = f'url = "https://127.0.0.1:{b_tls}"\ntls_server_name = "upstream.test"\n'
        sites = [
            site("unix", self.unix, self.www,
                 upstream("u", f"unix:{self.sock}") + route("/", "u")
                 + route("/ws", "u", "websocket = true"), hostname="u.test"),
            site("unixnohost", self.unix_nohost, self.www,
                 upstream("u", f"unix:{self.sock}") + route("/", "u")
                 + "[sites.proxy.headers]\npreserve_host = false\n", hostname="u.test"),
            site("tls", self.tls, self.www,
                 f'ca_file = "{ca}"\n'
                 + '[[sites.proxy.upstreams]]\nname = "t"\n' + tls_named
                 + route("/", "t") + route("/ws", "t", "websocket = true")),
            site("tlsip", self.tls_ip, self.www,
                 f'ca_file = "{ca}"\n' + upstream("t", f"https://127.0.0.1:{b_tls}")
                 + route("/", "t")),
            site("noverify", self.noverify, self.www,
                 "tls_verify = false\n"
                 + upstream("t", f"https://127.0.0.1:{b_tls}") + route("/", "t")),
            site("unixfailover", self.unix_failover, self.www,
                 upstream("u", f"unix:{self.dir}/nobody-listens.sock")
                 + upstream("u", f"unix:{self.sock}") + route("/", "u")),
            site("tlsfresh", self.tls_fresh, self.www,
                 f'keepalive = 0\nca_file = "{ca}"\n'
                 + '[[sites.proxy.upstreams]]\nname = "t"\n' + tls_named + route("/", "t")),
            site("capped2", self.capped2, self.www,
                 "keepalive = 0\n"
                 + upstream("c", f"http://127.0.0.1:{b_s1}", "max_conns = 1\n")
                 + upstream("c", f"http://127.0.0.1:{b_s2}", "max_conns = 1\n")
                 + route("/", "c")
                 # Every request from 127.0.0.1 hashes to one server: only max_conns moves
                 # the second one.
                 + '[sites.proxy.load_balancing]\nmethod = "consistent_hash"\n'),
            site("capped1", self.capped1, self.www,
                 "keepalive = 0\n"
                 + upstream("c", f"http://127.0.0.1:{b_s3}", "max_conns = 1\n")
                 + route("/", "c")),
            # An HTTPS site of bws proxying to a plain upstream: the proxy on the TLS stream.
            site("tlsfront", self.tls_front, self.www,
                 upstream("u", f"unix:{self.sock}") + route("/", "u")
                 + route("/ws", "u", "websocket = true\n")
                 + f'[sites.ssl]\nenabled = true\ncert_file = "{cert[0]}"\n'
                 f'key_file = "{cert[1]}"\n', hostname="upstream.test"),
            site("room", self.room, self.www,
                 upstream("r", f"http://127.0.0.1:{b_room}", "max_conns = 1\n")
                 + route("/", "r")),
        ]
        self.config = os.path.join(self.dir, "bws.toml")
        with open(self.config, "w") as f:
            f.write(f"""
[server]
workers = 2
[daemon]
pid_file = "{os.path.join(self.dir, "bws.pid")}"
[logging]
level = "info"
access_log_format = "json"

""" + "\n".join(sites))
        self.bws = Bws(binary, self.dir, self.config, os.path.join(self.dir, "bws.pid"))

    def alone(self, name, proxy):
        """A second bws with one site and one worker, for a check that reads its own log."""
        directory = os.path.join(self.dir, name)
        os.makedirs(directory)
        port = free_ports(1)[0]
        config = os.path.join(directory, "bws.toml")
        with open(config, "w") as f:
            f.write(f'[server]\nworkers = 1\n[daemon]\npid_file = "{directory}/bws.pid"\n'
                    + site(name, port, self.www, proxy))
        b = Bws(self.binary, directory, config, os.path.join(directory, "bws.pid"))
        if not b.wait_ready(20):
            b.stop()
            raise CheckFailed(f"bws for {name} did not start: {b.log()[-1500:]}")
        return b, port

    def stop(self):
        code = self.bws.stop()
        for b in self.backends:
            b.stop()
        return code


def echo(r):
    expect_eq(r.status, 200, f"status ({r.body[:200]!r})")
    return json.loads(r.body)


def header_of(echoed, name):
    for k, v in echoed["headers"]:
        if k.lower() == name.lower():
            return v
    return None


def access_record(s, target):
    def find():
        for line in s.bws.log().splitlines():
            if line.startswith("{") and f'"target":"{target}"' in line:
                return json.loads(line)
        return None
    return wait_until(find, 3)


CHECKS = []


def check(fn):
    CHECKS.append((fn.__name__.replace("_", "-"), fn))
    return fn


# --- Unix sockets

@check
def a_unix_socket_upstream_gets_method_body_and_host(s):
    body = bytes(range(256)) * 300
    r = http(s.unix, "/x?q=1", host="u.test", method="POST", body=body)
    e = echo(r)
    expect_eq(e["name"], "unix", "upstream")
    expect_eq(e["path"], "/x?q=1", "path")
    expect_eq(e["body"].encode("latin-1"), body, "body")
    expect_eq(header_of(e, "host"), "u.test", "Host (preserved)")
    e = echo(http(s.unix_nohost, "/y", host="u.test"))
    expect_eq(header_of(e, "host"), "localhost", "Host without preserve_host")


@check
def unix_socket_connections_are_reused(s):
    conn = Connection(socket.create_connection((LOOPBACK, s.unix), timeout=TIMEOUT))
    seen = set()
    try:
        for i in range(30):
            seen.add(echo(conn.request("GET", f"/k{i}", "u.test"))["connection"])
    finally:
        conn.close()
    expect(len(seen) <= 2, f"30 requests used {len(seen)} upstream connections")


@check
def the_access_log_names_the_unix_socket(s):
    target = f"/logged-{time.monotonic_ns()}"
    echo(http(s.unix, target, host="u.test"))
    record = access_record(s, target)
    expect(record is not None, f"no access log line for {target}")
    expect_eq(record.get("upstream"), f"unix:{s.sock}", "upstream")


@check
def a_websocket_tunnels_over_a_unix_socket(s):
    websocket_round_trip(s.unix)


# --- TLS

@check
def an_https_site_proxies_requests_and_tunnels(s):
    context = ssl.create_default_context(cafile=os.path.join(s.dir, "ca.pem"))

    def connect():
        raw = socket.create_connection((LOOPBACK, s.tls_front), timeout=TIMEOUT)
        return context.wrap_socket(raw, server_hostname="upstream.test")

    conn = Connection(connect())
    try:
        body = os.urandom(100000)
        e = echo(conn.request("POST", "/front?q=1", "upstream.test", body=body))
        expect_eq((e["name"], e["path"]), ("unix", "/front?q=1"), "upstream and path")
        expect_eq(e["body"].encode("latin-1"), body, "body")
        expect_eq(header_of(e, "x-forwarded-proto"), "https", "X-Forwarded-Proto")
        e = echo(conn.request("GET", "/again", "upstream.test"))  # the same TLS connection
        expect_eq(e["path"], "/again", "keep-alive over TLS")
    finally:
        conn.close()
    t = connect()
    try:
        t.sendall(b"GET /ws/chat HTTP/1.1\r\nHost: upstream.test\r\nUpgrade: websocket\r\n"
                  b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                  b"Sec-WebSocket-Version: 13\r\n\r\n")
        got = b""
        for needle in (b" 101 ", b"hello"):
            while needle not in got:
                chunk = t.recv(65536)
                expect(chunk, f"closed before {needle!r}: {got!r}")
                got += chunk
        t.sendall(b"over-tls")
        while b"over-tls" not in got:
            chunk = t.recv(65536)
            expect(chunk, f"tunnel closed: {got!r}")
            got += chunk
    finally:
        t.close()


@check
def an_https_upstream_is_verified_against_ca_file(s):
    body = os.urandom(200000)
    e = echo(http(s.tls, "/t", method="POST", body=body))
    expect_eq(e["name"], "tls", "upstream")
    expect_eq(e["body"].encode("latin-1"), body, "body")
    e = echo(http(s.tls_ip, "/by-address"))
    expect_eq(e["name"], "tls", "upstream verified by its IP address")


@check
def https_connections_are_reused(s):
    conn = Connection(socket.create_connection((LOOPBACK, s.tls), timeout=TIMEOUT))
    seen = set()
    try:
        for i in range(30):
            seen.add(echo(conn.request("GET", f"/k{i}", "localhost"))["connection"])
    finally:
        conn.close()
    expect(len(seen) <= 2, f"30 requests used {len(seen)} upstream connections")


@check
def a_large_body_streams_over_https_with_flat_memory(s):
    # One client connection, so one worker serves it; its memory is sampled during the
    # download. BWS_PROXY_TLS_BIG_MIB sets the size (default 1 GiB, 128 MiB under the
    # sanitizers, which make TLS many times slower).
    default = "128" if "ASAN_OPTIONS" in os.environ else "1024"
    size = int(os.environ.get("BWS_PROXY_TLS_BIG_MIB", default)) << 20
    sock = socket.create_connection((LOOPBACK, s.tls), timeout=30)
    workers = s.bws.workers()
    before = {w: worker_rss_kib(w) for w in workers}
    peak = dict(before)
    try:
        sock.sendall(f"GET /big/{size} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
        started = time.monotonic()
        got = b""
        while b"\r\n\r\n" not in got:
            got += sock.recv(65536)
        head, _, body = got.partition(b"\r\n\r\n")
        expect(head.startswith(b"HTTP/1.1 200"), f"status line {head[:40]!r}")
        expect(f"content-length: {size}".encode() in head.lower(), f"head {head!r}")
        received = len(body)
        sampled = 0
        while received < size:
            chunk = sock.recv(1 << 20)
            if not chunk:
                break
            expect(chunk.count(b"x") == len(chunk), "body bytes")
            received += len(chunk)
            if received - sampled >= 64 << 20:
                sampled = received
                for w in workers:
                    peak[w] = max(peak[w], worker_rss_kib(w))
        took = time.monotonic() - started
    finally:
        sock.close()
    expect_eq(received, size, "body length")
    growth = max(peak[w] - before[w] for w in workers)
    print(f"  {size >> 20} MiB over an https upstream in {took:.1f}s "
          f"({(size >> 20) / max(took, 1e-6):.0f} MiB/s), worker RSS growth {growth} KiB")
    if "ASAN_OPTIONS" not in os.environ:
        expect(growth < 16 * 1024, f"worker RSS grew by {growth} KiB")


@check
def a_new_tls_connection_resumes_the_session(s):
    # keepalive = 0: a new upstream connection (and handshake) per request, in one worker.
    conn = Connection(socket.create_connection((LOOPBACK, s.tls_fresh), timeout=TIMEOUT))
    try:
        seen = [echo(conn.request("GET", f"/r{i}", "localhost")) for i in range(3)]
    finally:
        conn.close()
    expect_eq(len({e["connection"] for e in seen}), 3, "upstream connections")
    expect_eq(seen[0]["tls_resumed"], False, "the first handshake")
    expect_eq([e["tls_resumed"] for e in seen[1:]], [True, True], "later handshakes resumed")


@check
def a_websocket_tunnels_over_https(s):
    websocket_round_trip(s.tls)


@check
def tls_verify_false_accepts_and_warns(s):
    expect_eq(echo(http(s.noverify, "/n"))["name"], "tls", "upstream")
    expect("tls_verify = false" in s.bws.log(), "no warning about tls_verify = false")


def refused_with(s, name, proxy, reason):
    b, port = s.alone(name, proxy)
    try:
        r = http(port, "/v")
        expect_eq(r.status, 502, "status")
        found = wait_until(lambda: re.search(r"upstream: [^\n]*" + reason, b.log()), 3)
        expect(found, f"no log line naming {reason!r}:\n{b.log()[-1500:]}")
    finally:
        b.stop()


@check
def a_certificate_of_another_ca_gets_502(s):
    other = os.path.join(s.dir, "other-ca.pem")
    refused_with(s, "wrongca", f'ca_file = "{other}"\n'
                 + upstream("t", f"https://127.0.0.1:{s.tls_port}",
                            'tls_server_name = "upstream.test"\n') + route("/", "t"),
                 "unable to get local issuer certificate")


@check
def a_certificate_for_another_name_gets_502(s):
    ca = os.path.join(s.dir, "ca.pem")
    refused_with(s, "wrongname", f'ca_file = "{ca}"\n'
                 + upstream("t", f"https://127.0.0.1:{s.tls_port}",
                            'tls_server_name = "other.test"\n') + route("/", "t"),
                 "hostname mismatch")


@check
def the_system_store_does_not_know_the_test_ca(s):
    refused_with(s, "systemstore", upstream("t", f"https://127.0.0.1:{s.tls_port}",
                                            'tls_server_name = "upstream.test"\n')
                 + route("/", "t"), "unable to get local issuer certificate")


# --- max_conns

def concurrently(port, count, target="/slow"):
    results = [None] * count

    def run(i):
        try:
            r = http(port, f"{target}/{i}")
            results[i] = (r.status, json.loads(r.body)["name"] if r.status == 200 else None)
        except Exception as e:  # noqa: BLE001 - reported as the check's failure
            results[i] = (0, repr(e))
    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for i, t in enumerate(threads):
        t.start()
        time.sleep(0.2)  # in order: the first is connected when the next one is picked
    for t in threads:
        t.join(20)
    return results


@check
def a_full_server_is_skipped_for_another(s):
    results = concurrently(s.capped2, 2)
    expect_eq(sorted(results), [(200, "s1"), (200, "s2")], "two slow requests, max_conns = 1")


@check
def every_server_full_gets_503(s):
    results = concurrently(s.capped1, 2)
    expect_eq(sorted(results), [(200, "s3"), (503, None)], "two slow requests, one server")
    expect(re.search(r"upstream: [^\n]*max_conns", s.bws.log()), "no log line for the 503")
    expect_eq(echo(http(s.capped1, "/after"))["name"], "s3", "the place is free again")


@check
def an_idle_connection_makes_room_for_a_new_one(s):
    # One client connection, so one worker: the GET leaves an idle upstream connection (the
    # server's one place); the POST needs a new one (a body is never sent on a reused one).
    conn = Connection(socket.create_connection((LOOPBACK, s.room), timeout=TIMEOUT))
    try:
        first = echo(conn.request("GET", "/g", "localhost"))["connection"]
        second = echo(conn.request("POST", "/p", "localhost", body=b"data"))
        expect(second["connection"] != first, "the POST reused the idle connection")
        expect_eq(second["body"], "data", "body")
    finally:
        conn.close()


# --- configuration

def config_check(s, text):
    path = os.path.join(s.dir, "check.toml")
    with open(path, "w") as f:
        f.write(text)
    r = subprocess.run([s.binary, "--config-check", path], capture_output=True, timeout=30)
    return r.returncode, (r.stdout + r.stderr).decode(errors="replace"), path


@check
def config_errors_point_at_the_key(s):
    broken = os.path.join(s.dir, "broken.pem")
    with open(broken, "w") as f:
        f.write("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n")
    https = upstream("a", "https://127.0.0.1:1") + route("/x", "a")
    cases = [
        (upstream("a", "unix:run/app.sock") + route("/x", "a"), 'url = "unix:run', "absolute"),
        ('ca_file = "/nonexistent/ca.pem"\n' + https, "ca_file", "cannot read"),
        (f'ca_file = "{broken}"\n' + https, "ca_file", "does not parse"),
        (upstream("a", "http://127.0.0.1:1", 'tls_server_name = "x.test"\n') + route("/x", "a"),
         "tls_server_name", "only an https:// upstream"),
        (upstream("a", "http://127.0.0.1:1", "max_conns = -1\n") + route("/x", "a"),
         "max_conns", "max_conns"),
    ]
    for proxy, line_text, message in cases:
        text = site("s", 1, s.www, proxy, hostname="s.test")
        code, out, path = config_check(s, text)
        expect(code != 0, f"{line_text}: --config-check exited 0: {out}")
        want = next(i for i, line in enumerate(text.splitlines(), 1) if line_text in line)
        found = re.search(re.escape(path) + r":(\d+):(\d+): ([^\n]*)", out)
        expect(found is not None, f"{line_text}: no FILE:LINE:COL diagnostic: {out}")
        expect(message in found.group(3), f"{line_text}: message {found.group(3)!r}")
        expect_eq(int(found.group(1)), want, f"{line_text}: line")
    missing = os.path.join(s.dir, "later.sock")
    text = site("s", 1, s.www, upstream("a", f"unix:{missing}") + route("/x", "a"),
                hostname="s.test")
    code, out, _ = config_check(s, text)
    expect_eq(code, 0, f"a socket that is not there yet: {out}")
    expect("does not exist yet" in out, f"no warning for the missing socket: {out}")


# Last: its failure log line would hide (rate limit) the one every_server_full_gets_503 reads.
@check
def a_unix_socket_nobody_listens_on_fails_over(s):
    for i in range(6):
        expect_eq(echo(http(s.unix_failover, f"/f{i}"))["name"], "unix", f"request {i}")
    expect(re.search(r"upstream: [^\n]*connecting to unix:[^\n]*nobody-listens", s.bws.log()),
           "no log line for the socket nobody listens on")


def main():
    return run_checks(CHECKS, Setup, "bws-transport-it-")


if __name__ == "__main__":
    sys.exit(main())
