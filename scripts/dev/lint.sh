#!/usr/bin/env bash
# The house-style checks CI runs (scripts/dev/run-tests.sh calls them):
#   lint.sh format        clang-format --dry-run -Werror on every tracked C++ file
#   lint.sh tidy BUILD    clang-tidy (the checks in .clang-tidy) on every src/ file, with the
#                         compile_commands.json of the CMake build in BUILD; zero findings
# Each prints what it found and exits non-zero on any finding. env: JOBS (default 2).
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
jobs=${JOBS:-2}

check_format() {
    local files
    mapfile -t files < <(git -C "$top" ls-files '*.cpp' '*.hpp' '*.h' '*.cc')
    if [ "${#files[@]}" -eq 0 ]; then
        echo "lint: no C++ files found (not a git checkout?)" >&2
        return 1
    fi
    local bad=0 f
    for f in "${files[@]}"; do
        clang-format --dry-run -Werror "$top/$f" >/dev/null 2>&1 || {
            echo "lint: not clang-formatted: $f (run clang-format -i $f)"
            bad=$((bad + 1))
        }
    done
    echo "lint: clang-format: ${#files[@]} files, $bad not formatted"
    [ "$bad" -eq 0 ]
}

check_tidy() {
    local build=${1:?usage: lint.sh tidy BUILD_DIR}
    if [ ! -f "$build/compile_commands.json" ]; then
        echo "lint: $build/compile_commands.json is missing (configure the build first)" >&2
        return 1
    fi
    local log start db
    log=$(mktemp)
    db=$(mktemp -d)
    start=$(date +%s)
    # clang-tidy reads each file as written: the build's forced includes (cmake/fmt_extern.hpp,
    # and with BWS_PCH the precompiled header, which clang cannot read from a GCC build) are
    # taken out of the compile commands it is given.
    sed -E -e 's# -include [^ ]*/cmake/fmt_extern\.hpp##g' -e 's# -Winvalid-pch##g' \
        -e 's# -Xclang -include-pch -Xclang [^ ]*/cmake_pch\.hxx\.pch##g' \
        -e 's# -Xclang -include -Xclang [^ ]*/cmake_pch\.hxx##g' \
        -e 's# -include [^ ]*/cmake_pch\.hxx##g' \
        "$build/compile_commands.json" >"$db/compile_commands.json"
    # One clang-tidy per file, $jobs at a time (run-clang-tidy 14 forces colour codes into
    # its output); tests and third-party code stay out.
    find "$top/src" -name '*.cpp' -print0 | sort -z |
        xargs -0 -n 1 -P "$jobs" clang-tidy -p "$db" --quiet >"$log" 2>&1
    local code=$?
    rm -rf "$db"
    local findings
    findings=$(grep -cE '^/[^:]+:[0-9]+:[0-9]+: (warning|error):' "$log")
    grep -E '^/[^:]+:[0-9]+:[0-9]+: (warning|error):' "$log" | sort -u
    if [ "$code" -ne 0 ] && [ "$findings" -eq 0 ]; then
        cat "$log" # clang-tidy itself failed: show why
    fi
    rm -f "$log"
    echo "lint: clang-tidy: $findings findings in $(($(date +%s) - start)) s"
    [ "$code" -eq 0 ] && [ "$findings" -eq 0 ]
}

case "${1:-}" in
format) check_format ;;
tidy) check_tidy "${2:-}" ;;
*)
    echo "usage: lint.sh format | lint.sh tidy BUILD_DIR" >&2
    exit 2
    ;;
esac
