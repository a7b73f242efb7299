// SPDX-License-Identifier: MIT
// kc-emit-promotions.c: promotions (and tier discounts) as Lua blocks.
//
// Each promotion is a `do ... end` block with its sets, selectors and condition helpers, a
// `check(ctx)` (kc-emit-conditions.c) that returns nil when every condition holds or the
// number of the first that fails, an `effects(ctx)` that returns the list of effects, and
// the entry in P.promotions. Promotions are written in evaluation order: stage `line` before
// `receipt`, then priority descending, then document order. A tier with `discount` becomes a
// line-stage promotion "tier:<id>" (priority 0, at the tier's place in document order).
#include "kc-emit-private.h"

#include <stdlib.h>
#include <string.h>

// ---- effects ------------------------------------------------------------------------------------
typedef struct lineval {
    unsigned tbl_v;   // table giving the value per line (0: `constant`)
    int64_t constant;
    unsigned tbl_f;   // table giving the factor per line (0: `fconst`)
    int64_t fconst;   // 10000 = no factor
    bool money;       // scale with scale_money (else scale_bp)
    bool by_line;     // a table reads the line: the value may differ from line to line
} lineval;

static int64_t scale_money_c(const kc_emit *e, int64_t a, int64_t f)
{
    const char *r = kc__str(e->p->root, "money-rounding");
    int64_t x = a * f, q = x / 10000, rem = x % 10000;
    if (r && !strcmp(r, "down"))
        return q;
    if (r && !strcmp(r, "up"))
        return q + (rem > 0);
    if (r && !strcmp(r, "half-even"))
        return q + (rem > 5000 || (rem == 5000 && q % 2 == 1));
    return q + (rem >= 5000);
}

// Writes the value expression of a lineval (after `v`/`f` are known).
static void value_expr(kc_emit *e, kc_buf *b, const lineval *lv)
{
    char v[32], f[32];
    if (lv->tbl_v)
        snprintf(v, sizeof v, "v");
    else
        snprintf(v, sizeof v, "%lld", (long long)lv->constant);
    if (lv->tbl_f)
        snprintf(f, sizeof f, "f");
    else
        snprintf(f, sizeof f, "%lld", (long long)lv->fconst);
    if (!lv->tbl_f && lv->fconst == 10000) {
        kc_buf_puts(b, v);
    } else if (!lv->tbl_v && !lv->tbl_f) {
        kc_buf_printf(b, "%lld", (long long)(lv->money ? scale_money_c(e, lv->constant, lv->fconst)
                                                       : kc__scale_bp(lv->constant, lv->fconst)));
    } else {
        e->helpers |= lv->money ? KC_H_SCALE_MONEY : KC_H_SCALE_BP;
        kc_buf_printf(b, "%s(%s, %s)", lv->money ? "scale_money" : "scale_bp", v, f);
    }
}

// Whether the decision table `id` has an input about the line (then its answer may differ
// from line to line); a table the program does not define counts as one that does.
static bool table_reads_line(const kc_emit *e, const char *id)
{
    const kc_node *t = kc__find_table(e->p, id);
    if (!t)
        return true;
    static const char *const receipt_inputs[] = {"segment",       "tier",     "region",
                                                 "store",         "channel",  "customer-attribute",
                                                 "receipt-total", "turnover", "receipt-count"};
    for (const kc_node *in = kc__child(t, KC_E_INPUT, NULL); in;
         in = kc__child(t, KC_E_INPUT, in)) {
        const char *src = kc__str(in, "source");
        bool receipt = false;
        for (size_t k = 0; src && k < sizeof receipt_inputs / sizeof *receipt_inputs; k++)
            receipt |= strcmp(src, receipt_inputs[k]) == 0;
        if (!receipt)
            return true;
    }
    return false;
}

// A new list with room for 8 entries. Lua sizes the array part of a constructor by its items,
// so the nils reserve 8 slots and leave the table empty (# is 0); filled from `{}` a list
// would be reallocated and rehashed at 1, 2, 4 and 8 entries, and these lists are built for
// every receipt that passes a check (the runtime spends a good part of its time there). They
// are made at the first line that matches, so an effect that matches none allocates nothing.
#define LIST8 "{ nil, nil, nil, nil, nil, nil, nil, nil }"

