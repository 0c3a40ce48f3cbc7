#!/usr/bin/python3
"""[sites.access] end to end: the real bws binary on loopback.

Usage: access_test.py --bws PATH [--keep] [-k SUBSTRING]

IP allow/deny rules over IPv4 (127.0.0.1 against 127.0.0.2, both loopback: the client socket
is bound to its source address) and IPv6 (::1), X-Forwarded-For believed from a trusted peer
only, /health reachable whatever a site denies, basic auth with bcrypt and yescrypt users
(hashes made at test time with libcrypt through ctypes), the user and the resolved client
address in the JSON access log, a reload that changes the auth file, and an MD5 hash that makes
the reload fail while the running configuration keeps serving. Each check prints PASS or FAIL;
exit status 1 when any failed.
"""

import base64
import ctypes
import json
import os
import socket
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from bws_harness import (LOOPBACK, TIMEOUT, Bws, Connection, expect,  # noqa: E402
                         expect_eq, free_ports, run_checks, wait_until)

_libcrypt = ctypes.CDLL("libcrypt.so.1")
_libcrypt.crypt_gensalt.restype = ctypes.c_char_p
_libcrypt.crypt_gensalt.argtypes = [ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p, ctypes.c_int]
_libcrypt.crypt.restype = ctypes.c_char_p
_libcrypt.crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]


def crypt_hash(prefix, cost, password):
    setting = _libcrypt.crypt_gensalt(prefix.encode(), cost, None, 0)
    if not setting:
        raise RuntimeError(f"crypt_gensalt({prefix}) failed")
    out = _libcrypt.crypt(password.encode(), setting)
    if not out or out.startswith(b"*"):
        raise RuntimeError(f"crypt({prefix}) failed")
    return out.decode()


def basic(user, password):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def request(port, target, host, source=LOOPBACK, family=socket.AF_INET, headers=None):
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(TIMEOUT)
    try:
        sock.bind((source, 0))
        sock.connect((source if family == socket.AF_INET6 else LOOPBACK, port))
    except OSError:
        sock.close()
        raise
    conn = Connection(sock)
    try:
        return conn.request("GET", target, host, headers=headers, close=True)
    finally:
        conn.close()


class Server:
    def __init__(self, binary, root):
        self.dir = root
        www = os.path.join(root, "www")
        os.makedirs(os.path.join(www, "admin"))
        with open(os.path.join(www, "index.html"), "w") as f:
            f.write("public page\n")
        with open(os.path.join(www, "admin", "secret.txt"), "w") as f:
            f.write("staff only\n")
        self.htpasswd = os.path.join(root, "users.htpasswd")
        self.write_users({"alice": crypt_hash("$2b$", 5, "wonderland"),
                          "bob": crypt_hash("$y$", 0, "builder")})
        self.v4, self.v6, self.auth, self.limited = free_ports(4)
        self.access_log = os.path.join(root, "access.log")
        self.pid_file = os.path.join(root, "bws.pid")
        self.config = os.path.join(root, "bws.toml")
        with open(self.config, "w") as f:
            f.write(f"""
[server]
workers = 1

[daemon]
pid_file = "{self.pid_file}"

[logging]
output = "stderr"
access_log = "{self.access_log}"
access_log_format = "json"

[security]
trusted_proxies = ["127.0.0.1"]

[[sites]]
name = "ipv4"
hostname = "v4.test"
port = {self.v4}
static_dir = "{www}"
[sites.access]
allow_ips = ["127.0.0.1/32", "10.0.0.0/8"]
deny_ips = ["10.0.0.0/8"]

[[sites]]
name = "ipv6"
hostname = "v6.test"
bind = "::1"
port = {self.v6}
static_dir = "{www}"
[sites.access]
allow_ips = ["::1"]

[[sites]]
name = "auth"
hostname = "auth.test"
port = {self.auth}
static_dir = "{www}"
[sites.access]
require_auth = true
auth_type = "basic"
auth_realm = "Staff"
auth_file = "{self.htpasswd}"
auth_paths = ["/admin"]

[[sites]]
name = "limited"
hostname = "limited.test"
port = {self.limited}
static_dir = "{www}"
[sites.rate_limit]
requests_per_minute = 1
burst_size = 2
[sites.access]
require_auth = true
auth_file = "{self.htpasswd}"
""")
        self.bws = Bws(binary, root, self.config, self.pid_file)

    def write_users(self, users):
        tmp = self.htpasswd + ".tmp"
        with open(tmp, "w") as f:
            for name, hash_ in users.items():
                f.write(f"{name}:{hash_}\n")
        os.replace(tmp, self.htpasswd)

    def log_entries(self):
        try:
            with open(self.access_log) as f:
                return [json.loads(line) for line in f if line.strip()]
        except FileNotFoundError:
            return []

    def stop(self):
        return self.bws.stop()


