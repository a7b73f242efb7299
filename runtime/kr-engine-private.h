// SPDX-License-Identifier: MIT
// kr-engine-private.h: the engine's structure, shared by kr-engine*.c and nothing else.
//
//   kr-engine-state.c    sandbox: allocator with a cap, instruction budget, protected calls,
//                        loading the program and reading its metadata
//   kr-engine-ctx.c      the ctx table handed to check/effects (reused across receipts)
//   kr-engine-apply.c    kr_engine_calculate: stages, groups, caps, points
//   kr-engine-watch.c    the deadline watchdog that arms the budget of a long evaluation
//   kr-engine-explain.c  result storage and the JSON writer
#ifndef KR_ENGINE_PRIVATE_H
#define KR_ENGINE_PRIVATE_H

#include "kr-engine.h"
#include "kr-money.h"
#include "kr-time.h"

#include <lua.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>

enum { KR__STAGE_LINE = 0, KR__STAGE_RECEIPT = 1 };
enum { KR__REWARD_DISCOUNT = 0, KR__REWARD_POINTS, KR__REWARD_CHOICE };

typedef struct kr__promo {
    char *id, *name, *src; // owned
    int stage;
    int group;             // index into kr_engine.groups, -1: none
    bool stop, enabled;
    int reward;
    int64_t max_discount;  // -1: none
    int64_t max_line_share; // bp, -1: none
    int64_t price_floor;   // unit price, -1: none
    char **cond_text, **cond_src; // owned, n_conds each
    size_t n_conds;
    int check_ref, effects_ref; // registry references
    // P.promotions[k].window (program-abi.md): the validity dates (days, -1: none) and the
    // weekday mask (0: none), which are conditions 1.. in this order; the runtime tests them
    // before calling check.
    int64_t win_from, win_to, win_days;
} kr__promo;

// Strings the engine uses as table keys or compares on every receipt: field names of ctx and of
// effects, effect kinds. They are interned once at open and kept as upvalues of the
// evaluation closure (kr__calc_closure), so code running inside kr_engine_calculate pushes one
// with lua_pushvalue(L, KR__KEY(sku)) — a copy of a stack value — instead of
// lua_setfield/lua_getfield/lua_pushstring with a C string, which hash the string and strcmp
// it against Lua's string cache on every call (a quarter of the time of a small program).
// Short strings are unique in Lua 5.4, so an effect's `kind` is also recognised by comparing
// its text pointer with e->key_text[...] (see kr-engine-apply.c).
#define KR__KEYS(X)                                                                            \
    /* ctx */                                                                                  \
    X(date) X(weekday) X(minute) X(channel) X(store) X(region) X(codes) X(customer) X(lines)   \
    X(total) X(current_total)                                                                  \
    /* ctx.lines[i] */                                                                         \
    X(id) X(sku) X(category) X(brand) X(attrs) X(qty) X(price) X(amount) X(current)           \
    /* ctx.customer */                                                                         \
    X(segments) X(tiers) X(lists) X(first_purchase) X(birthday_distance) X(days_registered)    \
    X(counters)                                                                                \
    /* effect fields (program-abi.md "Effects"); "lines", "amount", "price" are above */       \
    X(kind) X(bp) X(per) X(count) X(buy) X(get) X(factor) X(to) X(text)                        \
    /* effect kinds and enum values; "amount", "customer" are above */                          \
    X(percent) X(fixed_price) X(cheapest) X(buy_get) X(points) X(points_multiplier)            \
    X(message) X(line) X(unit) X(receipt)

// KR__K_sku etc.: upvalue numbers, from 1.
enum {
    KR__K_NONE_ = 0,
#define KR__KEY_ENUM(k) KR__K_##k,
    KR__KEYS(KR__KEY_ENUM)
#undef KR__KEY_ENUM
    KR__K_END_
};
enum { KR__N_KEYS = KR__K_END_ - 1 };
// The pseudo-index of key k; valid only while the evaluation closure is the running C function
// (everything kr_engine_calculate does in C runs there).
#define KR__KEY(k) lua_upvalueindex(KR__K_##k)

typedef struct kr__group {
    char *id;  // owned
    bool best; // policy "best" (else "priority")
} kr__group;

// The small-block pool of the Lua heap (kr-engine-state.c): blocks up to KR__POOL_MAX bytes,
// in size classes of KR__POOL_GRAIN bytes.
// The deadline watchdog (kr-engine-watch.c): one thread per process looks at every open engine
// each tick and signals the thread of an evaluation that has run for its deadline.
enum { KR__WATCH_TICK_MS = 5 };
#define KR__WATCH_SIGNAL (SIGRTMIN + 5)

enum { KR__POOL_GRAIN = 16, KR__POOL_MAX = 256, KR__POOL_CLASSES = KR__POOL_MAX / KR__POOL_GRAIN };

