#!/usr/bin/python3
"""Helpers the Python integration tests share: checks, ports, the bws process under test
(started with a NOTIFY_SOCKET, stopped by its PID) and a small HTTP/1.1 client.

Run the tests with Debian's /usr/bin/python3; this module needs only the standard library.
"""

import argparse
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback

LOOPBACK = "127.0.0.1"
TIMEOUT = 5.0  # any single network step


class CheckFailed(Exception):
    pass


def expect(condition, message):
    if not condition:
        raise CheckFailed(message)


def expect_eq(got, want, what):
    if got != want:
        raise CheckFailed(f"{what}: expected {want!r}, got {got!r}")


# ---------------------------------------------------------------- ports, files, processes


def free_ports(count):
    """Distinct ports the kernel handed out (all held at once, then released)."""
    held = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((LOOPBACK, 0))
            held.append(s)
        return [s.getsockname()[1] for s in held]
    finally:
        for s in held:
            s.close()


def wait_until(predicate, limit, step=0.02):
    deadline = time.monotonic() + limit
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            return value
        time.sleep(step)


def children_of(pid):
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        if fields[0] != "Z" and int(fields[1]) == pid:
            out.append(int(entry))
    return sorted(out)


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2:].split()[0] != "Z"


def die_with_parent():
    """In the child before exec: SIGKILL when this script dies (a ctest timeout kills it
    without a chance to stop bws), so no master outlives the test. The workers follow their
    master by their own parent-death signal."""
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


