#!/usr/bin/env bash
# Compares bws with nginx, h2o and lighttpd (Debian's packages) on loopback in one run: the
# same files, each peer with the reference configuration of shared/notes/benchmarks.md, wrk
# against each server in turn (scenario by scenario, so drift hits every server alike).
# Measures requests/s, transfer, p50/p99 latency, requests per server CPU-second, idle and
# loaded RSS/PSS and the time from exec to the first 200, and writes a Markdown table and a
# PNG plot to bench/results/<date>/ (see bench/README.md). TLS scenarios use one ECDSA P-256
# self-signed certificate made for the run; --idle-tls measures memory per idle TLS connection.
#
# Usage: bench/run.sh [options] [BWS_BINARY]          (default binary: build/bws)
#   --quick                 about two minutes: 1 run of 2 s, fewer scenarios in B and A-log
#   --servers LIST          comma-separated subset of nginx,h2o,lighttpd,bws (default: all
#                           installed; a peer named here must be installed)
#   --passes LIST           of A, B, A-log, B-log (default A,B,A-log)
#   --access-log            only the access-log pass (A-log)
#   --scenarios LIST        of ka64,ka256,close,100k,1m,10m,304,404,tls-ka,tls-new,proxy
#                           (default: per pass). proxy: each server proxies /proxy/ to one
#                           nginx upstream (1 worker, on wrk's CPU in layout A), with
#                           keep-alive to it where the server has that
#   --idle-tls              memory per idle TLS connection: IDLE_CONNS TLS connections that
#                           each had one request answered, held open; alone, only this (the
#                           default run does it too; with --passes/--scenarios, also this)
#   --out DIR               results folder (default bench/results/<UTC date-time>)
#   --update-readme         copy the plot to bench/results/readme.png and put the tables in
#                           bench/README.md (run it on a quiet machine)
# env: DURATION (s, default 5; 2 with --quick), RUNS (median of, default 3; 1 with --quick),
#      STARTS (startup measurements per server, default 5; 3 with --quick),
#      IDLE_CONNS (default 1000), IDLE_RUNS (--idle-tls measurements per server, default 1)
set -Eeuo pipefail
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
py=/usr/bin/python3
helper=$here/bench.py
all_servers=(nginx h2o lighttpd bws)

quick=0 servers_arg="" passes_arg="" scenarios_arg="" out="" update_readme=0 bws="" idle_tls=""
while [ $# -gt 0 ]; do
    case $1 in
        --quick) quick=1 ;;
        --servers) servers_arg=$2; shift ;;
        --passes) passes_arg=$2; shift ;;
        --access-log) passes_arg=A-log ;;
        --scenarios) scenarios_arg=$2; shift ;;
        --out) out=$2; shift ;;
        --update-readme) update_readme=1 ;;
        --idle-tls) idle_tls=1 ;;
        -h|--help) sed -n '2,/^set -/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        -*) echo "bench: unknown option $1 (try --help)" >&2; exit 2 ;;
        *) bws=$1 ;;
    esac
    shift
done
bws=${bws:-$here/../build/bws}
if [ "$quick" = 1 ]; then
    duration=${DURATION:-2} runs=${RUNS:-1} starts=${STARTS:-3}
else
    duration=${DURATION:-5} runs=${RUNS:-3} starts=${STARTS:-5}
fi
idle_conns=${IDLE_CONNS:-1000} idle_runs=${IDLE_RUNS:-1}
# --idle-tls alone: only that measurement. No option: the passes and the idle TLS memory.
only_idle=0
if [ -z "$passes_arg$scenarios_arg" ]; then
    [ "$idle_tls" = 1 ] && only_idle=1
    idle_tls=1
fi

