#!/usr/bin/python3
"""Measurement and report helper for bench/run.sh (run with Debian's /usr/bin/python3).

Subcommands:
  free-port                      print a free TCP port on 127.0.0.1
  html FILE SIZE                 write SIZE bytes of HTML made of words (compressible as text is)
  precompress FILE               write FILE.gz (gzip -9) and FILE.br (brotli quality 11, with
                                 libbrotlienc through ctypes, or the brotli command)
  tree PID                       print PID and its descendants, one per line
  mem PID --out F --server S --pass P --start-ms MS
                                 append the idle RSS/PSS (summed over the process tree) to F
  measure --pid PID --out F --raw F --server S --pass P --scenario ID --label L --run N
          [--tls-stats F] -- WRK...
                                 run wrk once; append requests/s, transfer, latency, server CPU
                                 (utime+stime of the tree), wrk CPU, other CPU and the loaded
                                 RSS/PSS (sampled half-way) to F as one JSON line; with
                                 --tls-stats, also the handshakes bench/wrk_tls.c counted
  idle-tls --pid PID --port N --count N --out F --server S --run N
                                 memory per idle TLS connection: the tree's RSS/PSS before and
                                 with N TLS 1.3 connections that each had one request answered
  report --dir D [--readme README --png-copy P]
                                 write D/results.md and D/plot.png (gnuplot) from D/*.jsonl;
                                 with --readme, replace the results section of README.md too.
                                 Servers named bws-VARIANT (run.sh --bws-variants) are not
                                 "other servers" in the ratios: they get a table ÷ plain bws
"""
import argparse
import ctypes
import ctypes.util
import gzip
import json
import os
import random
import re
import resource
import shutil
import select
import socket
import ssl
import statistics
import subprocess
import sys
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


# --- processes -------------------------------------------------------------------------------

