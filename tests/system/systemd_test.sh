#!/bin/bash
# systemd_test.sh: bws under a real systemd (Debian 12 booted in systemd-nspawn), installed
# from the build tree with `cmake --install`, as issue 4 asks: enable --now, /health,
# STATUS=, synchronous reload (same MainPID, new config served), a broken config failing
# `systemctl reload` while the old one serves, an HTTPS site whose key is root:root 0600
# (read by the master's kept root; certificates renewed by a reload), journald native fields, the health-check
# timer, recovery after a failed check, the watchdog restarting a frozen master, clean stop.
#
# Usage: tests/system/systemd_test.sh        (as root; about 1 minute with a cached rootfs)
# env:   BWS_BUILD_DIR  build tree (default build-tests); configured and `bws` built if
#                       it has no bws binary yet
#        BWS_E2E_CACHE, BWS_E2E_KEEP, BWS_E2E_DEBUG: see nspawn/lib.sh
# Last line: "N passed, N failed"; exit status 1 if anything failed.

# wait_for takes a condition that is evaluated later, hence single quotes (SC2016).
# Functions called only through wait_for look unreachable (SC2317).
# shellcheck disable=SC2016,SC2119,SC2317
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/system/nspawn/lib.sh
. "$TOP/tests/system/nspawn/lib.sh"
BUILD=${BWS_BUILD_DIR:-$TOP/build-tests}
URL=http://127.0.0.1:8080

ns_init

# --------------------------------------------------------------------- build and stage
if [ ! -x "$BUILD/bws" ]; then
    ns_log "building bws in $BUILD"
    export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$TOP}
    if [ ! -e "$BUILD/CMakeCache.txt" ]; then
        out=$(timeout 600 cmake -S "$TOP" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo 2>&1) ||
            { fail "cmake configure of $BUILD" "$(tail -20 <<<"$out")"; exit 1; }
    fi
    out=$(timeout 3000 cmake --build "$BUILD" --target bws 2>&1) ||
        { fail "building bws in $BUILD" "$(tail -30 <<<"$out")"; exit 1; }
fi
STAGE=$NS_WORK/stage
if out=$(DESTDIR=$STAGE timeout 120 cmake --install "$BUILD" --prefix /usr 2>&1); then
    ok "cmake --install --prefix /usr into a staging dir"
else
    fail "cmake --install --prefix /usr into a staging dir" "$out"
    exit 1
fi

# The runtime libraries of the host-built binary (no build dependencies inside).
ns_rootfs libboost-json1.81.0 libtomlplusplus3 libspdlog1.10 libfmt9 libsystemd0 zlib1g || exit 1
ns_boot || exit 1

# ----------------------------------------------------------------------------- install
# What an admin does after `make install` on a running system. --keep-directory-symlink:
# the rootfs has merged /usr (/lib -> usr/lib); the stage has a real lib/ directory.
if out=$(tar -C "$STAGE" -cf - . | tar -C "$NS_ROOT" --keep-directory-symlink -xf - 2>&1); then
    ok "staged files copied into the container"
else
    fail "staged files copied into the container" "$out"
    exit 1
fi
check "systemd-sysusers creates the bws user" ct systemd-sysusers
check "systemd-tmpfiles --create bws.conf" ct systemd-tmpfiles --create bws.conf
check "systemctl daemon-reload" ct systemctl daemon-reload
check "user bws exists" ct id bws
check_eq "/etc/bws is root:bws 0750" "root:bws 750" "$(ct stat -c '%U:%G %a' /etc/bws)"
check_eq "/etc/bws/config.toml is root:bws 0640" "root:bws 640" "$(ct stat -c '%U:%G %a' /etc/bws/config.toml)"
check "systemd-analyze verify of the units" ct systemd-analyze verify --man=no \
    bws.service bws-health-check.service bws-health-check.timer bws-recovery.service

# health URL -> body (curl inside the container; the host cannot reach its loopback)
health() { ct curl -fsS --max-time 5 "$URL/health"; }
healthy() { health | grep -q '"status"[[:space:]]*:[[:space:]]*"healthy"'; }
main_pid() { prop bws MainPID; }