struct kr_engine {
    lua_State *L;
    size_t mem_used, mem_cap;
    void *pool_free[KR__POOL_CLASSES + 1]; // free blocks by class (1..), linked through word 0
    char *pool_next, *pool_end;            // the unused rest of the newest chunk
    void *pool_chunks;                     // every chunk, linked through word 0 (owned)
    int64_t instructions;  // per evaluation, counted from the deadline
    int64_t budget_left;   // counts down while the hook is armed
    bool budget_hit;
    // The watchdog's view (kr-engine-watch.c). watch_seq is odd while an evaluation runs;
    // watch_next, watch_seen and watch_ticks belong to the watchdog (under its lock).
    bool watched;          // registered: evaluations run without a hook until the deadline
    _Atomic uint64_t watch_seq;
    pthread_t watch_thread; // the thread of the running evaluation
    int64_t deadline_ticks;
    kr_engine *watch_next;
    uint64_t watch_seen;
    int64_t watch_ticks;

    int program_ref;       // registry reference to P (kept for the engine's life)
    char *name;            // owned: chunk name for messages
    char *program_id;      // owned
    int64_t version;
    int minor_unit;
    kr_money_rounding money_rounding, points_rounding;
    kr_time_zone *tz;      // owned

    kr__promo *promos;     // owned, evaluation order
    size_t n_promos;
    kr__group *groups;     // owned
    size_t n_groups;

    bool has_accrual;
    bool accrual_total;    // basis "total" (else "paid")
    int accrual_rate_ref;
    char *accrual_src;     // owned

    bool has_redemption;
    int64_t point_value, max_share, min_balance, step, min_receipt;
    int eligible_ref;      // LUA_NOREF: every line is eligible

    // What is running, for error messages: a promotion index, or a label ("accrual").
    size_t what_promo;     // SIZE_MAX: none
    const char *what_label;

    int calc_ref;          // the evaluation closure, with the keys as upvalues
    const char *key_text[KR__K_END_]; // the keys' interned texts (kept alive by the closure)

    int ctx_ref;           // the reused ctx table
    int customer_ref;      // the reused ctx.customer table
    size_t ctx_lines;      // line tables already in ctx.lines
    int ctx_empty;         // stack index of the shared empty table while ctx is built
    int64_t ctx_date;      // ctx.date and ctx.weekday of the receipt being evaluated
    int ctx_weekday;

    // Per-evaluation scratch, grown to the largest receipt seen (owned).
    int64_t *scratch;
    size_t scratch_cap;
    // Points effects that need the money paid (bp of it, multipliers of the accrual), kept
    // until stage 4: records of {promotion, kind, value, n, line...} (owned).
    int64_t *defer;
    size_t defer_len, defer_cap;
    // The copy finish() groups the discounts through (owned, grown like the scratch).
    kr_engine_discount *sort_buf;
    size_t sort_cap;
};

// ---- kr-engine-state.c ----
// Calls the function below its `nargs` arguments on the stack in protected mode with a
// traceback: the one way the engine enters Lua. On failure writes "WHAT: message" into err,
// WHAT naming what was running (e->what_promo / e->what_label: "promotion ID (SRC)"), pops
// the error and returns RUNTIME, BUDGET or MEMORY.
kr_engine_status kr__pcall(kr_engine *e, int nargs, int nres, char *err, size_t errsz);
// Starts the instruction budget of one evaluation: armed at once when `now` (loading the
// chunk, or an engine the watchdog does not watch), else when the watchdog says so.
void kr__budget_start(kr_engine *e, bool now);
// Sets the count hook that charges the budget. Safe from a signal handler on the thread
// running the evaluation (it only calls lua_sethook).
void kr__budget_arm(kr_engine *e);

// ---- kr-engine-watch.c ----
// Registers an engine with the watchdog, starting the watchdog and its signal handler on the
// first call; false when they could not be started (then every evaluation is hooked).
bool kr__watch_add(kr_engine *e);
void kr__watch_remove(kr_engine *e); // before the engine goes; waits out a tick in progress
// Around one evaluation, on the thread that runs it; end also removes the hook.
void kr__watch_begin(kr_engine *e);
void kr__watch_end(kr_engine *e);

// ---- kr-engine-apply.c ----
// Creates the evaluation closure and interns the keys (raises on out of memory): once, at open,
// inside a protected call.
void kr__calc_closure(kr_engine *e);

// ---- kr-engine-ctx.c ----
// These run inside the protected call of kr_engine_calculate (they may raise Lua errors).
// Fills the reused ctx table for the receipt and leaves it on the stack top.
void kr__ctx_build(kr_engine *e, const kr_engine_receipt *rc);
// Writes the current amounts (and current_total) of the lines into ctx (on the stack at idx).
void kr__ctx_set_current(kr_engine *e, int idx, const int64_t *cur, size_t n);

// ---- kr-engine-explain.c ----
bool kr__result_reserve(kr_engine_result *r, size_t n_lines);
// Sizes the certificate split for n_certificates (after kr__result_reserve) and zeroes it.
bool kr__result_certificates(kr_engine_result *r, size_t n_certificates);
bool kr__result_discount(kr_engine_result *r, size_t line, size_t promo, int64_t amount);
bool kr__result_applied(kr_engine_result *r, size_t promo, int64_t discount, int64_t points);
bool kr__result_rejected(kr_engine_result *r, size_t promo, kr_engine_reason why,
                         const char *cond, const char *src, size_t other);
bool kr__result_message(kr_engine_result *r, size_t promo, bool to_customer, const char *text,
                        size_t len);
// Turns the messages' stored offsets into pointers once no more text will be added.
void kr__result_finish_messages(kr_engine_result *r);

#endif
