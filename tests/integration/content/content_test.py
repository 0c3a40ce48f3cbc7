#!/usr/bin/python3
"""Directory listings, the single-page-app fallback, CORS and security headers end to end:
the real bws binary on loopback.

Usage: content_test.py --bws PATH [--keep] [-k SUBSTRING]

Two sites on one port: "app" (listing, fallback, [sites.access_control], its own security
headers) and "plain" (none of them, security headers turned off), with [security]
hide_server_header and security_headers = true. Each check prints PASS or FAIL; exit status 1
when any failed.
"""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from bws_harness import (Bws, expect, expect_eq, free_ports, http, run_checks)  # noqa: E402

ORIGIN = "https://app.example.com"


class Server:
    def __init__(self, binary, root):
        self.binary = binary
        self.dir = root
        www = os.path.join(root, "www")
        self.www = www
        os.makedirs(os.path.join(www, "pub", "docs"))
        os.makedirs(os.path.join(root, "plain"))
        files = {
            "index.html": b"<h1>spa shell</h1>",
            "pub/b.txt": b"bbbb",
            "pub/a&<x>.txt": b"a",
            "pub/.hidden": b"secret",
            "app.js": b"js",
            ".env": b"SECRET=1",
            "../plain/index.html": b"plain site",
        }
        for name, data in files.items():
            with open(os.path.join(www, name), "wb") as f:
                f.write(data)
        os.symlink(os.path.join(root, "plain", "index.html"), os.path.join(www, "pub", "out"))
        self.port, = free_ports(1)
        self.pid_file = os.path.join(root, "bws.pid")
        self.config = os.path.join(root, "bws.toml")
        with open(self.config, "w") as f:
            f.write(f"""
[server]
workers = 1
[daemon]
pid_file = "{self.pid_file}"
[security]
hide_server_header = true
security_headers = true

[[sites]]
name = "app"
hostname = "app.test"
port = {self.port}
bind = "127.0.0.1"
static_dir = "{www}"
enable_directory_listing = true
fallback = "/index.html"
[sites.security_headers]
X-Frame-Options = "DENY"
Permissions-Policy = ""
[sites.access_control]
allow_origins = ["{ORIGIN}", "https://*.example.org"]
allow_methods = ["GET", "PUT"]
allow_headers = ["Content-Type", "X-Token"]
expose_headers = ["ETag"]
allow_credentials = true
max_age = "10m"

[[sites]]
name = "plain"
hostname = "plain.test"
port = {self.port}
bind = "127.0.0.1"
static_dir = "{os.path.join(root, "plain")}"
security_headers = false
""")
        self.bws = Bws(binary, root, self.config, self.pid_file)

    def get(self, target, host="app.test", method="GET", headers=None):
        return http(self.port, target, host=host, method=method, headers=headers)

    def stop(self):
        return self.bws.stop()


def check_listing_html(s):
    r = s.get("/pub/")
    expect_eq(r.status, 200, "GET /pub/")
    expect_eq(r.header("content-type"), "text/html; charset=utf-8", "listing type")
    page = r.body.decode()
    expect(page.index('href="docs/"') < page.index('href="a%26%3Cx%3E.txt"')
           < page.index('href="b.txt"'), "directories first, then files by name:\n" + page)
    expect("a&amp;&lt;x&gt;.txt" in page, "names are HTML-escaped")
    expect(".hidden" not in page, "hidden names are not listed")
    expect('href="out"' not in page, "a symlink leaving the root is not listed")
    expect_eq(s.get("/pub/.hidden").status, 404, "and the hidden file is not served")
    expect_eq(s.get("/pub/", host="plain.test").status, 404, "listing is per site")


def check_listing_json(s):
    r = s.get("/pub/", headers={"Accept": "application/json"})
    expect_eq(r.status, 200, "JSON listing")
    expect_eq(r.header("content-type"), "application/json", "JSON type")
    doc = json.loads(r.body)
    names = [item["name"] for item in doc["items"]]
    expect_eq(names, ["docs", "a&<x>.txt", "b.txt"], "JSON entries")
    expect_eq(doc["items"][2]["size"], 4, "size")
    head = s.get("/pub/", method="HEAD", headers={"Accept": "application/json"})
    expect_eq(head.header("content-length"), str(len(r.body)), "HEAD length")
    expect_eq(head.body, b"", "HEAD body")


def check_fallback(s):
    r = s.get("/users/42/settings")
    expect_eq((r.status, r.body), (200, b"<h1>spa shell</h1>"), "an app route")
    expect_eq(r.header("content-type"), "text/html; charset=utf-8", "fallback type")
    etag = r.header("etag")
    expect_eq(s.get("/other", headers={"If-None-Match": etag}).status, 304, "fallback 304")
    expect_eq(s.get("/app.js").body, b"js", "existing files are served as themselves")
    expect_eq(s.get("/missing.js").status, 404, "a missing asset keeps its 404")
    expect_eq(s.get("/.env").status, 404, "hidden paths never fall back")
    expect_eq(s.get("/route", host="plain.test").status, 404, "no fallback on the other site")


