#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine (as root), builds bws with its tests and runs the whole
# suite: unit and integration tests (ctest), then every tests/system/*_test.sh (shell
# scripts, packages, real systemd in a container). Ends with one "N passed, N failed" line
# and a non-zero exit status if anything failed. `.ci/run` runs exactly this.
#
# env: BUILD_DIR (default build-tests), SKIP_SYSTEM=1 to run only ctest, SANITIZE=1 to also
#      build with ASan+UBSan (in $BUILD_DIR-asan) and run the unit and integration tests there.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$top/build-tests}

"$top/scripts/dev/install-deps.sh" --tests || { echo "run-tests: installing dependencies failed" >&2; exit 1; }
export CCACHE_BASEDIR=$top
cmake -S "$top" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null || exit 1
cmake --build "$build" || { echo "run-tests: build failed" >&2; exit 1; }

passed=0
failed=0
summary=()

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

# System tests end with their own "N passed, N failed" line.
run_script() {
    local script=$1 log
    log=$(mktemp)
    echo "=== $script"
    BWS_BUILD_DIR=$build bash "$script" 2>&1 | tee "$log"
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

run_ctest unit 2
run_ctest integration 1
if [ "${SANITIZE:-0}" = 1 ]; then
    main_build=$build
    build=$build-asan
    if ! { cmake -S "$top" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DBWS_SANITIZE=ON >/dev/null && cmake --build "$build"; }; then
        echo "run-tests: sanitizer build failed" >&2
        exit 1
    fi
    run_ctest unit 2
    run_ctest integration 1
    build=$main_build
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
