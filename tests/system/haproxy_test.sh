#!/bin/bash
# haproxy_test.sh: the manual's scale-out setup ("With Load Balancer" in daemon-mode.md):
# Debian's HAProxy with `option httpchk GET /health` in front of two bws instances, under
# continuous keep-alive client load through HAProxy (4 clients, loopback, Host: localhost,
# the sites' name). The scenarios and
# the failed requests each may cost (a failure: a transport error or a status other than 200):
#   1. graceful stop of bws1 with [server] drain_delay: 0 failed (the drain takes it out of
#      HAProxy before it stops accepting);
#   2. kill -9 of bws2's master (bws1 back in service): failures only until HAProxy's checks
#      mark bws2 down (fall 2 × inter 250 ms here), none after;
#   3. a rolling reload of both (`bws --reload`, one after the other): 0 failed;
#   4. kill -9 of bws2's master again, HAProxy with `option redispatch 1` (what
#      docs/operations.md recommends): at most the requests in flight on it.
# Each scenario prints its counts. HAProxy's configuration is the manual's, with the check
# interval shortened (default-server inter 250ms fall 2 rise 2) and loopback ports.
#
# Usage: tests/system/haproxy_test.sh      (any user; about 30 s)
# env:   BWS_BUILD_DIR   build tree holding bws (default build-tests)
#        BWS_HAPROXY_KEEP=1  keep the temp dir (configs, logs) and print its path
# Needs: haproxy (Debian's package), /usr/bin/python3, curl.
# Last line: "N passed, N failed"; exit status 1 if anything failed.

# `COND && ok NAME || bad NAME`: ok() always succeeds, so bad() runs exactly when COND fails.
# cleanup runs from the EXIT trap only (SC2317).
# shellcheck disable=SC2015,SC2317
set -u

SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BWS_BUILD_DIR:-$SRC/build-tests}
BWS=$BUILD/bws
PY=/usr/bin/python3

# shellcheck source=tests/system/checks.sh
. "$SRC/tests/system/checks.sh"

echo "== HAProxy in front of two bws instances"
if ! command -v haproxy >/dev/null 2>&1; then
    bad "haproxy is installed (apt-get install haproxy; scripts/dev/install-deps.sh --tests)"
    finish
fi
[ -x "$BWS" ] || { bad "bws binary at $BWS (build it, or set BWS_BUILD_DIR)"; finish; }

