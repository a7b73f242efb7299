// SPDX-License-Identifier: MIT
// kr-engine-apply.c: kr_engine_calculate — line promotions, receipt promotions, payment with
// points, accrual (docs/internals/engine.md explains each stage and its rounding).
//
// The whole evaluation runs inside one protected call (kr__pcall): promotion functions are
// called with lua_call, and a Lua error anywhere unwinds to kr_engine_calculate, which names
// the promotion that was running. Everything C allocates lives in the engine or the result,
// so an unwinding leaks nothing.
#include "kr-engine-private.h"

#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_LINES = 10000 };
#define MAX_AMOUNT INT64_C(1000000000000000) // 10^15 minor units per line: sums cannot overflow

enum { ST_PENDING = 0, ST_APPLIED, ST_REJECTED };
enum { DEFER_BP = 1, DEFER_MULTIPLIER = 2 };

typedef struct calc {
    kr_engine *e;
    lua_State *L;
    const kr_engine_receipt *rc;
    kr_engine_result *out;
    size_t n, np;
    int ctx;    // stack index of ctx
    int64_t pv; // money one point is worth
    // per line
    int64_t *cur;  // running amount
    int64_t *d;    // the discount the promotion being evaluated gives
    int64_t *lim;  // the most it may give (floors and max-line-share)
    int64_t *w;    // weights for allocation
    int64_t *t;    // allocation output
    int64_t *ix;   // line indices of an effect
    int64_t *paid; // money paid after points
    int64_t *acc;  // base accrual
    // per promotion
    int64_t *st, *pdisc, *ppts, *why, *cond, *other, *uses, *budget;
    int64_t *group_done; // per group (there are no more groups than promotions)
    bool nomem;
} calc;

// ---- money (kr-money) -----------------------------------------------------------------------
// Thin wrappers that turn a money error into a Lua error (unwinding to kr_engine_calculate).
static void money_ok(calc *c, kr_money_status st, const char *what)
{
    if (st != KR_MONEY_OK)
        luaL_error(c->L, "%s: %s", what, kr_money_status_name(st));
}

static int64_t muldiv(calc *c, int64_t a, int64_t b, int64_t den, kr_money_rounding r)
{
    int64_t v = 0;
    money_ok(c, kr_money_muldiv(a, b, den, r, &v), "arithmetic");
    return v;
}

static int64_t percent(calc *c, int64_t amount, int64_t bp)
{
    int64_t v = 0;
    money_ok(c, kr_money_percent(amount, bp, c->e->money_rounding, &v), "percent");
    return v;
}

// Points for money: amount * rate_bp / 10000 / point value, rounded once by points rounding.
static int64_t points(calc *c, int64_t amount, int64_t rate_bp)
{
    int64_t v = 0;
    money_ok(c, kr_money_points(amount, rate_bp, c->pv, c->e->points_rounding, &v), "points");
    return v;
}

// out[i] = the share of `total` for weight w[i], at most cap[i]; the shares sum to total.
static void allocate(calc *c, int64_t total, const int64_t *w, const int64_t *cap, size_t n,
                     int64_t *out)
{
    money_ok(c, kr_money_allocate(total, w, cap, n, out), "allocation");
}

// ---- small helpers ----------------------------------------------------------------------------
static void nomem(calc *c)
{
    c->nomem = true;
    luaL_error(c->L, "out of memory");
}

// Money given as points: money / point value, rounded by points rounding.
static int64_t points_of_money(calc *c, int64_t money)
{
    int64_t v = 0;
    money_ok(c, kr_money_round_div(money, c->pv, c->e->points_rounding, &v), "points");
    return v;
}

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

// Effect fields are read with the interned keys (KR__KEY) and lua_gettable, as lua_getfield
// would, but without hashing a C string per read; `k` is a KR__K_ number, its text names the
// field in messages.
static int get_key(calc *c, int t, int k)
{
    lua_pushvalue(c->L, lua_upvalueindex(k));
    return lua_gettable(c->L, t);
}

// An integer field of the table at t; `dflt` when absent.
static int64_t int_field(calc *c, int t, int k, int64_t dflt)
{
    lua_State *L = c->L;
    get_key(c, t, k);
    int64_t v = dflt;
    if (lua_isinteger(L, -1))
        v = (int64_t)lua_tointeger(L, -1);
    else if (!lua_isnil(L, -1))
        luaL_error(L, "effect field %s: expected an integer", c->e->key_text[k]);
    lua_pop(L, 1);
    return v;
}

// A per-line field of an effect is either one integer or an array parallel to `lines`
// (program-abi.md "Effects"). push_per_line pushes it once for the effect (returning its stack
// index; the caller pops it after the loop), per_line reads the value for the j-th listed line.
static int push_per_line(calc *c, int eff, int k)
{
    get_key(c, eff, k);
    return lua_gettop(c->L);
}

static int64_t per_line(calc *c, int f, int k, size_t j, int64_t lo, int64_t hi)
{
    lua_State *L = c->L;
    if (lua_istable(L, f))
        lua_rawgeti(L, f, (lua_Integer)j + 1);
    else
        lua_pushvalue(L, f);
    if (!lua_isinteger(L, -1))
        luaL_error(L, "effect field %s[%d]: expected an integer", c->e->key_text[k], (int)j + 1);
    int64_t v = (int64_t)lua_tointeger(L, -1);
    lua_pop(L, 1);
    if (v < lo || v > hi)
        luaL_error(L, "effect field %s = %I is outside %I..%I", c->e->key_text[k],
                   (lua_Integer)v, (lua_Integer)lo, (lua_Integer)hi);
    return v;
}

