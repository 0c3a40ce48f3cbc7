#!/usr/bin/env bash
# Compares bws with nginx, h2o and lighttpd (Debian's packages) on loopback in one run: the
# same files, each peer with the reference configuration of shared/notes/benchmarks.md, wrk
# against each server in turn (scenario by scenario, so drift hits every server alike).
# Measures requests/s, transfer, p50/p99 latency, requests per server CPU-second, idle and
# loaded RSS/PSS and the time from exec to the first 200, and writes a Markdown table and a
# PNG plot to bench/results/<date>/ (see bench/README.md). TLS scenarios use one ECDSA P-256
# self-signed certificate made for the run; --idle-tls measures memory per idle TLS connection.
# gz-static and gz-fly serve a 100 KiB HTML file compressed (precompressed siblings, and on the
# fly); --bws-variants measures what bws's management listener and a rate limit cost.
#
# Usage: bench/run.sh [options] [BWS_BINARY]          (default binary: build/bws)
#   --quick                 about two minutes: 1 run of 2 s, fewer scenarios in B and A-log
#   --servers LIST          comma-separated subset of nginx,h2o,lighttpd,bws (default: all
#                           installed; a peer named here must be installed)
#   --passes LIST           of A, B, A-log, B-log (default A,B,A-log)
#   --access-log            only the access-log pass (A-log)
#   --scenarios LIST        of ka64,ka256,close,100k,1m,10m,304,404,tls-ka,tls-new,proxy,
#                           gz-static,gz-fly (default: per pass). proxy: each server proxies
#                           /proxy/ to one nginx upstream (1 worker, on wrk's CPU in layout A),
#                           with keep-alive to it where the server has that. gz-static and
#                           gz-fly: a 100 KiB HTML file with Accept-Encoding: gzip, br on a
#                           listener of its own, served from precompressed .gz/.br siblings
#                           (gz-static) or compressed on the fly (gz-fly, level 6 everywhere);
#                           checked with curl to come back with a Content-Encoding first
#   --bws-variants LIST     of plain,metrics,ratelimit: bws also runs as bws-metrics
#                           ([management] on, /metrics scraped every second during the pass)
#                           and bws-ratelimit ([security.rate_limiting] 1000000 a minute,
#                           burst 100000, with wrk's connections spread over 250 loopback
#                           addresses by bench/wrk_spread.c so that it never triggers), in
#                           the same pass as plain bws; the report gives each ÷ plain
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
variants_arg=""
while [ $# -gt 0 ]; do
    case $1 in
        --quick) quick=1 ;;
        --servers) servers_arg=$2; shift ;;
        --passes) passes_arg=$2; shift ;;
        --access-log) passes_arg=A-log ;;
        --scenarios) scenarios_arg=$2; shift ;;
        --bws-variants) variants_arg=$2; shift ;;
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
    [gz-static]="100 KiB HTML gzip/br, precompressed c64|/100k.html|64|Accept-Encoding: gzip, br"
    [gz-fly]="100 KiB HTML gzip/br, on the fly c64|/100k.html|64|Accept-Encoding: gzip, br"
)
all_scenarios="ka64,ka256,close,100k,1m,10m,304,404,tls-ka,tls-new,proxy,gz-static,gz-fly"
# The compression level of gz-fly, the same for every server (bws's default).
gz_level=6
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

# --bws-variants: plain is bws itself; the others run beside it as servers of their own.
variants=() want_spread=0
if [ -n "$variants_arg" ]; then
    [[ " ${servers[*]} " == *" bws "* ]] || die "--bws-variants needs bws among the servers"
    IFS=, read -ra check <<<"$variants_arg"
    for v in "${check[@]}"; do
        case $v in
            plain) ;;
            metrics|ratelimit) variants+=("bws-$v") ;;
            *) die "unknown bws variant $v (plain, metrics, ratelimit)" ;;
        esac
    done
    [[ " ${variants[*]} " == *" bws-ratelimit "* ]] && want_spread=1
fi

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

