#!/bin/sh
# Builds bws-*.rpm from the committed git tree: a source tarball made with `git archive`, then
# `rpmbuild -bb`. On hosts without Fedora's rpm macros (Debian), loads macros.systemd-fallback
# and skips the BuildRequires check (Debian's rpm database holds no Fedora packages).
#
# usage: rpm/build-rpm.sh [OUTDIR]      (default OUTDIR: ./rpmbuild-out)
#        env: BWS_RPM_REF=<git ref> (default HEAD), RPMBUILD_ARGS=extra args (e.g. --nocheck)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(git -C "$here" rev-parse --show-toplevel)
out=${1:-$PWD/rpmbuild-out}
ref=${BWS_RPM_REF:-HEAD}

version=$(sed -n 's/^Version:[[:space:]]*//p' "$here/bws.spec")
mkdir -p "$out"
out=$(cd "$out" && pwd)
work="$out/top"
rm -rf "$work"
mkdir -p "$work/SOURCES" "$work/SPECS" "$work/BUILD" "$work/RPMS" "$work/SRPMS"

git -C "$top" archive --format=tar.gz --prefix="bws-$version/" \
    -o "$work/SOURCES/bws-$version.tar.gz" "$ref"
# Source1 is the very same sysusers file, taken from the same git ref.
git -C "$top" show "$ref:systemd/bws.sysusers" >"$work/SOURCES/bws.sysusers"
git -C "$top" show "$ref:rpm/bws.spec" >"$work/SPECS/bws.spec"

set -- --define "_topdir $work"
if [ "$(rpm --eval '%{_unitdir}')" = '%{_unitdir}' ]; then
    echo "build-rpm.sh: systemd rpm macros missing, loading macros.systemd-fallback" >&2
    git -C "$top" show "$ref:rpm/macros.systemd-fallback" >"$work/macros.systemd-fallback"
    set -- "$@" --load="$work/macros.systemd-fallback" --nodeps
fi

# shellcheck disable=SC2086 # RPMBUILD_ARGS is a list of options on purpose
rpmbuild -bb "$@" ${RPMBUILD_ARGS:-} "$work/SPECS/bws.spec"

find "$work/RPMS" -name 'bws-*.rpm' -exec mv {} "$out/" \;
ls "$out"/bws-*.rpm
