// SPDX-License-Identifier: MIT
// kc-emit-promotions.c: promotions (and tier discounts) as Lua blocks.
//
// Each promotion is a `do ... end` block with its sets, selectors and condition helpers, a
// `check(ctx)` that returns nil when every condition holds or the number of the first that
// fails, an `effects(ctx)` that returns the list of effects, and the entry in P.promotions.
// Promotions are written in evaluation order: stage `line` before `receipt`, then priority
// descending, then document order. A tier with `discount` becomes a line-stage promotion
// "tier:<id>" (priority 0, at the tier's place in document order).
//
// Conditions are numbered 1..n in a fixed order: valid (from, to, days, hours), where
// (channels, stores, regions), audience (members, segments, tiers, lists, first-purchase,
// birthday-within, registered-within), then the `when` tree in document order, a group
// before its children. `when match="any"` and every `all`/`any` element are conditions of
// their own; check() reports an `any` group that fails by the group's number, and an `all`
// group (or `when match="all"`) by the number of its first failing child.
#include "kc-emit-private.h"

#include <stdlib.h>
#include <string.h>

typedef enum cwhat {
    C_FROM, C_TO, C_DAYS, C_HOURS, C_CHANNELS, C_STORES, C_REGIONS, C_MEMBERS, C_SEGMENTS,
    C_TIERS, C_LISTS, C_FIRST, C_BIRTHDAY, C_REGISTERED, C_TOTAL, C_LINES, C_CODE, C_CUSTOMER,
    C_ALL, C_ANY, C_TIER_HAS,
} cwhat;

typedef struct cond {
    cwhat what;
    const kc_node *n;
    const kc_attr *a; // attribute-level conditions
    unsigned line;
    int parent; // index of the enclosing group, -1 at top level
    unsigned helper; // cond_n for `lines`
} cond;

typedef struct conds {
    cond *v;
    size_t n, alloc;
    bool failed;
} conds;

static int add(conds *cs, cwhat w, const kc_node *n, const kc_attr *a, int parent)
{
    if (cs->n == cs->alloc) {
        size_t na = cs->alloc ? cs->alloc * 2 : 16;
        cond *v = realloc(cs->v, na * sizeof *v);
        if (!v) {
            cs->failed = true;
            return -1;
        }
        cs->v = v;
        cs->alloc = na;
    }
    cond *c = &cs->v[cs->n];
    *c = (cond){.what = w, .n = n, .a = a, .line = a && a->line ? a->line : n->line,
                .parent = parent};
    return (int)cs->n++;
}

static void add_tree(conds *cs, const kc_node *g, int parent)
{
    for (const kc_node *c = g->first; c; c = c->next) {
        if (!c->spec)
            continue;
        switch (c->spec->id) {
        case KC_E_TOTAL:
            add(cs, C_TOTAL, c, NULL, parent);
            break;
        case KC_E_LINES:
            add(cs, C_LINES, c, NULL, parent);
            break;
        case KC_E_CODE:
            add(cs, C_CODE, c, NULL, parent);
            break;
        case KC_E_CUSTOMER:
            add(cs, C_CUSTOMER, c, NULL, parent);
            break;
        case KC_E_ALL:
        case KC_E_ANY: {
            int k = add(cs, c->spec->id == KC_E_ALL ? C_ALL : C_ANY, c, NULL, parent);
            if (k >= 0)
                add_tree(cs, c, k);
            break;
        }
        default:
            break;
        }
    }
}

