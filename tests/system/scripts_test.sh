#!/bin/bash
# scripts_test.sh: checks the shipped ops files without a running systemd: shellcheck,
# bws-health-check and bws-recovery against a local HTTP server and fake systemctl/logger,
# bws-health-check over HTTPS against a real bws (certificates made with openssl),
# `systemd-analyze verify` and `security` on the units, sysusers/tmpfiles in a scratch root,
# logrotate with a temp state file, and (given a build dir) the `cmake --install` layout.
#
# Usage: tests/system/scripts_test.sh [BUILD_DIR]
#   BUILD_DIR: a configured and built tree; enables the install-layout checks.
# env: BWS_BUILD_DIR: where bws is when BUILD_DIR is not given (default build-tests).
# Needs: shellcheck, curl, openssl, logrotate, systemd (systemd-analyze, -sysusers, -tmpfiles),
# /usr/bin/python3, a built bws. A missing tool fails its checks (it never skips them silently).
# Last line: "N passed, N failed"; exit status 1 if anything failed.

# `COND && ok NAME || bad NAME` is used throughout: ok() always succeeds, so bad() runs
# exactly when COND fails.
# shellcheck disable=SC2015

set -u

SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD_DIR=${1:-}
HC=$SRC/scripts/bws-health-check
REC=$SRC/scripts/bws-recovery
PY=/usr/bin/python3

# shellcheck source=tests/system/checks.sh
. "$SRC/tests/system/checks.sh"
T=$(mktemp -d /tmp/bws-scripts-test.XXXXXX)
SERVER_PID=
BWS_PID=

