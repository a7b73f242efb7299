// SPDX-License-Identifier: MIT
// kc-emit-tables.c: decision tables, the accrual rate and the redemption rules as Lua.
//
// A table becomes `TABLES[id] = function(ctx, line) ... end` that returns the output value
// and the number of the row that gave it (0 for the table's default), or nil. Cells:
//   `*` (or an empty cell)   any value
//   `a b c`                  one of these words (for segment/tier: the customer has one)
//   `not a b`                none of these words (an absent value matches)
//   `A..B`, `..B`, `A..`     A <= value < B, for receipt-total, turnover (money) and
//                            receipt-count (a count); a single number means equality
// Outputs: percent -> basis points, money -> minor units, factor -> x10000, points -> integer.
#include "kc-emit-private.h"

#include <stdlib.h>
#include <string.h>

typedef enum num_kind { NUM_NONE, NUM_MONEY, NUM_COUNT } num_kind;

static num_kind input_numeric(const kc_node *in)
{
    const char *s = kc__str(in, "source");
    if (!s)
        return NUM_NONE;
    if (!strcmp(s, "receipt-total") || !strcmp(s, "turnover"))
        return NUM_MONEY;
    if (!strcmp(s, "receipt-count"))
        return NUM_COUNT;
    return NUM_NONE;
}

// The counter key of a windowed input: "turnover:calendar-quarter", "receipt-count:rolling-days:30".
static void counter_key(kc_buf *b, const kc_node *in, const char *source)
{
    const char *w = kc__str(in, "window");
    kc_buf field;
    kc_buf_init(&field, 0);
    kc_buf_printf(&field, "%s:%s", source, w ? w : "calendar-year");
    if (w && !strcmp(w, "rolling-days"))
        kc_buf_printf(&field, ":%lld", (long long)kc__int(in, "days"));
    kc__lua_str(b, field.data ? field.data : "");
    kc_buf_free(&field);
}

// `local vK = <expr> -- <source>` for input K; returns true when the value is a set.
static bool input_local(kc_emit *e, kc_buf *b, const kc_node *in, unsigned k)
{
    const char *s = kc__str(in, "source");
    s = s ? s : "";
    const char *attr = kc__str(in, "attribute");
    kc_buf_printf(b, "    local v%u = ", k);
    bool set = false;
    if (!strcmp(s, "segment") || !strcmp(s, "tier")) {
        kc_buf_printf(b, "cu and cu.%s", s[0] == 's' ? "segments" : "tiers");
        set = true;
    } else if (!strcmp(s, "region") || !strcmp(s, "store") || !strcmp(s, "channel")) {
        kc_buf_printf(b, "ctx.%s", s);
    } else if (!strcmp(s, "category") || !strcmp(s, "sku") || !strcmp(s, "brand")) {
        kc_buf_printf(b, "line and line.%s", s);
    } else if (!strcmp(s, "line-attribute") || !strcmp(s, "customer-attribute")) {
        kc_buf_puts(b, s[0] == 'l' ? "line and line.attrs[" : "cu and cu.attrs[");
        kc__lua_str(b, attr ? attr : "");
        kc_buf_puts(b, "]");
    } else if (!strcmp(s, "receipt-total")) {
        unsigned t = kc__emit_total_helper(e, in, "amount");
        if (t)
            kc_buf_printf(b, "total_%u(ctx)", t);
        else
            kc_buf_puts(b, "ctx.total");
    } else if (!strcmp(s, "turnover") || !strcmp(s, "receipt-count")) {
        kc_buf_puts(b, "cu and cu.counters[");
        counter_key(b, in, s);
        kc_buf_puts(b, "]");
    } else {
        kc_buf_puts(b, "nil");
    }
    kc_buf_puts(b, " -- ");
    kc__lua_comment(b, s);
    if (attr) {
        kc_buf_puts(b, " ");
        kc__lua_comment(b, attr);
    }
    kc_buf_puts(b, "\n");
    return set;
}

// Parses a number of an input's kind; false when it is not one.
static bool parse_num(const char *s, num_kind nk, int minor_unit, int64_t *out)
{
    kc_attr_spec spec = {.name = "cell", .type = nk == NUM_MONEY ? KC_V_MONEY : KC_V_INT};
    kc_arena a = {0};
    kc_value v;
    char why[256], hint[256];
    bool ok = kc__parse_value(&spec, s, minor_unit, &a, &v, why, sizeof why, hint, sizeof hint);
    kc__arena_free(&a);
    if (ok)
        *out = v.i;
    return ok;
}

