// SPDX-License-Identifier: MIT
// kc-format.c: the canonical form of a program — what `kopilkac --format` writes.
//
// The rules (docs/rules-language.md, "Canonical form"): two-space indentation; children in
// the language's canonical order (document order kept where order means something); one
// element per line with its attributes in the language's order; attributes that equal
// their default only when written; values in canonical spelling (money with all its
// decimals, percents and factors without trailing zeros, weekdays in week order, single
// spaces in lists and ` | ` between table cells); an element whose line would pass 100
// columns puts each attribute on a line of its own. Comments are kept with the element
// they precede. Formatting a formatted file changes nothing.
#include "kc-private.h"

#include <string.h>

#define KC_FORMAT_WIDTH 100

static void escape(kc_buf *out, const char *s, bool attr)
{
    for (; *s; s++) {
        switch (*s) {
        case '&':
            kc_buf_puts(out, "&amp;");
            break;
        case '<':
            kc_buf_puts(out, "&lt;");
            break;
        case '>':
            kc_buf_puts(out, "&gt;");
            break;
        case '"':
            kc_buf_puts(out, attr ? "&quot;" : "\"");
            break;
        case '\n':
            kc_buf_puts(out, attr ? "&#10;" : "\n");
            break;
        case '\t':
            kc_buf_puts(out, attr ? "&#9;" : "\t");
            break;
        default:
            kc_buf_append(out, s, 1);
        }
    }
}

static void join_list(kc_buf *out, const kc_value *v)
{
    for (size_t i = 0; i < v->n; i++) {
        if (i)
            kc_buf_puts(out, " ");
        kc_buf_puts(out, v->list[i]);
    }
}

// Writes the canonical spelling of a typed value (unescaped).
static void canonical_value(kc_buf *out, const kc_attr_spec *spec, const kc_attr *a, int minor)
{
    static const char *const wd[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
    char tmp[64];
    const kc_value *v = &a->v;
    switch (spec->type) {
    case KC_V_REFS:
    case KC_V_WORDS:
    case KC_V_ENUMS:
        join_list(out, v);
        return;
    case KC_V_WEEKDAYS: {
        bool first = true;
        for (int k = 0; k < 7; k++)
            if (v->i & (INT64_C(1) << k)) {
                kc_buf_puts(out, first ? "" : " ");
                kc_buf_puts(out, wd[k]);
                first = false;
            }
        return;
    }
    case KC_V_INT:
        kc_buf_printf(out, "%lld", (long long)v->i);
        return;
    case KC_V_MONEY:
        kc__fmt_money(tmp, sizeof tmp, v->i, minor);
        kc_buf_puts(out, tmp);
        return;
    case KC_V_PERCENT_REF:
    case KC_V_FACTOR_REF:
        if (v->is_ref) {
            kc_buf_printf(out, "@%s", v->s);
            return;
        }
        if (spec->type == KC_V_PERCENT_REF) {
            kc__fmt_percent(tmp, sizeof tmp, v->i);
            kc_buf_puts(out, tmp);
            return;
        }
        /* fall through */
    case KC_V_FACTOR:
    case KC_V_AMOUNT:
        kc__fmt_fixed4(tmp, sizeof tmp, v->i);
        kc_buf_puts(out, tmp);
        return;
    case KC_V_PERCENT:
        kc__fmt_percent(tmp, sizeof tmp, v->i);
        kc_buf_puts(out, tmp);
        return;
    case KC_V_DATE:
        kc__fmt_date(tmp, sizeof tmp, v->i);
        kc_buf_puts(out, tmp);
        return;
    case KC_V_HOURS:
        kc_buf_printf(out, "%02lld:%02lld-%02lld:%02lld", (long long)(v->i / 60),
                      (long long)(v->i % 60), (long long)(v->j / 60), (long long)(v->j % 60));
        return;
    case KC_V_BOOL:
        kc_buf_puts(out, v->i ? "true" : "false");
        return;
    case KC_V_CELLS: {
        // Cells trimmed, inner runs of spaces collapsed, joined by " | ".
        const char *s = a->raw;
        bool space = false, started = false;
        for (; *s; s++) {
            if (*s == '|') {
                kc_buf_puts(out, " | ");
                space = false;
                started = false;
                continue;
            }
            if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') {
                space = started;
                continue;
            }
            if (space)
                kc_buf_puts(out, " ");
            space = false;
            started = true;
            kc_buf_append(out, s, 1);
        }
        return;
    }
    case KC_V_TEXT:
    case KC_V_ID:
    case KC_V_REF:
    case KC_V_ENUM:
    case KC_V_CURRENCY:
    case KC_V_TIMEZONE:
        kc_buf_puts(out, a->raw);
        return;
    }
}

