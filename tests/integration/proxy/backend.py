#!/usr/bin/python3
"""A test upstream for the proxy tests: HTTP/1.1 with keep-alive, one thread per connection.

Usage: backend.py PORT NAME [--unix PATH] [--tls CERT KEY] [--slow SECONDS]. It prints
"ready" once it listens: on 127.0.0.1:PORT, or on the Unix stream socket PATH with --unix (PORT
is then ignored); with --tls it speaks HTTPS with that certificate chain and key (PEM). With
--slow every JSON echo waits that long first (for the max_conns checks). What it answers depends on the
request path (anywhere in it):
  .../big/N        N bytes ('x'), Content-Length, written 64 KiB at a time
  .../chunked      a chunked body in three chunks
  .../sse          three server-sent events 300 ms apart, chunked
  .../unframed     a body without length, ended by closing the connection
  .../malformed    a broken status line
  .../drop         closes the connection without answering
  .../hang         answers nothing for 30 s
  .../status/NNN   status NNN without a body
  /health          200 "ok", or the status written in the file NAME.health when it exists
                   (a health check the test turns bad and good again)
  .../hop          a response with hop-by-hop headers that must not reach the client
  .../ws           with "Upgrade: websocket": 101 (Sec-WebSocket-Accept of the key), then
                   "hello", then every byte it receives echoed back until the close;
                   without Upgrade: the JSON echo
  anything else    200 with a JSON echo: name, connection number, method, path, headers, body
                   (and with --tls whether the TLS session was resumed)
Every request line it receives is appended to its log file NAME.requests (for the checks
that a request never reached the upstream).
"""

import base64
import hashlib
import json
import os
import socket
import ssl
import sys
import threading
import time

PORT = int(sys.argv[1])
NAME = sys.argv[2]
OPTIONS = sys.argv[3:]
UNIX = OPTIONS[OPTIONS.index("--unix") + 1] if "--unix" in OPTIONS else None
TLS = OPTIONS[OPTIONS.index("--tls") + 1:OPTIONS.index("--tls") + 3] if "--tls" in OPTIONS else None
SLOW = float(OPTIONS[OPTIONS.index("--slow") + 1]) if "--slow" in OPTIONS else 0.0
LOG = open(f"{NAME}.requests", "a", buffering=1)
connections = 0
lock = threading.Lock()


def read_request(f):
    line = f.readline()
    if not line:
        return None
    LOG.write(line.decode("latin-1"))
    method, path, _ = line.decode("latin-1").split(" ", 2)
    headers = []
    while True:
        h = f.readline().decode("latin-1")
        if h in ("\r\n", "\n", ""):
            break
        name, _, value = h.partition(":")
        headers.append([name.strip(), value.strip()])
    lookup = {k.lower(): v for k, v in headers}
    body = b""
    if lookup.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int(f.readline().split(b";")[0], 16)
            if size == 0:
                while f.readline() not in (b"\r\n", b"\n", b""):
                    pass
                break
            body += f.read(size)
            f.readline()
    elif "content-length" in lookup:
        body = f.read(int(lookup["content-length"]))
    return method, path, headers, lookup, body


def send(conn, status, headers, body=b""):
    head = f"HTTP/1.1 {status} X\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
    conn.sendall(head.encode() + body)


def serve(conn, number):
    f = conn.makefile("rb")
    while True:
        req = read_request(f)
        if req is None:
            return
        method, path, headers, lookup, body = req
        head_only = method == "HEAD"
        if path == "/health":
            try:
                with open(f"{NAME}.health") as h:
                    status = int(h.read().strip())
            except (OSError, ValueError):
                status = 200
            send(conn, status, [("Content-Length", 2)], b"" if head_only else b"ok")
        elif "/big/" in path:
            n = int(path.rsplit("/", 1)[1])
            send(conn, 200, [("Content-Length", n), ("Content-Type", "application/octet-stream")])
            if not head_only:
                block = b"x" * 65536
                while n > 0:
                    conn.sendall(block[:min(n, len(block))])
                    n -= min(n, len(block))
        elif "/chunked" in path:
            send(conn, 200, [("Transfer-Encoding", "chunked")])
            if not head_only:
                conn.sendall(b"5\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nX-Trailer: t\r\n\r\n")
        elif "/sse" in path:
            send(conn, 200, [("Content-Type", "text/event-stream"), ("Transfer-Encoding", "chunked")])
            for i in range(3):
                event = f"data: {i} {time.monotonic()}\n\n".encode()
                conn.sendall(b"%x\r\n%s\r\n" % (len(event), event))
                time.sleep(0.3)
            conn.sendall(b"0\r\n\r\n")
        elif "/unframed" in path:
            conn.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the close")
            conn.close()
            return
        elif "/malformed" in path:
            conn.sendall(b"HTTP/1.1 abc nonsense\r\n\r\n")
            conn.close()
            return
        elif "/drop" in path:
            conn.close()
            return
        elif "/hang" in path:
            time.sleep(30)
            return
        elif "/status/" in path:
            status = int(path.rsplit("/", 1)[1])
            send(conn, status, [("ETag", '"v1"')] if status == 304 else [])
        elif "/ws" in path and lookup.get("upgrade", "").lower() == "websocket":
            key = lookup.get("sec-websocket-key", "")
            accept = base64.b64encode(hashlib.sha1(
                (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
            send(conn, 101, [("Upgrade", "websocket"), ("Connection", "Upgrade"),
                             ("Sec-WebSocket-Accept", accept)])
            conn.sendall(b"hello")
            # read1 returns what the reader buffered past the head first.
            while True:
                data = f.read1(65536)
                if not data:
                    return
                conn.sendall(data)
        elif "/hop" in path:
            send(conn, 200, [("Connection", "X-Hop"), ("X-Hop", "1"), ("Keep-Alive", "timeout=5"),
                             ("X-Kept", "1"), ("Content-Length", 2)], b"ok")
        else:
            if SLOW:
                time.sleep(SLOW)
            out = json.dumps({"name": NAME, "connection": number, "method": method, "path": path,
                              "headers": headers, "body": body.decode("latin-1"),
                              "tls_resumed": getattr(conn, "session_reused", None)}).encode()
            send(conn, 200, [("Content-Type", "application/json"), ("Set-Cookie", "a=1"),
                             ("Set-Cookie", "b=2"), ("Content-Length", len(out))],
                 b"" if head_only else out)


def main():
    global connections
    if UNIX:
        if os.path.exists(UNIX):
            os.unlink(UNIX)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(UNIX)
        os.chmod(UNIX, 0o666)  # bws's workers run as another user when started as root
    else:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", PORT))
    listener.listen(512)
    context = None
    if TLS:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(TLS[0], TLS[1])
        context.set_alpn_protocols(["http/1.1"])
    print("ready", flush=True)
    while True:
        conn, _ = listener.accept()
        if context is not None:
            try:
                conn.settimeout(10)
                conn = context.wrap_socket(conn, server_side=True)
                conn.settimeout(None)
            except (OSError, ssl.SSLError):
                conn.close()
                continue
        with lock:
            connections += 1
            number = connections

        def run(c=conn, n=number):
            try:
                serve(c, n)
            except (OSError, ValueError, ssl.SSLError):
                pass
            finally:
                c.close()
        threading.Thread(target=run, daemon=True).start()


main()