// Reads effect.lines into c->ix (0-based); absent means every line. Returns the count.
static size_t read_lines(calc *c, int eff)
{
    lua_State *L = c->L;
    int type = get_key(c, eff, KR__K_lines);
    size_t n = 0;
    if (type == LUA_TNIL) {
        for (size_t i = 0; i < c->n; i++)
            c->ix[n++] = (int64_t)i;
    } else if (type == LUA_TTABLE) {
        int t = lua_gettop(L);
        size_t len = (size_t)lua_rawlen(L, t);
        for (size_t k = 0; k < len && n < c->n; k++) {
            lua_rawgeti(L, t, (lua_Integer)k + 1);
            lua_Integer i = lua_tointeger(L, -1);
            if (!lua_isinteger(L, -1) || i < 1 || (size_t)i > c->n)
                luaL_error(L, "effect lines[%d]: not a line number", (int)k + 1);
            lua_pop(L, 1);
            c->ix[n++] = (int64_t)(i - 1);
        }
    } else {
        luaL_error(L, "effect field lines: expected a table");
    }
    lua_pop(L, 1);
    return n;
}

// Which of the keys `ks` (KR__K_ numbers) the string s is; 0 for none (or s NULL). Short
// strings are interned, so an equal string has the very pointer of the key; strcmp only
// settles the rare string that is not one of them (an unknown kind, before its error).
static int which(const calc *c, const char *s, const int *ks, size_t n)
{
    if (!s)
        return 0;
    for (size_t j = 0; j < n; j++)
        if (s == c->e->key_text[ks[j]])
            return ks[j];
    for (size_t j = 0; j < n; j++)
        if (strcmp(s, c->e->key_text[ks[j]]) == 0)
            return ks[j];
    return 0;
}

// Keeps a points effect for stage 4 as {promotion, kind, n, line, value, line, value, ...}.
static void defer_push(calc *c, int eff, size_t promo, bool mult, size_t nl)
{
    kr_engine *e = c->e;
    size_t need = e->defer_len + 3 + 2 * nl;
    if (need > e->defer_cap) {
        size_t cap = e->defer_cap ? e->defer_cap * 2 : 64;
        while (cap < need)
            cap *= 2;
        int64_t *p = realloc(e->defer, cap * sizeof *p);
        if (!p)
            nomem(c);
        e->defer = p;
        e->defer_cap = cap;
    }
    int64_t *r = e->defer + e->defer_len;
    r[0] = (int64_t)promo;
    r[1] = mult ? DEFER_MULTIPLIER : DEFER_BP;
    r[2] = (int64_t)nl;
    int key = mult ? KR__K_factor : KR__K_bp;
    int f = push_per_line(c, eff, key);
    for (size_t k = 0; k < nl; k++) {
        r[3 + 2 * k] = c->ix[k];
        r[4 + 2 * k] = per_line(c, f, key, k, 0, 1000000);
    }
    lua_pop(c->L, 1);
    e->defer_len = need;
}

// ---- effects ----------------------------------------------------------------------------------
// The `count` cheapest units among the lines in c->ix get `bp` off (cheapest by unit price of
// the running amount; ties by line order).
static void cheapest_units(calc *c, size_t nl, int64_t count, int64_t bp)
{
    const kr_engine_line *ln = c->rc->lines;
    // insertion sort of the listed lines by unit price (a/qa < b/qb <=> a*qb < b*qa)
    for (size_t k = 1; k < nl; k++) {
        int64_t x = c->ix[k];
        size_t j = k;
        while (j > 0) {
            int64_t y = c->ix[j - 1];
            __int128 lx = (__int128)(c->cur[x] - c->d[x]) * ln[y].qty;
            __int128 ly = (__int128)(c->cur[y] - c->d[y]) * ln[x].qty;
            if (!(lx < ly))
                break;
            c->ix[j] = y;
            j--;
        }
        c->ix[j] = x;
    }
    for (size_t k = 0; k < nl && count > 0; k++) {
        size_t i = (size_t)c->ix[k];
        int64_t units = min64(count, ln[i].qty);
        count -= units;
        int64_t off = muldiv(c, c->cur[i] - c->d[i], units * bp, ln[i].qty * 10000,
                             c->e->money_rounding);
        c->d[i] += min64(off, c->lim[i] - c->d[i]);
    }
}