def read_stat(pid):
    """Fields of /proc/PID/stat after the command name (field 3 onwards), or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            data = f.read()
    except OSError:
        return None
    return data[data.rindex(")") + 2:].split()


def process_tree(root):
    children = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        fields = read_stat(name)
        if fields is not None:
            children.setdefault(int(fields[1]), []).append(int(name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def tree_cpu_seconds(pids):
    total = 0
    for pid in pids:
        fields = read_stat(pid)
        if fields is not None:
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLK_TCK


def tree_memory_kib(root):
    rss = pss = 0
    pids = process_tree(root)
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                for line in f:
                    key, _, rest = line.partition(":")
                    if key == "Rss":
                        rss += int(rest.split()[0])
                    elif key == "Pss":
                        pss += int(rest.split()[0])
        except OSError:
            continue
    return rss, pss, len(pids)


def system_busy_seconds():
    with open("/proc/stat") as f:
        cols = [int(x) for x in f.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = cols[:8]
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


# --- wrk output ------------------------------------------------------------------------------

UNITS_TIME = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}
UNITS_SIZE = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4}


def parse_time_ms(text):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    return float(m.group(1)) * UNITS_TIME[m.group(2)] if m else None


def parse_wrk(out):
    r = {"requests": 0, "rps": 0.0, "bytes_per_s": 0.0, "p50_ms": None, "p99_ms": None,
         "errors": 0, "non2xx": 0}
    if m := re.search(r"^\s*(\d+) requests in ([\d.]+)(\w+)", out, re.M):
        r["requests"] = int(m.group(1))
    if m := re.search(r"^Requests/sec:\s+([\d.]+)", out, re.M):
        r["rps"] = float(m.group(1))
    if m := re.search(r"^Transfer/sec:\s+([\d.]+)(\w+)", out, re.M):
        r["bytes_per_s"] = float(m.group(1)) * UNITS_SIZE.get(m.group(2), 1)
    for pct, key in (("50", "p50_ms"), ("99", "p99_ms")):
        if m := re.search(rf"^\s+{pct}%\s+(\S+)", out, re.M):
            r[key] = parse_time_ms(m.group(1))
    if m := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out):
        r["errors"] = sum(int(x) for x in m.groups())
    if m := re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        r["non2xx"] = int(m.group(1))
    return r


# --- subcommands -----------------------------------------------------------------------------

def append_json(path, record):
    with open(path, "a") as f:
        f.write(json.dumps(record) + "\n")


def cmd_free_port(_args):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
    s.close()


def cmd_html(args):
    """Paragraphs of words drawn from a fixed vocabulary (seeded: every run serves the same
    bytes), so that it compresses as text does (gzip -9: to about 42 %)."""
    rng = random.Random(12)
    letters = "etaoinshrdlucmfwypvbgkjqxz"
    weights = [len(letters) - i for i in range(len(letters))]
    vocabulary = ["".join(rng.choices(letters, weights, k=rng.randint(2, 10)))
                  for _ in range(3000)]
    head = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>bench</title></head><body>\n"
    tail = "</body></html>\n"
    parts, size = [head], len(head) + len(tail)
    while size < args.size:
        words = " ".join(rng.choices(vocabulary, k=rng.randint(20, 80)))
        para = f"<p class=\"c{rng.randint(1, 9)}\">{words}.</p>\n"
        parts.append(para)
        size += len(para)
    text = "".join(parts)[:args.size - len(tail)] + tail
    with open(args.file, "w") as f:
        f.write(text)


def brotli_compress(data):
    """Brotli quality 11 with libbrotlienc (bws links it), else the brotli command, else None."""
    name = ctypes.util.find_library("brotlienc")
    if name:
        lib = ctypes.CDLL(name)
        lib.BrotliEncoderMaxCompressedSize.restype = ctypes.c_size_t
        lib.BrotliEncoderMaxCompressedSize.argtypes = [ctypes.c_size_t]
        lib.BrotliEncoderCompress.restype = ctypes.c_int
        lib.BrotliEncoderCompress.argtypes = [
            ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_size_t, ctypes.c_char_p,
            ctypes.POINTER(ctypes.c_size_t), ctypes.c_char_p]
        size = ctypes.c_size_t(lib.BrotliEncoderMaxCompressedSize(len(data)))
        out = ctypes.create_string_buffer(size.value)
        # quality 11, window 22 (brotli's defaults), mode 1 = text
        if lib.BrotliEncoderCompress(11, 22, 1, len(data), data, ctypes.byref(size), out):
            return out.raw[:size.value]
    if shutil.which("brotli"):
        res = subprocess.run(["brotli", "-c", "-q", "11"], input=data, capture_output=True)
        if res.returncode == 0:
            return res.stdout
    return None


def cmd_precompress(args):
    with open(args.file, "rb") as f:
        data = f.read()
    compressed = brotli_compress(data)
    if compressed is None:
        print("bench: no libbrotlienc and no brotli command (apt-get install brotli)",
              file=sys.stderr)
        sys.exit(1)
    with open(args.file + ".gz", "wb") as f:
        f.write(gzip.compress(data, compresslevel=9, mtime=0))
    with open(args.file + ".br", "wb") as f:
        f.write(compressed)
    print(f"precompress: {os.path.basename(args.file)} {len(data)} B, .gz "
          f"{os.path.getsize(args.file + '.gz')} B, .br {len(compressed)} B")


def cmd_tree(args):
    print("\n".join(str(p) for p in process_tree(args.pid)))


def cmd_mem(args):
    rss, pss, procs = tree_memory_kib(args.pid)
    append_json(args.out, {"kind": "start", "server": args.server, "pass": args.pass_,
                           "start_ms": args.start_ms, "rss_kib": rss, "pss_kib": pss,
                           "procs": procs})


def cmd_measure(args):
    wrk = args.wrk[1:] if args.wrk and args.wrk[0] == "--" else args.wrk
    duration = args.duration
    if args.tls_stats and os.path.exists(args.tls_stats):
        os.unlink(args.tls_stats)
    pids = process_tree(args.pid)
    usage0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu0, busy0, t0 = tree_cpu_seconds(pids), system_busy_seconds(), time.monotonic()
    proc = subprocess.Popen(wrk, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    time.sleep(duration / 2)
    rss, pss, _ = tree_memory_kib(args.pid)
    out, _ = proc.communicate()
    cpu1, busy1, t1 = tree_cpu_seconds(pids), system_busy_seconds(), time.monotonic()
    usage1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(args.raw, "a") as f:
        f.write(f"### {args.pass_} {args.scenario} {args.server} run {args.run}: "
                f"{' '.join(wrk)}\n{out}\n")
    r = parse_wrk(out)
    server_cpu = cpu1 - cpu0
    wrk_cpu = (usage1.ru_utime + usage1.ru_stime) - (usage0.ru_utime + usage0.ru_stime)
    r.update({"kind": "run", "server": args.server, "pass": args.pass_,
              "scenario": args.scenario, "label": args.label, "run": args.run,
              "wall_s": t1 - t0, "server_cpu_s": server_cpu, "wrk_cpu_s": wrk_cpu,
              "other_cpu_s": max(0.0, (busy1 - busy0) - server_cpu - wrk_cpu),
              "rss_kib": rss, "pss_kib": pss, "wrk_status": proc.returncode})
    if args.tls_stats:
        r.update(read_tls_stats(args.tls_stats))
        if args.scenario == "tls-new" and r.get("resumed"):
            print(f"bench: {args.server} {args.scenario}: {r['resumed']} of {r['handshakes']} "
                  "TLS handshakes resumed a session (expected none)", file=sys.stderr)
    append_json(args.out, r)
    if proc.returncode != 0 or r["requests"] == 0:
        print(f"bench: wrk failed for {args.server} {args.scenario}:\n{out}", file=sys.stderr)
    elif r["non2xx"] and args.scenario != "404":
        print(f"bench: {args.server} {args.scenario}: {r['non2xx']} responses were not 2xx or "
              "3xx (a rate limit that triggered?)", file=sys.stderr)


def read_tls_stats(path):
    """What bench/wrk_tls.c wrote at wrk's exit: handshakes N resumed M."""
    try:
        with open(path) as f:
            words = f.read().split()
    except OSError:
        return {}
    values = dict(zip(words[0::2], words[1::2]))
    return {k: int(values[k]) for k in ("handshakes", "resumed") if k in values}