// How collect_lines left an effect's lines and values, for effect_close: the list `ls` or no
// list at all (every line: the effect has no `lines`), the value (`vs`, parallel to `ls`, or
// one expression for every listed line) and the Lua condition on which the effect is there.
typedef struct shape {
    bool every;
    kc_buf value;
    kc_buf guard; // empty: always
} shape;

static void guard_and(kc_buf *g, const char *test)
{
    kc_buf_printf(g, "%s%s", g->len ? " and " : "", test);
}

// Writes the code that finds the lines of an effect (the selector of element n, its attributes
// named with `prefix`) and their values
// (lv; NULL for an effect without a per-line value). A value that is the same on every line —
// a constant, or tables without line inputs, asked once for the receipt (line = nil) — is
// one expression; the lines are listed only when a selector picks some (each tested inline,
// no call per line); without one the effect covers every line and lists none. Values that
// depend on the line go into `vs`, and a line without a value is left out.
static void collect_lines(kc_emit *e, kc_buf *b, const kc_node *n, const char *prefix,
                          const lineval *lv, shape *sh)
{
    kc_buf_init(&sh->value, 0);
    kc_buf_init(&sh->guard, 0);
    kc_buf sel;
    kc_buf_init(&sel, 0);
    bool any = kc__emit_selector_inline(e, &sel, n, prefix);
    bool by_line = lv && lv->by_line;
    if (lv && !by_line) {
        if (lv->tbl_v) {
            kc_buf_printf(b, "      local v = tbl_%u(ctx, nil)\n", lv->tbl_v);
            guard_and(&sh->guard, "v ~= nil");
        }
        if (lv->tbl_f) {
            kc_buf_printf(b, "      local f = tbl_%u(ctx, nil)\n", lv->tbl_f);
            guard_and(&sh->guard, "f ~= nil");
        }
        value_expr(e, &sh->value, lv);
    }
    sh->every = !any && !by_line;
    if (sh->every) {
        guard_and(&sh->guard, "#lines > 0"); // as with a list: no line, no effect
        kc_buf_free(&sel);
        return;
    }
    kc_buf_puts(b,
                by_line ? "      local ls, vs, n = nil, nil, 0\n" : "      local ls, n = nil, 0\n");
    kc_buf_puts(b, "      for i = 1, #lines do\n        local l = lines[i]\n");
    char in[64] = "        ";
    unsigned ends = 0;
    if (any) {
        kc_buf_printf(b, "%sif %s then\n", in, sel.data ? sel.data : "false");
        strcat(in, "  ");
        ends++;
    }
    if (by_line && lv->tbl_v) {
        kc_buf_printf(b, "%slocal v = tbl_%u(ctx, l)\n%sif v ~= nil then\n", in, lv->tbl_v, in);
        strcat(in, "  ");
        ends++;
    }
    if (by_line && lv->tbl_f) {
        kc_buf_printf(b, "%slocal f = tbl_%u(ctx, l)\n%sif f ~= nil then\n", in, lv->tbl_f, in);
        strcat(in, "  ");
        ends++;
    }
    // The lists are made at the first line that matches: no table when none does.
    kc_buf_printf(b, "%sn = n + 1\n%sif n == 1 then\n%s  %s = " LIST8 "%s\n%send\n%sls[n] = i\n",
                  in, in, in, by_line ? "ls, vs" : "ls",
                  by_line ? ", " LIST8 : " -- room for 8 lines", in, in);
    if (by_line) {
        kc_buf_printf(b, "%svs[n] = ", in);
        value_expr(e, b, lv);
        kc_buf_puts(b, "\n");
        kc_buf_puts(&sh->value, "vs");
    }
    while (ends--) {
        in[strlen(in) - 2] = '\0';
        kc_buf_printf(b, "%send\n", in);
    }
    kc_buf_puts(b, "      end\n");
    guard_and(&sh->guard, "n > 0");
    kc_buf_free(&sel);
}

static void effect_open(kc_emit *e, kc_buf *b, const kc_node *n, const char *what)
{
    char src[1200];
    kc__src_text(e, src, sizeof src, n->line);
    kc_buf_puts(b, "    do -- ");
    kc__lua_comment(b, src);
    kc_buf_printf(b, " %s\n", what);
}

