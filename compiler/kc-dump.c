// SPDX-License-Identifier: MIT
// kc-dump.c: the typed tree as text (`kopilkac --dump-ast`), one node per line.
//
// Each line: indentation, the element, its position, then every attribute with its type and
// typed value (`money:30000000`, `bp:500`, `date:2026-03-01` ...); defaults are marked `~`.
// A template instance shows its expansion: attributes taken from the template are marked `^`,
// values filled in from a parameter `<-{name}`, copied elements `(from template)`; its
// parameter values are `name=arg:` and their value as the type of their first use (as written
// when no use fits), placeholders in a template `name=param:{name}`.
#include "kc-private.h"

static void dump_value(kc_buf *out, const kc_attr_spec *s, const kc_attr *a)
{
    char tmp[64];
    const kc_value *v = &a->v;
    switch (s->type) {
    case KC_V_TEXT:
    case KC_V_CELLS:
        kc_buf_printf(out, "text:\"%s\"", v->s ? v->s : "");
        return;
    case KC_V_ID:
        kc_buf_printf(out, "id:%s", v->s);
        return;
    case KC_V_REF:
        kc_buf_printf(out, "ref(%s):%s", s->arg, v->s);
        return;
    case KC_V_ENUM:
        kc_buf_printf(out, "enum:%s", v->s);
        return;
    case KC_V_REFS:
    case KC_V_WORDS:
    case KC_V_ENUMS:
    case KC_V_WEEKDAYS:
        kc_buf_printf(out, "%s:[", s->type == KC_V_REFS    ? "refs"
                                   : s->type == KC_V_WORDS ? "words"
                                   : s->type == KC_V_ENUMS ? "enums"
                                                           : "weekdays");
        for (size_t i = 0; i < v->n; i++)
            kc_buf_printf(out, "%s%s", i ? " " : "", v->list[i]);
        kc_buf_puts(out, "]");
        return;
    case KC_V_INT:
        kc_buf_printf(out, "int:%lld", (long long)v->i);
        return;
    case KC_V_MONEY:
        kc_buf_printf(out, "money:%lld", (long long)v->i);
        return;
    case KC_V_PERCENT:
        kc_buf_printf(out, "bp:%lld", (long long)v->i);
        return;
    case KC_V_PERCENT_REF:
    case KC_V_FACTOR_REF:
        if (v->is_ref)
            kc_buf_printf(out, "table:%s", v->s);
        else
            kc_buf_printf(out, "%s:%lld", s->type == KC_V_PERCENT_REF ? "bp" : "x10000",
                          (long long)v->i);
        return;
    case KC_V_FACTOR:
    case KC_V_AMOUNT:
        kc_buf_printf(out, "x10000:%lld", (long long)v->i);
        return;
    case KC_V_DATE:
        kc__fmt_date(tmp, sizeof tmp, v->i);
        kc_buf_printf(out, "date:%s", tmp);
        return;
    case KC_V_HOURS:
        kc_buf_printf(out, "minutes:%lld-%lld", (long long)v->i, (long long)v->j);
        return;
    case KC_V_BOOL:
        kc_buf_printf(out, "bool:%s", v->i ? "true" : "false");
        return;
    case KC_V_CURRENCY:
    case KC_V_TIMEZONE:
        kc_buf_printf(out, "%s", v->s);
        return;
    }
}

static void dump_node(kc_buf *out, const kc_node *n, unsigned depth)
{
    for (unsigned i = 0; i < depth; i++)
        kc_buf_puts(out, "  ");
    if (!n->spec) {
        kc_buf_printf(out, "comment @%u \"%s\"\n", n->line, n->text ? n->text : "");
        return;
    }
    kc_buf_printf(out, "%s @%u:%u", n->spec->name, n->line, n->col);
    if (n->copy_of)
        kc_buf_puts(out, " (from template)");
    for (size_t k = 0; n->spec->attrs[k].name; k++) {
        const kc_attr *a = &n->attrs[k];
        if (a->param && !a->present) {
            kc_buf_printf(out, " %s=param:{%s}", n->spec->attrs[k].name, a->param);
            continue;
        }
        if (!a->present && !a->defaulted)
            continue;
        kc_buf_printf(out, " %s%s=", a->present ? (a->inherited ? "^" : "") : "~",
                      n->spec->attrs[k].name);
        dump_value(out, &n->spec->attrs[k], a);
        if (a->present && a->param)
            kc_buf_printf(out, "<-{%s}", a->param);
    }
    for (unsigned i = 0; i < n->nargs; i++) {
        const kc_arg *g = &n->args[i];
        kc_buf_printf(out, " %s=arg:", g->name);
        if (g->spec) {
            kc_attr typed = {.present = true, .raw = g->raw, .v = g->v};
            dump_value(out, g->spec, &typed);
        } else {
            kc_buf_printf(out, "\"%s\"", g->raw);
        }
    }
    if (n->spec->text && n->text)
        kc_buf_printf(out, " text=\"%s\"", n->text);
    kc_buf_puts(out, "\n");
    for (const kc_node *c = n->first; c; c = c->next)
        dump_node(out, c, depth + 1);
}

kc_status kc_dump_ast(const kc_program *p, kc_buf *out)
{
    if (!p->root)
        return KC_ERR_INVALID;
    dump_node(out, p->root, 0);
    return out->failed ? KC_ERR_NOMEM : KC_OK;
}