IDLE_REQUEST = b"GET /1k.html HTTP/1.1\r\nHost: localhost\r\n\r\n"


def tls_request(ctx, port):
    """A TLS 1.3 connection with one 1 KiB request answered (keep-alive), or an exception."""
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        conn = ctx.wrap_socket(raw, server_hostname="localhost")
    except BaseException:
        raw.close()
        raise
    conn.sendall(IDLE_REQUEST)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            raise ConnectionError("closed before the response headers")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    if not re.match(r"HTTP/1\.[01] 200", lines[0]):
        raise ConnectionError(f"unexpected response: {lines[0]}")
    length = next((int(v) for k, _, v in (x.partition(":") for x in lines[1:])
                   if k.strip().lower() == "content-length"), None)
    if length is None:
        raise ConnectionError("no Content-Length in the response")
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            raise ConnectionError("closed inside the response body")
        body += chunk
    return conn


def still_open(conns):
    """How many connections the server has not closed (nothing readable, or no EOF)."""
    closed = 0
    for conn in conns:
        readable, _, _ = select.select([conn], [], [], 0)
        if not readable:
            continue
        conn.setblocking(False)
        try:
            if conn.recv(1) == b"":
                closed += 1
        except (ssl.SSLWantReadError, BlockingIOError):
            pass
        except (OSError, ssl.SSLError):
            closed += 1
        conn.setblocking(True)
    return len(conns) - closed


def cmd_idle_tls(args):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = args.count + 64
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    # Warm-up one connection at a time: OpenSSL's and the server's first-use allocations are
    # not per connection, and sequential ones leave at most one connection's memory behind.
    for _ in range(args.warmup):
        tls_request(ctx, args.port).close()
    time.sleep(args.settle)
    rss0, pss0, procs = tree_memory_kib(args.pid)
    t0 = time.monotonic()
    conns = [tls_request(ctx, args.port) for _ in range(args.count)]
    open_s = time.monotonic() - t0
    time.sleep(args.settle)
    rss1, pss1, _ = tree_memory_kib(args.pid)
    alive = still_open(conns)
    version = conns[0].version() if conns else None
    for conn in conns:
        conn.close()
    time.sleep(args.settle)
    rss2, pss2, _ = tree_memory_kib(args.pid)
    record = {"kind": "idle", "server": args.server, "run": args.run, "count": args.count,
              "open": alive, "version": version, "procs": procs, "open_s": open_s,
              "rss0_kib": rss0, "pss0_kib": pss0, "rss1_kib": rss1, "pss1_kib": pss1,
              "rss2_kib": rss2, "pss2_kib": pss2}
    append_json(args.out, record)
    print(f"idle-tls: {args.server}: {(rss1 - rss0) / args.count:.1f} KiB RSS, "
          f"{(pss1 - pss0) / args.count:.1f} KiB PSS per connection ({args.count} opened in "
          f"{open_s:.1f} s, {alive} still open at the sample, {version})")
    if alive < args.count:
        print(f"bench: {args.server} closed {args.count - alive} of the idle connections "
              "before the sample: the figure is low", file=sys.stderr)


# --- report ----------------------------------------------------------------------------------

