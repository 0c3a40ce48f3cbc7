# Shared by the tests in tests/system/: pass/fail counting and the closing
# "N passed, N failed" line that run-tests.sh and CI read. Source it; then use ok, bad, check
# and finish.
# shellcheck shell=bash
passed=0
failed=0
ok() {
    passed=$((passed + 1))
    printf 'PASS  %s\n' "$1"
}
# bad NAME [DETAIL]: DETAIL (e.g. a command's output) is shown indented, 40 lines at most.
bad() {
    failed=$((failed + 1))
    printf 'FAIL  %s\n' "$1"
    if [ $# -gt 1 ] && [ -n "$2" ]; then printf '%s\n' "$2" | sed 's/^/      | /' | head -40; fi
}
# check NAME COMMAND...: passes when the command succeeds.
check() {
    local desc=$1
    shift
    if "$@"; then ok "$desc"; else bad "$desc"; fi
}
finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit
}
