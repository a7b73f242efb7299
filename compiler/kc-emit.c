// SPDX-License-Identifier: MIT
// kc-emit.c: the typed tree -> readable, deterministic Lua (docs/internals/program-abi.md).
//
// This file writes the chunk's frame (header, helpers, `local P = {...}`, `return P`) and the
// text helpers every part uses. Program-wide data (segments, ladders, groups, batches,
// certificates, expiry, triggers, agreements) is in kc-emit-data.c; decision tables, accrual
// and redemption in kc-emit-tables.c; promotions in kc-emit-promotions.c and their
// conditions in kc-emit-conditions.c.
//
// Determinism: everything is written in document (or canonical) order of the tree; nothing
// iterates a hash. The program is assumed to have passed kc_check, but odd input never
// crashes the emitter: a missing attribute becomes `nil`, a missing reference a stand-in.
#include "kc-emit-private.h"

#include <stdlib.h>
#include <string.h>

// ---- Lua text ------------------------------------------------------------------------------
void kc__lua_str(kc_buf *b, const char *s)
{
    kc_buf_puts(b, "\"");
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p == '"')
            kc_buf_puts(b, "\\\"");
        else if (*p == '\\')
            kc_buf_puts(b, "\\\\");
        else if (*p == '\n')
            kc_buf_puts(b, "\\n");
        else if (*p < 0x20 || *p == 0x7f)
            kc_buf_printf(b, "\\%03u", (unsigned)*p);
        else
            kc_buf_append(b, (const char *)p, 1);
    }
    kc_buf_puts(b, "\"");
}

void kc__lua_comment(kc_buf *b, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++)
        kc_buf_append(b, *p < 0x20 || *p == 0x7f ? " " : (const char *)p, 1);
}

void kc__src_text(kc_emit *e, char *out, size_t outsz, unsigned line)
{
    snprintf(out, outsz, "%s:%u", e->src, line);
}

void kc__lua_src(kc_emit *e, kc_buf *b, unsigned line)
{
    char s[1200];
    kc__src_text(e, s, sizeof s, line);
    kc_buf_puts(b, "src = ");
    kc__lua_str(b, s);
}

