-- fixture: tests/compiler/golden/accrual-tiers/input.xml
-- SPDX-License-Identifier: MIT
-- accrual.rate precedence (exclusions, rates in document order, tier points-rates, base),
-- redemption, tier discounts as promotions "tier:<id>".
local T = dofile((arg[0]:match("^(.*)/") or ".") .. "/_tap.lua")
local P = T.load(arg[1])
local rate = P.accrual.rate

local function r(cust, line)
  local bp, src = rate(T.ctx({ customer = cust }), T.line(line))
  return { bp, tonumber(src:match(":(%d+)$")) }
end
local partner = T.customer({ segments = { "partner" }, tiers = { "p2" } })
local silver = T.customer({ segments = { "retail" }, tiers = { "silver" } })
local gold = T.customer({ segments = { "retail" }, tiers = { "gold" } })

T.eq(P.accrual.basis, "total", "basis")
T.eq(r(partner, { category = "services" }), { 0, 39 }, "an excluded category: 0, the exclude's line")
T.eq(r(partner, { sku = "DELIVERY" }), { 0, 40 }, "an excluded SKU: 0, the second exclude")
T.eq(r(partner, { category = "tiles" }), { 400, 36 }, "a partner with p2: the first rate wins over later ones")
T.eq(r(T.customer({ segments = { "partner" }, tiers = { "p1" } }), { category = "taps" }), { 100, 35 },
  "a rate needs segments and tiers both")
T.eq(r(nil, { category = "tiles" }), { 600, 37 }, "tiles: the @gold-rate table answers 6%")
T.eq(r(nil, { brand = "acme" }), { 300, 38 }, "brand acme: 3%")
T.eq(r(silver, { category = "taps" }), { 200, 15 }, "no rate matches: the tier points-rate (silver 2%)")
T.eq(r(gold, { category = "tiles" }), { 600, 37 }, "rates come before tier points-rates")
T.eq(r(gold, { category = "taps" }), { 100, 35 }, "gold's @gold-rate has no answer for taps: the base rate")
T.eq(r(nil, { category = "taps" }), { 100, 35 }, "anonymous: the base rate")
T.ok(math.type(rate(T.ctx({}), T.line({}))) == "integer", "rates are integers")

local rd = P.redemption
T.eq({ rd.point_value, rd.max_share, rd.min_balance, rd.step, rd.min_receipt }, { 50, 5000, 500, 10, 100000 },
  "redemption values in minor units and basis points")
T.eq(rd.eligible(T.line({ category = "tobacco" })), false, "an excluded line cannot be paid with points")
T.eq(rd.eligible(T.line({ category = "taps" })), true, "other lines can")

local ids = {}
for i, p in ipairs(P.promotions) do
  ids[i] = p.id
end
T.eq(ids, { "first", "tier:gold", "tier:platinum", "after" },
  "tier discounts are line-stage promotions at priority 0, in document order")
local tg = T.promotion(P, "tier:gold")
T.eq({ tg.stage, tg.tier, tg.name }, { "line", "gold", "Gold" }, "tier:gold fields")
T.eq(tg.check(T.ctx({ customer = gold })), nil, "a gold customer passes")
T.eq(tg.check(T.ctx({ customer = silver })), 1, "a silver customer fails condition 1")
T.eq(tg.check(T.ctx({})), 1, "an anonymous receipt fails condition 1")
local e = T.promotion(P, "tier:platinum").effects(T.ctx({ lines = { { category = "taps" }, { category = "tiles" } } }))
T.eq({ e[1].kind, e[1].lines, e[1].bp }, { "percent", { 1, 2 }, { 1000, 700 } }, "@platinum-discount per line")

T.eq(P.ladders[1].tiers[3].from, 10000025, "100000.25 in minor units")
T.eq(P.ladders[2].tiers[2].from, 5000, "points-earned thresholds are counts")
T.eq(P.segments[2].join_sku, { ["CLUB-1Y"] = true, ["CLUB-2Y"] = true }, "join_sku is a set")
T.eq(P.segments[2].transitions[1], { to = "retail", after_days = 365, since = "joined",
  src = "tests/compiler/golden/accrual-tiers/input.xml:8" }, "a transition with its default `since`")

T.done()
