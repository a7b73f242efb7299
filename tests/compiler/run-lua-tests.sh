#!/bin/sh
# SPDX-License-Identifier: MIT
# Behaviour tests of compiled programs, printed as one TAP stream.
#   tests/compiler/run-lua-tests.sh KOPILKAC [LUA]
# Every tests/compiler/lua/NAME.lua (except _*.lua helpers) starts with a line
#   -- fixture: PATH/TO/PROGRAM.xml      (relative to the repository root)
# The fixture is compiled with KOPILKAC into a temporary file and the script runs as
#   lua5.4 tests/compiler/lua/NAME.lua /tmp/.../compiled.lua
# printing TAP of its own; its test points are renumbered into this stream, prefixed with
# NAME. A script that fails to compile its fixture or exits non-zero without a failing test
# point counts as one failure. Exit status: 0 when everything passed, 1 otherwise.
set -u
kopilkac=${1:?usage: run-lua-tests.sh KOPILKAC [LUA]}
lua=${2:-lua5.4}
case $kopilkac in /*) ;; *) kopilkac=$(pwd)/$kopilkac ;; esac
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root" || exit 1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kopilka-lua.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

n=0
failed=0
for script in tests/compiler/lua/*.lua; do
    name=$(basename "$script" .lua)
    case $name in _*) continue ;; esac
    fixture=$(sed -n '1s/^-- fixture: *//p' "$script")
    if [ -z "$fixture" ]; then
        n=$((n + 1)); failed=$((failed + 1))
        echo "not ok $n - $name: the first line names no fixture"
        continue
    fi
    compiled="$tmp/$name.lua"
    if ! "$kopilkac" --color=never --source-name "$fixture" "$fixture" -o "$compiled" \
        2>"$tmp/$name.err"; then
        n=$((n + 1)); failed=$((failed + 1))
        echo "not ok $n - $name: kopilkac failed on $fixture"
        sed 's/^/# /' "$tmp/$name.err"
        continue
    fi
    "$lua" "$script" "$compiled" >"$tmp/$name.out" 2>&1
    status=$?
    bad=0
    while IFS= read -r line; do
        case $line in
        "ok "*)
            n=$((n + 1))
            echo "ok $n - $name: ${line#ok * - }"
            ;;
        "not ok "*)
            n=$((n + 1)); failed=$((failed + 1)); bad=1
            echo "not ok $n - $name: ${line#not ok * - }"
            ;;
        1..*) ;;
        *) echo "# $line" ;;
        esac
    done <"$tmp/$name.out"
    if [ "$status" -ne 0 ] && [ "$bad" -eq 0 ]; then
        n=$((n + 1)); failed=$((failed + 1))
        echo "not ok $n - $name: the script exited with status $status"
    fi
done
echo "1..$n"
[ "$failed" -eq 0 ]
