-- fixture: tests/compiler/golden/tables/input.xml
-- SPDX-License-Identifier: MIT
-- Decision tables: the row each hit policy picks, range boundaries (A..B includes A and
-- excludes B), defaults, negated cells, set inputs and counters.
local T = dofile((arg[0]:match("^(.*)/") or ".") .. "/_tap.lua")
local P = T.load(arg[1])

local function call(id, o, line)
  return table.pack(P.tables[id](T.ctx(o), line and T.line(line) or nil))
end
local function v(...)
  return table.pack(...)
end

-- by-total (first): ..1000 | 1000..5000.50 | 5000.50..
T.eq(call("by-total", { total = 0 }), v(0, 1), "0.00 -> row 1")
T.eq(call("by-total", { total = 99999 }), v(0, 1), "999.99 -> row 1")
T.eq(call("by-total", { total = 100000 }), v(250, 2), "1000.00 is the inclusive start of row 2")
T.eq(call("by-total", { total = 500049 }), v(250, 2), "5000.49 -> row 2")
T.eq(call("by-total", { total = 500050 }), v(500, 3), "5000.50 is excluded from row 2, starts row 3")
T.eq(call("by-total", { total = math.maxinteger }), v(500, 3), "an open end")

-- best-of (highest): segment x category
local partner = T.customer({ segments = { "partner" } })
local retail = T.customer({ segments = { "retail" } })
T.eq(call("best-of", { customer = partner }, { category = "taps" }), v(700, 1), "partner taps: 7% (row 1) beats 3%")
T.eq(call("best-of", { customer = partner }, { category = "sinks" }), v(1000, 4), "partner sinks: 10% (row 4)")
T.eq(call("best-of", { customer = retail }, { category = "other" }), v(300, 2), "retail other: 3% beats 1%")
T.eq(call("best-of", {}, { category = "other" }), v(100, 3), "anonymous: `not partner | not sinks` matches")
T.eq(call("best-of", { customer = partner }, { category = "other" }), v(300, 2), "`not partner` excludes partner")
T.eq(call("best-of", {}, nil), v(100, 3), "no line: line inputs are absent; `not sinks` matches")

-- cheapest-of (lowest, money, default 0)
T.eq(call("cheapest-of", { customer = T.customer({ tiers = { "gold" } }), channel = "web" }), v(9990, 2),
  "gold on web: 99.90 (row 2) is lower than 150.00 (row 1)")
T.eq(call("cheapest-of", { customer = T.customer({ tiers = { "silver" } }), channel = "store" }), v(9990, 2),
  "silver: row 2")
T.eq(call("cheapest-of", { customer = T.customer({ tiers = { "bronze" } }) }), v(0, 0), "no row: the default, row 0")

-- bonus-sum (sum, points): receipt-count | turnover (rolling 90 days) | city
local function cust(count, turnover, city)
  return T.customer({ counters = { ["receipt-count:calendar-year"] = count, ["turnover:rolling-days:90"] = turnover },
    attrs = { city = city } })
end
T.eq(call("bonus-sum", { customer = cust(10, 0, "moscow") }), v(100, 1), "10 receipts: row 1 only")
T.eq(call("bonus-sum", { customer = cust(9, 0, "kazan") }), v(1, 4), "9 receipts in kazan: row 4 only")
T.eq(call("bonus-sum", { customer = cust(12, 10000000, "spb") }), v(351, 1),
  "rows 1, 2 and 4 add up; the row is the first that matched")
T.eq(call("bonus-sum", { customer = cust(5, 9999999, "moscow") }), v(50, 3), "5 is inside 3..6; 99999.99 is below 100000")
T.eq(call("bonus-sum", { customer = cust(6, 0, "moscow") }), v(nil), "6 is outside 3..6: nothing, no default")
T.eq(call("bonus-sum", {}), v(1, 4), "anonymous: only `not moscow` matches")

-- region-factor (first, factor, default 1)
T.eq(call("region-factor", { region = "moscow" }, {}), v(11500, 1), "moscow: 1.15")
T.eq(call("region-factor", { region = "spb", store = "s-02" }, { brand = "acme", attrs = { color = "white" } }),
  v(9000, 2), "store, brand and line attribute: 0.9")
T.eq(call("region-factor", { region = "spb", store = "s-02" }, { brand = "acme", attrs = { color = "red" } }),
  v(9500, 3), "color red: row 3 (`not cheapo junk`)")
T.eq(call("region-factor", { region = "spb" }, { brand = "junk", sku = "A-1" }), v(10001, 4), "sku A-1: row 4")
T.eq(call("region-factor", { region = "spb" }, { brand = "junk", sku = "B-1" }), v(10000, 0), "the default 1")
T.eq(call("region-factor", { region = "spb" }, nil), v(9500, 3), "no line: the brand is absent, `not cheapo junk` holds")

T.eq(P.ladders[1].tiers[3].from, 15000050, "tier threshold 150000.50 in minor units")

T.done()
