-- SPDX-License-Identifier: MIT
-- _tap.lua: helpers of the Lua behaviour tests of compiled programs (not a test itself).
--   local T = dofile((arg[0]:match("^(.*)/") or ".") .. "/_tap.lua")
--   local P = T.load(arg[1])            -- the compiled program, in the runtime's sandbox
--   T.eq(got, want, "name"); T.ok(cond, "name"); T.done()
-- Output is TAP: "ok N - name" / "not ok N - name", then the plan "1..N".
local T = {}
local count, failed = 0, 0

local function show(v, depth)
  depth = depth or 0
  if type(v) == "string" then
    return string.format("%q", v)
  end
  if type(v) ~= "table" then
    return tostring(v)
  end
  if depth > 4 then
    return "{...}"
  end
  local keys = {}
  for k in pairs(v) do
    keys[#keys + 1] = k
  end
  table.sort(keys, function(a, b)
    if type(a) == type(b) and (type(a) == "number" or type(a) == "string") then
      return a < b
    end
    return type(a) < type(b)
  end)
  local parts = {}
  for _, k in ipairs(keys) do
    if type(v[k]) ~= "function" then
      parts[#parts + 1] = (type(k) == "string" and k or "[" .. tostring(k) .. "]") .. "=" .. show(v[k], depth + 1)
    end
  end
  return "{" .. table.concat(parts, ", ") .. "}"
end
T.show = show

local function deep_eq(a, b)
  if type(a) ~= type(b) then
    return false
  end
  if type(a) ~= "table" then
    return a == b and math.type(a) == math.type(b)
  end
  for k, v in pairs(a) do
    if type(v) ~= "function" and not deep_eq(v, b[k]) then
      return false
    end
  end
  for k, v in pairs(b) do
    if type(v) ~= "function" and a[k] == nil then
      return false
    end
  end
  return true
end

function T.ok(cond, name)
  count = count + 1
  if cond then
    print(string.format("ok %d - %s", count, name))
  else
    failed = failed + 1
    print(string.format("not ok %d - %s", count, name))
  end
  return cond
end

-- Compares values deeply (integers must stay integers: 5 ~= 5.0).
function T.eq(got, want, name)
  local ok = deep_eq(got, want)
  T.ok(ok, name)
  if not ok then
    print("#   got:  " .. show(got))
    print("#   want: " .. show(want))
  end
  return ok
end

-- The globals the runtime sandbox provides; anything else is an error, and so is any write
-- of a global.
T.ALLOWED = { "string", "math", "table", "ipairs", "pairs", "type", "tostring", "tonumber" }

function T.sandbox()
  local env = {}
  for _, k in ipairs(T.ALLOWED) do
    env[k] = _G[k]
  end
  return setmetatable(env, {
    __index = function(_, k)
      error("the program read the global `" .. tostring(k) .. "`", 2)
    end,
    __newindex = function(_, k)
      error("the program wrote the global `" .. tostring(k) .. "`", 2)
    end,
  })
end

function T.load(path)
  local f = assert(io.open(path, "rb"))
  local src = f:read("a")
  f:close()
  local chunk = assert(load(src, "=" .. path, "t", T.sandbox()))
  return chunk(), src
end

function T.set(list)
  local s = {}
  for _, k in ipairs(list or {}) do
    s[k] = true
  end
  return s
end

-- A customer with the fields the ABI documents; `o` overrides them.
function T.customer(o)
  o = o or {}
  return {
    id = o.id or "c-1",
    segments = T.set(o.segments),
    tiers = T.set(o.tiers),
    lists = T.set(o.lists),
    attrs = o.attrs or {},
    first_purchase = o.first_purchase or false,
    birthday_distance = o.birthday_distance,
    days_registered = o.days_registered or 1000,
    counters = o.counters or {},
  }
end

function T.line(o)
  local qty = o.qty or 1
  local price = o.price or 10000
  local amount = o.amount or qty * price
  return {
    sku = o.sku or "X",
    category = o.category or "other",
    brand = o.brand or "none",
    attrs = o.attrs or {},
    qty = qty,
    price = price,
    amount = amount,
    current = o.current or amount,
  }
end

-- A receipt context; totals are the sums of the lines unless given.
function T.ctx(o)
  o = o or {}
  local lines = {}
  local total, current = 0, 0
  for i, l in ipairs(o.lines or {}) do
    lines[i] = T.line(l)
    total = total + lines[i].amount
    current = current + lines[i].current
  end
  return {
    date = o.date or 20500,
    weekday = o.weekday or 1,
    minute = o.minute or 600,
    channel = o.channel or "store",
    store = o.store or "s-01",
    region = o.region or "moscow",
    codes = T.set(o.codes),
    customer = o.customer,
    lines = lines,
    total = o.total or total,
    current_total = o.current_total or current,
  }
end

-- Copies a table and applies overrides (a shallow merge; `T.NIL` sets a field to nil).
T.NIL = {}
function T.with(base, over)
  local c = {}
  for k, v in pairs(base) do
    c[k] = v
  end
  for k, v in pairs(over) do
    if v == T.NIL then
      c[k] = nil
    else
      c[k] = v
    end
  end
  return c
end

-- The lines an effect covers, as a list of indexes into ctx.lines: its `lines`, or every line
-- when it has none (program-abi.md "Effects").
function T.lines_of(e, ctx)
  if e.lines ~= nil then
    return e.lines
  end
  local ls = {}
  for i = 1, #ctx.lines do
    ls[i] = i
  end
  return ls
end

-- A per-line field of an effect as a list parallel to T.lines_of: an array as it is, one
-- value repeated for every covered line.
function T.values_of(e, field, ctx)
  local v = e[field]
  if type(v) == "table" then
    return v
  end
  local vs = {}
  for i = 1, #T.lines_of(e, ctx) do
    vs[i] = v
  end
  return vs
end

function T.promotion(P, id)
  for _, p in ipairs(P.promotions) do
    if p.id == id then
      return p
    end
  end
  error("no promotion " .. id)
end

-- The effects of a kind, in order.
function T.effects_of(list, kind)
  local r = {}
  for _, e in ipairs(list) do
    if e.kind == kind then
      r[#r + 1] = e
    end
  end
  return r
end

function T.done()
  print("1.." .. count)
  os.exit(failed == 0 and 0 or 1)
end

return T