// `[if <guard> then] out[#out + 1] = { src, kind, <fields>[lines = ls] } [end]`, the block's
// end, and the shape freed. `fields` may hold one "%s": where the shape's value goes.
static void effect_close(kc_emit *e, kc_buf *b, const kc_node *n, const char *kind,
                         const char *fields, shape *sh)
{
    const char *in = sh->guard.len ? "        " : "      ";
    if (sh->guard.len)
        kc_buf_printf(b, "      if %s then\n", sh->guard.data);
    // Constant: on every line (no list), and no value asked of a table for the receipt.
    bool constant = sh->every && strcmp(sh->guard.data ? sh->guard.data : "", "#lines > 0") == 0;
    kc_buf_printf(b, "%s%s{ ", in, constant ? KC_EFFECT_CONST_AT : KC_EFFECT_AT);
    e->effect_sites++;
    kc__lua_src(e, b, n->line);
    kc_buf_printf(b, ", kind = \"%s\", ", kind);
    const char *at = strstr(fields, "%s");
    if (at) {
        kc_buf_printf(b, "%.*s%s%s", (int)(at - fields), fields,
                      sh->value.data ? sh->value.data : "nil", at + 2);
    } else {
        kc_buf_puts(b, fields);
    }
    if (sh->every && b->len >= 2 && !memcmp(b->data + b->len - 2, ", ", 2))
        b->data[b->len -= 2] = '\0'; // the last field's separator
    kc_buf_puts(b, sh->every ? " }" KC_EFFECT_END "\n" : "lines = ls }" KC_EFFECT_END "\n");
    if (sh->guard.len)
        kc_buf_puts(b, "      end\n");
    kc_buf_puts(b, "    end\n");
    kc_buf_free(&sh->value);
    kc_buf_free(&sh->guard);
}

// A percent-or-@table attribute and a factor-or-@table attribute as a lineval. `receipt`:
// the value is one for the receipt (tables are asked with line = nil whatever their inputs).
static lineval lineval_of(kc_emit *e, const kc_attr *pct, const kc_attr *fac, bool money,
                          int64_t constant, bool receipt)
{
    lineval lv = {.fconst = 10000, .money = money, .constant = constant};
    if (pct) {
        if (pct->v.is_ref) {
            lv.tbl_v = kc__emit_table_ref(e, pct->v.s);
            lv.by_line |= !receipt && table_reads_line(e, pct->v.s);
        } else {
            lv.constant = pct->v.i;
        }
    }
    if (fac) {
        if (fac->v.is_ref) {
            lv.tbl_f = kc__emit_table_ref(e, fac->v.s);
            lv.by_line |= !receipt && table_reads_line(e, fac->v.s);
        } else {
            lv.fconst = fac->v.i;
        }
    }
    return lv;
}