class Bws:
    """One bws master under test: started with a NOTIFY_SOCKET, its output in a file."""

    def __init__(self, binary, directory, config, pid_file):
        self.binary = binary
        self.dir = directory
        self.config = config
        self.pid_file = pid_file
        self.log_path = os.path.join(directory, "bws.out")
        self.notify_path = os.path.join(directory, "notify.sock")
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(self.notify_path)
        self.notify.settimeout(0.1)
        self.messages = []
        self.cond = threading.Condition()
        self.stopping = False
        self.reader = threading.Thread(target=self._read_notify, daemon=True)
        self.reader.start()
        env = dict(os.environ)
        env["NOTIFY_SOCKET"] = self.notify_path
        self.log_file = open(self.log_path, "wb")
        self.proc = subprocess.Popen([binary, "-c", config], stdin=subprocess.DEVNULL,
                                     stdout=self.log_file, stderr=subprocess.STDOUT, env=env,
                                     preexec_fn=die_with_parent)
        self.pid = self.proc.pid

    def _read_notify(self):
        while not self.stopping:
            try:
                data = self.notify.recv(8192)
            except socket.timeout:
                continue
            except OSError:
                return
            with self.cond:
                self.messages.append(data.decode(errors="replace"))
                self.cond.notify_all()

    def wait_notify(self, needle, start=0, limit=20.0):
        """Index of the first message from `start` on that holds `needle`, or None."""
        deadline = time.monotonic() + limit
        with self.cond:
            while True:
                for i in range(start, len(self.messages)):
                    if needle in self.messages[i]:
                        return i
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    return None
                self.cond.wait(left)

    def wait_ready(self, limit=20.0):
        return self.wait_notify("READY=1", 0, limit) is not None

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def workers(self):
        return children_of(self.pid)

    def reload(self, limit=30.0):
        """`bws --reload --pid-file`: waits for the new generation; (exit code, output)."""
        r = subprocess.run([self.binary, "--reload", "--pid-file", self.pid_file],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=limit)
        return r.returncode, (r.stdout + r.stderr).decode(errors="replace")

    def stop(self, limit=15.0):
        if self.proc.poll() is None:
            workers = self.workers()
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(limit)
            except subprocess.TimeoutExpired:
                for w in workers + self.workers():
                    try:
                        os.kill(w, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                self.proc.kill()
                self.proc.wait(limit)
        # Workers exit with the master (parent-death signal); make sure none is left behind.
        for w in children_of(self.pid):
            try:
                os.kill(w, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.stopping = True
        self.reader.join(2)
        self.notify.close()
        self.log_file.close()
        return self.proc.returncode


class Response:
    def __init__(self, status, reason, headers, body, raw_head):
        self.status = status
        self.reason = reason
        self.headers = headers  # lower-case name -> value (last one wins)
        self.body = body
        self.raw_head = raw_head

    def header(self, name):
        return self.headers.get(name.lower())

    def __repr__(self):
        return f"<{self.status} {self.reason} {self.headers} {self.body[:80]!r}>"


class Connection:
    """HTTP/1.1 over one socket (plain or TLS), with keep-alive."""

    def __init__(self, sock):
        self.sock = sock
        self.buffer = b""

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("connection closed by the server")
        self.buffer += data

    def request(self, method, target, host, headers=None, body=b"", close=False):
        lines = [f"{method} {target} HTTP/1.1", f"Host: {host}"]
        for name, value in (headers or {}).items():
            lines.append(f"{name}: {value}")
        if body:
            lines.append(f"Content-Length: {len(body)}")
        if close:
            lines.append("Connection: close")
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        return self.read_response(head_request=(method == "HEAD"))

    def read_response(self, head_request=False):
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        status = int(parts[1])
        reason = parts[2] if len(parts) > 2 else ""
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if head_request or status in (204, 304) or 100 <= status < 200:
            body = b""
        elif "content-length" in headers:
            length = int(headers["content-length"])
            while len(self.buffer) < length:
                self._fill()
            body, self.buffer = self.buffer[:length], self.buffer[length:]
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while True:
                while b"\r\n" not in self.buffer:
                    self._fill()
                size_line, self.buffer = self.buffer.split(b"\r\n", 1)
                size = int(size_line.split(b";")[0], 16)
                while len(self.buffer) < size + 2:
                    self._fill()
                body += self.buffer[:size]
                self.buffer = self.buffer[size + 2:]
                if size == 0:
                    break
        else:
            body = self.buffer
            try:
                while True:
                    self._fill()
            except ConnectionError:
                pass
            body, self.buffer = self.buffer, b""
        return Response(status, reason, headers, body, head.decode("latin-1"))


def http(port, target="/", host="localhost", method="GET", headers=None, body=b""):
    conn = Connection(socket.create_connection((LOOPBACK, port), timeout=TIMEOUT))
    try:
        return conn.request(method, target, host, headers=headers, body=body, close=True)
    finally:
        conn.close()


# ---------------------------------------------------------------- the runner


def run_checks(checks, make_setup, prefix, after=None):
    """The main() of a test with one setup: --bws PATH [--keep] [-k SUBSTRING].

    `checks` is a list of (name, fn); `make_setup(binary, root)` returns an object with a
    `bws` (Bws) and a `stop()` that stops everything it started and returns bws's exit code.
    Each check prints PASS or FAIL; bws must still run after the checks and stop with 0.
    `after()` may print more lines (skipped parts). Returns the exit status: 1 when any
    check failed."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--bws", required=True)
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("-k", dest="select", help="run only checks whose name contains this")
    args = parser.parse_args()
    # SIGTERM (ctest, a CI runner) unwinds through the finally below, which stops bws.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(130))
    root = tempfile.mkdtemp(prefix=prefix)
    # Started as root, bws serves from unprivileged workers (nobody): they must reach the files.
    os.chmod(root, 0o755)
    started = time.monotonic()
    failed, passed, setup = [], 0, None
    try:
        setup = make_setup(args.bws, root)
        ready = setup.bws.wait_ready(20)
        for name, fn in checks:
            if args.select and args.select not in name:
                continue
            t0 = time.monotonic()
            try:
                if not ready:
                    raise CheckFailed("bws did not report READY=1:\n" + setup.bws.log()[-2000:])
                fn(setup)
                passed += 1
                print(f"PASS {name} ({time.monotonic() - t0:.2f}s)", flush=True)
            except Exception as e:
                failed.append(name)
                detail = str(e) if isinstance(e, CheckFailed) else traceback.format_exc()
                print(f"FAIL {name} ({time.monotonic() - t0:.2f}s): {detail}", flush=True)
        alive = wait_until(lambda: setup.bws.proc.poll() is None, 0.1)
        code = setup.stop()
        if not alive or code != 0:
            failed.append("stop")
            print(f"FAIL stop: exit code {code}")
        else:
            passed += 1
            print("PASS stop", flush=True)
    finally:
        if setup is not None:
            setup.stop()
            if failed or args.keep:
                print(f"--- {setup.bws.log_path} (last 3000 characters)")
                print(setup.bws.log()[-3000:])
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    if after is not None:
        after()
    print(f"{passed} passed, {len(failed)} failed in {time.monotonic() - started:.1f}s"
          + (": " + ", ".join(failed) if failed else ""))
    return 1 if failed else 0
