// SPDX-License-Identifier: MIT
// kc-emit-data.c: the program-wide data of the chunk — P.segments, P.ladders, P.groups,
// P.batches, P.certificates, P.expiry, P.triggers and P.agreements — as plain Lua tables in
// document order (docs/internals/program-abi.md).
#include "kc-emit-private.h"

#include <string.h>

// ---- program-wide data ----------------------------------------------------------------------
// Ends a `P.x = {` section: `{}` when nothing was written into it.
static void close_section(kc_buf *o)
{
    if (o->len >= 2 && o->data[o->len - 1] == '\n' && o->data[o->len - 2] == '{') {
        o->len--;
        o->data[o->len] = '\0';
    }
    kc_buf_puts(o, "}\n\n");
}

static void emit_segments(kc_emit *e)
{
    kc_buf *o = e->out;
    const kc_node *ss = kc__child(e->p->root, KC_E_SEGMENTS, NULL);
    kc_buf_puts(o, "P.segments = {\n");
    for (const kc_node *s = ss ? kc__child(ss, KC_E_SEGMENT, NULL) : NULL; s;
         s = kc__child(ss, KC_E_SEGMENT, s)) {
        kc_buf_puts(o, "  { id = ");
        kc__lua_str(o, kc__emit_id(s));
        kc_buf_puts(o, ", name = ");
        kc__lua_str(o, kc__str(s, "name"));
        kc_buf_printf(o, ", default = %s, ", kc__int(s, "default") ? "true" : "false");
        const kc_attr *js = kc__emit_written(s, "join-sku");
        if (js) {
            kc_buf_puts(o, "join_sku = ");
            kc__lua_set_literal(o, &js->v);
            kc_buf_puts(o, ", ");
        }
        const kc_attr *md = kc__emit_written(s, "membership-days");
        if (md)
            kc_buf_printf(o, "membership_days = %lld, ", (long long)md->v.i);
        const kc_attr *jr = kc__emit_written(s, "join-receipt");
        if (jr) {
            kc_buf_puts(o, "join_receipt = ");
            kc__lua_str(o, kc__str(s, "join-receipt"));
            kc_buf_puts(o, ", ");
        }
        kc__lua_src(e, o, s->line);
        kc_buf_puts(o, ",\n    transitions = {");
        bool any = false;
        for (const kc_node *t = kc__child(s, KC_E_TRANSITION, NULL); t;
             t = kc__child(s, KC_E_TRANSITION, t)) {
            kc_buf_puts(o, "\n      { to = ");
            kc__lua_str(o, kc__str(t, "to"));
            kc_buf_printf(o, ", after_days = %lld, since = ", (long long)kc__int(t, "after-days"));
            kc__lua_str(o, kc__str(t, "since"));
            kc_buf_puts(o, ", ");
            kc__lua_src(e, o, t->line);
            kc_buf_puts(o, " },");
            any = true;
        }
        kc_buf_puts(o, any ? "\n    },\n  },\n" : "},\n  },\n");
    }
    close_section(o);
}

// A tier threshold: minor units for the metric `paid`, a whole count otherwise (x10000 in
// the tree; decimals beyond what the unit can hold are dropped).
static int64_t tier_from(const kc_program *p, const kc_node *ladder, const kc_node *tier)
{
    int64_t v = kc__int(tier, "from");
    const char *metric = kc__str(ladder, "metric");
    if (metric && strcmp(metric, "paid") == 0) {
        int64_t scale = 1;
        for (int i = 0; i < p->minor_unit; i++)
            scale *= 10;
        return v / 10000 * scale + v % 10000 * scale / 10000;
    }
    return v / 10000;
}

static void emit_ladders(kc_emit *e)
{
    kc_buf *o = e->out;
    const kc_node *ts = kc__child(e->p->root, KC_E_TIERS, NULL);
    kc_buf_puts(o, "P.ladders = {\n");
    for (const kc_node *l = ts ? kc__child(ts, KC_E_LADDER, NULL) : NULL; l;
         l = kc__child(ts, KC_E_LADDER, l)) {
        kc_buf_puts(o, "  {\n    ");
        static const char *const skip[] = {"segments", NULL};
        kc__lua_all_attrs(e, o, l, skip);
        const kc_attr *sg = kc__emit_written(l, "segments");
        if (sg) {
            kc_buf_puts(o, "segments = ");
            kc__lua_list(o, &sg->v);
            kc_buf_puts(o, ", ");
        }
        kc__lua_src(e, o, l->line);
        kc_buf_puts(o, ",\n    tiers = {\n");
        for (const kc_node *t = kc__child(l, KC_E_TIER, NULL); t; t = kc__child(l, KC_E_TIER, t)) {
            kc_buf_puts(o, "      { id = ");
            kc__lua_str(o, kc__emit_id(t));
            kc_buf_puts(o, ", name = ");
            kc__lua_str(o, kc__str(t, "name"));
            kc_buf_printf(o, ", from = %lld, ", (long long)tier_from(e->p, l, t));
            static const char *const priv[] = {"discount", "points-rate"};
            for (size_t k = 0; k < 2; k++) {
                const kc_attr *a = kc__emit_written(t, priv[k]);
                if (!a)
                    continue;
                kc_buf_puts(o, k ? "points_rate = " : "discount = ");
                kc__lua_attr_value(e, o, &t->spec->attrs[a - t->attrs], a);
                kc_buf_puts(o, ", ");
            }
            kc__lua_src(e, o, t->line);
            kc_buf_puts(o, " },\n");
        }
        kc_buf_puts(o, "    },\n");
        // Lines the metric leaves out, as data: the runtime matches them when it counts.
        if (kc__child(l, KC_E_EXCLUDE, NULL)) {
            kc_buf_puts(o, "    exclude = {\n");
            for (const kc_node *x = kc__child(l, KC_E_EXCLUDE, NULL); x;
                 x = kc__child(l, KC_E_EXCLUDE, x)) {
                kc_buf_puts(o, "      { ");
                kc__lua_all_attrs(e, o, x, NULL);
                kc__lua_src(e, o, x->line);
                kc_buf_puts(o, " },\n");
            }
            kc_buf_puts(o, "    },\n");
        }
        kc_buf_puts(o, "  },\n");
    }
    close_section(o);
}