// Applies one effect table (at stack index eff) of promotion `promo` to c->d. Points effects
// add to *points or, when `commit`, are deferred; messages are kept only when `commit`.
// Returns true when the effect gives anything (money, points or a message).
static bool apply_effect(calc *c, int eff, size_t promo, bool commit, int64_t *points)
{
    lua_State *L = c->L;
    const kr_engine_line *ln = c->rc->lines;
    static const int kinds[] = {KR__K_percent,  KR__K_amount, KR__K_fixed_price,
                                KR__K_cheapest, KR__K_buy_get, KR__K_points,
                                KR__K_points_multiplier, KR__K_message};
    get_key(c, eff, KR__K_kind);
    const char *kind = lua_tostring(L, -1);
    if (!kind)
        luaL_error(L, "effect without a kind");
    int kk = which(c, kind, kinds, sizeof kinds / sizeof kinds[0]);
    lua_pop(L, 1); // the string stays alive in the effect table
    switch (kk) {
    case KR__K_percent: {
        size_t nl = read_lines(c, eff);
        int f = push_per_line(c, eff, KR__K_bp);
        for (size_t k = 0; k < nl; k++) {
            size_t i = (size_t)c->ix[k];
            int64_t bp = per_line(c, f, KR__K_bp, k, 0, 10000);
            int64_t off = percent(c, c->cur[i] - c->d[i], bp);
            c->d[i] += min64(off, c->lim[i] - c->d[i]);
        }
        lua_pop(L, 1);
        return false; // money off: the promotion's total decides whether it gave anything
    }
    case KR__K_amount: {
        static const int pers[] = {KR__K_line, KR__K_unit, KR__K_receipt};
        size_t nl = read_lines(c, eff);
        get_key(c, eff, KR__K_per);
        const char *per = lua_tostring(L, -1);
        lua_pop(L, 1);
        int pk = which(c, per, pers, 3);
        if (!per || pk == KR__K_line || pk == KR__K_unit) {
            bool unit = pk == KR__K_unit;
            int f = push_per_line(c, eff, KR__K_amount);
            for (size_t k = 0; k < nl; k++) {
                size_t i = (size_t)c->ix[k];
                int64_t amount = per_line(c, f, KR__K_amount, k, 0, MAX_AMOUNT);
                int64_t off = unit ? min64(amount, MAX_AMOUNT / ln[i].qty) * ln[i].qty : amount;
                c->d[i] += min64(off, c->lim[i] - c->d[i]);
            }
            lua_pop(L, 1);
        } else if (pk == KR__K_receipt) {
            int64_t amount = int_field(c, eff, KR__K_amount, 0);
            if (amount < 0 || amount > MAX_AMOUNT)
                luaL_error(L, "effect amount is out of range");
            // Spread over the listed lines by their running amounts, none past its limit.
            int64_t room = 0;
            for (size_t k = 0; k < nl; k++) {
                size_t i = (size_t)c->ix[k];
                c->w[k] = c->cur[i] - c->d[i];
                c->t[k] = c->lim[i] - c->d[i];
                if (c->w[k] > 0) // lines with no amount left take nothing
                    room += c->t[k];
            }
            int64_t *share = c->acc; // free until stage 4
            allocate(c, min64(amount, room), c->w, c->t, nl, share);
            for (size_t k = 0; k < nl; k++)
                c->d[c->ix[k]] += share[k];
        } else {
            luaL_error(L, "effect per \"%s\": expected line, unit or receipt", per);
        }
        return false; // money off: the promotion's total decides whether it gave anything
    }
    case KR__K_fixed_price: {
        size_t nl = read_lines(c, eff);
        int64_t price = int_field(c, eff, KR__K_price, 0);
        if (price < 0 || price > MAX_AMOUNT)
            luaL_error(L, "effect price is out of range");
        for (size_t k = 0; k < nl; k++) {
            size_t i = (size_t)c->ix[k];
            int64_t target = price > MAX_AMOUNT / ln[i].qty ? MAX_AMOUNT : price * ln[i].qty;
            int64_t off = max64(0, c->cur[i] - c->d[i] - target);
            c->d[i] += min64(off, c->lim[i] - c->d[i]);
        }
        return false; // money off: the promotion's total decides whether it gave anything
    }
    case KR__K_cheapest:
    case KR__K_buy_get: {
        size_t nl = read_lines(c, eff);
        int64_t bp = int_field(c, eff, KR__K_bp, 10000), count;
        if (bp < 0 || bp > 10000)
            luaL_error(L, "effect bp is outside 0..10000");
        if (kk == KR__K_cheapest) {
            count = int_field(c, eff, KR__K_count, 1);
        } else {
            int64_t buy = int_field(c, eff, KR__K_buy, 0), get = int_field(c, eff, KR__K_get, 0);
            if (buy < 1 || get < 1 || buy > 1000000 || get > 1000000)
                luaL_error(L, "effect buy/get are out of range");
            int64_t units = 0;
            for (size_t k = 0; k < nl; k++)
                units += ln[c->ix[k]].qty;
            count = units / (buy + get) * get;
        }
        if (count > 0)
            cheapest_units(c, nl, count, bp);
        return false; // money off: the promotion's total decides whether it gave anything
    }
    case KR__K_points:
    case KR__K_points_multiplier: {
        bool fixed = get_key(c, eff, KR__K_amount) != LUA_TNIL;
        lua_pop(L, 1);
        if (kk == KR__K_points && fixed) {
            int64_t amount = int_field(c, eff, KR__K_amount, 0);
            if (amount < 0 || amount > MAX_AMOUNT)
                luaL_error(L, "effect points amount is out of range");
            *points += amount;
            return amount > 0;
        }
        bool mult = kk == KR__K_points_multiplier;
        size_t nl = read_lines(c, eff);
        if (commit)
            defer_push(c, eff, promo, mult, nl);
        return nl > 0;
    }
    case KR__K_message: {
        static const int tos[] = {KR__K_customer};
        get_key(c, eff, KR__K_to);
        bool customer = which(c, lua_tostring(L, -1), tos, 1) == KR__K_customer;
        lua_pop(L, 1);
        get_key(c, eff, KR__K_text);
        size_t len;
        const char *text = lua_tolstring(L, -1, &len);
        if (!text)
            luaL_error(L, "message effect without text");
        if (commit && !kr__result_message(c->out, promo, customer, text, len))
            nomem(c);
        lua_pop(L, 1);
        return true;
    }
    }
    return luaL_error(L, "unknown effect kind \"%s\"", kind);
}

