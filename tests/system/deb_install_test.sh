#!/bin/bash
# deb_install_test.sh: the user's path with the Debian package under a real systemd (Debian
# 12 booted in systemd-nspawn), as issue 6 asks: `apt install ./bws_*.deb` starts bws and
# /health answers; `enable --now` is idempotent; a site added to /etc/bws/config.toml is
# served after `systemctl reload` with the same MainPID and no failed request in a client
# loop; the health-check timer fires; logrotate rotates and bws writes to the new file;
# journalctl -u bws shows logs; `apt purge` leaves no unit, no process, no log directory.
#
# Usage: tests/system/deb_install_test.sh     (as root)
# env:   BWS_DEB=path/to/bws_*.deb  test this package instead of building one
#        BWS_PKG_REF=<git ref>      what to build (default HEAD; `git archive`, so only
#                                   committed changes count)
#        DEB_BUILD_OPTIONS          default "nocheck parallel=2" (the unit tests run in
#                                   ctest and package_deb_test.sh; this test is about
#                                   installing)
#        BWS_E2E_CACHE, BWS_E2E_KEEP, BWS_E2E_DEBUG: see nspawn/lib.sh
# The package build needs debhelper, dpkg-dev, fakeroot and the build dependencies
# (scripts/dev/install-deps.sh). Last line: "N passed, N failed"; exit 1 on any failure.

# wait_for takes a condition that is evaluated later, hence single quotes (SC2016).
# Functions called only through wait_for look unreachable (SC2317).
# shellcheck disable=SC2016,SC2119,SC2317
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/system/nspawn/lib.sh
. "$TOP/tests/system/nspawn/lib.sh"
URL=http://127.0.0.1:8080

ns_init
DEBS=$NS_WORK/debs
mkdir -p "$DEBS"

# ----------------------------------------------------------------------------- package
if [ -n "${BWS_DEB:-}" ]; then
    cp "$BWS_DEB" "$DEBS/" || { fail "copying $BWS_DEB"; exit 1; }
else
    ref=${BWS_PKG_REF:-HEAD}
    if ! git -C "$TOP" cat-file -e "$ref:debian/changelog" 2>/dev/null; then
        fail "$ref has debian/changelog (nothing to build a package from)"
        exit 1
    fi
    for tool in dpkg-buildpackage fakeroot dh; do
        command -v "$tool" >/dev/null 2>&1 ||
            { fail "$tool is installed (scripts/dev/install-deps.sh)"; exit 1; }
    done
    version=$(git -C "$TOP" show "$ref:debian/changelog" | sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p')
    opts=${DEB_BUILD_OPTIONS:-nocheck parallel=2}
    # The same tree and options give the same package: a rerun on an unchanged commit reuses
    # it instead of spending minutes on the build.
    key=$( (git -C "$TOP" rev-parse "$ref^{tree}"; echo "$opts") | sha256sum | cut -c1-12)
    deb_cache=$NS_CACHE/deb-$key
fi
if [ -z "${BWS_DEB:-}" ] && [ -n "$(ls "$deb_cache"/bws_*.deb 2>/dev/null)" ]; then
    ns_log "reusing the package built from this tree: $deb_cache"
    cp "$deb_cache"/bws_*.deb "$DEBS/"
elif [ -z "${BWS_DEB:-}" ]; then
    # Always the same build path, one build at a time: dpkg-buildpackage puts the path into
    # -ffile-prefix-map=, so a fixed one is what lets ccache hit on the next run.
    build=$NS_CACHE/deb-build
    src=$build/bws-$version
    mkdir -p "$build"
    exec 8>"$build.lock"
    flock -w 1800 8 || { fail "waiting for $build.lock"; exit 1; }
    rm -rf "${build:?}"/*
    mkdir -p "$src"
    git -C "$TOP" archive "$ref" | tar -x -C "$src"
    # Share the developer's compiler cache: debhelper points HOME elsewhere.
    if [ -z "${CCACHE_DIR:-}" ] && [ -d "${HOME:-/nonexistent}/.cache/ccache" ]; then
        export CCACHE_DIR=$HOME/.cache/ccache
    fi
    export CCACHE_BASEDIR=$build
    ns_log "building bws $version from $ref in $build (dpkg-buildpackage, a few minutes)"
    if (cd "$src" && DEB_BUILD_OPTIONS=$opts \
        timeout 1800 dpkg-buildpackage -us -uc -b >"$NS_WORK/build.log" 2>&1); then
        ok "dpkg-buildpackage -us -uc -b"
    else
        fail "dpkg-buildpackage -us -uc -b" "$(tail -30 "$NS_WORK/build.log")"
        exit 1
    fi
    mv "$build"/bws_*.deb "$DEBS/" 2>/dev/null
    rm -rf "${build:?}"/*
    exec 8>&-
    # Keep this package and the two most recent others.
    mkdir -p "$NS_CACHE" "$deb_cache.tmp$$" && cp "$DEBS"/bws_*.deb "$deb_cache.tmp$$/" &&
        rm -rf "$deb_cache" && mv "$deb_cache.tmp$$" "$deb_cache"
    # shellcheck disable=SC2012
    ls -dt "$NS_CACHE"/deb-???????????? 2>/dev/null | tail -n +4 | xargs -r rm -rf
fi
# Only the server package (a -dbgsym package, if any, is not installed).
rm -f "$DEBS"/*-dbgsym_*.deb
# shellcheck disable=SC2012
deb=$(ls "$DEBS"/bws_*.deb 2>/dev/null | head -1)
[ -n "$deb" ] || { fail "a bws_*.deb to test"; exit 1; }
ns_log "testing $(basename "$deb")"

# An "upgrade" of the same build: the package repacked with a higher version, so that the
# maintainer scripts' upgrade path (conffiles kept, the running bws re-executed) runs for real.
deb_version=$(dpkg-deb -f "$deb" Version)
up_version="$deb_version+upgradetest1"
up_dir=$NS_WORK/upgrade
# In a subdirectory: the dependency prefetch takes $DEBS/*.deb, and two versions of one
# package there would conflict.
mkdir -p "$DEBS/upgrade"
if ! { rm -rf "$up_dir" && dpkg-deb -R "$deb" "$up_dir" &&
    sed -i "s/^Version: .*/Version: $up_version/" "$up_dir/DEBIAN/control" &&
    dpkg-deb -b "$up_dir" "$DEBS/upgrade/bws-upgrade.deb" >/dev/null; }; then
    fail "repacking $(basename "$deb") as version $up_version"
    exit 1
