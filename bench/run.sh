#!/usr/bin/env bash
# Serves the same files with bws and with nginx (Debian's, configured as in
# shared/notes/benchmarks.md: sendfile, tcp_nopush, open_file_cache, access_log off, one
# worker) and runs wrk against each in the same run. Prints requests/s per server and the
# bws/nginx ratio per scenario. Layout A of the notes: each server pinned to CPU 0 with one
# worker, wrk pinned to CPU 1.
#
# Usage: bench/run.sh [BWS_BINARY]     env: DURATION=10 CONNECTIONS=64 RUNS=3
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
bws=${1:-$here/../build/bws}
duration=${DURATION:-10}
connections=${CONNECTIONS:-64}
runs=${RUNS:-3}

for tool in wrk nginx taskset; do
    command -v "$tool" >/dev/null || { echo "bench: $tool is missing (apt-get install wrk nginx-light util-linux)" >&2; exit 2; }
done
[ -x "$bws" ] || { echo "bench: no bws binary at $bws (build first)" >&2; exit 2; }

work=$(mktemp -d /tmp/bws-bench.XXXXXX)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

free_port() {
    /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
wait_port() {
    for _ in $(seq 1 200); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.05
    done
    echo "bench: nothing listens on port $1" >&2
    return 1
}

chmod 755 "$work"
mkdir -p "$work/www" "$work/nginx"
head -c 1024 /dev/urandom | base64 -w0 | head -c 1024 > "$work/www/1k.html"
head -c 1048576 /dev/urandom > "$work/www/1m.bin"
chmod -R a+rX "$work/www"

nginx_port=$(free_port)
cat > "$work/nginx/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 4096; }
http {
    include /etc/nginx/mime.types;
    sendfile on; tcp_nopush on; tcp_nodelay on;
    keepalive_requests 10000;
    open_file_cache max=10000 inactive=30s;
    access_log off;
    client_body_temp_path $work/nginx/body;
    proxy_temp_path $work/nginx/proxy;
    fastcgi_temp_path $work/nginx/fastcgi;
    uwsgi_temp_path $work/nginx/uwsgi;
    scgi_temp_path $work/nginx/scgi;
    server {
        listen 127.0.0.1:$nginx_port backlog=4096;
        root $work/www;
    }
}
EOF
taskset -c 0 nginx -c "$work/nginx/nginx.conf" -e "$work/nginx/error.log" &
pids+=($!)

bws_port=$(free_port)
cat > "$work/bws.toml" <<EOF
[server]
workers = 1
backlog = 4096

[server.limits]
max_keepalive_requests = 10000

[logging]
level = "warn"
access_log = "off"

[[sites]]
name = "bench"
hostname = "localhost"
port = $bws_port
bind = "127.0.0.1"
static_dir = "$work/www"
EOF
taskset -c 0 "$bws" -c "$work/bws.toml" > "$work/bws.out" 2>&1 &
pids+=($!)

wait_port "$nginx_port"
wait_port "$bws_port"

# Median requests/s of $runs wrk runs.
measure() {
    local port=$1 path=$2; shift 2
    local results=()
    for _ in $(seq 1 "$runs"); do
        local rps
        rps=$(taskset -c 1 wrk -t1 -c"$connections" -d"${duration}s" "$@" \
            "http://127.0.0.1:$port$path" | awk '/^Requests\/sec:/ {print $2}')
        results+=("${rps:-0}")
    done
    printf '%s\n' "${results[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

printf '%-28s %14s %14s %8s\n' scenario "nginx req/s" "bws req/s" ratio
status=0
run_scenario() {
    local name=$1 path=$2; shift 2
    local n b
    n=$(measure "$nginx_port" "$path" "$@")
    b=$(measure "$bws_port" "$path" "$@")
    local ratio
    ratio=$(awk -v b="$b" -v n="$n" 'BEGIN { if (n > 0) printf "%.2f", b / n; else print "n/a" }')
    printf '%-28s %14s %14s %8s\n' "$name" "$n" "$b" "$ratio"
}
run_scenario "1 KiB keep-alive" /1k.html
run_scenario "1 KiB Connection: close" /1k.html -H "Connection: close"
run_scenario "1 MiB keep-alive" /1m.bin
exit $status