def check_cors_preflight(s):
    ask = {"Origin": ORIGIN, "Access-Control-Request-Method": "PUT",
           "Access-Control-Request-Headers": "content-type, x-token"}
    r = s.get("/api/items", method="OPTIONS", headers=ask)
    expect_eq(r.status, 204, "preflight status")
    expect_eq(r.header("access-control-allow-origin"), ORIGIN, "allow-origin echoed")
    expect_eq(r.header("access-control-allow-methods"), "GET, PUT", "allow-methods")
    expect_eq(r.header("access-control-allow-headers"), "Content-Type, X-Token", "allow-headers")
    expect_eq(r.header("access-control-max-age"), "600", "max-age")
    expect_eq(r.header("access-control-allow-credentials"), "true", "credentials")
    expect("Origin" in (r.header("vary") or ""), "Vary names Origin")
    sub = dict(ask, Origin="https://a.b.example.org")
    expect_eq(s.get("/x", method="OPTIONS", headers=sub).header("access-control-allow-origin"),
              "https://a.b.example.org", "a wildcard subdomain")
    for name, bad in (("origin", dict(ask, Origin="https://evil.test")),
                      ("method", dict(ask, **{"Access-Control-Request-Method": "DELETE"})),
                      ("header", dict(ask, **{"Access-Control-Request-Headers": "x-other"}))):
        r = s.get("/api/items", method="OPTIONS", headers=bad)
        expect_eq(r.status, 204, f"refused {name}: status")
        expect(r.header("access-control-allow-origin") is None,
               f"refused {name}: no Allow-Origin: {r.raw_head}")
    expect_eq(s.get("/", host="plain.test", method="OPTIONS", headers=ask).status, 405,
              "a site without CORS does not answer preflights")


def check_cors_actual(s):
    r = s.get("/app.js", headers={"Origin": ORIGIN})
    expect_eq(r.status, 200, "GET with Origin")
    expect_eq(r.header("access-control-allow-origin"), ORIGIN, "allow-origin")
    expect_eq(r.header("access-control-expose-headers"), "ETag", "expose-headers")
    expect_eq(r.header("vary"), "Origin", "Vary")
    r = s.get("/app.js", headers={"Origin": "https://evil.test"})
    expect(r.header("access-control-allow-origin") is None, "a disallowed origin gets none")
    expect_eq(r.header("vary"), "Origin", "but still Vary")
    r = s.get("/nothing.js", headers={"Origin": ORIGIN})
    expect_eq((r.status, r.header("access-control-allow-origin")), (404, ORIGIN),
              "error responses carry CORS too")


def check_security_headers(s):
    r = s.get("/app.js")
    expect_eq(r.header("x-content-type-options"), "nosniff", "a default")
    expect_eq(r.header("x-frame-options"), "DENY", "the site's override")
    expect(r.header("permissions-policy") is None, "a default the site dropped")
    expect("frame-ancestors 'self'" in (r.header("content-security-policy") or ""), "CSP")
    expect(r.header("server") is None, "hide_server_header")
    r404 = s.get("/missing.js")
    expect_eq(r404.header("referrer-policy"), "strict-origin-when-cross-origin",
              "on error pages too")
    p = s.get("/", host="plain.test")
    expect_eq(p.body, b"plain site", "the other site")
    for name in ("x-content-type-options", "x-frame-options", "content-security-policy"):
        expect(p.header(name) is None, f"security_headers = false: no {name}")


def check_config_errors(s):
    bad = os.path.join(s.dir, "bad.toml")
    with open(bad, "w") as f:
        f.write(f"""[[sites]]
name = "x"
hostname = "x.test"
port = {s.port}
static_dir = "{s.www}"
[sites.access_control]
allow_origins = ["*"]
allow_credentials = true
""")
    out = subprocess.run([s.binary, "--config-check", bad], capture_output=True, text=True,
                         timeout=30)
    expect_eq(out.returncode, 1, "--config-check exit status")
    expect(f"{bad}:8:21:" in out.stderr and "allow_credentials cannot be combined" in out.stderr,
           "error at FILE:LINE:COL: " + out.stderr)


CHECKS = [(f.__name__[len("check_"):], f) for f in (
    check_listing_html, check_listing_json, check_fallback, check_cors_preflight,
    check_cors_actual, check_security_headers, check_config_errors)]


def main():
    return run_checks(CHECKS, Server, "bws-content-it-")


if __name__ == "__main__":
    sys.exit(main())
