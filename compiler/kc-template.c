// SPDX-License-Identifier: MIT
// kc-template.c: promotion templates — every `<promotion template="id">` becomes an ordinary
// promotion right after loading, so the checks and the emitter see nothing but promotions.
//
// The rules (docs/rules-language.md, "Templates"):
//   - `<template id params="a b">` holds the body of a promotion (valid, where, audience, when,
//     effects, cap, limit) and may set stage, priority, group, stop, reward and enabled. A
//     value written `{a}` in its attributes or its body's is the parameter `a`.
//   - `<promotion id name template="t" a="..." b="...">` is an instance: its attributes that
//     `<promotion>` does not have are parameter values. The promotion attributes it does not
//     write come from the template. Its own children replace the template's children of the
//     same element (another `<cap>` for one season); the rest of the body is copied.
//   - A parameter value is typed where it is used: `from="{from}"` in `<valid>` takes a date.
// The instance keeps its children as written in `written` (the formatter prints those, so a
// template is never expanded in the file); `first` becomes the expansion. Copies keep the
// template's line numbers, so explanations point at the template's rule; a value filled in
// from a parameter carries the instance's position, so a wrong value is reported there.
//
// Diagnostic codes added here (docs/rules-language.md lists them all):
//   E-template-param          `params` names a parameter twice, or badly, or after a
//                             promotion attribute
//   E-template-param-unknown  `{x}` in a template, or `x="..."` on an instance, where the
//                             template has no parameter `x`
//   E-template-param-unset    an instance leaves a parameter its expansion uses unset
//   W-template-param-unused   a declared parameter appears nowhere in the template
//   W-template-unused         no promotion is built from a template
//   E-attr-value              a parameter value that does not fit an attribute it fills
#include "kc-private.h"

#include <stdlib.h>
#include <string.h>

typedef struct tx {
    kc_program *p;
    kc_diags *d;
} tx;

// Adds a diagnostic unless the same one (code, place, text) is already in the list: a
// template used by several promotions would otherwise repeat it once per promotion.
static void diag_once(tx *X, kc_severity sev, const char *code, unsigned line, unsigned col,
                      const char *hint, const char *msg)
{
    for (size_t i = 0; i < X->d->count; i++) {
        const kc_diag *g = &X->d->items[i];
        if (g->line == line && g->col == col && strcmp(g->code, code) == 0 &&
            strcmp(g->message, msg) == 0)
            return;
    }
    kc_diag_add(X->d, sev, code, X->p->file, line, col, hint, "%s", msg);
}

static const char *node_id(const kc_node *n)
{
    const char *s = kc__str(n, "id");
    return s ? s : "?";
}

// ---- parameters of a template ------------------------------------------------------------
static const kc_attr *params_attr(const kc_node *t)
{
    const kc_attr *a = kc__attr(t, "params");
    return a->present ? a : NULL;
}

static bool has_param(const kc_node *t, const char *name)
{
    const kc_attr *a = params_attr(t);
    for (size_t i = 0; a && i < a->v.n; i++)
        if (strcmp(a->v.list[i], name) == 0)
            return true;
    return false;
}

// Column of the k-th word of a one-line attribute value (its first column otherwise).
static unsigned word_col(const kc_attr *a, size_t k)
{
    const char *r = a->raw;
    unsigned col = a->vcol;
    size_t w = 0;
    for (size_t i = 0; r && r[i];) {
        while (r[i] == ' ' || r[i] == '\t') {
            i++;
            col++;
        }
        if (!r[i] || r[i] == '\n' || r[i] == '\r')
            return a->vcol;
        if (w++ == k)
            return col;
        while (r[i] && r[i] != ' ' && r[i] != '\t' && r[i] != '\n' && r[i] != '\r') {
            if (((unsigned char)r[i] & 0xC0) != 0x80)
                col++;
            i++;
        }
    }
    return a->vcol;
}