static void emit_effect(kc_emit *e, kc_buf *b, const kc_node *n)
{
    char fields[256];
    shape sh;
    switch (n->spec->id) {
    case KC_E_DISCOUNT: {
        const kc_attr *pct = kc__emit_written(n, "percent"), *am = kc__emit_written(n, "amount");
        const kc_attr *fac = kc__emit_written(n, "factor");
        if (pct) {
            lineval lv = lineval_of(e, pct, fac, false, 0, false);
            effect_open(e, b, n, "discount percent");
            collect_lines(e, b, n, "", &lv, &sh);
            effect_close(e, b, n, "percent", "bp = %s, ", &sh);
        }
        if (am) {
            const char *per = kc__str(n, "per");
            per = per ? per : "line";
            bool receipt = strcmp(per, "receipt") == 0;
            // For the receipt: one amount, the factor table answering for the receipt (line =
            // nil); no answer, no effect.
            lineval lv = lineval_of(e, NULL, fac, true, am->v.i, receipt);
            effect_open(e, b, n, "discount amount");
            collect_lines(e, b, n, "", &lv, &sh);
            snprintf(fields, sizeof fields, "per = \"%s\", amount = %%s, ", per);
            effect_close(e, b, n, "amount", fields, &sh);
        }
        return;
    }
    case KC_E_FIXED_PRICE: {
        effect_open(e, b, n, "fixed-price");
        collect_lines(e, b, n, "", NULL, &sh);
        snprintf(fields, sizeof fields, "price = %lld, ", (long long)kc__int(n, "price"));
        effect_close(e, b, n, "fixed_price", fields, &sh);
        return;
    }
    case KC_E_CHEAPEST: {
        effect_open(e, b, n, "cheapest");
        collect_lines(e, b, n, "", NULL, &sh);
        snprintf(fields, sizeof fields, "bp = %lld, count = %lld, ",
                 (long long)kc__int(n, "percent"), (long long)kc__int(n, "count"));
        effect_close(e, b, n, "cheapest", fields, &sh);
        return;
    }
    case KC_E_BUY_GET: {
        effect_open(e, b, n, "buy-get");
        collect_lines(e, b, n, "", NULL, &sh);
        snprintf(fields, sizeof fields, "buy = %lld, get = %lld, bp = %lld, ",
                 (long long)kc__int(n, "buy"), (long long)kc__int(n, "get"),
                 (long long)kc__int(n, "percent"));
        effect_close(e, b, n, "buy_get", fields, &sh);
        return;
    }
    case KC_E_POINTS: {
        const kc_attr *am = kc__emit_written(n, "amount"), *pct = kc__emit_written(n, "percent");
        const kc_attr *mul = kc__emit_written(n, "multiplier");
        if (am) {
            // With a selector: only when a line matches (the lines are listed); without one,
            // for the receipt (no lines).
            effect_open(e, b, n, "points amount");
            collect_lines(e, b, n, "", NULL, &sh);
            snprintf(fields, sizeof fields, "amount = %lld, ", (long long)am->v.i);
            effect_close(e, b, n, "points", fields, &sh);
        }
        if (pct) {
            lineval lv = lineval_of(e, pct, NULL, false, 0, false);
            effect_open(e, b, n, "points percent");
            collect_lines(e, b, n, "", &lv, &sh);
            effect_close(e, b, n, "points", "bp = %s, ", &sh);
        }
        if (mul) {
            effect_open(e, b, n, "points multiplier");
            collect_lines(e, b, n, "", NULL, &sh);
            snprintf(fields, sizeof fields, "factor = %lld, ", (long long)mul->v.i);
            effect_close(e, b, n, "points_multiplier", fields, &sh);
        }
        return;
    }
    case KC_E_MESSAGE: {
        char src[1200];
        kc__src_text(e, src, sizeof src, n->line);
        kc_buf_puts(b, "    -- ");
        kc__lua_comment(b, src);
        kc_buf_puts(b, " message\n    " KC_EFFECT_CONST_AT "{ ");
        e->effect_sites++;
        e->effect_at_top = true;
        kc__lua_src(e, b, n->line);
        kc_buf_puts(b, ", kind = \"message\", to = ");
        kc__lua_str(b, kc__str(n, "to") ? kc__str(n, "to") : "cashier");
        kc_buf_puts(b, ", text = ");
        kc__lua_str(b, n->text ? n->text : "");
        kc_buf_puts(b, " }" KC_EFFECT_END "\n");
        return;
    }
    default:
        return;
    }
}

// ---- one promotion -------------------------------------------------------------------------------
typedef struct item {
    const kc_node *n;    // promotion, tier, or agreements
    bool tier;
    bool agreement;
    int stage;           // 0 line, 1 receipt
    int64_t priority;
    unsigned doc;
} item;

static int cmp_item(const void *a, const void *b)
{
    const item *x = a, *y = b;
    if (x->stage != y->stage)
        return x->stage < y->stage ? -1 : 1;
    if (x->priority != y->priority)
        return x->priority > y->priority ? -1 : 1;
    return x->doc < y->doc ? -1 : (x->doc > y->doc);
}

static void emit_limits(kc_emit *e, kc_buf *b, const kc_node *pr, kc_elem_id id, const char *f)
{
    const kc_node *n = pr ? kc__child(pr, id, NULL) : NULL;
    kc_buf_printf(b, "    %s = {", f);
    if (n) {
        kc_buf_puts(b, " ");
        kc__lua_all_attrs(e, b, n, NULL);
        kc__lua_src(e, b, n->line);
        kc_buf_puts(b, " ");
    }
    kc_buf_puts(b, "},\n");
}

