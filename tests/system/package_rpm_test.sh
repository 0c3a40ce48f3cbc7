#!/bin/sh
# shellcheck disable=SC2317 # functions called only through check() and traps
# Builds bws-*.rpm with rpm/build-rpm.sh (git archive of the committed tree + rpmbuild -bb),
# then checks it: rpmlint clean, `rpm -qlp` lists exactly the install layout, modes, owners
# and config flags, the scriptlets, and an `rpm -i --root` into a scratch root followed by
# what the scriptlets' sysusers/tmpfiles steps do there (no systemd needed for that).
#
# usage: tests/system/package_rpm_test.sh
#   env: BWS_RPM_REF=<git ref> (default HEAD)   KEEP=1 keeps the work directory
# Last line: "N passed, N failed"; exit status 1 if anything failed.
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(git -C "$here" rev-parse --show-toplevel)
ref=${BWS_RPM_REF:-HEAD}

# shellcheck source=tests/system/checks.sh
. "$here/checks.sh"

for tool in rpmbuild rpm rpmlint systemd-sysusers systemd-tmpfiles; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        bad "$tool is installed (apt-get install rpm rpmlint rpm2cpio cpio systemd)"
        finish
    fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/bws-rpm-test.XXXXXX")
cleanup() { if [ "${KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi; }
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -z "${CCACHE_DIR:-}" ] && [ -d "${HOME:-/nonexistent}/.cache/ccache" ]; then
    export CCACHE_DIR="$HOME/.cache/ccache"
fi
export CCACHE_BASEDIR="$work"

# build-rpm.sh takes the spec, the macros and the sources from the ref, so they always match.
echo "building the rpm from $ref ..."
if (cd "$top" && BWS_RPM_REF=$ref sh "$top/rpm/build-rpm.sh" "$work/out" >"$work/build.log" 2>&1); then
    ok "rpm/build-rpm.sh (rpmbuild -bb) succeeds"
else
    bad "rpm/build-rpm.sh (rpmbuild -bb) succeeds (last lines of the log follow)"
    tail -n 40 "$work/build.log"
    finish
fi

version=$(git -C "$top" show "$ref:rpm/bws.spec" | sed -n 's/^Version:[[:space:]]*//p')
rpmfile=
for f in "$work"/out/bws-"$version"-*.rpm; do
    case $f in *.src.rpm | *debug*) ;; *) [ -f "$f" ] && rpmfile=$f ;; esac
done
check "bws-$version-*.rpm was produced" test -n "$rpmfile"
[ -n "$rpmfile" ] || finish
check "%check ran the unit tests" grep -q 'ctest --output-on-failure -L unit' "$work/build.log"
check "%check compared bws --version with the spec's version" grep -q 'bws --version' "$work/build.log"

q() { rpm -qp "$@" "$rpmfile" 2>/dev/null; }

# --- rpmlint -------------------------------------------------------------------------------
git -C "$top" show "$ref:rpm/bws.spec" >"$work/bws.spec"
git -C "$top" show "$ref:rpm/bws.rpmlintrc" >"$work/bws.rpmlintrc"
git -C "$top" show "$ref:rpm/rpmlint.toml" >"$work/rpmlint.toml"
rpmlint -c "$work/rpmlint.toml" -r "$work/bws.rpmlintrc" "$work/bws.spec" "$rpmfile" \
    >"$work/rpmlint.log" 2>&1
if grep -Eq '^[^ ]+: E: ' "$work/rpmlint.log"; then
    bad "rpmlint reports no errors on the spec and the rpm"
    grep -E ': [EW]: ' "$work/rpmlint.log"
else
    ok "rpmlint reports no errors on the spec and the rpm"
fi
check "rpmlint reports no warnings either" sh -c "! grep -Eq '^[^ ]+: W: ' '$work/rpmlint.log'"

# --- the install layout --------------------------------------------------------------------
git -C "$top" archive "$ref" docs man dist/static | tar -x -C "$work" 2>/dev/null
{
    cat <<'LIST'
/etc/bws
/etc/bws/config.toml
/etc/bws/environment
/etc/bws/sites
/etc/bws/ssl
/etc/logrotate.d/bws
/etc/systemd/system/bws.service.d
/opt/bws
/opt/bws/static
/usr/bin/bws
/usr/bin/bws-health-check
/usr/bin/bws-recovery
/usr/lib/systemd/system/bws-health-check.service
/usr/lib/systemd/system/bws-health-check.timer
/usr/lib/systemd/system/bws-health.service
/usr/lib/systemd/system/bws-recovery.service
/usr/lib/systemd/system/bws.service
/usr/lib/systemd/system/bws.socket
/usr/lib/sysusers.d/bws.conf
/usr/lib/tmpfiles.d/bws.conf
/usr/share/doc/bws
/usr/share/licenses/bws
/usr/share/licenses/bws/LICENSE
/var/lib/bws
/var/lib/bws/cache
/var/lib/bws/temp
/var/log/bws
/var/log/bws/access.log
/var/log/bws/bws.log
/var/log/bws/error.log
LIST
    (cd "$work" && for f in dist/static/*; do echo "/opt/bws/static/${f##*/}"; done)
    (cd "$work" && for f in docs/*.md; do echo "/usr/share/doc/bws/${f##*/}"; done)
    (cd "$work" && for f in man/*.5; do echo "/usr/share/man/man5/${f##*/}"; done)
    (cd "$work" && for f in man/*.8; do echo "/usr/share/man/man8/${f##*/}"; done)
} | sort >"$work/expected"
# Man pages are gzipped by brp-compress; the name without .gz is the page.
q -l | sed 's:^\(/usr/share/man/.*\)\.gz$:\1:' | sort >"$work/listed"
if diff -u "$work/expected" "$work/listed" >"$work/layout.diff"; then
    ok "rpm -qlp lists exactly the install layout"
