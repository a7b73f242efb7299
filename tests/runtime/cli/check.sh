#!/bin/sh
# SPDX-License-Identifier: MIT
# check.sh: runs one `kopilka` command and checks its exit status and output, for the meson
# tests of the command line (tests/runtime/meson.build, block "kopilka cli tests").
#
#   check.sh [--exit N] [--lines N] [--line K:TEXT]... [--contains TEXT]... -- COMMAND ARGS...
#
# --exit N       the exit status must be N (default 0)
# --lines N      standard output must have exactly N lines
# --line K:TEXT  line K (1-based) of standard output must contain TEXT
# --contains T   standard output or standard error must contain T (a fixed string)
set -u
want_exit=0
want_lines=
checks=$(mktemp) || exit 99
out=$(mktemp) || exit 99
err=$(mktemp) || exit 99
trap 'rm -f "$checks" "$out" "$err"' EXIT
while [ $# -gt 0 ]; do
    case "$1" in
    --exit) want_exit=$2; shift 2 ;;
    --lines) want_lines=$2; shift 2 ;;
    --line) printf 'line\t%s\n' "$2" >>"$checks"; shift 2 ;;
    --contains) printf 'contains\t%s\n' "$2" >>"$checks"; shift 2 ;;
    --) shift; break ;;
    *) echo "check.sh: unknown option $1" >&2; exit 99 ;;
    esac
done
"$@" >"$out" 2>"$err"
status=$?
failed=0
fail() {
    echo "not ok: $*"
    failed=1
}
[ "$status" -eq "$want_exit" ] || fail "exit status $status, expected $want_exit"
if [ -n "$want_lines" ]; then
    n=$(wc -l <"$out" | tr -d ' ')
    [ "$n" -eq "$want_lines" ] || fail "$n lines of output, expected $want_lines"
fi
while IFS="$(printf '\t')" read -r kind arg; do
    case "$kind" in
    line)
        k=${arg%%:*}
        text=${arg#*:}
        sed -n "${k}p" "$out" | grep -qF -- "$text" || fail "line $k lacks: $text"
        ;;
    contains)
        cat "$out" "$err" | grep -qF -- "$arg" || fail "output lacks: $arg"
        ;;
    esac
done <"$checks"
if [ "$failed" -ne 0 ]; then
    echo "--- command: $*"
    echo "--- stdout:"; cat "$out"
    echo "--- stderr:"; cat "$err"
    exit 1
fi
echo "ok: $*"
exit 0