# Compression: gz-static needs the server to send precompressed siblings, gz-fly to compress
# on the fly. lighttpd's mod_deflate (Debian: lighttpd-mod-deflate) compresses on the fly (no
# sibling files), so it sits out gz-static, and gz-fly too without the module.
lighttpd_module() {
    local d
    for d in /usr/lib/lighttpd /usr/lib64/lighttpd /usr/local/lib/lighttpd; do
        [ -e "$d/$1.so" ] && return 0
    done
    return 1
}
gz_capable() {
    case $1:$2 in
        lighttpd:gz-static) return 1 ;;
        lighttpd:gz-fly) lighttpd_module mod_deflate ;;
        *) return 0 ;;
    esac
}
need_gz=0
for p in "${passes[@]}"; do
    [[ ,${scenarios_arg:-${pass_scenarios[$p]}}, == *,gz-* ]] && need_gz=1
done
if [ "$need_gz" = 1 ] && [[ " ${servers[*]} " == *" lighttpd "* ]]; then
    echo "bench: lighttpd cannot send precompressed files (mod_deflate compresses on the fly" \
        "only), it sits out gz-static" >&2
    gz_capable lighttpd gz-fly || echo "bench: lighttpd has no mod_deflate (apt-get install" \
        "lighttpd-mod-deflate), it sits out gz-fly" >&2
fi

# Layout A pins the server to one CPU and wrk to another.
if [ "$(nproc)" -ge 2 ]; then cpu_server=0 cpu_wrk=1
else cpu_server=0 cpu_wrk=0; echo "bench: one CPU only, layout A shares it" >&2; fi

stamp=$(date -u +%Y-%m-%d-%H%M%S)
out=${out:-$here/results/$stamp}
mkdir -p "$out"
out=$(cd "$out" && pwd)
: > "$out/runs.jsonl"; : > "$out/starts.jsonl"; : > "$out/checks.jsonl"; : > "$out/wrk.txt"

work=$(mktemp -d /tmp/bws-bench.XXXXXX)
chmod 755 "$work"
declare -A pid_of port_of tls_port_of gzs_port_of gzf_port_of mgmt_port_of
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
# gz-*: 100 KiB of HTML made of words (gzip -9 makes it 42 % of that, as text goes), and its
# siblings 100k.html.gz (gzip -9) and 100k.html.br (brotli quality 11), newer than the file.
"$py" "$helper" html "$work/www/100k.html" 102400
if [ "$need_gz" = 1 ]; then
    "$py" "$helper" precompress "$work/www/100k.html" \
        || die "cannot make the precompressed siblings (gz-static needs libbrotlienc or brotli)"
fi
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

# wrk's source-address shim (bench/wrk_spread.c), for the rate limit variant: without it that
# variant would be one client over the largest rule bws takes.
wrk_spread=""
if [ "$want_spread" = 1 ]; then
    cc -shared -fPIC -O2 -o "$work/wrk_spread.so" "$here/wrk_spread.c" -ldl 2>"$work/wrk_spread.log" \
        || { cat "$work/wrk_spread.log" >&2; die "cannot build bench/wrk_spread.c (cc): the" \
            "ratelimit variant needs it"; }
    wrk_spread=$work/wrk_spread.so
fi