else
    bad "rpm -qlp lists exactly the install layout (- missing, + unexpected)"
    grep '^[-+]/' "$work/layout.diff"
fi

# mode owner:group flags path, as rpm records them.
q --qf '[%{FILEMODES:perms} %{FILEUSERNAME}:%{FILEGROUPNAME} %{FILEFLAGS:fflags} %{FILENAMES}\n]' \
    >"$work/meta"
meta_is() { # PATH PERMS OWNER:GROUP
    awk -v p="$1" -v m="$2" -v o="$3" '$NF == p { found = 1; ok = ($1 == m && $2 == o) }
        END { exit !(found && ok) }' "$work/meta"
}
flags_of() { awk -v p="$1" '$NF == p && NF == 4 { print $3 }' "$work/meta"; }
check "/etc/bws is drwxr-x--- root:bws" meta_is /etc/bws drwxr-x--- root:bws
check "/etc/bws/sites is drwxr-x--- root:bws" meta_is /etc/bws/sites drwxr-x--- root:bws
check "/etc/bws/ssl is drwxr-x--- root:bws" meta_is /etc/bws/ssl drwxr-x--- root:bws
check "/etc/bws/config.toml is -rw-r----- root:bws" meta_is /etc/bws/config.toml -rw-r----- root:bws
check "/etc/bws/environment is -rw-r----- root:bws" meta_is /etc/bws/environment -rw-r----- root:bws
check "/var/lib/bws is drwxr-x--- bws:bws" meta_is /var/lib/bws drwxr-x--- bws:bws
check "/var/lib/bws/cache is drwxr-x--- bws:bws" meta_is /var/lib/bws/cache drwxr-x--- bws:bws
check "/var/lib/bws/temp is drwxr-x--- bws:bws" meta_is /var/lib/bws/temp drwxr-x--- bws:bws
check "/var/log/bws is drwxr-x--- bws:bws" meta_is /var/log/bws drwxr-x--- bws:bws
check "/usr/bin/bws is -rwxr-xr-x root:root" meta_is /usr/bin/bws -rwxr-xr-x root:root
check "/usr/lib/systemd/system/bws-health.service is a symlink" \
    sh -c "q() { rpm -qp \"\$@\" '$rpmfile' 2>/dev/null; }; q --qf '[%{FILENAMES} %{FILELINKTOS}\n]' | grep -qx '/usr/lib/systemd/system/bws-health.service bws-health-check.service'"
check "config files: exactly /etc/bws/config.toml, environment, /etc/logrotate.d/bws" \
    sh -c "rpm -qcp '$rpmfile' 2>/dev/null | sort | tr '\n' ' ' | grep -qx '/etc/bws/config.toml /etc/bws/environment /etc/logrotate.d/bws '"
check "config files are %config(noreplace)" \
    sh -c "[ \"\$(awk '\$NF ~ /^\\/etc\\/(bws\\/(config.toml|environment)|logrotate.d\\/bws)\$/ { print \$3 }' '$work/meta' | sort -u)\" = cn ]"
check "log files are %ghost" \
    sh -c "[ \"\$(awk '\$NF ~ /^\\/var\\/log\\/bws\\/.*\\.log\$/ { print \$3 }' '$work/meta' | sort -u)\" = g ]"
check "LICENSE is a %license file" test "$(flags_of /usr/share/licenses/bws/LICENSE)" = l

# --- dependencies and scriptlets ------------------------------------------------------------
check "Requires curl" sh -c "rpm -qp --requires '$rpmfile' 2>/dev/null | grep -qx 'curl'"
check "Recommends logrotate" sh -c "rpm -qp --recommends '$rpmfile' 2>/dev/null | grep -qx 'logrotate'"
check "Provides webserver" sh -c "rpm -qp --provides '$rpmfile' 2>/dev/null | grep -qx 'webserver'"
q --scripts >"$work/scripts"
in_scriptlet() { # SCRIPTLET-NAME REGEX: REGEX appears in that scriptlet
    awk -v s="$1" -v r="$2" '/^[a-z]+ scriptlet/ { cur = $1 } cur == s && $0 ~ r { f = 1 }
        END { exit !f }' "$work/scripts"
}
check "%post applies bws.tmpfiles" in_scriptlet postinstall 'systemd-tmpfiles --create .*tmpfiles.d/bws.conf'
check "%post presets bws.service and bws-health-check.timer" \
    in_scriptlet postinstall 'preset bws.service bws-health-check.timer'
