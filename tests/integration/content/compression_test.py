#!/usr/bin/python3
"""[sites.compression] end to end: the real bws binary on loopback.

Usage: compression_test.py --bws PATH [--keep] [-k SUBSTRING]

Negotiation (q-values, 406), Vary, precompressed siblings with their ETags, 304 and Range,
bodies compressed on the fly, Range and no-transform served from the identity file, HEAD, the
access log's byte count, a 20 MiB file sent with flat worker memory, and files above the
compressed cache's 1 MiB compressed as they are sent (chunked; HTTP/1.0 gets identity), a
100 MiB one in each coding with the worker's peak RSS flat (BWS_COMPRESS_BIG_MIB sets the size:
the sanitizer build uses less). gzip is decoded with
the standard library, br with Debian's python3-brotli, zstd with python3-zstandard (a decode
whose module is missing is skipped, saying so). Each check prints PASS or FAIL; exit status 1
when any failed.
"""

import gzip
import hashlib
import json
import os
import socket
import ssl
import subprocess
import sys
import time
import zlib
from http.client import HTTPConnection

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from bws_harness import (LOOPBACK, TIMEOUT, Bws, CheckFailed, Connection, expect,  # noqa: E402
                         expect_eq, free_ports, http, run_checks, wait_until)

try:
    import brotli
except ImportError:
    brotli = None
try:
    import zstandard
except ImportError:
    zstandard = None

PAGE = ("<!doctype html><title>bws</title>\n"
        + "".join(f"<p class=\"row\">paragraph {i} of the page</p>\n" for i in range(400))).encode()
APP_JS = b"function app() { return 'identity file'; }\n" * 100
APP_JS_GZ_SOURCE = b"// the precompressed sibling\n" * 200
SKIPPED = []


def decode(coding, body):
    if coding == "gzip":
        return gzip.decompress(body)
    if coding == "br":
        if brotli is None:
            SKIPPED.append("br decode (python3-brotli not installed)")
            return None
        return brotli.decompress(body)
    if coding == "zstd":
        if zstandard is None:
            SKIPPED.append("zstd decode (python3-zstandard not installed)")
            return None
        # A streamed frame has no content size: the one-shot decompress() refuses it.
        return zstandard.ZstdDecompressor().decompressobj().decompress(body)
    return body