// ---- one promotion ----------------------------------------------------------------------------
typedef enum eval_outcome { EV_FAILED, EV_NOTHING, EV_GIVES } eval_outcome;

// The validity window of a promotion as data (P.promotions[k].window): the conditions its
// check tests first, tested here without calling it — most promotions of a program are out of
// their dates on most days. Returns the number of the failing condition, 0 when they hold.
static int64_t window_fails(const kr_engine *e, const kr__promo *pr)
{
    int64_t k = 0;
    if (pr->win_from >= 0 && (++k, e->ctx_date < pr->win_from))
        return k;
    if (pr->win_to >= 0 && (++k, e->ctx_date > pr->win_to))
        return k;
    if (pr->win_days && (++k, !(pr->win_days & (INT64_C(1) << (e->ctx_weekday - 1)))))
        return k;
    return 0;
}

// Runs check and effects of promotion `p` against the running amounts. Fills c->d (capped),
// *points (fixed points effects) and *value (money off + those points in money, for groups).
// When `commit`, also applies the reward conversion, moves the running amounts and records
// the discounts, points and messages. EV_FAILED leaves the failing condition in c->cond[p].
static eval_outcome eval_promo(calc *c, size_t p, bool commit, int64_t *value)
{
    kr_engine *e = c->e;
    lua_State *L = c->L;
    const kr__promo *pr = &e->promos[p];
    const kr_engine_line *ln = c->rc->lines;
    e->what_promo = p;

    int64_t outside = window_fails(e, pr);
    if (outside) {
        c->cond[p] = outside;
        return EV_FAILED;
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, pr->check_ref);
    lua_pushvalue(L, c->ctx);
    lua_call(L, 1, 1);
    if (!lua_isnil(L, -1)) {
        lua_Integer k = lua_tointeger(L, -1);
        if (!lua_isinteger(L, -1) || k < 1)
            luaL_error(L, "check returned neither nil nor a condition number");
        c->cond[p] = (int64_t)k;
        lua_pop(L, 1);
        return EV_FAILED;
    }
    lua_pop(L, 1);

    for (size_t i = 0; i < c->n; i++) {
        c->d[i] = 0;
        int64_t floor = 0;
        if (pr->price_floor >= 0)
            floor = min64(c->cur[i], pr->price_floor > MAX_AMOUNT / ln[i].qty
                                         ? MAX_AMOUNT
                                         : pr->price_floor * ln[i].qty);
        c->lim[i] = c->cur[i] - floor;
        if (pr->max_line_share >= 0)
            c->lim[i] = min64(c->lim[i], muldiv(c, c->cur[i], pr->max_line_share, 10000,
                                                KR_MONEY_DOWN));
        c->lim[i] = max64(c->lim[i], 0);
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, pr->effects_ref);
    lua_pushvalue(L, c->ctx);
    lua_call(L, 1, 1);
    int effs = lua_gettop(L);
    if (!lua_istable(L, effs))
        luaL_error(L, "effects returned %s, not a table", luaL_typename(L, effs));
    int64_t points = 0;
    bool gives = false;
    size_t ne = (size_t)lua_rawlen(L, effs);
    for (size_t k = 0; k < ne; k++) {
        if (lua_rawgeti(L, effs, (lua_Integer)k + 1) != LUA_TTABLE)
            luaL_error(L, "effects[%d]: expected a table", (int)k + 1);
        gives |= apply_effect(c, lua_gettop(L), p, commit, &points);
        lua_pop(L, 1);
    }
    lua_pop(L, 1);

    // Caps on the promotion's total: max-discount and the budget left, trimmed in proportion
    // to each line's discount.
    int64_t total = 0;
    for (size_t i = 0; i < c->n; i++)
        total += c->d[i];
    int64_t cap = pr->max_discount;
    if (c->budget[p] >= 0 && (cap < 0 || c->budget[p] < cap))
        cap = c->budget[p];
    if (cap >= 0 && total > cap) {
        allocate(c, cap, c->d, c->d, c->n, c->t);
        memcpy(c->d, c->t, c->n * sizeof *c->d);
        total = cap;
    }
    *value = total + points * c->pv;
    if (total == 0 && points == 0 && !gives)
        return EV_NOTHING;
    if (!commit)
        return EV_GIVES;

    // Reward: part or all of the money off becomes points.
    int64_t as_points = 0;
    bool take_points = pr->reward == KR__REWARD_POINTS;
    bool choice = pr->reward == KR__REWARD_CHOICE &&
                  (!c->rc->reward_promotion || strcmp(c->rc->reward_promotion, pr->id) == 0);
    if (take_points || (choice && c->rc->reward == KR_ENGINE_REWARD_POINTS))
        as_points = total;
    else if (choice && c->rc->reward == KR_ENGINE_REWARD_SPLIT)
        as_points = muldiv(c, total, c->rc->points_bp, 10000, e->money_rounding);
    if (as_points > 0) {
        // Whole points only: the money those points are worth leaves the discount, and what
        // does not make a whole point stays as money off, so no kopeck of the benefit is lost
        // (745.00 split 50/50 at 1.00 a point: 372 points and 373.00 off).
        int64_t pts = points_of_money(c, as_points);
        int64_t worth = min64(pts * c->pv, total);
        allocate(c, total - worth, c->d, c->d, c->n, c->t);
        memcpy(c->d, c->t, c->n * sizeof *c->d);
        points += pts;
        total -= worth;
    }
    for (size_t i = 0; i < c->n; i++) {
        if (c->d[i] == 0)
            continue;
        c->cur[i] -= c->d[i];
        if (!kr__result_discount(c->out, i, p, c->d[i]))
            nomem(c);
    }
    c->pdisc[p] = total;
    c->ppts[p] = points;
    return EV_GIVES;
}