cleanup() {
    local pid
    for pid in "$SERVER_PID" "$BWS_PID"; do
        [ -n "$pid" ] || continue
        kill "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# check NAME COMMAND...: passes when the command succeeds; shows its output when not
# (replaces checks.sh's check, which leaves the output on the terminal).
check() {
    local name=$1
    shift
    local out
    if out=$("$@" 2>&1); then ok "$name"; else bad "$name" "$out"; fi
}
need() {
    if command -v "$1" >/dev/null 2>&1; then return 0; fi
    bad "tool $1 is installed (apt-get install $2)"
    return 1
}

# run_rc EXPECTED NAME COMMAND...: runs with a 30 s bound; output in $T/out and $T/err.
run_rc() {
    local want=$1 name=$2
    shift 2
    local rc=0
    timeout 30 "$@" >"$T/out" 2>"$T/err" || rc=$?
    if [ "$rc" -eq "$want" ]; then
        ok "$name (exit $rc)"
    else
        bad "$name: exit $rc, expected $want" "$(cat "$T/out" "$T/err")"
    fi
}

# ---------------------------------------------------------------------------------------
echo "== shellcheck"
if need shellcheck shellcheck; then
    check "shellcheck bws-health-check" shellcheck -s sh "$HC"
    check "shellcheck bws-recovery" shellcheck -s sh "$REC"
    # -x from the tree's top, so the scripts' "source=tests/system/checks.sh" is followed.
    for t in checks.sh scripts_test.sh testssl_test.sh slowhttp_test.sh idle_conns_test.sh; do
        check "shellcheck $t" env -C "$SRC" shellcheck -x -s bash "tests/system/$t"
    done
fi
check "bws-health-check runs under dash (POSIX sh)" dash -n "$HC"
check "bws-recovery runs under dash (POSIX sh)" dash -n "$REC"

# ---------------------------------------------------------------------------------------
echo "== bws-health-check"
need curl curl
need "$PY" python3
# A tiny HTTP server on a free loopback port (port 0). Its answer comes from files in
# $T/www: status, body, delay (seconds). It writes its port once listening: the readiness
# signal the tests wait for.
mkdir -p "$T/www" "$T/bin"
cat >"$T/server.py" <<'EOF'
import http.server, os, sys, time
root = sys.argv[1]
def read(name, default):
    try:
        with open(os.path.join(root, name)) as f:
            return f.read()
    except FileNotFoundError:
        return default
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        time.sleep(float(read("delay", "0")))
        body = read("body", "").encode()
        self.send_response(int(read("status", "200")))
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (the timeout test)
        with open(os.path.join(root, "requests"), "a") as f:
            f.write(self.path + "\n")
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
with open(os.path.join(root, "port.tmp"), "w") as f:
    f.write(str(server.server_address[1]))
os.rename(os.path.join(root, "port.tmp"), os.path.join(root, "port"))
server.serve_forever()
EOF
set_answer() { # STATUS BODY [DELAY]
    # Each file replaced in one rename: a request still sleeping from the timeout test must
    # never read a half-written status.
    printf '%s' "$1" >"$T/www/status.tmp" && mv -f "$T/www/status.tmp" "$T/www/status"
    printf '%s' "$2" >"$T/www/body.tmp" && mv -f "$T/www/body.tmp" "$T/www/body"
    printf '%s' "${3:-0}" >"$T/www/delay.tmp" && mv -f "$T/www/delay.tmp" "$T/www/delay"
}
HEALTHY='{"status":"healthy","version":"0.1.0","uptime_seconds":3,"pid":1}'
set_answer 200 "$HEALTHY"
"$PY" "$T/server.py" "$T/www" &
SERVER_PID=$!
for _ in $(seq 1 200); do
    [ -s "$T/www/port" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.05
done
PORT=$(cat "$T/www/port" 2>/dev/null)
if [ -z "$PORT" ]; then
    bad "test HTTP server started"
    echo "$passed passed, $failed failed"
    exit 1
fi
URL=http://127.0.0.1:$PORT/health
# A port with nothing listening: bound by the kernel, then released.
DOWN_PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# The server's PID stands in for a live master; a reaped child's PID for a dead one.
echo "$SERVER_PID" >"$T/live.pid"
sh -c 'exit 0' &
DEAD=$!
wait "$DEAD"
echo "$DEAD" >"$T/dead.pid"
printf 'not-a-pid\n' >"$T/garbage.pid"
printf '%s' "$SERVER_PID" >"$T/nonewline.pid"

export BWS_HEALTH_URL=$URL BWS_PID_FILE=$T/live.pid
unset BWS_HEALTH_TIMEOUT http_proxy HTTP_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY

run_rc 0 "healthy" "$HC"
grep -q "^OK: bws is healthy (pid $SERVER_PID)" "$T/out" && ok "healthy: OK line names the pid" ||
    bad "healthy: OK line" "$(cat "$T/out")"
run_rc 0 "healthy, options instead of environment" env -u BWS_HEALTH_URL -u BWS_PID_FILE \
    "$HC" --url "$URL" --pid-file "$T/live.pid" --timeout 5
run_rc 0 "healthy, --opt=value forms" env -u BWS_HEALTH_URL "$HC" --url="$URL" --timeout=2.5
run_rc 0 "PID file without a final newline" "$HC" -p "$T/nonewline.pid"
run_rc 0 "empty --pid-file skips the process checks" "$HC" --pid-file ''
run_rc 0 "an http_proxy in the environment is not used" \
    env http_proxy="http://127.0.0.1:$DOWN_PORT" HTTP_PROXY="http://127.0.0.1:$DOWN_PORT" "$HC"
run_rc 0 "quiet, healthy" "$HC" -q
[ ! -s "$T/out" ] && [ ! -s "$T/err" ] && ok "quiet, healthy: prints nothing" ||
    bad "quiet, healthy: prints nothing" "$(cat "$T/out" "$T/err")"

run_rc 1 "missing PID file" "$HC" --pid-file "$T/nonexistent.pid"
grep -q "PID file .* not found" "$T/err" && ok "missing PID file: says so on stderr" ||
    bad "missing PID file message" "$(cat "$T/err")"
run_rc 1 "PID file without a PID" "$HC" --pid-file "$T/garbage.pid"
run_rc 2 "dead process" "$HC" --pid-file "$T/dead.pid"
grep -q "not running" "$T/err" && ok "dead process: says so" || bad "dead process message" "$(cat "$T/err")"
run_rc 3 "server down (connection refused)" "$HC" --url "http://127.0.0.1:$DOWN_PORT/health"
grep -q "connection refused" "$T/err" && ok "server down: says connection refused" ||
    bad "server down message" "$(cat "$T/err")"
run_rc 3 "server down, quiet" "$HC" -q --url "http://127.0.0.1:$DOWN_PORT/health"
[ ! -s "$T/out" ] && [ ! -s "$T/err" ] && ok "quiet, unhealthy: prints nothing" ||
    bad "quiet, unhealthy: prints nothing" "$(cat "$T/out" "$T/err")"
set_answer 503 '{"status":"unhealthy"}'
run_rc 3 "HTTP 503" "$HC"
grep -q "HTTP 503" "$T/err" && ok "HTTP 503: names the status" || bad "HTTP 503 message" "$(cat "$T/err")"
set_answer 503 '{"status":"draining","version":"0"}'
run_rc 0 "HTTP 503 \"draining\" (a drain on purpose) passes" "$HC"
grep -q "^OK: bws is draining on purpose" "$T/out" && ok "draining: the OK line says so" ||
    bad "draining: OK line" "$(cat "$T/out")"
set_answer 200 '{"status":"degraded"}'
run_rc 4 "HTTP 200 but not healthy" "$HC"
set_answer 200 '<html>hello</html>'
run_rc 4 "HTTP 200 with a non-JSON body" "$HC"
set_answer 200 "{
  \"status\" : \"healthy\"
}"
run_rc 0 "pretty-printed healthy JSON" "$HC"
set_answer 200 "$HEALTHY" 3
start=$(date +%s%N)
run_rc 3 "slow endpoint hits --timeout 1" "$HC" --timeout 1
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
[ "$elapsed_ms" -lt 2800 ] && ok "timeout honoured (${elapsed_ms} ms < 2800 ms)" ||
    bad "timeout honoured: took ${elapsed_ms} ms"
grep -q "no answer within 1s" "$T/err" && ok "timeout: says so" || bad "timeout message" "$(cat "$T/err")"
set_answer 200 "$HEALTHY"

run_rc 0 "--help" "$HC" --help
grep -q "^Exit codes:" "$T/out" && ok "--help documents the exit codes" || bad "--help text"
run_rc 64 "unknown option" "$HC" --bogus
run_rc 64 "option without its value" "$HC" --url
run_rc 64 "zero timeout" "$HC" --timeout 0
run_rc 64 "non-numeric timeout" "$HC" --timeout 5s
run_rc 64 "non-HTTP URL" "$HC" --url "ftp://127.0.0.1/"
run_rc 64 "stray argument" "$HC" extra
# Without curl: a PATH with only what the script needs besides curl.
mkdir -p "$T/nocurl"
for tool in grep tr cut id; do ln -sf "$(command -v "$tool")" "$T/nocurl/$tool"; done
run_rc 69 "curl missing" env PATH="$T/nocurl" /bin/sh "$HC"

# ---------------------------------------------------------------------------------------
echo "== bws-health-check over HTTPS (a real bws)"
# One bws with two TLS sites on one port (a certificate from a test CA for health.test and
# 127.0.0.1; a self-signed one for other.test, chosen by SNI) and a plain site with
# redirect_to_https on another port. The bws binary: BUILD_DIR, else $BWS_BUILD_DIR (set by
# run-tests.sh), else build-tests.
BWS_DIR=${BUILD_DIR:-${BWS_BUILD_DIR:-$SRC/build-tests}}
BWS_BIN=$BWS_DIR/bws
tls_ready=0
if [ ! -x "$BWS_BIN" ]; then
    bad "bws binary at $BWS_BIN (pass BUILD_DIR or set BWS_BUILD_DIR)"
elif need openssl openssl; then
    B=$T/bws
    mkdir -p "$B/tls" "$B/www"
    # Started as root, bws's workers run as nobody: they must reach the content.
    chmod 0755 "$T" "$B" "$B/www"
    echo '<h1>tls</h1>' >"$B/www/index.html"
    ec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
    printf '%s\n' "subjectAltName=DNS:health.test,IP:127.0.0.1" "basicConstraints=critical,CA:FALSE" \
        "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" >"$B/tls/leaf.ext"
    if out=$({
        openssl req -x509 "${ec[@]}" -days 60 -keyout "$B/tls/ca.key" -out "$B/tls/ca.pem" \
            -subj "/CN=bws scripts_test CA" -addext "basicConstraints=critical,CA:TRUE" \
            -addext "keyUsage=critical,keyCertSign,cRLSign" &&
            openssl req "${ec[@]}" -keyout "$B/tls/health.key" -out "$B/tls/health.csr" \
                -subj "/CN=health.test" &&
            openssl x509 -req -in "$B/tls/health.csr" -CA "$B/tls/ca.pem" -CAkey "$B/tls/ca.key" \
                -CAcreateserial -days 60 -extfile "$B/tls/leaf.ext" -out "$B/tls/health.pem" &&
            openssl req -x509 "${ec[@]}" -days 60 -keyout "$B/tls/other.key" -out "$B/tls/other.pem" \
                -subj "/CN=other.test" -addext "subjectAltName=DNS:other.test"
    } 2>&1); then
        # Keys as the docs advise: root-only, read by the master before the workers drop.
        chmod 0600 "$B"/tls/*.key
        ok "test CA, a certificate it signed, and a self-signed one (openssl)"
    else
        bad "openssl: test certificates" "$out"
    fi
    read -r TLS_PORT PLAIN_PORT < <("$PY" -c '
import socket
a, b = socket.socket(), socket.socket()
a.bind(("127.0.0.1", 0)); b.bind(("127.0.0.1", 0))
print(a.getsockname()[1], b.getsockname()[1])')
    cat >"$B/bws.toml" <<TOML
[server]
workers = 1
[daemon]
pid_file = "$B/bws.pid"
[logging]
output = "stderr"
log_requests = false

[[sites]]
name = "health"
hostname = "health.test"
hostnames = ["127.0.0.1"]
port = $TLS_PORT
bind = "127.0.0.1"
static_dir = "$B/www"
[sites.ssl]
enabled = true
cert_file = "$B/tls/health.pem"
key_file = "$B/tls/health.key"

[[sites]]
name = "other"
hostname = "other.test"
port = $TLS_PORT
bind = "127.0.0.1"
static_dir = "$B/www"
[sites.ssl]
enabled = true
cert_file = "$B/tls/other.pem"
key_file = "$B/tls/other.key"

[[sites]]
name = "plain"
hostname = "health.test"
hostnames = ["127.0.0.1"]
port = $PLAIN_PORT
bind = "127.0.0.1"
static_dir = "$B/www"
redirect_to_https = true
TOML
    # BWS_PID_FILE (exported above for the checks) would override [daemon] pid_file.
    env -u BWS_PID_FILE "$BWS_BIN" -c "$B/bws.toml" --pid-file "$B/bws.pid" >"$B/bws.log" 2>&1 &
    BWS_PID=$!
    for _ in $(seq 1 200); do
        if curl -sk --noproxy '*' --max-time 2 "https://127.0.0.1:$TLS_PORT/health" 2>/dev/null |
            grep -q '"status":"healthy"' && [ -s "$B/bws.pid" ]; then
            tls_ready=1
            break
        fi
        kill -0 "$BWS_PID" 2>/dev/null || break
        sleep 0.1
    done
    [ "$tls_ready" = 1 ] && ok "bws serves TLS on 127.0.0.1:$TLS_PORT, plain HTTP on :$PLAIN_PORT" ||
        bad "bws started with the TLS configuration" "$(tail -20 "$B/bws.log")"
fi
if [ "$tls_ready" = 1 ]; then
    H=https://health.test:$TLS_PORT/health
    O=https://other.test:$TLS_PORT/health
    CA=$B/tls/ca.pem
    P=(--pid-file "$B/bws.pid")
    run_rc 0 "https: --ca-file, --connect-to 127.0.0.1 verifies health.test" \
        "$HC" "${P[@]}" --url "$H" --ca-file "$CA" --connect-to 127.0.0.1
    grep -q "^OK: bws is healthy (pid $BWS_PID): $H" "$T/out" && ok "https: OK line names the master and the URL" ||
        bad "https: OK line" "$(cat "$T/out")"
    run_rc 0 "https: the same from BWS_HEALTH_CA_FILE and BWS_HEALTH_CONNECT_TO" \
        env BWS_HEALTH_URL="$H" BWS_PID_FILE="$B/bws.pid" BWS_HEALTH_CA_FILE="$CA" \
        BWS_HEALTH_CONNECT_TO=127.0.0.1 "$HC"
    run_rc 0 "https: --connect-to ADDR:PORT with a port-less URL" \
        "$HC" "${P[@]}" --url https://health.test/health --ca-file "$CA" --connect-to "127.0.0.1:$TLS_PORT"
    run_rc 0 "https: --ca-file against the certificate's IP address (no --connect-to)" \
        "$HC" "${P[@]}" --url "https://127.0.0.1:$TLS_PORT/health" --ca-file "$CA"
    run_rc 3 "https: self-signed certificate (other.test by SNI) is not trusted" \
        "$HC" "${P[@]}" --url "$O" --ca-file "$CA" --connect-to 127.0.0.1
    grep -q "certificate not trusted" "$T/err" && ok "https: untrusted: says the certificate is not trusted" ||
        bad "https: untrusted message" "$(cat "$T/err")"
    run_rc 3 "https: test CA not in the system's store without --ca-file" \
        "$HC" "${P[@]}" --url "$H" --connect-to 127.0.0.1
    run_rc 3 "https: a name the certificate does not cover (unknown.test)" \
        "$HC" "${P[@]}" --url "https://unknown.test:$TLS_PORT/health" --ca-file "$CA" --connect-to 127.0.0.1
    run_rc 0 "https: --ca-file naming the self-signed certificate itself trusts it" \
        "$HC" "${P[@]}" --url "$O" --ca-file "$B/tls/other.pem" --connect-to 127.0.0.1
    run_rc 0 "https: --insecure accepts the self-signed certificate" \
        "$HC" "${P[@]}" --url "$O" --insecure --connect-to 127.0.0.1
    run_rc 0 "https: BWS_HEALTH_INSECURE=1, -k overrides a CA file that does not match" \
        env BWS_HEALTH_INSECURE=1 "$HC" "${P[@]}" --url "$O" --ca-file "$CA" --connect-to 127.0.0.1
    run_rc 3 "https: --insecure still fails when nothing answers TLS" \
        "$HC" "${P[@]}" --url "https://127.0.0.1:$DOWN_PORT/health" --insecure
    run_rc 3 "https: URL to the plain-HTTP port (handshake fails)" \
        "$HC" "${P[@]}" --url "https://127.0.0.1:$PLAIN_PORT/health" --insecure
    grep -q "TLS handshake failed" "$T/err" && ok "https to a plain port: says the handshake failed" ||
        bad "https to a plain port: message" "$(cat "$T/err")"
    run_rc 3 "http: URL to the TLS port (bws answers 400)" \
        "$HC" "${P[@]}" --url "http://127.0.0.1:$TLS_PORT/health"
    grep -q "HTTP 400" "$T/err" && ok "http to a TLS port: names the 400" || bad "http to a TLS port: message" "$(cat "$T/err")"
    run_rc 0 "http: /health on a redirect_to_https site is not redirected" \
        "$HC" "${P[@]}" --url "http://127.0.0.1:$PLAIN_PORT/health"
    code=$(curl -s --noproxy '*' -o /dev/null -w '%{http_code} %{redirect_url}' "http://127.0.0.1:$PLAIN_PORT/")
    [ "$code" = "301 https://127.0.0.1:$TLS_PORT/" ] && ok "http: the same site redirects / to https ($code)" ||
        bad "http: redirect_to_https of /: '$code'"
    run_rc 66 "https: --ca-file that does not exist" \
        "$HC" "${P[@]}" --url "$H" --ca-file "$B/tls/nonexistent.pem" --connect-to 127.0.0.1
    grep -q "CA file .*nonexistent.pem" "$T/err" && ok "missing CA file: named on stderr" ||
        bad "missing CA file message" "$(cat "$T/err")"
    # `bws -s drain` is SIGWINCH: the real /health answers 503 "draining", and the check
    # (hence bws-recovery) leaves a drain on purpose alone.
    kill -WINCH "$BWS_PID"
    for _ in $(seq 1 50); do
        [ "$(curl -s --noproxy '*' -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PLAIN_PORT/health")" = 503 ] && break
        sleep 0.1
    done
    run_rc 0 "http: a draining bws (SIGWINCH) passes the check" \
        "$HC" "${P[@]}" --url "http://127.0.0.1:$PLAIN_PORT/health"
    grep -q "draining on purpose" "$T/out" && ok "http: draining bws: the OK line says so" ||
        bad "http: draining bws: OK line" "$(cat "$T/out" "$T/err")"
fi
if [ -n "$BWS_PID" ]; then
    kill -TERM "$BWS_PID" 2>/dev/null
    for _ in $(seq 1 100); do
        kill -0 "$BWS_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$BWS_PID" 2>/dev/null && { kill -KILL "$BWS_PID"; bad "bws stopped on SIGTERM within 10 s"; }
    wait "$BWS_PID" 2>/dev/null
    BWS_PID=
fi
run_rc 64 "BWS_HEALTH_INSECURE=maybe" env BWS_HEALTH_INSECURE=maybe "$HC"
run_rc 64 "--connect-to with a bad address" "$HC" --connect-to 'a b'
run_rc 64 "--connect-to with a bad port" "$HC" --connect-to 127.0.0.1:https
run_rc 64 "--ca-file without its value" "$HC" --ca-file
"$HC" --help >"$T/out" 2>&1
grep -q -- "--ca-file FILE" "$T/out" && grep -q -- "--insecure" "$T/out" && grep -q -- "--connect-to ADDR" "$T/out" &&
    grep -q "^  66 " "$T/out" && ok "--help documents --ca-file, --insecure, --connect-to and exit 66" ||
    bad "--help: TLS options" "$(cat "$T/out")"

# ---------------------------------------------------------------------------------------
echo "== bws-recovery"
# Fakes first on PATH. systemctl records its arguments; `restart` can "repair" the server
# (FAKE_RESTART_FIXES=1) or fail (FAKE_RESTART_RC); `is-enabled` prints FAKE_ENABLED.
mkdir -p "$T/fake"
cat >"$T/fake/systemctl" <<EOF
#!/bin/sh
echo "\$*" >>"$T/systemctl.log"
case \$1 in
    is-enabled) echo "\${FAKE_ENABLED:-enabled}"; [ "\${FAKE_ENABLED:-enabled}" = enabled ] ;;
    restart)
        [ "\${FAKE_RESTART_FIXES:-1}" = 1 ] && printf '%s' '$HEALTHY' >"$T/www/body" && printf 200 >"$T/www/status"
        exit "\${FAKE_RESTART_RC:-0}" ;;
    kill) exit "\${FAKE_KILL_RC:-0}" ;;
    *) exit 0 ;;
esac
EOF
cat >"$T/fake/logger" <<EOF
#!/bin/sh
[ "\${FAKE_LOGGER_BROKEN:-0}" = 1 ] && { echo "logger: socket /dev/log: No such file or directory" >&2; exit 1; }
echo "\$*" >>"$T/logger.log"
EOF
cat >"$T/fake/journalctl" <<EOF
#!/bin/sh
echo "\$*" >>"$T/journalctl.log"
echo "2026-01-01T00:00:00+0000 host bws[42]: worker 43 stopped responding"
EOF
chmod +x "$T/fake/"*
ln -sf "$HC" "$T/fake/bws-health-check"
RPATH=$T/fake:$PATH

reset_recovery() {
    rm -f "$T/systemctl.log" "$T/logger.log" "$T/journalctl.log" "$T/recovery.log" \
        "$T/recovery.state" "$T/recovery.state.lock"
    set_answer 200 "$HEALTHY"
}
# bws-recovery's environment: the fakes, temp state and log. More NAME=value may follow.
RENV=(env PATH="$RPATH" BWS_RECOVERY_STATE="$T/recovery.state" BWS_RECOVERY_LOG="$T/recovery.log")
restarts() { if [ -f "$T/systemctl.log" ]; then grep -c '^restart bws.service' "$T/systemctl.log"; else echo 0; fi; }

reset_recovery
run_rc 0 "recovery: healthy, nothing to do" "${RENV[@]}" "$REC"
[ "$(restarts)" = 0 ] && ok "recovery: healthy: no restart" || bad "recovery: healthy: restarted" "$(cat "$T/systemctl.log")"
grep -q "healthy, nothing to do" "$T/logger.log" && ok "recovery: logs to the journal via logger -t" ||
    bad "recovery: logger" "$(cat "$T/logger.log" 2>&1)"
grep -q -- "-t bws-recovery" "$T/logger.log" && ok "recovery: logger tag bws-recovery" || bad "logger tag"

reset_recovery
set_answer 200 '{"status":"unhealthy"}'
run_rc 0 "recovery: unhealthy, restart repairs it" "${RENV[@]}" "$REC"
[ "$(restarts)" = 1 ] && ok "recovery: one restart recorded" || bad "recovery: restarts" "$(cat "$T/systemctl.log")"
grep -q '^reset-failed bws.service' "$T/systemctl.log" && ok "recovery: reset-failed before restart" ||
    bad "recovery: reset-failed" "$(cat "$T/systemctl.log")"
[ "$(grep -c . "$T/recovery.state")" = 1 ] && ok "recovery: state file holds the restart" ||
    bad "recovery: state file" "$(cat "$T/recovery.state" 2>&1)"
grep -q "worker 43 stopped responding" "$T/logger.log" && ok "recovery: journal excerpt logged" ||
    bad "recovery: journal excerpt" "$(cat "$T/logger.log")"
grep -q -- "-u bws.service -n 20" "$T/journalctl.log" && ok "recovery: excerpt is journalctl -u bws -n 20" ||
    bad "recovery: journalctl args" "$(cat "$T/journalctl.log" 2>&1)"
grep -q "healthy again" "$T/logger.log" && ok "recovery: logs the recovery" || bad "recovery: success log"

# Rate limit: two restarts allowed per hour, two already happened.
reset_recovery
set_answer 200 '{"status":"unhealthy"}'
now=$(date +%s)
printf '%s\n%s\n' $((now - 100)) $((now - 50)) >"$T/recovery.state"
run_rc 3 "recovery: rate limit reached" "${RENV[@]}" "$REC" --max-restarts 2 --window 3600
[ "$(restarts)" = 0 ] && ok "recovery: rate limited: no restart" || bad "recovery: rate limited restart" "$(cat "$T/systemctl.log")"
grep -q "rate limit reached" "$T/logger.log" && ok "recovery: rate limit logged" || bad "recovery: rate limit log"
# Old entries fall out of the window and are pruned.
printf '%s\n%s\n' $((now - 7200)) $((now - 5000)) >"$T/recovery.state"
run_rc 0 "recovery: restarts outside the window do not count" "${RENV[@]}" "$REC" --max-restarts 2 --window 3600
[ "$(grep -c . "$T/recovery.state")" = 1 ] && ok "recovery: old state entries pruned" ||
    bad "recovery: pruning" "$(cat "$T/recovery.state")"
# Environment configuration.
set_answer 200 '{"status":"unhealthy"}'
run_rc 3 "recovery: BWS_RECOVERY_MAX_RESTARTS=1 honoured" "${RENV[@]}" \
    BWS_RECOVERY_MAX_RESTARTS=1 "$REC"

reset_recovery
set_answer 200 '{"status":"unhealthy"}'
run_rc 0 "recovery: --dry-run" "${RENV[@]}" "$REC" --dry-run
[ "$(restarts)" = 0 ] && [ ! -e "$T/recovery.state" ] && ok "recovery: --dry-run changes nothing" ||
    bad "recovery: --dry-run changed something" "$(cat "$T/systemctl.log" "$T/recovery.state" 2>&1)"
grep -q "would restart" "$T/logger.log" && ok "recovery: --dry-run reports" || bad "recovery: --dry-run log"

reset_recovery
set_answer 200 '{"status":"unhealthy"}'
run_rc 2 "recovery: restarted but still unhealthy" "${RENV[@]}" FAKE_RESTART_FIXES=0 "$REC"
reset_recovery
set_answer 200 '{"status":"unhealthy"}'
run_rc 1 "recovery: systemctl restart fails" "${RENV[@]}" \
    FAKE_RESTART_FIXES=0 FAKE_RESTART_RC=1 "$REC"

for st in masked disabled; do
    reset_recovery
    set_answer 200 '{"status":"unhealthy"}'
    run_rc 4 "recovery: unit $st by the admin: left alone" "${RENV[@]}" \
        FAKE_ENABLED=$st "$REC"
    [ "$(restarts)" = 0 ] && ok "recovery: $st: no restart" || bad "recovery: $st: restarted"
done
reset_recovery
set_answer 200 '{"status":"unhealthy"}'
run_rc 0 "recovery: disabled + --force restarts" "${RENV[@]}" \
    FAKE_ENABLED=disabled "$REC" --force
[ "$(restarts)" = 1 ] && ok "recovery: --force: restarted" || bad "recovery: --force"

reset_recovery
set_answer 200 '{"status":"unhealthy"}'
run_rc 0 "recovery: logger unusable, log file instead" "${RENV[@]}" \
    FAKE_LOGGER_BROKEN=1 "$REC"
grep -q "restarting bws.service" "$T/recovery.log" && grep -q "worker 43" "$T/recovery.log" &&
    ok "recovery: log file has the restart and the excerpt" ||
    bad "recovery: log file" "$(cat "$T/recovery.log" 2>&1)"

reset_recovery
set_answer 200 '{"status":"unhealthy"}'
mkdir -p "$T/statedir"
run_rc 73 "recovery: state path is a directory" "${RENV[@]}" "$REC" --state-file "$T/statedir"
run_rc 73 "recovery: unwritable state directory" "${RENV[@]}" "$REC" --state-file "$T/no/such/dir/state"
[ "$(restarts)" = 0 ] && ok "recovery: no restart without a rate limit" || bad "recovery: restarted without state"
run_rc 0 "recovery: --help" "$REC" --help
run_rc 64 "recovery: unknown option" "$REC" --bogus
run_rc 64 "recovery: bad --window" "$REC" --window 1h
run_rc 69 "recovery: health checker missing" "${RENV[@]}" BWS_HEALTH_CHECK=/nonexistent/check "$REC"

# ---------------------------------------------------------------------------------------
echo "== systemd units"
if need systemd-analyze systemd; then
    # A scratch root: the units where packages put them, stand-ins for the binaries,
    # and the host's targets (verify resolves multi-user.target, sysinit.target, ...).
    R=$T/root
    mkdir -p "$R/lib/systemd/system" "$R/usr/bin" "$R/etc/systemd/system"
    cp /lib/systemd/system/*.target "$R/lib/systemd/system/"
    cp "$SRC"/systemd/*.service "$SRC"/systemd/*.socket "$SRC"/systemd/*.timer "$R/lib/systemd/system/"
    ln -s bws-health-check.service "$R/lib/systemd/system/bws-health.service"
    for b in bws bws-health-check bws-recovery; do
        printf '#!/bin/sh\nexit 0\n' >"$R/usr/bin/$b"
        chmod +x "$R/usr/bin/$b"
    done
    verify_clean() { # UNIT...: exit 0 and not a single warning
        local out rc=0
        out=$(systemd-analyze verify --man=no --root="$R" "$@" 2>&1) || rc=$?
        [ "$rc" -eq 0 ] && [ -z "$out" ] || { printf '%s\n' "$out"; return 1; }
    }
    for u in bws.service bws.socket bws-health-check.service bws-health-check.timer \
        bws-recovery.service bws-health.service; do
        check "systemd-analyze verify $u is clean" verify_clean "$u"
    done
    # The harness itself must notice a broken unit.
    sed 's/^Nice=10/Nice=10\nNoSuchDirective=1/' "$SRC/systemd/bws-health-check.service" \
        >"$R/lib/systemd/system/bws-broken.service"
    if verify_clean bws-broken.service >/dev/null 2>&1; then
        bad "verify catches an unknown directive"
    else
        ok "verify catches an unknown directive"
    fi
    rm -f "$R/lib/systemd/system/bws-broken.service"

    for u in bws bws-health-check bws-recovery; do
        line=$(systemd-analyze security --offline=yes "$SRC/systemd/$u.service" 2>&1 | grep 'Overall exposure level')
        score=$(printf '%s\n' "$line" | sed -n 's/.*: \([0-9.]*\) .*/\1/p')
        echo "      systemd-analyze security $u.service: ${score:-?} ($line)"
    done
    score=$(systemd-analyze security --offline=yes "$SRC/systemd/bws.service" 2>&1 |
        sed -n 's/.*Overall exposure level for bws.service: \([0-9.]*\) .*/\1/p')
    if [ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }'; then
        ok "systemd-analyze security bws.service: $score <= 2.0"
    else
        bad "systemd-analyze security bws.service: ${score:-no score} > 2.0"
    fi
    score=$(systemd-analyze security --offline=yes "$SRC/systemd/bws-health-check.service" 2>&1 |
        sed -n 's/.*Overall exposure level for bws-health-check.service: \([0-9.]*\) .*/\1/p')
    if [ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }'; then
        ok "systemd-analyze security bws-health-check.service: $score <= 2.0"
    else
        bad "systemd-analyze security bws-health-check.service: ${score:-no score} > 2.0"
    fi

    # Units and config agree on the paths that tie them together.
    grep -q '^Environment=BWS_PID_FILE=/run/bws/bws.pid$' "$SRC/systemd/bws.service" &&
        grep -q '^RuntimeDirectory=bws$' "$SRC/systemd/bws.service" &&
        ok "bws.service: PID file in its RuntimeDirectory" || bad "bws.service PID file / RuntimeDirectory"
    grep -q '^OnFailure=bws-recovery.service$' "$SRC/systemd/bws-health-check.service" &&
        ! grep -q '^OnFailure=' "$SRC/systemd/bws.service" &&
        ok "OnFailure= only on the health check" || bad "OnFailure= placement"
    ! grep -q '^[^#]*/bin/kill' "$SRC"/systemd/*.service && ok "no /bin/kill in the units" || bad "units use /bin/kill"
fi

if need systemd-sysusers systemd && need systemd-tmpfiles systemd; then
    U=$T/sysroot
    mkdir -p "$U/etc"
    cp /etc/passwd /etc/group /etc/shadow /etc/gshadow "$U/etc/" 2>/dev/null
    if systemd-sysusers --root="$U" "$SRC/systemd/bws.sysusers" >"$T/out" 2>&1 &&
        grep -q '^bws:x:[0-9]*:[0-9]*:bws web server:/var/lib/bws:/usr/sbin/nologin$' "$U/etc/passwd" &&
        grep -q '^bws:x:' "$U/etc/group"; then
        ok "sysusers: creates user and group bws (nologin, home /var/lib/bws)"
    else
        bad "sysusers" "$(cat "$T/out"; grep bws "$U/etc/passwd")"
    fi
    mkdir -p "$U/etc/bws"
    : >"$U/etc/bws/config.toml"
    chmod 0644 "$U/etc/bws/config.toml"
    if systemd-tmpfiles --root="$U" --create "$SRC/systemd/bws.tmpfiles" >"$T/out" 2>&1; then
        ok "tmpfiles: --create succeeds"
        uid=$(grep '^bws:' "$U/etc/passwd" | cut -d: -f3)
        want_ok=1
        while read -r path mode owner group; do
            got=$(stat -c '%a %u %g' "$U$path" 2>/dev/null)
            o=$([ "$owner" = bws ] && echo "$uid" || echo 0)
            g=$([ "$group" = bws ] && echo "$uid" || echo 0)
            if [ "$got" != "$mode $o $g" ]; then
                want_ok=0
                bad "tmpfiles: $path is '$got', expected '$mode $o $g'"
            fi
        done <<EOF
/opt/bws 755 bws bws
/opt/bws/static 755 bws bws
/etc/bws 750 root bws
/etc/bws/sites 750 root bws
/etc/bws/ssl 750 root bws
/etc/bws/config.toml 640 root bws
/var/lib/bws 750 bws bws
/var/lib/bws/cache 750 bws bws
/var/lib/bws/temp 750 bws bws
/var/log/bws 750 bws bws
/run/bws 755 bws bws
EOF
        [ "$want_ok" = 1 ] && ok "tmpfiles: owners and modes of the manual's directories"
    else
        bad "tmpfiles: --create" "$(cat "$T/out")"
    fi
fi

# ---------------------------------------------------------------------------------------
echo "== logrotate"
if need logrotate logrotate; then
    L=$T/log
    mkdir -p "$L" "$T/lrbin"
    # The shipped file with the log directory, user and group, and the fallback binary
    # pointed at the scratch setup; everything else as shipped. The fake systemctl on PATH
    # records the postrotate signal.
    sed -e "s|/var/log/bws|$L|g" -e "s|su bws bws|su $(id -un) $(id -gn)|" \
        -e "s|create 0640 bws bws|create 0640 $(id -un) $(id -gn)|" \
        -e "s|/usr/bin/bws -s reopen|$T/lrbin/bws -s reopen|" \
        "$SRC/logrotate/bws" >"$T/logrotate.conf"
    printf '#!/bin/sh\necho "bws $*" >>"%s/systemctl.log"\n' "$T" >"$T/lrbin/bws"
    chmod +x "$T/lrbin/bws"
    grep -q '^ *copytruncate' "$SRC/logrotate/bws" && bad "logrotate: no copytruncate" ||
        ok "logrotate: no copytruncate"
    grep -q '^ *rotate 30$' "$SRC/logrotate/bws" && ok "logrotate: the manual's retention (rotate 30)" ||
        bad "logrotate: rotate 30"
    echo "line 1" >"$L/access.log"
    echo "line 1" >"$L/error.log"
    rm -f "$T/systemctl.log"
    if out=$(PATH="$T/fake:$PATH" logrotate -d -s "$T/lr.state" "$T/logrotate.conf" 2>&1) &&
        ! printf '%s\n' "$out" | grep -qi '^error'; then
        ok "logrotate -d parses the shipped config"
    else
        bad "logrotate -d" "$out"
    fi
    if out=$(PATH="$T/fake:$PATH" logrotate -f -s "$T/lr.state" "$T/logrotate.conf" 2>&1); then
        ok "logrotate -f runs"
    else
        bad "logrotate -f" "$out"
    fi
    [ -f "$L/access.log.1" ] && [ "$(cat "$L/access.log.1")" = "line 1" ] && [ -f "$L/error.log.1" ] &&
        ok "logrotate: access.log and error.log rotated to .1" || bad "logrotate: rotation" "$(ls -l "$L")"
    [ -f "$L/access.log" ] && [ "$(stat -c %a "$L/access.log")" = 640 ] && [ ! -s "$L/access.log" ] &&
        ok "logrotate: new empty access.log with mode 0640" || bad "logrotate: create" "$(ls -l "$L")"
    [ "$(grep -c '^kill --kill-whom=main --signal=SIGUSR1 bws.service$' "$T/systemctl.log" 2>/dev/null)" = 1 ] &&
        ok "logrotate: one SIGUSR1 to the master for all files (sharedscripts)" ||
        bad "logrotate: postrotate signal" "$(cat "$T/systemctl.log" 2>&1)"
    echo "line 2" >>"$L/access.log"
    rm -f "$T/systemctl.log"
    PATH="$T/fake:$PATH" FAKE_KILL_RC=1 logrotate -f -s "$T/lr.state" "$T/logrotate.conf" >/dev/null 2>&1
    [ -f "$L/access.log.2.gz" ] && [ "$(gzip -dc "$L/access.log.2.gz")" = "line 1" ] &&
        [ "$(cat "$L/access.log.1")" = "line 2" ] &&
        ok "logrotate: second rotation compresses the older file (delaycompress)" ||
        bad "logrotate: delaycompress" "$(ls -l "$L")"
    grep -q '^bws -s reopen --pid-file /run/bws/bws.pid$' "$T/systemctl.log" 2>/dev/null &&
        ok "logrotate: without systemd, falls back to bws -s reopen" ||
        bad "logrotate: fallback" "$(cat "$T/systemctl.log" 2>&1)"
fi

# ---------------------------------------------------------------------------------------
echo "== default configuration"
if "$PY" - "$SRC" >"$T/out" 2>&1 <<'EOF'
import re, sys, tomllib
src = sys.argv[1]
with open(f"{src}/dist/config.toml", "rb") as f:
    c = tomllib.load(f)
allowed = {
    "server": {"name", "workers", "shutdown_timeout"},
    "daemon": {"user", "group", "pid_file", "working_directory"},
    "logging": {"level", "output", "file_path", "max_size", "max_files", "compress",
                "access_log", "access_log_format", "error_log"},
    "sites": {"name", "hostname", "hostnames", "port", "bind", "static_dir", "default",
              "index_files", "headers", "error_pages", "cache_control", "ssl",
              "redirect_to_https"},
}
# [sites.ssl] as docs/configuration.md lists it.
ssl_allowed = {"enabled", "cert_file", "key_file", "certificates", "min_tls_version",
               "protocols", "ciphers", "ciphersuites", "groups", "hsts_max_age",
               "hsts_include_subdomains", "hsts_preload", "client_ca_file", "client_verify",
               "client_verify_depth", "session_tickets", "strict_sni"}
# Top-level keys that are not sections.
top_level = {"include"}
problems = []
def check_keys(c, where):
    for section, value in c.items():
        if section in top_level:
            continue
        if section not in allowed:
            problems.append(f"{where}: unknown section [{section}]")
            continue
        for table in (value if isinstance(value, list) else [value]):
            for key in table:
                if key not in allowed[section]:
                    problems.append(f"{where}: unknown key {section}.{key}")
            for key in table.get("ssl", {}) if section == "sites" else ():
                if key not in ssl_allowed:
                    problems.append(f"{where}: unknown key sites.ssl.{key}")
check_keys(c, "dist/config.toml")
# The commented-out HTTPS example, uncommented: its TOML lines ("# key = value", "# [table]",
# "# # comment") must parse and use known keys only; prose lines are left out.
text = open(f"{src}/dist/config.toml").read()
start = text.find("\n# [[sites]]")
if start < 0:
    problems.append("dist/config.toml: no commented-out [[sites]] (HTTPS) example")
else:
    lines = []
    for line in text[start:].splitlines():
        if re.match(r"^# (\[\[?[a-z_.]+\]\]?|[a-z_]+ = .*|# .*)$", line):
            lines.append(line[2:])
    try:
        example = tomllib.loads("\n".join(lines))
    except tomllib.TOMLDecodeError as e:
        problems.append(f"dist/config.toml: the HTTPS example does not parse: {e}")
        example = {}
    check_keys(example, "dist/config.toml HTTPS example")
    sites = example.get("sites", [])
    if not any(site.get("ssl", {}).get("enabled") for site in sites) or \
            not any(site.get("redirect_to_https") for site in sites):
        problems.append("dist/config.toml: the HTTPS example lacks a TLS site or a redirect")
if c["daemon"]["pid_file"] != "/run/bws/bws.pid":
    problems.append("daemon.pid_file is not /run/bws/bws.pid")
site = c["sites"][0]
hc = open(f"{src}/scripts/bws-health-check").read()
m = re.search(r"BWS_HEALTH_URL:-http://127\.0\.0\.1:(\d+)/health", hc)
if not m or int(m.group(1)) != site["port"]:
    problems.append("health check default URL does not match the default site's port")
if site.get("bind", "0.0.0.0") not in ("0.0.0.0", "127.0.0.1", "::"):
    problems.append("default site not reachable on 127.0.0.1")
sock = open(f"{src}/systemd/bws.socket").read()
if f"ListenStream={site.get('bind', '0.0.0.0')}:{site['port']}" not in sock:
    problems.append("bws.socket address differs from the default site")
if site["static_dir"] != "/opt/bws/static":
    problems.append("default site does not serve /opt/bws/static")
print("\n".join(problems))
sys.exit(1 if problems else 0)
EOF
then
    ok "dist/config.toml: known keys only; PID file, port and socket agree with the units and scripts"
else
    bad "dist/config.toml consistency" "$(cat "$T/out")"
fi
grep -q '^BWS_PID_FILE=/run/bws/bws.pid$' "$SRC/dist/environment" && ok "dist/environment: BWS_PID_FILE in /run/bws" ||
    bad "dist/environment: BWS_PID_FILE"

# ---------------------------------------------------------------------------------------
if [ -n "$BUILD_DIR" ]; then
    echo "== install layout ($BUILD_DIR)"
    for pfx in /usr /usr/local; do
        D=$T/destdir$(echo "$pfx" | tr / _)
        if DESTDIR=$D cmake --install "$BUILD_DIR" --prefix "$pfx" >"$T/out" 2>&1; then
            ok "cmake --install --prefix $pfx with DESTDIR"
        else
            bad "cmake --install --prefix $pfx" "$(cat "$T/out")"
            continue
        fi
        if [ "$pfx" = /usr ]; then
            unitdir=$(pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null || echo /usr/lib/systemd/system)
            etc=/etc
        else
            unitdir=$pfx/lib/systemd/system
            etc=$pfx/etc
        fi
        lib=$pfx/lib
        [ "$pfx" = /usr ] && lib=/usr/lib
        missing=
        for f in "$pfx/bin/bws-health-check" "$pfx/bin/bws-recovery" \
            "$unitdir/bws.service" "$unitdir/bws.socket" "$unitdir/bws-health-check.service" \
            "$unitdir/bws-health-check.timer" "$unitdir/bws-recovery.service" \
            "$lib/sysusers.d/bws.conf" "$lib/tmpfiles.d/bws.conf" "$etc/logrotate.d/bws" \
            "$etc/bws/config.toml" "$etc/bws/environment" /opt/bws/static/index.html; do
            [ -f "$D$f" ] || missing="$missing $f"
        done
        [ -z "$missing" ] && ok "install --prefix $pfx: every file in place" ||
            bad "install --prefix $pfx: missing:$missing" "$(cd "$D" && find . | sort)"
        [ "$(readlink "$D$unitdir/bws-health.service")" = bws-health-check.service ] &&
            ok "install --prefix $pfx: bws-health.service alias" || bad "install: alias"
        [ -d "$D$etc/bws/sites" ] && [ -d "$D$etc/bws/ssl" ] &&
            [ "$(stat -c %a "$D$etc/bws")" = 750 ] && [ "$(stat -c %a "$D$etc/bws/config.toml")" = 640 ] &&
            [ -x "$D$pfx/bin/bws-health-check" ] &&
            ok "install --prefix $pfx: /etc/bws 0750 with sites/ ssl/, config 0640, scripts executable" ||
            bad "install --prefix $pfx: modes" "$(ls -la "$D$etc/bws")"
        if [ "$pfx" = /usr ]; then
            cmp -s "$SRC/systemd/bws.service" "$D$unitdir/bws.service" &&
                ok "install --prefix /usr: units installed as shipped" || bad "install: unit differs"
        else
            grep -q "^ExecStart=$pfx/bin/bws --config" "$D$unitdir/bws.service" &&
                grep -q "^EnvironmentFile=-$etc/bws/environment" "$D$unitdir/bws.service" &&
                ok "install --prefix $pfx: unit paths follow the prefix" ||
                bad "install --prefix $pfx: unit paths" "$(grep -E '^(Exec|Env)' "$D$unitdir/bws.service")"
        fi
    done
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