// <agreements>: a line-stage promotion "agreement" that gives each line the percent of the
// customer's individual agreement, imported from the ERP as customer attributes:
// "agreement.<category>" for the line's category, else "agreement" ("12%", "12" or "12.5").
// policy="agreement": it runs first and stops the line stage (the agreement replaces program
// discounts); "add": it runs last, on what earlier line promotions left; "best": it shares an
// exclusive group with the line promotions that have no group, and the best for the customer
// over the receipt wins. `max` is the highest agreement percent honoured.
static void emit_agreement(kc_emit *e, const item *it, unsigned index)
{
    const kc_node *n = it->n;
    const char *policy = kc__str(n, "policy");
    int64_t max = kc__emit_written(n, "max") ? kc__int(n, "max") : 10000;
    kc__emit_block_begin(e);
    kc_buf *b = &e->body;
    kc_buf_printf(b,
                  "  -- the agreement's percent for a line, in basis points (0: none)\n"
                  "  local function agreement_bp(attrs, category)\n"
                  "    local v = (category ~= nil and attrs[\"agreement.\" .. category]) or "
                  "attrs[\"agreement\"]\n"
                  "    if type(v) ~= \"string\" then return 0 end\n"
                  "    local whole, frac = v:match(\"^%%s*(%%d+)%%.?(%%d*)%%s*%%%%?%%s*$\")\n"
                  "    if whole == nil or #whole > 3 or #frac > 2 then return 0 end\n"
                  "    local bp = math.tointeger(tonumber(whole) * 100 +\n"
                  "      (frac == \"\" and 0 or tonumber(frac) * (#frac == 1 and 10 or 1)))\n"
                  "    if bp > %lld then return %lld end\n"
                  "    return bp\n"
                  "  end\n"
                  "  local function check(ctx)\n"
                  "    local cu = ctx.customer\n"
                  "    if cu == nil then return 1 end\n"
                  "    if cu.attrs[\"agreement\"] ~= nil then return nil end\n"
                  "    for k in pairs(cu.attrs) do\n"
                  "      if k:sub(1, 10) == \"agreement.\" then return nil end\n"
                  "    end\n"
                  "    return 1\n"
                  "  end\n"
                  "  local function effects(ctx)\n"
                  "    local lines, attrs = ctx.lines, ctx.customer.attrs\n"
                  "    local ls, vs, k = {}, {}, 0\n"
                  "    for i = 1, #lines do\n"
                  "      local bp = agreement_bp(attrs, lines[i].category)\n"
                  "      if bp > 0 then k = k + 1; ls[k] = i; vs[k] = bp end\n"
                  "    end\n"
                  "    if k == 0 then return {} end\n"
                  "    return { { kind = \"percent\", lines = ls, bp = vs, ",
                  (long long)max, (long long)max);
    kc__lua_src(e, b, n->line);
    kc_buf_printf(b, " } }\n  end\n  P.promotions[%u] = {\n    id = \"agreement\",\n"
                     "    name = \"Individual agreement\",\n    ",
                  index);
    kc__lua_src(e, b, n->line);
    bool first = policy && strcmp(policy, "agreement") == 0;
    bool best = policy && strcmp(policy, "best") == 0;
    kc_buf_printf(b, ",\n    stage = \"line\", priority = %s, stop = %s, reward = \"discount\", "
                     "enabled = true,%s\n",
                  first ? "2147483647" : best ? "0" : "-2147483648", first ? "true" : "false",
                  best ? " group = \"" KC_AGREEMENT_GROUP "\"," : "");
    kc_buf_puts(b, "    caps = {},\n    limits = {},\n    conditions = {\n      { ");
    kc__lua_src(e, b, n->line);
    kc_buf_puts(b, ", text = \"the customer has an individual agreement from the ERP\" }, -- 1\n"
                   "    },\n    check = check,\n    effects = effects,\n  }\n");
    char src[1200];
    kc__src_text(e, src, sizeof src, n->line);
    kc_buf c;
    kc_buf_init(&c, 0);
    kc_buf_printf(&c, "%s agreements (policy %s)", src, policy ? policy : "?");
    kc__emit_block_end(e, c.data ? c.data : "");
    kc_buf_free(&c);
}