PASS_TITLES = {
    "A": "Layout A (one worker, server on CPU 0, wrk -t1 on CPU 1), access logs off",
    "B": "Layout B (two workers unpinned, wrk -t2), access logs off",
    "A-log": "Layout A, access logs on (to a file)",
    "B-log": "Layout B, access logs on (to a file)",
}


def load(directory):
    records = []
    for name in ("runs.jsonl", "starts.jsonl", "idle.jsonl", "checks.jsonl"):
        path = os.path.join(directory, name)
        if os.path.exists(path):
            with open(path) as f:
                records += [json.loads(line) for line in f if line.strip()]
    return records


def ordered(values):
    return list(dict.fromkeys(values))


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def summarise(runs):
    """Median of every figure per (pass, scenario, server)."""
    groups = {}
    for r in runs:
        groups.setdefault((r["pass"], r["scenario"], r["server"]), []).append(r)
    out = {}
    for key, rs in groups.items():
        s = {k: med([r[k] for r in rs]) for k in
             ("rps", "bytes_per_s", "p50_ms", "p99_ms", "server_cpu_s", "other_cpu_s", "wall_s")}
        s["rps_per_cpu"] = med([r["requests"] / r["server_cpu_s"] if r["server_cpu_s"] > 0
                                else None for r in rs])
        s["cpu_pct"] = med([100 * r["server_cpu_s"] / r["wall_s"] for r in rs])
        s["other_pct"] = max(100 * r["other_cpu_s"] / r["wall_s"] for r in rs)
        s["errors"] = sum(r["errors"] + (r["non2xx"] if r["scenario"] != "404" else 0)
                          + (1 if r["wrk_status"] else 0) for r in rs)
        s["rss_kib"] = max(r["rss_kib"] for r in rs)
        s["pss_kib"] = max(r["pss_kib"] for r in rs)
        s["label"] = rs[0]["label"]
        if any("handshakes" in r for r in rs):
            s["handshakes"] = sum(r.get("handshakes", 0) for r in rs)
            s["resumed"] = sum(r.get("resumed", 0) for r in rs)
            s["requests"] = sum(r["requests"] for r in rs)
        s["n"] = len(rs)
        out[key] = s
    return out


def is_variant(server):
    """bws-metrics, bws-ratelimit: bws itself with a feature on (run.sh --bws-variants)."""
    return server.startswith("bws-")


def ratio_to_best_other(summary, pass_, scenario, server, servers, field, lower_better=False):
    mine = summary.get((pass_, scenario, server), {}).get(field)
    # A bws variant is no other server: not for bws, not for the peers, not for another variant.
    same = ("bws",) if is_variant(server) else ()
    others = [summary[(pass_, scenario, o)][field] for o in servers
              if o != server and not is_variant(o) and o not in same
              and (pass_, scenario, o) in summary
              and summary[(pass_, scenario, o)][field]]
    if not mine or not others:
        return None
    return mine / (min(others) if lower_better else max(others))


def fmt_num(x):
    if x is None:
        return "–"
    if x >= 1e6:
        return f"{x / 1e6:.2f} M"
    if x >= 1e4:
        return f"{x / 1e3:.1f} k"
    if x >= 1e3:
        return f"{x / 1e3:.2f} k"
    return f"{x:.0f}"


def fmt_rate(b):
    if not b:
        return "–"
    if b >= 1024**3:
        return f"{b / 1024**3:.2f} GiB/s"
    return f"{b / 1024**2:.0f} MiB/s"


def fmt_ms(x):
    return "–" if x is None else (f"{x:.2f}" if x < 10 else f"{x:.0f}")


def fmt_ratio(x):
    return "–" if x is None else f"{x:.2f}×"


def read_env(directory):
    path = os.path.join(directory, "env.txt")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [line.rstrip("\n") for line in f if line.strip()]


def cell(summary, key, field, ratio, lower_better):
    s = summary.get(key)
    if not s or not s.get(field):
        return "–"
    flag = " ⚠" if s["errors"] else ""
    value = fmt_ms(s[field]) if lower_better else fmt_num(s[field])
    if ratio is None:
        return f"{value}{flag}"
    text = f"{value} ({fmt_ratio(ratio)})"
    best = ratio <= 1 if lower_better else ratio >= 1
    return f"**{text}**{flag}" if best else f"{text}{flag}"


