#!/bin/sh
# SPDX-License-Identifier: MIT
# reports.sh: `kopilka report` on a small ledger in a temporary directory (tests/runtime/
# meson.build, "kopilka cli tests"): the CSV shape, the list, and every argument error naming
# its flag.
#
#   reports.sh KOPILKA PROGRAM.xml
#
# Expected values by hand from the program (tests/runtime/ops/reports.xml: taps 10% off): R1 at
# s1 by Anna, a 1000.00 tap -> 900.00; R2 at s2, anonymous, two pipes at 500.00 -> 1000.00;
# R3 at the store "Tverskaya, 5" (a comma: quoted in CSV), anonymous, a hose -> 300.00.
set -u
kopilka=$1
program=$2
dir=$(mktemp -d) || exit 99
trap 'rm -rf "$dir"' EXIT
db="$dir/ledger.db"
failed=0
n=0
# run NAME WANT_EXIT WANT_TEXT -- ARGS...: the command's stdout+stderr must contain WANT_TEXT.
run() {
    name=$1 want_exit=$2 want=$3
    shift 4
    n=$((n + 1))
    "$kopilka" "$@" >"$dir/out" 2>&1
    status=$?
    if [ "$status" -eq "$want_exit" ] && grep -qF -- "$want" "$dir/out"; then
        echo "ok $n - $name"
    else
        echo "not ok $n - $name (exit $status, expected $want_exit; lacks: $want)"
        sed 's/^/# /' "$dir/out"
        failed=1
    fi
}
L="--db $db --program $program"
M="--from 2026-03-01 --to 2026-04-01"
printf '%s' '{"id":"anna","phone":"+79160000001"}' >"$dir/anna.json"
run "customer create" 0 '{"customer":1}' -- customer create $L --at 2026-02-20T10:00:00+03:00 "$dir/anna.json"
cat >"$dir/receipts.jsonl" <<'JSON'
{"id":"R1","time":"2026-03-03T12:00:00+03:00","store":"s1","customer":{"id":"anna"},"lines":[{"id":"1","sku":"TAP-1","category":"taps","qty":1,"price":"1000.00"}]}
{"id":"R2","time":"2026-03-05T12:00:00+03:00","store":"s2","lines":[{"id":"1","sku":"PIPE-1","category":"pipes","qty":2,"price":"500.00"}]}
{"id":"R3","time":"2026-03-06T12:00:00+03:00","store":"Tverskaya, 5","lines":[{"id":"1","sku":"HOSE-1","category":"pipes","qty":1,"price":"300.00"}]}
JSON
run "confirm" 0 '"receipt":"R3"' -- confirm $L "$dir/receipts.jsonl"

n=$((n + 1))
"$kopilka" report sales --db "$db" $M --by store --format csv >"$dir/csv" 2>&1
printf '%s\r\n' \
  'store,receipts,revenue,discount,returned,member_receipts,member_revenue,members,member_receipt_share,member_revenue_share,average_check,member_average_check' \
  '"Tverskaya, 5",1,300.00,0.00,0.00,0,0.00,0,0.00,0.00,300.00,0.00' \
  's1,1,900.00,100.00,0.00,1,900.00,1,100.00,100.00,900.00,900.00' \
  's2,1,1000.00,0.00,0.00,0,0.00,0,0.00,0.00,1000.00,0.00' >"$dir/want"
if cmp -s "$dir/csv" "$dir/want"; then
    echo "ok $n - csv: header, one line per store, CRLF, a comma quoted"
else
    echo "not ok $n - csv: header, one line per store, CRLF, a comma quoted"
    sed 's/^/# got: /' "$dir/csv"
    failed=1
fi
run "json: the whole period" 0 '"period":"2026-03-01/2026-04-01","receipts":3,"revenue":"2200.00"' -- report sales --db "$db" $M
run "report list" 0 'pairs       product pairs bought on one receipt' -- report list
run "no --from" 2 'kopilka report: --from is required' -- report sales --db "$db" --to 2026-04-01
run "no --to" 2 'kopilka report: --to is required' -- report sales --db "$db" --from 2026-03-01
run "a --to that cannot happen" 2 'kopilka report: --to: 2026-04-31:' -- report sales --db "$db" --from 2026-03-01 --to 2026-04-31
run "an empty period" 2 'kopilka report: --to: the period is empty: to (2026-03-01) must come after from (2026-03-01)' -- report sales --db "$db" --from 2026-03-01 --to 2026-03-01
run "--format" 2 'kopilka report: --format: json or csv, not xml' -- report sales --db "$db" $M --format xml
run "--by" 2 'kopilka report: --by: report sales is grouped by all day week month store region channel, not segment' -- report sales --db "$db" $M --by segment
run "--store on points" 2 'kopilka report: --store: report points covers the whole ledger' -- report points --db "$db" $M --store s1
run "--limit" 2 'kopilka report: --limit 1x: a whole number is expected' -- report products --db "$db" $M --limit 1x
run "--limit too large" 2 'kopilka report: --limit: at most 10000 rows, not 20000' -- report products --db "$db" $M --limit 20000
run "--limit on a report without a top list" 2 'kopilka report: --limit: report sales has a row per group, not a top list' -- report sales --db "$db" $M --limit 5
run "an unknown report" 2 'kopilka report: no report named sale; the reports are sales, members' -- report sale --db "$db" $M
run "no name" 2 'usage: kopilka report NAME|list' -- report --db "$db" $M
echo "1..$n"
exit $failed