static void collect(conds *cs, const kc_node *pr)
{
    static const struct {
        kc_elem_id elem;
        const char *attr;
        cwhat what;
    } order[] = {
        {KC_E_VALID, "from", C_FROM},
        {KC_E_VALID, "to", C_TO},
        {KC_E_VALID, "days", C_DAYS},
        {KC_E_VALID, "hours", C_HOURS},
        {KC_E_WHERE, "channels", C_CHANNELS},
        {KC_E_WHERE, "stores", C_STORES},
        {KC_E_WHERE, "regions", C_REGIONS},
        {KC_E_AUDIENCE, NULL, C_MEMBERS},
        {KC_E_AUDIENCE, "segments", C_SEGMENTS},
        {KC_E_AUDIENCE, "tiers", C_TIERS},
        {KC_E_AUDIENCE, "lists", C_LISTS},
        {KC_E_AUDIENCE, "first-purchase", C_FIRST},
        {KC_E_AUDIENCE, "birthday-within", C_BIRTHDAY},
        {KC_E_AUDIENCE, "registered-within", C_REGISTERED},
    };
    for (size_t k = 0; k < sizeof order / sizeof order[0]; k++) {
        const kc_node *n = kc__child(pr, order[k].elem, NULL);
        if (!n)
            continue;
        if (order[k].what == C_MEMBERS) {
            const kc_attr *m = kc__emit_written(n, "members");
            if (!m || m->v.i)
                add(cs, C_MEMBERS, n, m, -1);
            continue;
        }
        const kc_attr *a = kc__emit_written(n, order[k].attr);
        if (a)
            add(cs, order[k].what, n, a, -1);
    }
    const kc_node *w = kc__child(pr, KC_E_WHEN, NULL);
    if (w) {
        const char *m = kc__str(w, "match");
        int parent = -1;
        if (m && !strcmp(m, "any"))
            parent = add(cs, C_ANY, w, NULL, -1);
        add_tree(cs, w, parent);
    }
}

// ---- condition sentences ---------------------------------------------------------------------
static void money(kc_emit *e, kc_buf *b, int64_t v)
{
    char tmp[64];
    kc__fmt_money(tmp, sizeof tmp, v, e->p->minor_unit);
    kc_buf_puts(b, tmp);
}

static void children_numbers(kc_buf *b, const conds *cs, size_t g)
{
    const char *nums[256];
    char store[256][24];
    size_t k = 0;
    for (size_t i = g + 1; i < cs->n && k < 256; i++)
        if (cs->v[i].parent == (int)g) {
            snprintf(store[k], sizeof store[k], "%zu", i + 1);
            nums[k] = store[k];
            k++;
        }
    kc_buf_puts(b, k == 1 ? "condition " : "conditions ");
    kc__words(b, nums, k, "and");
    if (k == 0)
        kc_buf_puts(b, "(none)");
}

