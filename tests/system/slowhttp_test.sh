#!/bin/bash
# slowhttp_test.sh: Debian's slowhttptest against one bws worker on 127.0.0.1 (issue 16:
# "slow-read (-X) and slow-body (-B) attacks leave the server >= 99 % available").
#   1. slow read (-X): CONNS connections, each pipelining 3 GETs of a 1 MiB file (far more than
#      the socket buffers hold) and then advertising a 512-1024 byte TCP window and reading 32
#      bytes every 5 s;
#   2. slow body (-B, POST): CONNS connections announcing a 1 MB body and sending up to
#      10 bytes of it every 10 s (bws answers a POST to a static site at once, 405, and
#      closes, so slowhttptest runs out of connections within seconds);
#   3. slow body on GET (-B -t GET): the same with an 8 KiB body on GET, the one method whose
#      body bws reads (and discards): each attack connection stays until body_timeout (60 s
#      by default, longer than the attack).
# During each attack an independent probe (curl --max-time 2 for a small page, one request
# every ~100 ms on a fresh connection) counts its successes (200 with the page's body); the
# gate is availability = successes / requests >= 99 %. slowhttptest's own verdict (its probe
# connection every second, "service available" in its CSV) is reported and must not show
# the service down for more than 1 % of its samples either.
#
# Usage: tests/system/slowhttp_test.sh      (as root or not; about 60 s)
# env:   BWS_BUILD_DIR   build tree holding bws (default build-tests)
#        BWS_SLOWHTTP_CONNS   attack connections (default 500)
#        BWS_SLOWHTTP_SECONDS duration of each attack (default 25)
#        BWS_SLOWHTTP_KEEP=1  keep the temp dir (config, logs, slowhttptest's CSV/HTML)
# Needs: slowhttptest, curl, /usr/bin/python3.
# Last line: "N passed, N failed"; exit status 1 if anything failed.

# `COND && ok NAME || bad NAME`: ok() always succeeds, so bad() runs exactly when COND fails.
# cleanup runs from the EXIT trap only (SC2317).
# shellcheck disable=SC2015,SC2317
set -u

SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BWS_BUILD_DIR:-$SRC/build-tests}
BWS=$BUILD/bws
PY=/usr/bin/python3
CONNS=${BWS_SLOWHTTP_CONNS:-500}
SECONDS_PER_ATTACK=${BWS_SLOWHTTP_SECONDS:-25}

# shellcheck source=tests/system/checks.sh
. "$SRC/tests/system/checks.sh"

echo "== slowhttptest against one bws worker"
need() { # NAME PACKAGE
    command -v "$1" >/dev/null 2>&1 && return 0
    bad "tool $1 is installed (apt-get install $2; scripts/dev/install-deps.sh --tests)"
    return 1
}
have=1
need slowhttptest slowhttptest || have=0
need curl curl || have=0
need "$PY" python3 || have=0
if [ ! -x "$BWS" ]; then
    bad "bws binary at $BWS (set BWS_BUILD_DIR, or build: cmake --build $BUILD --target bws)"
    have=0
fi
[ "$have" = 1 ] || finish