// `window = { from, to, days }`: the validity dates and weekdays again, as data, so the runtime
// can turn a receipt away without calling check (program-abi.md "Promotions"). They are the
// first conditions of every promotion that has them, numbered in this order; check tests the
// same, so the answer does not change, only its cost.
static void emit_window(kc_buf *b, const conds *cs)
{
    static const struct {
        cwhat what;
        const char *field;
    } parts[] = {{C_FROM, "from"}, {C_TO, "to"}, {C_DAYS, "days"}};
    size_t k = 0;
    for (size_t p = 0; p < 3 && k < cs->n; p++) {
        const cond *c = &cs->v[k];
        if (c->what != parts[p].what || c->parent != -1 || !c->a)
            continue;
        kc_buf_printf(b, "%s%s = ", k ? ", " : "    window = { ", parts[p].field);
        if (c->what == C_DAYS) // the bit mask of check: bit 0 Monday .. bit 6 Sunday
            kc_buf_printf(b, "0x%02llx", (unsigned long long)c->a->v.i);
        else
            kc_buf_printf(b, "%lld", (long long)c->a->v.i);
        k++;
    }
    if (k)
        kc_buf_printf(b, " }, -- %s\n",
                      k == 1   ? "condition 1"
                      : k == 2 ? "conditions 1 and 2"
                               : "conditions 1 to 3");
}

// Turns the effect places (KC_EFFECT_AT ... KC_EFFECT_END) of the `effects` body that starts
// at `at` into Lua and ends the function: with one place the effect is returned where it is
// made (a constant one made once, as the block local EFFECTS) and the function otherwise
// returns the shared NO_EFFECTS (unless that place is the function's own last statement, a
// message); with more they add to `out`.
static void finish_effects(kc_emit *e, kc_buf *b, size_t at)
{
    bool one = e->effect_sites == 1;
    kc_buf t;
    kc_buf_init(&t, 0);
    if (!one && e->effect_sites)
        kc_buf_puts(&t, "    local out = {}\n");
    for (size_t i = at; i < b->len; i++) {
        char ch = b->data[i];
        if (ch == KC_EFFECT_CONST_AT[0] && one) {
            // The same table on every receipt: made once, as a block local.
            const char *end = memchr(b->data + i, KC_EFFECT_END[0], b->len - i);
            size_t len = end ? (size_t)(end - (b->data + i)) - 1 : 0;
            kc_buf_puts(&e->locals, "  -- the effects, the same on every receipt (read only)\n"
                                    "  local EFFECTS = { ");
            kc_buf_append(&e->locals, b->data + i + 1, len);
            kc_buf_puts(&e->locals, " }\n");
            kc_buf_puts(&t, "return EFFECTS");
            i += len + 1; // the KC_EFFECT_END
        } else if (ch == KC_EFFECT_AT[0] || ch == KC_EFFECT_CONST_AT[0]) {
            kc_buf_puts(&t, one ? "return { " : "out[#out + 1] = ");
        } else if (ch == KC_EFFECT_END[0]) {
            kc_buf_puts(&t, one ? " }" : "");
        } else {
            kc_buf_append(&t, &ch, 1);
        }
    }
    b->len = at;
    if (b->data)
        b->data[at] = '\0';
    if (t.len)
        kc_buf_append(b, t.data, t.len);
    if (e->effect_sites > 1) {
        kc_buf_puts(b, "    return out\n  end\n");
    } else if (one && e->effect_at_top) {
        kc_buf_puts(b, "  end\n");
    } else {
        kc_buf_puts(b, "    return NO_EFFECTS\n  end\n");
        e->helpers |= KC_H_NO_EFFECTS;
    }
    if (t.failed)
        e->failed = true;
    kc_buf_free(&t);
}