static bool param_name_ok(const char *s)
{
    char buf[80];
    size_t n = strlen(s);
    if (n + 3 > sizeof buf)
        return false;
    snprintf(buf, sizeof buf, "{%s}", s);
    return kc__placeholder(buf) == n;
}

// Counts the placeholders of `n` and its body per parameter; reports unknown ones.
static void count_uses(tx *X, const kc_node *t, const kc_node *n, unsigned *uses)
{
    if (!n->spec)
        return;
    const kc_attr *pa = params_attr(t);
    for (size_t k = 0; n->spec->attrs[k].name; k++) {
        const kc_attr *a = &n->attrs[k];
        if (!a->param || a->present)
            continue;
        bool found = false;
        for (size_t i = 0; pa && i < pa->v.n; i++)
            if (strcmp(pa->v.list[i], a->param) == 0) {
                uses[i]++;
                found = true;
            }
        if (found)
            continue;
        char msg[300], hint[300];
        const char *s = pa ? kc__suggest(a->param, pa->v.list, pa->v.n) : NULL;
        if (s)
            snprintf(hint, sizeof hint, "did you mean `{%s}`?", s);
        else
            snprintf(hint, sizeof hint, "add `%s` to the template's `params`", a->param);
        snprintf(msg, sizeof msg, "template `%s` has no parameter `%s`", node_id(t), a->param);
        diag_once(X, KC_ERROR, "E-template-param-unknown", a->vline, a->vcol, hint, msg);
    }
    for (const kc_node *c = n->first; c; c = c->next)
        count_uses(X, t, c, uses);
}

static void check_template(tx *X, const kc_node *t)
{
    const kc_attr *pa = params_attr(t);
    size_t np = pa ? pa->v.n : 0;
    unsigned *uses = calloc(np ? np : 1, sizeof *uses);
    if (!uses)
        return;
    const kc_elem_spec *pr = kc__elem_spec(KC_E_PROMOTION);
    bool *bad = calloc(np ? np : 1, sizeof *bad); // reported: no unused warning as well
    if (!bad) {
        free(uses);
        return;
    }
    for (size_t i = 0; i < np; i++) {
        const char *w = pa->v.list[i];
        unsigned col = word_col(pa, i);
        char msg[300];
        if (!param_name_ok(w)) {
            bad[i] = true;
            snprintf(msg, sizeof msg, "`%s` is not a parameter name", w);
            diag_once(X, KC_ERROR, "E-template-param", pa->vline, col,
                      "a name is letters, digits, `-` and `_`, starting with a letter", msg);
            continue;
        }
        for (size_t k = 0; pr->attrs[k].name; k++)
            if (strcmp(pr->attrs[k].name, w) == 0) {
                bad[i] = true;
                snprintf(msg, sizeof msg,
                         "`%s` is an attribute of every promotion, not a parameter", w);
                diag_once(X, KC_ERROR, "E-template-param", pa->vline, col,
                          "remove it from `params`: a promotion sets it directly", msg);
            }
        for (size_t j = 0; j < i; j++)
            if (strcmp(pa->v.list[j], w) == 0) {
                bad[i] = true;
                snprintf(msg, sizeof msg, "parameter `%s` is declared twice", w);
                diag_once(X, KC_ERROR, "E-template-param", pa->vline, col, NULL, msg);
                break;
            }
    }
    count_uses(X, t, t, uses);
    for (size_t i = 0; i < np; i++)
        if (!uses[i] && !bad[i]) {
            char msg[300], hint[300];
            snprintf(msg, sizeof msg, "parameter `%s` is used nowhere in template `%s`",
                     pa->v.list[i], node_id(t));
            snprintf(hint, sizeof hint, "write `{%s}` where its value goes, or remove it",
                     pa->v.list[i]);
            diag_once(X, KC_WARNING, "W-template-param-unused", pa->vline, word_col(pa, i), hint,
                      msg);
        }
    free(bad);
    free(uses);
}

