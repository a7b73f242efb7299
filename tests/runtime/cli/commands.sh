#!/bin/sh
# SPDX-License-Identifier: MIT
# commands.sh: the ledger commands of the messaging integration and of support, on one ledger
# file in a temporary directory (tests/runtime/meson.build, "kopilka cli tests"): customer get,
# card attach and block, cards issue and codes generate (repeated with the same --id), outbox
# list and ack, and their usage errors.
#
#   commands.sh KOPILKA PROGRAM.xml
#
# Expected values by hand: the program (tests/runtime/ops/codes.xml) greets Anna on her
# birthday (10 June) with a birthday code valid 14 days (last day 23 June).
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
printf '%s' '{"id":"anna","name":"Anna","phone":"+79160000001","birthday":"1990-06-10"}' >"$dir/anna.json"
run "customer create" 0 '{"customer":1}' -- customer create $L --at 2026-06-01T10:00:00+03:00 "$dir/anna.json"
run "outbox list: empty" 0 '{"entries":[],"last":0}' -- outbox list $L
run "jobs on the birthday" 0 '"birthdays":1' -- jobs run $L --at 2026-06-10T09:00:00+03:00
run "outbox list: the greeting" 0 '"to":{"id":"anna","name":"Anna","phone":"+79160000001","email":null},"channels":["messenger","sms"]' -- outbox list $L
run "outbox list by phone" 0 '"message":"Take 15% off with BDAY-' -- outbox list $L --phone "+7 916 000-00-01"
run "outbox list after the cursor" 0 '{"entries":[],"last":1}' -- outbox list $L --after 1
run "customer get: the code" 0 '"codes":[{"code":"BDAY-' -- customer get $L --customer anna --at 2026-06-10T10:00:00+03:00
run "customer get: valid 14 days" 0 '"valid_until":"2026-06-23","used":false}]' -- customer get $L --customer anna
run "outbox ack" 0 '{"sent":1,"already":0}' -- outbox ack $L 1
run "outbox ack again" 0 '{"sent":0,"already":1}' -- outbox ack $L 1
run "outbox ack unknown" 1 '"field":"ids[1]"' -- outbox ack $L 1 7
run "outbox ack not a number" 2 'x: an entry id (a whole number) is expected' -- outbox ack $L x
run "outbox list: sent is gone" 0 '{"entries":[],"last":0}' -- outbox list $L
"$kopilka" cards issue $L --id till-0611 --batch till --count 2 --at 2026-06-11T10:00:00+03:00 >"$dir/cards" 2>&1
# The admin's connection dropped: the same command again answers the same two numbers.
n=$((n + 1))
"$kopilka" cards issue $L --id till-0611 --batch till --count 2 --at 2026-06-11T10:05:00+03:00 >"$dir/cards2" 2>&1
if [ $? -eq 0 ] && grep -q '"cards":\["[0-9]*","[0-9]*"\]' "$dir/cards" && cmp -s "$dir/cards" "$dir/cards2"; then
    echo "ok $n - cards issue repeated with the same --id: the same numbers"
else
    echo "not ok $n - cards issue repeated with the same --id: the same numbers"
    sed 's/^/# /' "$dir/cards" "$dir/cards2"
    failed=1
fi
run "cards issue: the same --id, another count" 1 '"code":"conflict","field":"count"' -- cards issue $L --id till-0611 --batch till --count 3
run "cards issue: the same --id, another batch" 1 '"code":"conflict","field":"batch"' -- cards issue $L --id till-0611 --batch shop --count 2
run "cards issue needs --id" 2 'kopilka cards issue: --id OP, --batch B and --count N (1..1000000) are required' -- cards issue $L --batch till --count 2
card=$(sed -n 's/.*"cards":\["\([0-9]*\)".*/\1/p' "$dir/cards")
spare=$(sed -n 's/.*"cards":\["[0-9]*","\([0-9]*\)".*/\1/p' "$dir/cards")
printf '{"id":"k1","time":"2026-06-11T12:00:00+03:00","customer":{"card":"%s"},"lines":[{"id":"1","sku":"S","qty":1,"price":"1000.00"}]}' "$card" >"$dir/k1.json"
run "an anonymous card's purchase" 0 '"final":"1000.00"' -- confirm $L "$dir/k1.json"
run "card attach" 0 "{\"card\":\"$card\",\"customer\":1}" -- card attach $L "$card" --phone +79160000001 --at 2026-06-11T13:00:00+03:00
run "card attach needs a customer" 2 'name the customer' -- card attach $L "$card"
run "customer get: the card" 0 "\"cards\":[{\"number\":\"$card\",\"state\":\"active\",\"batch\":\"till\"}]" -- customer get $L --phone +79160000001 --at 2026-06-11T13:00:00+03:00
run "card block" 0 "\"state\":\"blocked\",\"blocked_at\":\"2026-06-11T11:00:00Z\"" -- card block $L "$spare" --at 2026-06-11T14:00:00+03:00
run "card block again" 0 "\"blocked_at\":\"2026-06-11T11:00:00Z\"" -- card block $L "$spare" --at 2026-06-12T14:00:00+03:00
run "card block unknown" 1 '"code":"not_found","field":"card"' -- card block $L 4000000000000002
"$kopilka" codes generate $L --id mail-0612 --batch mailing --count 1 --at 2026-06-12T10:00:00+03:00 >"$dir/codes" 2>&1
n=$((n + 1))
"$kopilka" codes generate $L --id mail-0612 --batch mailing --count 1 --at 2026-06-12T10:01:00+03:00 >"$dir/codes2" 2>&1
if [ $? -eq 0 ] && grep -q '^{"batch":"mailing","codes":\["MAIL-[A-Z2-9]*"\]}' "$dir/codes" && cmp -s "$dir/codes" "$dir/codes2"; then
    echo "ok $n - codes generate, then again with the same --id: the same code"
else
    echo "not ok $n - codes generate, then again with the same --id: the same code"
    sed 's/^/# /' "$dir/codes" "$dir/codes2"
    failed=1
fi
run "codes generate: the same --id, another count" 1 '"code":"conflict","field":"count"' -- codes generate $L --id mail-0612 --batch mailing --count 2
run "codes generate needs --id" 2 'kopilka codes generate: --id OP, --batch B and --count N are required' -- codes generate $L --batch mailing --count 1
run "customer get needs a customer" 2 'name the customer' -- customer get $L
run "check" 0 '"violations":0' -- check $L
echo "1..$n"
exit $failed