static bool limited(const calc *c, size_t p)
{
    return c->uses[p] == 0 || c->budget[p] == 0;
}

static void reject(calc *c, size_t p, kr_engine_reason why, int64_t other)
{
    c->st[p] = ST_REJECTED;
    c->why[p] = why;
    c->other[p] = other;
}

// Picks the winner of group g among its pending members from position `from` on: `best`
// gives the most (ties: evaluation order), `priority` is the first that gives anything.
// Losers that passed their conditions are rejected as "not in group winner"; the winner stays
// pending and is evaluated again at its own position.
static void decide_group(calc *c, int g, size_t from)
{
    const kr_engine *e = c->e;
    int64_t best_value = -1;
    size_t winner = SIZE_MAX;
    for (size_t m = from; m < c->np; m++) {
        const kr__promo *pr = &e->promos[m];
        if (pr->group != g || c->st[m] != ST_PENDING)
            continue;
        if (!pr->enabled) {
            reject(c, m, KR_ENGINE_REASON_DISABLED, 0);
            continue;
        }
        if (limited(c, m)) {
            reject(c, m, KR_ENGINE_REASON_LIMIT, 0);
            continue;
        }
        if (winner != SIZE_MAX && !e->groups[g].best) {
            c->why[m] = -1; // decided below
            continue;
        }
        int64_t v;
        eval_outcome o = eval_promo(c, m, false, &v);
        if (o == EV_FAILED) {
            reject(c, m, KR_ENGINE_REASON_CONDITION, 0);
            continue;
        }
        if (o == EV_NOTHING) {
            reject(c, m, KR_ENGINE_REASON_NOTHING, 0);
            continue;
        }
        c->why[m] = -1;
        if (v > best_value) {
            best_value = v;
            winner = m;
        }
    }
    for (size_t m = from; m < c->np; m++)
        if (e->promos[m].group == g && c->st[m] == ST_PENDING && c->why[m] == -1) {
            c->why[m] = 0;
            if (m != winner)
                reject(c, m, KR_ENGINE_REASON_GROUP, (int64_t)winner);
        }
}

static void run_stage(calc *c, int stage)
{
    kr_engine *e = c->e;
    size_t stopper = SIZE_MAX;
    for (size_t p = 0; p < c->np; p++) {
        const kr__promo *pr = &e->promos[p];
        if (pr->stage != stage || c->st[p] != ST_PENDING)
            continue;
        if (!pr->enabled) {
            reject(c, p, KR_ENGINE_REASON_DISABLED, 0);
            continue;
        }
        if (limited(c, p)) {
            reject(c, p, KR_ENGINE_REASON_LIMIT, 0);
            continue;
        }
        if (stopper != SIZE_MAX) {
            reject(c, p, KR_ENGINE_REASON_STOPPED, (int64_t)stopper);
            continue;
        }
        if (pr->group >= 0 && !c->group_done[pr->group]) {
            c->group_done[pr->group] = 1;
            decide_group(c, pr->group, p);
            if (c->st[p] != ST_PENDING)
                continue;
        }
        int64_t v;
        eval_outcome o = eval_promo(c, p, true, &v);
        if (o == EV_FAILED) {
            reject(c, p, KR_ENGINE_REASON_CONDITION, 0);
            continue;
        }
        if (o == EV_NOTHING) {
            reject(c, p, KR_ENGINE_REASON_NOTHING, 0);
            continue;
        }
        c->st[p] = ST_APPLIED;
        if (pr->stop)
            stopper = p;
    }
    e->what_promo = SIZE_MAX;
}

// ---- stages 3 and 4 ---------------------------------------------------------------------------
// Pushes ctx.lines (read once per stage, not once per line).
static int push_lines(calc *c)
{
    lua_pushvalue(c->L, KR__KEY(lines));
    lua_gettable(c->L, c->ctx);
    return lua_gettop(c->L);
}

