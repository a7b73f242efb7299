// SPDX-License-Identifier: MIT
// kr-engine-ctx.c: the ctx table a program's check/effects/rate functions read
// (program-abi.md "ctx"). One ctx per engine, refilled for each receipt: the line tables, the
// sets and the customer table are cleared and reused, so a warm engine allocates little more
// than the strings of the receipt.
//
// Field names are pushed from the interned keys (KR__KEY, kr-engine-private.h), never as C
// strings: this file runs on every receipt and writes about ten fields per line. Tables are
// still written with lua_settable (not raw), exactly as lua_setfield did.
#include "kr-engine-private.h"

#include "kr-input.h" // kr_days_from_civil, kr_civil_from_days

#include <lauxlib.h>
#include <stdlib.h>

// Removes every key of the table at t (assigning nil to existing keys during a traversal is
// allowed by lua_next's contract).
static void clear_table(lua_State *L, int t)
{
    lua_pushnil(L);
    while (lua_next(L, t)) {
        lua_pop(L, 1);
        lua_pushvalue(L, -1);
        lua_pushnil(L);
        lua_rawset(L, t);
    }
}

// The one empty table that stands for every empty set and map of ctx (most lines have no
// attributes, most receipts no codes): assigning it costs one table write, clearing a table
// of its own a traversal. Programs only read ctx (program-abi.md "Pure"); a write into this
// table, which all of them share, raises an error instead of leaking into other lines.
static int empty_is_read_only(lua_State *L)
{
    return luaL_error(L, "ctx tables are read-only (program-abi.md)");
}

static const char empty_key; // its registry key (per state: the address is only a name)

// Pushes the shared empty table, created on first use. `rawset` passes the metatable, so a
// program could still fill it: then it is emptied here, once per receipt, and what one receipt
// wrote never reaches the next (as with the tables of ctx that are cleared and refilled).
static void push_empty(kr_engine *e)
{
    lua_State *L = e->L;
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &empty_key) == LUA_TTABLE) {
        lua_pushnil(L);
        if (lua_next(L, -2)) {
            lua_pop(L, 2);
            clear_table(L, lua_gettop(L));
        }
        return;
    }
    lua_pop(L, 1);
    lua_createtable(L, 0, 0);
    lua_createtable(L, 0, 2); // its metatable
    lua_pushcfunction(L, empty_is_read_only);
    lua_setfield(L, -2, "__newindex");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &empty_key);
}

// Pushes t[key] emptied, ready to fill: the table already there when it is one of t's own,
// else a new one. `key` is a KR__KEY index; t is an absolute index.
static void reuse_table(kr_engine *e, int t, int key)
{
    lua_State *L = e->L;
    lua_pushvalue(L, key);
    if (lua_rawget(L, t) == LUA_TTABLE) {
        if (!lua_getmetatable(L, -1)) { // one of t's own
            clear_table(L, lua_gettop(L));
            return;
        }
        lua_pop(L, 1); // the shared empty table's metatable
    }
    lua_pop(L, 1);
    lua_createtable(L, 0, 4);
    lua_pushvalue(L, key);
    lua_pushvalue(L, -2);
    lua_rawset(L, t);
}

// t[key] = the shared empty table.
static void set_empty(kr_engine *e, int t, int key)
{
    lua_State *L = e->L;
    lua_pushvalue(L, key);
    lua_pushvalue(L, e->ctx_empty);
    lua_rawset(L, t);
}

// t[key] = v (nil when v is NULL); t is an absolute index.
static void set_str(lua_State *L, int t, int key, const char *v)
{
    lua_pushvalue(L, key);
    if (v)
        lua_pushstring(L, v);
    else
        lua_pushnil(L);
    lua_settable(L, t);
}

static void set_int(lua_State *L, int t, int key, int64_t v)
{
    lua_pushvalue(L, key);
    lua_pushinteger(L, (lua_Integer)v);
    lua_settable(L, t);
}

