#!/usr/bin/python3
"""[sites.cache] end to end: Cache-Control rules, the static/dynamic defaults, Expires,
validators turned off, and what never gets caching headers; the real bws binary on loopback.

Usage: cache_test.py --bws PATH [--keep] [-k SUBSTRING]

Two sites on one port: "app" ([sites.cache] with rules and expires, precompressed files, a
proxied route to a backend.py upstream) and "bare" (etag_enabled and last_modified_enabled
off). Each check prints PASS or FAIL; exit status 1 when any failed.
"""

import email.utils
import gzip
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from bws_harness import (Bws, CheckFailed, die_with_parent, expect, expect_eq,  # noqa: E402
                         free_ports, http, run_checks)

BACKEND = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "proxy", "backend.py")
IMMUTABLE = "public, max-age=31536000, immutable"


class Server:
    def __init__(self, binary, root):
        self.binary = binary
        self.dir = root
        www = os.path.join(root, "www")
        self.www = www
        for sub in ("assets", "assets2", "docs", "bare"):
            os.makedirs(os.path.join(www if sub != "bare" else root, sub), exist_ok=True)
        files = {
            "index.html": b"<h1>home</h1>",
            "assets/app.js": b"console.log(1)",
            "assets/page.html": b"<p>asset page</p>",
            "assets2/app.js": b"not under /assets/",
            "style.css": b"body{color:red}" * 100,
            "logo.PNG": b"\x89PNG",
            "data.json": b"{}",
            "docs/a.txt": b"a",
            "../bare/f.txt": b"bare",
        }
        for name, data in files.items():
            with open(os.path.join(www, name), "wb") as f:
                f.write(data)
        # A precompressed sibling, written after the file it belongs to (so not older).
        with open(os.path.join(www, "style.css.gz"), "wb") as f:
            f.write(gzip.compress(files["style.css"]))
        self.port, backend_port = free_ports(2)
        self.backend = subprocess.Popen([sys.executable, BACKEND, str(backend_port), "up"],
                                        cwd=root, stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, preexec_fn=die_with_parent)
        if self.backend.stdout.readline().strip() != b"ready":
            raise CheckFailed("backend did not start")
        self.pid_file = os.path.join(root, "bws.pid")
        self.config = os.path.join(root, "bws.toml")
        with open(self.config, "w") as f:
            f.write(f"""
[server]
workers = 1
[daemon]
pid_file = "{self.pid_file}"

[[sites]]
name = "app"
hostname = "app.test"
port = {self.port}
bind = "127.0.0.1"
static_dir = "{www}"
enable_directory_listing = true
[sites.compression]
precompressed = true
[sites.cache]
max_age_static = "2h"
max_age_dynamic = "1m"
expires = true
[[sites.cache.rules]]
match = "*.html"
cache_control = "no-cache"
[[sites.cache.rules]]
match = ["/assets/", "/fonts/*.woff2"]
cache_control = "{IMMUTABLE}"
[sites.proxy]
enabled = true
[[sites.proxy.upstreams]]
name = "up"
url = "http://127.0.0.1:{backend_port}"
[[sites.proxy.routes]]
path = "/api"
upstream = "up"

[[sites]]
name = "bare"
hostname = "bare.test"
port = {self.port}
bind = "127.0.0.1"
static_dir = "{os.path.join(root, "bare")}"
[sites.cache]
etag_enabled = false
last_modified_enabled = false
""")
        self.bws = Bws(binary, root, self.config, self.pid_file)

    def get(self, target, host="app.test", method="GET", headers=None):
        return http(self.port, target, host=host, method=method, headers=headers)

    def stop(self):
        if self.backend.poll() is None:
            self.backend.kill()
            self.backend.wait(5)
        return self.bws.stop()