// `audience = { member = k, segment = k2, segments = { ... } }`: the audience's first
// conditions as data — "the receipt has an identified customer" (number k) and "the customer
// is in segment a or b" (k2), each when the promotion has it — so the runtime can turn away the
// wrong audience without calling check. Written only when every condition before them is in
// the window (nothing the runtime does not test comes between), so the first failing
// condition, and the answer, stay the ones check gives.
static void emit_audience(kc_buf *b, const conds *cs)
{
    size_t k = 0;
    while (k < cs->n && cs->v[k].parent == -1 && cs->v[k].a &&
           (cs->v[k].what == C_FROM || cs->v[k].what == C_TO || cs->v[k].what == C_DAYS))
        k++; // the window (emit_window writes exactly these)
    size_t member = 0, segment = 0;
    if (k < cs->n && cs->v[k].what == C_MEMBERS && cs->v[k].parent == -1)
        member = ++k;
    if (k < cs->n && cs->v[k].what == C_SEGMENTS && cs->v[k].parent == -1 && cs->v[k].a &&
        cs->v[k].a->v.n > 0)
        segment = ++k;
    if (!member && !segment)
        return;
    kc_buf_puts(b, "    audience = { ");
    if (member)
        kc_buf_printf(b, "member = %zu%s", member, segment ? ", " : "");
    if (segment) {
        const kc_value *v = &cs->v[segment - 1].a->v;
        kc_buf_printf(b, "segment = %zu, segments = { ", segment);
        for (size_t j = 0; j < v->n; j++) {
            kc_buf_puts(b, j ? ", " : "");
            kc__lua_str(b, v->list[j]);
        }
        kc_buf_puts(b, " }");
    }
    if (member && segment)
        kc_buf_printf(b, " }, -- conditions %zu and %zu\n", member, segment);
    else
        kc_buf_printf(b, " }, -- condition %zu\n", member ? member : segment);
}

static void emit_promotion(kc_emit *e, const item *it, unsigned index)
{
    if (it->agreement) {
        emit_agreement(e, it, index);
        return;
    }
    const kc_node *n = it->n;
    conds cs = {0};
    kc__emit_block_begin(e);
    kc_buf *b = &e->body;
    if (it->tier)
        kc__cond_add(&cs, C_TIER_HAS, n, NULL, -1);
    else
        kc__cond_collect(&cs, n);
    kc__emit_check(e, &cs);

    kc_buf_puts(b, "  -- the effects, for a receipt that passed check()\n"
                   "  local function effects(ctx)\n    local lines = ctx.lines\n");
    size_t effects_at = b->len; // where `local out = {}` goes when there is more than one place
    e->effect_sites = 0;
    e->effect_at_top = false;
    if (it->tier) {
        lineval lv = lineval_of(e, kc__emit_written(n, "discount"), NULL, false, 0, false);
        shape sh;
        effect_open(e, b, n, "tier discount");
        collect_lines(e, b, n, "discount-", &lv, &sh); // discount-exclude-*
        effect_close(e, b, n, "percent", "bp = %s, ", &sh);
    } else {
        for (const kc_node *c = n->first; c; c = c->next)
            if (c->spec)
                emit_effect(e, b, c);
    }
    finish_effects(e, b, effects_at);

    kc_buf_printf(b, "  P.promotions[%u] = {\n    id = ", index);
    if (it->tier) {
        kc_buf id;
        kc_buf_init(&id, 0);
        kc_buf_printf(&id, "tier:%s", kc__emit_id(n));
        kc__lua_str(b, id.data ? id.data : "");
        kc_buf_free(&id);
    } else {
        kc__lua_str(b, kc__emit_id(n));
    }
    kc_buf_puts(b, ",\n    name = ");
    kc__lua_str(b, kc__str(n, "name"));
    kc_buf_puts(b, ",\n    ");
    kc__lua_src(e, b, n->line);
    kc_buf_puts(b, ",\n    ");
    if (it->tier) {
        kc_buf_puts(b, "stage = \"line\", priority = 0, stop = false, reward = \"discount\", "
                       "enabled = true, tier = ");
        kc__lua_str(b, kc__emit_id(n));
        kc_buf_puts(b, ",\n");
    } else {
        static const char *const skip[] = {"id", "name", NULL};
        kc__lua_all_attrs(e, b, n, skip);
        b->len -= b->len >= 2 ? 1 : 0; // drop the trailing space
        b->data[b->len] = '\0';
        const kc_node *ag = kc__child(e->p->root, KC_E_AGREEMENTS, NULL);
        const char *policy = ag ? kc__str(ag, "policy") : NULL;
        if (policy && strcmp(policy, "best") == 0 && it->stage == 0 && !kc__has(n, "group"))
            kc_buf_puts(b, " group = \"" KC_AGREEMENT_GROUP "\",");
        kc_buf_puts(b, "\n");
        kc__emit_template_src(e, b, n);
    }
    emit_limits(e, b, it->tier ? NULL : n, KC_E_CAP, "caps");
    emit_limits(e, b, it->tier ? NULL : n, KC_E_LIMIT, "limits");
    kc__emit_conditions_list(e, b, &cs);
    emit_window(b, &cs);
    emit_audience(b, &cs);
    // The batches whose codes this promotion asks for: a code is used (and counted against its
    // limits) only by a receipt on which such a promotion applied.
    bool any_code = false;
    for (size_t i = 0; i < cs.n; i++) {
        if (cs.v[i].what != C_CODE || !kc__str(cs.v[i].n, "batch"))
            continue;
        kc_buf_puts(b, any_code ? ", " : "    batches = { ");
        kc__lua_str(b, kc__str(cs.v[i].n, "batch"));
        any_code = true;
    }
    if (any_code)
        kc_buf_puts(b, " },\n");
    kc_buf_puts(b, "    check = check,\n    effects = effects,\n  }\n");

    char src[1200];
    kc__src_text(e, src, sizeof src, n->line);
    kc_buf c;
    kc_buf_init(&c, 0);
    kc_buf_printf(&c, "%s %s \"%s\"%s", src, it->tier ? "tier" : "promotion", kc__emit_id(n),
                  it->tier ? " (discount privilege)" : "");
    kc__emit_block_end(e, c.data ? c.data : "");
    kc_buf_free(&c);
    if (cs.failed)
        e->failed = true;
    free(cs.v);
}