// t[key] = {name=true, ...}
static void set_of(kr_engine *e, int t, int key, const char *const *names, size_t n)
{
    lua_State *L = e->L;
    if (n == 0) {
        set_empty(e, t, key);
        return;
    }
    reuse_table(e, t, key);
    for (size_t i = 0; i < n; i++) {
        if (!names[i])
            continue;
        lua_pushboolean(L, 1);
        lua_setfield(L, -2, names[i]);
    }
    lua_pop(L, 1);
}

static void map_of(kr_engine *e, int t, int key, const kr_engine_kv *kv, size_t n)
{
    lua_State *L = e->L;
    if (n == 0) {
        set_empty(e, t, key);
        return;
    }
    reuse_table(e, t, key);
    for (size_t i = 0; i < n; i++) {
        if (!kv[i].key || !kv[i].value)
            continue;
        lua_pushstring(L, kv[i].value);
        lua_setfield(L, -2, kv[i].key);
    }
    lua_pop(L, 1);
}

// Days from `today` to the nearest birthday (either side); 29 February counts as 28 February
// in other years.
static int64_t birthday_distance(int64_t today, unsigned month, unsigned day)
{
    int64_t y;
    unsigned m, d;
    kr_civil_from_days(today, &y, &m, &d);
    int64_t best = INT64_MAX;
    for (int64_t yy = y - 1; yy <= y + 1; yy++) {
        unsigned dd = day;
        bool leap = (yy % 4 == 0 && yy % 100 != 0) || yy % 400 == 0;
        if (month == 2 && day == 29 && !leap)
            dd = 28;
        int64_t dist = kr_days_from_civil(yy, month, dd) - today;
        if (dist < 0)
            dist = -dist;
        if (dist < best)
            best = dist;
    }
    return best;
}

