-- fixture: tests/compiler/golden/plumbing/input.xml
-- SPDX-License-Identifier: MIT
-- The compiled chunk runs with only the allowed globals, writes none, and returns the
-- documented P; the plumbing example behaves as its case study says.
local T = dofile((arg[0]:match("^(.*)/") or ".") .. "/_tap.lua")

local ok, P, src = pcall(T.load, arg[1])
T.ok(ok, "the chunk loads in an environment with only " .. table.concat(T.ALLOWED, ", "))
if not ok then
  print("# " .. tostring(P))
  T.done()
end
T.ok(not src:find("[^%w_.]os%.") and not src:find("[^%w_]io%.") and not src:find("require") and
  not src:find("[^%w_]load%(") and not src:find("debug%."), "the text names no io/os/load/require/debug")
-- The code without comments and string literals: no float division `/` (only `//`).
local code, i = {}, 1
while i <= #src do
  local c = src:sub(i, i)
  if c == "-" and src:sub(i + 1, i + 1) == "-" then
    i = (src:find("\n", i, true) or #src) + 1
  elseif c == '"' then
    i = i + 1
    while i <= #src and src:sub(i, i) ~= '"' do
      i = i + (src:sub(i, i) == "\\" and 2 or 1)
    end
    code[#code + 1] = '""'
    i = i + 1
  else
    code[#code + 1] = c
    i = i + 1
  end
end
code = table.concat(code)
T.ok(not code:gsub("//", ""):find("/", 1, true), "no float division `/` in the code")
T.ok(code:find("//", 1, true) ~= nil, "the scan sees the integer divisions")
T.eq(P.abi, 2, "abi = 2")
T.ok(type(P.hash) == "string" and P.hash:match("^sha256:%x+$") ~= nil and #P.hash == 71, "hash is sha256:<64 hex>")
T.eq({ P.id, P.version, P.currency, P.minor_unit, P.time_zone, P.money_rounding, P.points_rounding },
  { "mauro", 1, "RUB", 2, "Europe/Moscow", "half-up", "down" }, "program fields")
for i, p in ipairs(P.promotions) do
  T.ok(type(p.check) == "function" and type(p.effects) == "function" and type(p.src) == "string" and
    type(p.conditions) == "table", "promotion " .. i .. " (" .. p.id .. ") has check, effects, src, conditions")
  for k, c in ipairs(p.conditions) do
    if type(c.src) ~= "string" or type(c.text) ~= "string" then
      T.ok(false, p.id .. " condition " .. k .. " has src and text")
    end
  end
end
T.eq(P.groups["segment-discount"].policy, "best", "groups by id")
T.eq(P.batches.spring.count, 1000, "batches by id")

-- Case study: a silver partner in Tula buys taps: 8% x 1.2 = 9.6%.
local pd = T.promotion(P, "partner-discount")
local ctx = T.ctx({ region = "tula", customer = T.customer({ segments = { "partner" }, tiers = { "p-silver" } }),
  lines = { { category = "taps", price = 100000 }, { category = "pipes", price = 5000 } } })
T.eq(pd.check(ctx), nil, "a partner passes partner-discount")
local e = pd.effects(ctx)
T.eq({ e[1].lines, e[1].bp }, { { 1, 2 }, { 960, 600 } }, "8% and 5% times the Tula factor 1.2")
T.eq(T.promotion(P, "retail-discount").check(ctx), 2, "a partner is not in segment retail: 2")
-- The spring code needs the code and 5000.00 after line discounts.
local sc = T.promotion(P, "spring-code")
local sctx = T.ctx({ date = 20540, codes = { "spring" }, lines = { { price = 600000, current = 499999 } } })
T.eq(sc.check(sctx), 4, "4999.99 after discounts is short of 5000.00: 4")
sctx.current_total = 500000
T.eq(sc.check(sctx), nil, "5000.00 after discounts passes")
sctx.codes = {}
T.eq(sc.check(sctx), 3, "without the code: 3")
T.eq(P.accrual.rate(T.ctx({}), T.line({ category = "services" })), 0, "services earn nothing")
-- <redemption point-value="1" max-share="30%" min-balance="100"/> has no exclude: every line is
-- eligible, and the program says so by having no `eligible` (program-abi.md, ABI 2).
T.eq({ P.redemption.eligible, P.redemption.point_value, P.redemption.max_share, P.redemption.min_balance },
  { nil, 100, 3000, 100 }, "redemption without excludes: no eligible; 1.00 a point, 30%, 100 points")

-- Loading twice gives equal data: the chunk keeps no state.
local P2 = T.load(arg[1])
T.ok(P2 ~= P and T.show(P2) == T.show(P), "a second load returns an equal, fresh table")

T.done()