# write_config NAME DIR PORT WORKERS LOG(0|1) [TLS_PORT]: the server's configuration in DIR;
# with TLS_PORT, a second listener there with TLS 1.3 only and the run's certificate. With
# gz_static_port / gz_fly_port set, a listener there that sends 100k.html's precompressed
# siblings / compresses on the fly at gz_level. With idle_mode=1 the keep-alive timeouts that
# are shorter than a minute become a minute. NAME bws-metrics and bws-ratelimit are bws with
# [management] on mgmt_port, or a rate limit that never triggers.
idle_mode=0 gz_static_port="" gz_fly_port="" mgmt_port=""
write_config() {
    local name=$1 dir=$2 port=$3 workers=$4 log=$5 tls_port=${6:-}
    case $name in
        nginx)
            local access="access_log off;" tls="" upstream="" proxy="" gz=""
            [ -n "$gz_static_port" ] && gz="server {
        listen 127.0.0.1:$gz_static_port backlog=4096;
        root $docroot;
        gzip on; gzip_static on; gzip_types text/html; gzip_comp_level $gz_level;
    }"
            [ -n "$gz_fly_port" ] && gz="$gz
    server {
        listen 127.0.0.1:$gz_fly_port backlog=4096;
        root $docroot;
        gzip on; gzip_types text/html; gzip_comp_level $gz_level;
    }"
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
    $gz
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
                # h2o 2.2: send-compressed serves FILE.br / FILE.gz; compress takes a quality
                # per coding (its defaults are 1).
                if [ -n "$gz_static_port" ]; then
                    echo "  \"static-gz\":"
                    echo "    listen: {host: 127.0.0.1, port: $gz_static_port}"
                    echo "    paths: {\"/\": {file.dir: \"$docroot\", file.send-compressed: ON}}"
                fi
                if [ -n "$gz_fly_port" ]; then
                    echo "  \"fly-gz\":"
                    echo "    listen: {host: 127.0.0.1, port: $gz_fly_port}"
                    echo "    paths: {\"/\": {file.dir: \"$docroot\", compress: {gzip: $gz_level, br: $gz_level}}}"
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
                [ -n "$gz_fly_port" ] && modules+=('"mod_deflate"')
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
                    # shellcheck disable=SC2016 # lighttpd's $HTTP, not the shell's
                    echo '$HTTP["url"] =~ "^/proxy/" {'
                    echo "    proxy.server = ( \"\" => (( \"host\" => \"127.0.0.1\", \"port\" => $backend_port )) )"
                    echo '    proxy.header = ( "map-urlpath" => ( "/proxy/" => "/" ) )'
                    echo '}'
                fi
                # mod_deflate without deflate.cache-dir: it compresses every response.
                if [ -n "$gz_fly_port" ]; then
                    echo "\$SERVER[\"socket\"] == \"127.0.0.1:$gz_fly_port\" {"
                    echo '    deflate.mimetypes = ( "text/html" )'
                    echo '    deflate.allowed-encodings = ( "br", "gzip" )'
                    echo "    deflate.compression-level = $gz_level"
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
        bws|bws-*)
            local access='"off"' variant=""
            [ "$log" = 1 ] && access="\"$dir/access.log\""
            [ "$name" = bws-metrics ] && variant="
[management]
enabled = true
host = \"127.0.0.1\"
port = $mgmt_port
"
            [ "$name" = bws-ratelimit ] && variant="
[security.rate_limiting]
requests_per_minute = 1000000
burst_size = 100000
"
            cat > "$dir/bws.toml" <<EOF
[server]
workers = $workers
backlog = 4096

[server.limits]
max_keepalive_requests = 10000

[logging]
level = "warn"
access_log = $access
$variant
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
            local gz_port precompressed
            for gz_port in "$gz_static_port" "$gz_fly_port"; do
                [ -n "$gz_port" ] || continue
                precompressed=false
                [ "$gz_port" = "$gz_static_port" ] && precompressed=true
                cat >> "$dir/bws.toml" <<EOF

[[sites]]
name = "bench-gz-$gz_port"
hostname = "localhost"
port = $gz_port
bind = "127.0.0.1"
static_dir = "$docroot"

[sites.compression]
enabled = true
types = ["text/html"]
level = $gz_level
precompressed = $precompressed
EOF
            done
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
        bws|bws-*) cmd=("$bws" -c "$dir/bws.toml") ;;
    esac
}