def check_ipv4_allow_and_deny(s):
    expect_eq(request(s.v4, "/", "v4.test").status, 200, "from 127.0.0.1")
    r = request(s.v4, "/", "v4.test", source="127.0.0.2")
    expect_eq(r.status, 403, "from 127.0.0.2 (not in allow_ips)")
    expect(b"403" in r.body, f"the error page: {r.body!r}")


def check_ipv6_allow(s):
    expect_eq(request(s.v6, "/", "v6.test", source="::1", family=socket.AF_INET6).status, 200,
              "from ::1")


def check_health_is_server_level(s):
    r = request(s.v4, "/health", "v4.test", source="127.0.0.2")
    expect_eq(r.status, 200, "/health from a denied address")


def check_forwarded_for_from_trusted_peer(s):
    # 127.0.0.1 is a trusted proxy: the client it names is the one the rules see.
    r = request(s.v4, "/", "v4.test", headers={"X-Forwarded-For": "127.0.0.2"})
    expect_eq(r.status, 403, "a trusted peer forwarding 127.0.0.2")
    # In 10.0.0.0/8, allowed and denied: deny wins.
    r = request(s.v4, "/", "v4.test", headers={"X-Forwarded-For": "10.1.2.3"})
    expect_eq(r.status, 403, "forwarding 10.1.2.3 (allowed and denied)")
    # The client's own entries left of the trusted hop are not believed.
    r = request(s.v4, "/", "v4.test", headers={"X-Forwarded-For": "127.0.0.2, 127.0.0.1"})
    expect_eq(r.status, 403, "forwarding 127.0.0.2 through a trusted 127.0.0.1")
    r = request(s.v4, "/", "v4.test", headers={"X-Forwarded-For": "garbage"})
    expect_eq(r.status, 200, "a malformed entry: the trusted peer is the client")
    logged = wait_until(lambda: [e for e in s.log_entries()
                                 if e.get("site") == "ipv4" and e.get("client") == "10.1.2.3"], 5)
    expect(logged, "the access log shows the forwarded client 10.1.2.3")


def check_forwarded_for_from_untrusted_peer(s):
    # 127.0.0.2 is not trusted: its X-Forwarded-For is ignored.
    r = request(s.v4, "/", "v4.test", source="127.0.0.2", headers={"X-Forwarded-For": "127.0.0.1"})
    expect_eq(r.status, 403, "an untrusted peer claiming 127.0.0.1")


def check_rate_limit_counts_the_forwarded_client_and_failed_logins(s):
    # Behind the trusted 127.0.0.1 every client has its own budget, and a wrong password
    # spends it: the limit comes before the password check.
    wrong = {"Authorization": basic("alice", "guess")}
    statuses = [request(s.limited, "/", "limited.test",
                        headers=dict(wrong, **{"X-Forwarded-For": "192.0.2.1"})).status
                for _ in range(3)]
    expect_eq(statuses, [401, 401, 429], "wrong passwords from 192.0.2.1")
    right = {"Authorization": basic("alice", "wonderland"), "X-Forwarded-For": "192.0.2.2"}
    expect_eq(request(s.limited, "/", "limited.test", headers=right).status, 200,
              "192.0.2.2 behind the same proxy has its own budget")