def one(r, name):
    """The value of a header that must appear exactly once."""
    count = sum(1 for line in r.raw_head.split("\r\n")[1:]
                if line.split(":", 1)[0].strip().lower() == name.lower())
    expect(count <= 1, f"{name} appears {count} times:\n{r.raw_head}")
    return r.header(name)


def expect_expires_in(r, seconds, what):
    """Expires is Date + `seconds` (give or take the second Date was formatted in)."""
    expect(r.header("expires") is not None, f"{what}: no Expires:\n{r.raw_head}")
    date = email.utils.parsedate_to_datetime(r.header("date"))
    expires = email.utils.parsedate_to_datetime(r.header("expires"))
    delta = (expires - date).total_seconds()
    expect(abs(delta - seconds) <= 1, f"{what}: Expires - Date = {delta}, not {seconds}")


def check_rules_in_file_order(s):
    expect_eq(one(s.get("/assets/app.js"), "cache-control"), IMMUTABLE, "/assets/ prefix")
    # *.html comes first in the file: it wins over /assets/.
    expect_eq(one(s.get("/assets/page.html"), "cache-control"), "no-cache", "first rule wins")
    expect_eq(one(s.get("/"), "cache-control"), "no-cache", "/ is index.html: *.html")
    # /assets2/ is not beneath /assets/: the class default (js is "static": max_age_static).
    expect_eq(one(s.get("/assets2/app.js"), "cache-control"), "public, max-age=7200",
              "segment boundary")


def check_static_and_dynamic_defaults(s):
    r = s.get("/logo.PNG")
    expect_eq(one(r, "cache-control"), "public, max-age=7200", "png is static (any case)")
    expect_expires_in(r, 7200, "Expires = Date + max_age_static")
    r = s.get("/data.json")
    expect_eq(one(r, "cache-control"), "public, max-age=60", "json is dynamic")
    expect_expires_in(r, 60, "Expires = Date + max_age_dynamic")
    r = s.get("/assets/app.js")
    expect_expires_in(r, 31536000, "Expires from the rule's max-age")
    expect(one(s.get("/index.html"), "expires") is None, "no-cache: no max-age, no Expires")


def check_304_206_head_carry_the_same(s):
    full = s.get("/assets/app.js")
    etag = full.header("etag")
    expect(etag is not None, "ETag on the 200")
    r = s.get("/assets/app.js", headers={"If-None-Match": etag})
    expect_eq(r.status, 304, "If-None-Match")
    expect_eq(one(r, "cache-control"), IMMUTABLE, "304 Cache-Control")
    expect_expires_in(r, 31536000, "304 Expires")
    r = s.get("/assets/app.js", headers={"If-Modified-Since": full.header("last-modified")})
    expect_eq((r.status, one(r, "cache-control")), (304, IMMUTABLE), "If-Modified-Since 304")
    r = s.get("/assets/app.js", headers={"Range": "bytes=0-3"})
    expect_eq((r.status, r.body), (206, b"cons"), "Range")
    expect_eq(one(r, "cache-control"), IMMUTABLE, "206 Cache-Control")
    expect(r.header("expires") is not None, "206 Expires")
    r = s.get("/assets/app.js", method="HEAD")
    expect_eq((r.status, one(r, "cache-control")), (200, IMMUTABLE), "HEAD")


def check_compressed_variants(s):
    r = s.get("/style.css", headers={"Accept-Encoding": "gzip"})
    expect_eq((r.status, r.header("content-encoding")), (200, "gzip"), "precompressed sibling")
    expect_eq(one(r, "cache-control"), "public, max-age=7200", "sibling: the file's header")
    r = s.get("/style.css", headers={"Accept-Encoding": "br"})
    expect_eq((r.status, r.header("content-encoding")), (200, "br"), "compressed on the fly")
    expect_eq(one(r, "cache-control"), "public, max-age=7200", "on the fly: the file's header")
    r = s.get("/style.css", headers={"Accept-Encoding": "br", "If-None-Match": r.header("etag")})
    expect_eq((r.status, one(r, "cache-control")), (304, "public, max-age=7200"), "its 304")