static void cond_text(kc_emit *e, kc_buf *b, const conds *cs, size_t i)
{
    static const char *const days[] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                       "Friday", "Saturday", "Sunday"};
    const cond *c = &cs->v[i];
    const kc_value *v = c->a ? &c->a->v : NULL;
    char tmp[64];
    switch (c->what) {
    case C_FROM:
        kc__fmt_date(tmp, sizeof tmp, v->i);
        kc_buf_printf(b, "the date is %s or later", tmp);
        return;
    case C_TO:
        kc__fmt_date(tmp, sizeof tmp, v->i);
        kc_buf_printf(b, "the date is %s or earlier", tmp);
        return;
    case C_DAYS: {
        const char *w[7];
        size_t n = 0;
        for (int k = 0; k < 7; k++)
            if (v->i & (INT64_C(1) << k))
                w[n++] = days[k];
        kc_buf_puts(b, "the day is ");
        kc__words(b, w, n, "or");
        return;
    }
    case C_HOURS:
        kc_buf_printf(b, "the time is from %02lld:%02lld to %02lld:%02lld%s (the end excluded)",
                      (long long)(v->i / 60), (long long)(v->i % 60), (long long)(v->j / 60),
                      (long long)(v->j % 60), v->i > v->j ? " past midnight" : "");
        return;
    case C_CHANNELS:
    case C_STORES:
    case C_REGIONS:
        kc_buf_printf(b, "the %s is ",
                      c->what == C_CHANNELS ? "sales channel"
                      : c->what == C_STORES ? "store"
                                            : "region");
        kc__words(b, v->list, v->n, "or");
        return;
    case C_MEMBERS:
        kc_buf_puts(b, "the receipt has an identified customer");
        return;
    case C_SEGMENTS:
    case C_TIERS:
    case C_LISTS:
        kc_buf_puts(b, c->what == C_SEGMENTS ? "the customer is in segment "
                       : c->what == C_TIERS  ? "the customer has tier "
                                             : "the customer is on list ");
        kc__words(b, v->list, v->n, "or");
        return;
    case C_FIRST:
        kc_buf_printf(b, "this is %sthe customer's first purchase", v->i ? "" : "not ");
        return;
    case C_BIRTHDAY:
        kc_buf_printf(b, "the customer's birthday is at most %lld days away", (long long)v->i);
        return;
    case C_REGISTERED:
        kc_buf_printf(b, "the customer registered at most %lld days ago", (long long)v->i);
        return;
    case C_TOTAL: {
        const kc_attr *mn = kc__emit_written(c->n, "min"), *mx = kc__emit_written(c->n, "max");
        const char *basis = kc__str(c->n, "basis");
        bool after = basis && !strcmp(basis, "after");
        kc_buf_printf(b, "receipt total %s", after ? "after earlier discounts" : "before discounts");
        if (mn) {
            kc_buf_puts(b, " is at least ");
            money(e, b, mn->v.i);
        }
        if (mx) {
            kc_buf_puts(b, mn ? " and below " : " is below ");
            money(e, b, mx->v.i);
        }
        if (!mn && !mx)
            kc_buf_puts(b, " is any amount");
        return;
    }
    case C_LINES: {
        const kc_attr *q = kc__emit_written(c->n, "min-quantity");
        const kc_attr *m = kc__emit_written(c->n, "min-amount");
        const char *basis = kc__str(c->n, "basis");
        bool after = basis && !strcmp(basis, "after");
        kc_buf sel;
        kc_buf_init(&sel, 0);
        kc__describe_selector(&sel, c->n);
        if (!q && !m) {
            kc_buf_puts(b, "the receipt has a line");
            if (sel.len)
                kc_buf_printf(b, " of %s", sel.data);
        } else {
            kc_buf_printf(b, "lines%s%s have ", sel.len ? " of " : "", sel.len ? sel.data : "");
            if (q)
                kc_buf_printf(b, "at least %lld units", (long long)q->v.i);
            if (q && m)
                kc_buf_puts(b, " and ");
            if (m) {
                kc_buf_puts(b, "an amount of at least ");
                money(e, b, m->v.i);
                kc_buf_puts(b, after ? " after earlier discounts" : " before discounts");
            }
        }
        kc_buf_free(&sel);
        return;
    }
    case C_CODE:
        kc_buf_puts(b, "a code of batch ");
        kc_buf_puts(b, kc__str(c->n, "batch") ? kc__str(c->n, "batch") : "?");
        kc_buf_puts(b, " is on the receipt");
        return;
    case C_CUSTOMER: {
        const kc_attr *eq = kc__emit_attr(c->n, "equals");
        kc_buf_printf(b, "customer attribute %s is ",
                      kc__str(c->n, "attribute") ? kc__str(c->n, "attribute") : "?");
        if (eq)
            kc__words(b, eq->v.list, eq->v.n, "or");
        return;
    }
    case C_ALL:
        kc_buf_puts(b, "all of ");
        children_numbers(b, cs, i);
        kc_buf_puts(b, " hold");
        return;
    case C_ANY:
        kc_buf_puts(b, "at least one of ");
        children_numbers(b, cs, i);
        kc_buf_puts(b, " holds");
        return;
    case C_TIER_HAS:
        kc_buf_printf(b, "the customer has tier %s", kc__emit_id(c->n));
        return;
    }
}