def check_auth_paths_and_challenge(s):
    expect_eq(request(s.auth, "/", "auth.test").status, 200, "outside auth_paths")
    r = request(s.auth, "/admin/secret.txt", "auth.test")
    expect_eq(r.status, 401, "no credentials")
    expect_eq(r.header("WWW-Authenticate"), 'Basic realm="Staff", charset="UTF-8"',
              "the challenge")
    expect_eq(request(s.auth, "/%61dmin/secret.txt", "auth.test").status, 401,
              "an encoded path under /admin")
    expect_eq(request(s.auth, "//admin/secret.txt", "auth.test").status, 401, "//admin")


def check_bcrypt_and_yescrypt_users(s):
    ok = request(s.auth, "/admin/secret.txt", "auth.test",
                 headers={"Authorization": basic("alice", "wonderland")})
    expect_eq(ok.status, 200, "alice (bcrypt)")
    expect_eq(ok.body, b"staff only\n", "the protected file")
    expect_eq(request(s.auth, "/admin/secret.txt", "auth.test",
                      headers={"Authorization": basic("bob", "builder")}).status, 200,
              "bob (yescrypt)")
    for what, value in [("a wrong password", basic("alice", "builder")),
                        ("an unknown user", basic("mallory", "wonderland")),
                        ("bad base64", "Basic !!!notbase64"),
                        ("no colon", "Basic " + base64.b64encode(b"alice").decode()),
                        ("another scheme", "Bearer abc")]:
        r = request(s.auth, "/admin/secret.txt", "auth.test", headers={"Authorization": value})
        expect_eq(r.status, 401, what)
    logged = wait_until(lambda: [e for e in s.log_entries()
                                 if e.get("site") == "auth" and e.get("user") == "alice"], 5)
    expect(logged, "the access log names the user alice")
    expect(all("wonderland" not in json.dumps(e) for e in s.log_entries()),
           "no password in the access log")


def check_reload_rereads_auth_file(s):
    s.write_users({"alice": crypt_hash("$6$", 0, "looking-glass"),
                   "bob": crypt_hash("$y$", 0, "builder")})
    code, out = s.bws.reload()
    expect_eq(code, 0, f"bws --reload: {out}")
    expect_eq(request(s.auth, "/admin/secret.txt", "auth.test",
                      headers={"Authorization": basic("alice", "wonderland")}).status, 401,
              "the old password after the reload")
    expect_eq(request(s.auth, "/admin/secret.txt", "auth.test",
                      headers={"Authorization": basic("alice", "looking-glass")}).status, 200,
              "the new password (SHA-512-crypt) after the reload")


def check_md5_hash_is_refused(s):
    s.write_users({"alice": crypt_hash("$6$", 0, "looking-glass"),
                   "carol": "$apr1$abcdefgh$0123456789abcdefghijkl"})
    check = subprocess.run([s.bws.binary, "-t", "-c", s.config], stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=30)
    text = (check.stdout + check.stderr).decode(errors="replace")
    expect(check.returncode != 0, f"--config-check accepted an MD5 hash: {text}")
    expect(f"{s.config}:" in text and "line 2: user 'carol' has an MD5 hash" in text,
           f"the error names the file, line and user: {text}")
    code, out = s.bws.reload()
    expect(code != 0, f"the reload with an MD5 hash succeeded: {out}")
    # The running configuration keeps serving.
    expect_eq(request(s.auth, "/admin/secret.txt", "auth.test",
                      headers={"Authorization": basic("alice", "looking-glass")}).status, 200,
              "alice after the refused reload")


CHECKS = [
    ("ipv4 allow and deny", check_ipv4_allow_and_deny),
    ("ipv6 allow", check_ipv6_allow),
    ("health is server-level", check_health_is_server_level),
    ("x-forwarded-for from a trusted peer", check_forwarded_for_from_trusted_peer),
    ("x-forwarded-for from an untrusted peer", check_forwarded_for_from_untrusted_peer),
    ("rate limit counts the forwarded client and failed logins",
     check_rate_limit_counts_the_forwarded_client_and_failed_logins),
    ("auth paths and challenge", check_auth_paths_and_challenge),
    ("bcrypt and yescrypt users", check_bcrypt_and_yescrypt_users),
    ("reload re-reads the auth file", check_reload_rereads_auth_file),
    ("md5 hash is refused", check_md5_hash_is_refused),
]


def main():
    return run_checks(CHECKS, Server, "bws-access-it-")


if __name__ == "__main__":
    sys.exit(main())