fi
rm -rf "$up_dir"

ns_rootfs || exit 1
ns_prefetch "$DEBS" || exit 1
ns_boot --bind-ro="$DEBS":/var/tmp/debs || exit 1

health() { ct curl -fsS --max-time 5 "$URL/health"; }
healthy() { health | grep -q '"status"[[:space:]]*:[[:space:]]*"healthy"'; }
main_pid() { prop bws MainPID; }
bws_procs() { ct sh -c 'for p in /proc/[0-9]*; do [ "$(cat "$p/comm" 2>/dev/null)" = bws ] && echo "${p#/proc/}"; done'; }

# ----------------------------------------------------------------------------- install
# The postinst's failure to start a unit does not fail the install (debhelper), so the
# state is checked on its own.
if out=$(CT_TIMEOUT=180 ct apt-get -o DPkg::Lock::Timeout=120 install -y \
    "/var/tmp/debs/$(basename "$deb")" 2>&1); then
    ok "apt install ./$(basename "$deb") (offline, dependencies prefetched)"
else
    fail "apt install ./$(basename "$deb")" "$(tail -20 <<<"$out")"
    exit 1
fi
if wait_for '[ "$(ct systemctl is-active bws)" = active ]' 30; then ok "bws is active after install"; else
    fail "bws is active after install ($(ct systemctl is-active bws))"; fi
check_eq "bws is enabled after install" enabled "$(ct systemctl is-enabled bws)"
check_eq "bws-health-check.timer is enabled" enabled "$(ct systemctl is-enabled bws-health-check.timer)"
check_eq "bws-health-check.timer is active" active "$(ct systemctl is-active bws-health-check.timer)"
check "user bws exists" ct id bws
if wait_for healthy 10; then ok "/health answers healthy on the default site"; else
    fail "/health answers healthy on the default site" "$(health 2>&1)"; fi
check "the welcome page is served" ct curl -fsS --max-time 5 -o /dev/null "$URL/"