static void pay_with_points(calc *c)
{
    kr_engine *e = c->e;
    lua_State *L = c->L;
    kr_engine_result *r = c->out;
    for (size_t i = 0; i < c->n; i++)
        c->paid[i] = c->cur[i];
    const kr_engine_customer *cu = c->rc->customer;
    if (!cu || !e->has_redemption)
        return;
    int64_t eligible = 0, current = 0;
    e->what_label = "redemption";
    int lines = push_lines(c);
    for (size_t i = 0; i < c->n; i++) {
        bool ok = true;
        if (e->eligible_ref != LUA_NOREF) {
            lua_rawgeti(L, LUA_REGISTRYINDEX, e->eligible_ref);
            lua_rawgeti(L, lines, (lua_Integer)i + 1);
            lua_call(L, 1, 1);
            ok = lua_toboolean(L, -1);
            lua_pop(L, 1);
        }
        c->w[i] = ok ? c->cur[i] : 0;
        c->lim[i] = ok ? c->cur[i] / c->pv : 0; // whole points a line can take
        eligible += c->w[i];
        current += c->cur[i];
    }
    lua_pop(L, 1);
    e->what_label = NULL;
    if (eligible == 0 || current < e->min_receipt)
        return;
    kr_money_redemption rule = {.max_share_bp = e->max_share, .point_value = c->pv,
                                .step = e->step, .min_balance = e->min_balance};
    money_ok(c, kr_money_max_payable_points(c->w, c->n, &rule, cu->balance, &r->max_points),
             "redemption");

    allocate(c, r->max_points, c->w, c->lim, c->n, c->t);
    for (size_t i = 0; i < c->n; i++)
        r->lines[i].max_points = c->t[i];
    int64_t spend = min64(c->rc->points_to_spend, r->max_points);
    spend -= spend % e->step;
    // c->t still holds the allocation of max_points over the same weights and limits: asked
    // again for that amount the money module gives the same shares, and nothing for 0.
    if (spend == 0)
        memset(c->t, 0, c->n * sizeof *c->t);
    else if (spend != r->max_points)
        allocate(c, spend, c->w, c->lim, c->n, c->t);
    for (size_t i = 0; i < c->n; i++) {
        r->lines[i].points_spent = c->t[i];
        r->lines[i].paid_points_money = c->t[i] * c->pv;
        c->paid[i] = c->cur[i] - c->t[i] * c->pv;
    }
    r->points_spent = spend;
    r->points_money = spend * c->pv;
}

// Stage 3, after points: the certificates pay what is left of the lines they may pay for (not
// lines that sell a certificate), one after another in the receipt's order. Each pays the
// least of what it may pay and what is left, spread over those lines by what is left of them
// (largest remainder, exact). A certificate spent whole forfeits what the receipt could not
// take. Certificates are a means of payment, like cash: the points rules (max-share,
// min-receipt) were measured on the receipt before them, and the money they pay earns no
// points (c->paid goes down by it before accrual).
static void pay_with_certificates(calc *c)
{
    const kr_engine_receipt *rc = c->rc;
    kr_engine_result *r = c->out;
    size_t nc = rc->n_certificates;
    if (!kr__result_certificates(r, nc))
        nomem(c);
    if (nc == 0)
        return;
    int64_t left = 0;
    for (size_t i = 0; i < c->n; i++) {
        bool may = !rc->certificate_line || !rc->certificate_line[i];
        c->w[i] = may ? c->paid[i] : 0;
        left += c->w[i];
    }
    for (size_t k = 0; k < nc; k++) {
        int64_t pay = min64(rc->certificates[k].available, left);
        if (pay > 0)
            allocate(c, pay, c->w, c->w, c->n, c->t);
        for (size_t i = 0; i < c->n && pay > 0; i++) {
            int64_t t = c->t[i];
            r->certificate_split[i * nc + k] = t;
            r->lines[i].paid_certificates += t;
            c->paid[i] -= t;
            c->w[i] -= t;
        }
        left -= pay;
        r->certificate_pays[k] = pay;
        r->certificate_forfeited[k] = rc->certificates[k].whole
                                          ? rc->certificates[k].available - pay
                                          : 0;
        r->certificate_money += pay;
    }
}

static void accrue(calc *c)
{
    kr_engine *e = c->e;
    lua_State *L = c->L;
    kr_engine_result *r = c->out;
    for (size_t i = 0; i < c->n; i++)
        c->acc[i] = 0;
    if (!c->rc->customer)
        return;
    if (e->has_accrual) {
        e->what_label = "accrual";
        int lines = push_lines(c);
        for (size_t i = 0; i < c->n; i++) {
            lua_rawgeti(L, LUA_REGISTRYINDEX, e->accrual_rate_ref);
            lua_pushvalue(L, c->ctx);
            lua_rawgeti(L, lines, (lua_Integer)i + 1);
            lua_call(L, 2, 1);
            int64_t bp = 0;
            if (lua_isinteger(L, -1))
                bp = (int64_t)lua_tointeger(L, -1);
            else if (!lua_isnil(L, -1))
                luaL_error(L, "rate returned %s, not an integer", luaL_typename(L, -1));
            lua_pop(L, 1);
            if (bp < 0 || bp > 1000000)
                luaL_error(L, "rate %I bp is out of range", (lua_Integer)bp);
            int64_t base = e->accrual_total ? c->rc->lines[i].amount : c->paid[i];
            c->acc[i] = points(c, base, bp);
            r->lines[i].points_earned = c->acc[i];
            r->accrual_points += c->acc[i];
        }
        lua_pop(L, 1);
        e->what_label = NULL;
    }
    for (size_t k = 0; k < e->defer_len;) {
        const int64_t *d = e->defer + k;
        size_t p = (size_t)d[0], nl = (size_t)d[2];
        for (size_t j = 0; j < nl; j++) {
            size_t i = (size_t)d[3 + 2 * j];
            int64_t v = d[4 + 2 * j];
            int64_t pts = d[1] == DEFER_BP
                              ? points(c, c->paid[i], v)
                              : max64(-c->acc[i], muldiv(c, c->acc[i], v - 10000, 10000,
                                                         e->points_rounding));
            r->lines[i].points_earned += pts;
            c->ppts[p] += pts;
        }
        k += 3 + 2 * nl;
    }
}

