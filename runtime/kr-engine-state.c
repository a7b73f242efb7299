// SPDX-License-Identifier: MIT
// kr-engine-state.c: the sandbox — a capped allocator, an instruction budget, one protected
// call with a traceback, loading a compiled program (text only) and reading its metadata.
#include "kr-engine-private.h"

#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { HOOK_STEP = 1000 };
#define DEFAULT_MEMORY ((size_t)64 << 20)
#define DEFAULT_INSTRUCTIONS INT64_C(10000000)
#define DEFAULT_DEADLINE_MS  20

const char *kr_engine_status_name(kr_engine_status s)
{
    switch (s) {
    case KR_ENGINE_OK: return "ok";
    case KR_ENGINE_INVALID: return "invalid";
    case KR_ENGINE_PROGRAM: return "program";
    case KR_ENGINE_RUNTIME: return "runtime";
    case KR_ENGINE_BUDGET: return "budget";
    case KR_ENGINE_MEMORY: return "memory";
    case KR_ENGINE_NOSPACE: return "nospace";
    }
    return "unknown";
}

// ---- allocator and budget ----------------------------------------------------------------------
// Every byte of the Lua heap goes through here; past the cap the allocation fails, Lua runs
// an emergency collection, and if that does not help raises a memory error. The cap counts the
// bytes Lua asks for.
//
// Small blocks come from a pool of the engine's own. An evaluation allocates and frees some
// ninety blocks, nearly all under 256 bytes (the tables `effects` returns, their array and hash
// parts, receipt strings), and glibc's malloc/free/realloc took about a tenth of the time of a
// receipt; a free list per 16-byte size class, refilled from 64 KiB chunks, takes a few
// instructions. Lua passes the size of the block to every free and realloc (lua_Alloc's
// contract), so blocks carry no header. The pool keeps what it was given until
// kr_engine_close: at most the largest Lua heap seen, which the cap bounds.
enum { POOL_CHUNK = 64 << 10 };

static size_t pool_class(size_t n) { return (n + KR__POOL_GRAIN - 1) / KR__POOL_GRAIN; }

static void *pool_get(kr_engine *e, size_t cls)
{
    void *p = e->pool_free[cls];
    if (p) {
        e->pool_free[cls] = *(void **)p;
        return p;
    }
    size_t size = cls * KR__POOL_GRAIN;
    if ((size_t)(e->pool_end - e->pool_next) < size) {
        // A new chunk; the few bytes left in the old one are not worth keeping. The first
        // grain links the chunks for kr_engine_close (and keeps blocks 16-byte aligned).
        char *chunk = malloc(POOL_CHUNK);
        if (!chunk)
            return NULL;
        *(void **)chunk = e->pool_chunks;
        e->pool_chunks = chunk;
        e->pool_next = chunk + KR__POOL_GRAIN;
        e->pool_end = chunk + POOL_CHUNK;
    }
    p = e->pool_next;
    e->pool_next += size;
    return p;
}

static void pool_put(kr_engine *e, void *p, size_t cls)
{
    *(void **)p = e->pool_free[cls];
    e->pool_free[cls] = p;
}

// Frees a block of `size` bytes, from the pool or from libc by its size.
static void block_free(kr_engine *e, void *p, size_t size)
{
    if (size <= KR__POOL_MAX)
        pool_put(e, p, pool_class(size));
    else
        free(p);
}

static void *sandbox_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    kr_engine *e = ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        if (ptr)
            block_free(e, ptr, old);
        e->mem_used -= old;
        return NULL;
    }
    if (nsize > old && e->mem_used - old + nsize > e->mem_cap)
        return NULL;
    void *p;
    if (ptr && old <= KR__POOL_MAX && nsize <= KR__POOL_MAX &&
        pool_class(old) == pool_class(nsize)) {
        p = ptr; // the block already has room
    } else if (ptr && old > KR__POOL_MAX && nsize > KR__POOL_MAX) {
        p = realloc(ptr, nsize);
        if (!p)
            return NULL;
    } else {
        p = nsize <= KR__POOL_MAX ? pool_get(e, pool_class(nsize)) : malloc(nsize);
        if (!p)
            return NULL;
        if (ptr) {
            memcpy(p, ptr, old < nsize ? old : nsize);
            block_free(e, ptr, old);
        }
    }
    e->mem_used = e->mem_used - old + nsize;
    return p;
}