# Scenarios: id -> "label|path|connections|extra wrk header ('' for none)". The tls-* ones go
# to the server's TLS port (TLS 1.3 only on every server); tls-new makes wrk do a full
# handshake per request (see bench/wrk_tls.c: plain wrk would resume the session).
declare -A scenario=(
    [ka64]="1 KiB keep-alive c64|/1k.html|64|"
    [ka256]="1 KiB keep-alive c256|/1k.html|256|"
    [close]="1 KiB Connection: close c64|/1k.html|64|Connection: close"
    [100k]="100 KiB c64|/100k.bin|64|"
    [1m]="1 MiB c64|/1m.bin|64|"
    [10m]="10 MiB c16|/10m.bin|16|"
    [304]="304 If-None-Match c64|/1k.html|64|If-None-Match: ETAG"
    [404]="404 c64|/missing.html|64|"
    [tls-ka]="TLS 1.3 1 KiB keep-alive c64|/1k.html|64|"
    [tls-new]="TLS 1.3 1 KiB full handshake per request c64|/1k.html|64|Connection: close"
    [proxy]="reverse proxy 1 KiB c64 (nginx upstream)|/proxy/1k.html|64|"
)
all_scenarios="ka64,ka256,close,100k,1m,10m,304,404,tls-ka,tls-new,proxy"
declare -A pass_scenarios
if [ "$quick" = 1 ]; then
    pass_scenarios=([A]=$all_scenarios [B]="ka64,1m" [A-log]="ka64" [B-log]="ka64")
else
    pass_scenarios=([A]=$all_scenarios [B]="ka64,close,100k,1m" [A-log]="ka64,close,100k,304"
                    [B-log]="ka64,close")
fi

die() { echo "bench: $*" >&2; exit 2; }
for tool in wrk taskset setsid curl "$py"; do
    command -v "$tool" >/dev/null || die "$tool is missing (scripts/dev/install-deps.sh --tests)"
done
[ -x "$bws" ] || die "no bws binary at $bws (build first, or pass its path)"
bws=$(cd "$(dirname "$bws")" && pwd)/$(basename "$bws")

declare -A server_bin=([nginx]=nginx [h2o]=h2o [lighttpd]=lighttpd [bws]=$bws)
servers=()
if [ -n "$servers_arg" ]; then
    IFS=, read -ra servers <<<"$servers_arg"
    for s in "${servers[@]}"; do
        [ -n "${server_bin[$s]:-}" ] || die "unknown server $s (nginx, h2o, lighttpd, bws)"
        command -v "${server_bin[$s]}" >/dev/null || die "$s is not installed (apt-get install nginx-light h2o lighttpd)"
    done
else
    for s in "${all_servers[@]}"; do
        if command -v "${server_bin[$s]}" >/dev/null; then servers+=("$s")
        else echo "bench: $s is not installed, skipped (apt-get install nginx-light h2o lighttpd)" >&2; fi
    done
fi
IFS=, read -ra passes <<<"${passes_arg:-A,B,A-log}"
for p in "${passes[@]}"; do
    [ -n "${pass_scenarios[$p]:-}" ] || die "unknown pass $p (A, B, A-log, B-log)"
done
if [ -n "$scenarios_arg" ]; then
    IFS=, read -ra check <<<"$scenarios_arg"
    for sc in "${check[@]}"; do [ -n "${scenario[$sc]:-}" ] || die "unknown scenario $sc"; done
fi
[ "$only_idle" = 1 ] && passes=()

# TLS: wanted by a tls-* scenario of some pass, or by --idle-tls. lighttpd needs mod_openssl
# (Debian: lighttpd-mod-openssl); without it, lighttpd sits out the TLS measurements.
need_tls=$idle_tls need_shim=0
for p in "${passes[@]}"; do
    list=,${scenarios_arg:-${pass_scenarios[$p]}},
    [[ $list == *,tls-* ]] && need_tls=1
    [[ $list == *,tls-new,* ]] && need_shim=1
done
tls_capable() {
    [ "$1" != lighttpd ] && return 0
    local d
    for d in /usr/lib/lighttpd /usr/lib64/lighttpd /usr/local/lib/lighttpd; do
        [ -e "$d/mod_openssl.so" ] && return 0
    done
    return 1
}
if [ "$need_tls" = 1 ]; then
    command -v openssl >/dev/null || die "openssl is missing (apt-get install openssl)"
    for s in "${servers[@]}"; do
        tls_capable "$s" || echo "bench: lighttpd has no mod_openssl (apt-get install" \
            "lighttpd-mod-openssl), it sits out the TLS scenarios" >&2
    done
fi

# Layout A pins the server to one CPU and wrk to another.
if [ "$(nproc)" -ge 2 ]; then cpu_server=0 cpu_wrk=1
else cpu_server=0 cpu_wrk=0; echo "bench: one CPU only, layout A shares it" >&2; fi

