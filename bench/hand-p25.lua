-- SPDX-License-Identifier: MIT
-- hand-p25.lua: the 25-promotion benchmark program (`bench/gen-program.py 25`) written by hand
-- in plain, idiomatic Lua against the same ABI (docs/internals/program-abi.md), as the peer the
-- generated code is measured against (bench/README.md "Receipts evaluated per second").
--
-- The rules, conditions and numbers are those of the XML; `bench-runtime compare` checks that
-- this file and the compiled XML give the same discounts, points and rejections on every
-- receipt of the benchmark pool. Condition texts are left out (they cost nothing per receipt).

local function day(y, m, d) -- days since 1970-01-01 (proleptic Gregorian)
  if m <= 2 then y = y - 1 end
  local era = y // 400
  local yoe = y - era * 400
  local doy = (153 * (m > 2 and m - 3 or m + 9) + 2) // 5 + d - 1
  return era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468
end

local WD = { mon = 1, tue = 2, wed = 3, thu = 4, fri = 5, sat = 6, sun = 7 }

-- A validity window of one month of 2026 (the 1st to the 28th) on four weekdays: conditions
-- 1 (from), 2 (to) and 3 (days). Returns a function giving the failing number or nil.
local function valid(month, days)
  local from, to, set = day(2026, month, 1), day(2026, month, 28), {}
  for w in days:gmatch("%a+") do set[WD[w]] = true end
  return function(ctx)
    if ctx.date < from then return 1 end
    if ctx.date > to then return 2 end
    if not set[ctx.weekday] then return 3 end
  end
end

local function units(ctx, category)
  local n = 0
  for _, l in ipairs(ctx.lines) do
    if l.category == category then n = n + l.qty end
  end
  return n
end

local function in_segment(ctx, s)
  local cu = ctx.customer
  return cu ~= nil and cu.segments[s] ~= nil
end