// ---- the protected body -----------------------------------------------------------------------
static bool scratch(calc *c)
{
    kr_engine *e = c->e;
    size_t need = c->n * 8 + c->np * 9;
    if (need > e->scratch_cap) {
        int64_t *s = realloc(e->scratch, need * sizeof *s);
        if (!s)
            return false;
        e->scratch = s;
        e->scratch_cap = need;
    }
    int64_t *s = e->scratch;
    int64_t **line_arrays[] = {&c->cur, &c->d, &c->lim, &c->w, &c->t, &c->ix, &c->paid, &c->acc};
    for (size_t k = 0; k < 8; k++, s += c->n)
        *line_arrays[k] = s;
    int64_t **promo_arrays[] = {&c->st,   &c->pdisc, &c->ppts,   &c->why,       &c->cond,
                                &c->other, &c->uses, &c->budget, &c->group_done};
    for (size_t k = 0; k < 9; k++, s += c->np) {
        *promo_arrays[k] = s;
        memset(s, 0, c->np * sizeof *s);
    }
    return true;
}

// Groups the discounts by line (stable), sets each line's range, fills the totals and the
// fiscal sub-lines, and lists applied and rejected promotions in evaluation order.
static void finish(calc *c)
{
    kr_engine *e = c->e;
    kr_engine_result *r = c->out;
    int64_t *count = c->t; // per line
    for (size_t i = 0; i < c->n; i++)
        count[i] = 0;
    for (size_t k = 0; k < r->n_discounts; k++)
        count[r->discounts[k].line]++;
    size_t pos = 0;
    for (size_t i = 0; i < c->n; i++) {
        r->lines[i].first_discount = pos;
        r->lines[i].n_discounts = (size_t)count[i];
        pos += (size_t)count[i];
        count[i] = (int64_t)r->lines[i].first_discount; // next slot
    }
    // In place by cycles would do; a simple second pass over a copy is clearer. The copy is
    // the engine's, kept across receipts (no malloc per receipt).
    if (r->n_discounts > 1) {
        if (r->n_discounts > e->sort_cap) {
            size_t cap = e->sort_cap ? e->sort_cap : 64;
            while (cap < r->n_discounts)
                cap *= 2;
            kr_engine_discount *p = realloc(e->sort_buf, cap * sizeof *p);
            if (!p)
                nomem(c);
            e->sort_buf = p;
            e->sort_cap = cap;
        }
        kr_engine_discount *tmp = e->sort_buf;
        for (size_t k = 0; k < r->n_discounts; k++)
            tmp[count[r->discounts[k].line]++] = r->discounts[k];
        memcpy(r->discounts, tmp, r->n_discounts * sizeof *tmp);
    }
    for (size_t i = 0; i < c->n; i++) {
        kr_engine_line_result *l = &r->lines[i];
        const kr_engine_line *in = &c->rc->lines[i];
        l->original = in->amount;
        l->final = c->cur[i];
        l->paid_money = c->paid[i];
        kr_money_fiscal fs[2];
        size_t nf = 0;
        money_ok(c, kr_money_fiscal_split(l->final, in->qty, fs, &nf), "fiscal split");
        for (size_t k = 0; k < nf && k < 2; k++)
            l->fiscal[k] = (kr_engine_fiscal){fs[k].qty, fs[k].price};
        l->n_fiscal = nf;
        r->total_original += l->original;
        r->total_final += l->final;
    }
    r->total_discount = r->total_original - r->total_final;
    r->to_pay = r->total_final - r->points_money - r->certificate_money;
    r->points_earned = r->accrual_points;
    for (size_t p = 0; p < c->np; p++) {
        bool ok = true;
        if (c->st[p] == ST_APPLIED) {
            ok = kr__result_applied(r, p, c->pdisc[p], c->ppts[p]);
            r->points_earned += c->ppts[p];
        } else if (c->why[p] == KR_ENGINE_REASON_CONDITION) {
            const kr__promo *pr = &e->promos[p];
            size_t k = (size_t)c->cond[p] - 1;
            bool known = k < pr->n_conds;
            ok = kr__result_rejected(r, p, KR_ENGINE_REASON_CONDITION,
                                     known ? pr->cond_text[k] : "(unknown condition)",
                                     known ? pr->cond_src[k] : pr->src, 0);
        } else {
            ok = kr__result_rejected(r, p, (kr_engine_reason)c->why[p], NULL, NULL,
                                     (size_t)c->other[p]);
        }
        if (!ok)
            nomem(c);
    }
    kr__result_finish_messages(r);
}

static int calc_body(lua_State *L)
{
    calc *c = lua_touserdata(L, 1);
    kr_engine *e = c->e;
    const kr_engine_receipt *rc = c->rc;
    if (!scratch(c) || !kr__result_reserve(c->out, c->n))
        nomem(c);
    e->defer_len = 0;
    for (size_t p = 0; p < c->np; p++) {
        c->uses[p] = c->budget[p] = -1;
        for (size_t u = 0; u < rc->n_uses; u++)
            if (rc->uses[u].promotion && strcmp(rc->uses[u].promotion, e->promos[p].id) == 0) {
                c->uses[p] = rc->uses[u].uses_left;
                c->budget[p] = rc->uses[u].budget_left;
            }
    }
    e->what_label = "ctx";
    kr__ctx_build(e, rc);
    c->ctx = lua_gettop(L);
    e->what_label = NULL;
    for (size_t i = 0; i < c->n; i++)
        c->cur[i] = rc->lines[i].amount;

    run_stage(c, KR__STAGE_LINE);
    kr__ctx_set_current(e, c->ctx, c->cur, c->n);
    run_stage(c, KR__STAGE_RECEIPT);
    kr__ctx_set_current(e, c->ctx, c->cur, c->n);
    pay_with_points(c);
    pay_with_certificates(c);
    accrue(c);
    finish(c);
    return 0;
}