static kr_engine *engine_of(lua_State *L)
{
    void *ud;
    lua_getallocf(L, &ud);
    return ud;
}

// Once the budget is spent the hook fires on every instruction, so a program that catches
// the error with pcall meets it again at once.
static void budget_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    kr_engine *e = engine_of(L);
    e->budget_left -= e->budget_hit ? 1 : HOOK_STEP;
    if (e->budget_left <= 0) {
        if (!e->budget_hit) {
            e->budget_hit = true;
            lua_sethook(L, budget_hook, LUA_MASKCOUNT, 1);
        }
        luaL_error(L, "instruction budget of %I exhausted", (lua_Integer)e->instructions);
    }
}

void kr__budget_arm(kr_engine *e)
{
    lua_sethook(e->L, budget_hook, LUA_MASKCOUNT, HOOK_STEP);
}

void kr__budget_start(kr_engine *e, bool now)
{
    e->budget_left = e->instructions;
    e->budget_hit = false;
    if (now || !e->watched)
        kr__budget_arm(e);
}

// ---- protected calls ---------------------------------------------------------------------------
static int msghandler(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    if (!msg)
        msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    luaL_traceback(L, L, msg, 1);
    return 1;
}

kr_engine_status kr__pcall(kr_engine *e, int nargs, int nres, char *err, size_t errsz)
{
    lua_State *L = e->L;
    int base = lua_gettop(L) - nargs;
    lua_pushcfunction(L, msghandler);
    lua_insert(L, base);
    int st = lua_pcall(L, nargs, nres, base);
    lua_remove(L, base);
    if (st == LUA_OK)
        return KR_ENGINE_OK;
    kr_engine_status ks = e->budget_hit     ? KR_ENGINE_BUDGET
                          : st == LUA_ERRMEM ? KR_ENGINE_MEMORY
                                             : KR_ENGINE_RUNTIME;
    const char *msg = lua_tostring(L, -1);
    if (!msg)
        msg = "error without a message";
    if (e->what_promo != SIZE_MAX && e->what_promo < e->n_promos)
        snprintf(err, errsz, "promotion %s (%s): %s", e->promos[e->what_promo].id,
                 e->promos[e->what_promo].src, msg);
    else
        snprintf(err, errsz, "%s: %s", e->what_label ? e->what_label : e->name, msg);
    lua_pop(L, 1);
    return ks;
}

// ---- sandbox -----------------------------------------------------------------------------------
static int open_sandbox(lua_State *L)
{
    static const luaL_Reg libs[] = {
        {LUA_GNAME, luaopen_base},     {LUA_STRLIBNAME, luaopen_string},
        {LUA_TABLIBNAME, luaopen_table}, {LUA_MATHLIBNAME, luaopen_math},
        {LUA_UTF8LIBNAME, luaopen_utf8}, {NULL, NULL},
    };
    for (const luaL_Reg *l = libs; l->name; l++) {
        luaL_requiref(L, l->name, l->func, 1);
        lua_pop(L, 1);
    }
    // Base without the ways out (loading code, files, the collector, output).
    static const char *const banned[] = {"load", "loadfile", "dofile", "require",
                                         "collectgarbage", "print", "warn", NULL};
    lua_pushglobaltable(L);
    for (const char *const *b = banned; *b; b++) {
        lua_pushnil(L);
        lua_setfield(L, -2, *b);
    }
    lua_pop(L, 1);
    lua_getglobal(L, LUA_MATHLIBNAME);
    lua_pushnil(L);
    lua_setfield(L, -2, "random");
    lua_pushnil(L);
    lua_setfield(L, -2, "randomseed");
    lua_pop(L, 1);
    lua_getglobal(L, LUA_STRLIBNAME);
    lua_pushnil(L);
    lua_setfield(L, -2, "dump");
    lua_pop(L, 1);
    return 0;
}