local function lines_of(ctx, category) -- indexes of the lines of a category, or nil
  local ls
  for i, l in ipairs(ctx.lines) do
    if l.category == category then
      ls = ls or {}
      ls[#ls + 1] = i
    end
  end
  return ls
end

local function every_line(ctx)
  local ls = {}
  for i = 1, #ctx.lines do ls[i] = i end
  return ls
end

local function by_amount(ctx) -- table "by-amount": receipt total before discounts
  if ctx.total < 500000 then return 0 elseif ctx.total < 2000000 then return 300 end
  return 500
end

-- Effect builders: each returns effects(ctx).
local function multiplier(category)
  return function(ctx)
    local ls = lines_of(ctx, category)
    return ls and { { kind = "points_multiplier", factor = 20000, lines = ls } } or {}
  end
end
local function cheapest(category)
  return function(ctx)
    local ls = lines_of(ctx, category)
    return ls and { { kind = "cheapest", bp = 10000, count = 1, lines = ls } } or {}
  end
end
local function percent_by_amount(ctx)
  return { { kind = "percent", bp = by_amount(ctx), lines = every_line(ctx) } }
end
local function off_receipt(amount)
  return function(ctx)
    return { { kind = "amount", per = "receipt", amount = amount, lines = every_line(ctx) } }
  end
end

local P = {
  abi = 2, id = "bench", name = "Benchmark (hand-written)", version = 1,
  currency = "RUB", minor_unit = 2, time_zone = "Europe/Moscow",
  money_rounding = "half-up", points_rounding = "down",
  groups = { g0 = { policy = "best" } },
  accrual = { basis = "paid", percent = 200, rate = function() return 200 end },
  redemption = { point_value = 100, max_share = 5000, min_balance = 0, step = 1 },
  promotions = {},
}

local function promo(t)
  t.name, t.src, t.enabled, t.stop, t.reward = t.id, "hand-p25.lua", true, false, "discount"
  t.caps = { max_discount = t.cap * 100 }
  P.promotions[#P.promotions + 1] = t
end

-- Line stage, by priority (then document order).
local v18 = valid(10, "fri mon sat tue")
promo { id = "p18", stage = "line", cap = 4089,
  check = function(ctx)
    local f = v18(ctx); if f then return f end
    if not (ctx.total >= 500 or units(ctx, "baths") >= 2) then return 4 end
  end,
  effects = function(ctx)
    local ls = lines_of(ctx, "sinks")
    return ls and { { kind = "buy_get", buy = 2, get = 1, bp = 10000, lines = ls } } or {}
  end }
local v0 = valid(4, "tue sat mon fri")
promo { id = "p0", stage = "line", group = "g0", cap = 2128,
  check = function(ctx)
    local f = v0(ctx); if f then return f end
    if ctx.total < 1400 then return 4 end
    if units(ctx, "baths") < 3 then return 5 end
  end,
  effects = multiplier("taps") }
local v16 = valid(8, "fri sun tue mon")
promo { id = "p16", stage = "line", cap = 3807,
  check = function(ctx)
    local f = v16(ctx); if f then return f end
    if ctx.total < 500 then return 4 end
    if units(ctx, "filters") < 1 then return 5 end
  end,
  effects = percent_by_amount }
local v8 = valid(9, "sun tue fri mon")
promo { id = "p8", stage = "line", cap = 504,
  check = function(ctx)
    local f = v8(ctx); if f then return f end
    if ctx.total < 1000 then return 4 end
    if units(ctx, "tiles") < 1 then return 5 end
  end,
  effects = multiplier("pumps") }
promo { id = "p2", stage = "line", cap = 2075, check = valid(8, "fri mon thu sat"),
  effects = multiplier("tiles") }
local v17 = valid(10, "mon thu fri wed")
promo { id = "p17", stage = "line", cap = 4245,
  check = function(ctx)
    local f = v17(ctx); if f then return f end
    if not (ctx.total >= 1600 or units(ctx, "pipes") >= 2) then return 4 end
  end,
  effects = cheapest("pipes") }
local v15 = valid(1, "tue thu mon sat")
promo { id = "p15", stage = "line", cap = 4941,
  check = function(ctx)
    local f = v15(ctx); if f then return f end
    if ctx.customer == nil then return 4 end
    if not in_segment(ctx, "partner") then return 5 end
    if not (ctx.total >= 1000 or units(ctx, "baths") >= 2) then return 6 end
  end,
  effects = cheapest("taps") }
local v12 = valid(8, "tue fri sun thu")
promo { id = "p12", stage = "line", group = "g0", cap = 1294,
  check = function(ctx)
    local f = v12(ctx); if f then return f end
    if ctx.customer == nil then return 4 end
    if not in_segment(ctx, "partner") then return 5 end
  end,
  effects = cheapest("mixers") }
promo { id = "p20", stage = "line", cap = 2557,
  check = function(ctx)
    if ctx.customer == nil then return 1 end
    if not in_segment(ctx, "vip") then return 2 end
  end,
  effects = multiplier("heating") }
promo { id = "p5", stage = "line", cap = 1670,
  check = function(ctx)
    if ctx.customer == nil then return 1 end
    if not in_segment(ctx, "retail") then return 2 end
    if not (ctx.total >= 1400 or units(ctx, "heating") >= 2) then return 3 end
  end,
  effects = percent_by_amount }
local v23 = valid(6, "sun fri thu tue")
promo { id = "p23", stage = "line", cap = 3872,
  check = function(ctx)
    local f = v23(ctx); if f then return f end
    if ctx.total < 1200 then return 4 end
    if units(ctx, "tools") < 1 then return 5 end
  end,
  effects = cheapest("tiles") }
local v6 = valid(5, "sat fri thu sun")
promo { id = "p6", stage = "line", cap = 3958,
  check = function(ctx)
    local f = v6(ctx); if f then return f end
    if ctx.customer == nil then return 4 end
    if not in_segment(ctx, "retail") then return 5 end
    if ctx.total < 4900 then return 6 end
    if units(ctx, "taps") < 1 then return 7 end
  end,
  effects = cheapest("sinks") }
promo { id = "p21", stage = "line", cap = 1823,
  check = function(ctx)
    if ctx.customer == nil then return 1 end
    if not in_segment(ctx, "partner") then return 2 end
  end,
  effects = percent_by_amount }

-- Receipt stage.
promo { id = "p10", stage = "receipt", group = "g0", cap = 2147,
  check = function(ctx)
    if ctx.customer == nil then return 1 end
    if not in_segment(ctx, "vip") then return 2 end
  end,
  effects = off_receipt(32600) }
local v24 = valid(12, "mon thu sun sat")
promo { id = "p24", stage = "receipt", cap = 2782,
  check = function(ctx)
    local f = v24(ctx); if f then return f end
    if ctx.customer == nil then return 4 end
    if not in_segment(ctx, "partner") then return 5 end
    if ctx.total < 1500 then return 6 end
    if units(ctx, "taps") < 3 then return 7 end
  end,
  effects = off_receipt(21800) }
promo { id = "p19", stage = "receipt", cap = 1773,
  check = function(ctx)
    if not (ctx.total >= 4300 or units(ctx, "mixers") >= 1) then return 1 end
  end,
  effects = off_receipt(10400) }
local v1 = valid(8, "fri wed mon tue")
promo { id = "p1", stage = "receipt", cap = 3440,
  check = function(ctx)
    local f = v1(ctx); if f then return f end
    if ctx.total < 1400 then return 4 end
    if units(ctx, "tiles") < 1 then return 5 end
  end,
  effects = off_receipt(9900) }
local v14 = valid(4, "sun mon thu sat")
promo { id = "p14", stage = "receipt", group = "g0", cap = 3829,
  check = function(ctx)
    local f = v14(ctx); if f then return f end
    if ctx.customer == nil then return 4 end
    if not in_segment(ctx, "vip") then return 5 end
  end,
  effects = off_receipt(13500) }
local v22 = valid(1, "mon sun tue sat")
promo { id = "p22", stage = "receipt", cap = 826,
  check = function(ctx)
    local f = v22(ctx); if f then return f end
    if ctx.total < 2800 then return 4 end
    if units(ctx, "sinks") < 1 then return 5 end
  end,
  effects = off_receipt(45700) }
local v13 = valid(12, "mon sat sun fri")
promo { id = "p13", stage = "receipt", cap = 2058,
  check = function(ctx)
    local f = v13(ctx); if f then return f end
    if ctx.customer == nil then return 4 end
    if not in_segment(ctx, "partner") then return 5 end
  end,
  effects = off_receipt(14800) }
local v4 = valid(5, "sat sun mon tue")
promo { id = "p4", stage = "receipt", group = "g0", cap = 3156,
  check = function(ctx)
    local f = v4(ctx); if f then return f end
    if not (ctx.total >= 2500 or units(ctx, "pipes") >= 3) then return 4 end
  end,
  effects = off_receipt(16200) }
local v9 = valid(6, "sun wed tue mon")
promo { id = "p9", stage = "receipt", cap = 1066,
  check = function(ctx)
    local f = v9(ctx); if f then return f end
    if ctx.customer == nil then return 4 end
    if not in_segment(ctx, "vip") then return 5 end
  end,
  effects = off_receipt(46700) }
local v11 = valid(6, "thu fri sun mon")
promo { id = "p11", stage = "receipt", cap = 1052,
  check = function(ctx)
    local f = v11(ctx); if f then return f end
    if ctx.customer == nil then return 4 end
    if not in_segment(ctx, "retail") then return 5 end
    if ctx.total < 3800 then return 6 end
    if units(ctx, "baths") < 1 then return 7 end
  end,
  effects = off_receipt(16700) }
promo { id = "p3", stage = "receipt", group = "g0", cap = 4214,
  check = function() end,
  effects = off_receipt(19200) }
local v7 = valid(8, "fri wed sun mon")
promo { id = "p7", stage = "receipt", cap = 4216,
  check = function(ctx)
    local f = v7(ctx); if f then return f end
    if not (ctx.total >= 5000 or units(ctx, "tiles") >= 1) then return 4 end
  end,
  effects = off_receipt(13000) }

return P
