-- fixture: tests/compiler/golden/promotions/input.xml
-- SPDX-License-Identifier: MIT
-- effects(): which lines each effect covers, with which values; every effect kind. Lines and
-- values are compared as T.lines_of/T.values_of expand them (an effect on every line lists
-- none; a value that is the same on every line is one integer).
local T = dofile((arg[0]:match("^(.*)/") or ".") .. "/_tap.lua")
local P = T.load(arg[1])
local hh = T.promotion(P, "happy-hours")

local ctx = T.ctx({
  region = "tula", -- region-factor 1.2
  lines = {
    { sku = "T-1", category = "taps", brand = "acme", qty = 2, price = 30000, attrs = { color = "white" } },
    { sku = "S-1", category = "services", qty = 1, price = 5000 },
    { sku = "A-1", category = "sinks", brand = "other", qty = 3, price = 9000, attrs = { color = "red" } },
    { sku = "P-1", category = "pipes", qty = 3, price = 1000 },
  },
})
local out = hh.effects(ctx)
local kinds = {}
for i, e in ipairs(out) do
  kinds[i] = e.kind
  T.ok(type(e.src) == "string" and e.src:match("input%.xml:%d+$") ~= nil, "effect " .. i .. " carries src")
end
T.eq(kinds, { "percent", "percent", "percent", "amount", "amount", "amount", "amount", "fixed_price", "cheapest",
  "buy_get", "points", "points", "points", "points_multiplier", "message" }, "effects in document order")

local pct = T.effects_of(out, "percent")
T.eq({ T.lines_of(pct[1], ctx), T.values_of(pct[1], "bp", ctx) }, { { 1 }, { 1000 } }, "10% on the taps line only")
-- cat-rate answers 12% for taps only; factor 1.2: 1200 * 12000 / 10000 = 1440
T.eq({ T.lines_of(pct[2], ctx), T.values_of(pct[2], "bp", ctx) }, { { 1 }, { 1440 } }, "@cat-rate x @region-factor; lines without a rate are left out")
T.eq({ T.lines_of(pct[3], ctx), T.values_of(pct[3], "bp", ctx) }, { { 1 }, { 750 } }, "5% x 1.5 = 7.5% on the acme line")

local am = T.effects_of(out, "amount")
T.eq({ am[1].per, T.lines_of(am[1], ctx), T.values_of(am[1], "amount", ctx) }, { "unit", { 1 }, { 5000 } }, "50.00 per unit on color white|black")
T.eq({ am[2].per, T.lines_of(am[2], ctx), T.values_of(am[2], "amount", ctx) }, { "line", { 1, 2, 3, 4 }, { 12000, 12000, 12000, 12000 } },
  "100.00 per line x 1.2 on every line")
T.eq({ am[3].per, T.lines_of(am[3], ctx), am[3].amount }, { "receipt", { 1, 2, 3, 4 }, 36000 },
  "300.00 per receipt x 1.2 (factor of the receipt)")
T.eq(am[4].amount, 37500, "300.00 x 1.25 per receipt, computed by the compiler")

T.eq({ out[8].lines, out[8].price }, { { 3 }, 9990 }, "fixed price 99.90 on SKU A-1")
T.eq({ out[9].lines, out[9].bp, out[9].count }, { { 3 }, 5000, 2 }, "cheapest: 50% on 2 units of sinks")
T.eq({ out[10].lines, out[10].buy, out[10].get, out[10].bp }, { { 4 }, 2, 1, 10000 }, "buy 2 get 1 on pipes")
T.eq({ out[11].amount, out[11].lines }, { 200, nil }, "200 points for the receipt")
T.eq({ out[12].amount, out[12].lines }, { 20, { 1 } }, "20 points when a taps line is there")
T.eq({ T.values_of(out[13], "bp", ctx), T.lines_of(out[13], ctx) }, { { 1200 }, { 1 } }, "points percent @cat-rate on taps")
T.eq({ out[14].factor, out[14].lines }, { 20000, { 1 } }, "points multiplier 2 on acme")
T.eq({ out[15].to, out[15].text }, { "customer", "Happy hours: \"two\" \\ lines\nsecond line" }, "the message")

-- Without matching lines an effect is left out; the factor table has no row for moscow, so
-- factor-scaled effects disappear too.
local out2 = hh.effects(T.ctx({ region = "moscow", lines = { { sku = "Z", category = "baths", qty = 1, price = 100 } } }))
local k2 = {}
for i, e in ipairs(out2) do
  k2[i] = e.kind .. (e.per and (":" .. e.per) or "")
end
T.eq(k2, { "amount:receipt", "points", "message" },
  "only the effects with lines (and a factor) remain")

-- Tier-less, selector-less percent: every line.
local low_ctx = T.ctx({ lines = { {}, {}, {} } })
local low = T.promotion(P, "low").effects(low_ctx)
T.eq({ T.lines_of(low[1], low_ctx), T.values_of(low[1], "bp", low_ctx) }, { { 1, 2, 3 }, { 100, 100, 100 } },
  "1% on every line")
T.eq(low[1].lines, nil, "an effect on every line lists none (program-abi.md)")
T.eq(#T.promotion(P, "low").effects(T.ctx({})), 0, "an empty receipt: no effects")

T.done()