def matrix_table(summary, pass_, scenarios, servers, field, title, lower_better=False):
    lines = [f"**{title}**", "",
             "| scenario | " + " | ".join(servers) + " |",
             "|---" * (len(servers) + 1) + "|"]
    for sc in scenarios:
        if not any((pass_, sc, s) in summary for s in servers):
            continue
        label = next(summary[(pass_, sc, s)]["label"] for s in servers if (pass_, sc, s) in summary)
        cells = [cell(summary, (pass_, sc, s), field,
                      ratio_to_best_other(summary, pass_, sc, s, servers, field, lower_better),
                      lower_better) for s in servers]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


def versus_table(summary, pass_a, pass_b, scenarios, servers):
    lines = ["| scenario | " + " | ".join(servers) + " |",
             "|---" * (len(servers) + 1) + "|"]
    for sc in scenarios:
        ratios = []
        for s in servers:
            a, b = summary.get((pass_a, sc, s)), summary.get((pass_b, sc, s))
            ratios.append(fmt_ratio(b["rps"] / a["rps"]) if a and b and a["rps"] else "–")
        if any(r != "–" for r in ratios):
            label = next(summary[(p, sc, s)]["label"] for p in (pass_a, pass_b) for s in servers
                         if (p, sc, s) in summary)
            lines.append(f"| {label} | " + " | ".join(ratios) + " |")
    return lines


def memory_table(starts, servers):
    lines = ["| server | processes | idle RSS | idle PSS | loaded RSS (max) | loaded PSS (max) "
             "| exec → first 200 (median, min–max) |", "|---|---|---|---|---|---|---|"]
    for s in servers:
        st = [x for x in starts if x["server"] == s and x["pass"] == "startup"]
        st = st or [x for x in starts if x["server"] == s and x.get("kind") == "start"]
        if not st:
            continue
        loaded = [x for x in starts if x["server"] == s and x.get("kind") == "loaded"]
        loaded = [x for x in loaded if x["pass"] == "A"] or loaded
        ms = [x["start_ms"] for x in st]
        lrss = max((x["rss_kib"] for x in loaded), default=None)
        lpss = max((x["pss_kib"] for x in loaded), default=None)
        lines.append(
            f"| {s} | {st[0]['procs']} | {med([x['rss_kib'] for x in st]) / 1024:.1f} MiB "
            f"| {med([x['pss_kib'] for x in st]) / 1024:.1f} MiB "
            f"| {'–' if lrss is None else f'{lrss / 1024:.1f} MiB'} "
            f"| {'–' if lpss is None else f'{lpss / 1024:.1f} MiB'} "
            f"| {med(ms):.1f} ms ({min(ms):.1f}–{max(ms):.1f}, n={len(ms)}) |")
    return lines


def tls_lines(summary, pass_, scenarios, servers):
    """wrk's TLS handshakes per request, and how many resumed a session (bench/wrk_tls.c)."""
    lines = []
    for sc in scenarios:
        cells = []
        for s in servers:
            x = summary.get((pass_, sc, s))
            if x and "handshakes" in x and x["requests"]:
                cells.append(f"{s} {x['handshakes'] / x['requests']:.3f} "
                             f"({x['resumed']} resumed)")
        if cells:
            lines.append(f"- {summary[next((pass_, sc, s) for s in servers if (pass_, sc, s) in summary)]['label']}: "
                         + ", ".join(cells))
    if lines:
        lines = ["TLS handshakes per response wrk counted (resumed ones in brackets):", ""] \
            + lines + [""]
    return lines


def variant_table(summary, pass_, scenarios, servers):
    """Each bws variant ÷ plain bws of the same pass and scenario."""
    variants = [s for s in servers if is_variant(s)]
    if not variants or "bws" not in servers:
        return []
    lines = ["| scenario | bws req/s | " + " | ".join(
        f"{v} req/s ÷ bws | {v} req/CPU-s ÷ bws | {v} p99 ÷ bws" for v in variants) + " |",
        "|---" * (2 + 3 * len(variants)) + "|"]
    for sc in scenarios:
        plain = summary.get((pass_, sc, "bws"))
        if not plain:
            continue
        cells = []
        for v in variants:
            x = summary.get((pass_, sc, v))
            for field in ("rps", "rps_per_cpu", "p99_ms"):
                cells.append(fmt_ratio(x[field] / plain[field])
                             if x and x.get(field) and plain.get(field) else "–")
        lines.append(f"| {plain['label']} | {fmt_num(plain['rps'])} | " + " | ".join(cells) + " |")
    return lines


