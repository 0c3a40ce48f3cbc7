"""What transport_test.py starts, writes and measures: backend.py upstreams (TCP, Unix socket,
TLS), a test PKI made with the openssl CLI, the TOML of sites, upstreams and routes, a
WebSocket round trip and a worker's resident memory."""

import os
import socket
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from bws_harness import LOOPBACK, TIMEOUT, CheckFailed, die_with_parent, expect  # noqa: E402

BACKEND = os.path.join(os.path.dirname(os.path.abspath(__file__)), "backend.py")


class Backend:
    """One backend.py upstream (TCP, Unix socket or TLS), stopped by its PID."""

    def __init__(self, directory, port, name, *options):
        self.port = port
        self.name = name
        self.proc = subprocess.Popen([sys.executable, BACKEND, str(port), name, *options],
                                     cwd=directory, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, preexec_fn=die_with_parent)
        if self.proc.stdout.readline().strip() != b"ready":
            raise CheckFailed(f"backend {name} did not start")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)


def openssl(directory, *args):
    subprocess.run(["openssl", *args], cwd=directory, check=True, capture_output=True,
                   timeout=60)


def make_pki(directory):
    """ca.pem (signs server.pem: DNS upstream.test, IP 127.0.0.1) and other-ca.pem."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    for ca in ("ca", "other-ca"):
        openssl(directory, "req", "-x509", *ec, "-keyout", f"{ca}.key", "-out", f"{ca}.pem",
                "-days", "2", "-subj", f"/CN=bws test {ca}",
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    openssl(directory, "req", *ec, "-keyout", "server.key", "-out", "server.csr",
            "-subj", "/CN=upstream.test")
    with open(os.path.join(directory, "server.ext"), "w") as f:
        f.write("subjectAltName=DNS:upstream.test,IP:127.0.0.1\n"
                "extendedKeyUsage=serverAuth\n")
    openssl(directory, "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "server.ext")


def site(name, port, www, proxy, hostname="localhost"):
    return (f'[[sites]]\nname = "{name}"\nhostname = "{hostname}"\nport = {port}\n'
            f'bind = "127.0.0.1"\nstatic_dir = "{www}"\n[sites.proxy]\nenabled = true\n'
            + proxy)


def upstream(pool, url, extra=""):
    return f'[[sites.proxy.upstreams]]\nname = "{pool}"\nurl = "{url}"\n{extra}'


def route(path, pool, extra=""):
    return f'[[sites.proxy.routes]]\npath = "{path}"\nupstream = "{pool}"\n{extra}'


def websocket_round_trip(port):
    s = socket.create_connection((LOOPBACK, port), timeout=TIMEOUT)
    try:
        s.sendall(b"GET /ws/chat HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
                  b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                  b"Sec-WebSocket-Version: 13\r\n\r\n")
        got = b""
        for needle in (b"\r\n\r\n", b"hello"):
            while needle not in got:
                chunk = s.recv(65536)
                if not chunk:
                    raise CheckFailed(f"closed before {needle!r}: {got!r}")
                got += chunk
        expect(got.startswith(b"HTTP/1.1 101"), f"status line {got[:40]!r}")
        for message in (b"ping", os.urandom(150000)):
            s.sendall(message)
            echoed = got.partition(b"hello")[2]
            while message not in echoed:
                chunk = s.recv(65536)
                if not chunk:
                    raise CheckFailed("the tunnel closed before the echo")
                echoed += chunk
            got = b"hello"
    finally:
        s.close()


def worker_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0