// Parses an output value (`then`, `default`) by the table's output type.
bool kc__emit_parse_output(const kc_node *table, const char *s, int minor_unit, int64_t *out)
{
    const char *o = kc__str(table, "output");
    kc_attr_spec spec = {.name = "then", .type = KC_V_PERCENT};
    if (o && !strcmp(o, "money"))
        spec.type = KC_V_MONEY;
    else if (o && !strcmp(o, "factor"))
        spec.type = KC_V_FACTOR;
    else if (o && !strcmp(o, "points"))
        spec.type = KC_V_INT;
    kc_arena a = {0};
    kc_value v;
    char why[256], hint[256];
    bool ok = s && kc__parse_value(&spec, s, minor_unit, &a, &v, why, sizeof why, hint, sizeof hint);
    kc__arena_free(&a);
    if (ok)
        *out = v.i;
    return ok;
}

static bool cell_words(kc_emit *e, kc_buf *b, const char *var, const char **words, size_t nw,
                       bool set, num_kind nk);

// The test of one cell on input K; writes "" when the cell matches anything, and returns
// false when the cell cannot be understood (the row then never matches).
static bool cell_test(kc_emit *e, kc_buf *b, const char *cell, unsigned k, bool set,
                      num_kind nk)
{
    char var[16];
    snprintf(var, sizeof var, "v%u", k);
    if (!*cell || !strcmp(cell, "*"))
        return true;
    const char *dots = strstr(cell, "..");
    if (nk != NUM_NONE && dots) {
        char lo[128], hi[128];
        size_t ll = (size_t)(dots - cell);
        if (ll >= sizeof lo || strlen(dots + 2) >= sizeof hi)
            return false;
        memcpy(lo, cell, ll);
        lo[ll] = '\0';
        snprintf(hi, sizeof hi, "%s", dots + 2);
        char *bounds[2] = {lo, hi};
        for (int i = 0; i < 2; i++) { // `1000 .. 5000` reads like `1000..5000`
            char *x = bounds[i];
            size_t xl = strlen(x);
            while (xl && (x[xl - 1] == ' ' || x[xl - 1] == '\t'))
                x[--xl] = '\0';
            size_t lead = strspn(x, " \t");
            memmove(x, x + lead, xl - lead + 1);
        }
        int64_t a = 0, z = 0;
        bool has_lo = lo[0] != '\0', has_hi = hi[0] != '\0';
        if ((has_lo && !parse_num(lo, nk, e->p->minor_unit, &a)) ||
            (has_hi && !parse_num(hi, nk, e->p->minor_unit, &z)))
            return false;
        kc_buf_printf(b, "%s ~= nil", var);
        if (has_lo)
            kc_buf_printf(b, " and %s >= %lld", var, (long long)a);
        if (has_hi)
            kc_buf_printf(b, " and %s < %lld", var, (long long)z);
        return true;
    }
    kc_emit_words w;
    if (!kc__emit_split(cell, strlen(cell), &w)) {
        e->failed = true;
        return false;
    }
    bool ok = cell_words(e, b, var, (const char **)w.list, w.n, set, nk);
    kc__emit_words_free(&w);
    return ok;
}

static bool cell_words(kc_emit *e, kc_buf *b, const char *var, const char **words, size_t nw,
                       bool set, num_kind nk)
{
    if (nk != NUM_NONE) {
        kc_buf_puts(b, nw > 1 ? "(" : "");
        for (size_t i = 0; i < nw; i++) {
            int64_t x;
            if (!parse_num(words[i], nk, e->p->minor_unit, &x))
                return false;
            kc_buf_printf(b, "%s%s == %lld", i ? " or " : "", var, (long long)x);
        }
        kc_buf_puts(b, nw > 1 ? ")" : "");
        return nw > 0;
    }
    // `not a b`: the value is none of these (an absent value, or a customer without any of
    // these segments or tiers, matches).
    bool neg = nw > 1 && !strcmp(words[0], "not");
    kc_value v = {.list = words + neg, .n = nw - neg};
    if (v.n == 0)
        return false;
    if (set) {
        if (neg) {
            kc_buf_printf(b, "(%s == nil or (", var);
            for (size_t i = 0; i < v.n; i++) {
                kc_buf_printf(b, "%s%s[", i ? " and " : "", var);
                kc__lua_str(b, v.list[i]);
                kc_buf_puts(b, "] == nil");
            }
            kc_buf_puts(b, "))");
            return true;
        }
        kc_buf_printf(b, "%s ~= nil and ", var);
        kc_buf_puts(b, v.n > 1 ? "(" : "");
        for (size_t i = 0; i < v.n; i++) {
            kc_buf_printf(b, "%s%s[", i ? " or " : "", var);
            kc__lua_str(b, v.list[i]);
            kc_buf_puts(b, "] ~= nil");
        }
        kc_buf_puts(b, v.n > 1 ? ")" : "");
        return true;
    }
    kc__emit_in(e, b, var, &v, neg);
    return true;
}