def coding_lines(checks, pass_, servers):
    """What curl got from each compression listener before the runs."""
    lines = []
    for sc in ordered(c["scenario"] for c in checks if c["kind"] == "coding" and c["pass"] == pass_):
        cells = [f"{c['server']} {c['coding'] or 'none'} {c['bytes'] / 1024:.1f} KiB"
                 + ("" if c["status"] == "200" and c["coding"] in ("gzip", "br") else " (FAILED)")
                 for s in servers for c in checks
                 if c["kind"] == "coding" and c["pass"] == pass_ and c["scenario"] == sc
                 and c["server"] == s]
        if cells:
            lines.append(f"- {sc}: " + ", ".join(cells))
    for c in checks:
        if c["kind"] == "scrapes" and c["pass"] == pass_:
            lines.append(f"- bws-metrics: {c['ok']} of {c['count']} scrapes of /metrics (one a "
                         "second during the pass) answered 200")
    if lines:
        lines = ["Compressed responses (Content-Encoding and body size curl got with "
                 "Accept-Encoding: gzip, br, before the runs) and the /metrics scrapes:", ""] \
            + lines + [""]
    return lines


def idle_table(idle, servers):
    lines = ["| server | connections (open at the sample) | RSS before → with | per connection RSS "
             "| per connection PSS | RSS after closing them |", "|---|---|---|---|---|---|"]
    for s in servers:
        xs = [x for x in idle if x["server"] == s]
        if not xs:
            continue
        per_rss = med([(x["rss1_kib"] - x["rss0_kib"]) / x["count"] for x in xs])
        per_pss = med([(x["pss1_kib"] - x["pss0_kib"]) / x["count"] for x in xs])
        x = xs[0]
        lines.append(f"| {s} | {x['count']} ({min(y['open'] for y in xs)}) "
                     f"| {x['rss0_kib'] / 1024:.1f} → {x['rss1_kib'] / 1024:.1f} MiB "
                     f"| {per_rss:.1f} KiB | {per_pss:.1f} KiB "
                     f"| {x['rss2_kib'] / 1024:.1f} MiB |")
    return lines


def detail_table(summary, passes, scenarios, servers):
    lines = ["| pass | scenario | server | req/s | transfer | p50 ms | p99 ms | server CPU "
             "| req/CPU-s | req/s × best other | req/CPU-s × best other | other CPU | errors |",
             "|---" * 13 + "|"]
    for p in passes:
        for sc in scenarios:
            for s in servers:
                x = summary.get((p, sc, s))
                if not x:
                    continue
                lines.append(
                    f"| {p} | {x['label']} | {s} | {fmt_num(x['rps'])} | "
                    f"{fmt_rate(x['bytes_per_s'])} | {fmt_ms(x['p50_ms'])} | "
                    f"{fmt_ms(x['p99_ms'])} | {x['cpu_pct']:.0f} % | {fmt_num(x['rps_per_cpu'])} | "
                    f"{fmt_ratio(ratio_to_best_other(summary, p, sc, s, servers, 'rps'))} | "
                    f"{fmt_ratio(ratio_to_best_other(summary, p, sc, s, servers, 'rps_per_cpu'))}"
                    f" | {x['other_pct']:.0f} % | {x['errors']} |")
    return lines