void kr__calc_closure(kr_engine *e)
{
    lua_State *L = e->L;
    static const char *const names[] = {
#define KEY_NAME(k) #k,
        KR__KEYS(KEY_NAME)
#undef KEY_NAME
    };
    luaL_checkstack(L, KR__N_KEYS, "keys");
    for (int k = 1; k <= KR__N_KEYS; k++)
        e->key_text[k] = lua_pushstring(L, names[k - 1]); // interned: the pointer is the key's
    lua_pushcclosure(L, calc_body, KR__N_KEYS);
    e->calc_ref = luaL_ref(L, LUA_REGISTRYINDEX);
}

// Bad input: `field` (with the line number when line != SIZE_MAX) and why, into out->error.
static kr_engine_status invalid(kr_engine_result *out, size_t line, const char *field,
                                const char *why)
{
    if (line != SIZE_MAX)
        snprintf(out->error, sizeof out->error, "lines[%zu].%s: %s", line, field, why);
    else
        snprintf(out->error, sizeof out->error, "%s: %s", field, why);
    return KR_ENGINE_INVALID;
}

static kr_engine_status validate(const kr_engine_receipt *rc, kr_engine_result *out)
{
    const size_t R = SIZE_MAX;
    if (rc->n_lines < 1 || rc->n_lines > MAX_LINES || !rc->lines)
        return invalid(out, R, "lines", "a receipt has 1 to 10000 lines");
    for (size_t i = 0; i < rc->n_lines; i++) {
        const kr_engine_line *l = &rc->lines[i];
        if (!l->sku)
            return invalid(out, i, "sku", "required");
        if (l->qty < 1 || l->qty > 1000000)
            return invalid(out, i, "qty", "a whole number from 1 to 1000000");
        if (l->price < 0 || l->price > MAX_AMOUNT)
            return invalid(out, i, "price", "out of range");
        if (l->amount < 0 || l->amount > MAX_AMOUNT)
            return invalid(out, i, "amount", "out of range");
        if (l->n_attrs && !l->attrs)
            return invalid(out, i, "attrs", "missing");
    }
    if (rc->points_to_spend < 0)
        return invalid(out, R, "points", "must not be negative");
    if (rc->reward > KR_ENGINE_REWARD_SPLIT || rc->points_bp > 10000)
        return invalid(out, R, "reward", "take is discount, points or split with 0..100%");
    if ((rc->n_codes && !rc->codes) || (rc->n_uses && !rc->uses))
        return invalid(out, R, rc->n_codes && !rc->codes ? "codes" : "uses", "missing array");
    if (rc->n_certificates > KR_ENGINE_MAX_CERTIFICATES ||
        (rc->n_certificates && !rc->certificates))
        return invalid(out, R, "certificates", "a receipt is paid with at most 16 certificates");
    for (size_t k = 0; k < rc->n_certificates; k++)
        if (!rc->certificates[k].number || rc->certificates[k].available < 0 ||
            rc->certificates[k].available > MAX_AMOUNT) {
            char field[40];
            snprintf(field, sizeof field, "certificates[%zu]", k);
            return invalid(out, R, field, "needs a number and 0..10^15 to pay");
        }
    const kr_engine_customer *cu = rc->customer;
    if (cu && ((cu->n_segments && !cu->segments) || (cu->n_tiers && !cu->tiers) ||
               (cu->n_lists && !cu->lists) || (cu->n_attrs && !cu->attrs) ||
               (cu->n_counters && !cu->counters)))
        return invalid(out, R, "customer", "an array is missing");
    if (cu && cu->balance < 0)
        return invalid(out, R, "customer.balance", "must not be negative");
    return KR_ENGINE_OK;
}

kr_engine_status kr_engine_calculate(kr_engine *e, const kr_engine_receipt *rc,
                                     kr_engine_result *out)
{
    out->error[0] = '\0';
    kr_engine_status st = validate(rc, out);
    if (st != KR_ENGINE_OK)
        return st;
    calc c = {.e = e, .L = e->L, .rc = rc, .out = out, .n = rc->n_lines, .np = e->n_promos};
    c.pv = e->has_redemption ? e->point_value : 1;
    for (int k = 0; k < e->minor_unit && !e->has_redemption; k++)
        c.pv *= 10; // without redemption rules a point is worth one major unit
    lua_State *L = e->L;
    int top = lua_gettop(L);
    e->what_promo = SIZE_MAX;
    e->what_label = NULL;
    kr__budget_start(e, false);
    kr__watch_begin(e);
    lua_rawgeti(L, LUA_REGISTRYINDEX, e->calc_ref); // calc_body with the keys as upvalues
    lua_pushlightuserdata(L, &c);
    st = kr__pcall(e, 1, 0, out->error, sizeof out->error);
    kr__watch_end(e);
    lua_settop(L, top);
    e->what_promo = SIZE_MAX;
    e->what_label = NULL;
    if (st != KR_ENGINE_OK && c.nomem)
        st = KR_ENGINE_MEMORY;
    return st;
}
