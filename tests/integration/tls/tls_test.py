#!/usr/bin/python3
"""TLS end to end: the real bws binary over loopback, driven by Python's ssl module.

Usage: tls_test.py --bws PATH --pki-tool PATH [--keep] [-k SUBSTRING]

Certificates are generated at test time by bws_make_test_pki into a temporary directory; ports
come from the kernel; bws reports readiness over a NOTIFY_SOCKET this script binds; every bws
started here is stopped by its PID. Each check prints PASS or FAIL with its name; the exit
status is 1 when any check failed. Run with Debian's /usr/bin/python3 (it has the ssl module).
"""

import argparse
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import warnings

# TLS 1.0/1.1 clients are what the refusal checks need; Python warns about making them.
warnings.filterwarnings("ignore", category=DeprecationWarning)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from bws_harness import (LOOPBACK, TIMEOUT, Bws, CheckFailed, Connection,  # noqa: E402
                         alive, expect, expect_eq, free_ports, http, wait_until)
HEADER_TIMEOUT = 2.0  # [server.limits] header_timeout of the main server


# ---------------------------------------------------------------- PKI


class Pki:
    def __init__(self, tool, directory):
        self.dir = directory
        specs = [
            "ca:ca:bws integration CA",
            "leaf:a:ecdsa:a.test",
            "leaf:b:rsa:b.test",
            "leaf:c:ecdsa:c.test,d.test",  # also covers d.test: no 421 between c and d
            "leaf:d:ecdsa:d.test",
            "leaf:dual-rsa:rsa:dual.test",
            "leaf:dual-ecdsa:ecdsa:dual.test",
            "leaf:strict:ecdsa:strict.test",
            "leaf:mtls:ecdsa:mtls.test",
            "leaf:mopt:ecdsa:mopt.test",
            "leaf:v13:ecdsa:v13.test",
            "leaf:r1:ecdsa:r.test",
            "leaf:r2:ecdsa:r.test",
            "leaf:r-mismatched:ecdsa:r.test:mismatched",
            "leaf:client:ecdsa:client.test:client",
            "ca:other-ca:bws intruder CA",
            "leaf:intruder:ecdsa:intruder.test:client",
        ]
        r = subprocess.run([tool, directory] + specs, capture_output=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError("bws_make_test_pki failed: " + r.stderr.decode(errors="replace"))
        self.ca = self.path("ca.pem")

    def path(self, name):
        return os.path.join(self.dir, name)

    def crt(self, stem):
        return self.path(stem + ".crt")

    def key(self, stem):
        return self.path(stem + ".key")

    def fingerprint(self, stem):
        """SHA-256 of the leaf (the first certificate of STEM.crt)."""
        with open(self.crt(stem)) as f:
            text = f.read()
        end = "-----END CERTIFICATE-----"
        first = text[:text.index(end) + len(end)] + "\n"
        return hashlib.sha256(ssl.PEM_cert_to_DER_cert(first)).hexdigest()


# ---------------------------------------------------------------- clients


def client_context(pki=None, minimum=None, maximum=None, ciphers=None, cert=None, alpn=None,
                   verify=True):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False  # several checks connect without SNI or with a foreign one
    if verify:
        ctx.load_verify_locations(pki.ca)
        ctx.verify_mode = ssl.CERT_REQUIRED
    else:
        ctx.verify_mode = ssl.CERT_NONE
    if minimum is not None:
        ctx.minimum_version = minimum
    if maximum is not None:
        ctx.maximum_version = maximum
    if ciphers is not None:
        ctx.set_ciphers(ciphers)
    if cert is not None:
        ctx.load_cert_chain(pki.crt(cert), pki.key(cert))
    if alpn is not None:
        ctx.set_alpn_protocols(alpn)
    return ctx


def tls_connect(port, ctx, sni, session=None, timeout=TIMEOUT):
    raw = socket.create_connection((LOOPBACK, port), timeout=timeout)
    try:
        return ctx.wrap_socket(raw, server_hostname=sni, session=session)
    except BaseException:
        raw.close()
        raise


def peer_fingerprint(sock):
    return hashlib.sha256(sock.getpeercert(binary_form=True)).hexdigest()


def https(port, pki, sni, target="/", host=None, ctx=None, method="GET", headers=None):
    """One request on a fresh TLS connection: (response, TLS socket facts)."""
    ctx = ctx or client_context(pki)
    sock = tls_connect(port, ctx, sni)
    conn = Connection(sock)
    try:
        facts = {"fingerprint": peer_fingerprint(sock), "version": sock.version(),
                 "cipher": sock.cipher(), "alpn": sock.selected_alpn_protocol(),
                 "reused": sock.session_reused}
        r = conn.request(method, target, host or sni or "localhost", headers=headers, close=True)
        return r, facts
    finally:
        conn.close()


def refused(port, ctx, sni, host=None):
    """None when the handshake and a request succeeded; else why the server refused.

    With TLS 1.3 a client finishes its side of the handshake before the server has checked
    the client's certificate, so a refusal can also arrive as an alert on the first read."""
    try:
        sock = tls_connect(port, ctx, sni)
    except (ssl.SSLError, ConnectionError) as e:
        return f"handshake: {e}"
    conn = Connection(sock)
    try:
        r = conn.request("GET", "/", host or sni or "localhost", close=True)
        return None if r.status else "no status"
    except (ssl.SSLError, ConnectionError) as e:
        return f"after handshake: {e}"
    finally:
        conn.close()


def says(why, *tokens):
    """Whether an error text names one of `tokens` (OpenSSL reason codes such as
    "NO_APPLICATION_PROTOCOL"; Python spells some of them "no application protocol")."""
    text = why.upper().replace(" ", "_")
    return any(token in text for token in tokens)


def health_detailed(port, pki, sni, ctx=None):
    r, facts = https(port, pki, sni, "/health/detailed", ctx=ctx)
    expect_eq(r.status, 200, "/health/detailed status")
    return json.loads(r.body), facts


def client_hello(sni):
    """The bytes of a real ClientHello (made by an in-memory TLS client)."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    obj = ctx.wrap_bio(incoming, outgoing, server_hostname=sni)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


def closed_within(sock, limit):
    """Seconds until the server closed `sock` (EOF or reset), or None if still open at `limit`."""
    start = time.monotonic()
    sock.settimeout(0.05)
    while time.monotonic() - start < limit:
        try:
            data = sock.recv(4096)
        except socket.timeout:
            continue
        except (ConnectionResetError, BrokenPipeError):
            return time.monotonic() - start
        if not data:
            return time.monotonic() - start
        # bytes (an alert): keep reading until the close
    return None


# ---------------------------------------------------------------- configuration


def ssl_table(pki, stems, extra=""):
    out = "[sites.ssl]\nenabled = true\n"
    if len(stems) == 1:
        out += f'cert_file = "{pki.crt(stems[0])}"\nkey_file = "{pki.key(stems[0])}"\n'
    out += extra
    if len(stems) > 1:
        for stem in stems:
            out += (f'[[sites.ssl.certificates]]\ncert_file = "{pki.crt(stem)}"\n'
                    f'key_file = "{pki.key(stem)}"\n')
    return out


def site_table(name, hostname, port, static_dir, extra=""):
    return (f'\n[[sites]]\nname = "{name}"\nhostname = "{hostname}"\nport = {port}\n'
            f'bind = "{LOOPBACK}"\nstatic_dir = "{static_dir}"\n{extra}')


def make_site_dir(root, name, extra_files=None):
    d = os.path.join(root, "www-" + name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "index.html"), "w") as f:
        f.write(f"site {name}\n")
    for rel, text in (extra_files or {}).items():
        path = os.path.join(d, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
    return d


class MainServer:
    """One worker, many TLS ports and two plain ones; JSON access log."""

    def __init__(self, binary, pki, root):
        self.pki = pki
        self.dir = os.path.join(root, "main")
        os.makedirs(self.dir)
        (self.tls, self.strict, self.mtls, self.mopt, self.v13, self.redirect,
         self.plain) = free_ports(7)
        self.access_log = os.path.join(self.dir, "access.log")
        self.pid_file = os.path.join(self.dir, "bws.pid")
        w = lambda name, files=None: make_site_dir(self.dir, name, files)
        text = (
            f'[server]\nworkers = 1\nshutdown_timeout = "2s"\n'
            f'[server.limits]\nheader_timeout = "{int(HEADER_TIMEOUT)}s"\n'
            f'[daemon]\npid_file = "{self.pid_file}"\n'
            f'[logging]\nlevel = "info"\naccess_log = "{self.access_log}"\n'
            f'access_log_format = "json"\n')
        # Port `tls`: five sites; b is the default though it is not the first.
        text += site_table("a", "a.test", self.tls, w("a"), ssl_table(pki, ["a"],
                           "hsts_max_age = 600\n"))
        text += site_table("b", "b.test", self.tls, w("b"), "default = true\n" + ssl_table(
            pki, ["b"], 'hsts_max_age = "365d"\nhsts_include_subdomains = true\n'
            "hsts_preload = true\n"))
        text += site_table("c", "c.test", self.tls, w("c"), ssl_table(pki, ["c"]))
        text += site_table("d", "d.test", self.tls, w("d"), ssl_table(pki, ["d"]))
        text += site_table("dual", "dual.test", self.tls, w("dual"),
                           ssl_table(pki, ["dual-rsa", "dual-ecdsa"]))
        text += site_table("strict", "strict.test", self.strict, w("strict"),
                           ssl_table(pki, ["strict"], "strict_sni = true\n"))
        text += site_table("mtls", "mtls.test", self.mtls, w("mtls"), ssl_table(
            pki, ["mtls"], f'client_ca_file = "{pki.ca}"\nclient_verify = "required"\n'))
        text += site_table("mopt", "mopt.test", self.mopt, w("mopt"), ssl_table(
            pki, ["mopt"], f'client_ca_file = "{pki.ca}"\nclient_verify = "optional"\n'))
        text += site_table("v13", "v13.test", self.v13, w("v13"),
                           ssl_table(pki, ["v13"], 'min_tls_version = "1.3"\n'))
        text += site_table("redirect", "a.test", self.redirect, w(
            "redirect", {".well-known/acme-challenge/x": "challenge token\n"}),
            'hostnames = ["b.test"]\nredirect_to_https = true\n')
        text += site_table("plain", "plain.test", self.plain, w("plain"))
        self.config = os.path.join(self.dir, "config.toml")
        with open(self.config, "w") as f:
            f.write(text)
        self.bws = Bws(binary, self.dir, self.config, self.pid_file)

    def access_lines(self):
        try:
            with open(self.access_log) as f:
                return [json.loads(line) for line in f if line.strip()]
        except FileNotFoundError:
            return []

    def wait_access(self, predicate, limit=5.0):
        """The first access-log record matching `predicate` (the worker flushes its buffer on
        a timer: poll for it), or None."""
        def find():
            for record in self.access_lines():
                if predicate(record):
                    return record
            return None
        return wait_until(find, limit, 0.05)


class ReloadServer:
    """Two workers, one TLS site whose certificate files are replaced between reloads."""

    def __init__(self, binary, pki, root):
        self.pki = pki
        self.dir = os.path.join(root, "reload")
        self.live = os.path.join(self.dir, "live")
        os.makedirs(self.live)
        (self.port,) = free_ports(1)
        self.pid_file = os.path.join(self.dir, "bws.pid")
        self.install("r1")
        text = (f'[server]\nworkers = 2\nshutdown_timeout = "3s"\n'
                f'[daemon]\npid_file = "{self.pid_file}"\n[logging]\nlevel = "info"\n'
                f'access_log = "off"\n')
        text += site_table("r", "r.test", self.port, make_site_dir(self.dir, "r"),
                           f'[sites.ssl]\nenabled = true\ncert_file = "{self.crt}"\n'
                           f'key_file = "{self.key}"\n')
        self.config = os.path.join(self.dir, "config.toml")
        with open(self.config, "w") as f:
            f.write(text)
        self.bws = Bws(binary, self.dir, self.config, self.pid_file)

    @property
    def crt(self):
        return os.path.join(self.live, "r.crt")

    @property
    def key(self):
        return os.path.join(self.live, "r.key")

    def install(self, stem, cert_text=None):
        """Replaces the live certificate and key (each by an atomic rename)."""
        for source, target in ((self.pki.crt(stem), self.crt), (self.pki.key(stem), self.key)):
            tmp = target + ".new"
            if cert_text is not None and target == self.crt:
                with open(tmp, "w") as f:
                    f.write(cert_text)
            else:
                shutil.copyfile(source, tmp)
            os.replace(tmp, target)


# ---------------------------------------------------------------- checks

CHECKS = []


def check(group):
    def register(fn):
        CHECKS.append((group, fn.__name__.replace("_", "-"), fn))
        return fn
    return register


# --- SNI and certificates (main server)

@check("main")
def sni_selects_certificate_per_site(m):
    for site in ("a", "b", "c"):
        r, facts = https(m.tls, m.pki, f"{site}.test")
        expect_eq(facts["fingerprint"], m.pki.fingerprint(site), f"leaf for SNI {site}.test")
        expect_eq(r.status, 200, f"status for {site}.test")
        expect_eq(r.body, f"site {site}\n".encode(), f"body for {site}.test")


@check("main")
def sni_is_case_insensitive(m):
    _, facts = https(m.tls, m.pki, "C.Test", host="c.test")
    expect_eq(facts["fingerprint"], m.pki.fingerprint("c"), "leaf for SNI C.Test")


@check("main")
def dual_site_ecdsa_client_gets_ecdsa_leaf(m):
    ctx = client_context(m.pki, maximum=ssl.TLSVersion.TLSv1_2,
                         ciphers="ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
                                 "ECDHE-ECDSA-CHACHA20-POLY1305")
    r, facts = https(m.tls, m.pki, "dual.test", ctx=ctx)
    expect_eq(facts["fingerprint"], m.pki.fingerprint("dual-ecdsa"), "leaf for an ECDSA client")
    expect("ECDSA" in facts["cipher"][0], f"cipher {facts['cipher']}")
    expect_eq(r.status, 200, "status")


@check("main")
def dual_site_rsa_client_gets_rsa_leaf(m):
    ctx = client_context(m.pki, maximum=ssl.TLSVersion.TLSv1_2,
                         ciphers="ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:"
                                 "ECDHE-RSA-CHACHA20-POLY1305")
    r, facts = https(m.tls, m.pki, "dual.test", ctx=ctx)
    expect_eq(facts["fingerprint"], m.pki.fingerprint("dual-rsa"), "leaf for an RSA client")
    expect("RSA" in facts["cipher"][0], f"cipher {facts['cipher']}")
    expect_eq(r.status, 200, "status")


@check("main")
def no_sni_gets_default_site_certificate(m):
    # b is the port's default (default = true) although a is its first site.
    r, facts = https(m.tls, m.pki, None, host="b.test")
    expect_eq(facts["fingerprint"], m.pki.fingerprint("b"), "leaf without SNI")
    expect_eq(r.body, b"site b\n", "body")


@check("main")
def unknown_sni_gets_default_site_certificate(m):
    _, facts = https(m.tls, m.pki, "unknown.test", host="b.test")
    expect_eq(facts["fingerprint"], m.pki.fingerprint("b"), "leaf for SNI unknown.test")


@check("main")
def strict_sni_refuses_unknown_name(m):
    why = refused(m.strict, client_context(m.pki), "unknown.test")
    expect(why is not None, "handshake with an unknown SNI on a strict_sni port succeeded")
    expect(says(why, "UNRECOGNIZED_NAME"), f"refused, but not with unrecognized_name: {why}")


@check("main")
def strict_sni_serves_known_name(m):
    r, facts = https(m.strict, m.pki, "strict.test")
    expect_eq(facts["fingerprint"], m.pki.fingerprint("strict"), "leaf")
    expect_eq(r.status, 200, "status")


@check("main")
def strict_sni_without_sni_gets_default(m):
    # strict_sni refuses a server name no site has; a ClientHello with no name at all gets the
    # port's default (tls/context.cpp: on_client_hello).
    r, facts = https(m.strict, m.pki, None, host="strict.test")
    expect_eq(facts["fingerprint"], m.pki.fingerprint("strict"), "leaf")
    expect_eq(r.status, 200, "status")


@check("main")
def misdirected_host_gets_421(m):
    r, _ = https(m.tls, m.pki, "a.test", host="b.test")
    expect_eq(r.status, 421, "SNI a.test, Host b.test")
    r, _ = https(m.tls, m.pki, "a.test", host=f"b.test:{m.tls}")
    expect_eq(r.status, 421, "SNI a.test, Host b.test:PORT")


@check("main")
def host_covered_by_certificate_is_not_421(m):
    # c's certificate also names d.test: the client may reuse the connection for d.
    r, _ = https(m.tls, m.pki, "c.test", host="d.test")
    expect_eq(r.status, 200, "SNI c.test, Host d.test")
    expect_eq(r.body, b"site d\n", "body")


@check("main")
def unknown_host_is_not_421(m):
    r, _ = https(m.tls, m.pki, "a.test", host="unknown.test")
    expect_eq(r.status, 200, "SNI a.test, Host unknown.test")
    expect_eq(r.body, b"site a\n", "the SNI site answers (not the port default b)")


@check("main")
def hsts_header_values(m):
    r, _ = https(m.tls, m.pki, "b.test")
    expect_eq(r.header("strict-transport-security"),
              "max-age=31536000; includeSubDomains; preload", "b (include_subdomains, preload)")
    r, _ = https(m.tls, m.pki, "a.test")
    expect_eq(r.header("strict-transport-security"), "max-age=600", "a")
    r, _ = https(m.tls, m.pki, "c.test")
    expect_eq(r.header("strict-transport-security"), None, "c (no hsts_max_age)")
    r, _ = https(m.tls, m.pki, "b.test", "/missing")
    expect_eq(r.status, 404, "404 status")
    expect_eq(r.header("strict-transport-security"),
              "max-age=31536000; includeSubDomains; preload", "b on a 404")


@check("main")
def hsts_absent_on_plain_http(m):
    r = http(m.plain, "/", "plain.test")
    expect_eq(r.status, 200, "plain site status")
    expect_eq(r.header("strict-transport-security"), None, "HSTS on plain HTTP")
    r = http(m.redirect, "/", "b.test")
    expect_eq(r.header("strict-transport-security"), None, "HSTS on the redirect")


# --- redirect_to_https

@check("main")
def redirect_get_head_301(m):
    for method in ("GET", "HEAD"):
        r = http(m.redirect, "/some/path?x=1&y=%20z", "a.test", method=method)
        expect_eq(r.status, 301, f"{method} status")
        expect_eq(r.header("location"), f"https://a.test:{m.tls}/some/path?x=1&y=%20z",
                  f"{method} Location")


@check("main")
def redirect_post_308(m):
    r = http(m.redirect, "/form?q=2", "b.test", method="POST", body=b"a=1",
             headers={"Content-Type": "application/x-www-form-urlencoded"})
    expect_eq(r.status, 308, "POST status")
    expect_eq(r.header("location"), f"https://b.test:{m.tls}/form?q=2", "POST Location")


@check("main")
def redirect_keeps_empty_query_and_root(m):
    r = http(m.redirect, "/", "a.test")
    expect_eq(r.header("location"), f"https://a.test:{m.tls}/", "root")
    r = http(m.redirect, "/p?", "a.test")
    expect_eq(r.header("location"), f"https://a.test:{m.tls}/p?", "empty query")


@check("main")
def redirect_skips_acme_challenge(m):
    r = http(m.redirect, "/.well-known/acme-challenge/x", "a.test")
    expect_eq(r.status, 200, "challenge status")
    expect_eq(r.body, b"challenge token\n", "challenge body")


@check("main")
def redirect_skips_health(m):
    r = http(m.redirect, "/health", "a.test")
    expect_eq(r.status, 200, "/health status")
    expect_eq(json.loads(r.body).get("status"), "healthy", "/health body")


@check("main")
def config_check_rejects_redirect_on_tls_site(m):
    path = os.path.join(m.dir, "bad-redirect.toml")
    body = site_table("s", "s.test", m.tls, os.path.join(m.dir, "www-a"),
                      "redirect_to_https = true\n" + ssl_table(m.pki, ["a"]))
    with open(path, "w") as f:
        f.write(body)
    want_line = body.splitlines().index("redirect_to_https = true") + 1
    r = subprocess.run([m.bws.binary, "--config-check", path], capture_output=True, timeout=30)
    out = (r.stdout + r.stderr).decode(errors="replace")
    expect(r.returncode != 0, f"--config-check exited 0: {out}")
    found = re.search(re.escape(path) + r":(\d+):(\d+): [^\n]*redirect_to_https", out)
    expect(found is not None, f"no FILE:LINE:COL diagnostic naming redirect_to_https: {out}")
    expect_eq(int(found.group(1)), want_line, "diagnostic line")


# --- client certificates

@check("main")
def mtls_required_without_certificate_refused(m):
    why = refused(m.mtls, client_context(m.pki), "mtls.test")
    expect(why is not None, "request without a client certificate succeeded")


@check("main")
def mtls_required_with_certificate_logs_subject(m):
    target = f"/?mtls-probe={os.getpid()}-{time.monotonic_ns()}"
    r, _ = https(m.mtls, m.pki, "mtls.test", target, ctx=client_context(m.pki, cert="client"))
    expect_eq(r.status, 200, "status with a client certificate")
    record = m.wait_access(lambda rec: rec.get("target") == target)
    expect(record is not None, f"no access log line for {target}")
    subject = record.get("client_subject", "")
    expect("client.test" in subject, f"client_subject {subject!r} in {record}")


@check("main")
def mtls_required_other_ca_refused(m):
    why = refused(m.mtls, client_context(m.pki, cert="intruder"), "mtls.test")
    expect(why is not None, "a certificate from another CA was accepted")


@check("main")
def mtls_optional_without_certificate_200(m):
    target = f"/?mopt-probe={time.monotonic_ns()}"
    r, _ = https(m.mopt, m.pki, "mopt.test", target)
    expect_eq(r.status, 200, "status without a client certificate")
    record = m.wait_access(lambda rec: rec.get("target") == target)
    expect(record is not None, f"no access log line for {target}")
    expect("client_subject" not in record, f"client_subject without a certificate: {record}")


@check("main")
def mtls_optional_with_certificate_200(m):
    r, _ = https(m.mopt, m.pki, "mopt.test", ctx=client_context(m.pki, cert="client"))
    expect_eq(r.status, 200, "status with a client certificate")


# --- protocol versions, ALPN, access log

@check("main")
def access_log_has_tls_version_and_cipher(m):
    target = f"/?tls-probe={time.monotonic_ns()}"
    _, facts = https(m.tls, m.pki, "a.test", target)
    record = m.wait_access(lambda rec: rec.get("target") == target)
    expect(record is not None, f"no access log line for {target}")
    expect_eq(record.get("tls_version"), facts["version"], "tls_version")
    expect_eq(record.get("tls_cipher"), facts["cipher"][0], "tls_cipher")
    plain_target = f"/?plain-probe={time.monotonic_ns()}"
    http(m.plain, plain_target, "plain.test")
    record = m.wait_access(lambda rec: rec.get("target") == plain_target)
    expect(record is not None, f"no access log line for {plain_target}")
    expect("tls_version" not in record, f"tls_version on plain HTTP: {record}")


def old_protocol_context(version):
    # SECLEVEL=0: OpenSSL 3 refuses to offer TLS 1.0/1.1 at the default security level.
    return client_context(verify=False, minimum=version, maximum=version,
                          ciphers="DEFAULT:@SECLEVEL=0")


@check("main")
def tls10_and_tls11_refused(m):
    for version in (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1):
        why = refused(m.tls, old_protocol_context(version), "a.test")
        expect(why is not None, f"{version.name} accepted")
        # The server's alert, not the client giving up before sending anything.
        expect(says(why, "PROTOCOL_VERSION", "UNSUPPORTED_PROTOCOL"),
               f"{version.name} refused for another reason: {why}")


@check("main")
def tls13_and_tls12_accepted(m):
    for version, name in ((ssl.TLSVersion.TLSv1_3, "TLSv1.3"),
                          (ssl.TLSVersion.TLSv1_2, "TLSv1.2")):
        ctx = client_context(m.pki, minimum=version, maximum=version)
        r, facts = https(m.tls, m.pki, "a.test", ctx=ctx)
        expect_eq(facts["version"], name, "negotiated version")
        expect_eq(r.status, 200, f"{name} status")


@check("main")
def min_tls_version_13_refuses_tls12(m):
    ctx = client_context(m.pki, maximum=ssl.TLSVersion.TLSv1_2)
    why = refused(m.v13, ctx, "v13.test")
    expect(why is not None, "TLS 1.2 accepted on a min_tls_version = 1.3 site")
    _, facts = https(m.v13, m.pki, "v13.test")
    expect_eq(facts["version"], "TLSv1.3", "version on the 1.3 site")


@check("main")
def alpn_http11_selected(m):
    for offer in (["h2", "http/1.1"], ["http/1.1"]):
        r, facts = https(m.tls, m.pki, "a.test", ctx=client_context(m.pki, alpn=offer))
        expect_eq(facts["alpn"], "http/1.1", f"ALPN for offer {offer}")
        expect_eq(r.status, 200, "status")
    _, facts = https(m.tls, m.pki, "a.test")
    expect_eq(facts["alpn"], None, "ALPN when none is offered")


@check("main")
def alpn_without_http11_refused(m):
    why = refused(m.tls, client_context(m.pki, alpn=["h2"]), "a.test")
    expect(why is not None, "a client offering only h2 was served")
    expect(says(why, "NO_APPLICATION_PROTOCOL"), f"refused for another reason: {why}")


# --- misbehaving clients

@check("main")
def plain_http_to_tls_port_gets_400(m):
    sock = socket.create_connection((LOOPBACK, m.tls), timeout=TIMEOUT)
    try:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: a.test\r\n\r\n")
        data = b""
        deadline = time.monotonic() + TIMEOUT
        closed = False
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(4096)
            except ConnectionResetError:
                closed = True
                break
            if not chunk:
                closed = True
                break
            data += chunk
    finally:
        sock.close()
    expect(data.startswith(b"HTTP/1.1 400"), f"reply {data[:60]!r}")
    head, _, body = data.partition(b"\r\n\r\n")
    length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    expect(length is not None, f"no Content-Length in {head!r}")
    expect(len(body) == int(length.group(1)) and len(body) > 0, f"body {body!r}")
    expect(b"HTTPS" in body or b"TLS" in body, f"body does not say why: {body!r}")
    expect(closed, "the connection stayed open after the 400")


@check("main")
def silent_client_closed_after_header_timeout(m):
    sock = socket.create_connection((LOOPBACK, m.tls), timeout=TIMEOUT)
    try:
        took = closed_within(sock, HEADER_TIMEOUT + 3)
    finally:
        sock.close()
    expect(took is not None, f"still open {HEADER_TIMEOUT + 3}s after connect")
    expect(took >= HEADER_TIMEOUT * 0.75, f"closed after {took:.2f}s, before header_timeout")


@check("main")
def garbage_instead_of_client_hello_closed(m):
    for garbage in (b"\x01\x02\x03\x04 not tls at all\r\n\r\n",
                    b"\x16\x03\x01\x00\x05hello-this-is-no-handshake"):
        sock = socket.create_connection((LOOPBACK, m.tls), timeout=TIMEOUT)
        try:
            sock.sendall(garbage)
            took = closed_within(sock, HEADER_TIMEOUT + 3)
        finally:
            sock.close()
        expect(took is not None, f"still open after {garbage[:8]!r}")
        expect(took < HEADER_TIMEOUT / 2, f"closed only after {took:.2f}s for {garbage[:8]!r} "
               "(waited for the timeout instead of closing)")


@check("main")
def disconnect_mid_handshake_leaves_server_serving(m):
    before, _ = health_detailed(m.tls, m.pki, "a.test")
    hello = client_hello("a.test")
    expect(len(hello) > 100 and hello[0] == 0x16, f"made no ClientHello ({len(hello)} bytes)")
    for cut, reset in ((5, False), (len(hello) // 2, False), (len(hello), False),
                       (len(hello), True)):
        sock = socket.create_connection((LOOPBACK, m.tls), timeout=TIMEOUT)
        sock.sendall(hello[:cut])
        if cut == len(hello):
            sock.recv(1)  # the server is in the middle of its answer
        if reset:  # an RST instead of a FIN
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        sock.close()
    after, _ = health_detailed(m.tls, m.pki, "a.test")
    expect_eq(after["served_by"]["pid"], before["served_by"]["pid"], "worker pid (no crash)")
    r, _ = https(m.tls, m.pki, "a.test")
    expect_eq(r.status, 200, "status after the aborted handshakes")


@check("main")
def health_counts_failed_handshakes_per_site(m):
    def counts():
        doc, _ = health_detailed(m.tls, m.pki, "a.test")
        failures = doc["served_by"]["failures"]
        return failures.get("tls_handshake", 0), failures.get("tls_handshake:mtls", 0)

    total0, mtls0 = counts()
    for _ in range(3):
        expect(refused(m.mtls, client_context(m.pki), "mtls.test") is not None,
               "handshake without a client certificate succeeded")
    total1, mtls1 = counts()
    expect_eq(mtls1 - mtls0, 3, "tls_handshake:mtls increase after 3 refused handshakes")
    expect(total1 - total0 >= 3, f"tls_handshake rose by {total1 - total0}, expected >= 3")


@check("main")
def main_master_survived(m):
    expect(m.bws.proc.poll() is None, "master exited")
    expect_eq(len(m.bws.workers()), 1, "workers")


# --- session tickets and reloads (two workers)

def resume_on_all_workers(s, version, name):
    """A ticket from one connection resumes on later ones, on both workers.

    Run for TLS 1.2 (the ticket comes inside the handshake) and TLS 1.3 (tickets are sent
    after the handshake: Python's SSLSocket.session holds one only once application data has
    been read, hence a whole response before taking the session)."""
    ctx = client_context(s.pki, minimum=version, maximum=version)
    first = tls_connect(s.port, ctx, "r.test")
    conn = Connection(first)
    try:
        r = conn.request("GET", "/health/detailed", "r.test")
        issuer = json.loads(r.body)["served_by"]["pid"]
        session = first.session
    finally:
        conn.close()
    expect(session is not None and session.has_ticket, f"{name}: no session ticket issued")
    workers = set(s.bws.workers())
    expect_eq(len(workers), 2, "workers running")
    seen = {}
    for _ in range(200):
        sock = tls_connect(s.port, ctx, "r.test", session=session)
        conn = Connection(sock)
        try:
            r = conn.request("GET", "/health/detailed", "r.test", close=True)
            pid = json.loads(r.body)["served_by"]["pid"]
            seen.setdefault(pid, []).append(sock.session_reused)
        finally:
            conn.close()
        if len(seen) == 2 and all(len(v) >= 2 for v in seen.values()):
            break
    expect(set(seen) <= workers, f"served by {set(seen)}, workers are {workers}")
    expect(len(seen) == 2, f"{name}: 200 connections all landed on one worker {set(seen)}")
    for pid, reused in seen.items():
        expect(all(reused), f"{name}: worker {pid}{' (issuer)' if pid == issuer else ''} "
               f"resumed {reused.count(True)} of {len(reused)} connections")
    return session


@check("reload")
def ticket_resumes_on_other_worker_tls12(s):
    resume_on_all_workers(s, ssl.TLSVersion.TLSv1_2, "TLS 1.2")


@check("reload")
def ticket_resumes_on_other_worker_tls13(s):
    resume_on_all_workers(s, ssl.TLSVersion.TLSv1_3, "TLS 1.3")


@check("reload")
def ticket_resumes_after_reload(s):
    tickets = {}
    for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
        ctx = client_context(s.pki, minimum=version, maximum=version)
        sock = tls_connect(s.port, ctx, "r.test")
        conn = Connection(sock)
        try:
            conn.request("GET", "/", "r.test")
            tickets[version] = (ctx, sock.session)
        finally:
            conn.close()
    old_workers = set(s.bws.workers())
    rc, out = s.bws.reload()
    expect_eq(rc, 0, f"reload exit code ({out.strip()})")
    gone = wait_until(lambda: not any(alive(w) for w in old_workers), 15)
    expect(gone, "the old generation did not exit")
    for version, (ctx, session) in tickets.items():
        sock = tls_connect(s.port, ctx, "r.test", session=session)
        conn = Connection(sock)
        try:
            r = conn.request("GET", "/health/detailed", "r.test", close=True)
            expect(json.loads(r.body)["served_by"]["pid"] not in old_workers, "old worker")
            expect(sock.session_reused, f"{version.name}: the pre-reload ticket did not resume")
        finally:
            conn.close()


class Looper(threading.Thread):
    """Loops HTTPS GETs (a new connection each, or keep-alive), counting failures."""

    def __init__(self, s, keepalive):
        super().__init__(daemon=True)
        self.s = s
        self.keepalive = keepalive
        self.ctx = client_context(s.pki)
        self.done = threading.Event()
        self.ok = 0
        self.failures = []
        self.fingerprints = set()

    def run(self):
        conn = None
        while not self.done.is_set():
            try:
                if conn is None:
                    sock = tls_connect(self.s.port, self.ctx, "r.test")
                    self.fingerprints.add(peer_fingerprint(sock))
                    conn = Connection(sock)
                r = conn.request("GET", "/", "r.test", close=not self.keepalive)
                if r.status != 200 or r.body != b"site r\n":
                    self.failures.append(f"status {r.status} body {r.body[:40]!r}")
                else:
                    self.ok += 1
                if not self.keepalive or (r.header("connection") or "").lower() == "close":
                    conn.close()
                    conn = None
            except Exception as e:  # every error counts as a failed request
                self.failures.append(f"{type(e).__name__}: {e}")
                if conn is not None:
                    conn.close()
                conn = None
        if conn is not None:
            conn.close()


def current_fingerprint(s):
    _, facts = https(s.port, s.pki, "r.test")
    return facts["fingerprint"]


@check("reload")
def reload_swaps_certificate_without_failures(s):
    expect_eq(current_fingerprint(s), s.pki.fingerprint("r1"), "certificate before")
    master = s.bws.pid
    loopers = [Looper(s, keepalive=False), Looper(s, keepalive=True)]
    for t in loopers:
        t.start()
    try:
        expect(wait_until(lambda: all(t.ok >= 5 for t in loopers), 10),
               "clients made no progress before the reload")
        s.install("r2")
        rc, out = s.bws.reload()
        expect_eq(rc, 0, f"reload exit code ({out.strip()})")
        new = s.pki.fingerprint("r2")
        expect(wait_until(lambda: current_fingerprint(s) == new, 10),
               "the new certificate is not served after the reload")
        counts = [t.ok for t in loopers]
        expect(wait_until(lambda: all(t.ok >= c + 20 for t, c in zip(loopers, counts)) and
                          len(loopers[1].fingerprints) == 2, 15),
               "clients made no progress after the reload")
    finally:
        for t in loopers:
            t.done.set()
        for t in loopers:
            t.join(10)
    for t in loopers:
        kind = "keep-alive" if t.keepalive else "new-connection"
        expect(not t.failures, f"{kind} client: {len(t.failures)} failed of "
               f"{t.ok + len(t.failures)}, first: {t.failures[:1]}")
    # The keep-alive client sees the new certificate only if its connection to the old
    # generation was closed (Connection: close while draining) and it connected again.
    for t in loopers:
        expect(t.fingerprints == {s.pki.fingerprint("r1"), new},
               f"{'keep-alive' if t.keepalive else 'new-connection'} client saw "
               f"{len(t.fingerprints)} certificates, not the old and the new one")
    with open(s.pid_file) as f:
        expect_eq(int(f.read().strip()), master, "PID file")
    expect(s.bws.proc.poll() is None and alive(master), "the master is gone")


def expect_failed_reload(s, what):
    served = current_fingerprint(s)
    log_before = len(s.bws.log())
    rc, out = s.bws.reload()
    expect(rc != 0, f"{what}: reload exited 0 ({out.strip()})")
    expect("reload failed" in out, f"{what}: reload output {out.strip()!r}")
    expect(s.crt in out or s.key in out, f"{what}: reload output does not name the file: {out!r}")
    expect(wait_until(lambda: s.crt in s.bws.log()[log_before:] or
                      s.key in s.bws.log()[log_before:], 5),
           f"{what}: the master log does not name the file: {s.bws.log()[log_before:]!r}")
    expect_eq(current_fingerprint(s), served, f"{what}: certificate served after the failed reload")


@check("reload")
def broken_certificate_reload_fails_and_old_serves(s):
    s.install("r1", cert_text="-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n"
                              "-----END CERTIFICATE-----\n")
    expect_failed_reload(s, "garbage PEM")
    s.install("r-mismatched")
    expect_failed_reload(s, "mismatched key")
    s.install("r1")
    rc, out = s.bws.reload()
    expect_eq(rc, 0, f"reload with a good certificate again ({out.strip()})")
    expect(wait_until(lambda: current_fingerprint(s) == s.pki.fingerprint("r1"), 10),
           "the good certificate is not served after the last reload")


@check("reload")
def reload_master_survived(s):
    expect(s.bws.proc.poll() is None, "master exited")
    expect(wait_until(lambda: len(s.bws.workers()) == 2, 10),
           f"workers: {s.bws.workers()}")


# ---------------------------------------------------------------- runner


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bws", required=True)
    parser.add_argument("--pki-tool", required=True)
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("-k", dest="select", help="run only checks whose name contains this")
    args = parser.parse_args()

    # SIGTERM (ctest, a CI runner) unwinds through the finally below, which stops bws.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(130))
    root = tempfile.mkdtemp(prefix="bws-tls-it-")
    # Started as root, bws serves from unprivileged workers (nobody): they must reach the files.
    os.chmod(root, 0o755)
    started = time.monotonic()
    failed = []
    passed = 0
    servers = []
    try:
        pki = Pki(args.pki_tool, os.path.join(root, "pki"))
        groups = {"main": MainServer, "reload": ReloadServer}
        for group, make in groups.items():
            selected = [(n, f) for g, n, f in CHECKS
                        if g == group and (not args.select or args.select in n)]
            if not selected:
                continue
            server = make(args.bws, pki, root)
            servers.append(server)
            ready = server.bws.wait_ready(20)
            for name, fn in selected:
                t0 = time.monotonic()
                try:
                    if not ready:
                        raise CheckFailed(f"bws ({group}) did not report READY=1:\n"
                                          + server.bws.log()[-2000:])
                    fn(server)
                    passed += 1
                    print(f"PASS {name} ({time.monotonic() - t0:.2f}s)", flush=True)
                except Exception as e:
                    failed.append(name)
                    detail = str(e) if isinstance(e, CheckFailed) else traceback.format_exc()
                    print(f"FAIL {name} ({time.monotonic() - t0:.2f}s): {detail}", flush=True)
            code = server.bws.stop()
            if code != 0:
                failed.append(f"{group}-stop")
                print(f"FAIL {group}-stop: exit code {code}\n{server.bws.log()[-2000:]}")
            else:
                passed += 1
                print(f"PASS {group}-stop", flush=True)
    finally:
        for server in servers:
            server.bws.stop()
        if failed or args.keep:
            for server in servers:
                print(f"--- {server.bws.log_path} (last 3000 characters)")
                print(server.bws.log()[-3000:])
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    print(f"{passed} passed, {len(failed)} failed in {time.monotonic() - started:.1f}s"
          + (": " + ", ".join(failed) if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
