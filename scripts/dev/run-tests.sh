#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine (as root), builds bws with its tests and runs the whole
# suite: the style checks (clang-format, clang-tidy), unit and integration tests (ctest), the
# same unit and integration tests again in an ASan+UBSan build, a short run of every libFuzzer
# target, then every
# tests/system/*_test.sh (shell scripts, packages, real systemd in a container). Ends with one
# "total: N passed, N failed" line and a non-zero exit status if anything failed. `.ci/run`
# runs exactly this.
#
# env: BUILD_DIR (default build-tests; the sanitizer build goes to $BUILD_DIR-asan),
#      SKIP_SYSTEM=1 to skip tests/system/, SANITIZE=0 to skip the ASan+UBSan build and its
#      tests, LINT=0 to skip clang-format and clang-tidy, FUZZ=0 to skip the fuzz smoke run
#      (FUZZ_SECONDS per target, default 15) (quick local runs).
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$top/build-tests}

"$top/scripts/dev/install-deps.sh" --tests || { echo "run-tests: installing dependencies failed" >&2; exit 1; }
export CCACHE_BASEDIR=$top
build_start=$(date +%s)
cmake -S "$top" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null || exit 1
cmake --build "$build" || { echo "run-tests: build failed" >&2; exit 1; }

passed=0
failed=0
summary=("build: $(($(date +%s) - build_start)) s")

# One pass/fail check (a command), counted in the summary; its time is shown too.
run_check() {
    local name=$1 start code
    shift
    echo "=== $name"
    start=$(date +%s)
    "$@"
    code=$?
    if [ "$code" -eq 0 ]; then
        passed=$((passed + 1))
        summary+=("$name: passed ($(($(date +%s) - start)) s)")
    else
        failed=$((failed + 1))
        summary+=("$name: FAILED, exit $code ($(($(date +%s) - start)) s)")
    fi
}

# ctest prints "N% tests passed, F tests failed out of T".
run_ctest() {
    # Integration tests measure timing-sensitive behaviour (reloads under load, watchdog
    # rates): run them one at a time.
    local label=$1 jobs=$2 log
    log=$(mktemp)
    ctest --test-dir "$build" -L "$label" --output-on-failure --timeout 300 -j"$jobs" 2>&1 | tee "$log"
    local line total fails
    line=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -1)
    rm -f "$log"
    if [ -z "$line" ]; then
        summary+=("ctest $label: no result")
        failed=$((failed + 1))
        return
    fi
    fails=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")
    total=$(sed -E 's/.* failed out of ([0-9]+).*/\1/' <<<"$line")
    passed=$((passed + total - fails))
    failed=$((failed + fails))
    summary+=("ctest $label ($(basename "$build")): $((total - fails)) passed, $fails failed")
}

# System tests (and the fuzz smoke run) end with their own "N passed, N failed" line.
run_script() {
    local script=$1 log
    shift
    log=$(mktemp)
    echo "=== $script $*"
    BWS_BUILD_DIR=$build bash "$script" "$@" 2>&1 | tee "$log"
    local code=${PIPESTATUS[0]}
    local line
    line=$(grep -E '^[A-Za-z:]* ?[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
    rm -f "$log"
    local p f
    p=$(grep -oE '[0-9]+ passed' <<<"$line" | grep -oE '[0-9]+')
    f=$(grep -oE '[0-9]+ failed' <<<"$line" | grep -oE '[0-9]+')
    if [ -z "$line" ]; then
        p=0
        f=1
    elif [ "$code" -ne 0 ] && [ "${f:-0}" -eq 0 ]; then
        f=1
    fi
    passed=$((passed + ${p:-0}))
    failed=$((failed + ${f:-0}))
    summary+=("$(basename "$script"): ${p:-0} passed, ${f:-0} failed (exit $code)")
}

if [ "${LINT:-1}" != 0 ]; then
    run_check clang-format "$top/scripts/dev/lint.sh" format
    run_check clang-tidy "$top/scripts/dev/lint.sh" tidy "$build"
fi
run_ctest unit 2
run_ctest integration 1
if [ "${SANITIZE:-1}" != 0 ]; then
    main_build=$build
    build=$build-asan
    start=$(date +%s)
    if cmake -S "$top" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DBWS_SANITIZE=ON >/dev/null && cmake --build "$build"; then
        summary+=("sanitizer build: $(($(date +%s) - start)) s")
        # Any sanitizer report ends the process with a failure: UBSan's checks are recoverable
        # by default (a message, then carry on), which a test would never notice. Leaks are
        # reported at exit of every process (tests, bws master, workers).
        export ASAN_OPTIONS=halt_on_error=1:abort_on_error=0:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1
        export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
        # The proxy's streamed download: 256 MiB under the sanitizers instead of 10 GiB (flat
        # memory is what it shows; the plain build moves the 10 GiB).
        export BWS_PROXY_BIG_MIB=256
        # The file compressed as it is sent, in each coding: 24 MiB instead of 100 (the
        # coders run 5-10 times slower under ASan).
        export BWS_COMPRESS_BIG_MIB=24
        run_ctest unit 2
        run_ctest integration 1
        unset ASAN_OPTIONS UBSAN_OPTIONS BWS_PROXY_BIG_MIB BWS_COMPRESS_BIG_MIB
    else
        echo "run-tests: sanitizer build failed" >&2
        summary+=("sanitizer build: FAILED")
        failed=$((failed + 1))
    fi
    build=$main_build
fi
if [ "${FUZZ:-1}" != 0 ]; then
    # Each libFuzzer target (clang, ASan+UBSan) from its checked-in corpus for a short fixed
    # time; any crash, leak or sanitizer report fails it. scripts/dev/fuzz.sh --campaign runs
    # long campaigns.
    run_script "$top/scripts/dev/fuzz.sh" --smoke "${FUZZ_SECONDS:-15}"
fi
if [ "${SKIP_SYSTEM:-0}" != 1 ]; then
    for script in "$top"/tests/system/*_test.sh; do
        [ -e "$script" ] && run_script "$script"
    done
fi

echo
echo "=== summary"
printf '%s\n' "${summary[@]}"
echo "total: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