PID0=$(main_pid)
check "systemctl enable --now bws again" ct systemctl enable --now bws
check_eq "enable --now is idempotent: same MainPID" "$PID0" "$(main_pid)"
check_eq "still active" active "$(ct systemctl is-active bws)"

# ----------------------------------------------------------------------------- reload
# A client loop inside the container runs across the reload and counts failed requests.
LOOP_LOG=/var/tmp/client-loop.log
ct rm -f /var/tmp/client-loop.stop
CT_TIMEOUT=90 ct sh -c "while [ ! -e /var/tmp/client-loop.stop ]; do
        if curl -fsS -o /dev/null --max-time 5 $URL/; then echo ok; else echo FAIL; fi
    done > $LOOP_LOG 2>&1" &
LOOP_PID=$!
loop_count() { ct grep -c "^$1\$" "$LOOP_LOG" 2>/dev/null; }
wait_for '[ "$(loop_count ok)" -ge 20 ]' 15 || fail "the client loop runs (ok: $(loop_count ok))"

ns_add_second_site
check "systemctl reload bws (a site added to /etc/bws/config.toml)" ct systemctl reload bws
check_eq "same MainPID after reload" "$PID0" "$(main_pid)"
out=$(ct curl -fsS --max-time 5 -H 'Host: second.test' "$URL/" 2>&1)
if grep -q 'second site' <<<"$out"; then ok "the new site is served after reload"; else
    fail "the new site is served after reload" "$out"; fi
# Two more reloads under the loop, back to back.
check "two more reloads" ct sh -c 'systemctl reload bws && systemctl reload bws'
check_eq "same MainPID after three reloads" "$PID0" "$(main_pid)"
before=$(loop_count ok)
wait_for "[ \"\$(loop_count ok)\" -ge $((before + 20)) ]" 15
ct touch /var/tmp/client-loop.stop
wait "$LOOP_PID"
n_ok=$(loop_count ok)
n_fail=$(loop_count FAIL)
if [ "${n_fail:-1}" = 0 ] && [ "${n_ok:-0}" -ge 40 ]; then
    ok "client loop across the reload: $n_ok requests, none failed"
else
    fail "client loop across the reload: $n_ok ok, $n_fail failed" "$(ct grep -v '^ok$' "$LOOP_LOG")"
fi

# ----------------------------------------------------------------------------- timer
# Packaged: OnBootSec=2min. Sped up by a drop-in; never an empty `OnUnitActiveSec=`, which
# resets every trigger (systemd-in-container.md, pitfall 7).
ct sh -c 'mkdir -p /etc/systemd/system/bws-health-check.timer.d &&
    printf "[Timer]\nOnActiveSec=1s\nOnUnitActiveSec=2s\nAccuracySec=100ms\n" \
        > /etc/systemd/system/bws-health-check.timer.d/fast.conf &&
    systemctl daemon-reload && systemctl restart bws-health-check.timer'
hc_runs() { ct journalctl -u bws-health-check -o cat --no-pager | grep -c 'OK: bws is healthy'; }
if wait_for '[ "$(hc_runs)" -ge 1 ]' 20; then ok "the health-check timer fired and the check passed"; else
    fail "the health-check timer fired and the check passed" \
        "$(ct journalctl -u bws-health-check -u bws-health-check.timer -o cat --no-pager | tail -15)"
fi
check_eq "bws-health-check.service Result=success" success "$(prop bws-health-check.service Result)"

# ----------------------------------------------------------------------------- logrotate
# access.log has the client loop's lines. After `logrotate -f`, it is access.log.1
# (delaycompress), the postrotate SIGUSR1 makes bws reopen, and new requests land in the
# new access.log, not in the rotated one.
check "access.log has lines before rotation" ct test -s /var/log/bws/access.log
check "logrotate -f /etc/logrotate.d/bws" ct logrotate -f /etc/logrotate.d/bws
check "access.log.1 exists after rotation" ct test -s /var/log/bws/access.log.1
rotated=$(ct sh -c 'wc -l < /var/log/bws/access.log.1')
# (404s: the paths only have to show up in the access log.)
ct sh -c "for i in 1 2 3 4 5; do curl -sS -o /dev/null --max-time 5 $URL/after-rotation-\$i; done"
if wait_for 'ct grep -q after-rotation /var/log/bws/access.log' 10; then
    ok "bws writes to the new access.log after rotation"