typedef struct items {
    item *v;
    size_t n, alloc;
    bool failed;
} items;

static void push(items *it, item x)
{
    if (it->n == it->alloc) {
        size_t na = it->alloc ? it->alloc * 2 : 16;
        item *v = realloc(it->v, na * sizeof *v);
        if (!v) {
            it->failed = true;
            return;
        }
        it->v = v;
        it->alloc = na;
    }
    it->v[it->n++] = x;
}

void kc__emit_promotions(kc_emit *e)
{
    items it = {0};
    const kc_node *ts = kc__child(e->p->root, KC_E_TIERS, NULL);
    for (const kc_node *l = ts ? kc__child(ts, KC_E_LADDER, NULL) : NULL; l;
         l = kc__child(ts, KC_E_LADDER, l))
        for (const kc_node *t = kc__child(l, KC_E_TIER, NULL); t; t = kc__child(l, KC_E_TIER, t))
            if (kc__emit_written(t, "discount"))
                push(&it, (item){.n = t, .tier = true, .doc = t->doc_index});
    const kc_node *ps = kc__child(e->p->root, KC_E_PROMOTIONS, NULL);
    for (const kc_node *x = ps ? kc__child(ps, KC_E_PROMOTION, NULL) : NULL; x;
         x = kc__child(ps, KC_E_PROMOTION, x)) {
        const char *st = kc__str(x, "stage");
        push(&it, (item){.n = x, .stage = st && !strcmp(st, "receipt"),
                         .priority = kc__int(x, "priority"), .doc = x->doc_index});
    }
    const kc_node *ag = kc__child(e->p->root, KC_E_AGREEMENTS, NULL);
    if (ag) {
        const char *policy = kc__str(ag, "policy");
        int64_t prio = policy && !strcmp(policy, "agreement") ? INT64_C(2147483647)
                       : policy && !strcmp(policy, "best")    ? 0
                                                               : INT64_C(-2147483648);
        push(&it, (item){.n = ag, .agreement = true, .priority = prio, .doc = ag->doc_index});
    }
    if (it.failed)
        e->failed = true;
    if (it.n)
        qsort(it.v, it.n, sizeof *it.v, cmp_item);
    for (size_t i = 0; i < it.n; i++)
        emit_promotion(e, &it.v[i], (unsigned)(i + 1));
    free(it.v);
}
