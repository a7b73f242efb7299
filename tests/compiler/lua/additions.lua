-- fixture: tests/compiler/golden/language-additions/input.xml
-- SPDX-License-Identifier: MIT
-- Promotion templates (instances are ordinary promotions naming their template), `lists` on
-- an accrual rate, line selectors on a receipt-total input and on <total>, a tier discount
-- that leaves out lines. Expected values are worked out from the fixture by hand.
local T = dofile((arg[0]:match("^(.*)/") or ".") .. "/_tap.lua")
local P = T.load(arg[1])

-- ---- lists on a rate ----------------------------------------------------------------------
local rate = P.accrual.rate
local function r(cust, line)
  local bp, src = rate(T.ctx({ customer = cust }), T.line(line))
  return { bp, tonumber(src:match(":(%d+)$")) }
end
T.eq(r(T.customer({ lists = { "bank-card" } }), {}), { 500, 31 }, "a customer on the list: the list's rate (line 31)")
T.eq(r(T.customer({ lists = { "other" } }), {}), { 100, 30 }, "a customer on another list: the base rate")
T.eq(r(nil, {}), { 100, 30 }, "anonymous: the base rate")
T.eq(r(T.customer({ lists = { "miles" } }), { category = "luggage" }), { 300, 32 },
  "list and selector both hold: 3%")
T.eq(r(T.customer({ lists = { "miles" } }), { category = "shoes" }), { 100, 30 },
  "the list without the selector: the base rate")

-- ---- a tier discount that leaves out lines ----------------------------------------------------
local tier = T.promotion(P, "tier:gold")
local gold = T.customer({ tiers = { "gold" } })
local tctx = T.ctx({ customer = gold, lines = {
  { category = "gift-cards", price = 500000 }, { category = "shirts", sku = "SH-1", price = 300000 },
  { category = "bags", sku = "SALE-1", price = 200000 }, { category = "bags", sku = "BAG-2", price = 100000 } } })
T.eq(tier.check(tctx), nil, "gold holds tier gold")
local te = tier.effects(tctx)
T.eq({ #te, te[1].src, te[1].kind, T.values_of(te[1], "bp", tctx), T.lines_of(te[1], tctx) },
  { 1, tier.src, "percent", { 500, 500 }, { 2, 4 } },
  "5% on the shirt and the bag BAG-2; not on the gift card (category) nor on SALE-1 (SKU)")

-- ---- line selectors on the receipt amount -------------------------------------------------------
local amount = P.tables["amount-rates"]
T.eq(amount(T.ctx({ lines = { { category = "pipes", price = 800000 }, { category = "certificates", price = 300000 } } })),
  nil, "8,000 of pipes + a 3,000 certificate: 8,000 counted, below every row")
T.eq({ amount(T.ctx({ lines = { { category = "pipes", price = 1000000 }, { category = "services", price = 200000 } } })) },
  { 300, 1 }, "10,000 of pipes + 2,000 of services: 10,000 counted, row 1 (3%)")
T.eq({ amount(T.ctx({ lines = { { category = "pipes", qty = 3, price = 1000000 } } })) }, { 500, 2 },
  "30,000 of pipes: row 2 (5%)")

local g = T.promotion(P, "goods-1000")
local function goods(lines)
  return g.check(T.ctx({ customer = T.customer(), lines = lines }))
end
T.eq(goods({ { category = "tiles", price = 2000000, current = 1900000 }, { category = "certificates", price = 500000 } }), 1,
  "19,000 of tiles after discounts + a 5,000 certificate: the goods total 19,000 < 20,000")
T.eq(goods({ { category = "tiles", price = 2100000, current = 2000000 }, { category = "services", price = 100000 } }), nil,
  "20,000 of tiles after discounts: the condition holds")
T.eq(goods({ { category = "tiles", price = 2100000, current = 1999999 } }), 1, "19,999.99 after discounts: fails")
T.ok(g.conditions[1].text:find("certificates", 1, true) ~= nil, "the condition's text names the lines left out")

-- ---- templates ----------------------------------------------------------------------------
local bikes, ski = T.promotion(P, "season-bikes"), T.promotion(P, "season-ski")
T.eq({ bikes.template, bikes.template_src:match(":(%d+)$"), bikes.src:match(":(%d+)$") },
  { "season", "35", "42" }, "the instance names its template (line 35) and has its own src (line 42)")
T.eq({ bikes.priority, ski.priority }, { 5, 7 }, "priority from the template (5), or the instance's own (7)")
T.eq({ bikes.caps.max_discount, ski.caps.max_discount }, { 500000, 300000 },
  "the template's cap (5,000.00), or the instance's own <cap> (3,000.00)")
T.eq({ bikes.caps.src:match(":(%d+)$"), ski.caps.src:match(":(%d+)$") }, { "40", "57" },
  "a copied element keeps the template's line; the instance's own its line")
T.eq({ bikes.conditions[1].src:match(":(%d+)$"), bikes.conditions[2].src:match(":(%d+)$") }, { "47", "48" },
  "dates filled in from parameters point at the instance's values")
local member = T.customer()
local function bctx(date, customer)
  return T.ctx({ date = date, customer = customer, lines = { { category = "bikes", price = 3000000 },
    { category = "ski", price = 1000000 } } })
end
T.eq(bikes.check(bctx(20543, member)), 1, "31 March 2026: before the season")
T.eq(bikes.check(bctx(20544, member)), nil, "1 April 2026: the first day")
T.eq(bikes.check(bctx(20573, member)), nil, "30 April 2026: the last day")
T.eq(bikes.check(bctx(20574, member)), 2, "1 May 2026: after the season")
T.eq(bikes.check(bctx(20544, nil)), 3, "an anonymous receipt: the audience (members) fails")
local ectx = bctx(20544, member)
local e = bikes.effects(ectx)
T.eq({ #e, e[1].kind, T.lines_of(e[1], ectx), T.values_of(e[1], "bp", ectx), e[2].kind, T.lines_of(e[2], ectx),
  e[2].factor },
  { 2, "percent", { 1 }, { 1500 }, "points_multiplier", { 1 }, 20000 },
  "bikes: 15% and double points on the bike line only")
local s = ski.effects(T.ctx({ date = 20788, customer = member, lines = {
  { category = "snowboards" }, { category = "bikes" }, { category = "ski" } } }))
T.eq({ s[1].lines, s[2].lines }, { { 1, 3 }, { 1, 3 } }, "ski: the list parameter `ski snowboards` selects both")
T.eq({ ski.check(T.ctx({ date = 20818, customer = member })), ski.check(T.ctx({ date = 20574, customer = member })) },
  { nil, 1 }, "ski: 31 December holds, 1 May is before its season")

T.done()