# ----------------------------------------------------------------------------- start
check "systemctl enable --now bws" ct systemctl enable --now bws
check_eq "bws is active" active "$(ct systemctl is-active bws)"
check_eq "bws is enabled" enabled "$(ct systemctl is-enabled bws)"
if wait_for healthy 10; then ok "/health answers healthy on 127.0.0.1:8080"; else
    fail "/health answers healthy on 127.0.0.1:8080" "$(health 2>&1)"; fi
check "the welcome page is served with X-Served-By: BWS" \
    ct sh -c "curl -fsS -D - -o /dev/null --max-time 5 $URL/ | grep -qi '^X-Served-By: BWS'"
status=$(prop bws StatusText)
if [ -n "$status" ]; then ok "StatusText is set: $status"; else fail "StatusText is set (empty)"; fi
check_eq "the master runs as user bws" bws "$(ct stat -c %U "/proc/$(main_pid)")"
PID0=$(main_pid)

# ----------------------------------------------------------------------------- reload
ct cp /etc/bws/config.toml /etc/bws/config.toml.orig
ns_add_second_site '' '[sites.headers]' '"X-Site" = "second"'
ct cp /etc/bws/config.toml /etc/bws/config.toml.good
check "systemctl reload bws (a site added)" ct systemctl reload bws
check_eq "same MainPID after reload" "$PID0" "$(main_pid)"
check_eq "active after reload" active "$(ct systemctl is-active bws)"
second() { ct curl -fsS --max-time 5 -H 'Host: second.test' -D - "$URL/"; }
out=$(second 2>&1)
if grep -q 'second site' <<<"$out" && grep -qi '^X-Site: second' <<<"$out"; then
    ok "the new site and its header are served after reload"
else
    fail "the new site and its header are served after reload" "$out"
fi
status2=$(prop bws StatusText)
ns_log "StatusText after reload: $status2"

# A broken config: `systemctl reload` must fail and the running generation keep serving.
ct sh -c 'printf "\n[[sites]\nname = broken\n" >> /etc/bws/config.toml'
check_not "systemctl reload bws fails on a broken config" ct systemctl reload bws
check_eq "still active after the failed reload" active "$(ct systemctl is-active bws)"
check_eq "same MainPID after the failed reload" "$PID0" "$(main_pid)"
if second 2>/dev/null | grep -q 'second site' && healthy; then
    ok "the previous configuration keeps serving"
else
    fail "the previous configuration keeps serving" "$(second 2>&1; health 2>&1)"
fi
ct cp /etc/bws/config.toml.good /etc/bws/config.toml
check "reload with the config repaired" ct systemctl reload bws

# ----------------------------------------------------------------------------- TLS
# A private key root:root 0600, unreadable by user bws: the master opens it with the root it
# keeps (ExecStart=!... --user bws), at reload and at every later (re)start of this test.
TLS=https://tls.test:8443
# tls_key CN: a certificate for tls.test with that subject, its key root:root 0600.
tls_key() {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
        -subj "/CN=$1" -addext "subjectAltName=DNS:tls.test" \
        -keyout "$NS_WORK/site.key" -out "$NS_WORK/site.crt" >/dev/null 2>&1 &&
        ct install -d -o root -g bws -m 0750 /etc/bws/ssl &&
        cp "$NS_WORK/site.key" "$NS_WORK/site.crt" "$NS_ROOT/etc/bws/ssl/" &&
        ct chown root:root /etc/bws/ssl/site.key /etc/bws/ssl/site.crt &&
        ct chmod 0600 /etc/bws/ssl/site.key && ct chmod 0644 /etc/bws/ssl/site.crt
}
tls_subject() {
    ct curl -sS -vk --max-time 5 --resolve tls.test:8443:127.0.0.1 -o /dev/null "$TLS/" 2>&1 |
        sed -n 's/^\*  *subject: //p'
}
uids() { ct awk '/^Uid:/ { print $2, $3, $4, $5 }' "/proc/$1/status"; }
check "a certificate (CN=one) with its key root:root 0600 in /etc/bws/ssl" tls_key one
check_not "user bws cannot read the key" ct runuser -u bws -- cat /etc/bws/ssl/site.key
printf '\n[[sites]]\nname = "tls"\nhostname = "tls.test"\nport = 8443\nbind = "127.0.0.1"\nstatic_dir = "/opt/bws/sites/second"\n[sites.ssl]\nenabled = true\ncert_file = "/etc/bws/ssl/site.crt"\nkey_file = "/etc/bws/ssl/site.key"\n' |
    ct sh -c 'cat >> /etc/bws/config.toml'