// ---- one instance ----------------------------------------------------------------------------
typedef struct inst {
    tx *X;
    kc_node *n;           // the promotion
    const kc_node *t;     // its template
    bool *unset_reported; // per parameter of the template
    bool failed;
} inst;

static const kc_arg *find_arg(const kc_node *n, const char *name)
{
    for (unsigned i = 0; i < n->nargs; i++)
        if (strcmp(n->args[i].name, name) == 0)
            return &n->args[i];
    return NULL;
}

static size_t param_index(const kc_node *t, const char *name)
{
    const kc_attr *pa = params_attr(t);
    for (size_t i = 0; pa && i < pa->v.n; i++)
        if (strcmp(pa->v.list[i], name) == 0)
            return i;
    return (size_t)-1;
}

// Fills attribute `dst` (of element `owner`, spec `as`) from the parameter its template
// counterpart names. Unset and mistyped values leave it absent, with a diagnostic.
static void fill(inst *I, const kc_node *owner, const kc_attr_spec *as, kc_attr *dst,
                 unsigned use_line)
{
    tx *X = I->X;
    const char *param = dst->param;
    if (!has_param(I->t, param))
        return; // reported once at the template (E-template-param-unknown)
    kc_arg *g = (kc_arg *)find_arg(I->n, param);
    char msg[600], hint[300];
    if (!g) {
        size_t pi = param_index(I->t, param);
        if (pi != (size_t)-1 && !I->unset_reported[pi]) {
            I->unset_reported[pi] = true;
            const kc_attr *ta = kc__attr(I->n, "template");
            snprintf(msg, sizeof msg, "promotion `%s` leaves parameter `%s` of template `%s` unset",
                     node_id(I->n), param, node_id(I->t));
            snprintf(hint, sizeof hint, "add `%s=\"...\"`: it is `%s %s` on line %u", param,
                     owner->spec->name, as->name, use_line);
            diag_once(X, KC_ERROR, "E-template-param-unset", ta->vline, ta->vcol, hint, msg);
        }
        return;
    }
    char why[256], h[256];
    kc_value v;
    if (!kc__parse_value(as, g->raw, X->p->minor_unit, &X->p->arena, &v, why, sizeof why, h,
                         sizeof h)) {
        snprintf(msg, sizeof msg, "parameter `%s` is `%s %s` in template `%s` (line %u): %s", param,
                 owner->spec->name, as->name, node_id(I->t), use_line, why);
        diag_once(X, KC_ERROR, "E-attr-value", g->vline, g->vcol, h[0] ? h : NULL, msg);
        return;
    }
    if (!g->spec) {
        g->spec = as;
        g->v = v;
    }
    dst->present = true;
    dst->defaulted = false;
    dst->v = v;
    dst->raw = g->raw;
    dst->line = g->line;
    dst->col = g->col;
    dst->vline = g->vline;
    dst->vcol = g->vcol;
}

static kc_attr *copy_attrs(inst *I, const kc_node *src)
{
    size_t na = kc__attr_count(src->spec);
    kc_attr *a = kc__arena_alloc(&I->X->p->arena, (na + 1) * sizeof *a);
    if (!a) {
        I->failed = true;
        return NULL;
    }
    memcpy(a, src->attrs, na * sizeof *a);
    return a;
}

static void append(kc_node *parent, kc_node *c)
{
    c->parent = parent;
    c->next = NULL;
    if (parent->last)
        parent->last->next = c;
    else
        parent->first = c;
    parent->last = c;
}