stamp=$(date -u +%Y-%m-%d-%H%M%S)
out=${out:-$here/results/$stamp}
mkdir -p "$out"
out=$(cd "$out" && pwd)
: > "$out/runs.jsonl"; : > "$out/starts.jsonl"; : > "$out/wrk.txt"

work=$(mktemp -d /tmp/bws-bench.XXXXXX)
chmod 755 "$work"
declare -A pid_of port_of tls_port_of
stop_server() {
    local name=$1 pid=${pid_of[$1]:-} tree i state
    [ -n "$pid" ] || return 0
    tree=$("$py" "$helper" tree "$pid" 2>/dev/null || true)
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 100); do
        state=$(cat "/proc/$pid/stat" 2>/dev/null || true)
        state=${state##*) }
        [ -z "$state" ] || [ "${state%% *}" = Z ] && break
        [ "$i" = 100 ] && kill -KILL "$pid" 2>/dev/null
        sleep 0.05
    done
    wait "$pid" 2>/dev/null || true
    # Workers that outlived their master (they should not) go by their own PIDs.
    for i in $tree; do [ "$i" = "$pid" ] || kill -KILL "$i" 2>/dev/null || true; done
    unset "pid_of[$name]"
}
cleanup() {
    for s in "${!pid_of[@]}"; do stop_server "$s"; done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'echo "bench: failed at line $LINENO: $BASH_COMMAND" >&2' ERR
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p "$work/www"
head -c 1024 /dev/urandom | base64 -w0 | head -c 1024 > "$work/www/1k.html"
head -c 102400 /dev/urandom > "$work/www/100k.bin"
head -c 1048576 /dev/urandom > "$work/www/1m.bin"
head -c 10485760 /dev/urandom > "$work/www/10m.bin"
chmod -R a+rX "$work/www"
docroot=$work/www

# One ECDSA P-256 self-signed certificate for the run, shared by every server.
cert="" key="" wrk_tls=""
if [ "$need_tls" = 1 ]; then
    mkdir -p "$work/tls"
    cert=$work/tls/cert.pem key=$work/tls/key.pem
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 \
        -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
        -keyout "$key" -out "$cert" 2>"$work/tls/openssl.log" \
        || { cat "$work/tls/openssl.log" >&2; die "openssl could not make a certificate"; }
    chmod 644 "$cert"
fi
# wrk's TLS shim (bench/wrk_tls.c): counts handshakes and resumptions in every TLS scenario,
# and makes tls-new do full handshakes. Without a C compiler and libssl-dev, tls-new is skipped.
if [ "$need_tls" = 1 ]; then
    if command -v cc >/dev/null && cc -shared -fPIC -O2 -o "$work/wrk_tls.so" "$here/wrk_tls.c" \
        -ldl -lssl 2>"$work/wrk_tls.log"; then
        wrk_tls=$work/wrk_tls.so
    elif [ "$need_shim" = 1 ]; then
        cat "$work/wrk_tls.log" >&2 2>/dev/null || true
        echo "bench: cannot build bench/wrk_tls.c (cc, libssl-dev): tls-new is skipped, since" \
            "plain wrk resumes TLS sessions" >&2
    fi
fi

# write_config NAME DIR PORT WORKERS LOG(0|1) [TLS_PORT]: the server's configuration in DIR;
# with TLS_PORT, a second listener there with TLS 1.3 only and the run's certificate. With
# idle_mode=1 the keep-alive timeouts that are shorter than a minute become a minute.
idle_mode=0
write_config() {
    local name=$1 dir=$2 port=$3 workers=$4 log=$5 tls_port=${6:-}
    case $name in
        nginx)
            local access="access_log off;" tls="" upstream="" proxy=""
            [ "$log" = 1 ] && access="access_log $dir/access.log;"
            if [ -n "$backend_port" ]; then
                upstream="upstream backend { server 127.0.0.1:$backend_port; keepalive 128; }"
                proxy="location /proxy/ { proxy_pass http://backend/; proxy_http_version 1.1;
            proxy_set_header Connection \"\"; }"
            fi
            [ -n "$tls_port" ] && tls="listen 127.0.0.1:$tls_port ssl backlog=4096;
        ssl_certificate $cert;
        ssl_certificate_key $key;
        ssl_protocols TLSv1.3;
        ssl_session_cache shared:SSL:10m;"
            cat > "$dir/nginx.conf" <<EOF
worker_processes $workers;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
    include /etc/nginx/mime.types;
    sendfile on; tcp_nopush on; tcp_nodelay on;
    keepalive_requests 10000;
    open_file_cache max=10000 inactive=30s;
    $access
    client_body_temp_path $dir/body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
    $upstream
    server {
        listen 127.0.0.1:$port backlog=4096;
        $tls
        root $docroot;
        $proxy
    }
}
EOF
            ;;
        h2o)
            {
                echo "num-threads: $workers"
                [ "$(id -u)" = 0 ] && echo "user: root"
                echo "pid-file: $dir/h2o.pid"
                echo "error-log: $dir/error.log"
                echo "max-connections: 16384"
                echo "file.send-gzip: OFF"
                [ "$log" = 1 ] && echo "access-log: $dir/access.log"
                [ "$idle_mode" = 1 ] && echo "http1-request-timeout: 60"
                echo "hosts:"
                echo "  \"static\":"
                echo "    listen: {host: 127.0.0.1, port: $port}"
                if [ -n "$backend_port" ]; then
                    echo "    paths:"
                    echo "      \"/\": {file.dir: \"$docroot\"}"
                    echo "      \"/proxy\": {proxy.reverse.url: \"http://127.0.0.1:$backend_port/\"}"
                else
                    echo "    paths: {\"/\": {file.dir: \"$docroot\"}}"
                fi
                if [ -n "$tls_port" ]; then
                    echo "  \"static-tls\":"
                    echo "    listen:"
                    echo "      host: 127.0.0.1"
                    echo "      port: $tls_port"
                    echo "      ssl: {certificate-file: \"$cert\", key-file: \"$key\", minimum-version: TLSv1.3}"
                    echo "    paths: {\"/\": {file.dir: \"$docroot\"}}"
                fi
            } > "$dir/h2o.conf"
            ;;
        lighttpd)
            {
                local modules=()
                [ "$log" = 1 ] && modules+=('"mod_accesslog"')
                [ -n "$backend_port" ] && modules+=('"mod_proxy"')
                [ -n "$tls_port" ] && modules+=('"mod_openssl"')
                [ ${#modules[@]} -gt 0 ] && echo "server.modules = ( $(IFS=,; echo "${modules[*]}") )"
                [ "$log" = 1 ] && echo "accesslog.filename = \"$dir/access.log\""
                echo "server.document-root = \"$docroot\""
                echo 'server.bind = "127.0.0.1"'
                echo "server.port = $port"
                echo "server.pid-file = \"$dir/lighttpd.pid\""
                echo "server.errorlog = \"$dir/error.log\""
                echo 'server.event-handler = "linux-sysepoll"'
                echo 'server.network-backend = "sendfile"'
                echo 'server.max-fds = 16384'
                echo 'server.max-connections = 8192'
                echo 'server.max-keep-alive-requests = 10000'
                echo 'mimetype.assign = ( ".html" => "text/html", ".bin" => "application/octet-stream" )'
                [ "$workers" -gt 1 ] && echo "server.max-worker = $workers"
                [ "$idle_mode" = 1 ] && echo 'server.max-keep-alive-idle = 60'
                if [ -n "$backend_port" ]; then
                    echo '$HTTP["url"] =~ "^/proxy/" {'
                    echo "    proxy.server = ( \"\" => (( \"host\" => \"127.0.0.1\", \"port\" => $backend_port )) )"
                    echo '    proxy.header = ( "map-urlpath" => ( "/proxy/" => "/" ) )'
                    echo '}'
                fi
                if [ -n "$tls_port" ]; then
                    echo "\$SERVER[\"socket\"] == \"127.0.0.1:$tls_port\" {"
                    echo '    ssl.engine = "enable"'
                    echo "    ssl.pemfile = \"$cert\""
                    echo "    ssl.privkey = \"$key\""
                    echo '    ssl.openssl.ssl-conf-cmd = ( "MinProtocol" => "TLSv1.3" )'
                    echo '}'
                fi
                true
            } > "$dir/lighttpd.conf"
            ;;
        bws)
            local access='"off"'
            [ "$log" = 1 ] && access="\"$dir/access.log\""
            cat > "$dir/bws.toml" <<EOF
[server]
workers = $workers
backlog = 4096

[server.limits]
max_keepalive_requests = 10000

[logging]
level = "warn"
access_log = $access

[[sites]]
name = "bench"
hostname = "localhost"
port = $port
bind = "127.0.0.1"
static_dir = "$docroot"
EOF
            [ -n "$backend_port" ] && cat >> "$dir/bws.toml" <<EOF

[sites.proxy]
enabled = true
[[sites.proxy.upstreams]]
name = "backend"
url = "http://127.0.0.1:$backend_port"
[[sites.proxy.routes]]
path = "/proxy"
upstream = "backend"
strip_prefix = true
EOF
            [ -n "$tls_port" ] && cat >> "$dir/bws.toml" <<EOF

[[sites]]
name = "bench-tls"
hostname = "localhost"
port = $tls_port
bind = "127.0.0.1"
static_dir = "$docroot"

[sites.ssl]
enabled = true
cert_file = "$cert"
key_file = "$key"
min_tls_version = "1.3"
EOF
            true
            ;;
    esac
}