else
    fail "bws writes to the new access.log after rotation" \
        "$(ct ls -l /var/log/bws/; ct sh -c 'tail -3 /var/log/bws/access.log*')"
fi
check_eq "the rotated file gets no new lines" "$rotated" "$(ct sh -c 'wc -l < /var/log/bws/access.log.1')"
check_eq "the new access.log is bws:bws 0640" "bws:bws 640" "$(ct stat -c '%U:%G %a' /var/log/bws/access.log)"

# ----------------------------------------------------------------------------- journal
out=$(ct journalctl -u bws -o json --no-pager 2>&1)
if grep -q '"SYSLOG_IDENTIFIER":"bws"' <<<"$out"; then ok "journalctl -u bws shows bws's own logs"; else
    fail "journalctl -u bws shows bws's own logs" "$(tail -5 <<<"$out")"; fi

# ----------------------------------------------------------------------------- upgrade
# Under load: a keep-alive client (curl's URL globbing reuses one connection for a batch of
# requests) and a new-connection client loop run across the upgrade and count failures. The
# postinst asks the running master to re-execute the new binary: same MainPID, no failure.
conf_before=$(ct md5sum /etc/bws/config.toml)
PID_BEFORE=$(main_pid)
# No procps in the container: children by their PPid line.
children_of() { ct sh -c "for s in /proc/[0-9]*/status; do
        [ \"\$(awk '/^PPid:/ { print \$2 }' \$s 2>/dev/null)\" = $1 ] && basename \$(dirname \$s)
    done" | sort | tr '\n' ' '; }
workers_before=$(children_of "$PID_BEFORE")
KA_LOG=/var/tmp/keepalive-loop.log
CLOSE_LOG=/var/tmp/close-loop.log
ct rm -f /var/tmp/upgrade-loop.stop
CT_TIMEOUT=240 ct sh -c "while [ ! -e /var/tmp/upgrade-loop.stop ]; do
        curl -sS -o /dev/null --max-time 20 -w '%{http_code} %{num_connects}\\n' '$URL/?ka=[1-200]'
    done > $KA_LOG 2>&1" &
KA_PID=$!
CT_TIMEOUT=240 ct sh -c "while [ ! -e /var/tmp/upgrade-loop.stop ]; do
        if curl -fsS -o /dev/null --max-time 5 $URL/; then echo ok; else echo FAIL; fi
    done > $CLOSE_LOG 2>&1" &
CLOSE_PID=$!
ka_count() { ct grep -c "^200 " "$KA_LOG" 2>/dev/null; }
close_count() { ct grep -c '^ok$' "$CLOSE_LOG" 2>/dev/null; }
wait_for '[ "$(ka_count)" -ge 200 ] && [ "$(close_count)" -ge 20 ]' 20 ||
    fail "the client loops run (keep-alive: $(ka_count), close: $(close_count))"
if out=$(CT_TIMEOUT=180 ct env DEBIAN_FRONTEND=noninteractive apt-get \
    -o DPkg::Lock::Timeout=120 install -y /var/tmp/debs/upgrade/bws-upgrade.deb 2>&1); then
    ok "apt install of a newer version (upgrade)"
else
    fail "apt install of a newer version (upgrade)" "$(tail -20 <<<"$out")"
fi
if grep -q 'bws: upgrade ok' <<<"$out"; then ok "the package's output says the running bws was upgraded"; else
    fail "the package's output says the running bws was upgraded" "$(tail -20 <<<"$out")"; fi
before_ka=$(ka_count)
before_close=$(close_count)
wait_for "[ \"\$(ka_count)\" -ge $((before_ka + 200)) ] && [ \"\$(close_count)\" -ge $((before_close + 20)) ]" 20
ct touch /var/tmp/upgrade-loop.stop
wait "$KA_PID" "$CLOSE_PID"
n_ka=$(ka_count)
n_ka_fail=$(ct grep -vc '^200 ' "$KA_LOG" 2>/dev/null)
n_close=$(close_count)
n_close_fail=$(ct grep -c '^FAIL$' "$CLOSE_LOG" 2>/dev/null)
if [ "${n_ka_fail:-1}" = 0 ] && [ "${n_close_fail:-1}" = 0 ] && [ "${n_ka:-0}" -ge 400 ]; then
    ok "requests across the upgrade: $n_ka keep-alive and $n_close new-connection, none failed"
else
    fail "requests across the upgrade: $n_ka keep-alive ok, $n_ka_fail failed; $n_close close ok, $n_close_fail failed" \
        "$(ct grep -v '^200 ' "$KA_LOG" | head -5; ct grep -v '^ok$' "$CLOSE_LOG" | head -5)"
fi
check_eq "the new version is installed" "$up_version" "$(ct dpkg-query -W -f '${Version}' bws)"
check_eq "the changed /etc/bws/config.toml is kept" "$conf_before" "$(ct md5sum /etc/bws/config.toml)"
if wait_for '[ "$(ct systemctl is-active bws)" = active ]' 30 && wait_for healthy 10; then
    ok "bws is active and healthy after the upgrade"
else
    fail "bws is active and healthy after the upgrade" "$(ct systemctl status bws --no-pager 2>&1 | tail -5)"
fi
check_eq "the upgrade kept bws running: same MainPID" "$PID_BEFORE" "$(main_pid)"
# The master runs the new file: an image of the replaced one would show "(deleted)".
exe=$(ct readlink "/proc/$(main_pid)/exe")
check_eq "the master runs the installed /usr/bin/bws" /usr/bin/bws "$exe"
workers_after=$(children_of "$(main_pid)")
if [ -n "$workers_after" ] && [ "$workers_after" != "$workers_before" ]; then
    ok "new workers serve after the upgrade"
else
    fail "new workers serve after the upgrade (before: $workers_before, after: $workers_after)"
fi
out=$(ct journalctl -u bws -o cat --no-pager 2>&1)
if grep -q 'upgraded from bws' <<<"$out"; then ok "the journal records the upgrade"; else
    fail "the journal records the upgrade" "$(tail -5 <<<"$out")"; fi
out=$(ct curl -fsS --max-time 5 -H 'Host: second.test' "$URL/" 2>&1)
if grep -q 'second site' <<<"$out"; then ok "the site added before the upgrade is still served"; else
    fail "the site added before the upgrade is still served" "$out"; fi
# The hard path stays: systemctl restart gives a new MainPID.
check "systemctl restart bws" ct systemctl restart bws
if wait_for healthy 10 && [ "$(main_pid)" != "$PID_BEFORE" ]; then ok "restart: a new MainPID, healthy"; else
    fail "restart: a new MainPID, healthy (MainPID $(main_pid))"; fi

# ----------------------------------------------------------------------------- remove
if out=$(CT_TIMEOUT=120 ct apt-get -o DPkg::Lock::Timeout=120 remove -y bws 2>&1); then
    ok "apt remove bws"
else
    fail "apt remove bws" "$(tail -20 <<<"$out")"
fi
check_not "bws is stopped after remove" ct systemctl is-active --quiet bws
left=$(bws_procs)
if [ -z "$left" ]; then ok "no bws process after remove"; else fail "no bws process after remove: $left"; fi
check "remove keeps /etc/bws/config.toml" ct test -f /etc/bws/config.toml

# ----------------------------------------------------------------------------- purge
# The test's own drop-in goes first: what is left after purge must be the package's doing.
ct sh -c 'rm -rf /etc/systemd/system/bws-health-check.timer.d && systemctl daemon-reload'
if out=$(CT_TIMEOUT=120 ct apt-get -o DPkg::Lock::Timeout=120 purge -y bws 2>&1); then
    ok "apt purge bws"
else
    fail "apt purge bws" "$(tail -20 <<<"$out")"
fi
check_eq "no bws unit left" not-found "$(prop bws LoadState)"
check_not "no bws.service file left" ct sh -c 'ls /lib/systemd/system/bws* /usr/lib/systemd/system/bws* 2>/dev/null | grep -q .'
check_eq "bws-health-check.timer gone" not-found "$(prop bws-health-check.timer LoadState)"
left=$(bws_procs)
if [ -z "$left" ]; then ok "no bws process left"; else fail "no bws process left: $left"; fi
check_not "no /var/log/bws" ct test -e /var/log/bws
check_not "no /var/lib/bws" ct test -e /var/lib/bws
check_not "no /etc/bws/config.toml" ct test -e /etc/bws/config.toml
check "the bws user is kept" ct id bws

ns_finish