static void build_customer(kr_engine *e, int ctx, const kr_engine_customer *c, int64_t today)
{
    lua_State *L = e->L;
    if (!c) {
        set_str(L, ctx, KR__KEY(customer), NULL);
        return;
    }
    if (e->customer_ref == LUA_NOREF) {
        lua_createtable(L, 0, 10);
        e->customer_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    lua_pushvalue(L, KR__KEY(customer));
    lua_rawgeti(L, LUA_REGISTRYINDEX, e->customer_ref);
    int t = lua_gettop(L);
    set_str(L, t, KR__KEY(id), c->id);
    set_of(e, t, KR__KEY(segments), c->segments, c->n_segments);
    set_of(e, t, KR__KEY(tiers), c->tiers, c->n_tiers);
    set_of(e, t, KR__KEY(lists), c->lists, c->n_lists);
    map_of(e, t, KR__KEY(attrs), c->attrs, c->n_attrs);
    lua_pushvalue(L, KR__KEY(first_purchase));
    lua_pushboolean(L, c->first_purchase);
    lua_settable(L, t);
    if (c->birth_month >= 1 && c->birth_month <= 12 && c->birth_day >= 1 && c->birth_day <= 31)
        set_int(L, t, KR__KEY(birthday_distance),
                birthday_distance(today, c->birth_month, c->birth_day));
    else
        set_str(L, t, KR__KEY(birthday_distance), NULL);
    if (c->has_registered) {
        int64_t rdays;
        int wd, min;
        kr_time_local(e->tz, c->registered, &rdays, &wd, &min);
        set_int(L, t, KR__KEY(days_registered), today - rdays);
    } else {
        set_str(L, t, KR__KEY(days_registered), NULL);
    }
    if (c->n_counters == 0)
        set_empty(e, t, KR__KEY(counters));
    else
        reuse_table(e, t, KR__KEY(counters));
    for (size_t i = 0; i < c->n_counters; i++) {
        if (!c->counters[i].key)
            continue;
        lua_pushinteger(L, (lua_Integer)c->counters[i].value);
        lua_setfield(L, -2, c->counters[i].key);
    }
    if (c->n_counters != 0)
        lua_pop(L, 1);
    lua_settable(L, ctx); // ctx.customer = the customer table
}

void kr__ctx_build(kr_engine *e, const kr_engine_receipt *rc)
{
    lua_State *L = e->L;
    if (e->ctx_ref == LUA_NOREF) {
        lua_createtable(L, 0, 16);
        lua_pushvalue(L, KR__KEY(lines));
        lua_createtable(L, 64, 0);
        lua_rawset(L, -3);
        lua_createtable(L, 64, 0); // the pool of line tables, kept across receipts
        lua_rawsetp(L, LUA_REGISTRYINDEX, &e->ctx_lines);
        e->ctx_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    push_empty(e);
    e->ctx_empty = lua_gettop(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, e->ctx_ref);
    int ctx = lua_gettop(L);

    int64_t days;
    int weekday, minute;
    kr_time_local(e->tz, rc->time, &days, &weekday, &minute);
    e->ctx_date = days;
    e->ctx_weekday = weekday;
    set_int(L, ctx, KR__KEY(date), days);
    set_int(L, ctx, KR__KEY(weekday), weekday);
    set_int(L, ctx, KR__KEY(minute), minute);
    set_str(L, ctx, KR__KEY(channel), rc->channel);
    set_str(L, ctx, KR__KEY(store), rc->store);
    set_str(L, ctx, KR__KEY(region), rc->region);
    set_of(e, ctx, KR__KEY(codes), rc->codes, rc->n_codes);
    build_customer(e, ctx, rc->customer, days);

    lua_pushvalue(L, KR__KEY(lines));
    lua_gettable(L, ctx);
    int lines = lua_gettop(L);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &e->ctx_lines);
    int pool = lua_gettop(L);
    int64_t total = 0;
    for (size_t i = 0; i < rc->n_lines; i++) {
        const kr_engine_line *ln = &rc->lines[i];
        lua_Integer k = (lua_Integer)i + 1;
        if (lua_rawgeti(L, pool, k) != LUA_TTABLE) {
            lua_pop(L, 1);
            lua_createtable(L, 0, 10);
            lua_pushvalue(L, -1);
            lua_rawseti(L, pool, k);
        }
        int t = lua_gettop(L);
        set_str(L, t, KR__KEY(sku), ln->sku);
        set_str(L, t, KR__KEY(category), ln->category);
        set_str(L, t, KR__KEY(brand), ln->brand);
        map_of(e, t, KR__KEY(attrs), ln->attrs, ln->n_attrs);
        set_int(L, t, KR__KEY(qty), ln->qty);
        set_int(L, t, KR__KEY(price), ln->price);
        set_int(L, t, KR__KEY(amount), ln->amount);
        set_int(L, t, KR__KEY(current), ln->amount);
        lua_rawseti(L, lines, k);
        total += ln->amount;
    }
    for (size_t i = rc->n_lines; i < e->ctx_lines; i++) {
        lua_pushnil(L);
        lua_rawseti(L, lines, (lua_Integer)i + 1);
    }
    e->ctx_lines = rc->n_lines;
    lua_pop(L, 2);
    set_int(L, ctx, KR__KEY(total), total);
    set_int(L, ctx, KR__KEY(current_total), total);
    lua_remove(L, e->ctx_empty); // ctx is left on top
}

void kr__ctx_set_current(kr_engine *e, int ctx, const int64_t *cur, size_t n)
{
    lua_State *L = e->L;
    lua_pushvalue(L, KR__KEY(lines));
    lua_gettable(L, ctx);
    int lines = lua_gettop(L);
    int64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        lua_rawgeti(L, lines, (lua_Integer)i + 1);
        set_int(L, lines + 1, KR__KEY(current), cur[i]);
        lua_pop(L, 1);
        total += cur[i];
    }
    lua_pop(L, 1);
    set_int(L, ctx, KR__KEY(current_total), total);
}