# server_cmd NAME DIR: sets cmd to the command line that runs the server in the foreground.
server_cmd() {
    local name=$1 dir=$2
    case $name in
        nginx) cmd=(nginx -c "$dir/nginx.conf" -e "$dir/error.log") ;;
        h2o) cmd=(h2o -c "$dir/h2o.conf") ;;
        lighttpd) cmd=(lighttpd -D -f "$dir/lighttpd.conf") ;;
        bws) cmd=("$bws" -c "$dir/bws.toml") ;;
    esac
}

# A fork-free 1 ms sleep for the startup poll: read with a timeout on a pipe nobody writes.
exec {sleep_fd}<> <(:)
start_ms=""
# start_server NAME LAYOUT LOG [TLS(0|1)]: start it, wait for its first 200 (sets start_ms);
# with TLS=1 it also listens with TLS on tls_port_of[NAME], checked once it answers.
start_server() {
    local name=$1 layout=$2 log=$3 tls=${4:-0} dir port tls_port="" workers=1 pin=() t0 now fd
    local line cmd code
    dir=$(mktemp -d "$work/$name.XXXX")
    mkdir -p "$dir"
    port=$("$py" "$helper" free-port)
    if [ "$tls" = 1 ]; then
        tls_port=$port
        while [ "$tls_port" = "$port" ]; do tls_port=$("$py" "$helper" free-port); done
    fi
    [ "$layout" = B ] && workers=2
    [ "$layout" = A ] && pin=(taskset -c "$cpu_server")
    write_config "$name" "$dir" "$port" "$workers" "$log" "$tls_port"
    server_cmd "$name" "$dir"
    t0=${EPOCHREALTIME/./}
    # Its own session: lighttpd's master stops its workers with kill(0, SIGTERM), which would
    # hit this script too. (setsid does not fork here: a background job is no group leader.)
    setsid "${pin[@]}" "${cmd[@]}" > "$dir/stdout.log" 2>&1 &
    pid_of[$name]=$!
    port_of[$name]=$port
    tls_port_of[$name]=$tls_port
    while :; do
        if { exec {fd}<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null; then
            printf 'GET /1k.html HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' >&"$fd"
            line=""
            read -r -t 2 -u "$fd" line || true
            exec {fd}>&-
            if [[ $line == "HTTP/1."?" 200"* ]]; then now=${EPOCHREALTIME/./}; break; fi
        fi
        if ! kill -0 "${pid_of[$name]}" 2>/dev/null \
            || [ $(( ${EPOCHREALTIME/./} - t0 )) -gt 10000000 ]; then
            echo "bench: $name did not answer 200 on port $port within 10 s:" >&2
            cat "$dir"/*.log "$dir"/*.err 2>/dev/null | tail -20 >&2
            exit 1
        fi
        read -r -t 0.001 -u "$sleep_fd" _ || true
    done
    start_ms=$(( (now - t0) / 10 ))
    start_ms=$(printf '%d.%02d' $(( start_ms / 100 )) $(( start_ms % 100 )))
    if [ -n "$tls_port" ]; then
        code=$(curl -sk --tlsv1.3 -o /dev/null -w '%{http_code}' \
            "https://127.0.0.1:$tls_port/1k.html" || true)
        if [ "$code" != 200 ]; then
            echo "bench: $name does not answer 200 over TLS on port $tls_port (curl: $code):" >&2
            cat "$dir"/*.log "$dir"/*.err 2>/dev/null | tail -20 >&2
            exit 1
        fi
    fi
}

# The upstream of the proxy scenario: nginx with one worker and the notes' settings, on wrk's
# CPU in layout A (the proxy under test has CPU 0 to itself). Not measured itself.
backend_port=""
start_backend() {
    local layout=$1 dir pin=() i port
    command -v nginx >/dev/null || die "the proxy scenario needs nginx as its upstream"
    dir=$(mktemp -d "$work/backend.XXXX")
    port=$("$py" "$helper" free-port)
    write_config nginx "$dir" "$port" 1 0
    [ "$layout" = A ] && pin=(taskset -c "$cpu_wrk")
    setsid "${pin[@]}" nginx -c "$dir/nginx.conf" -e "$dir/error.log" > "$dir/stdout.log" 2>&1 &
    pid_of[backend]=$!
    for i in $(seq 1 200); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/1k.html" || true)" = 200 ] && break
        [ "$i" = 200 ] && die "the proxy scenario's nginx upstream did not start"
        sleep 0.05
    done
    backend_port=$port
}
stop_backend() {
    stop_server backend
    backend_port=""
}

versions() {
    local model
    model=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//' || true)
    if [ "$only_idle" = 1 ]; then
        echo "Date: $(date -u '+%Y-%m-%d %H:%M UTC'); mode: idle TLS memory only, $idle_conns"\
            "connections, $idle_runs run(s)"
    else
        echo "Date: $(date -u '+%Y-%m-%d %H:%M UTC'); mode: $([ "$quick" = 1 ] && echo quick || echo full),"\
            "median of $runs run(s) of $duration s"
    fi
    echo "Machine: $(nproc) CPUs, ${model:-$(uname -m)}, Linux $(uname -r)"
    local v=()
    for s in "${servers[@]}"; do
        case $s in
            bws) v+=("$("$bws" --version | head -1)") ;;
            nginx) v+=("$(nginx -v 2>&1 | head -1 | sed 's/^nginx version: //')") ;;
            h2o) v+=("$(h2o --version | head -1 | sed 's/ version / /')") ;;
            lighttpd) v+=("$(lighttpd -v | head -1 | sed 's/ - .*//')") ;;
        esac
    done
    v+=("$({ wrk -v 2>&1 || true; } | head -1 | awk '{print "wrk", $2}')")
    local IFS=,
    echo "Versions: ${v[*]}" | sed 's/,/, /g'
}
versions > "$out/env.txt"
cat "$out/env.txt"

# Startup and idle memory: STARTS fresh starts per server in layout A, logs off.
[ "$only_idle" = 1 ] && starts=0
for s in "${servers[@]}"; do
    [ "$starts" -gt 0 ] || break
    for _ in $(seq 1 "$starts"); do
        start_server "$s" A 0
        sleep 0.5
        "$py" "$helper" mem "${pid_of[$s]}" --out "$out/starts.jsonl" --server "$s" \
            --pass startup --start-ms "$start_ms"
        stop_server "$s"
    done
    echo "startup: $s measured"
done

run_pass() {
    local p=$1 layout=${1%%-log} log=0 threads=1 wrk_pin=() list sc s run tls=0
    [ "$p" != "$layout" ] && log=1
    [ "$layout" = B ] && threads=2
    [ "$layout" = A ] && wrk_pin=(taskset -c "$cpu_wrk")
    IFS=, read -ra list <<<"${scenarios_arg:-${pass_scenarios[$p]}}"
    [[ " ${list[*]}" == *" tls-"* ]] && tls=1
    [[ " ${list[*]} " == *" proxy "* ]] && start_backend "$layout"
    declare -A etag
    for s in "${servers[@]}"; do
        local with_tls=0
        [ "$tls" = 1 ] && tls_capable "$s" && with_tls=1
        start_server "$s" "$layout" "$log" "$with_tls"
        "$py" "$helper" mem "${pid_of[$s]}" --out "$out/starts.jsonl" --server "$s" \
            --pass "$p" --start-ms "$start_ms"
        etag[$s]=$(curl -sI "http://127.0.0.1:${port_of[$s]}/1k.html" \
            | tr -d '\r' | awk 'tolower($1) == "etag:" { $1 = ""; sub(/^ /, ""); print }')
        # Warm-up: file caches, first-request allocations (and OpenSSL's, with TLS on).
        "${wrk_pin[@]}" wrk -t"$threads" -c64 -d1s "http://127.0.0.1:${port_of[$s]}/1k.html" >/dev/null
        if [ "$with_tls" = 1 ]; then
            "${wrk_pin[@]}" wrk -t"$threads" -c64 -d1s \
                "https://127.0.0.1:${tls_port_of[$s]}/1k.html" >/dev/null
        fi
    done
    for sc in "${list[@]}"; do
        local label path conns header
        IFS='|' read -r label path conns header <<<"${scenario[$sc]}"
        if [ "$sc" = tls-new ] && [ -z "$wrk_tls" ]; then
            echo "bench: tls-new skipped (no wrk TLS shim, see above)" >&2
            continue
        fi
        for run in $(seq 1 "$runs"); do
            for s in "${servers[@]}"; do
                local h=$header hdr=() url="http://127.0.0.1:${port_of[$s]}$path" env=() stats=()
                if [[ $sc == tls-* ]]; then
                    [ -n "${tls_port_of[$s]}" ] || continue
                    url="https://127.0.0.1:${tls_port_of[$s]}$path"
                    if [ -n "$wrk_tls" ]; then
                        env=(env LD_PRELOAD="$wrk_tls" WRK_TLS_STATS="$work/wrk_tls.stats")
                        [ "$sc" = tls-new ] && env+=(WRK_TLS_NO_RESUME=1)
                        stats=(--tls-stats "$work/wrk_tls.stats")
                    fi
                fi
                if [ "$sc" = 304 ]; then
                    if [ -z "${etag[$s]}" ]; then echo "bench: $s sends no ETag, 304 skipped" >&2; continue; fi
                    h=${header/ETAG/${etag[$s]}}
                    [ "$(curl -s -o /dev/null -w '%{http_code}' -H "$h" \
                        "http://127.0.0.1:${port_of[$s]}$path")" = 304 ] \
                        || echo "bench: $s does not answer 304 to $h" >&2
                fi
                [ -n "$h" ] && hdr=(-H "$h")
                "$py" "$helper" measure --pid "${pid_of[$s]}" --out "$out/runs.jsonl" \
                    --raw "$out/wrk.txt" --server "$s" --pass "$p" --scenario "$sc" \
                    --label "$label" --run "$run" --duration "$duration" "${stats[@]}" -- \
                    "${wrk_pin[@]}" "${env[@]}" wrk -t"$threads" -c"$conns" -d"${duration}s" \
                    --latency "${hdr[@]}" "$url"
            done
        done
        echo "pass $p: $label done"
    done
    for s in "${servers[@]}"; do stop_server "$s"; done
    stop_backend
}
for p in "${passes[@]}"; do run_pass "$p"; done

# Memory per idle TLS connection: each server alone in layout A (the client on the other
# CPU), TLS 1.3, IDLE_CONNS connections that each had one 1 KiB request answered, held open.
if [ "$idle_tls" = 1 ]; then
    : > "$out/idle.jsonl"
    idle_mode=1
    client_pin=()
    [ "$cpu_wrk" != "$cpu_server" ] && client_pin=(taskset -c "$cpu_wrk")
    for s in "${servers[@]}"; do
        tls_capable "$s" || continue
        for run in $(seq 1 "$idle_runs"); do
            start_server "$s" A 0 1
            "${client_pin[@]}" "$py" "$helper" idle-tls --pid "${pid_of[$s]}" \
                --port "${tls_port_of[$s]}" --count "$idle_conns" --out "$out/idle.jsonl" \
                --server "$s" --run "$run"
            stop_server "$s"
        done
    done
    idle_mode=0
fi

report=("$py" "$helper" report --dir "$out")
[ "$update_readme" = 1 ] && report+=(--readme "$here/README.md" --png-copy "$here/results/readme.png")
"${report[@]}"
if [ "$(dirname "$out")" = "$here/results" ]; then ln -sfn "$(basename "$out")" "$here/results/latest"; fi
