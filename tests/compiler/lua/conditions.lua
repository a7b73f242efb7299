-- fixture: tests/compiler/golden/promotions/input.xml
-- SPDX-License-Identifier: MIT
-- check(): the exact number of the first failing condition, boundaries of dates, hours and
-- totals, nested all/any groups; the evaluation order of promotions.
local T = dofile((arg[0]:match("^(.*)/") or ".") .. "/_tap.lua")
local P = T.load(arg[1])

T.eq(#P.promotions, 4, "four promotions")
local order = {}
for i, p in ipairs(P.promotions) do
  order[i] = p.id
end
T.eq(order, { "happy-hours", "anyone", "low", "receipt-late" },
  "evaluation order: line stage first, priority descending, then document order")

local hh = T.promotion(P, "happy-hours")
T.eq(#hh.conditions, 22, "happy-hours lists 22 conditions")
T.eq(hh.conditions[15].text, "at least one of conditions 16, 17 and 20 holds", "the when/any text")
T.ok(hh.conditions[1].src:match(":34$") ~= nil, "condition 1 names line 34")

-- A receipt for which every condition of happy-hours holds.
local cust = { segments = { "vip" }, tiers = { "gold" }, lists = { "mailing" }, first_purchase = false,
  birthday_distance = 2, days_registered = 100 }
local base = { date = 20500, weekday = 6, minute = 1380, channel = "app", store = "s-01", region = "tula",
  lines = { { sku = "B-1", category = "baths", qty = 1, price = 200000 } } }
local function run(over, cover)
  local o = T.with(base, over or {})
  o.customer = T.customer(T.with(cust, cover or {}))
  if over and over.customer == T.NIL then
    o.customer = nil
  end
  return hh.check(T.ctx(o))
end

T.eq(run(), nil, "every condition holds: nil")
T.eq(run({ date = 20453 }), 1, "2025-12-31 is before `from`: 1")
T.eq(run({ date = 20454 }), nil, "`from` is inclusive")
T.eq(run({ date = 20818 }), nil, "`to` is inclusive")
T.eq(run({ date = 20819 }), 2, "2027-01-01 is after `to`: 2")
T.eq(run({ weekday = 5 }), 3, "Friday is not sat/sun: 3")
T.eq(run({ weekday = 7 }), nil, "Sunday is sat/sun")
T.eq(run({ minute = 1319 }), 4, "21:59 is before 22:00: 4")
T.eq(run({ minute = 1320 }), nil, "22:00 is inside 22:00-02:00")
T.eq(run({ minute = 0 }), nil, "midnight is inside 22:00-02:00")
T.eq(run({ minute = 119 }), nil, "01:59 is inside 22:00-02:00")
T.eq(run({ minute = 120 }), 4, "02:00 is the excluded end: 4")
T.eq(run({ channel = "web" }), 5, "channel web: 5")
T.eq(run({ store = "s-02" }), 6, "store s-02: 6")
T.eq(run({ region = "spb" }), 7, "region spb: 7")
T.eq(run({ customer = T.NIL }), 8, "anonymous receipt: 8")
T.eq(run({}, { segments = { "retail" } }), nil, "segment retail is one of retail vip")
T.eq(run({}, { segments = {} }), 9, "no segment: 9")
T.eq(run({}, { tiers = { "base" } }), 10, "tier base: 10")
T.eq(run({}, { lists = {} }), 11, "not on the list: 11")
T.eq(run({}, { first_purchase = true }), 12, "first purchase: 12")
T.eq(run({}, { birthday_distance = 3 }), nil, "birthday 3 days away is within 3")
T.eq(run({}, { birthday_distance = 4 }), 13, "birthday 4 days away: 13")
T.eq(run({}, { birthday_distance = T.NIL }), 13, "unknown birthday: 13")
T.eq(run({}, { days_registered = 365 }), nil, "registered 365 days ago is within 365")
T.eq(run({}, { days_registered = 366 }), 14, "registered 366 days ago: 14")

-- The same dates and weekdays as data, for the runtime to test before calling check
-- (program-abi.md "Promotions"): 2026-01-01 is day 20454 and 2026-12-31 day 20818 (the
-- boundaries above); sat and sun are bits 5 and 6 of the weekday mask (Monday is bit 0): 0x60.
T.eq(hh.window, { from = 20454, to = 20818, days = 0x60 }, "happy-hours: window from, to, days")
-- mon..fri are bits 0..4: 0x1f; there is no date, so `days` is condition 1.
T.eq(T.promotion(P, "anyone").window, { days = 0x1f }, "anyone: a window of weekdays only")
T.eq(T.promotion(P, "receipt-late").window, nil, "receipt-late has no <valid>: no window")

-- The runtime's reading of a window (engine.md, kr-engine-apply.c window_fails): the first of
-- from, to, days that fails, numbered from 1 in that order. On every day from three days
-- before `from` to three after `to`, and every weekday, check must give the same number when
-- the window fails, and a number past the window's conditions (or nil) when it holds.
local function window_fails(w, date, weekday)
  local k = 0
  if w.from then
    k = k + 1
    if date < w.from then return k end
  end
  if w.to then
    k = k + 1
    if date > w.to then return k end
  end
  if w.days then
    k = k + 1
    if w.days & (1 << (weekday - 1)) == 0 then return k end
  end
  return nil, k
end
for _, p in ipairs(P.promotions) do
  local w = p.window
  if w then
    local agree = true
    for date = (w.from or 20440) - 3, (w.to or 20830) + 3 do
      for weekday = 1, 7 do
        local got = p.check(T.ctx({ date = date, weekday = weekday, customer = T.customer() }))
        local want, n = window_fails(w, date, weekday)
        if want then
          agree = agree and got == want
        else
          agree = agree and (got == nil or got > n)
        end
      end
    end
    T.ok(agree, p.id .. ": the window gives check's answer on every day and weekday around it")
  end
end

-- when match="any": total 1000.00..50000.00 | all(lines taps/mixers >= 2 units, >= 500.00 after; code) | any(city, A-1)
local small = { { sku = "B-1", category = "baths", qty = 1, price = 5000 } }
T.eq(run({ lines = small }), 15, "total 50.00 and nothing else: the any group fails: 15")
T.eq(run({ lines = { { category = "baths", qty = 1, price = 99999 } } }), 15, "99999 is below min 1000.00: 15")
T.eq(run({ lines = { { category = "baths", qty = 1, price = 100000 } } }), nil, "1000.00 is the inclusive min")
T.eq(run({ lines = { { category = "baths", qty = 1, price = 5000000 } } }), 15, "50000.00 is the excluded max: 15")
local taps = { { category = "taps", brand = "acme", qty = 2, price = 30000, current = 50000 } }
T.eq(run({ lines = taps, codes = { "summer" } }), nil, "all(lines, code) holds")
T.eq(run({ lines = taps }), 15, "all(lines, code) without the code: 15")
T.eq(run({ lines = { { category = "taps", brand = "acme", qty = 2, price = 30000, current = 49999 } },
  codes = { "summer" } }), 15, "min-amount uses current (basis after): 499.99 is short: 15")
T.eq(run({ lines = { { category = "taps", brand = "cheapo", qty = 2, price = 30000 } }, codes = { "summer" } }),
  15, "exclude-brand cheapo: 15")
T.eq(run({ lines = { { category = "taps", qty = 1, price = 30000 }, { category = "mixers", qty = 1, price = 30000 } },
  codes = { "summer" } }), nil, "units add up across matching lines")
T.eq(run({ lines = small }, { attrs = { city = "moscow" } }), nil, "any(customer city moscow)")
T.eq(run({ lines = { { sku = "A-1", qty = 1, price = 100 } } }), nil, "any(lines sku A-1)")

-- Conditions are checked in order: the first failing number wins.
T.eq(run({ date = 20453, channel = "web" }, { segments = {} }), 1, "several fail: the first (1)")
T.eq(run({ channel = "web", customer = T.NIL }), 5, "several fail: the first (5)")

-- anyone: members="false", weekdays 09:00-18:00, a taps line, all(total after >= 10.00)
local any = T.promotion(P, "anyone")
local actx = T.ctx({ weekday = 1, minute = 540, lines = { { category = "taps", qty = 1, price = 1000 } } })
T.eq(any.check(actx), nil, "members=false: an anonymous receipt passes")
T.eq(any.check(T.ctx({ weekday = 6, minute = 540 })), 1, "Saturday: 1")
T.eq(any.check(T.ctx({ weekday = 1, minute = 1080 })), 2, "18:00 is the excluded end: 2")
T.eq(any.check(T.ctx({ weekday = 1, minute = 600, lines = { { category = "pipes" } } })), 3, "no taps line: 3")
T.eq(any.check(T.ctx({ weekday = 1, minute = 600, lines = { { category = "taps", price = 999 } } })), 5,
  "a nested all reports its failing child (5), not itself (4)")
T.eq(any.conditions[4].text, "condition 5 holds", "a one-child group says so")

local rl = T.promotion(P, "receipt-late")
T.eq(rl.stage, "receipt", "receipt-late is a receipt-stage promotion")
T.eq(rl.check(T.ctx({ lines = { { price = 9999 } } })), 1, "receipt-late: total 99.99: 1")
T.eq(rl.check(T.ctx({ lines = { { price = 10000 } } })), nil, "receipt-late: total 100.00 holds")
T.eq(T.promotion(P, "low").enabled, false, "a disabled promotion is kept, enabled = false")

-- check() allocates nothing.
local ctx = T.ctx(T.with(base, { customer = T.customer(cust), lines = taps, codes = { "summer" } }))
collectgarbage("collect")
collectgarbage("stop")
local before = collectgarbage("count")
for _ = 1, 2000 do
  for _, p in ipairs(P.promotions) do
    p.check(ctx)
  end
end
local grew = collectgarbage("count") - before
collectgarbage("restart")
T.ok(grew == 0, "check() allocates nothing (grew " .. grew .. " KiB)")

T.done()