T=$(mktemp -d /tmp/bws-haproxy.XXXXXX)
chmod 0755 "$T" # run as root, bws workers drop to nobody: they must reach the pages
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
    if [ "${BWS_HAPROXY_KEEP:-0}" = 1 ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT

# Three free loopback ports from the kernel.
read -r FE P1 P2 < <($PY -c '
import socket
s = [socket.socket() for _ in range(3)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')

# write_bws N PORT: the instance's directory, a page naming it, its config.
write_bws() {
    local d=$T/bws$1
    mkdir -p "$d/www"
    echo "bws$1" >"$d/www/index.html"
    cat >"$d/config.toml" <<EOF
[server]
workers = 2
shutdown_timeout = "5s"
drain_delay = "1500ms"

[daemon]
pid_file = "$d/bws.pid"

[logging]
level = "info"
access_log = "off"

[[sites]]
name = "bws$1"
hostname = "localhost"
port = $2
bind = "127.0.0.1"
static_dir = "$d/www"
EOF
}

# start_bws N: starts instance N in the background; BWS_PID[N] is its master.
declare -A BWS_PID
start_bws() {
    "$BWS" -c "$T/bws$1/config.toml" >>"$T/bws$1/out.log" 2>&1 &
    BWS_PID[$1]=$!
    PIDS+=("$!")
}

# The stats socket tells a server's state: "UP", "DOWN", ...
srv_state() {
    $PY - "$T/haproxy.sock" "$1" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b"show stat\n")
data = b""
while chunk := s.recv(65536):
    data += chunk
for line in data.decode().splitlines():
    f = line.split(",")
    if len(f) > 17 and f[0] == "bws_servers" and f[1] == sys.argv[2]:
        print(f[17].split(" ")[0])
EOF
}
# wait_state NAME STATE SECONDS
wait_state() {
    local i
    for ((i = 0; i < $3 * 10; i++)); do
        [ "$(srv_state "$1")" = "$2" ] && return 0
        sleep 0.1
    done
    return 1
}

# Client load through HAProxy: 4 keep-alive clients until $T/stop appears; then one line,
# "ok N failed M first_fail T last_fail T" (T: when the failed requests were sent, in seconds
# since CLIENT_T0, the wall-clock time the shell took before starting it, so that the client's
# times and since_client's share one origin however long Python takes to start; -1 when none). Send times, because HAProxy (the manual's configuration:
# retries 3, no redispatch) answers a request it sent to a dead server only after its retries,
# 1 s apart.
client() {
    rm -f "$T/stop"
    CLIENT_T0=$(date +%s.%N)
    $PY - "$FE" "$T/stop" "$CLIENT_T0" >"$T/client.out" 2>&1 <<'EOF' &
import http.client, os, sys, threading, time
port, stop, t0 = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
lock = threading.Lock()
ok = failed = 0
fails = []
def run():
    global ok, failed
    conn = None
    while not os.path.exists(stop):
        sent = time.time() - t0
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/", headers={"Host": "localhost"})
            r = conn.getresponse()
            body = r.read()
            good = r.status == 200 and body.startswith(b"bws")
            if r.getheader("connection", "").lower() == "close":
                conn.close(); conn = None
        except Exception:
            good = False
            if conn is not None:
                conn.close()
            conn = None
        with lock:
            if good:
                ok += 1
            else:
                failed += 1
                fails.append(sent)
threads = [threading.Thread(target=run) for _ in range(4)]
for t in threads: t.start()
for t in threads: t.join()
first = min(fails) if fails else -1
last = max(fails) if fails else -1
print(f"ok {ok} failed {failed} first_fail {first:.2f} last_fail {last:.2f}")
EOF
    CLIENT=$!
    PIDS+=("$CLIENT")
}
# client_stop: ends the load; sets OK FAILED FIRST LAST from its line.
client_stop() {
    touch "$T/stop"
    wait "$CLIENT"
    read -r _ OK _ FAILED _ FIRST _ LAST <"$T/client.out" || { OK=0; FAILED=-1; }
}
# Seconds since the client started, for comparing with its failure times.
since_client() { $PY -c "import sys; print(f'{float(sys.argv[1]) - float(sys.argv[2]):.2f}')" "$(date +%s.%N)" "$CLIENT_T0"; }

write_bws 1 "$P1"
write_bws 2 "$P2"
start_bws 1
start_bws 2

cat >"$T/haproxy.cfg" <<EOF
global
    maxconn 4096
    stats socket $T/haproxy.sock mode 600 level admin

defaults
    mode http
    timeout connect 5000ms
    timeout client 50000ms
    timeout server 50000ms

frontend web_frontend
    bind 127.0.0.1:$FE
    default_backend bws_servers

backend bws_servers
    balance roundrobin
    option httpchk GET /health
    default-server inter 250ms fall 2 rise 2
    server bws1 127.0.0.1:$P1 check
    server bws2 127.0.0.1:$P2 check
EOF
check "haproxy -c accepts the manual's configuration" haproxy -q -c -f "$T/haproxy.cfg"
haproxy -db -f "$T/haproxy.cfg" >"$T/haproxy.log" 2>&1 &
HAPROXY=$!
PIDS+=("$HAPROXY")

for _ in $(seq 1 100); do [ -S "$T/haproxy.sock" ] && break; sleep 0.1; done
wait_state bws1 UP 10 && wait_state bws2 UP 10 && ok "HAProxy sees both bws instances UP" ||
    { bad "HAProxy sees both bws instances UP" "$(cat "$T/haproxy.log" "$T"/bws*/out.log)"; finish; }
seen=$(for _ in 1 2 3 4; do curl -s --noproxy '*' --max-time 5 -H 'Host: localhost' "http://127.0.0.1:$FE/"; done | sort -u | paste -sd' ')
[ "$seen" = "bws1 bws2" ] && ok "round robin reaches both ($seen)" || bad "round robin reaches both: '$seen'"

# ------------------------------------------------ 1. graceful stop of bws1, with its drain
client
sleep 1
kill -TERM "${BWS_PID[1]}"
wait_state bws1 DOWN 5 && ok "HAProxy marks the draining bws1 DOWN ($(since_client) s into the load)" ||
    bad "HAProxy marks the draining bws1 DOWN"
wait "${BWS_PID[1]}"
code=$?
[ "$code" = 0 ] && ok "bws1 stopped gracefully (exit 0)" || bad "bws1 stopped gracefully: exit $code" "$(tail -5 "$T/bws1/out.log")"
sleep 1
client_stop
echo "      graceful stop of bws1: $OK requests served, $FAILED failed"
[ "$FAILED" = 0 ] && [ "$OK" -gt 0 ] && ok "graceful stop with drain_delay: 0 failed requests ($OK served)" ||
    bad "graceful stop with drain_delay: $FAILED failed of $((OK + FAILED)) (first at $FIRST s, last at $LAST s)" \
        "$(tail -20 "$T/haproxy.log")"
grep -q "graceful stop in 1500 ms" "$T/bws1/out.log" && ok "bws1 drained 1500 ms before stopping" ||
    bad "bws1 drained before stopping" "$(tail -10 "$T/bws1/out.log")"

start_bws 1
wait_state bws1 UP 10 && ok "bws1 restarted and UP again" || bad "bws1 restarted and UP again" "$(tail -5 "$T/bws1/out.log")"

# ------------------------------------------------ 2. kill -9 of bws2's master
client
sleep 1
kill_at=$(since_client)
kill -KILL "${BWS_PID[2]}"
wait "${BWS_PID[2]}" 2>/dev/null
if wait_state bws2 DOWN 5; then
    down_at=$(since_client)
    ok "HAProxy marks bws2 DOWN after its master's kill -9 (killed at $kill_at s, DOWN by $down_at s)"
else
    down_at=999
    bad "HAProxy marks bws2 DOWN after its master's kill -9"
fi
sleep 1
client_stop
echo "      kill -9 of bws2's master: $OK requests served, $FAILED failed (first at $FIRST s, last at $LAST s; killed at $kill_at s, DOWN by $down_at s)"
# Only requests sent between the kill and HAProxy's DOWN may fail (plus 0.5 s of margin for
# the moment the client reads the time).
if [ "$FAILED" = 0 ] || $PY -c "import sys; sys.exit(0 if float(sys.argv[1]) >= float(sys.argv[2]) - 0.1 and float(sys.argv[3]) <= float(sys.argv[4]) + 0.5 else 1)" "$FIRST" "$kill_at" "$LAST" "$down_at"; then
    ok "kill -9: $FAILED failed request(s), all sent before HAProxy marked bws2 down"
else
    bad "kill -9: failures outside the kill-to-DOWN window ($FAILED failed, first $FIRST s, last $LAST s)" \
        "$(tail -20 "$T/haproxy.log")"
fi
# Its workers notice the lost master and leave; the instance starts again on the same port.
for _ in $(seq 1 100); do
    curl -s --noproxy '*' --max-time 1 -o /dev/null "http://127.0.0.1:$P2/" || break
    sleep 0.1
done
start_bws 2
wait_state bws2 UP 15 && ok "bws2 restarted and UP again" || bad "bws2 restarted and UP again" "$(tail -5 "$T/bws2/out.log")"

# ------------------------------------------------ 3. rolling reload of both
client
sleep 1
r1=$("$BWS" --reload --pid-file "$T/bws1/bws.pid" 2>&1) && ok "bws --reload of bws1: $r1" || bad "bws --reload of bws1" "$r1"
sleep 1
r2=$("$BWS" --reload --pid-file "$T/bws2/bws.pid" 2>&1) && ok "bws --reload of bws2: $r2" || bad "bws --reload of bws2" "$r2"
sleep 1
client_stop
echo "      rolling reload: $OK requests served, $FAILED failed"
[ "$FAILED" = 0 ] && [ "$OK" -gt 0 ] && ok "rolling reload: 0 failed requests ($OK served)" ||
    bad "rolling reload: $FAILED failed of $((OK + FAILED)) (first at $FIRST s, last at $LAST s)" \
        "$(tail -20 "$T/haproxy.log"; tail -10 "$T/bws1/out.log" "$T/bws2/out.log")"
[ "$(srv_state bws1)" = UP ] && [ "$(srv_state bws2)" = UP ] && ok "both UP after the reloads" ||
    bad "both UP after the reloads: bws1 $(srv_state bws1), bws2 $(srv_state bws2)"

# ------------------------------------------------ 4. kill -9 again, HAProxy redispatching
# The configuration docs/operations.md recommends adds `option redispatch 1`: a request whose
# connection to a dead server fails is retried on another one, so a crash costs at most the
# requests that were in flight on it.
sed -i 's/^    option httpchk GET \/health$/    option httpchk GET \/health\n    option redispatch 1\n    retries 2/' "$T/haproxy.cfg"
kill -USR1 "$HAPROXY" # soft stop: finishes its connections and exits
wait "$HAPROXY" 2>/dev/null
rm -f "$T/haproxy.sock"
haproxy -db -f "$T/haproxy.cfg" >"$T/haproxy2.log" 2>&1 &
HAPROXY=$!
PIDS+=("$HAPROXY")
for _ in $(seq 1 100); do [ -S "$T/haproxy.sock" ] && break; sleep 0.1; done
wait_state bws1 UP 10 && wait_state bws2 UP 10 && ok "HAProxy with option redispatch: both UP" ||
    bad "HAProxy with option redispatch: both UP" "$(cat "$T/haproxy2.log")"
client
sleep 1
kill -KILL "${BWS_PID[2]}"
wait "${BWS_PID[2]}" 2>/dev/null
wait_state bws2 DOWN 5 || bad "HAProxy marks bws2 DOWN (redispatch)"
sleep 1
client_stop
echo "      kill -9 of bws2's master, option redispatch 1: $OK requests served, $FAILED failed"
[ "$FAILED" -le 4 ] && [ "$OK" -gt 0 ] &&
    ok "kill -9 with option redispatch 1: $FAILED failed (at most the 4 clients' requests in flight)" ||
    bad "kill -9 with option redispatch 1: $FAILED failed of $((OK + FAILED)) (first at $FIRST s, last at $LAST s)" \
        "$(tail -20 "$T/haproxy2.log")"

for n in 1 2; do
    kill -TERM "${BWS_PID[$n]}" 2>/dev/null
    wait "${BWS_PID[$n]}" 2>/dev/null
done
kill -TERM "$HAPROXY" 2>/dev/null
wait "$HAPROXY" 2>/dev/null
grep -qiE "AddressSanitizer|terminate called|Segmentation" "$T"/bws*/out.log && bad "bws logs show a crash" || ok "no crash in the bws logs"
finish
