#!/usr/bin/python3
"""The management API on a Unix socket ([management] socket): the real bws binary; the socket's
mode, the API over it (key, status, reload, metrics), a stale socket replaced at start, a live
one refused, a file in the way refused, the path removed at stop, and the loader's checks.

Usage: management_socket_test.py --bws PATH [--keep] [-k SUBSTRING]

Ports come from the kernel; bws reports readiness over a NOTIFY_SOCKET; every process started
here is stopped by its PID. Each check prints PASS or FAIL; the exit status is 1 on a failure.
"""

import json
import os
import socket
import stat
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from bws_harness import (TIMEOUT, Bws, Connection, expect, expect_eq, free_ports,  # noqa: E402
                         run_checks)

KEY = "socket-test-key"


def config_text(root, port, sock, pid_file, management_extra="", tls_port=None):
    www = os.path.join(root, "www")
    secure = "" if tls_port is None else f"""
[[sites]]
name = "secure"
hostname = "localhost"
port = {tls_port}
bind = "127.0.0.1"
static_dir = "{www}"
[sites.ssl]
enabled = true
cert_file = "{root}/tls.crt"
key_file = "{root}/tls.key"
"""
    return f"""
[server]
workers = 2
[daemon]
pid_file = "{pid_file}"
[logging]
level = "info"
access_log = "off"
[management]
enabled = true
socket = "{sock}"
api_key = "{KEY}"
{management_extra}
[[sites]]
name = "alpha"
hostname = "localhost"
port = {port}
bind = "127.0.0.1"
static_dir = "{www}"
{secure}"""


def make_certificate(root):
    """A self-signed P-256 certificate for localhost, valid for 90 days; its SHA-256
    fingerprint as openssl prints it ("AB:CD:...")."""
    crt, key = os.path.join(root, "tls.crt"), os.path.join(root, "tls.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "90", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost", "-keyout", key, "-out", crt],
                   check=True, capture_output=True, timeout=30)
    out = subprocess.run(["openssl", "x509", "-in", crt, "-noout", "-fingerprint", "-sha256"],
                         check=True, capture_output=True, text=True, timeout=30).stdout
    return out.strip().split("=", 1)[1]


def stale_socket(path):
    """A socket file nobody listens on, as a crashed master leaves it."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.close()


class Server:
    def __init__(self, binary, root):
        self.binary = binary
        self.dir = root
        os.makedirs(os.path.join(root, "www"))
        with open(os.path.join(root, "www", "index.html"), "w") as f:
            f.write("hello\n")
        self.port, self.tls_port = free_ports(2)
        self.fingerprint = make_certificate(root)
        self.sock = os.path.join(root, "control.sock")
        self.pid_file = os.path.join(root, "bws.pid")
        self.config = os.path.join(root, "bws.toml")
        with open(self.config, "w") as f:
            f.write(config_text(root, self.port, self.sock, self.pid_file, tls_port=self.tls_port))
        stale_socket(self.sock)  # bws must replace it
        self.bws = Bws(binary, root, self.config, self.pid_file)

    def api(self, method, target, key=KEY, path=None):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(TIMEOUT)
        s.connect(path or self.sock)
        conn = Connection(s)
        try:
            headers = {"Authorization": f"Bearer {key}"} if key else {}
            return conn.request(method, target, "localhost", headers=headers, close=True)
        finally:
            conn.close()

    def stop(self):
        """bws's exit code; 1 as well when it left its socket behind."""
        code = self.bws.stop()
        if os.path.exists(self.sock):
            print("FAIL the socket is still there after bws stopped")
            return code or 1
        return code


CHECKS = []


def check(fn):
    CHECKS.append((fn.__name__, fn))
    return fn


def start_other(s, name, sock):
    """A second bws with its own site port and `sock`; (exit code, output) once it exits."""
    d = os.path.join(s.dir, name)
    os.makedirs(os.path.join(d, "www"), exist_ok=True)
    (port,) = free_ports(1)
    cfg = os.path.join(d, "bws.toml")
    with open(cfg, "w") as f:
        f.write(config_text(s.dir, port, sock, os.path.join(d, "bws.pid")))
    r = subprocess.run([s.binary, "-c", cfg], capture_output=True, timeout=30,
                       stdin=subprocess.DEVNULL)
    return r.returncode, (r.stdout + r.stderr).decode(errors="replace")