def check_none_where_they_do_not_belong(s):
    for target, status in (("/missing.css", 404), ("/docs", 301)):
        r = s.get(target)
        expect_eq(r.status, status, target)
        expect(r.header("cache-control") is None and r.header("expires") is None,
               f"{target}: no caching headers:\n{r.raw_head}")
    r = s.get("/assets/app.js", headers={"If-Match": '"other"'})
    expect_eq((r.status, r.header("cache-control")), (412, None), "412")
    r = s.get("/assets/app.js", headers={"Range": "bytes=999-"})
    expect_eq((r.status, r.header("cache-control")), (416, None), "416")
    r = s.get("/docs/")
    expect_eq((r.status, one(r, "cache-control"), r.header("expires")), (200, "no-cache", None),
              "a directory listing")
    r = s.get("/api/thing")
    expect_eq(r.status, 200, "proxied")
    expect(b'"up"' in r.body, f"answered by the upstream: {r.body[:200]!r}")
    expect(r.header("cache-control") is None and r.header("expires") is None,
           f"proxied responses keep the upstream's caching:\n{r.raw_head}")
    r = s.get("/health")
    expect(r.header("cache-control") == "no-store", f"/health keeps no-store:\n{r.raw_head}")


def check_validators_turned_off(s):
    r = s.get("/f.txt", host="bare.test")
    expect_eq((r.status, r.body), (200, b"bare"), "the bare site")
    expect(r.header("etag") is None, f"etag_enabled = false: no ETag:\n{r.raw_head}")
    expect(r.header("last-modified") is None, "last_modified_enabled = false: no Last-Modified")
    expect_eq(one(r, "cache-control"), "public, max-age=300", "the original's dynamic default")
    # Each of these would be a 304 or a 412 with the validators on.
    now = email.utils.formatdate(time.time(), usegmt=True)
    for name, value in (("If-None-Match", "*"), ("If-Modified-Since", now), ("If-Match", '"x"'),
                        ("If-Unmodified-Since", "Thu, 01 Jan 1970 00:00:00 GMT")):
        expect_eq(s.get("/f.txt", host="bare.test", headers={name: value}).status, 200,
                  f"{name} ignored")
        expect(s.get("/data.json", headers={name: value}).status in (304, 412),
               f"{name} is evaluated on a site with the validators on")


def check_config_errors(s):
    bad = os.path.join(s.dir, "bad.toml")
    with open(bad, "w") as f:
        f.write(f"""[[sites]]
name = "x"
hostname = "x.test"
port = {s.port}
static_dir = "{s.www}"
[sites.cache]
max_age_dynamic = "2d"
[[sites.cache.rules]]
match = "/a/../b/"
max_age = 60
[[sites.cache.rules]]
match = "*.js"
max_age = 60
cache_control = "no-cache"
""")
    out = subprocess.run([s.binary, "--config-check", bad], capture_output=True, text=True,
                         timeout=30)
    expect_eq(out.returncode, 1, "--config-check exit status")
    expect(f"{bad}:9:9:" in out.stderr and "not a normal URL path" in out.stderr,
           "bad pattern at FILE:LINE:COL: " + out.stderr)
    expect(f"{bad}:13:11:" in out.stderr and "not both" in out.stderr,
           "max_age with cache_control: " + out.stderr)
    expect(f"{bad}:7:19:" in out.stderr and "more than a day" in out.stderr,
           "the warning: " + out.stderr)


CHECKS = [(f.__name__[len("check_"):], f) for f in (
    check_rules_in_file_order, check_static_and_dynamic_defaults,
    check_304_206_head_carry_the_same, check_compressed_variants,
    check_none_where_they_do_not_belong, check_validators_turned_off, check_config_errors)]


def main():
    return run_checks(CHECKS, Server, "bws-cache-it-")


if __name__ == "__main__":
    sys.exit(main())