// ---- metadata ----------------------------------------------------------------------------------
// Readers of P's fields. They run inside the protected call of kr_engine_open and raise a Lua
// error naming the field ("P.promotions[2].caps.max_discount: expected an integer").
static char *dup_or_raise(lua_State *L, const char *s)
{
    char *d = strdup(s);
    if (!d)
        luaL_error(L, "out of memory");
    return d;
}

static int64_t get_int(lua_State *L, int t, const char *k, bool req, int64_t dflt,
                       const char *path)
{
    lua_getfield(L, t, k);
    int64_t v = dflt;
    if (lua_isinteger(L, -1))
        v = (int64_t)lua_tointeger(L, -1);
    else if (!lua_isnil(L, -1) || req)
        luaL_error(L, "%s.%s: expected an integer", path, k);
    lua_pop(L, 1);
    return v;
}

static const char *get_str(lua_State *L, int t, const char *k, bool req, const char *path)
{
    lua_getfield(L, t, k);
    const char *v = NULL;
    if (lua_type(L, -1) == LUA_TSTRING)
        v = lua_tostring(L, -1); // still referenced by P, so safe after the pop
    else if (!lua_isnil(L, -1) || req)
        luaL_error(L, "%s.%s: expected a string", path, k);
    lua_pop(L, 1);
    return v;
}

static bool get_bool(lua_State *L, int t, const char *k, bool dflt, const char *path)
{
    lua_getfield(L, t, k);
    bool v = dflt;
    if (lua_isboolean(L, -1))
        v = lua_toboolean(L, -1);
    else if (!lua_isnil(L, -1))
        luaL_error(L, "%s.%s: expected a boolean", path, k);
    lua_pop(L, 1);
    return v;
}

// Pushes field k, which must be a table (or nil when !req: returns false, nothing pushed).
static bool get_table(lua_State *L, int t, const char *k, bool req, const char *path)
{
    lua_getfield(L, t, k);
    if (lua_istable(L, -1))
        return true;
    if (!lua_isnil(L, -1) || req)
        luaL_error(L, "%s.%s: expected a table", path, k);
    lua_pop(L, 1);
    return false;
}

static int get_func_ref(lua_State *L, int t, const char *k, bool req, const char *path)
{
    lua_getfield(L, t, k);
    if (lua_isfunction(L, -1))
        return luaL_ref(L, LUA_REGISTRYINDEX);
    if (!lua_isnil(L, -1) || req)
        luaL_error(L, "%s.%s: expected a function", path, k);
    lua_pop(L, 1);
    return LUA_NOREF;
}

static kr_money_rounding rounding_of(lua_State *L, const char *s, const char *path)
{
    kr_money_rounding r;
    if (!kr_money_rounding_parse(s, &r))
        luaL_error(L, "%s: unknown rounding \"%s\"", path, s);
    return r;
}

static size_t group_index(lua_State *L, kr_engine *e, int P, const char *gid, const char *path)
{
    for (size_t g = 0; g < e->n_groups; g++)
        if (strcmp(e->groups[g].id, gid) == 0)
            return g;
    if (!get_table(L, P, "groups", true, "P"))
        return 0;
    lua_getfield(L, -1, gid);
    if (!lua_istable(L, -1))
        luaL_error(L, "%s.group: \"%s\" is not in P.groups", path, gid);
    const char *pol = get_str(L, lua_gettop(L), "policy", true, "P.groups[...]");
    if (strcmp(pol, "best") != 0 && strcmp(pol, "priority") != 0)
        luaL_error(L, "P.groups.%s.policy: expected \"best\" or \"priority\"", gid);
    kr__group *ng = realloc(e->groups, (e->n_groups + 1) * sizeof *ng);
    if (!ng)
        luaL_error(L, "out of memory");
    e->groups = ng;
    ng[e->n_groups].id = dup_or_raise(L, gid);
    ng[e->n_groups].best = strcmp(pol, "best") == 0;
    lua_pop(L, 2);
    return e->n_groups++;
}