@check
def socket_mode_is_0660(s):
    st = os.lstat(s.sock)
    expect(stat.S_ISSOCK(st.st_mode), "the path is a socket")
    expect_eq(stat.S_IMODE(st.st_mode), 0o660, "socket mode")
    if os.geteuid() == 0:
        expect_eq(st.st_uid, 0, "owner of the socket when bws starts as root")


@check
def api_over_the_socket(s):
    r = s.api("GET", "/api/status")
    expect_eq(r.status, 200, "GET /api/status over the socket")
    body = json.loads(r.body)
    expect_eq([x["name"] for x in body["sites"]], ["alpha", "secure"], "status names the sites")
    expect("certificates" not in body["sites"][0], "no certificates on a plain site")
    (cert,) = body["sites"][1]["certificates"]
    expect_eq(cert["sha256"], s.fingerprint, "the served certificate's fingerprint")
    expect_eq(cert["subject"], "CN=localhost", "subject")
    expect(89 <= cert["days_left"] <= 90 and 89 * 86400 < cert["seconds_left"] <= 90 * 86400,
           f"time left of a 90-day certificate: {cert}")
    expect(cert["not_after"].endswith(" UTC") and cert["cert_file"].endswith("tls.crt"), cert)
    expect_eq(s.api("GET", "/api/status", key=None).status, 401, "no key: 401")
    expect_eq(s.api("GET", "/api/status", key="wrong").status, 401, "wrong key: 401")
    r = s.api("GET", "/metrics")
    expect_eq(r.status, 200, "GET /metrics over the socket")
    expect(b"bws_" in r.body, "metrics exposition")


@check
def reload_over_the_socket(s):
    r = s.api("POST", "/api/config/reload")
    expect_eq(r.status, 200, f"POST /api/config/reload: {r.body!r}")
    expect(os.path.exists(s.sock), "the socket survives a reload")
    expect_eq(s.api("GET", "/api/status").status, 200, "API answers after the reload")


@check
def no_tcp_listener(s):
    out = subprocess.run(["ss", "-Hltnp"], capture_output=True, text=True).stdout
    mine = [line for line in out.splitlines() if f"pid={s.bws.pid}," in line]
    ports = sorted({line.split()[3].rsplit(":", 1)[1] for line in mine})
    expect_eq(ports, sorted([str(s.port), str(s.tls_port)]),
              "the master listens on the sites' ports only")


@check
def live_socket_is_refused(s):
    code, out = start_other(s, "second", s.sock)
    expect(code != 0, "a second bws on the same socket must not start")
    expect("is in use" in out, out[-1500:])
    expect_eq(s.api("GET", "/api/status").status, 200, "the first one still answers")


@check
def file_in_the_way_is_refused(s):
    path = os.path.join(s.dir, "not-a-socket")
    with open(path, "w") as f:
        f.write("keep me\n")
    code, out = start_other(s, "third", path)
    expect(code != 0, "bws must not start when a file holds the path")
    expect("exists and is not a socket" in out, out[-1500:])
    with open(path) as f:
        expect_eq(f.read(), "keep me\n", "the file is left alone")


@check
def loader_checks(s):
    bad = os.path.join(s.dir, "bad.toml")
    with open(bad, "w") as f:
        f.write(config_text(s.dir, s.port, s.sock, s.pid_file, "port = 7655"))
    r = subprocess.run([s.binary, "--config-check", bad], capture_output=True, timeout=30)
    out = (r.stdout + r.stderr).decode()
    expect(r.returncode != 0, "socket and port together must fail")
    expect("both 'socket' and 'port'" in out and "bad.toml:" in out, out)
    with open(bad, "w") as f:
        f.write(config_text(s.dir, s.port, "/" + "x" * 120, s.pid_file))
    r = subprocess.run([s.binary, "--config-check", bad], capture_output=True, timeout=30)
    out = (r.stdout + r.stderr).decode()
    expect(r.returncode != 0 and "longer than a Unix socket path" in out, out)


def main():
    return run_checks(CHECKS, Server, "bws-mgmt-sock-it-")


if __name__ == "__main__":
    sys.exit(main())
