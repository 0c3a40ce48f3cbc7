# Shared by the package tests: pass/fail counting and the closing "N passed, N failed" line
# that run-tests.sh and CI read. Source it; then use ok, bad, check and finish.
# shellcheck shell=bash
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok: $1"; }
bad() { failed=$((failed + 1)); echo "FAIL: $1"; }
check() { desc=$1; shift; if "$@"; then ok "$desc"; else bad "$desc"; fi; }
finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit
}