// ---- condition code ----------------------------------------------------------------------------
// The helper function of a `lines` condition (a loop over the lines, no allocation).
static unsigned lines_helper(kc_emit *e, const cond *c)
{
    const kc_attr *q = kc__emit_written(c->n, "min-quantity");
    const kc_attr *m = kc__emit_written(c->n, "min-amount");
    const char *basis = kc__str(c->n, "basis");
    const char *field = basis && !strcmp(basis, "after") ? "current" : "amount";
    unsigned sel = kc__emit_selector(e, c->n);
    unsigned id = ++e->next_id;
    kc_buf *b = &e->locals;
    char src[1200];
    kc__src_text(e, src, sizeof src, c->n->line);
    kc_buf_puts(b, "  -- ");
    kc__lua_comment(b, src);
    kc_buf_printf(b, " lines\n  local function cond_%u(ctx)\n    local lines = ctx.lines\n", id);
    if (q || m)
        kc_buf_puts(b, "    local units, amount = 0, 0\n");
    kc_buf_puts(b, "    for i = 1, #lines do\n      local l = lines[i]\n");
    const char *in = "      ";
    if (sel) {
        kc_buf_printf(b, "      if sel_%u(l) then\n", sel);
        in = "        ";
    }
    if (q || m)
        kc_buf_printf(b, "%sunits = units + l.qty\n%samount = amount + l.%s\n", in, in, field);
    else
        kc_buf_printf(b, "%sreturn true\n", in);
    if (sel)
        kc_buf_puts(b, "      end\n");
    kc_buf_puts(b, "    end\n");
    if (q || m) {
        kc_buf_puts(b, "    return ");
        if (q)
            kc_buf_printf(b, "units >= %lld", (long long)q->v.i);
        if (q && m)
            kc_buf_puts(b, " and ");
        if (m)
            kc_buf_printf(b, "amount >= %lld", (long long)m->v.i);
        kc_buf_puts(b, "\n  end\n");
    } else {
        kc_buf_puts(b, "    return false\n  end\n");
    }
    return id;
}