// A copy of template node `src` (and its body) with the parameters filled in.
static kc_node *copy_tree(inst *I, const kc_node *src)
{
    kc_node *n = kc__arena_alloc(&I->X->p->arena, sizeof *n);
    kc_attr *attrs = n ? copy_attrs(I, src) : NULL;
    if (!n || !attrs) {
        I->failed = true;
        return NULL;
    }
    n->spec = src->spec;
    n->line = src->line;
    n->col = src->col;
    n->attrs = attrs;
    n->text = src->text;
    n->doc_index = src->doc_index;
    n->copy_of = src;
    for (size_t k = 0; src->spec->attrs[k].name; k++)
        if (attrs[k].param && !attrs[k].present)
            fill(I, src, &src->spec->attrs[k], &attrs[k], src->line);
    for (const kc_node *c = src->first; c; c = c->next) {
        if (!c->spec)
            continue; // comments stay with the template
        kc_node *cc = copy_tree(I, c);
        if (cc)
            append(n, cc);
    }
    return n;
}

static bool written_has(const kc_node *n, const kc_elem_spec *spec)
{
    for (const kc_node *c = n->written; c; c = c->next)
        if (c->spec == spec)
            return true;
    return false;
}

static unsigned rank_of(const kc_node *c)
{
    const kc_elem_spec *pr = kc__elem_spec(KC_E_PROMOTION);
    for (const kc_child_spec *cs = pr->children; cs->elem; cs++)
        if (kc__elem_spec(cs->elem) == c->spec)
            return cs->rank;
    return 0;
}

// Adds the instance's own children of element `spec` (as they are: they are written there).
static void add_own(inst *I, const kc_elem_spec *spec)
{
    for (const kc_node *c = I->n->written; c; c = c->next) {
        if (c->spec != spec)
            continue;
        kc_node *s = kc__arena_alloc(&I->X->p->arena, sizeof *s);
        if (!s) {
            I->failed = true;
            return;
        }
        *s = *c; // shares its subtree; only `next` differs from the written node
        append(I->n, s);
    }
}

// Orders the expansion by rank, keeping the order built (a stable insertion sort).
static void sort_by_rank(kc_node *n)
{
    kc_node *sorted = NULL, *c = n->first;
    while (c) {
        kc_node *next = c->next, **pp = &sorted;
        while (*pp && rank_of(*pp) <= rank_of(c))
            pp = &(*pp)->next;
        c->next = *pp;
        *pp = c;
        c = next;
    }
    n->first = sorted;
    n->last = NULL;
    for (kc_node *k = sorted; k; k = k->next)
        n->last = k;
}