// Width of UTF-8 text in code points (what a reader sees as columns).
static size_t width(const char *s, size_t n)
{
    size_t w = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            w++;
    return w;
}

static void indent(kc_buf *out, unsigned depth)
{
    for (unsigned i = 0; i < depth; i++)
        kc_buf_puts(out, "  ");
}

static void format_node(kc_buf *out, const kc_node *n, unsigned depth, int minor)
{
    if (!n->spec) {
        indent(out, depth);
        kc_buf_puts(out, "<!-- ");
        kc_buf_puts(out, n->text ? n->text : "");
        kc_buf_puts(out, " -->\n");
        return;
    }
    // Render every written attribute, then decide between one line and one per line.
    kc_buf attrs[64];
    size_t na = 0, total = 0;
    if (n->spec->id == KC_E_PROGRAM) {
        kc_buf_init(&attrs[na], 0);
        kc_buf_puts(&attrs[na], "xmlns=\"" KC_NAMESPACE "\"");
        total += attrs[na++].len + 1;
    }
    for (size_t k = 0; n->spec->attrs[k].name && na < 64; k++) {
        const kc_attr *a = &n->attrs[k];
        bool placeholder = a->param && !a->present; // `{name}` in a template
        if ((!a->present || a->inherited) && !placeholder)
            continue;
        kc_buf v;
        kc_buf_init(&v, 0);
        if (placeholder)
            kc_buf_printf(&v, "{%s}", a->param);
        else
            canonical_value(&v, &n->spec->attrs[k], a, minor);
        kc_buf_init(&attrs[na], 0);
        kc_buf_printf(&attrs[na], "%s=\"", n->spec->attrs[k].name);
        escape(&attrs[na], v.data ? v.data : "", true);
        kc_buf_puts(&attrs[na], "\"");
        kc_buf_free(&v);
        total += width(attrs[na].data, attrs[na].len) + 1;
        na++;
    }
    // A template instance's parameter values, as written and in the order written.
    for (unsigned i = 0; i < n->nargs && na < 64; i++) {
        const kc_arg *g = &n->args[i];
        kc_buf v;
        kc_buf_init(&v, 0);
        if (g->spec) { // spelt as the type it is used as: `5000` for money is `5000.00`
            kc_attr typed = {.present = true, .raw = g->raw, .v = g->v};
            canonical_value(&v, g->spec, &typed, minor);
        } else {
            kc_buf_puts(&v, g->raw);
        }
        kc_buf_init(&attrs[na], 0);
        kc_buf_printf(&attrs[na], "%s=\"", g->name);
        escape(&attrs[na], v.data ? v.data : "", true);
        kc_buf_free(&v);
        kc_buf_puts(&attrs[na], "\"");
        total += width(attrs[na].data, attrs[na].len) + 1;
        na++;
    }
    indent(out, depth);
    kc_buf_printf(out, "<%s", n->spec->name);
    bool wrap = depth * 2 + 1 + strlen(n->spec->name) + total + 2 > KC_FORMAT_WIDTH && na > 1;
    for (size_t i = 0; i < na; i++) {
        if (wrap) {
            kc_buf_puts(out, "\n");
            indent(out, depth + 2);
        } else {
            kc_buf_puts(out, " ");
        }
        kc_buf_append(out, attrs[i].data, attrs[i].len);
        kc_buf_free(&attrs[i]);
    }
    if (n->spec->text && n->text && *n->text) {
        kc_buf_puts(out, ">");
        escape(out, n->text, false);
        kc_buf_printf(out, "</%s>\n", n->spec->name);
        return;
    }
    // A template instance is printed as written, never expanded.
    const kc_node *children = n->tmpl ? n->written : n->first;
    if (!children) {
        kc_buf_puts(out, "/>\n");
        return;
    }
    kc_buf_puts(out, ">\n");
    for (const kc_node *c = children; c; c = c->next)
        format_node(out, c, depth + 1, minor);
    indent(out, depth);
    kc_buf_printf(out, "</%s>\n", n->spec->name);
}

kc_status kc_format(const kc_program *p, kc_buf *out)
{
    if (!p->root)
        return KC_ERR_INVALID;
    kc_buf_puts(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    format_node(out, p->root, 0, p->minor_unit);
    return out->failed ? KC_ERR_NOMEM : KC_OK;
}

void kc_program_hash(const kc_program *p, char out[65])
{
    kc_buf b;
    kc_buf_init(&b, 0);
    if (kc_format(p, &b) == KC_OK)
        kc__sha256_hex(b.data, b.len, out);
    else
        kc__sha256_hex(p->source, p->source_len, out);
    kc_buf_free(&b);
}
