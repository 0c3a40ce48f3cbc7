# shellcheck shell=bash
# tests/system/nspawn/lib.sh: boots Debian 12 with a real systemd as PID 1 in a
# systemd-nspawn container and drives it, for the system tests in tests/system/.
# Recipe and the reasons behind every step: shared/notes/systemd-in-container.md.
#
# Usage (from a bash test script):
#   . "$(dirname "$0")/nspawn/lib.sh"
#   ns_init                            # EXIT trap, work dir, host tools
#   ns_rootfs EXTRA_PKG...             # cached tarball -> fresh copy in $NS_ROOT
#   ns_prefetch DIR_WITH_DEBS          # optional: download a .deb's Depends into the copy
#   ns_boot [NSPAWN_OPTION...]         # boot; $NS_PID1 is the container's systemd
#   ct systemctl ...                   # run a command inside (clean env, bounded)
#   check NAME CMD... / ok NAME / fail NAME [DETAIL] / wait_for 'CMD' SECONDS
#   ns_finish                          # exit: teardown, then the "N passed, N failed" line
#
# Environment:
#   BWS_E2E_CACHE   cache of root filesystem tarballs (default /var/cache/bws-e2e)
#   BWS_E2E_MIRROR  Debian mirror for debootstrap (default http://deb.debian.org/debian)
#   BWS_E2E_KEEP=1  keep the work dir (the container is still stopped) for a post-mortem
#   BWS_E2E_DEBUG=1 trace the commands run inside the container
#
# The container uses --private-network (the host's loopback ports are taken by other
# services) and is started from a cgroup of its own (with --keep-unit nspawn splits its
# cgroup into payload/ and supervisor/; from the host's root cgroup those would leak).