static void emit_groups(kc_emit *e)
{
    kc_buf *o = e->out;
    const kc_node *ps = kc__child(e->p->root, KC_E_PROMOTIONS, NULL);
    kc_buf_puts(o, "P.groups = {\n");
    for (const kc_node *g = ps ? kc__child(ps, KC_E_GROUP, NULL) : NULL; g;
         g = kc__child(ps, KC_E_GROUP, g)) {
        kc_buf_puts(o, "  ");
        kc__lua_key(o, kc__emit_id(g));
        kc_buf_puts(o, " = { ");
        static const char *const skip[] = {"id", NULL};
        kc__lua_all_attrs(e, o, g, skip);
        kc__lua_src(e, o, g->line);
        kc_buf_puts(o, " },\n");
    }
    // <agreements policy="best">: the agreement and the line promotions without a group of
    // their own form one exclusive group, the best for the customer winning.
    const kc_node *ag = kc__child(e->p->root, KC_E_AGREEMENTS, NULL);
    const char *policy = ag ? kc__str(ag, "policy") : NULL;
    if (policy && strcmp(policy, "best") == 0) {
        kc_buf_puts(o, "  [\"" KC_AGREEMENT_GROUP "\"] = { policy = \"best\", ");
        kc__lua_src(e, o, ag->line);
        kc_buf_puts(o, " },\n");
    }
    close_section(o);
}

// P.<field> = { [id] = { attributes..., src }, ... } for the children of a section.
static void emit_keyed(kc_emit *e, const char *field, kc_elem_id section, kc_elem_id item)
{
    kc_buf *o = e->out;
    const kc_node *s = kc__child(e->p->root, section, NULL);
    kc_buf_printf(o, "P.%s = {\n", field);
    for (const kc_node *n = s ? kc__child(s, item, NULL) : NULL; n; n = kc__child(s, item, n)) {
        kc_buf_puts(o, "  ");
        kc__lua_key(o, kc__emit_id(n));
        kc_buf_puts(o, " = { ");
        static const char *const skip[] = {"id", "sku", NULL};
        kc__lua_all_attrs(e, o, n, skip);
        const kc_attr *sku = item == KC_E_CERTIFICATE ? kc__emit_written(n, "sku") : NULL;
        if (sku) {
            kc_buf_puts(o, "sku = ");
            kc__lua_set_literal(o, &sku->v);
            kc_buf_puts(o, ", ");
        }
        kc__lua_src(e, o, n->line);
        kc_buf_puts(o, " },\n");
    }
    close_section(o);
}

static void emit_expiry(kc_emit *e)
{
    kc_buf *o = e->out;
    const kc_node *x = kc__child(e->p->root, KC_E_EXPIRY, NULL);
    kc_buf_puts(o, "P.expiry = {\n  lifetimes = {");
    kc_buf_puts(o, x && kc__child(x, KC_E_LIFETIME, NULL) ? "\n" : "");
    for (const kc_node *n = x ? kc__child(x, KC_E_LIFETIME, NULL) : NULL; n;
         n = kc__child(x, KC_E_LIFETIME, n)) {
        kc_buf_puts(o, "    ");
        const char *src = kc__str(n, "source");
        kc__lua_key(o, src ? src : "?");
        kc_buf_puts(o, " = { ");
        const kc_attr *d = kc__emit_written(n, "days");
        if (d)
            kc_buf_printf(o, "days = %lld, ", (long long)d->v.i);
        kc_buf_printf(o, "hold_days = %lld, ", (long long)kc__int(n, "hold-days"));
        kc__lua_src(e, o, n->line);
        kc_buf_puts(o, " },\n");
    }
    kc_buf_puts(o, x && kc__child(x, KC_E_LIFETIME, NULL) ? "  },\n  warnings = {" : "},\n  warnings = {");
    kc_buf_puts(o, x && kc__child(x, KC_E_WARN, NULL) ? "\n" : "");
    for (const kc_node *n = x ? kc__child(x, KC_E_WARN, NULL) : NULL; n;
         n = kc__child(x, KC_E_WARN, n)) {
        kc_buf_puts(o, "    { ");
        kc__lua_all_attrs(e, o, n, NULL);
        kc__lua_src(e, o, n->line);
        kc_buf_puts(o, " },\n");
    }
    kc_buf_puts(o, x && kc__child(x, KC_E_WARN, NULL) ? "  },\n  burns = {" : "},\n  burns = {");
    kc_buf_puts(o, x && kc__child(x, KC_E_BURN, NULL) ? "\n" : "");
    for (const kc_node *n = x ? kc__child(x, KC_E_BURN, NULL) : NULL; n;
         n = kc__child(x, KC_E_BURN, n)) {
        kc_buf_puts(o, "    { ");
        kc__lua_all_attrs(e, o, n, NULL);
        kc__lua_src(e, o, n->line);
        kc_buf_puts(o, " },\n");
    }
    kc_buf_puts(o, x && kc__child(x, KC_E_BURN, NULL) ? "  },\n}\n\n" : "},\n}\n\n");
}

