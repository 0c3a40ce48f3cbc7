#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz (clang, ASan+UBSan, in $FUZZ_BUILD_DIR) and runs
# them against the checked-in seeds in tests/fuzz/corpus/<target>/.
#
#   fuzz.sh --smoke SECONDS [TARGET...]     each target for SECONDS, one after another; any
#                                           crash, leak, timeout or sanitizer report fails it.
#                                           One line per target, then "N passed, N failed".
#   fuzz.sh --campaign SECONDS [--jobs N] [--merge] [TARGET...]
#                                           SECONDS in all, split evenly over the targets, run
#                                           one after another with N parallel jobs each
#                                           (default 1). New inputs collect in
#                                           $FUZZ_SCRATCH/<target>/ and are kept between
#                                           campaigns; --merge folds those that add coverage
#                                           into tests/fuzz/corpus.
#
# Findings (crash-*, leak-*, timeout-* inputs and the log) are kept in $FUZZ_BUILD_DIR/findings/.
# Reproduce one with: $FUZZ_BUILD_DIR/tests/fuzz/fuzz_TARGET FILE
# env: FUZZ_BUILD_DIR (default build-fuzz), FUZZ_SCRATCH (default $FUZZ_BUILD_DIR/scratch).
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${FUZZ_BUILD_DIR:-$top/build-fuzz}
scratch=${FUZZ_SCRATCH:-$build/scratch}
all_targets=(request_parser request_handling host path range config_load tls_client_hello proxy_response)

usage() {
    echo "usage: fuzz.sh --smoke SECONDS [TARGET...]" >&2
    echo "       fuzz.sh --campaign SECONDS [--jobs N] [--merge] [TARGET...]" >&2
    echo "targets: ${all_targets[*]}" >&2
    exit 2
}

mode=${1:-}
seconds=${2:-}
[ "$mode" = --smoke ] || [ "$mode" = --campaign ] || usage
[[ "$seconds" =~ ^[1-9][0-9]*$ ]] || usage
shift 2
jobs=1
merge=0
targets=()
while [ $# -gt 0 ]; do
    case $1 in
    --jobs)
        [[ "${2:-}" =~ ^[1-9][0-9]*$ ]] || usage
        jobs=$2
        shift
        ;;
    --merge) merge=1 ;;
    -*) usage ;;
    *)
        [[ " ${all_targets[*]} " == *" $1 "* ]] || usage
        targets+=("$1")
        ;;
    esac
    shift
done
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")

# Configure once; afterwards the build is a no-op unless a source changed.
export CCACHE_BASEDIR=$top
if [ ! -f "$build/CMakeCache.txt" ]; then
    CXX=${FUZZ_CXX:-clang++} cmake -S "$top" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DBWS_FUZZ=ON -DBWS_BUILD_TESTS=OFF >/dev/null || { echo "fuzz: configure failed" >&2; exit 1; }
fi
cmake --build "$build" -j2 --target fuzz >"$build/fuzz-build.log" 2>&1 ||
    { tail -30 "$build/fuzz-build.log" >&2; echo "fuzz: build failed" >&2; exit 1; }

dict_for() {
    case $1 in
    request_parser | request_handling | proxy_response) echo "$top/tests/fuzz/dict/http.dict" ;;
    *) echo "$top/tests/fuzz/dict/$1.dict" ;;
    esac
}

# Sum of "stat::number_of_executed_units" over the logs given.
executions() {
    awk '/^stat::number_of_executed_units:/ { n += $2 } END { print n + 0 }' "$@"
}

# Runs one target for `time` seconds with corpus dir `work`; its logs go to `logdir`.
# Returns libFuzzer's status, or 1 when a log shows a sanitizer report anyway.
run_target() {
    local target=$1 time=$2 work=$3 logdir=$4 status
    local args=(-max_total_time="$time" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048
        -dict="$(dict_for "$target")" -artifact_prefix="$logdir/")
    if [ "$jobs" -gt 1 ]; then
        # Each job writes fuzz-N.log into the current directory.
        (cd "$logdir" && "$build/tests/fuzz/fuzz_$target" "${args[@]}" -jobs="$jobs" \
            -workers="$jobs" "$work" "$top/tests/fuzz/corpus/$target" >"$logdir/main.log" 2>&1)
    else
        "$build/tests/fuzz/fuzz_$target" "${args[@]}" "$work" "$top/tests/fuzz/corpus/$target" \
            >"$logdir/fuzz-0.log" 2>&1
    fi
    status=$?
    if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:' "$logdir"/*.log; then
        [ "$status" -ne 0 ] || status=1
    fi
    return "$status"
}

passed=0
failed=0
total_execs=0
per_target=$seconds
[ "$mode" = --campaign ] && per_target=$(((seconds + ${#targets[@]} - 1) / ${#targets[@]}))
for target in "${targets[@]}"; do
    logdir=$(mktemp -d "${TMPDIR:-/tmp}/bws-fuzz-$target.XXXXXX")
    if [ "$mode" = --smoke ]; then
        work="$logdir/corpus"
    else
        work="$scratch/$target"
    fi
    mkdir -p "$work"
    start=$SECONDS
    run_target "$target" "$per_target" "$work" "$logdir"
    status=$?
    execs=$(executions "$logdir"/*.log)
    total_execs=$((total_execs + execs))
    line="fuzz $target: $execs executions in $((SECONDS - start)) s"
    if [ "$status" -eq 0 ]; then
        echo "$line: ok"
        passed=$((passed + 1))
        rm -rf "$logdir"
    else
        mkdir -p "$build/findings"
        kept="$build/findings/$target-$(date +%Y%m%d-%H%M%S)"
        mv "$logdir" "$kept"
        rm -rf "$kept/corpus"
        echo "$line: FAILED (status $status; input and log in $kept)"
        grep -hE 'invariant failed|ERROR: |SUMMARY: |runtime error:' "$kept"/*.log | head -5 | sed 's/^/    /'
        failed=$((failed + 1))
    fi
    if [ "$mode" = --campaign ] && [ "$merge" -eq 1 ]; then
        "$build/tests/fuzz/fuzz_$target" -merge=1 "$top/tests/fuzz/corpus/$target" "$work" \
            >"$build/merge-$target.log" 2>&1 || echo "fuzz $target: merge failed (see $build/merge-$target.log)"
    fi
done
echo "fuzz: $total_execs executions in total"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
