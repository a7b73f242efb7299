// SPDX-License-Identifier: MIT
// kr-engine-ctx.c: the ctx table a program's check/effects/rate functions read
// (program-abi.md "ctx"). One ctx per engine, refilled for each receipt: the line tables, the
// sets and the customer table are cleared and reused, so a warm engine allocates little more
// than the strings of the receipt.
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

// Pushes t[k] emptied, creating it when it is not a table.
static void reuse_table(lua_State *L, int t, const char *k)
{
    lua_pushstring(L, k);
    if (lua_rawget(L, t) == LUA_TTABLE) {
        clear_table(L, lua_gettop(L));
        return;
    }
    lua_pop(L, 1);
    lua_createtable(L, 0, 4);
    lua_pushstring(L, k);
    lua_pushvalue(L, -2);
    lua_rawset(L, t);
}

static void set_str(lua_State *L, int t, const char *k, const char *v)
{
    if (v)
        lua_pushstring(L, v);
    else
        lua_pushnil(L);
    lua_setfield(L, t, k);
}

static void set_int(lua_State *L, int t, const char *k, int64_t v)
{
    lua_pushinteger(L, (lua_Integer)v);
    lua_setfield(L, t, k);
}

// t[k] = {name=true, ...}
static void set_of(lua_State *L, int t, const char *k, const char *const *names, size_t n)
{
    reuse_table(L, t, k);
    for (size_t i = 0; i < n; i++) {
        if (!names[i])
            continue;
        lua_pushboolean(L, 1);
        lua_setfield(L, -2, names[i]);
    }
    lua_pop(L, 1);
}

static void map_of(lua_State *L, int t, const char *k, const kr_engine_kv *kv, size_t n)
{
    reuse_table(L, t, k);
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
        lua_pushnil(L);
        lua_setfield(L, ctx, "customer");
        return;
    }
    if (e->customer_ref == LUA_NOREF) {
        lua_createtable(L, 0, 10);
        e->customer_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, e->customer_ref);
    int t = lua_gettop(L);
    set_str(L, t, "id", c->id);
    set_of(L, t, "segments", c->segments, c->n_segments);
    set_of(L, t, "tiers", c->tiers, c->n_tiers);
    set_of(L, t, "lists", c->lists, c->n_lists);
    map_of(L, t, "attrs", c->attrs, c->n_attrs);
    lua_pushboolean(L, c->first_purchase);
    lua_setfield(L, t, "first_purchase");
    if (c->birth_month >= 1 && c->birth_month <= 12 && c->birth_day >= 1 && c->birth_day <= 31)
        set_int(L, t, "birthday_distance", birthday_distance(today, c->birth_month, c->birth_day));
    else
        set_str(L, t, "birthday_distance", NULL);
    if (c->has_registered) {
        int64_t rdays;
        int wd, min;
        kr_time_local(e->tz, c->registered, &rdays, &wd, &min);
        set_int(L, t, "days_registered", today - rdays);
    } else {
        set_str(L, t, "days_registered", NULL);
    }
    reuse_table(L, t, "counters");
    for (size_t i = 0; i < c->n_counters; i++) {
        if (!c->counters[i].key)
            continue;
        lua_pushinteger(L, (lua_Integer)c->counters[i].value);
        lua_setfield(L, -2, c->counters[i].key);
    }
    lua_pop(L, 1);
    lua_setfield(L, ctx, "customer");
}

void kr__ctx_build(kr_engine *e, const kr_engine_receipt *rc)
{
    lua_State *L = e->L;
    if (e->ctx_ref == LUA_NOREF) {
        lua_createtable(L, 0, 16);
        lua_createtable(L, 64, 0);
        lua_setfield(L, -2, "lines");
        lua_createtable(L, 64, 0); // the pool of line tables, kept across receipts
        lua_rawsetp(L, LUA_REGISTRYINDEX, &e->ctx_lines);
        e->ctx_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, e->ctx_ref);
    int ctx = lua_gettop(L);

    int64_t days;
    int weekday, minute;
    kr_time_local(e->tz, rc->time, &days, &weekday, &minute);
    set_int(L, ctx, "date", days);
    set_int(L, ctx, "weekday", weekday);
    set_int(L, ctx, "minute", minute);
    set_str(L, ctx, "channel", rc->channel);
    set_str(L, ctx, "store", rc->store);
    set_str(L, ctx, "region", rc->region);
    set_of(L, ctx, "codes", rc->codes, rc->n_codes);
    build_customer(e, ctx, rc->customer, days);

    lua_getfield(L, ctx, "lines");
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
        set_int(L, t, "index", (int64_t)k);
        set_str(L, t, "id", ln->id);
        set_str(L, t, "sku", ln->sku);
        set_str(L, t, "category", ln->category);
        set_str(L, t, "brand", ln->brand);
        map_of(L, t, "attrs", ln->attrs, ln->n_attrs);
        set_int(L, t, "qty", ln->qty);
        set_int(L, t, "price", ln->price);
        set_int(L, t, "amount", ln->amount);
        set_int(L, t, "current", ln->amount);
        lua_rawseti(L, lines, k);
        total += ln->amount;
    }
    for (size_t i = rc->n_lines; i < e->ctx_lines; i++) {
        lua_pushnil(L);
        lua_rawseti(L, lines, (lua_Integer)i + 1);
    }
    e->ctx_lines = rc->n_lines;
    lua_pop(L, 2);
    set_int(L, ctx, "total", total);
    set_int(L, ctx, "current_total", total);
}

void kr__ctx_set_current(kr_engine *e, int ctx, const int64_t *cur, size_t n)
{
    lua_State *L = e->L;
    lua_getfield(L, ctx, "lines");
    int64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        lua_rawgeti(L, -1, (lua_Integer)i + 1);
        set_int(L, lua_gettop(L), "current", cur[i]);
        lua_pop(L, 1);
        total += cur[i];
    }
    lua_pop(L, 1);
    set_int(L, ctx, "current_total", total);
}