def plot(directory, summary, passes, scenarios, servers, starts):
    """Grouped bars: each server's figure relative to the best server of the scenario."""
    if not shutil.which("gnuplot"):
        print("bench: gnuplot is missing, no plot (apt-get install gnuplot-nox)", file=sys.stderr)
        return None
    panels = [(p, "rps", f"{p}: requests/s relative to the best server") for p in passes]
    if "A" in passes:
        panels.append(("A", "rps_per_cpu", "A: requests per server CPU-second, relative to best"))
    for i, (p, field, _title) in enumerate(panels):
        rows = []
        for sc in scenarios:
            vals = [summary.get((p, sc, s), {}).get(field) for s in servers]
            best = max((v for v in vals if v), default=None)
            if not best:
                continue
            label = summary[next((p, sc, s) for s in servers if (p, sc, s) in summary)]["label"]
            label = (label.replace("keep-alive", "ka").replace("Connection: close", "close")
                     .replace(" If-None-Match", ""))
            rows.append(f'"{label}" ' + " ".join(f"{v / best:.4f}" if v else "0" for v in vals))
        with open(os.path.join(directory, f"plot-{i}.dat"), "w") as f:
            f.write("\n".join(rows) + "\n")
    with open(os.path.join(directory, "plot-mem.dat"), "w") as f:
        for s in servers:
            st = [x for x in starts if x["server"] == s and x["pass"] == "startup"]
            if st:
                f.write(f'"{s}" {med([x["rss_kib"] for x in st]) / 1024:.2f} '
                        f'{med([x["pss_kib"] for x in st]) / 1024:.2f} '
                        f'{med([x["start_ms"] for x in st]):.1f}\n')
    n = len(panels) + 1
    height = 1 / n
    script = [f"set terminal pngcairo size 1100,{260 * n} font 'sans,9'",
               f"set output '{os.path.join(directory, 'plot.png')}'",
               "set multiplot",
               "set style data histograms", "set style histogram clustered gap 1",
               "set style fill solid 0.85 border -1", "set boxwidth 0.9",
               "set grid ytics", "set key outside right top vertical",
               "set xtics nomirror scale 0", "set ytics nomirror"]
    for i, (_p, _field, title) in enumerate(panels):
        with open(os.path.join(directory, f"plot-{i}.dat")) as f:
            groups = sum(1 for line in f if line.strip())
        script += [f"set origin 0,{1 - (i + 1) * height:.4f}", f"set size 1,{height:.4f}",
                   f"set title '{title}'", "set yrange [0:1.15]",
                   f"set xrange [-0.6:{groups - 0.4}]",
                   "plot " + ", ".join(f"'{directory}/plot-{i}.dat' using {c + 2}:xtic(1) "
                                       f"title '{s}'" for c, s in enumerate(servers))]
    mem = f"'{directory}/plot-mem.dat'"
    script += ["set origin 0,0", f"set size 0.5,{height:.4f}", "set autoscale", 
               f"set xrange [-0.6:{len(servers) - 0.4}]",
               "set yrange [0:*]", "set title 'idle memory, MiB (master + workers)'",
               f"plot {mem} using 2:xtic(1) title 'RSS', {mem} using 3 title 'PSS'",
               "set origin 0.5,0", f"set size 0.5,{height:.4f}",
               "set title 'exec to first 200, ms (median)'",
               f"plot {mem} using 4:xtic(1) notitle",
               "unset multiplot"]
    gp = os.path.join(directory, "plot.gp")
    with open(gp, "w") as f:
        f.write("\n".join(script) + "\n")
    res = subprocess.run(["gnuplot", gp], capture_output=True, text=True)
    if res.returncode != 0:
        print(f"bench: gnuplot failed:\n{res.stderr}", file=sys.stderr)
        return None
    return os.path.join(directory, "plot.png")


def cmd_report(args):
    records = load(args.dir)
    runs = [r for r in records if r["kind"] == "run"]
    starts = [r for r in records if r["kind"] in ("start", "loaded")]
    idle = [r for r in records if r["kind"] == "idle"]
    checks = [r for r in records if r["kind"] in ("coding", "scrapes")]
    servers = ordered(r["server"] for r in runs + starts + idle)
    passes = ordered(r["pass"] for r in runs)
    scenarios = ordered(r["scenario"] for r in runs)
    summary = summarise(runs)
    for (p, _sc, s), x in summary.items():
        starts.append({"kind": "loaded", "server": s, "pass": p, "rss_kib": x["rss_kib"],
                       "pss_kib": x["pss_kib"]})
    env = read_env(args.dir)
    worst_other = max((x["other_pct"] for x in summary.values()), default=0)
    lines = ["## Results", ""] + [f"- {line}" for line in env]
    if runs:
        lines += [
            f"- Other processes used up to {worst_other:.0f} % of a core during a run "
            + ("(**disturbed**: above 20 %, treat the figures as noise)" if worst_other > 20
               else "(quiet: at most 20 %)"), "",
            "Each cell: median requests/s (ratio to the best *other* server in the same "
            "scenario; bold = best). ⚠ = socket errors or unexpected statuses.", ""]
    else:
        lines += [""]
    for p in passes:
        lines += [f"### {PASS_TITLES.get(p, p)}", ""]
        lines += matrix_table(summary, p, scenarios, servers, "rps", "requests/s") + [""]
        lines += matrix_table(summary, p, scenarios, servers, "rps_per_cpu",
                              "requests per server CPU-second") + [""]
        lines += matrix_table(summary, p, scenarios, servers, "p99_ms",
                              "p99 latency, ms (ratio to the lowest other; bold = lowest)",
                              lower_better=True) + [""]
        lines += tls_lines(summary, p, scenarios, servers)
        lines += coding_lines(checks, p, servers)
        variants = variant_table(summary, p, scenarios, servers)
        if variants:
            lines += ["**bws variants ÷ plain bws** (same pass; the goal of issue 13 is ≥ 0.97×)",
                      ""] + variants + [""]
    for a, b, title in (("A", "B", "Scaling: two workers (B) ÷ one worker (A), requests/s"),
                        ("A", "A-log", "Access log on ÷ off (layout A), requests/s"),
                        ("B", "B-log", "Access log on ÷ off (layout B), requests/s")):
        if a in passes and b in passes:
            lines += [f"### {title}", ""] + versus_table(summary, a, b, scenarios, servers) + [""]
    if any(x["kind"] == "start" for x in starts):
        lines += ["### Memory and startup", "",
                  "Summed over the server's processes (one worker); idle = 0.5 s after the "
                  "first 200 of a fresh start, loaded = sampled half-way through each layout-A "
                  "run (max); exec → first 200 = from starting the command to the first 200 "
                  "response.", ""]
        lines += memory_table(starts, servers) + [""]
    if idle:
        lines += ["### Memory per idle TLS connection", "",
                  "TLS 1.3, one worker; the server's processes' RSS/PSS with the connections "
                  "(each had one 1 KiB request answered, then stays idle) minus before them, "
                  "divided by their number (median over the runs).", ""]
        lines += idle_table(idle, servers) + [""]
    png = plot(args.dir, summary, passes, scenarios, servers, starts) if runs else None
    section = lines[2:]  # README.md has its own heading
    if runs:
        lines += ["### All figures", ""] + detail_table(summary, passes, scenarios, servers) + [""]
    if png:
        lines += ["![plot](plot.png)", ""]
    with open(os.path.join(args.dir, "results.md"), "w") as f:
        f.write("\n".join(lines))
    print(os.path.join(args.dir, "results.md"))
    if args.readme:
        update_readme(args, section, png)