static void emit_table(kc_emit *e, const kc_node *t)
{
    kc_buf *b = &e->body;
    const char *id = kc__emit_id(t);
    const char *hit = kc__str(t, "hit");
    hit = hit ? hit : "first";
    bool first = !strcmp(hit, "first"), sum = !strcmp(hit, "sum");
    bool lowest = !strcmp(hit, "lowest");
    const kc_node *inputs[64];
    bool sets[64];
    num_kind nks[64];
    unsigned ni = 0;
    for (const kc_node *in = kc__child(t, KC_E_INPUT, NULL); in && ni < 64;
         in = kc__child(t, KC_E_INPUT, in))
        inputs[ni++] = in;

    kc__emit_block_begin(e);
    kc_buf_puts(b, "  TABLES[");
    kc__lua_str(b, id);
    kc_buf_puts(b, "] = function(ctx, line)\n");
    kc_buf ins;
    kc_buf_init(&ins, 0);
    for (unsigned k = 0; k < ni; k++) {
        sets[k] = input_local(e, &ins, inputs[k], k + 1);
        nks[k] = input_numeric(inputs[k]);
    }
    if (ins.data && strstr(ins.data, "cu and"))
        kc_buf_puts(b, "    local cu = ctx.customer\n");
    kc_buf_append(b, ins.data ? ins.data : "", ins.len);
    kc_buf_free(&ins);
    if (!first)
        kc_buf_puts(b, sum ? "    local acc, row = 0, nil\n" : "    local acc, row = nil, nil\n");
    unsigned rown = 0;
    for (const kc_node *r = kc__child(t, KC_E_ROW, NULL); r; r = kc__child(t, KC_E_ROW, r)) {
        rown++;
        const char *when = kc__str(r, "when"), *then = kc__str(r, "then");
        char src[1200];
        kc__src_text(e, src, sizeof src, r->line);
        kc_buf_printf(b, "    -- row %u, ", rown);
        kc__lua_comment(b, src);
        kc_buf_puts(b, ": ");
        kc__lua_comment(b, when);
        kc_buf_puts(b, " -> ");
        kc__lua_comment(b, then);
        kc_buf_puts(b, "\n");
        int64_t value;
        if (!kc__emit_parse_output(t, then, e->p->minor_unit, &value)) {
            kc_buf_puts(b, "    -- (skipped: the output value cannot be read)\n");
            continue;
        }
        kc_buf test;
        kc_buf_init(&test, 0);
        bool ok = true;
        const char *p = when ? when : "";
        for (unsigned k = 0; k < ni && ok; k++) {
            const char *bar = strchr(p, '|');
            size_t len = bar ? (size_t)(bar - p) : strlen(p);
            const char *q = p;
            while (len && (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r')) {
                q++;
                len--;
            }
            while (len && (q[len - 1] == ' ' || q[len - 1] == '\t' || q[len - 1] == '\n' ||
                           q[len - 1] == '\r'))
                len--;
            char *cell = malloc(len + 1);
            if (!cell) {
                e->failed = true;
                break;
            }
            memcpy(cell, q, len);
            cell[len] = '\0';
            kc_buf one;
            kc_buf_init(&one, 0);
            ok = cell_test(e, &one, cell, k + 1, sets[k], nks[k]);
            free(cell);
            if (ok && one.len) {
                kc_buf_puts(&test, test.len ? " and " : "");
                kc_buf_puts(&test, one.data);
            }
            kc_buf_free(&one);
            p = bar ? bar + 1 : p + strlen(p);
        }
        if (!ok) {
            kc_buf_puts(b, "    -- (skipped: a cell cannot be read)\n");
            kc_buf_free(&test);
            continue;
        }
        kc_buf_printf(b, "    if %s then\n", test.len ? test.data : "true");
        if (first)
            kc_buf_printf(b, "      return %lld, %u\n", (long long)value, rown);
        else if (sum)
            kc_buf_printf(b, "      acc = acc + %lld\n      row = row or %u\n", (long long)value,
                          rown);
        else
            kc_buf_printf(b, "      if acc == nil or %lld %s acc then\n"
                             "        acc, row = %lld, %u\n      end\n",
                          (long long)value, lowest ? "<" : ">", (long long)value, rown);
        kc_buf_puts(b, "    end\n");
        kc_buf_free(&test);
    }
    if (!first)
        kc_buf_puts(b, "    if row ~= nil then\n      return acc, row\n    end\n");
    int64_t def;
    const char *dtext = kc__str(t, "default");
    if (dtext && kc__emit_parse_output(t, dtext, e->p->minor_unit, &def))
        kc_buf_printf(b, "    return %lld, 0 -- default\n", (long long)def);
    else
        kc_buf_puts(b, "    return nil\n");
    kc_buf_puts(b, "  end\n");

    kc_buf c;
    kc_buf_init(&c, 0);
    char src[1200];
    kc__src_text(e, src, sizeof src, t->line);
    kc_buf_printf(&c, "%s table \"%s\" (hit %s, output %s)", src, id, hit,
                  kc__str(t, "output") ? kc__str(t, "output") : "percent");
    kc__emit_block_end(e, c.data ? c.data : "");
    kc_buf_free(&c);
}

void kc__emit_tables(kc_emit *e)
{
    const kc_node *ts = kc__child(e->p->root, KC_E_TABLES, NULL);
    for (const kc_node *t = ts ? kc__child(ts, KC_E_TABLE, NULL) : NULL; t;
         t = kc__child(ts, KC_E_TABLE, t))
        emit_table(e, t);
}

// `if <test> then return 0, "src" end` for each exclude child of `n`.
static void emit_excludes(kc_emit *e, kc_buf *b, const kc_node *n, const char *ret)
{
    for (const kc_node *x = kc__child(n, KC_E_EXCLUDE, NULL); x;
         x = kc__child(n, KC_E_EXCLUDE, x)) {
        unsigned sel = kc__emit_selector(e, x);
        char src[1200];
        kc__src_text(e, src, sizeof src, x->line);
        kc_buf_puts(b, "    -- exclude ");
        kc__lua_comment(b, src);
        if (sel)
            kc_buf_printf(b, "\n    if sel_%u(line) then\n      return %s", sel, ret);
        else
            kc_buf_printf(b, "\n    if true then\n      return %s", ret);
        if (!strcmp(ret, "0,")) {
            kc_buf_puts(b, " ");
            kc__lua_str(b, src);
        }
        kc_buf_puts(b, "\n    end\n");
    }
}

// `return <percent>, "src"` for a percent-or-@table attribute; for a table, only when it
// answers (else the code falls through to the next rule).
static void emit_rate_return(kc_emit *e, kc_buf *b, const kc_attr *a, unsigned line,
                             const char *indent)
{
    char src[1200];
    kc__src_text(e, src, sizeof src, line);
    if (a && a->v.is_ref) {
        unsigned t = kc__emit_table_ref(e, a->v.s);
        kc_buf_printf(b, "%slocal v = tbl_%u(ctx, line)\n%sif v ~= nil then\n%s  return v, ",
                      indent, t, indent, indent);
        kc__lua_str(b, src);
        kc_buf_printf(b, "\n%send\n", indent);
    } else {
        kc_buf_printf(b, "%sreturn %lld, ", indent, (long long)(a ? a->v.i : 0));
        kc__lua_str(b, src);
        kc_buf_puts(b, "\n");
    }
}

void kc__emit_accrual(kc_emit *e)
{
    const kc_node *ac = kc__child(e->p->root, KC_E_ACCRUAL, NULL);
    if (!ac)
        return;
    kc__emit_block_begin(e);
    kc_buf *b = &e->body;
    kc_buf_puts(b, "  -- The accrual rate of a line, in basis points, and the rule that gave it.\n"
                   "  local function rate(ctx, line)\n    local cu = ctx.customer\n");
    emit_excludes(e, b, ac, "0,");
    for (const kc_node *r = kc__child(ac, KC_E_RATE, NULL); r; r = kc__child(ac, KC_E_RATE, r)) {
        kc_buf test;
        kc_buf_init(&test, 0);
        const kc_attr *sg = kc__emit_written(r, "segments"), *ti = kc__emit_written(r, "tiers");
        if (sg)
            kc__emit_cu_set(&test, "segments", &sg->v);
        if (ti) {
            kc_buf_puts(&test, test.len ? " and " : "");
            kc__emit_cu_set(&test, "tiers", &ti->v);
        }
        const kc_attr *li = kc__emit_written(r, "lists");
        if (li) {
            kc_buf_puts(&test, test.len ? " and " : "");
            kc__emit_cu_set(&test, "lists", &li->v);
        }
        unsigned sel = kc__emit_selector(e, r);
        if (sel)
            kc_buf_printf(&test, "%ssel_%u(line)", test.len ? " and " : "", sel);
        char src[1200];
        kc__src_text(e, src, sizeof src, r->line);
        kc_buf_puts(b, "    -- rate ");
        kc__lua_comment(b, src);
        kc_buf_printf(b, "\n    if %s then\n", test.len ? test.data : "true");
        emit_rate_return(e, b, kc__emit_attr(r, "percent"), r->line, "      ");
        kc_buf_puts(b, "    end\n");
        kc_buf_free(&test);
    }
    const kc_node *ts = kc__child(e->p->root, KC_E_TIERS, NULL);
    for (const kc_node *l = ts ? kc__child(ts, KC_E_LADDER, NULL) : NULL; l;
         l = kc__child(ts, KC_E_LADDER, l))
        for (const kc_node *t = kc__child(l, KC_E_TIER, NULL); t; t = kc__child(l, KC_E_TIER, t)) {
            const kc_attr *pr = kc__emit_written(t, "points-rate");
            if (!pr)
                continue;
            char src[1200];
            kc__src_text(e, src, sizeof src, t->line);
            kc_buf_puts(b, "    -- points-rate of tier ");
            kc__lua_comment(b, kc__emit_id(t));
            kc_buf_puts(b, ", ");
            kc__lua_comment(b, src);
            kc_buf_puts(b, "\n    if cu ~= nil and cu.tiers[");
            kc__lua_str(b, kc__emit_id(t));
            kc_buf_puts(b, "] ~= nil then\n");
            emit_rate_return(e, b, pr, t->line, "      ");
            kc_buf_puts(b, "    end\n");
        }
    kc_buf_puts(b, "    -- base rate\n");
    const kc_attr *base = kc__emit_attr(ac, "percent");
    emit_rate_return(e, b, base, ac->line, "    ");
    if (base && base->v.is_ref) {
        kc_buf_puts(b, "    return 0, ");
        char src[1200];
        kc__src_text(e, src, sizeof src, ac->line);
        kc__lua_str(b, src);
        kc_buf_puts(b, "\n");
    }
    kc_buf_puts(b, "  end\n  P.accrual = { basis = ");
    kc__lua_str(b, kc__str(ac, "basis"));
    kc_buf_puts(b, ", percent = ");
    kc__lua_attr_value(e, b, &ac->spec->attrs[0], kc__emit_attr(ac, "percent"));
    kc_buf_puts(b, ", ");
    kc__lua_src(e, b, ac->line);
    kc_buf_puts(b, ", rate = rate }\n");
    char c[1200];
    kc__src_text(e, c, sizeof c, ac->line);
    strncat(c, " accrual", sizeof c - strlen(c) - 1);
    kc__emit_block_end(e, c);
}

void kc__emit_redemption(kc_emit *e)
{
    const kc_node *rd = kc__child(e->p->root, KC_E_REDEMPTION, NULL);
    if (!rd)
        return;
    kc__emit_block_begin(e);
    kc_buf *b = &e->body;
    // Without an exclude every line may be paid with points: no `eligible`, so the runtime
    // makes no call per line (program-abi.md "Redemption").
    bool excludes = kc__child(rd, KC_E_EXCLUDE, NULL) != NULL;
    if (excludes) {
        kc_buf_puts(b, "  -- May points pay for this line?\n  local function eligible(line)\n");
        emit_excludes(e, b, rd, "false");
        kc_buf_puts(b, "    return true\n  end\n");
    }
    kc_buf_puts(b, "  P.redemption = { ");
    static const char *const skip[] = {NULL};
    kc__lua_all_attrs(e, b, rd, skip);
    kc__lua_src(e, b, rd->line);
    kc_buf_puts(b, excludes ? ", eligible = eligible }\n" : " }\n");
    char c[1200];
    kc__src_text(e, c, sizeof c, rd->line);
    strncat(c, " redemption", sizeof c - strlen(c) - 1);
    kc__emit_block_end(e, c);
}