# wait_for conditions are evaluated later, hence single quotes.
# shellcheck disable=SC2016
NS_SUITE=bookworm
# Packages of every test rootfs. Deliberately minimal: no procps, no python3, so a
# Depends: missing from the bws package shows up as a failure.
NS_BASE_PACKAGES=(systemd systemd-sysv dbus curl ca-certificates logrotate)
# Bumped when the way the rootfs is prepared changes, so old tarballs are not reused.
NS_RECIPE_VERSION=1
NS_CACHE=${BWS_E2E_CACHE:-/var/cache/bws-e2e}
NS_MIRROR=${BWS_E2E_MIRROR:-http://deb.debian.org/debian}

NS_PASSED=0
NS_FAILED=0
NS_WORK=
NS_ROOT=
NS_NAME=
NS_NSPAWN_PID=
NS_PID1=
NS_CGROUPS=()
NS_DONE=0
NS_T0=$SECONDS

ns_log() { printf '[%3ds] %s\n' "$((SECONDS - NS_T0))" "$*"; }

# ---------------------------------------------------------------------------------------
# Checks

ok() {
    NS_PASSED=$((NS_PASSED + 1))
    printf 'PASS  %s\n' "$1"
}

# fail NAME [DETAIL]: DETAIL (e.g. a command's output) is printed indented, 40 lines at most.
fail() {
    NS_FAILED=$((NS_FAILED + 1))
    printf 'FAIL  %s\n' "$1"
    if [ $# -gt 1 ] && [ -n "$2" ]; then printf '%s\n' "$2" | head -40 | sed 's/^/      | /'; fi
}

# check NAME CMD...: passes when CMD succeeds; its output is shown when it fails.
check() {
    local name=$1 out
    shift
    if out=$("$@" 2>&1); then ok "$name"; else fail "$name (exit $?)" "$out"; fi
}

# check_not NAME CMD...: passes when CMD fails.
check_not() {
    local name=$1 out
    shift
    if out=$("$@" 2>&1); then fail "$name (unexpectedly succeeded)" "$out"; else ok "$name"; fi
}

# check_eq NAME EXPECTED ACTUAL
check_eq() {
    if [ "$2" = "$3" ]; then ok "$1"; else fail "$1: got '$3', expected '$2'"; fi
}

# wait_for 'SHELL CONDITION' SECONDS: re-evaluates the condition every 0.2 s until it
# succeeds (status 0) or SECONDS have passed (status 1). Output is discarded.
wait_for() {
    local cond=$1 limit=$2 end
    end=$(($(date +%s%N) + limit * 1000000000))
    while :; do
        if eval "$cond" >/dev/null 2>&1; then return 0; fi
        [ "$(date +%s%N)" -lt "$end" ] || return 1
        sleep 0.2
    done
}

# ---------------------------------------------------------------------------------------
# Setup

# ns_init: EXIT/INT/TERM traps, the work dir under /tmp, host tools. Needs root.
ns_init() {
    trap ns_on_exit EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    if [ "$(id -u)" -ne 0 ]; then
        fail "running as root (systemd-nspawn needs it)"
        exit 1
    fi
    NS_WORK=$(mktemp -d /tmp/bws-e2e.XXXXXX) || exit 1
    NS_ROOT=$NS_WORK/root
    NS_NAME=bwse2e$$
    ns_host_tools || exit 1
}

# ns_host_tools: debootstrap, systemd-nspawn, zstd and nsenter, installed when missing.
ns_host_tools() {
    local missing=()
    command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
    command -v systemd-nspawn >/dev/null 2>&1 || missing+=(systemd-container)
    command -v zstd >/dev/null 2>&1 || missing+=(zstd)
    command -v nsenter >/dev/null 2>&1 || missing+=(util-linux)
    [ ${#missing[@]} -eq 0 ] && return 0
    ns_log "installing host tools: ${missing[*]}"
    local out
    if ! out=$(export DEBIAN_FRONTEND=noninteractive
        timeout 600 apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
            "${missing[@]}" 2>&1 ||
            { timeout 120 apt-get -o DPkg::Lock::Timeout=600 update -qq &&
                timeout 600 apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
                    --no-install-recommends "${missing[@]}"; } 2>&1); then
        fail "installing host tools (${missing[*]})" "$out"
        return 1
    fi
}

# ns_tarball_path EXTRA_PKG...: the cache file for this suite and package list.
ns_tarball_path() {
    local key
    key=$(printf '%s\n' "recipe=$NS_RECIPE_VERSION" "suite=$NS_SUITE" "${NS_BASE_PACKAGES[@]}" "$@" |
        sort -u | sha256sum | cut -c1-12)
    printf '%s/rootfs-%s-%s.tar.zst\n' "$NS_CACHE" "$NS_SUITE" "$key"
}

# ns_build_tarball TARBALL EXTRA_PKG...: debootstrap minbase + the packages, cleaned, then
# packed. Built next to the cache file and renamed into place, so a reader never sees a
# half-written tarball.
ns_build_tarball() {
    local tarball=$1
    shift
    local pkgs build out
    pkgs=$(printf '%s\n' "${NS_BASE_PACKAGES[@]}" "$@" | sort -u | paste -sd,)
    build=$(mktemp -d "$NS_CACHE/build.XXXXXX") || return 1
    ns_log "building $tarball (debootstrap $NS_SUITE, about a minute): $pkgs"
    if ! out=$(timeout 900 debootstrap --variant=minbase --include="$pkgs" "$NS_SUITE" \
        "$build/r" "$NS_MIRROR" 2>&1); then
        fail "debootstrap of the test rootfs" "$(printf '%s\n' "$out" | tail -20)"
        rm -rf "$build"
        return 1
    fi
    local r=$build/r
    # The prefetch step runs apt-get update; the point releases and security fixes are
    # where the host's libraries (and so the deb's versioned Depends) come from.
    cat >"$r/etc/apt/sources.list" <<EOF
deb $NS_MIRROR $NS_SUITE main
deb $NS_MIRROR $NS_SUITE-updates main
deb http://deb.debian.org/debian-security $NS_SUITE-security main
EOF
    chroot "$r" apt-get clean
    rm -rf "$r"/var/lib/apt/lists/*
    # Nothing but the test should run: no apt timers, no getty on the console.
    chroot "$r" systemctl mask apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer \
        dpkg-db-backup.timer console-getty.service >/dev/null 2>&1
    # Empty machine-id: systemd generates one at each boot (a fresh copy per run).
    : >"$r/etc/machine-id"
    if ! tar --numeric-owner --xattrs --xattrs-include='*' -C "$r" -cf - . |
        zstd -q -T0 -3 -o "$build/rootfs.tar.zst"; then
        fail "packing the test rootfs"
        rm -rf "$build"
        return 1
    fi
    mv -f "$build/rootfs.tar.zst" "$tarball"
    rm -rf "$build"
}

# ns_rootfs EXTRA_PKG...: unpacks a fresh copy of the cached rootfs (built on a miss)
# into $NS_ROOT.
ns_rootfs() {
    local tarball
    tarball=$(ns_tarball_path "$@")
    mkdir -p "$NS_CACHE" || return 1
    # One builder per tarball; concurrent test runs wait for it instead of racing.
    (
        flock -w 900 9 || { echo "timed out waiting for the cache lock" >&2; exit 1; }
        [ -s "$tarball" ] || ns_build_tarball "$tarball" "$@"
    ) 9>"$tarball.lock" || { fail "test rootfs $tarball"; return 1; }
    ns_log "unpacking $(basename "$tarball")"
    mkdir -p "$NS_ROOT"
    if ! zstd -dc "$tarball" | tar --numeric-owner --xattrs --xattrs-include='*' -C "$NS_ROOT" -xf -; then
        fail "unpacking $tarball"
        return 1
    fi
}

# ns_prefetch DEB_DIR: downloads the dependencies of DEB_DIR/*.deb into the rootfs's apt
# cache, with the host's network and the container not booted. The booted container has
# no network; `apt install` there then takes everything from the cache.
ns_prefetch() {
    local debs=$1 out
    ns_log "prefetching the dependencies of $(cd "$debs" && echo *.deb)"
    ns_make_cgroups || return 1
    if ! out=$(ns_enter_cgroup prefetch &&
        exec timeout 300 systemd-nspawn -q --register=no --keep-unit --pipe -D "$NS_ROOT" \
        --bind-ro="$debs":/var/tmp/debs /bin/sh -c \
        'apt-get -q -o DPkg::Lock::Timeout=120 update &&
         apt-get -q -o DPkg::Lock::Timeout=120 install -y --download-only /var/tmp/debs/*.deb' 2>&1); then
        fail "prefetching the package's dependencies" "$(printf '%s\n' "$out" | tail -20)"
        return 1
    fi
}

# The cgroup roots to put nspawn under: cgroup2 alone, or the hybrid name=systemd +
# unified pair (this machine).
ns_cgroup_roots() {
    if [ -e /sys/fs/cgroup/cgroup.controllers ]; then
        echo /sys/fs/cgroup
        return
    fi
    local d
    for d in /sys/fs/cgroup/systemd /sys/fs/cgroup/unified; do
        [ -e "$d/cgroup.procs" ] && echo "$d"
    done
}

# ns_make_cgroups: our cgroup, $NS_NAME, in each hierarchy (once). Every systemd-nspawn of
# the run starts in a child of it: with --keep-unit, nspawn creates payload/ and
# supervisor/ next to itself, which from the host's root cgroup would leak into the root
# and clash between concurrent runs.
ns_make_cgroups() {
    [ ${#NS_CGROUPS[@]} -gt 0 ] && return 0
    local roots r
    mapfile -t roots < <(ns_cgroup_roots)
    for r in "${roots[@]}"; do
        mkdir -p "$r/$NS_NAME" || { fail "creating cgroup $r/$NS_NAME"; return 1; }
        NS_CGROUPS+=("$r/$NS_NAME")
    done
}

# ns_enter_cgroup NAME: moves the calling (sub)shell into NAME under our cgroups.
ns_enter_cgroup() {
    local cg
    for cg in "${NS_CGROUPS[@]}"; do
        mkdir -p "$cg/$1" && echo "$BASHPID" >"$cg/$1/cgroup.procs" || return 1
    done
}

# ns_find_pid1: the container's systemd: a process in our cgroups whose innermost PID is 1
# and whose comm is systemd (nspawn's first child is an intermediate process).
ns_find_pid1() {
    local cg f pid ns
    for cg in "${NS_CGROUPS[@]}"; do
        while IFS= read -r f; do
            while IFS= read -r pid; do
                ns=$(awk '/^NSpid:/{print $NF}' "/proc/$pid/status" 2>/dev/null)
                if [ "$ns" = 1 ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = systemd ]; then
                    echo "$pid"
                    return 0
                fi
            done <"$f"
        done < <(find "$cg" -name cgroup.procs 2>/dev/null)
    done
    return 1
}

# ns_boot [NSPAWN_OPTION...]: boots $NS_ROOT in the background and waits until the
# system is up (`is-system-running --wait`). Sets NS_PID1.
ns_boot() {
    ns_make_cgroups || return 1
    ns_log "booting container $NS_NAME"
    (
        ns_enter_cgroup boot || exit 1
        exec systemd-nspawn -q --register=no --keep-unit --boot --private-network \
            --console=read-only --machine="$NS_NAME" -D "$NS_ROOT" "$@"
    ) >"$NS_WORK/console.log" 2>&1 </dev/null &
    NS_NSPAWN_PID=$!
    if ! wait_for 'NS_PID1=$(ns_find_pid1)' 30; then
        fail "container started (systemd is PID 1)" "$(tail -20 "$NS_WORK/console.log")"
        return 1
    fi
    NS_PID1=$(ns_find_pid1)
    # PID 1 exists before its bus does; systemctl before that fails with ENOENT.
    if ! wait_for '[ -S /proc/$NS_PID1/root/run/systemd/private ]' 30; then
        fail "container's systemd bus is up" "$(tail -20 "$NS_WORK/console.log")"
        return 1
    fi
    local state
    state=$(CT_TIMEOUT=90 ct systemctl is-system-running --wait 2>&1)
    if [ "$state" = running ]; then
        ok "container booted: systemd is PID 1 ($NS_PID1 on the host), system running"
    else
        fail "container booted: is-system-running says '$state'" \
            "$(ct systemctl --failed --no-pager 2>&1)"
        # Degraded still lets the checks run; anything else is hopeless.
        [ "$state" = degraded ] || return 1
    fi
}

# ct CMD...: runs CMD inside the container in all its namespaces, with a clean
# environment, bounded by CT_TIMEOUT seconds (default 120).
ct() {
    [ -n "$NS_PID1" ] || { echo "ct: container not running" >&2; return 125; }
    [ "${BWS_E2E_DEBUG:-0}" = 1 ] && printf '+ ct %s\n' "$*" >&2
    timeout -k 5 "${CT_TIMEOUT:-120}" nsenter -t "$NS_PID1" -a \
        env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 TERM=dumb \
        SYSTEMD_PAGER= SYSTEMD_COLORS=0 DEBIAN_FRONTEND=noninteractive "$@"
}

# ct_sh 'SCRIPT': ct sh -c SCRIPT.
ct_sh() { ct /bin/sh -c "$1"; }

# prop UNIT PROPERTY: one property's value (systemctl show --value).
prop() { ct systemctl show -P "$2" "$1" 2>/dev/null; }

# ---------------------------------------------------------------------------------------
# Teardown

# Adds a site "second" (hostname second.test, on the default site's port 8080) to
# /etc/bws/config.toml inside the container, serving "second site"; any arguments are TOML
# lines appended to that site (e.g. a [sites.headers] table).
ns_add_second_site() {
    ct sh -c 'mkdir -p /opt/bws/sites/second &&
        echo "second site" > /opt/bws/sites/second/index.html' || return 1
    {
        printf '\n[[sites]]\nname = "second"\nhostname = "second.test"\nport = 8080\n'
        printf 'bind = "0.0.0.0"\nstatic_dir = "/opt/bws/sites/second"\n'
        [ $# -eq 0 ] || printf '%s\n' "$@"
    } | ct sh -c 'cat >> /etc/bws/config.toml'
}

# ns_dump: what a failed run needs to be understood.
ns_dump() {
    echo "---- diagnostics"
    if [ -n "$NS_PID1" ] && [ -d "/proc/$NS_PID1" ]; then
        echo "---- systemctl --failed"
        CT_TIMEOUT=20 ct systemctl --failed --no-pager 2>&1
        echo "---- systemctl status bws"
        CT_TIMEOUT=20 ct systemctl status bws --no-pager -n 0 2>&1
        echo "---- journalctl -u bws -u bws-health-check -u bws-recovery (last 150)"
        CT_TIMEOUT=20 ct journalctl --no-pager -o short-monotonic -n 150 \
            -u bws -u bws-health-check -u bws-recovery 2>&1
    fi
    if [ -s "$NS_WORK/console.log" ]; then
        echo "---- console (last 60 lines)"
        # Without the colour escapes of systemd's boot status lines.
        tail -60 "$NS_WORK/console.log" | sed 's/\x1b\[[0-9;]*m//g'
    fi
    echo "---- end of diagnostics"
}

# ns_kill_cgroups: SIGKILL to anything left in our cgroups (all of it started by us).
ns_kill_cgroups() {
    local cg f pid
    for cg in "${NS_CGROUPS[@]}"; do
        [ -d "$cg" ] || continue
        while IFS= read -r f; do
            while IFS= read -r pid; do kill -KILL "$pid" 2>/dev/null; done <"$f"
        done < <(find "$cg" -name cgroup.procs 2>/dev/null)
    done
}

ns_cgroups_empty() {
    local cg
    for cg in "${NS_CGROUPS[@]}"; do
        [ -d "$cg" ] || continue
        [ -z "$(find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null)" ] || return 1
    done
}

# ns_teardown: orderly poweroff (SIGTERM to nspawn), SIGKILL to the container's PID 1 if
# it hangs (that ends the whole PID namespace; SIGKILL to nspawn alone would orphan the
# container), then the cgroups depth-first, then the work dir. The rootfs is deleted only
# once the container is gone: deleting it under a running container hangs its poweroff.
ns_teardown() {
    if [ -n "$NS_NSPAWN_PID" ] && kill -0 "$NS_NSPAWN_PID" 2>/dev/null; then
        kill -TERM "$NS_NSPAWN_PID" 2>/dev/null
        if ! wait_for '! kill -0 $NS_NSPAWN_PID' 20; then
            echo "teardown: poweroff took over 20 s, killing the container" >&2
            [ -n "$NS_PID1" ] && kill -KILL "$NS_PID1" 2>/dev/null
            wait_for '! kill -0 $NS_NSPAWN_PID' 10 || kill -KILL "$NS_NSPAWN_PID" 2>/dev/null
        fi
        wait "$NS_NSPAWN_PID" 2>/dev/null
    fi
    if [ ${#NS_CGROUPS[@]} -gt 0 ]; then
        if ! ns_cgroups_empty; then
            ns_kill_cgroups
            wait_for ns_cgroups_empty 10 || echo "teardown: processes left in ${NS_CGROUPS[*]}" >&2
        fi
        local cg
        for cg in "${NS_CGROUPS[@]}"; do
            [ -d "$cg" ] && find "$cg" -depth -type d -exec rmdir {} \; 2>/dev/null
            [ -d "$cg" ] && echo "teardown: could not remove cgroup $cg" >&2
        done
    fi
    NS_NSPAWN_PID=
    NS_PID1=
    if [ -n "$NS_WORK" ] && [ -d "$NS_WORK" ]; then
        # Never rm -rf through a mount point (a bind mount would take its source along).
        if grep -q " ${NS_WORK}[/ ]" /proc/self/mountinfo; then
            echo "teardown: $NS_WORK still has mounts; left in place" >&2
        elif [ "${BWS_E2E_KEEP:-0}" = 1 ]; then
            echo "teardown: kept $NS_WORK" >&2
        else
            rm -rf "$NS_WORK"
        fi
    fi
}

ns_on_exit() {
    local rc=$?
    [ "$NS_DONE" = 1 ] && return
    NS_DONE=1
    trap - EXIT INT TERM
    if [ "$rc" -ne 0 ] && [ "$NS_FAILED" -eq 0 ]; then
        fail "test script ended early (exit $rc)"
    fi
    [ "$NS_FAILED" -gt 0 ] && ns_dump
    ns_teardown
    ns_log "done"
    echo "$NS_PASSED passed, $NS_FAILED failed"
    [ "$NS_FAILED" -eq 0 ] && exit 0
    exit 1
}

# ns_finish: ends the test script; the EXIT trap tears down and prints the last line.
ns_finish() { exit 0; }