def update_readme(args, section, png):
    if png and args.png_copy:
        shutil.copyfile(png, args.png_copy)
        section += [f"![plot]({os.path.relpath(args.png_copy, os.path.dirname(args.readme))})", ""]
    with open(args.readme) as f:
        text = f.read()
    begin, end = "<!-- results:begin -->", "<!-- results:end -->"
    if begin not in text or end not in text:
        print(f"bench: no {begin} … {end} section in {args.readme}", file=sys.stderr)
        return
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    with open(args.readme, "w") as f:
        f.write(head + begin + "\n" + "\n".join(section) + "\n" + end + tail)
    print(args.readme)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("free-port").set_defaults(fn=cmd_free_port)
    p = sub.add_parser("html")
    p.add_argument("file")
    p.add_argument("size", type=int)
    p.set_defaults(fn=cmd_html)
    p = sub.add_parser("precompress")
    p.add_argument("file")
    p.set_defaults(fn=cmd_precompress)
    p = sub.add_parser("tree")
    p.add_argument("pid", type=int)
    p.set_defaults(fn=cmd_tree)
    p = sub.add_parser("mem")
    p.add_argument("pid", type=int)
    for opt in ("--out", "--server"):
        p.add_argument(opt, required=True)
    p.add_argument("--pass", dest="pass_", required=True)
    p.add_argument("--start-ms", type=float, required=True)
    p.set_defaults(fn=cmd_mem)
    p = sub.add_parser("measure")
    p.add_argument("--pid", type=int, required=True)
    for opt in ("--out", "--raw", "--server", "--scenario", "--label"):
        p.add_argument(opt, required=True)
    p.add_argument("--pass", dest="pass_", required=True)
    p.add_argument("--run", type=int, required=True)
    p.add_argument("--duration", type=float, required=True)
    p.add_argument("--tls-stats")
    p.add_argument("wrk", nargs=argparse.REMAINDER)
    p.set_defaults(fn=cmd_measure)
    p = sub.add_parser("idle-tls")
    p.add_argument("--pid", type=int, required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--count", type=int, default=1000)
    p.add_argument("--warmup", type=int, default=8)
    p.add_argument("--settle", type=float, default=1.0)
    p.add_argument("--out", required=True)
    p.add_argument("--server", required=True)
    p.add_argument("--run", type=int, default=1)
    p.set_defaults(fn=cmd_idle_tls)
    p = sub.add_parser("report")
    p.add_argument("--dir", required=True)
    p.add_argument("--readme")
    p.add_argument("--png-copy")
    p.set_defaults(fn=cmd_report)
    args = ap.parse_args()
    try:
        args.fn(args)
    except KeyboardInterrupt:  # Ctrl-C: run.sh stops the servers; wrk got the signal too
        sys.exit(130)


if __name__ == "__main__":
    main()
