#!/bin/sh
# Installs what building bws needs (and, with --tests, what its test suite needs) from
# Debian 12's archive. Run as root. Idempotent.
set -eu

build_pkgs="build-essential cmake ninja-build pkgconf ccache libboost1.81-dev
libboost-json1.81-dev libssl-dev libtomlplusplus-dev libspdlog-dev libfmt-dev libsystemd-dev
zlib1g-dev libbrotli-dev libzstd-dev libcrypt-dev googletest libgtest-dev"
# Tests: the packaging and real-systemd system tests, the shell-script tests (openssl makes
# their certificates; testssl.sh scans bws's TLS defaults; slowhttptest attacks it) and the
# benchmark peers; python3-prometheus-client parses /metrics in the metrics test; pebble (and its
# pebble-challtestsrv) is the ACME server the ACME client's integration test runs against.
test_pkgs="curl python3 shellcheck logrotate systemd debhelper devscripts lintian fakeroot
dpkg-dev rpm rpmlint rpm2cpio cpio debootstrap systemd-container zstd nginx-light h2o lighttpd
lighttpd-mod-openssl lighttpd-mod-deflate gnuplot-nox wrk clang libclang-rt-14-dev clang-format clang-tidy
procps iproute2 openssl testssl.sh haproxy slowhttptest python3-brotli python3-zstandard
python3-prometheus-client pebble"

pkgs=$build_pkgs
[ "${1:-}" = "--tests" ] && pkgs="$build_pkgs $test_pkgs"

if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: run as root (it uses apt-get)" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086 # word splitting of the package lists is intended
apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $pkgs >/dev/null