static void read_promotion(lua_State *L, kr_engine *e, int P, int t, size_t i)
{
    char path[64];
    snprintf(path, sizeof path, "P.promotions[%zu]", i + 1);
    kr__promo *p = &e->promos[i];
    p->id = dup_or_raise(L, get_str(L, t, "id", true, path));
    p->name = dup_or_raise(L, get_str(L, t, "name", true, path));
    p->src = dup_or_raise(L, get_str(L, t, "src", true, path));
    const char *stage = get_str(L, t, "stage", true, path);
    if (strcmp(stage, "line") == 0)
        p->stage = KR__STAGE_LINE;
    else if (strcmp(stage, "receipt") == 0)
        p->stage = KR__STAGE_RECEIPT;
    else
        luaL_error(L, "%s.stage: expected \"line\" or \"receipt\"", path);
    if (i > 0 && p->stage < e->promos[i - 1].stage)
        luaL_error(L, "%s: a line promotion after a receipt one (evaluation order)", path);
    const char *gid = get_str(L, t, "group", false, path);
    p->group = gid ? (int)group_index(L, e, P, gid, path) : -1;
    p->stop = get_bool(L, t, "stop", false, path);
    p->enabled = get_bool(L, t, "enabled", true, path);
    const char *reward = get_str(L, t, "reward", false, path);
    if (!reward || strcmp(reward, "discount") == 0)
        p->reward = KR__REWARD_DISCOUNT;
    else if (strcmp(reward, "points") == 0)
        p->reward = KR__REWARD_POINTS;
    else if (strcmp(reward, "choice") == 0)
        p->reward = KR__REWARD_CHOICE;
    else
        luaL_error(L, "%s.reward: expected \"discount\", \"points\" or \"choice\"", path);
    p->max_discount = p->max_line_share = p->price_floor = -1;
    if (get_table(L, t, "caps", false, path)) {
        int c = lua_gettop(L);
        p->max_discount = get_int(L, c, "max_discount", false, -1, path);
        p->max_line_share = get_int(L, c, "max_line_share", false, -1, path);
        p->price_floor = get_int(L, c, "price_floor", false, -1, path);
        lua_pop(L, 1);
    }
    if (get_table(L, t, "conditions", false, path)) {
        int c = lua_gettop(L);
        size_t n = (size_t)lua_rawlen(L, c);
        p->cond_text = calloc(n ? n : 1, sizeof *p->cond_text);
        p->cond_src = calloc(n ? n : 1, sizeof *p->cond_src);
        if (!p->cond_text || !p->cond_src)
            luaL_error(L, "out of memory");
        for (size_t k = 0; k < n; k++) {
            lua_rawgeti(L, c, (lua_Integer)k + 1);
            if (!lua_istable(L, -1))
                luaL_error(L, "%s.conditions[%d]: expected a table", path, (int)k + 1);
            p->cond_text[k] = dup_or_raise(L, get_str(L, lua_gettop(L), "text", true, path));
            p->cond_src[k] = dup_or_raise(L, get_str(L, lua_gettop(L), "src", true, path));
            p->n_conds = k + 1;
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
    p->win_from = p->win_to = -1;
    p->win_days = 0;
    if (get_table(L, t, "window", false, path)) {
        int w = lua_gettop(L);
        char wpath[80];
        snprintf(wpath, sizeof wpath, "%s.window", path);
        p->win_from = get_int(L, w, "from", false, -1, wpath);
        p->win_to = get_int(L, w, "to", false, -1, wpath);
        p->win_days = get_int(L, w, "days", false, 0, wpath);
        if (p->win_days < 0 || p->win_days > 0x7f)
            luaL_error(L, "%s.days: expected a weekday mask 0..0x7f", wpath);
        lua_pop(L, 1);
    }
    p->check_ref = get_func_ref(L, t, "check", true, path);
    p->effects_ref = get_func_ref(L, t, "effects", true, path);
}

// The protected body of kr_engine_open: P is at index 1.
static int read_program(lua_State *L)
{
    kr_engine *e = engine_of(L);
    const int P = 1;
    if (!lua_istable(L, P))
        return luaL_error(L, "the chunk must return a table (program-abi.md)");
    if (get_int(L, P, "abi", true, 0, "P") != 2)
        return luaL_error(
            L, "P.abi: this runtime reads ABI 2 (compile the program again with this kopilkac)");
    e->program_id = dup_or_raise(L, get_str(L, P, "id", true, "P"));
    e->version = get_int(L, P, "version", false, 0, "P");
    int64_t mu = get_int(L, P, "minor_unit", false, 2, "P");
    if (mu < 0 || mu > 4)
        return luaL_error(L, "P.minor_unit: expected 0..4");
    e->minor_unit = (int)mu;
    const char *mr = get_str(L, P, "money_rounding", false, "P");
    e->money_rounding = rounding_of(L, mr ? mr : "half-up", "P.money_rounding");
    const char *pr = get_str(L, P, "points_rounding", false, "P");
    e->points_rounding = rounding_of(L, pr ? pr : "down", "P.points_rounding");
    const char *tzname = get_str(L, P, "time_zone", true, "P");
    char why[256];
    e->tz = kr_time_zone_load(tzname, why, sizeof why);
    if (!e->tz)
        return luaL_error(L, "P.time_zone: %s", why);

    if (get_table(L, P, "promotions", false, "P")) {
        int t = lua_gettop(L);
        size_t n = (size_t)lua_rawlen(L, t);
        e->promos = calloc(n ? n : 1, sizeof *e->promos);
        if (!e->promos)
            return luaL_error(L, "out of memory");
        for (size_t i = 0; i < n; i++) {
            lua_rawgeti(L, t, (lua_Integer)i + 1);
            if (!lua_istable(L, -1))
                return luaL_error(L, "P.promotions[%d]: expected a table", (int)i + 1);
            e->promos[i].check_ref = e->promos[i].effects_ref = LUA_NOREF;
            e->n_promos = i + 1;
            read_promotion(L, e, P, lua_gettop(L), i);
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
    if (get_table(L, P, "accrual", false, "P")) {
        int t = lua_gettop(L);
        const char *basis = get_str(L, t, "basis", false, "P.accrual");
        e->accrual_total = basis && strcmp(basis, "total") == 0;
        const char *src = get_str(L, t, "src", false, "P.accrual");
        e->accrual_src = dup_or_raise(L, src ? src : "");
        e->accrual_rate_ref = get_func_ref(L, t, "rate", true, "P.accrual");
        e->has_accrual = true;
        lua_pop(L, 1);
    }
    if (get_table(L, P, "redemption", false, "P")) {
        int t = lua_gettop(L);
        e->point_value = get_int(L, t, "point_value", true, 0, "P.redemption");
        e->max_share = get_int(L, t, "max_share", false, 10000, "P.redemption");
        e->min_balance = get_int(L, t, "min_balance", false, 0, "P.redemption");
        e->step = get_int(L, t, "step", false, 1, "P.redemption");
        e->min_receipt = get_int(L, t, "min_receipt", false, 0, "P.redemption");
        if (e->point_value <= 0 || e->max_share < 0 || e->max_share > 10000 || e->step <= 0 ||
            e->min_balance < 0 || e->min_receipt < 0)
            return luaL_error(L, "P.redemption: a value is out of range");
        e->eligible_ref = get_func_ref(L, t, "eligible", false, "P.redemption");
        e->has_redemption = true;
        lua_pop(L, 1);
    }
    kr__calc_closure(e);
    return 0;
}

kr_engine_status kr_engine_open(const char *lua_text, size_t len, const char *name,
                                const kr_engine_limits *limits, kr_engine **out, char *err,
                                size_t errsz)
{
    char dummy[1];
    if (!err || errsz == 0) {
        err = dummy;
        errsz = sizeof dummy;
    }
    err[0] = '\0';
    *out = NULL;
    if (!lua_text || !name) {
        snprintf(err, errsz, "kr_engine_open: program text and name are required");
        return KR_ENGINE_INVALID;
    }
    kr_engine *e = calloc(1, sizeof *e);
    if (!e) {
        snprintf(err, errsz, "out of memory");
        return KR_ENGINE_MEMORY;
    }
    e->mem_cap = limits && limits->memory_bytes ? limits->memory_bytes : DEFAULT_MEMORY;
    e->instructions = limits && limits->instructions > 0 ? limits->instructions
                                                         : DEFAULT_INSTRUCTIONS;
    int64_t deadline =
        limits && limits->deadline_ms > 0 ? limits->deadline_ms : DEFAULT_DEADLINE_MS;
    e->deadline_ticks = (deadline + KR__WATCH_TICK_MS - 1) / KR__WATCH_TICK_MS;
    e->what_promo = SIZE_MAX;
    e->accrual_rate_ref = e->eligible_ref = e->ctx_ref = e->customer_ref = LUA_NOREF;
    e->calc_ref = LUA_NOREF;
    e->program_ref = LUA_NOREF;
    e->name = strdup(name);
    e->L = lua_newstate(sandbox_alloc, e);
    if (!e->name || !e->L) {
        kr_engine_close(e);
        snprintf(err, errsz, "out of memory");
        return KR_ENGINE_MEMORY;
    }
    lua_State *L = e->L;
    e->what_label = "sandbox";
    lua_pushcfunction(L, open_sandbox);
    kr_engine_status st = kr__pcall(e, 0, 0, err, errsz);
    if (st != KR_ENGINE_OK)
        goto fail;
    // Text only: a binary chunk could crash the VM.
    e->what_label = name;
    int ls = luaL_loadbufferx(L, lua_text, len, name, "t");
    if (ls != LUA_OK) {
        snprintf(err, errsz, "%s", lua_tostring(L, -1) ? lua_tostring(L, -1) : "load failed");
        lua_pop(L, 1);
        st = ls == LUA_ERRMEM ? KR_ENGINE_MEMORY : KR_ENGINE_PROGRAM;
        goto fail;
    }
    kr__budget_start(e, true);
    st = kr__pcall(e, 0, 1, err, errsz);
    if (st != KR_ENGINE_OK)
        goto fail;
    lua_pushvalue(L, -1);
    e->program_ref = luaL_ref(L, LUA_REGISTRYINDEX); // keeps P alive for the engine's life
    lua_pushcfunction(L, read_program);
    lua_insert(L, -2);
    st = kr__pcall(e, 1, 0, err, errsz);
    if (st == KR_ENGINE_RUNTIME)
        st = KR_ENGINE_PROGRAM;
    if (st != KR_ENGINE_OK)
        goto fail;
    lua_sethook(L, NULL, 0, 0);
    e->what_label = NULL;
    e->watched = kr__watch_add(e);
    *out = e;
    return KR_ENGINE_OK;
fail:
    kr_engine_close(e);
    return st;
}

void kr_engine_close(kr_engine *e)
{
    if (!e)
        return;
    if (e->watched)
        kr__watch_remove(e);
    if (e->L)
        lua_close(e->L); // returns every block, so the pool's chunks can go after it
    for (void *chunk = e->pool_chunks; chunk;) {
        void *next = *(void **)chunk;
        free(chunk);
        chunk = next;
    }
    for (size_t i = 0; i < e->n_promos; i++) {
        kr__promo *p = &e->promos[i];
        free(p->id);
        free(p->name);
        free(p->src);
        for (size_t k = 0; k < p->n_conds; k++) {
            free(p->cond_text[k]);
            free(p->cond_src[k]);
        }
        free(p->cond_text);
        free(p->cond_src);
    }
    free(e->promos);
    for (size_t g = 0; g < e->n_groups; g++)
        free(e->groups[g].id);
    free(e->groups);
    free(e->accrual_src);
    free(e->program_id);
    free(e->name);
    free(e->scratch);
    free(e->defer);
    free(e->sort_buf);
    kr_time_zone_free(e->tz);
    free(e);
}

const char *kr_engine_program_id(const kr_engine *e) { return e->program_id; }
int64_t kr_engine_program_version(const kr_engine *e) { return e->version; }
int kr_engine_minor_unit(const kr_engine *e) { return e->minor_unit; }
size_t kr_engine_promotion_count(const kr_engine *e) { return e->n_promos; }
const char *kr_engine_promotion_id(const kr_engine *e, size_t i) { return e->promos[i].id; }
const char *kr_engine_promotion_name(const kr_engine *e, size_t i) { return e->promos[i].name; }
const char *kr_engine_promotion_src(const kr_engine *e, size_t i) { return e->promos[i].src; }
