#!/bin/sh
# shellcheck disable=SC2317 # functions called only through check() and traps
# Builds the .deb with `dpkg-buildpackage -us -uc -b` from a clean export of the committed tree
# (git archive), then checks it: lintian clean (no E: or W:), the install layout in
# `dpkg-deb -c`, the conffiles, and the maintainer scripts debhelper generated.
# The real-systemd install test is separate (tests/system/, nspawn).
#
# usage: tests/system/package_deb_test.sh
#   env: BWS_PKG_REF=<git ref> (default HEAD)   KEEP=1 keeps the work directory
#        DEB_BUILD_OPTIONS (default parallel=2)
# Last line: "N passed, N failed"; exit status 1 if anything failed.
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(git -C "$here" rev-parse --show-toplevel)
ref=${BWS_PKG_REF:-HEAD}

# shellcheck source=tests/system/checks.sh
. "$here/checks.sh"

for tool in dpkg-buildpackage dpkg-deb lintian fakeroot; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        bad "$tool is installed (apt-get install debhelper devscripts lintian fakeroot build-essential dpkg-dev)"
        finish
    fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/bws-deb-test.XXXXXX")

cleanup() { if [ "${KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- build from a clean export -------------------------------------------------------------
version=$(git -C "$top" show "$ref:debian/changelog" | sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p')
src="$work/bws-$version"
mkdir -p "$src"
git -C "$top" archive "$ref" | tar -x -C "$src"

# Share the developer's compiler cache: debhelper points HOME at a scratch directory.
if [ -z "${CCACHE_DIR:-}" ] && [ -d "${HOME:-/nonexistent}/.cache/ccache" ]; then
    export CCACHE_DIR="$HOME/.cache/ccache"
fi
export CCACHE_BASEDIR="$work"

echo "building bws $version in $src ..."
if (cd "$src" && DEB_BUILD_OPTIONS=${DEB_BUILD_OPTIONS:-parallel=2} \
        dpkg-buildpackage -us -uc -b >"$work/build.log" 2>&1); then
    ok "dpkg-buildpackage -us -uc -b succeeds"
else
    bad "dpkg-buildpackage -us -uc -b succeeds (last lines of the log follow)"
    tail -n 40 "$work/build.log"
    finish
fi

arch=$(dpkg-architecture -qDEB_HOST_ARCH)
deb="$work/bws_${version}_${arch}.deb"
changes="$work/bws_${version}_${arch}.changes"
check "bws_${version}_${arch}.deb was produced" test -f "$deb"
[ -f "$deb" ] || finish
check "the unit tests ran in dh_auto_test" grep -q 'ctest .*-L unit' "$work/build.log"

# --- lintian -----------------------------------------------------------------------------
# The source is native and lives in git, so a binary-only upload is what is built here.
lintian -EvIL +pedantic "$changes" >"$work/lintian.log" 2>&1
if grep -E '^[EW]: ' "$work/lintian.log" >"$work/lintian.ew"; then
    bad "lintian reports no errors and no warnings"
    cat "$work/lintian.ew"
else
    ok "lintian reports no errors and no warnings"
fi

# --- the install layout --------------------------------------------------------------------
# Every path the package must hold (dpkg-deb -c form); docs and man pages are derived from the
# tree, so a page added there must show up here.
dpkg-deb -c "$deb" | awk '{ p = $6; sub(/^\.\//, "/", p); print p }' | sed 's:/$::' |
    grep -v '^$' | sort >"$work/contents"

expected="$work/expected"
{
    cat <<'LIST'
/etc
/etc/bws
/etc/bws/config.toml
/etc/bws/environment
/etc/bws/sites
/etc/bws/ssl
/etc/logrotate.d
/etc/logrotate.d/bws
/lib
/lib/systemd
/lib/systemd/system
/lib/systemd/system/bws-health-check.service
/lib/systemd/system/bws-health-check.timer
/lib/systemd/system/bws-health.service
/lib/systemd/system/bws-recovery.service
/lib/systemd/system/bws.service
/lib/systemd/system/bws.socket
/opt
/opt/bws
/opt/bws/static
/usr
/usr/bin
/usr/bin/bws
/usr/bin/bws-health-check
/usr/bin/bws-recovery
/usr/lib
/usr/lib/sysusers.d
/usr/lib/sysusers.d/bws.conf
/usr/lib/tmpfiles.d
/usr/lib/tmpfiles.d/bws.conf
/usr/share
/usr/share/doc
/usr/share/doc/bws
/usr/share/doc/bws/changelog.gz
/usr/share/doc/bws/copyright
/usr/share/lintian
/usr/share/lintian/overrides
/usr/share/lintian/overrides/bws
/usr/share/man
/usr/share/man/man5
/usr/share/man/man8
LIST
    (cd "$src" && for f in dist/static/*; do echo "/opt/bws/static/${f##*/}"; done)
    # dh_compress gzips docs above 4 KiB; either form is the same file.
    (cd "$src" && for f in docs/*.md; do
        if [ "$(wc -c <"$f")" -gt 4096 ]; then echo "/usr/share/doc/bws/${f##*/}.gz"
        else echo "/usr/share/doc/bws/${f##*/}"; fi
    done)
    (cd "$src" && for f in man/*.5; do echo "/usr/share/man/man5/${f##*/}.gz"; done)
    (cd "$src" && for f in man/*.8; do echo "/usr/share/man/man8/${f##*/}.gz"; done)
} | sort >"$expected"

if diff -u "$expected" "$work/contents" >"$work/layout.diff"; then
    ok "dpkg-deb -c lists exactly the install layout"
else
    bad "dpkg-deb -c lists exactly the install layout (- missing, + unexpected)"
    grep '^[-+]/' "$work/layout.diff"
fi

mode_of() { dpkg-deb -c "$deb" | awk -v p="./${1#/}" '$6 == p { print $1 }'; }
check "/usr/bin/bws is -rwxr-xr-x" test "$(mode_of /usr/bin/bws)" = -rwxr-xr-x
check "/usr/bin/bws-health-check is -rwxr-xr-x" test "$(mode_of /usr/bin/bws-health-check)" = -rwxr-xr-x
check "/usr/bin/bws-recovery is -rwxr-xr-x" test "$(mode_of /usr/bin/bws-recovery)" = -rwxr-xr-x
check "bws-health.service is a symlink to bws-health-check.service" \
    sh -c "dpkg-deb -c '$deb' | grep -q '/lib/systemd/system/bws-health.service -> bws-health-check.service\$'"
check "every packaged file is owned by root:root (Rules-Requires-Root: no)" \
    sh -c "! dpkg-deb -c '$deb' | awk '{print \$2}' | grep -v '^root/root\$' | grep -q ."

# --- conffiles ---------------------------------------------------------------------------
mkdir -p "$work/ctrl"
dpkg-deb -e "$deb" "$work/ctrl"
printf '%s\n' /etc/bws/config.toml /etc/bws/environment /etc/logrotate.d/bws >"$work/conffiles.expected"
check "dpkg-deb -I: conffiles are exactly /etc/bws/* and /etc/logrotate.d/bws" \
    sh -c "sort '$work/ctrl/conffiles' | diff -u '$work/conffiles.expected' - >/dev/null"
check "dpkg-deb -I: Depends has curl and a sysusers provider" \
    sh -c "dpkg-deb -f '$deb' Depends | grep -q 'curl' && dpkg-deb -f '$deb' Depends | grep -q 'systemd-sysusers'"
check "dpkg-deb -I: Section httpd, Provides httpd" \
    sh -c "[ \"\$(dpkg-deb -f '$deb' Section)\" = httpd ] && dpkg-deb -f '$deb' Provides | grep -qw httpd"

# --- maintainer scripts ------------------------------------------------------------------
pi="$work/ctrl/postinst"
check "maintainer scripts pass sh -n" \
    sh -c "for s in '$work'/ctrl/postinst '$work'/ctrl/postrm '$work'/ctrl/prerm '$work'/ctrl/preinst; do [ ! -f \"\$s\" ] || sh -n \"\$s\" || exit 1; done"
check "postinst creates the bws user via systemd-sysusers" grep -q 'systemd-sysusers.* bws.conf' "$pi"
check "postinst applies bws.tmpfiles" grep -q 'systemd-tmpfiles.*--create bws.conf' "$pi"
check "postinst registers root:bws statoverrides for /etc/bws" grep -q 'dpkg-statoverride --update --add root bws' "$pi"
check "postinst enables bws.service and bws-health-check.timer" \
    sh -c "grep -q \"deb-systemd-helper .*enable 'bws.service'\" '$pi' && grep -q \"deb-systemd-helper .*enable 'bws-health-check.timer'\" '$pi'"
# --no-enable: debhelper re-enables bws.socket only where an admin had enabled it before.
socket_enable_guarded() {
    awk '/^# Automatically added/ { sec = "" } { sec = sec $0 "\n" }
         /^# End automatically added/ && sec ~ /enable .bws\.socket./ {
             if (sec !~ /debian-installed .bws\.socket./) bad = 1; seen = 1 }
         END { exit !(seen && !bad) }' "$pi"
}
check "postinst enables bws.socket only if an admin had enabled it" socket_enable_guarded
check "postinst starts bws.service through deb-systemd-invoke" \
    grep -q "deb-systemd-invoke start .*'bws.service'" "$pi"
check "postinst never restarts bws.service (an upgrade re-executes the binary instead)" \
    sh -c "! grep -q \"deb-systemd-invoke .*restart.*'bws.service'\\|_dh_action .*'bws.service'\" '$pi'"
check "postinst runs bws -s upgrade on upgrade when bws is active" \
    sh -c "grep -q '/usr/bin/bws -s upgrade --pid-file' '$pi' && grep -q 'systemctl is-active --quiet bws.service' '$pi'"
# The stop of bws.service sits in an `if` that holds only for "remove" (no stop on upgrade).
stop_only_on_remove() {
    awk '/^[[:space:]]*if / { cond = $0 }
         /deb-systemd-invoke stop .*bws\.service/ { seen = 1; if (cond !~ /"\$1" = "?remove"?/) bad = 1 }
         END { exit !(seen && !bad) }' "$work/ctrl/prerm"
}
check "prerm stops bws.service only on remove, never on upgrade" stop_only_on_remove
# Queries (is-active) are fine; actions go through deb-systemd-invoke. (Lines that start with
# a quote continue a message to the admin.)
check "maintainer scripts never call systemctl directly for an action" \
    sh -c "! grep -h '^[^#]*systemctl ' '$work'/ctrl/postinst '$work'/ctrl/postrm '$work'/ctrl/prerm '$work'/ctrl/preinst 2>/dev/null | grep -v 'systemctl --system daemon-reload\\|systemctl is-active --quiet\\|^[[:space:]]*\"' | grep -q ."
check "prerm stops bws.service on remove" grep -q "deb-systemd-invoke stop .*'bws.service'" "$work/ctrl/prerm"
check "postrm purge removes /var/log/bws, /var/lib/bws, /run/bws" \
    grep -q 'rm -rf /var/log/bws /var/lib/bws /run/bws' "$work/ctrl/postrm"
check "postrm does not delete the bws user" \
    sh -c "! grep -Eq 'userdel|deluser' '$work/ctrl/postrm'"

# --- the payload: files as shipped -------------------------------------------------------
mkdir -p "$work/root"
dpkg-deb -x "$deb" "$work/root"
check "shipped bws.sysusers is accepted by this systemd-sysusers" \
    sh -c "systemd-sysusers --dry-run --root='$work/root' '$work/root/usr/lib/sysusers.d/bws.conf' >/dev/null 2>&1"
check "packaged bws prints its version $version" \
    sh -c "[ \"\$('$work/root/usr/bin/bws' --version)\" = 'bws $version' ]"
check "the shipped man pages format without warnings" \
    sh -c "for f in '$work'/root/usr/share/man/man*/*; do out=\$(LC_ALL=C.UTF-8 MANROFFSEQ='' man --warnings -l \"\$f\" 2>&1 >/dev/null); [ -z \"\$out\" ] || { echo \"\$out\"; exit 1; }; done"

finish