check "systemctl reload bws (an HTTPS site with the root-only key)" ct systemctl reload bws
check_eq "the HTTPS site serves the certificate CN=one" "CN=one" "$(tls_subject)"
check "the HTTPS site serves its page" \
    ct sh -c "curl -fsSk --max-time 5 --resolve tls.test:8443:127.0.0.1 $TLS/ | grep -q 'second site'"
BWS_UID=$(ct id -u bws)
check_eq "the master runs as bws, root kept only as its saved set-user-ID" \
    "$BWS_UID $BWS_UID 0 $BWS_UID" "$(uids "$(main_pid)")"
# Its children, from /proc (the container has no procps).
workers=$(ct sh -c 'for p in /proc/[0-9]*; do
    [ "$(awk "/^PPid:/ { print \$2 }" "$p/status" 2>/dev/null)" = "$1" ] && echo "${p#/proc/}"
done; true' sh "$(main_pid)")
bad=""
for w in $workers; do
    [ "$(uids "$w")" = "$BWS_UID $BWS_UID $BWS_UID $BWS_UID" ] || bad="$bad $w:$(uids "$w")"
done
if [ -n "$workers" ] && [ -z "$bad" ]; then ok "every worker is bws with no root kept ($(tr "\n" " " <<<"$workers"))"; else
    fail "every worker is bws with no root kept" "workers: $workers; wrong:$bad"; fi
check "a renewed certificate (CN=two) on disk, key root:root 0600" tls_key two
check "systemctl reload bws picks up the renewed certificate" ct systemctl reload bws
check_eq "the HTTPS site now serves CN=two" "CN=two" "$(tls_subject)"
check_eq "same MainPID after the certificate reloads" "$PID0" "$(main_pid)"

# ----------------------------------------------------------------------------- journald
ct curl -fsS --max-time 5 -o /dev/null "$URL/no-such-file" 2>/dev/null
journal=$(ct journalctl -u bws -o json --no-pager 2>&1)
if grep -q '"SYSLOG_IDENTIFIER":"bws"' <<<"$journal"; then
    ok "journal of bws has SYSLOG_IDENTIFIER=bws"
else
    fail "journal of bws has SYSLOG_IDENTIFIER=bws" "$(tail -5 <<<"$journal")"
fi
fields=$(grep -o '"BWS_[A-Z_]*"' <<<"$journal" | sort -u | tr -d '"' | paste -sd' ')
if [ -n "$fields" ]; then ok "journal of bws has native BWS_* fields: $fields"; else
    fail "journal of bws has native BWS_* fields" "$(tail -3 <<<"$journal")"; fi
check "journalctl -u bws BWS_ROLE=master finds entries" \
    ct sh -c 'journalctl -u bws BWS_ROLE=master -o cat --no-pager | grep -q .'
check "journalctl -u bws BWS_SITE=main finds entries" \
    ct sh -c 'journalctl -u bws BWS_SITE=main -o cat --no-pager | grep -q .'
check "journalctl -u bws BWS_SITE=second finds entries (the site added by reload)" \
    ct sh -c 'journalctl -u bws BWS_SITE=second -o cat --no-pager | grep -q .'
check "worker lines carry BWS_WORKER_PID" \
    ct sh -c 'journalctl -u bws BWS_ROLE=worker -o json --no-pager | grep -q "\"BWS_WORKER_PID\":\"[0-9]"'
if errs=$(ct journalctl -u bws -p err -o json --no-pager 2>&1); then
    # Every entry shown has a priority of err or more severe.
    if [ -z "$errs" ] || ! grep -v '"PRIORITY":"[0-3]"' <<<"$errs" | grep -q .; then
        ok "journalctl -u bws -p err shows only err and worse ($(grep -c . <<<"$errs") entries)"
    else
        fail "journalctl -u bws -p err shows only err and worse" "$(grep -v '"PRIORITY":"[0-3]"' <<<"$errs" | head -3)"
    fi
else
    fail "journalctl -u bws -p err" "$errs"
fi
# The failed reload above is an error (systemd's "Reload failed" line), and so are bws's own
# diagnostics of the broken file (FILE:LINE:COL: message, from ExecReload's --config-check,
# written with a "<3>" priority prefix when stderr is the journal).
check "journalctl -u bws -p err shows the failed reload" \
    ct sh -c 'journalctl -u bws -p err -o cat --no-pager | grep -q "Reload failed"'
check "journalctl -u bws -p err shows the broken file's diagnostics" \
    ct sh -c 'journalctl -u bws -p err -o cat --no-pager | grep -q "^/etc/bws/config.toml:[0-9]*:[0-9]*: "'

# ----------------------------------------------------------------------------- timer
# Sped up by a drop-in. Never an empty `OnUnitActiveSec=`: that resets every trigger and
# the timer never fires (systemd-in-container.md, pitfall 7).
ct sh -c 'mkdir -p /etc/systemd/system/bws-health-check.timer.d &&
    printf "[Timer]\nOnActiveSec=1s\nOnUnitActiveSec=2s\nAccuracySec=100ms\n" \
        > /etc/systemd/system/bws-health-check.timer.d/fast.conf && systemctl daemon-reload'
check "systemctl enable --now bws-health-check.timer" ct systemctl enable --now bws-health-check.timer
hc_runs() { ct journalctl -u bws-health-check -o cat --no-pager | grep -c 'OK: bws is healthy'; }
if wait_for '[ "$(hc_runs)" -ge 2 ]' 20; then
    ok "the health-check timer fired and passed twice"
else
    fail "the health-check timer fired and passed twice (runs: $(hc_runs))" \
        "$(ct journalctl -u bws-health-check -u bws-health-check.timer -o cat --no-pager | tail -15)"
fi
check_eq "bws-health-check.service Result=success" success "$(prop bws-health-check.service Result)"
# Recovery below is started by hand, one check at a time.
check "timer stopped" ct systemctl stop bws-health-check.timer

# ----------------------------------------------------------------------------- recovery
# Scenario: bws is enabled but not running (stopped, as after a crash that exhausted
# Restart=, or killed by an admin's mistake). systemd itself never restarts a stopped unit;
# the failed health check's OnFailure= starts bws-recovery, which restarts it. A disabled
# unit is the admin's "keep it off" and is left alone (checked second).
ct systemctl stop bws
check_not "health check fails while bws is stopped" ct systemctl start bws-health-check.service
if wait_for '[ "$(ct systemctl is-active bws)" = active ] && [ "$(prop bws-recovery.service ActiveState)" != activating ]' 60; then
    ok "bws-recovery restarted bws after the failed check"
else
    fail "bws-recovery restarted bws after the failed check" \
        "$(ct journalctl -u bws-recovery -o cat --no-pager | tail -15)"
fi
check_eq "bws-recovery.service Result=success" success "$(prop bws-recovery.service Result)"
# To the journal through logger(1), or to its fallback file when logger cannot be used.
# By identifier, not -u: journald attributes a line to a unit through the sender's cgroup,
# which it cannot read once a short-lived logger(1) has exited, so `-u` misses lines at random.
if ct sh -c 'journalctl -t bws-recovery -o cat --no-pager | grep -q "restarting bws.service"'; then
    ok "bws-recovery logged the restart to the journal"
elif ct grep -q "restarting bws.service" /var/log/bws/recovery.log 2>/dev/null; then
    ok "bws-recovery logged the restart (to /var/log/bws/recovery.log: logger failed)"
else
    fail "bws-recovery logged the restart" "$(ct journalctl -t bws-recovery -u bws-recovery -o cat --no-pager | tail -10)"
fi
if wait_for healthy 10; then ok "/health answers after recovery"; else fail "/health answers after recovery"; fi
PID1=$(main_pid)
if [ "$PID1" != "$PID0" ] && [ "$PID1" != 0 ]; then ok "new MainPID after recovery"; else
    fail "new MainPID after recovery ($PID0 -> $PID1)"; fi

ct systemctl disable --now bws >/dev/null 2>&1
ct systemctl reset-failed bws-health-check.service bws-recovery.service
check_not "health check fails while bws is disabled and stopped" ct systemctl start bws-health-check.service
if wait_for '[ "$(prop bws-recovery.service ExecMainExitTimestampMonotonic)" != 0 ] && [ "$(prop bws-recovery.service ActiveState)" != activating ]' 30; then
    check_eq "bws-recovery leaves a disabled bws alone (exit 4)" 4 "$(prop bws-recovery.service ExecMainStatus)"
else
    fail "bws-recovery ran after the second failed check"
fi
check_eq "disabled bws stays inactive" inactive "$(ct systemctl is-active bws)"
ct systemctl reset-failed bws-health-check.service bws-recovery.service bws
check "systemctl enable --now bws again" ct systemctl enable --now bws

# ----------------------------------------------------------------------------- watchdog
# WatchdogSec=3s by drop-in; SIGSTOP freezes the master, its pings stop, systemd sends
# WatchdogSignal (SIGABRT, followed by SIGCONT) and restarts it (Restart=on-failure).
# RestartSec/TimeoutAbortSec only shorten the wait.
ct sh -c 'mkdir -p /etc/systemd/system/bws.service.d &&
    printf "[Service]\nWatchdogSec=3s\nRestartSec=1s\nTimeoutAbortSec=10s\n" \
        > /etc/systemd/system/bws.service.d/watchdog.conf && systemctl daemon-reload'
ct systemctl reset-failed bws
check "restart with WatchdogSec=3s" ct systemctl restart bws
PIDW=$(main_pid)
N0=$(prop bws NRestarts)
ts0=$(prop bws WatchdogTimestampMonotonic)
if wait_for '[ "$(prop bws WatchdogTimestampMonotonic)" != "$ts0" ]' 5; then
    ok "the master pings the watchdog (WatchdogTimestamp advances)"
else
    fail "the master pings the watchdog (WatchdogTimestamp stays $ts0)"
fi
sleep 4 # longer than WatchdogSec: a healthy master is not restarted
check_eq "not restarted while pinging" "$PIDW" "$(main_pid)"
check "SIGSTOP to the master" ct systemctl kill --kill-whom=main -s SIGSTOP bws
if wait_for '[ "$(ct systemctl is-active bws)" = active ] && p=$(main_pid) && [ "$p" != "$PIDW" ] && [ "$p" != 0 ]' 40; then
    ok "the watchdog restarted the frozen master (MainPID $PIDW -> $(main_pid))"
else
    fail "the watchdog restarted the frozen master" "$(ct systemctl status bws --no-pager -n 0 2>&1)"
fi
check_eq "NRestarts incremented" "$((N0 + 1))" "$(prop bws NRestarts)"
check "journal says Result=watchdog" \
    ct sh -c "journalctl -u bws -o cat --no-pager | grep -q \"Failed with result 'watchdog'\""
check_not "the frozen master is gone" ct test -d "/proc/$PIDW"
if wait_for healthy 10; then ok "/health answers after the watchdog restart"; else
    fail "/health answers after the watchdog restart"; fi
ct rm -f /etc/systemd/system/bws.service.d/watchdog.conf
ct systemctl daemon-reload

# ----------------------------------------------------------------------------- stop
check "systemctl stop bws" ct systemctl stop bws
check_eq "inactive after stop" inactive "$(ct systemctl is-active bws)"
check_eq "Result=success after stop" success "$(prop bws Result)"
left=$(ct sh -c 'for p in /proc/[0-9]*; do [ "$(cat "$p/comm" 2>/dev/null)" = bws ] && echo "${p#/proc/}"; done')
if [ -z "$left" ]; then ok "no bws process left"; else fail "no bws process left: $left"; fi
check_not "PID file removed" ct test -e /run/bws/bws.pid

ns_finish