static void expand(tx *X, kc_node *n, const kc_node *t)
{
    const kc_attr *pa = params_attr(t);
    size_t np = pa ? pa->v.n : 0;
    inst I = {.X = X, .n = n, .t = t, .unset_reported = calloc(np ? np : 1, sizeof(bool))};
    if (!I.unset_reported)
        return;
    n->tmpl = t;
    // Parameter values the template does not declare.
    const kc_elem_spec *pr = kc__elem_spec(KC_E_PROMOTION);
    for (unsigned i = 0; i < n->nargs; i++) {
        const kc_arg *g = &n->args[i];
        if (has_param(t, g->name))
            continue;
        const char *cands[96];
        size_t nc = 0;
        for (size_t k = 0; k < np && nc < 64; k++)
            cands[nc++] = pa->v.list[k];
        for (size_t k = 0; pr->attrs[k].name && nc < 96; k++)
            cands[nc++] = pr->attrs[k].name;
        const char *s = kc__suggest(g->name, cands, nc);
        char msg[300], hint[300];
        if (s)
            snprintf(hint, sizeof hint, "did you mean `%s`?", s);
        else if (np)
            snprintf(hint, sizeof hint, "the parameters of `%s` are `%s`", node_id(t), pa->raw);
        else
            snprintf(hint, sizeof hint, "template `%s` has no parameters", node_id(t));
        snprintf(msg, sizeof msg, "template `%s` has no parameter `%s`", node_id(t), g->name);
        diag_once(X, KC_ERROR, "E-template-param-unknown", g->line, g->col, hint, msg);
    }
    // Promotion attributes the instance does not write come from the template.
    for (size_t k = 0; pr->attrs[k].name; k++) {
        const char *name = pr->attrs[k].name;
        kc_attr *a = &n->attrs[k];
        if (a->present || a->line || !strcmp(name, "id") || !strcmp(name, "name") ||
            !strcmp(name, "template"))
            continue;
        for (size_t j = 0; t->spec->attrs[j].name; j++) {
            const kc_attr *ta = &t->attrs[j];
            if (strcmp(t->spec->attrs[j].name, name) != 0 || !(ta->present || ta->param))
                continue;
            kc_attr copy = *ta;
            copy.inherited = true;
            if (ta->param && !ta->present) {
                copy.defaulted = a->defaulted;
                copy.v = a->v;
                fill(&I, t, &pr->attrs[k], &copy, t->line);
            }
            if (copy.present)
                *a = copy;
        }
    }
    // The body: the template's children, with the instance's own in place of those of the
    // same element, then the instance's children of elements the template lacks.
    n->written = n->first;
    n->first = n->last = NULL;
    const kc_elem_spec *done[32];
    size_t ndone = 0;
    for (const kc_node *c = t->first; c; c = c->next) {
        if (!c->spec)
            continue;
        if (written_has(n, c->spec)) {
            bool seen = false;
            for (size_t i = 0; i < ndone; i++)
                seen = seen || done[i] == c->spec;
            if (!seen && ndone < 32) {
                done[ndone++] = c->spec;
                add_own(&I, c->spec);
            }
            continue;
        }
        kc_node *cc = copy_tree(&I, c);
        if (cc)
            append(n, cc);
    }
    for (const kc_node *c = n->written; c; c = c->next) {
        if (!c->spec)
            continue;
        bool seen = false;
        for (const kc_node *k = t->first; k && !seen; k = k->next)
            seen = k->spec == c->spec;
        for (const kc_node *k = n->written; k != c && seen == false; k = k->next)
            seen = k->spec == c->spec; // added with the first of its element
        if (!seen)
            add_own(&I, c->spec);
    }
    sort_by_rank(n);
    free(I.unset_reported);
}

void kc__expand_templates(kc_program *p, kc_diags *d)
{
    tx X = {.p = p, .d = d};
    kc_node *ps = kc__child(p->root, KC_E_PROMOTIONS, NULL);
    if (!ps)
        return;
    for (kc_node *t = kc__child(ps, KC_E_TEMPLATE, NULL); t; t = kc__child(ps, KC_E_TEMPLATE, t))
        check_template(&X, t);
    for (kc_node *n = kc__child(ps, KC_E_PROMOTION, NULL); n;
         n = kc__child(ps, KC_E_PROMOTION, n)) {
        const char *id = kc__attr(n, "template")->present ? kc__str(n, "template") : NULL;
        if (!id)
            continue;
        // An unknown template is reported by the checks (E-ref-undefined): the promotion is
        // then left as written.
        for (kc_node *t = kc__child(ps, KC_E_TEMPLATE, NULL); t;
             t = kc__child(ps, KC_E_TEMPLATE, t))
            if (kc__attr(t, "id")->present && strcmp(kc__str(t, "id"), id) == 0) {
                expand(&X, n, t);
                break;
            }
    }
    for (kc_node *t = kc__child(ps, KC_E_TEMPLATE, NULL); t; t = kc__child(ps, KC_E_TEMPLATE, t)) {
        const kc_attr *id = kc__attr(t, "id");
        if (!id->present)
            continue;
        bool used = false;
        for (kc_node *n = kc__child(ps, KC_E_PROMOTION, NULL); n && !used;
             n = kc__child(ps, KC_E_PROMOTION, n))
            used = n->tmpl == t;
        if (!used) {
            char msg[200];
            snprintf(msg, sizeof msg, "no promotion is built from template `%s`", id->v.s);
            diag_once(&X, KC_WARNING, "W-template-unused", id->vline, id->vcol,
                      "add `<promotion ... template=\"...\"/>`, or remove the template", msg);
        }
    }
}