# A fork-free 1 ms sleep for the startup poll: read with a timeout on a pipe nobody writes.
exec {sleep_fd}<> <(:)
start_ms=""
# new_port: a free port (sets new_port) that is none of taken_ports (this server's others).
taken_ports=" "
new_port() {
    new_port=$("$py" "$helper" free-port)
    while [[ $taken_ports == *" $new_port "* ]]; do new_port=$("$py" "$helper" free-port); done
    taken_ports+="$new_port "
}
# start_server NAME LAYOUT LOG [TLS(0|1)]: start it, wait for its first 200 (sets start_ms);
# with TLS=1 it also listens with TLS on tls_port_of[NAME], checked once it answers. With
# gz_pass containing gz-static / gz-fly, a listener for each that NAME takes part in
# (gzs_port_of, gzf_port_of); bws-metrics gets its management port (mgmt_port_of).
gz_pass=""
start_server() {
    local name=$1 layout=$2 log=$3 tls=${4:-0} dir port tls_port="" workers=1 pin=() t0 now fd
    local line cmd code
    dir=$(mktemp -d "$work/$name.XXXX")
    mkdir -p "$dir"
    taken_ports=" " gz_static_port="" gz_fly_port="" mgmt_port=""
    new_port; port=$new_port
    if [ "$tls" = 1 ]; then new_port; tls_port=$new_port; fi
    if [[ $gz_pass == *,gz-static,* ]] && gz_capable "$name" gz-static; then
        new_port; gz_static_port=$new_port
    fi
    if [[ $gz_pass == *,gz-fly,* ]] && gz_capable "$name" gz-fly; then
        new_port; gz_fly_port=$new_port
    fi
    if [ "$name" = bws-metrics ]; then new_port; mgmt_port=$new_port; fi
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
    gzs_port_of[$name]=$gz_static_port
    gzf_port_of[$name]=$gz_fly_port
    mgmt_port_of[$name]=$mgmt_port
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

# check_coding PASS SCENARIO NAME URL: the server must answer URL with Accept-Encoding: gzip, br
# with a 200 and a Content-Encoding of gzip or br; appends what it got to checks.jsonl.
failures=0
check_coding() {
    local p=$1 sc=$2 name=$3 url=$4 head status coding size
    head=$(curl -s -o "$work/coding.body" -D - -w 'size %{size_download}\n' \
        -H 'Accept-Encoding: gzip, br' "$url" | tr -d '\r' || true)
    status=$(awk 'NR == 1 { print $2 }' <<<"$head")
    coding=$(awk 'tolower($1) == "content-encoding:" { print tolower($2) }' <<<"$head")
    size=$(awk '$1 == "size" { print $2 }' <<<"$head")
    printf '{"kind": "coding", "pass": "%s", "scenario": "%s", "server": "%s", "status": "%s", "coding": "%s", "bytes": %s}\n' \
        "$p" "$sc" "$name" "$status" "$coding" "${size:-0}" >> "$out/checks.jsonl"
    if [ "$status" = 200 ] && { [ "$coding" = gzip ] || [ "$coding" = br ]; }; then return 0; fi
    echo "bench: FAILED: $name answers $url with status ${status:-none} and Content-Encoding" \
        "'${coding:-none}' to Accept-Encoding: gzip, br; it sits out $sc" >&2
    failures=$((failures + 1))
    return 1
}

# The /metrics scrape of bws-metrics: once a second during the pass, on wrk's CPU in layout A.
start_scraper() {
    local layout=$1 url="http://127.0.0.1:${mgmt_port_of[bws-metrics]}/metrics" pin=()
    if ! curl -s --max-time 5 "$url" | grep -q '^bws_http_requests_total'; then
        echo "bench: FAILED: bws-metrics serves no bws_http_requests_total at $url" >&2
        failures=$((failures + 1))
        return 0
    fi
    [ "$layout" = A ] && pin=(taskset -c "$cpu_wrk")
    : > "$work/scrape.log"
    # shellcheck disable=SC2016 # expanded by the inner shell
    setsid "${pin[@]}" bash -c 'while :; do curl -s -o /dev/null --max-time 2 -w "%{http_code}\n" "$1" >> "$2"; sleep 1; done' \
        _ "$url" "$work/scrape.log" > /dev/null 2>&1 &
    pid_of[scraper]=$!
}
stop_scraper() {
    local p=$1 total ok
    [ -n "${pid_of[scraper]:-}" ] || return 0
    stop_server scraper
    total=$(wc -l < "$work/scrape.log") ok=$(grep -c '^200$' "$work/scrape.log" || true)
    printf '{"kind": "scrapes", "pass": "%s", "count": %s, "ok": %s}\n' "$p" "$total" "$ok" \
        >> "$out/checks.jsonl"
    echo "pass $p: bws-metrics: $ok of $total scrapes of /metrics answered 200"
    [ "$ok" -gt 0 ] && [ "$ok" = "$total" ] && return 0
    echo "bench: FAILED: not every scrape of bws-metrics's /metrics answered 200" >&2
    failures=$((failures + 1))
}

run_pass() {
    local p=$1 layout=${1%%-log} log=0 threads=1 wrk_pin=() list sc s run tls=0 preload=""
    local pass_servers=()
    [ "$p" != "$layout" ] && log=1
    [ "$layout" = B ] && threads=2
    [ "$layout" = A ] && wrk_pin=(taskset -c "$cpu_wrk")
    IFS=, read -ra list <<<"${scenarios_arg:-${pass_scenarios[$p]}}"
    gz_pass=,${scenarios_arg:-${pass_scenarios[$p]}},
    [[ " ${list[*]}" == *" tls-"* ]] && tls=1
    [[ " ${list[*]} " == *" proxy "* ]] && start_backend "$layout"
    # bws's variants run right after bws, as servers of their own.
    for s in "${servers[@]}"; do
        pass_servers+=("$s")
        [ "$s" = bws ] && pass_servers+=("${variants[@]}")
    done
    # With the ratelimit variant every wrk of the pass spreads its connections over loopback
    # addresses (bench/wrk_spread.c), so that all servers are measured alike.
    [ -n "$wrk_spread" ] && preload=$wrk_spread
    declare -A etag skip
    for s in "${pass_servers[@]}"; do
        local with_tls=0 warm=()
        [ -n "$preload" ] && warm=(env LD_PRELOAD="$preload")
        [ "$tls" = 1 ] && tls_capable "$s" && with_tls=1
        start_server "$s" "$layout" "$log" "$with_tls"
        "$py" "$helper" mem "${pid_of[$s]}" --out "$out/starts.jsonl" --server "$s" \
            --pass "$p" --start-ms "$start_ms"
        etag[$s]=$(curl -sI "http://127.0.0.1:${port_of[$s]}/1k.html" \
            | tr -d '\r' | awk 'tolower($1) == "etag:" { $1 = ""; sub(/^ /, ""); print }')
        [ "$s" = bws-metrics ] && start_scraper "$layout"
        # Compression: curl first, each listener must answer with a Content-Encoding (this is
        # also bws's first request, which compresses and caches the file in gz-fly).
        for sc in gz-static gz-fly; do
            [[ $gz_pass == *,$sc,* ]] || continue
            local gz_port=${gzs_port_of[$s]}
            [ "$sc" = gz-fly ] && gz_port=${gzf_port_of[$s]}
            if [ -z "$gz_port" ]; then skip[$s,$sc]=1; continue; fi
            check_coding "$p" "$sc" "$s" "http://127.0.0.1:$gz_port/100k.html" || skip[$s,$sc]=1
        done
        # Warm-up: file caches, first-request allocations (and OpenSSL's, with TLS on).
        "${wrk_pin[@]}" "${warm[@]}" wrk -t"$threads" -c64 -d1s \
            "http://127.0.0.1:${port_of[$s]}/1k.html" >/dev/null
        if [ "$with_tls" = 1 ]; then
            "${wrk_pin[@]}" "${warm[@]}" wrk -t"$threads" -c64 -d1s \
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
            for s in "${pass_servers[@]}"; do
                local h=$header hdr=() url="http://127.0.0.1:${port_of[$s]}$path" env=() stats=()
                local libs=$preload
                [ -n "${skip[$s,$sc]:-}" ] && continue
                if [[ $sc == tls-* ]]; then
                    [ -n "${tls_port_of[$s]}" ] || continue
                    url="https://127.0.0.1:${tls_port_of[$s]}$path"
                    if [ -n "$wrk_tls" ]; then
                        libs=$wrk_tls${preload:+:$preload}
                        env=(WRK_TLS_STATS="$work/wrk_tls.stats")
                        [ "$sc" = tls-new ] && env+=(WRK_TLS_NO_RESUME=1)
                        stats=(--tls-stats "$work/wrk_tls.stats")
                    fi
                fi
                [ "$sc" = gz-static ] && url="http://127.0.0.1:${gzs_port_of[$s]}$path"
                [ "$sc" = gz-fly ] && url="http://127.0.0.1:${gzf_port_of[$s]}$path"
                [ -n "$libs" ] && env=(env LD_PRELOAD="$libs" "${env[@]}")
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
    stop_scraper "$p"
    for s in "${pass_servers[@]}"; do stop_server "$s"; done
    stop_backend
    gz_pass=""
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
if [ "$failures" != 0 ]; then
    echo "bench: $failures check(s) FAILED (see above): those servers sat out those scenarios" >&2
    exit 1
fi