T=$(mktemp -d /tmp/bws-slowhttp.XXXXXX)
chmod 0755 "$T" # run as root, the worker drops to nobody: it must reach the pages
PIDS=()
BWS_PID=
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
    if [ -n "$BWS_PID" ] && kill -0 "$BWS_PID" 2>/dev/null; then
        kill -TERM "$BWS_PID" 2>/dev/null
        for _ in $(seq 1 100); do
            kill -0 "$BWS_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$BWS_PID" 2>/dev/null
        wait "$BWS_PID" 2>/dev/null
    fi
    if [ "${BWS_SLOWHTTP_KEEP:-0}" = 1 ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------------------------- bws
mkdir -p "$T/www"
chmod 0755 "$T/www"
echo 'probe-ok' >"$T/www/probe.txt"
head -c 1048576 /dev/urandom >"$T/www/big.bin"
chmod 0644 "$T/www/probe.txt" "$T/www/big.bin"
PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# The defaults for every limit and timeout: what is under test is how bws behaves as shipped.
cat >"$T/bws.toml" <<EOF
[server]
name = "bws slowhttp"
workers = 1
shutdown_timeout = "2s"

[daemon]
pid_file = "$T/bws.pid"

[logging]
output = "stderr"
log_requests = false

[[sites]]
name = "slow"
hostname = "localhost"
hostnames = ["127.0.0.1"]
port = $PORT
bind = "127.0.0.1"
static_dir = "$T/www"
EOF
"$BWS" -c "$T/bws.toml" >"$T/bws.log" 2>&1 &
BWS_PID=$!
ready=0
for _ in $(seq 1 200); do
    if curl -s --noproxy '*' --max-time 2 "http://127.0.0.1:$PORT/health" 2>/dev/null |
        grep -q '"status":"healthy"'; then
        ready=1
        break
    fi
    kill -0 "$BWS_PID" 2>/dev/null || break
    sleep 0.1
done
if [ "$ready" = 1 ]; then
    ok "bws (1 worker) serves http://127.0.0.1:$PORT/"
else
    bad "bws ready on http://127.0.0.1:$PORT" "$(tail -20 "$T/bws.log")"
    finish
fi
size=$(curl -s --noproxy '*' --max-time 5 -o /dev/null -w '%{size_download}' "http://127.0.0.1:$PORT/big.bin")
[ "$size" = 1048576 ] && ok "the slow-read target /big.bin is served whole (1 MiB)" ||
    bad "the slow-read target /big.bin is served whole: $size bytes"

# ----------------------------------------------------------------------------- helpers
# probe_start NAME: one request every ~100 ms (a fresh connection each, 2 s at most) until
# $T/NAME.stop exists; one line per request in $T/NAME.probe: "ok", or "fail" with curl's
# exit code, the HTTP status, the bytes, the connect and total times and the clock.
probe_start() {
    local name=$1
    rm -f "$T/$name.stop" "$T/$name.probe"
    (
        while [ ! -e "$T/$name.stop" ]; do
            out=$(curl -s --noproxy '*' --max-time 2 -o /dev/null \
                -w '%{http_code} %{size_download} connect %{time_connect} total %{time_total}' \
                "http://127.0.0.1:$PORT/probe.txt" 2>/dev/null)
            code=$?
            if [ "$code" = 0 ] && [ "${out%% connect*}" = "200 9" ]; then
                echo ok
            else
                echo "fail exit $code: $out at $(date +%T.%N)"
            fi
            sleep 0.1
        done >"$T/$name.probe"
    ) &
    PROBE=$!
    PIDS+=("$PROBE")
}
# probe_stop NAME: ends the probe; sets P_OK P_TOTAL P_AVAIL (percent, two decimals).
probe_stop() {
    touch "$T/$1.stop"
    wait "$PROBE"
    P_OK=$(grep -c '^ok' "$T/$1.probe")
    P_TOTAL=$(wc -l <"$T/$1.probe")
    P_AVAIL=$("$PY" -c 'import sys; o, t = map(int, sys.argv[1:]); print(f"{100 * o / t:.2f}" if t else "0.00")' "$P_OK" "$P_TOTAL")
}
# csv_summary FILE: slowhttptest's CSV (seconds,closed,pending,connected,service available)
# as "samples S available A max_connected C" (A: samples with the service available).
csv_summary() {
    "$PY" - "$1" <<'EOF'
import csv, sys
rows = list(csv.reader(open(sys.argv[1])))
head, rows = rows[0], [r for r in rows[1:] if r and r[0].strip().isdigit()]
col = {name.strip().lower(): i for i, name in enumerate(head)}
avail = col.get("service available", len(head) - 1)
conn = col.get("connected", 3)
up = sum(1 for r in rows if r[avail].strip() not in ("0", ""))
most = max((int(r[conn]) for r in rows), default=0)
print(f"samples {len(rows)} available {up} max_connected {most}")
EOF
}

# attack NAME DESCRIPTION SLOWHTTPTEST-ARGS...: runs one attack with the probe alongside and
# checks both measures of availability.
attack() {
    local name=$1 desc=$2 rc start elapsed
    shift 2
    echo "-- $desc: slowhttptest $*"
    probe_start "$name"
    start=$(date +%s)
    # slowhttptest stops by itself after -l seconds; the timeout only guards against a hang.
    (cd "$T" && timeout $((SECONDS_PER_ATTACK + 30)) slowhttptest "$@" -c "$CONNS" -l "$SECONDS_PER_ATTACK" \
        -p 3 -g -o "$T/$name" -u "http://127.0.0.1:$PORT/$URL_PATH" >"$T/$name.out" 2>&1)
    rc=$?
    elapsed=$(($(date +%s) - start))
    probe_stop "$name"
    local verdict csv
    verdict=$(sed 's/\x1b\[[0-9;]*m//g' "$T/$name.out" | grep -iE '^exit status|^test ended' | tail -2 | paste -sd' ')
    csv=$(csv_summary "$T/$name.csv" 2>/dev/null)
    echo "      $desc: $CONNS connections, $elapsed s; probe: $P_OK of $P_TOTAL requests served," \
        "availability $P_AVAIL %"
    echo "      slowhttptest: ${csv:-no CSV}; it says: ${verdict:-nothing}"
    [ "$P_OK" = "$P_TOTAL" ] || grep -v '^ok' "$T/$name.probe" | head -5 | sed 's/^/      probe /'
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 1 ]; then
        bad "$desc: slowhttptest ran (exit $rc)" "$(tail -20 "$T/$name.out")"
    fi
    # At ~100 ms a request (plus curl's start-up), at least 3 requests a second of the attack.
    [ "$P_TOTAL" -ge $((elapsed * 3)) ] && [ "$P_TOTAL" -ge 5 ] &&
        "$PY" -c 'import sys; sys.exit(0 if float(sys.argv[1]) >= 99 else 1)' "$P_AVAIL" &&
        ok "$desc: probe availability $P_AVAIL % >= 99 % ($P_OK of $P_TOTAL)" ||
        bad "$desc: probe availability $P_AVAIL % ($P_OK of $P_TOTAL) < 99 %" \
            "$(grep -v '^ok' "$T/$name.probe" | head -10)"
    local samples up most
    read -r _ samples _ up _ most <<<"${csv:-samples 0 available 0 max_connected 0}"
    [ "${samples:-0}" -gt 0 ] && [ $((up * 100)) -ge $((samples * 99)) ] &&
        ok "$desc: slowhttptest saw the service available in $up of $samples samples (up to $most attack connections open)" ||
        bad "$desc: slowhttptest saw the service available in ${up:-0} of ${samples:-0} samples" \
            "$(tail -20 "$T/$name.out")"
    kill -0 "$BWS_PID" 2>/dev/null && ok "$desc: bws is still running" ||
        bad "$desc: bws is still running" "$(tail -20 "$T/bws.log")"
}

# ------------------------------------------------------------------------------ attacks
URL_PATH=big.bin
attack slowread "slow read (-X)" -X -r 200 -w 512 -y 1024 -n 5 -z 32 -k 3
URL_PATH=probe.txt
attack slowbody "slow body (-B, POST)" -B -r 200 -i 10 -s 1000000 -x 10
attack slowbody_get "slow body (-B, GET)" -B -t GET -r 200 -i 10 -s 8192 -x 10

# After the attacks: a fresh request is answered at once and nothing crashed.
t=$(curl -s --noproxy '*' --max-time 2 -o /dev/null -w '%{http_code} %{time_total}' "http://127.0.0.1:$PORT/probe.txt")
[ "${t%% *}" = 200 ] && ok "after the attacks a fresh request is answered ($t s)" || bad "after the attacks: '$t'"
grep -qiE "AddressSanitizer|terminate called|Segmentation" "$T/bws.log" && bad "bws log shows a crash" "$(tail -20 "$T/bws.log")" ||
    ok "no crash in the bws log"
finish