static bool lua_ident(const char *s)
{
    static const char *const kw[] = {"and",   "break", "do",     "else", "elseif", "end",
                                     "false", "for",   "function", "goto", "if",   "in",
                                     "local", "nil",   "not",    "or",   "repeat", "return",
                                     "then",  "true",  "until",  "while", NULL};
    if (!s || !*s || !((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_'))
            return false;
    for (size_t i = 0; kw[i]; i++)
        if (strcmp(kw[i], s) == 0)
            return false;
    return true;
}

void kc__lua_key(kc_buf *b, const char *s)
{
    if (lua_ident(s)) {
        kc_buf_puts(b, s);
        return;
    }
    kc_buf_puts(b, "[");
    kc__lua_str(b, s);
    kc_buf_puts(b, "]");
}

void kc__lua_list(kc_buf *b, const kc_value *v)
{
    kc_buf_puts(b, "{");
    for (size_t i = 0; i < v->n; i++) {
        kc_buf_puts(b, i ? ", " : " ");
        kc__lua_str(b, v->list[i]);
    }
    kc_buf_puts(b, v->n ? " }" : "}");
}

void kc__lua_set_literal(kc_buf *b, const kc_value *v)
{
    kc_buf_puts(b, "{");
    for (size_t i = 0; i < v->n; i++) {
        kc_buf_puts(b, i ? ", " : " ");
        kc__lua_key(b, v->list[i]);
        kc_buf_puts(b, " = true");
    }
    kc_buf_puts(b, v->n ? " }" : "}");
}

void kc__lua_attr_value(kc_emit *e, kc_buf *b, const kc_attr_spec *spec, const kc_attr *a)
{
    (void)e;
    if (!a || !(a->present || a->defaulted)) {
        kc_buf_puts(b, "nil");
        return;
    }
    const kc_value *v = &a->v;
    switch (spec->type) {
    case KC_V_REFS:
    case KC_V_WORDS:
    case KC_V_ENUMS:
        kc__lua_list(b, v);
        return;
    case KC_V_INT:
    case KC_V_MONEY:
    case KC_V_PERCENT:
    case KC_V_FACTOR:
    case KC_V_AMOUNT:
    case KC_V_DATE:
    case KC_V_WEEKDAYS:
        kc_buf_printf(b, "%lld", (long long)v->i);
        return;
    case KC_V_PERCENT_REF:
    case KC_V_FACTOR_REF:
        if (v->is_ref) {
            kc_buf ref;
            kc_buf_init(&ref, 0);
            kc_buf_printf(&ref, "@%s", v->s ? v->s : "");
            kc__lua_str(b, ref.data ? ref.data : "@");
            kc_buf_free(&ref);
        } else {
            kc_buf_printf(b, "%lld", (long long)v->i);
        }
        return;
    case KC_V_HOURS:
        kc_buf_printf(b, "{ from = %lld, to = %lld }", (long long)v->i, (long long)v->j);
        return;
    case KC_V_BOOL:
        kc_buf_puts(b, v->i ? "true" : "false");
        return;
    case KC_V_TEXT:
    case KC_V_ID:
    case KC_V_REF:
    case KC_V_ENUM:
    case KC_V_CURRENCY:
    case KC_V_TIMEZONE:
    case KC_V_CELLS:
        kc__lua_str(b, v->s ? v->s : a->raw);
        return;
    }
    kc_buf_puts(b, "nil");
}

void kc__lua_all_attrs(kc_emit *e, kc_buf *b, const kc_node *n, const char *const *skip)
{
    for (size_t k = 0; n->spec->attrs[k].name; k++) {
        const kc_attr_spec *as = &n->spec->attrs[k];
        const kc_attr *a = &n->attrs[k];
        if (!(a->present || a->defaulted))
            continue;
        bool skipped = false;
        for (size_t s = 0; skip && skip[s]; s++)
            if (strcmp(skip[s], as->name) == 0)
                skipped = true;
        if (skipped)
            continue;
        for (const char *c = as->name; *c; c++)
            kc_buf_append(b, *c == '-' ? "_" : c, 1);
        kc_buf_puts(b, " = ");
        kc__lua_attr_value(e, b, as, a);
        kc_buf_puts(b, ", ");
    }
}

void kc__words(kc_buf *b, const char *const *w, size_t n, const char *conj)
{
    for (size_t i = 0; i < n; i++) {
        if (i && i + 1 == n)
            kc_buf_printf(b, " %s ", conj);
        else if (i)
            kc_buf_puts(b, ", ");
        kc_buf_puts(b, w[i]);
    }
}

// ---- words of a cell or an attribute value ---------------------------------------------------
bool kc__emit_split(const char *s, size_t len, kc_emit_words *w)
{
    memset(w, 0, sizeof *w);
    w->buf = malloc(len + 1);
    w->list = malloc((len / 2 + 1) * sizeof *w->list);
    if (!w->buf || !w->list) {
        kc__emit_words_free(w);
        return false;
    }
    memcpy(w->buf, s, len);
    w->buf[len] = '\0';
    for (char *p = w->buf; *p;) {
        while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
            *p++ = '\0';
        if (!*p)
            break;
        w->list[w->n++] = p;
        while (*p && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
            p++;
    }
    return true;
}

void kc__emit_words_free(kc_emit_words *w)
{
    free(w->buf);
    free(w->list);
    memset(w, 0, sizeof *w);
}

// ---- attributes ----------------------------------------------------------------------------
const kc_attr *kc__emit_attr(const kc_node *n, const char *name)
{
    const kc_attr *a = kc__attr(n, name);
    return a->present || a->defaulted ? a : NULL;
}

const kc_attr *kc__emit_written(const kc_node *n, const char *name)
{
    const kc_attr *a = kc__attr(n, name);
    return a->present ? a : NULL;
}

const char *kc__emit_id(const kc_node *n)
{
    const char *s = kc__str(n, "id");
    return s ? s : "?";
}

// ---- blocks and generated names -------------------------------------------------------------
static void memo_reset(kc_emit *e)
{
    for (size_t i = 0; i < e->nmemo; i++)
        free(e->memo[i].key);
    e->nmemo = 0;
}

// Returns the id memoised under `key` (a kind letter + text), or 0.
static unsigned memo_find(kc_emit *e, const char *key)
{
    for (size_t i = 0; i < e->nmemo; i++)
        if (strcmp(e->memo[i].key, key) == 0)
            return e->memo[i].id;
    return 0;
}

static void memo_add(kc_emit *e, const char *key, unsigned id)
{
    if (e->nmemo == e->amemo) {
        size_t n = e->amemo ? e->amemo * 2 : 16;
        kc_emit_memo *m = realloc(e->memo, n * sizeof *m);
        if (!m) {
            e->failed = true;
            return;
        }
        e->memo = m;
        e->amemo = n;
    }
    size_t kl = strlen(key);
    char *k = malloc(kl + 1);
    if (k)
        memcpy(k, key, kl + 1);
    if (!k) {
        e->failed = true;
        return;
    }
    e->memo[e->nmemo].key = k;
    e->memo[e->nmemo++].id = id;
}

void kc__emit_block_begin(kc_emit *e)
{
    kc_buf_init(&e->consts, 0);
    kc_buf_init(&e->locals, 0);
    kc_buf_init(&e->body, 0);
    memo_reset(e);
}

void kc__emit_block_end(kc_emit *e, const char *comment)
{
    kc_buf_puts(e->out, "-- ");
    kc__lua_comment(e->out, comment);
    kc_buf_puts(e->out, "\ndo\n");
    if (e->consts.failed || e->locals.failed || e->body.failed)
        e->failed = true;
    if (e->consts.len)
        kc_buf_append(e->out, e->consts.data, e->consts.len);
    if (e->locals.len)
        kc_buf_append(e->out, e->locals.data, e->locals.len);
    if (e->body.len)
        kc_buf_append(e->out, e->body.data, e->body.len);
    kc_buf_puts(e->out, "end\n\n");
    kc_buf_free(&e->consts);
    kc_buf_free(&e->locals);
    kc_buf_free(&e->body);
    memo_reset(e);
}

unsigned kc__emit_set(kc_emit *e, const char *const *words, size_t n)
{
    kc_buf lit;
    kc_buf_init(&lit, 0);
    kc_buf_puts(&lit, "{");
    for (size_t i = 0; i < n; i++) {
        kc_buf_puts(&lit, i ? ", " : " ");
        kc__lua_key(&lit, words[i]);
        kc_buf_puts(&lit, " = true");
    }
    kc_buf_puts(&lit, n ? " }" : "}");
    kc_buf key;
    kc_buf_init(&key, 0);
    kc_buf_puts(&key, "S");
    kc_buf_puts(&key, lit.data ? lit.data : "");
    unsigned id = key.data ? memo_find(e, key.data) : 0;
    if (!id) {
        id = ++e->next_id;
        kc_buf_printf(&e->consts, "  local SET_%u = %s\n", id, lit.data ? lit.data : "{}");
        if (key.data)
            memo_add(e, key.data, id);
    }
    kc_buf_free(&lit);
    kc_buf_free(&key);
    return id;
}

void kc__emit_in(kc_emit *e, kc_buf *b, const char *expr, const kc_value *v, bool negate)
{
    if (v->n == 1) {
        kc_buf_printf(b, "%s %s ", expr, negate ? "~=" : "==");
        kc__lua_str(b, v->list[0]);
        return;
    }
    unsigned id = kc__emit_set(e, v->list, v->n);
    kc_buf_printf(b, "SET_%u[%s] %s nil", id, expr, negate ? "==" : "~=");
}

// A selector attribute of n when written: `prefix` + `name` ("discount-exclude-category" on a
// tier), NULL when the element has no such attribute. The `attribute` of an `<input>` names
// the attribute a column reads and is no selector.
static const kc_attr *sel_attr(const kc_node *n, const char *prefix, const char *name)
{
    if (kc__is(n, KC_E_INPUT) && strcmp(name, "attribute") == 0)
        return NULL;
    char full[64];
    snprintf(full, sizeof full, "%s%s", prefix, name);
    for (size_t k = 0; n->spec->attrs[k].name; k++)
        if (strcmp(n->spec->attrs[k].name, full) == 0)
            return n->attrs[k].present ? &n->attrs[k] : NULL;
    return NULL;
}

// The selector as a Lua expression over the line `l`; empty when every line is selected.
// `prefix` is "" for SELECTOR_ATTRS, "discount-" for a tier's discount exclusions.
static void selector_expr(kc_emit *e, kc_buf *b, const kc_node *n, const char *prefix)
{
    static const struct {
        const char *attr, *field;
        bool negate;
    } parts[] = {{"category", "l.category", false},        {"sku", "l.sku", false},
                 {"brand", "l.brand", false},              {"exclude-category", "l.category", true},
                 {"exclude-sku", "l.sku", true},           {"exclude-brand", "l.brand", true}};
    bool any = false;
    for (size_t k = 0; k < 3; k++) {
        const kc_attr *a = sel_attr(n, prefix, parts[k].attr);
        if (!a || !a->v.n)
            continue;
        kc_buf_puts(b, any ? " and " : "");
        kc__emit_in(e, b, parts[k].field, &a->v, false);
        any = true;
    }
    const kc_attr *at = sel_attr(n, prefix, "attribute");
    if (at && at->v.s) {
        // `name=value` (value may be a space-separated list); a bare `name` only asks that
        // the line has the attribute.
        const char *s = at->v.s, *eq = strchr(s, '=');
        char name[256];
        size_t nl = eq ? (size_t)(eq - s) : strlen(s);
        while (nl && (s[nl - 1] == ' ' || s[nl - 1] == '\t'))
            nl--;
        while (nl && (*s == ' ' || *s == '\t')) {
            s++;
            nl--;
        }
        if (nl >= sizeof name)
            nl = sizeof name - 1;
        memcpy(name, s, nl);
        name[nl] = '\0';
        kc_buf field;
        kc_buf_init(&field, 0);
        kc_buf_puts(&field, "l.attrs[");
        kc__lua_str(&field, name);
        kc_buf_puts(&field, "]");
        kc_buf_puts(b, any ? " and " : "");
        any = true;
        const char *vals = eq ? eq + 1 : "";
        kc_emit_words w;
        if (!kc__emit_split(vals, strlen(vals), &w))
            e->failed = true;
        if (w.n == 0) {
            kc_buf_printf(b, "%s ~= nil", field.data ? field.data : "nil");
        } else {
            kc_value v = {.list = (const char **)w.list, .n = w.n};
            kc__emit_in(e, b, field.data ? field.data : "nil", &v, false);
        }
        kc__emit_words_free(&w);
        kc_buf_free(&field);
    }
    for (size_t k = 3; k < 6; k++) {
        const kc_attr *a = sel_attr(n, prefix, parts[k].attr);
        if (!a || !a->v.n)
            continue;
        kc_buf_puts(b, any ? " and " : "");
        kc__emit_in(e, b, parts[k].field, &a->v, true);
        any = true;
    }
}

unsigned kc__emit_selector(kc_emit *e, const kc_node *n)
{
    return kc__emit_selector_prefixed(e, n, "");
}

unsigned kc__emit_selector_prefixed(kc_emit *e, const kc_node *n, const char *prefix)
{
    kc_buf x;
    kc_buf_init(&x, 0);
    selector_expr(e, &x, n, prefix);
    unsigned id = 0;
    if (x.len) {
        kc_buf key;
        kc_buf_init(&key, 0);
        kc_buf_printf(&key, "L%s", x.data);
        id = key.data ? memo_find(e, key.data) : 0;
        if (!id) {
            id = ++e->next_id;
            kc_buf_printf(&e->locals, "  local function sel_%u(l)\n    return %s\n  end\n", id,
                          x.data);
            if (key.data)
                memo_add(e, key.data, id);
        }
        kc_buf_free(&key);
    }
    kc_buf_free(&x);
    return id;
}

bool kc__emit_selector_inline(kc_emit *e, kc_buf *b, const kc_node *n, const char *prefix)
{
    size_t before = b->len;
    selector_expr(e, b, n, prefix);
    return b->len > before;
}

unsigned kc__emit_total_helper(kc_emit *e, const kc_node *n, const char *field)
{
    kc_buf x;
    kc_buf_init(&x, 0);
    selector_expr(e, &x, n, ""); // tested inline in the loop: no call per line
    unsigned id = 0;
    if (x.len && x.data) {
        kc_buf key;
        kc_buf_init(&key, 0);
        kc_buf_printf(&key, "R%s.%s", field, x.data);
        id = key.data ? memo_find(e, key.data) : 0;
        if (!id) {
            id = ++e->next_id;
            if (key.data)
                memo_add(e, key.data, id);
            kc_buf_printf(&e->locals,
                          "  -- the receipt total (%s) of the lines where %s\n"
                          "  local function total_%u(ctx)\n"
                          "    local lines, t = ctx.lines, 0\n"
                          "    for i = 1, #lines do\n"
                          "      local l = lines[i]\n"
                          "      if %s then\n"
                          "        t = t + l.%s\n"
                          "      end\n"
                          "    end\n"
                          "    return t\n"
                          "  end\n",
                          field, x.data, id, x.data, field);
        }
        kc_buf_free(&key);
    }
    kc_buf_free(&x);
    return id;
}

void kc__describe_selector(kc_buf *b, const kc_node *n)
{
    kc__describe_selector_prefixed(b, n, "");
}

void kc__describe_selector_prefixed(kc_buf *b, const kc_node *n, const char *prefix)
{
    static const char *const attrs[] = {"category", "sku", "brand", "attribute",
                                        "exclude-category", "exclude-sku", "exclude-brand"};
    static const char *const words[] = {"category", "SKU", "brand", "attribute",
                                        "not category", "not SKU", "not brand"};
    bool any = false;
    for (size_t k = 0; k < 7; k++) {
        const kc_attr *a = sel_attr(n, prefix, attrs[k]);
        if (!a)
            continue;
        kc_buf_printf(b, "%s%s ", any ? ", " : "", words[k]);
        if (k == 3)
            kc_buf_puts(b, a->v.s ? a->v.s : "");
        else
            kc__words(b, a->v.list, a->v.n, "or");
        any = true;
    }
}

const kc_node *kc__find_table(const kc_program *p, const char *id)
{
    const kc_node *ts = p->root ? kc__child(p->root, KC_E_TABLES, NULL) : NULL;
    for (const kc_node *t = ts ? kc__child(ts, KC_E_TABLE, NULL) : NULL; t;
         t = kc__child(ts, KC_E_TABLE, t)) {
        const char *tid = kc__str(t, "id");
        if (tid && id && strcmp(tid, id) == 0)
            return t;
    }
    return NULL;
}

unsigned kc__emit_table_ref(kc_emit *e, const char *id)
{
    char key[300];
    snprintf(key, sizeof key, "T%s", id ? id : "");
    unsigned n = memo_find(e, key);
    if (n)
        return n;
    n = ++e->next_id;
    memo_add(e, key, n);
    if (kc__find_table(e->p, id)) {
        kc_buf_printf(&e->locals, "  local tbl_%u = TABLES[", n);
        kc__lua_str(&e->locals, id);
        kc_buf_puts(&e->locals, "]\n");
    } else {
        e->helpers |= KC_H_NO_TABLE;
        kc_buf_printf(&e->locals, "  local tbl_%u = no_table -- the program has no table ", n);
        kc__lua_comment(&e->locals, id);
        kc_buf_puts(&e->locals, "\n");
    }
    return n;
}

// ---- helpers defined at the top of the chunk --------------------------------------------------
static void emit_helpers(kc_emit *e, kc_buf *o)
{
    if (e->helpers & KC_H_SCALE_BP)
        kc_buf_puts(o, "-- A percent (basis points) times a factor (x10000), rounded half-up.\n"
                       "local function scale_bp(bp, f)\n"
                       "  return (bp * f + 5000) // 10000\n"
                       "end\n\n");
    if (e->helpers & KC_H_SCALE_MONEY) {
        const char *r = kc__str(e->p->root, "money-rounding");
        r = r ? r : "half-up";
        kc_buf_printf(o, "-- Money (minor units) times a factor (x10000), rounded %s.\n"
                         "local function scale_money(a, f)\n",
                      r);
        if (strcmp(r, "down") == 0)
            kc_buf_puts(o, "  return a * f // 10000\n");
        else if (strcmp(r, "up") == 0)
            kc_buf_puts(o, "  return (a * f + 9999) // 10000\n");
        else if (strcmp(r, "half-even") == 0)
            kc_buf_puts(o, "  local q, r = a * f // 10000, a * f % 10000\n"
                           "  if r > 5000 or (r == 5000 and q % 2 == 1) then\n"
                           "    q = q + 1\n"
                           "  end\n"
                           "  return q\n");
        else
            kc_buf_puts(o, "  return (a * f + 5000) // 10000\n");
        kc_buf_puts(o, "end\n\n");
    }
    if (e->helpers & KC_H_NO_TABLE)
        kc_buf_puts(o, "-- Stands in for a table the program does not define: never answers.\n"
                       "local function no_table()\n"
                       "  return nil\n"
                       "end\n\n");
}

kc_status kc_emit_lua(const kc_program *p, const char *path_for_comments, kc_buf *out)
{
    if (!p || !p->root)
        return KC_ERR_INVALID;
    kc_emit e = {.p = p, .src = path_for_comments ? path_for_comments : p->file};
    kc_buf body;
    kc_buf_init(&body, 0);
    e.out = &body;
    const kc_node *r = p->root;

    kc__emit_data(&e);
    kc__emit_tables(&e);
    kc__emit_accrual(&e);
    kc__emit_redemption(&e);
    kc__emit_promotions(&e);
    memo_reset(&e);
    free(e.memo);

    char hash[65];
    kc_program_hash(p, hash);
    kc_buf_puts(out, "-- Kopilka program ");
    kc__lua_comment(out, kc__emit_id(r));
    kc_buf_puts(out, ": ");
    kc__lua_comment(out, kc__str(r, "name"));
    kc_buf_printf(out, ", version %lld\n-- content hash sha256:%s\n-- source ",
                  (long long)kc__int(r, "version"), hash);
    kc__lua_comment(out, e.src);
    kc_buf_puts(out, "\n-- generated by kopilkac; do not edit (docs/internals/program-abi.md)\n\n");

    kc_buf_puts(out, "local TABLES = {}\n\n");
    emit_helpers(&e, out);
    kc_buf_puts(out, "local P = {\n  abi = 2,\n  id = ");
    kc__lua_str(out, kc__emit_id(r));
    kc_buf_puts(out, ",\n  name = ");
    kc__lua_str(out, kc__str(r, "name"));
    kc_buf_printf(out, ",\n  version = %lld,\n  hash = \"sha256:%s\",\n  currency = ",
                  (long long)kc__int(r, "version"), hash);
    kc__lua_str(out, kc__str(r, "currency"));
    kc_buf_printf(out, ",\n  minor_unit = %d,\n  time_zone = ", p->minor_unit);
    kc__lua_str(out, kc__str(r, "time-zone"));
    kc_buf_puts(out, ",\n  money_rounding = ");
    kc__lua_str(out, kc__str(r, "money-rounding"));
    kc_buf_puts(out, ",\n  points_rounding = ");
    kc__lua_str(out, kc__str(r, "points-rounding"));
    kc_buf_puts(out, ",\n  ");
    kc__lua_src(&e, out, r->line);
    kc_buf_puts(out, ",\n  tables = TABLES,\n  promotions = {},\n}\n\n");
    kc_buf_append(out, body.data ? body.data : "", body.len);
    kc_buf_puts(out, "return P\n");
    bool failed = e.failed || body.failed || out->failed;
    kc_buf_free(&body);
    return failed ? KC_ERR_NOMEM : KC_OK;
}

void kc__emit_template_src(kc_emit *e, kc_buf *b, const kc_node *n)
{
    if (!n->tmpl)
        return;
    kc_buf_puts(b, "    template_src = ");
    char s[1200];
    kc__src_text(e, s, sizeof s, n->tmpl->line);
    kc__lua_str(b, s);
    kc_buf_puts(b, ",\n");
}

void kc__emit_cu_set(kc_buf *b, const char *field, const kc_value *v)
{
    kc_buf_puts(b, "cu ~= nil and ");
    if (v->n != 1)
        kc_buf_puts(b, "(");
    for (size_t i = 0; i < v->n; i++) {
        kc_buf_printf(b, "%scu.%s[", i ? " or " : "", field);
        kc__lua_str(b, v->list[i]);
        kc_buf_puts(b, "] ~= nil");
    }
    if (v->n == 0)
        kc_buf_puts(b, "false");
    if (v->n != 1)
        kc_buf_puts(b, ")");
}