static void emit_triggers(kc_emit *e)
{
    kc_buf *o = e->out;
    const kc_node *ts = kc__child(e->p->root, KC_E_TRIGGERS, NULL);
    kc_buf_puts(o, "P.triggers = {\n");
    for (const kc_node *t = ts ? ts->first : NULL; t; t = t->next) {
        if (!t->spec || kc__is(t, KC_E_CHAIN))
            continue;
        kc_buf_puts(o, "  { kind = ");
        kc__lua_str(o, t->spec->name);
        kc_buf_puts(o, ", ");
        kc__lua_all_attrs(e, o, t, NULL);
        kc__lua_src(e, o, t->line);
        kc_buf_puts(o, " },\n");
    }
    close_section(o);
}

static void emit_agreements(kc_emit *e)
{
    const kc_node *a = kc__child(e->p->root, KC_E_AGREEMENTS, NULL);
    if (!a)
        return;
    kc_buf_puts(e->out, "P.agreements = { ");
    kc__lua_all_attrs(e, e->out, a, NULL);
    kc__lua_src(e, e->out, a->line);
    kc_buf_puts(e->out, " }\n\n");
}

// `<chain>` trigger chains as data, steps in document order: the jobs run them
// (kr-ops-chains.c). A chain is in `<triggers>` but not in P.triggers.
static void emit_chains(kc_emit *e)
{
    kc_buf *o = e->out;
    const kc_node *ts = kc__child(e->p->root, KC_E_TRIGGERS, NULL);
    if (!ts || !kc__child(ts, KC_E_CHAIN, NULL))
        return;
    kc_buf_puts(o, "P.chains = {\n");
    for (const kc_node *ch = kc__child(ts, KC_E_CHAIN, NULL); ch;
         ch = kc__child(ts, KC_E_CHAIN, ch)) {
        kc_buf_puts(o, "  { ");
        kc__lua_all_attrs(e, o, ch, NULL);
        kc__lua_src(e, o, ch->line);
        kc_buf_puts(o, ",\n    steps = {\n");
        for (const kc_node *st = kc__child(ch, KC_E_STEP, NULL); st;
             st = kc__child(ch, KC_E_STEP, st)) {
            kc_buf_puts(o, "      { ");
            kc__lua_all_attrs(e, o, st, NULL);
            kc__lua_src(e, o, st->line);
            kc_buf_puts(o, " },\n");
        }
        kc_buf_puts(o, "    },\n  },\n");
    }
    close_section(o);
}

// `<early-access>` rules as data: the operations check receipt lines against them in C.
static void emit_early_access(kc_emit *e)
{
    kc_buf *o = e->out;
    if (!kc__child(e->p->root, KC_E_EARLY_ACCESS, NULL))
        return;
    kc_buf_puts(o, "P.early_access = {\n");
    for (const kc_node *n = kc__child(e->p->root, KC_E_EARLY_ACCESS, NULL); n;
         n = kc__child(e->p->root, KC_E_EARLY_ACCESS, n)) {
        // `until` is a Lua keyword: it is written as a string key.
        static const char *const skip[] = {"until", NULL};
        kc_buf_printf(o, "  { [\"until\"] = %lld, ", (long long)kc__int(n, "until"));
        kc__lua_all_attrs(e, o, n, skip);
        kc__lua_src(e, o, n->line);
        kc_buf_puts(o, " },\n");
    }
    close_section(o);
}

void kc__emit_data(kc_emit *e)
{
    emit_segments(e);
    emit_ladders(e);
    emit_groups(e);
    emit_keyed(e, "batches", KC_E_PROMO_CODES, KC_E_BATCH);
    emit_keyed(e, "certificates", KC_E_CERTIFICATES, KC_E_CERTIFICATE);
    emit_expiry(e);
    emit_triggers(e);
    emit_agreements(e);
    emit_early_access(e);
    emit_chains(e);
}