check "%preun disables and stops the units on erase" \
    in_scriptlet preuninstall 'disable --now bws.service bws-health-check.timer bws.socket'
check "%postun restarts the health-check timer after an upgrade, not bws.service" \
    sh -c "awk '/^[a-z]+ scriptlet/ { cur = \$1 } cur == \"postuninstall\" && /try-restart/ { if (/bws\\.service/) bad = 1; if (/bws-health-check\\.timer/) seen = 1 } END { exit !(seen && !bad) }' '$work/scripts'"
check "%posttrans re-executes the running bws (bws -s upgrade)" \
    in_scriptlet posttrans '/usr/bin/bws -s upgrade --pid-file'

# --- install into a scratch root -------------------------------------------------------------
root="$work/root"
mkdir -p "$root"
rpm -i --root "$root" --dbpath /var/lib/rpm-test --nodeps --noscripts "$rpmfile" \
    >"$work/install.log" 2>&1
check "rpm -i --root installs the package" \
    sh -c "rpm -q --root '$root' --dbpath /var/lib/rpm-test bws >/dev/null 2>&1"
mode_in_root() { [ "$(stat -c %A "$root$1" 2>/dev/null)" = "$2" ]; }
check "installed /usr/bin/bws is -rwxr-xr-x" mode_in_root /usr/bin/bws -rwxr-xr-x
check "installed /etc/bws is drwxr-x---" mode_in_root /etc/bws drwxr-x---
check "installed /etc/bws/config.toml is -rw-r-----" mode_in_root /etc/bws/config.toml -rw-r-----
check "installed /var/log/bws is drwxr-x---" mode_in_root /var/log/bws drwxr-x---
check "installed /var/lib/bws/cache is drwxr-x---" mode_in_root /var/lib/bws/cache drwxr-x---
check "the %ghost log files are not installed" \
    sh -c "[ ! -e '$root/var/log/bws/bws.log' ] && [ ! -e '$root/var/log/bws/access.log' ]"
check "installed config matches the shipped dist/config.toml" \
    sh -c "git -C '$top' show '$ref:dist/config.toml' | cmp -s - '$root/etc/bws/config.toml'"
check "installed bws prints its version $version" \
    sh -c "[ \"\$('$root/usr/bin/bws' --version)\" = 'bws $version' ]"

# What the scriptlets' user and directory steps do, run against the scratch root: rpm >= 4.19
# (or %sysusers_create_compat) creates the user, %post runs systemd-tmpfiles.
mkdir -p "$root/etc"
touch "$root/etc/passwd" "$root/etc/group" "$root/etc/shadow" "$root/etc/gshadow"
check "systemd-sysusers creates the bws user from the packaged file" \
    sh -c "systemd-sysusers --root='$root' bws.conf >/dev/null 2>&1 &&
           grep -q '^bws:' '$root/etc/passwd' && grep -q '^bws:' '$root/etc/group'"
bws_gid=$(awk -F: '$1 == "bws" { print $3 }' "$root/etc/group")
bws_uid=$(awk -F: '$1 == "bws" { print $3 }' "$root/etc/passwd")
check "the bws user is a system user without a login shell" \
    sh -c "awk -F: '\$1 == \"bws\" { f = (\$3 < 1000 && \$7 ~ /nologin\$/ && \$6 == \"/var/lib/bws\") } END { exit !f }' '$root/etc/passwd'"
check "systemd-tmpfiles --create applies the packaged bws.conf" \
    sh -c "systemd-tmpfiles --root='$root' --create bws.conf >/dev/null 2>&1"
owner_in_root() { [ "$(stat -c '%u:%g %a' "$root$1" 2>/dev/null)" = "$2" ]; }
check "after tmpfiles: /etc/bws is root:bws 750" owner_in_root /etc/bws "0:$bws_gid 750"
check "after tmpfiles: /etc/bws/config.toml is root:bws 640" owner_in_root /etc/bws/config.toml "0:$bws_gid 640"
check "after tmpfiles: /var/log/bws is bws:bws 750" owner_in_root /var/log/bws "$bws_uid:$bws_gid 750"
check "after tmpfiles: /var/lib/bws/temp is bws:bws 750" owner_in_root /var/lib/bws/temp "$bws_uid:$bws_gid 750"
check "after tmpfiles: /opt/bws/static is bws:bws 755" owner_in_root /opt/bws/static "$bws_uid:$bws_gid 755"

# An admin's change to a %config(noreplace) file survives an erase as .rpmsave.
echo '# changed by the admin' >>"$root/etc/bws/config.toml"
rpm -e --root "$root" --dbpath /var/lib/rpm-test --nodeps --noscripts bws >"$work/erase.log" 2>&1
check "rpm -e --root removes the package files" \
    sh -c "[ ! -e '$root/usr/bin/bws' ] && [ ! -e '$root/usr/lib/systemd/system/bws.service' ]"
check "rpm -e keeps the admin's changed config.toml as config.toml.rpmsave" \
    grep -q '^# changed by the admin' "$root/etc/bws/config.toml.rpmsave"

finish