static void cond_expr(kc_emit *e, kc_buf *b, const conds *cs, size_t i)
{
    const cond *c = &cs->v[i];
    const kc_value *v = c->a ? &c->a->v : NULL;
    switch (c->what) {
    case C_FROM:
        kc_buf_printf(b, "ctx.date >= %lld", (long long)v->i);
        return;
    case C_TO:
        kc_buf_printf(b, "ctx.date <= %lld", (long long)v->i);
        return;
    case C_DAYS:
        kc_buf_printf(b, "0x%02llx & (1 << (ctx.weekday - 1)) ~= 0", (unsigned long long)v->i);
        return;
    case C_HOURS:
        if (v->i < v->j)
            kc_buf_printf(b, "ctx.minute >= %lld and ctx.minute < %lld", (long long)v->i,
                          (long long)v->j);
        else
            kc_buf_printf(b, "(ctx.minute >= %lld or ctx.minute < %lld)", (long long)v->i,
                          (long long)v->j);
        return;
    case C_CHANNELS:
        kc__emit_in(e, b, "ctx.channel", v, false);
        return;
    case C_STORES:
        kc__emit_in(e, b, "ctx.store", v, false);
        return;
    case C_REGIONS:
        kc__emit_in(e, b, "ctx.region", v, false);
        return;
    case C_MEMBERS:
        kc_buf_puts(b, "cu ~= nil");
        return;
    case C_SEGMENTS:
        kc__emit_cu_set(b, "segments", v);
        return;
    case C_TIERS:
        kc__emit_cu_set(b, "tiers", v);
        return;
    case C_LISTS:
        kc__emit_cu_set(b, "lists", v);
        return;
    case C_FIRST:
        kc_buf_puts(b, v->i ? "cu ~= nil and cu.first_purchase == true"
                            : "cu ~= nil and not cu.first_purchase");
        return;
    case C_BIRTHDAY:
        kc_buf_printf(b, "cu ~= nil and cu.birthday_distance ~= nil and cu.birthday_distance <= %lld",
                      (long long)v->i);
        return;
    case C_REGISTERED:
        kc_buf_printf(b, "cu ~= nil and cu.days_registered ~= nil and cu.days_registered <= %lld",
                      (long long)v->i);
        return;
    case C_TOTAL: {
        const kc_attr *mn = kc__emit_written(c->n, "min"), *mx = kc__emit_written(c->n, "max");
        const char *basis = kc__str(c->n, "basis");
        const char *t = basis && !strcmp(basis, "after") ? "ctx.current_total" : "ctx.total";
        if (mn)
            kc_buf_printf(b, "%s >= %lld", t, (long long)mn->v.i);
        if (mx)
            kc_buf_printf(b, "%s%s < %lld", mn ? " and " : "", t, (long long)mx->v.i);
        if (!mn && !mx)
            kc_buf_puts(b, "true");
        return;
    }
    case C_LINES:
        kc_buf_printf(b, "cond_%u(ctx)", c->helper);
        return;
    case C_CODE:
        kc_buf_puts(b, "ctx.codes[");
        kc__lua_str(b, kc__str(c->n, "batch"));
        kc_buf_puts(b, "] ~= nil");
        return;
    case C_CUSTOMER: {
        const kc_attr *eq = kc__emit_attr(c->n, "equals");
        kc_buf f;
        kc_buf_init(&f, 0);
        kc_buf_puts(&f, "cu.attrs[");
        kc__lua_str(&f, kc__str(c->n, "attribute"));
        kc_buf_puts(&f, "]");
        kc_buf_puts(b, "cu ~= nil and ");
        if (eq && eq->v.n)
            kc__emit_in(e, b, f.data ? f.data : "nil", &eq->v, false);
        else
            kc_buf_puts(b, "false");
        kc_buf_free(&f);
        return;
    }
    case C_ALL:
    case C_ANY: {
        bool any = false;
        kc_buf_puts(b, "(");
        for (size_t k = i + 1; k < cs->n; k++) {
            if (cs->v[k].parent != (int)i)
                continue;
            kc_buf_puts(b, any ? (c->what == C_ALL ? " and (" : " or (") : "(");
            cond_expr(e, b, cs, k);
            kc_buf_puts(b, ")");
            any = true;
        }
        kc_buf_puts(b, any ? ")" : "true)"); // an empty group holds
        return;
    }
    case C_TIER_HAS:
        kc_buf_puts(b, "cu ~= nil and cu.tiers[");
        kc__lua_str(b, kc__emit_id(c->n));
        kc_buf_puts(b, "] ~= nil");
        return;
    }
}

// Statements of check() for the conditions whose parent is `parent` (an all-context).
static void check_statements(kc_emit *e, kc_buf *b, const conds *cs, int parent)
{
    for (size_t i = 0; i < cs->n; i++) {
        const cond *c = &cs->v[i];
        if (c->parent != parent)
            continue;
        if (c->what == C_ALL) {
            check_statements(e, b, cs, (int)i);
            continue;
        }
        kc_buf_puts(b, "    if not (");
        cond_expr(e, b, cs, i);
        kc_buf_printf(b, ") then\n      return %zu\n    end\n", i + 1);
    }
}