class Server:
    def __init__(self, binary, root):
        self.dir = root
        www = os.path.join(root, "www")
        os.makedirs(www)
        self.www = www
        self.files = {
            "page.html": PAGE,
            "tiny.txt": b"small\n",
            "app.js": APP_JS,
            "img.png": b"\x89PNG\r\n\x1a\n" + bytes(4000),
            "pic.svgz": gzip.compress(b"<svg/>" * 500),
        }
        for name, data in self.files.items():
            with open(os.path.join(www, name), "wb") as f:
                f.write(data)
        with open(os.path.join(www, "app.js.gz"), "wb") as f:
            f.write(gzip.compress(APP_JS_GZ_SOURCE))
        # A sibling older than its file is stale: not served.
        with open(os.path.join(www, "page.html.gz"), "wb") as f:
            f.write(gzip.compress(b"stale sibling"))
        old = time.time() - 3600
        os.utime(os.path.join(www, "page.html.gz"), (old, old))
        # 20 MiB of text: above the on-the-fly limit; its .gz sibling is sent with sendfile.
        line = b"a line of a big compressible text file, number %08d\n"
        with open(os.path.join(www, "big.txt"), "wb") as f:
            for i in range(20 * 1024 * 1024 // len(line % 0)):
                f.write(line % i)
        with open(os.path.join(www, "big.txt"), "rb") as f:
            self.big = f.read()
        with open(os.path.join(www, "big.txt.gz"), "wb") as f:
            f.write(gzip.compress(self.big, 1))
        with open(os.path.join(www, "big.txt.gz"), "rb") as f:
            self.big_gz = f.read()
        # 1 MiB of text: the largest file compressed on the fly, sent over TLS below.
        self.mib = b"".join(b"line %07d of one mebibyte of text\n" % i
                            for i in range(40000))[:1 << 20]
        with open(os.path.join(www, "mib.txt"), "wb") as f:
            f.write(self.mib)
        # A self-signed certificate for the TLS site (openssl, as the shell tests make theirs).
        self.cert = os.path.join(root, "tls.crt")
        self.key = os.path.join(root, "tls.key")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj",
                        "/CN=tls.test", "-addext", "subjectAltName=DNS:tls.test",
                        "-keyout", self.key, "-out", self.cert],
                       check=True, capture_output=True, timeout=30)
        # The big file compressed as it is sent: text with some variety (a plain repetition
        # would compress 1000:1 and hide a coder that buffers the body).
        self.huge_mib = int(os.environ.get("BWS_COMPRESS_BIG_MIB", "100"))
        self.huge_path = os.path.join(www, "huge.txt")
        digest = hashlib.sha256()
        with open(self.huge_path, "wb") as f:
            block = b"".join(b"%08x GET /item/%d HTTP/1.1 200 %d\n" % (i * 2654435761 % 2**32, i, i % 977)
                             for i in range(32768))
            written = 0
            while written < self.huge_mib << 20:
                part = block[:(self.huge_mib << 20) - written]
                f.write(part)
                digest.update(part)
                written += len(part)
        self.huge_sha = digest.hexdigest()
        self.port, self.plain_port, self.tls_port = free_ports(3)
        self.pid_file = os.path.join(root, "bws.pid")
        self.config = os.path.join(root, "bws.toml")
        with open(self.config, "w") as f:
            f.write(f"""
[server]
workers = 1
[daemon]
pid_file = "{self.pid_file}"
[logging]
level = "info"
access_log_format = "json"

[[sites]]
name = "main"
hostname = "localhost"
port = {self.port}
bind = "127.0.0.1"
static_dir = "{www}"
[sites.compression]
min_size = "1KB"
precompressed = true

[[sites]]
name = "plain"
hostname = "localhost"
port = {self.plain_port}
bind = "127.0.0.1"
static_dir = "{www}"

[[sites]]
name = "tls"
hostname = "tls.test"
port = {self.tls_port}
bind = "127.0.0.1"
static_dir = "{www}"
[sites.ssl]
enabled = true
cert_file = "{self.cert}"
key_file = "{self.key}"
[sites.compression]
algorithms = ["gzip", "br"]
""")
        self.bws = Bws(binary, root, self.config, self.pid_file)

    def get(self, target, ae=None, method="GET", headers=None, port=None):
        h = dict(headers or {})
        if ae is not None:
            h["Accept-Encoding"] = ae
        return http(port or self.port, target, method=method, headers=h)

    def tls_get(self, target, ae):
        ctx = ssl.create_default_context(cafile=self.cert)
        raw = socket.create_connection((LOOPBACK, self.tls_port), timeout=TIMEOUT)
        conn = Connection(ctx.wrap_socket(raw, server_hostname="tls.test"))
        try:
            return conn.request("GET", target, "tls.test", headers={"Accept-Encoding": ae},
                                close=True)
        finally:
            conn.close()

    def worker_rss_kib(self):
        pids = self.bws.workers()
        expect_eq(len(pids), 1, "workers")
        with open(f"/proc/{pids[0]}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise CheckFailed("no VmRSS")

    def stop(self):
        return self.bws.stop()


CHECKS = []


def check(fn):
    CHECKS.append((fn.__name__, fn))
    return fn


def expect_encoded(r, coding, original, what):
    expect_eq(r.status, 200, f"{what}: status")
    expect_eq(r.header("content-encoding"), coding, f"{what}: Content-Encoding")
    expect_eq(r.header("vary"), "Accept-Encoding", f"{what}: Vary")
    expect_eq(int(r.header("content-length")), len(r.body), f"{what}: Content-Length")
    decoded = decode(coding, r.body)
    if decoded is not None:
        expect(decoded == original, f"{what}: the decoded body differs")


@check
def codings_follow_server_order_and_q_values(s):
    expect_encoded(s.get("/page.html", "gzip, deflate, br, zstd"), "br", PAGE, "browser")
    expect_encoded(s.get("/page.html", "gzip"), "gzip", PAGE, "gzip only")
    expect_encoded(s.get("/page.html", "zstd, gzip"), "zstd", PAGE, "zstd before gzip")
    expect_encoded(s.get("/page.html", "br;q=0.5, gzip"), "gzip", PAGE, "q")
    expect_encoded(s.get("/page.html", "*"), "br", PAGE, "star")
    expect_encoded(s.get("/page.html", "identity;q=0, gzip"), "gzip", PAGE, "identity;q=0")
    for ae in (None, "", "deflate", "br;q=0, gzip;q=0, zstd;q=0", "gzip;q=0.5, identity"):
        r = s.get("/page.html", ae)
        expect_eq(r.status, 200, f"{ae!r}: status")
        expect_eq(r.header("content-encoding"), None, f"{ae!r}: Content-Encoding")
        expect_eq(r.header("vary"), "Accept-Encoding", f"{ae!r}: Vary")
        expect(r.body == PAGE, f"{ae!r}: identity body")


@check
def nothing_acceptable_is_406(s):
    for ae in ("identity;q=0", "*;q=0", "identity;q=0, deflate"):
        r = s.get("/page.html", ae)
        expect_eq(r.status, 406, f"{ae}: status")
        expect_eq(r.header("vary"), "Accept-Encoding", f"{ae}: Vary")
    # Below min_size nothing is compressed: identity is all there is.
    expect_eq(s.get("/tiny.txt", "identity;q=0, gzip").status, 406, "tiny.txt")
    r = s.get("/tiny.txt", "gzip")
    expect_eq((r.status, r.header("content-encoding"), r.body), (200, None, b"small\n"), "tiny")


@check
def variants_have_their_own_etags_and_304s(s):
    identity = s.get("/page.html").header("etag")
    tags = {c: s.get("/page.html", c).header("etag") for c in ("br", "gzip", "zstd")}
    expect(len(set(tags.values()) | {identity}) == 4, f"ETags not distinct: {identity} {tags}")
    for c, tag in tags.items():
        expect_eq(tag, identity[:-1] + "-" + c + '"', f"{c} ETag")
        r = s.get("/page.html", c, headers={"If-None-Match": tag})
        expect_eq(r.status, 304, f"{c}: 304")
        expect_eq(r.header("etag"), tag, f"{c}: 304 ETag")
        expect_eq(r.header("vary"), "Accept-Encoding", f"{c}: 304 Vary")
    # The gzip variant's tag does not validate the br variant, nor the identity file.
    expect_eq(s.get("/page.html", "br", headers={"If-None-Match": tags["gzip"]}).status, 200,
              "another variant's tag")
    r = s.get("/page.html", headers={"If-None-Match": identity})
    expect_eq((r.status, r.header("vary")), (304, "Accept-Encoding"), "identity 304")


@check
def precompressed_siblings_are_served(s):
    r = s.get("/app.js", "gzip, br")  # br has no sibling: on the fly
    expect_encoded(r, "br", APP_JS, "app.js br on the fly")
    r = s.get("/app.js", "gzip")
    expect_encoded(r, "gzip", APP_JS_GZ_SOURCE, "app.js.gz sibling")
    expect_eq(r.header("content-type"), "application/javascript; charset=utf-8", "Content-Type")
    tag = r.header("etag")
    expect(tag.endswith('-gzip"') and tag != s.get("/app.js").header("etag"), f"ETag {tag}")
    expect_eq(s.get("/app.js", "gzip", headers={"If-None-Match": tag}).status, 304, "304")
    # Range applies to the sibling, as with nginx's gzip_static.
    with open(os.path.join(s.www, "app.js.gz"), "rb") as f:
        sibling = f.read()
    r = s.get("/app.js", "gzip", headers={"Range": "bytes=0-9"})
    expect_eq((r.status, r.header("content-encoding")), (206, "gzip"), "206 of the sibling")
    expect_eq(r.body, sibling[:10], "sibling bytes")
    # A stale sibling (older than its file) is ignored.
    expect_encoded(s.get("/page.html", "gzip"), "gzip", PAGE, "stale page.html.gz")
    # The sibling itself is still an ordinary file.
    expect_eq(s.get("/app.js.gz").body, sibling, "GET /app.js.gz")


@check
def range_and_no_transform_get_the_identity_file(s):
    r = s.get("/page.html", "gzip, br", headers={"Range": "bytes=0-99"})
    expect_eq((r.status, r.header("content-encoding")), (206, None), "Range")
    expect_eq(r.body, PAGE[:100], "range bytes")
    expect_eq(r.header("vary"), "Accept-Encoding", "Range: Vary")
    r = s.get("/page.html", "gzip", headers={"Cache-Control": "no-transform"})
    expect_eq((r.status, r.header("content-encoding"), r.body), (200, None, PAGE), "no-transform")
    expect_eq(r.header("vary"), "Accept-Encoding", "no-transform: Vary")
    # Identity refused: the whole compressed body rather than a 406.
    r = s.get("/page.html", "identity;q=0, gzip", headers={"Range": "bytes=0-99"})
    expect_encoded(r, "gzip", PAGE, "Range with identity refused")


@check
def head_matches_get(s):
    for ae in ("br", "gzip", None):
        g = s.get("/page.html", ae)
        h = s.get("/page.html", ae, method="HEAD")
        expect_eq(h.status, 200, f"{ae}: HEAD status")
        for name in ("content-length", "content-encoding", "etag", "vary", "content-type"):
            expect_eq(h.header(name), g.header(name), f"{ae}: HEAD {name}")


@check
def other_types_and_sites_are_untouched(s):
    for target in ("/img.png", "/pic.svgz"):
        r = s.get(target, "gzip, br")
        expect_eq((r.header("content-encoding"), r.header("vary")), (None, None), target)
        expect(r.body == s.files[target[1:]], f"{target}: body")
    r = s.get("/page.html", "gzip, br", port=s.plain_port)
    expect_eq((r.header("content-encoding"), r.header("vary")), (None, None), "plain site")


@check
def a_tls_site_compresses_too(s):
    expect_encoded(s.tls_get("/page.html", "br, gzip"), "gzip", PAGE, "TLS page.html")
    expect_encoded(s.tls_get("/mib.txt", "br"), "br", s.mib, "TLS 1 MiB br")
    r = s.tls_get("/mib.txt", "zstd")  # not in this site's algorithms
    expect_eq((r.header("content-encoding"), r.header("vary")), (None, "Accept-Encoding"), "zstd")
    expect(r.body == s.mib, "TLS identity body")
    expect_encoded(s.get("/mib.txt", "gzip"), "gzip", s.mib, "plain 1 MiB gzip")
    # Above the cache's 1 MiB: compressed as it is sent, through the TLS stream's buffered path.
    r = s.tls_get("/big.txt", "br")
    expect_eq((r.status, r.header("content-encoding"), r.header("transfer-encoding")),
              (200, "br", "chunked"), "TLS 20 MiB br")
    decoded = decode("br", r.body)
    if decoded is not None:
        expect(decoded == s.big, "TLS 20 MiB br: the decoded body differs")


@check
def access_log_counts_the_bytes_sent(s):
    target = f"/page.html?log={time.monotonic_ns()}"
    r = s.get(target, "gzip")
    expect_eq(r.header("content-encoding"), "gzip", "encoding")

    def record():
        for line in s.bws.log().splitlines():
            if line.startswith("{") and f'"target":"{target}"' in line:
                return json.loads(line)
        return None
    rec = wait_until(record, 3)
    expect(rec is not None, "no access log line")
    expect_eq(rec["bytes"], len(r.body), "bytes")


@check
def a_20_mib_file_keeps_worker_memory_flat(s):
    before = s.worker_rss_kib()
    r = s.get("/big.txt", "gzip")
    expect_eq(r.header("content-encoding"), "gzip", "big.txt.gz sibling")
    expect(r.body == s.big_gz, "sibling body")
    r = s.get("/big.txt", "identity")
    expect_eq((r.header("content-encoding"), r.header("vary")), (None, "Accept-Encoding"), "big")
    expect(r.body == s.big, "identity body")
    grown = s.worker_rss_kib() - before
    print(f"  worker RSS {before} KiB before, grew {grown} KiB over two 20 MiB responses")
    expect(grown < 8 * 1024, f"worker RSS grew {grown} KiB")


@check
def large_files_are_compressed_as_they_are_sent(s):
    identity_tag = s.get("/big.txt", method="HEAD").header("etag")
    for coding in ("br", "zstd"):  # big.txt has only a .gz sibling
        r = s.get("/big.txt", coding)
        expect_eq((r.status, r.header("content-encoding")), (200, coding), f"{coding}: encoding")
        expect_eq(r.header("transfer-encoding"), "chunked", f"{coding}: Transfer-Encoding")
        expect_eq((r.header("content-length"), r.header("accept-ranges")), (None, None),
                  f"{coding}: no length, no ranges")
        expect_eq(r.header("vary"), "Accept-Encoding", f"{coding}: Vary")
        tag = r.header("etag")
        expect_eq(tag, identity_tag[:-1] + "-" + coding + '"', f"{coding}: ETag")
        decoded = decode(coding, r.body)
        if decoded is not None:
            expect(decoded == s.big, f"{coding}: the decoded body differs")
        expect(len(r.body) < len(s.big) // 4, f"{coding}: {len(r.body)} bytes: not compressed")
        expect_eq(s.get("/big.txt", coding, headers={"If-None-Match": tag}).status, 304,
                  f"{coding}: 304")
        h = s.get("/big.txt", coding, method="HEAD")
        expect_eq((h.status, h.header("content-encoding"), h.header("transfer-encoding"),
                   h.header("content-length"), h.body), (200, coding, "chunked", None, b""),
                  f"{coding}: HEAD")
    # A Range gets the identity file's bytes; an HTTP/1.0 client (no chunked framing) the
    # identity file with its length.
    r = s.get("/big.txt", "br", headers={"Range": "bytes=100-199"})
    expect_eq((r.status, r.header("content-encoding"), r.body), (206, None, s.big[100:200]),
              "Range")
    with socket.create_connection((LOOPBACK, s.port), timeout=TIMEOUT) as c:
        c.sendall(b"GET /big.txt HTTP/1.0\r\nHost: localhost\r\nAccept-Encoding: br\r\n\r\n")
        raw = b""
        while True:
            data = c.recv(1 << 20)
            if not data:
                break
            raw += data
    head, _, body = raw.partition(b"\r\n\r\n")
    head = head.decode("latin-1").lower()
    expect("content-encoding" not in head and "transfer-encoding" not in head, f"1.0: {head}")
    expect(f"content-length: {len(s.big)}" in head and body == s.big, "1.0: identity body")
    # The same connection goes on after a streamed body (the last chunk ended it).
    conn = Connection(socket.create_connection((LOOPBACK, s.port), timeout=TIMEOUT))
    try:
        first = conn.request("GET", "/big.txt", "localhost", headers={"Accept-Encoding": "zstd"})
        second = conn.request("GET", "/tiny.txt", "localhost")
    finally:
        conn.close()
    expect_eq((first.header("transfer-encoding"), second.status, second.body),
              ("chunked", 200, b"small\n"), "keep-alive after a streamed body")


def worker_peak_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise CheckFailed("no VmHWM")


@check
def a_100_mib_file_is_compressed_with_flat_worker_memory(s):
    decoders = {"gzip": lambda: zlib.decompressobj(16 + 15).decompress}
    if brotli is not None:
        decoders["br"] = lambda: brotli.Decompressor().process
    else:
        SKIPPED.append("100 MiB br (python3-brotli not installed)")
    if zstandard is not None:
        decoders["zstd"] = lambda: zstandard.ZstdDecompressor().decompressobj().decompress
    else:
        SKIPPED.append("100 MiB zstd (python3-zstandard not installed)")
    pid = s.bws.workers()[0]
    size = s.huge_mib << 20
    for coding, make in decoders.items():
        # Reset the worker's peak RSS to its current RSS (proc(5), clear_refs "5").
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        before = worker_peak_kib(pid)
        conn = HTTPConnection(LOOPBACK, s.port, timeout=TIMEOUT)
        try:
            conn.request("GET", "/huge.txt", headers={"Accept-Encoding": coding})
            r = conn.getresponse()
            expect_eq((r.status, r.getheader("content-encoding"), r.getheader("transfer-encoding")),
                      (200, coding, "chunked"), f"{coding}: head")
            feed, digest, wire, decoded = make(), hashlib.sha256(), 0, 0
            while True:
                block = r.read(1 << 16)
                if not block:
                    break
                wire += len(block)
                out = feed(block)
                decoded += len(out)
                digest.update(out)
        finally:
            conn.close()
        grown = worker_peak_kib(pid) - before
        print(f"  {coding}: {s.huge_mib} MiB sent as {wire >> 10} KiB; worker peak RSS "
              f"{before} KiB, grew {grown} KiB")
        expect_eq(decoded, size, f"{coding}: decoded size")
        expect_eq(digest.hexdigest(), s.huge_sha, f"{coding}: decoded sha256")
        expect(wire < size // 3, f"{coding}: {wire} bytes on the wire")
        expect(grown < 16 * 1024, f"{coding}: worker peak RSS grew {grown} KiB")


def print_skipped():
    for what in sorted(set(SKIPPED)):
        print(f"SKIP {what}")


def main():
    return run_checks(CHECKS, Server, "bws-compression-it-", after=print_skipped)


if __name__ == "__main__":
    sys.exit(main())
