// SPDX-License-Identifier: MIT
// kc-emit-conditions.c: the conditions of a promotion — their numbering, their sentences and
// the allocation-free check(ctx) that tests them.
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

int kc__cond_add(conds *cs, cwhat w, const kc_node *n, const kc_attr *a, int parent)
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
            kc__cond_add(cs, C_TOTAL, c, NULL, parent);
            break;
        case KC_E_LINES:
            kc__cond_add(cs, C_LINES, c, NULL, parent);
            break;
        case KC_E_CODE:
            kc__cond_add(cs, C_CODE, c, NULL, parent);
            break;
        case KC_E_CUSTOMER:
            kc__cond_add(cs, C_CUSTOMER, c, NULL, parent);
            break;
        case KC_E_ALL:
        case KC_E_ANY: {
            int k = kc__cond_add(cs, c->spec->id == KC_E_ALL ? C_ALL : C_ANY, c, NULL, parent);
            if (k >= 0)
                add_tree(cs, c, k);
            break;
        }
        default:
            break;
        }
    }
}

void kc__cond_collect(conds *cs, const kc_node *pr)
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
                kc__cond_add(cs, C_MEMBERS, n, m, -1);
            continue;
        }
        const kc_attr *a = kc__emit_written(n, order[k].attr);
        if (a)
            kc__cond_add(cs, order[k].what, n, a, -1);
    }
    const kc_node *w = kc__child(pr, KC_E_WHEN, NULL);
    if (w) {
        const char *m = kc__str(w, "match");
        int parent = -1;
        if (m && !strcmp(m, "any"))
            parent = kc__cond_add(cs, C_ANY, w, NULL, -1);
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
        kc_buf sel;
        kc_buf_init(&sel, 0);
        kc__describe_selector(&sel, c->n);
        if (sel.len)
            kc_buf_printf(b, " of lines of %s", sel.data);
        kc_buf_free(&sel);
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
    case C_ALL: {
        kc_buf nums;
        kc_buf_init(&nums, 0);
        children_numbers(&nums, cs, i);
        bool one = nums.data && strncmp(nums.data, "conditions", 10) != 0;
        kc_buf_printf(b, "%s%s hold%s", one ? "" : "all of ", nums.data ? nums.data : "",
                      one ? "s" : "");
        kc_buf_free(&nums);
        return;
    }
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
    kc_buf sel;
    kc_buf_init(&sel, 0);
    bool any = kc__emit_selector_inline(e, &sel, c->n, ""); // tested inline: no call per line
    unsigned id = ++e->next_id;
    kc_buf *b = &e->locals;
    char src[1200];
    kc__src_text(e, src, sizeof src, c->n->line);
    kc_buf_puts(b, "  -- ");
    kc__lua_comment(b, src);
    kc_buf_printf(b, " lines\n  local function cond_%u(ctx)\n    local lines = ctx.lines\n", id);
    if (q)
        kc_buf_puts(b, "    local units = 0\n");
    if (m)
        kc_buf_puts(b, "    local amount = 0\n");
    kc_buf_puts(b, "    for i = 1, #lines do\n      local l = lines[i]\n");
    const char *in = "      ";
    if (any) {
        kc_buf_printf(b, "      if %s then\n", sel.data ? sel.data : "false");
        in = "        ";
    }
    if (q)
        kc_buf_printf(b, "%sunits = units + l.qty\n", in);
    if (m)
        kc_buf_printf(b, "%samount = amount + l.%s\n", in, field);
    if (!q && !m)
        kc_buf_printf(b, "%sreturn true\n", in);
    if (any)
        kc_buf_puts(b, "      end\n");
    kc_buf_free(&sel);
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
            kc_buf_printf(b, "ctx.minute >= %lld or ctx.minute < %lld", (long long)v->i,
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
        char sum[32];
        if (c->helper) { // a selector: the total of the selected lines
            snprintf(sum, sizeof sum, "total_%u(ctx)", c->helper);
            t = sum;
        }
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
        // (a and b) / (a or b); a child that is itself an and/or expression gets parentheses
        bool any = false;
        kc_buf_puts(b, "(");
        for (size_t k = i + 1; k < cs->n; k++) {
            if (cs->v[k].parent != (int)i)
                continue;
            kc_buf x;
            kc_buf_init(&x, 0);
            cond_expr(e, &x, cs, k);
            const char *t = x.data ? x.data : "false";
            bool group = cs->v[k].what == C_ALL || cs->v[k].what == C_ANY;
            bool wrap = !group && (strstr(t, " and ") || strstr(t, " or "));
            kc_buf_printf(b, "%s%s%s%s", any ? (c->what == C_ALL ? " and " : " or ") : "",
                          wrap ? "(" : "", t, wrap ? ")" : "");
            kc_buf_free(&x);
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

void kc__emit_check(kc_emit *e, conds *cs)
{
    for (size_t i = 0; i < cs->n; i++)
        if (cs->v[i].what == C_LINES)
            cs->v[i].helper = lines_helper(e, &cs->v[i]);
        else if (cs->v[i].what == C_TOTAL) {
            const char *basis = kc__str(cs->v[i].n, "basis");
            bool after = basis && !strcmp(basis, "after");
            cs->v[i].helper = kc__emit_total_helper(e, cs->v[i].n, after ? "current" : "amount");
        }
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

void kc__emit_conditions_list(kc_emit *e, kc_buf *b, const conds *cs)
{
    kc_buf_puts(b, cs->n ? "    conditions = {\n" : "    conditions = {},\n");
    if (!cs->n)
        return;
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