// ---- effects ------------------------------------------------------------------------------------
typedef struct lineval {
    unsigned tbl_v;   // table giving the value per line (0: `constant`)
    int64_t constant;
    unsigned tbl_f;   // table giving the factor per line (0: `fconst`)
    int64_t fconst;   // 10000 = no factor
    bool money;       // scale with scale_money (else scale_bp)
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

// `local ls[, vs], n` and the loop that fills them with the selected lines (and values).
static void collect_lines(kc_emit *e, kc_buf *b, unsigned sel, const lineval *lv)
{
    kc_buf_puts(b, lv ? "      local ls, vs, n = {}, {}, 0\n" : "      local ls, n = {}, 0\n");
    kc_buf_puts(b, "      for i = 1, #lines do\n        local l = lines[i]\n");
    char in[64] = "        ";
    unsigned ends = 0;
    if (sel) {
        kc_buf_printf(b, "%sif sel_%u(l) then\n", in, sel);
        strcat(in, "  ");
        ends++;
    }
    if (lv && lv->tbl_v) {
        kc_buf_printf(b, "%slocal v = tbl_%u(ctx, l)\n%sif v ~= nil then\n", in, lv->tbl_v, in);
        strcat(in, "  ");
        ends++;
    }
    if (lv && lv->tbl_f) {
        kc_buf_printf(b, "%slocal f = tbl_%u(ctx, l)\n%sif f ~= nil then\n", in, lv->tbl_f, in);
        strcat(in, "  ");
        ends++;
    }
    kc_buf_printf(b, "%sn = n + 1\n%sls[n] = i\n", in, in);
    if (lv) {
        kc_buf_printf(b, "%svs[n] = ", in);
        value_expr(e, b, lv);
        kc_buf_puts(b, "\n");
    }
    while (ends--) {
        in[strlen(in) - 2] = '\0';
        kc_buf_printf(b, "%send\n", in);
    }
    kc_buf_puts(b, "      end\n");
}

static void effect_open(kc_emit *e, kc_buf *b, const kc_node *n, const char *what)
{
    char src[1200];
    kc__src_text(e, src, sizeof src, n->line);
    kc_buf_puts(b, "    do -- ");
    kc__lua_comment(b, src);
    kc_buf_printf(b, " %s\n", what);
}

// `if n > 0 then out[#out + 1] = { src, kind, <fields>lines = ls } end` and the block's end.
static void effect_close(kc_emit *e, kc_buf *b, const kc_node *n, const char *kind,
                         const char *fields)
{
    kc_buf_puts(b, "      if n > 0 then\n        out[#out + 1] = { ");
    kc__lua_src(e, b, n->line);
    kc_buf_printf(b, ", kind = \"%s\", %slines = ls }\n      end\n    end\n", kind, fields);
}

// A percent-or-@table attribute and a factor-or-@table attribute as a lineval.
static lineval lineval_of(kc_emit *e, const kc_attr *pct, const kc_attr *fac, bool money,
                          int64_t constant)
{
    lineval lv = {.fconst = 10000, .money = money, .constant = constant};
    if (pct) {
        if (pct->v.is_ref)
            lv.tbl_v = kc__emit_table_ref(e, pct->v.s);
        else
            lv.constant = pct->v.i;
    }
    if (fac) {
        if (fac->v.is_ref)
            lv.tbl_f = kc__emit_table_ref(e, fac->v.s);
        else
            lv.fconst = fac->v.i;
    }
    return lv;
}

static void emit_effect(kc_emit *e, kc_buf *b, const kc_node *n)
{
    char fields[256];
    switch (n->spec->id) {
    case KC_E_DISCOUNT: {
        const kc_attr *pct = kc__emit_written(n, "percent"), *am = kc__emit_written(n, "amount");
        const kc_attr *fac = kc__emit_written(n, "factor");
        unsigned sel = kc__emit_selector(e, n);
        if (pct) {
            lineval lv = lineval_of(e, pct, fac, false, 0);
            effect_open(e, b, n, "discount percent");
            collect_lines(e, b, sel, &lv);
            effect_close(e, b, n, "percent", "bp = vs, ");
        }
        if (am) {
            const char *per = kc__str(n, "per");
            per = per ? per : "line";
            effect_open(e, b, n, "discount amount");
            if (strcmp(per, "receipt") != 0) {
                lineval lv = lineval_of(e, NULL, fac, true, am->v.i);
                collect_lines(e, b, sel, &lv);
                snprintf(fields, sizeof fields, "per = \"%s\", amount = vs, ", per);
                effect_close(e, b, n, "amount", fields);
            } else if (fac && fac->v.is_ref) {
                // One amount for the receipt: the factor table answers for the receipt
                // (line = nil); no answer, no effect.
                unsigned t = kc__emit_table_ref(e, fac->v.s);
                e->helpers |= KC_H_SCALE_MONEY;
                kc_buf_printf(b, "      local f = tbl_%u(ctx, nil)\n", t);
                collect_lines(e, b, sel, NULL);
                kc_buf_puts(b, "      if f ~= nil and n > 0 then\n        out[#out + 1] = { ");
                kc__lua_src(e, b, n->line);
                kc_buf_printf(b, ", kind = \"amount\", per = \"receipt\", amount = "
                                 "scale_money(%lld, f), lines = ls }\n      end\n    end\n",
                              (long long)am->v.i);
            } else {
                int64_t a = fac ? scale_money_c(e, am->v.i, fac->v.i) : am->v.i;
                collect_lines(e, b, sel, NULL);
                snprintf(fields, sizeof fields, "per = \"receipt\", amount = %lld, ", (long long)a);
                effect_close(e, b, n, "amount", fields);
            }
        }
        return;
    }
    case KC_E_FIXED_PRICE: {
        unsigned sel = kc__emit_selector(e, n);
        effect_open(e, b, n, "fixed-price");
        collect_lines(e, b, sel, NULL);
        snprintf(fields, sizeof fields, "price = %lld, ", (long long)kc__int(n, "price"));
        effect_close(e, b, n, "fixed_price", fields);
        return;
    }
    case KC_E_CHEAPEST: {
        unsigned sel = kc__emit_selector(e, n);
        effect_open(e, b, n, "cheapest");
        collect_lines(e, b, sel, NULL);
        snprintf(fields, sizeof fields, "bp = %lld, count = %lld, ",
                 (long long)kc__int(n, "percent"), (long long)kc__int(n, "count"));
        effect_close(e, b, n, "cheapest", fields);
        return;
    }
    case KC_E_BUY_GET: {
        unsigned sel = kc__emit_selector(e, n);
        effect_open(e, b, n, "buy-get");
        collect_lines(e, b, sel, NULL);
        snprintf(fields, sizeof fields, "buy = %lld, get = %lld, bp = %lld, ",
                 (long long)kc__int(n, "buy"), (long long)kc__int(n, "get"),
                 (long long)kc__int(n, "percent"));
        effect_close(e, b, n, "buy_get", fields);
        return;
    }
    case KC_E_POINTS: {
        const kc_attr *am = kc__emit_written(n, "amount"), *pct = kc__emit_written(n, "percent");
        const kc_attr *mul = kc__emit_written(n, "multiplier");
        unsigned sel = kc__emit_selector(e, n);
        if (am) {
            effect_open(e, b, n, "points amount");
            if (sel) {
                collect_lines(e, b, sel, NULL);
                snprintf(fields, sizeof fields, "amount = %lld, ", (long long)am->v.i);
                effect_close(e, b, n, "points", fields);
            } else {
                kc_buf_puts(b, "      out[#out + 1] = { ");
                kc__lua_src(e, b, n->line);
                kc_buf_printf(b, ", kind = \"points\", amount = %lld }\n    end\n",
                              (long long)am->v.i);
            }
        }
        if (pct) {
            lineval lv = lineval_of(e, pct, NULL, false, 0);
            effect_open(e, b, n, "points percent");
            collect_lines(e, b, sel, &lv);
            effect_close(e, b, n, "points", "bp = vs, ");
        }
        if (mul) {
            effect_open(e, b, n, "points multiplier");
            collect_lines(e, b, sel, NULL);
            snprintf(fields, sizeof fields, "factor = %lld, ", (long long)mul->v.i);
            effect_close(e, b, n, "points_multiplier", fields);
        }
        return;
    }
    case KC_E_MESSAGE: {
        char src[1200];
        kc__src_text(e, src, sizeof src, n->line);
        kc_buf_puts(b, "    -- ");
        kc__lua_comment(b, src);
        kc_buf_puts(b, " message\n    out[#out + 1] = { ");
        kc__lua_src(e, b, n->line);
        kc_buf_puts(b, ", kind = \"message\", to = ");
        kc__lua_str(b, kc__str(n, "to") ? kc__str(n, "to") : "cashier");
        kc_buf_puts(b, ", text = ");
        kc__lua_str(b, n->text ? n->text : "");
        kc_buf_puts(b, " }\n");
        return;
    }
    default:
        return;
    }
}

// ---- one promotion -------------------------------------------------------------------------------
typedef struct item {
    const kc_node *n;    // promotion, or tier
    bool tier;
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

static void emit_check(kc_emit *e, const conds *cs)
{
    kc_buf *b = &e->body;
    kc_buf_puts(b, "  -- nil when every condition holds, else the number of the first that fails\n"
                   "  local function check(ctx)\n");
    bool cu = false;
    for (size_t i = 0; i < cs->n; i++) {
        cwhat w = cs->v[i].what;
        if ((w >= C_MEMBERS && w <= C_REGISTERED) || w == C_CUSTOMER || w == C_TIER_HAS)
            cu = true;
    }
    if (cu)
        kc_buf_puts(b, "    local cu = ctx.customer\n");
    check_statements(e, b, cs, -1);
    kc_buf_puts(b, "    return nil\n  end\n");
}

static void emit_conditions_list(kc_emit *e, kc_buf *b, const conds *cs)
{
    kc_buf_puts(b, "    conditions = {\n");
    for (size_t i = 0; i < cs->n; i++) {
        kc_buf t;
        kc_buf_init(&t, 0);
        cond_text(e, &t, cs, i);
        kc_buf_puts(b, "      { ");
        kc__lua_src(e, b, cs->v[i].line);
        kc_buf_puts(b, ", text = ");
        kc__lua_str(b, t.data ? t.data : "");
        kc_buf_printf(b, " }, -- %zu\n", i + 1);
        kc_buf_free(&t);
    }
    kc_buf_puts(b, "    },\n");
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

static void emit_promotion(kc_emit *e, const item *it, unsigned index)
{
    const kc_node *n = it->n;
    conds cs = {0};
    kc__emit_block_begin(e);
    kc_buf *b = &e->body;
    if (it->tier)
        add(&cs, C_TIER_HAS, n, NULL, -1);
    else
        collect(&cs, n);
    for (size_t i = 0; i < cs.n; i++)
        if (cs.v[i].what == C_LINES)
            cs.v[i].helper = lines_helper(e, &cs.v[i]);
    emit_check(e, &cs);

    kc_buf_puts(b, "  -- the effects, for a receipt that passed check()\n"
                   "  local function effects(ctx)\n    local lines = ctx.lines\n"
                   "    local out = {}\n");
    if (it->tier) {
        lineval lv = lineval_of(e, kc__emit_written(n, "discount"), NULL, false, 0);
        effect_open(e, b, n, "tier discount");
        collect_lines(e, b, 0, &lv);
        effect_close(e, b, n, "percent", "bp = vs, ");
    } else {
        for (const kc_node *c = n->first; c; c = c->next)
            if (c->spec)
                emit_effect(e, b, c);
    }
    kc_buf_puts(b, "    return out\n  end\n");

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
        kc_buf_puts(b, "\n");
    }
    emit_limits(e, b, it->tier ? NULL : n, KC_E_CAP, "caps");
    emit_limits(e, b, it->tier ? NULL : n, KC_E_LIMIT, "limits");
    emit_conditions_list(e, b, &cs);
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
    if (it.failed)
        e->failed = true;
    if (it.n)
        qsort(it.v, it.n, sizeof *it.v, cmp_item);
    for (size_t i = 0; i < it.n; i++)
        emit_promotion(e, &it.v[i], (unsigned)(i + 1));
    free(it.v);
}
