// SPDX-License-Identifier: MIT
// kc-check.c: semantic checks over the typed tree — ids, references, segments, tiers,
// redemption, promo codes, expiry, triggers. Decision tables are checked in
// kc-check-tables.c, promotions in kc-check-promotions.c.
//
// The checks run on any tree the loader produced, including one with load errors: a value
// that failed to parse is absent, so checks that need it are skipped (and checks about a
// missing attribute look at whether it was written at all, to avoid a second report).
// No check depends on the wall clock: the same file always gives the same diagnostics.
//
// Diagnostic codes added by the checks (docs/rules-language.md lists them all):
//   E-id-reserved       an id taken by a construct of the language (`agreement` with <agreements>)
//   E-id-duplicate        an id is declared twice (ids are unique across the whole program)
//   E-ref-undefined       a reference names no declared id (hint: the closest id of that kind)
//   E-ref-kind            a reference names an id of another kind ("`gold` is a ladder, not a tier")
//   E-table-output        a table used as a percent/factor has another `output` type
//   E-percent-range       a percent above 100% where that makes no sense (discounts, shares)
//   E-effect-value        an effect has none or several of its amount attributes, or a zero count
//   E-effect-per          `per="unit"|"receipt"` on a discount without `amount`
//   E-selector-attribute  a line selector's `attribute` is not of the form `name=value`
//   E-date-order          a `from` date after the `to` date (promotion validity, promo-code batch)
//   E-window-days         `window="rolling-days"` without `days` (or days="0"), or `days` without it
//   E-tier-order          tier thresholds of a ladder do not rise strictly in document order
//   E-tier-from           a tier threshold has more decimals than its metric allows
//   W-tier-start          the first tier of a ladder does not start at 0
//   E-tier-exclude        a tier's `discount-exclude-*` without a `discount` to narrow
//   E-ladder-exclude      `<exclude>` in a ladder whose metric is `points-earned` (points leave
//                         lines out through the accrual's own `<exclude>`), or one that names
//                         no lines (the ladder would count none)
//   W-reminder-window     a tier-reminder on a ladder whose window never ends (rolling-days,
//                         all-time): there is no period end to remind of, so it never fires
//   E-table-cells         a row has not as many `|`-separated cells as the table has inputs
//   E-table-cell          a cell does not fit its input (bad range, empty range, bad word)
//   E-table-value         a row's `then` or the table's `default` is not of the output type
//   E-table-input         an input lacks (or has a needless) `window` or `attribute`
//   E-table-unreachable   hit="first": earlier rows cover every case of a row
//   W-table-gap           no row matches a range of a numeric input between rows that differ
//                         only there (and the table has no `default`)
//   W-table-overlap       hit="first": two rows that differ only in a numeric input partly overlap
//   W-table-unused        a table is never referenced as `@id`
//   E-promo-no-effect     a promotion has no effect (discount, points, message ...)
//   E-promo-dead          a promotion can certainly never apply (contradictory conditions)
//   W-promo-dead          a promotion can most likely never apply (audience tiers/segments)
//   W-cond-dead           a condition inside `any` can never hold
//   W-cond-always         a condition that asks for nothing (`min-quantity="0"`)
//   W-basis-after         `basis="after"` in a line-stage promotion, which sees no earlier stage
//   W-promo-shadowed      an earlier promotion always applies instead of this one: it comes
//                         first in a priority group, or has stop="true" in the same stage, and
//                         its conditions are absent or equal to this one's, it has no `limit`
//                         and an effect that needs no particular line
//   W-group-empty         an exclusive group has no promotions
//   W-audience-empty      an accrual rate or a trigger whose segments and tiers exclude each other
//   E-segment-transition  a segment's transition leads to itself
//   E-segment-membership  `membership-days` without `join-sku`, or the other way round;
//                         `join-receipt` without `join-sku`
//   E-segment-default     more than one default segment
//   E-challenge-remind    a challenge's `remind-*` without `remind-days-before`, with a
//                         rolling window, `remind-left` outside 1 .. receipts - 1, or no channel
//   E-expiry-duplicate    two lifetimes for the same source
//   W-warn-duplicate      two expiry warnings with the same `days-before`
//   W-lifetime-hold       a lifetime's hold-days is not below its days
//   E-redemption-step     step="0"
//   W-redemption-share    max-share="0%": points can never pay
//   E-batch-field         a promo-code batch lacks (or has a needless) attribute for its kind
//   W-trigger-no-reward   a trigger that gives nothing and says nothing
#include "kc-check-private.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

// ---- helpers -------------------------------------------------------------------------------
void ck_diag(kc_ck *c, kc_severity sev, const char *code, unsigned line, unsigned col,
             const char *hint, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    // The same problem in the same place once: a template's body is checked in every
    // promotion built from it.
    for (size_t i = 0; i < c->d->count; i++) {
        const kc_diag *g = &c->d->items[i];
        if (g->line == line && g->col == col && strcmp(g->code, code) == 0 &&
            strcmp(g->message, msg) == 0)
            return;
    }
    kc_diag_add(c->d, sev, code, c->p->file, line, col, hint, "%s", msg);
}

bool ck_written(const kc_node *n, const char *name)
{
    const kc_attr *a = kc__attr(n, name);
    return a->present || a->line != 0;
}

bool ck_present(const kc_node *n, const char *name)
{
    return kc__attr(n, name)->present;
}

static bool is_cont(unsigned char ch)
{
    return (ch & 0xC0) == 0x80;
}

void ck_pos(const kc_ck *c, const kc_attr *a, size_t off, unsigned *line, unsigned *col)
{
    *line = a->vline;
    *col = a->vcol;
    const char *src = c->p->source, *end = src + c->p->source_len;
    if (!src || !a->raw || !a->vline)
        return;
    // Find the value's first character in the source, then walk source and value together
    // (entities and line breaks in the source are one character of the value).
    const char *s = src;
    for (unsigned l = 1; l < a->vline && s < end; s++)
        if (*s == '\n')
            l++;
    for (unsigned k = 1; k < a->vcol && s < end && *s != '\n';) {
        s++;
        if (s < end && !is_cont((unsigned char)*s))
            k++;
    }
    unsigned ln = a->vline, cl = a->vcol;
    const char *r = a->raw, *rend = a->raw + off;
    while (r < rend && *r && s < end && *s != '"' && *s != '\'') {
        if (*s == '&') {
            while (s < end && *s != ';')
                s++;
            s++;
            cl++;
        } else if (*s == '\n') {
            s++;
            ln++;
            cl = 1;
        } else if (*s == '\r') {
            s++;
            if (s < end && *s == '\n')
                s++;
            ln++;
            cl = 1;
        } else {
            s++;
            while (s < end && is_cont((unsigned char)*s))
                s++;
            cl++;
        }
        r++;
        while (r < rend && is_cont((unsigned char)*r))
            r++;
    }
    *line = ln;
    *col = cl;
}

size_t ck_word_off(const kc_attr *a, size_t k)
{
    const char *r = a->raw;
    if (!r)
        return 0;
    size_t i = 0, w = 0;
    for (;;) {
        while (r[i] == ' ' || r[i] == '\t' || r[i] == '\n' || r[i] == '\r')
            i++;
        if (!r[i])
            return 0;
        if (w == k)
            return i;
        while (r[i] && r[i] != ' ' && r[i] != '\t' && r[i] != '\n' && r[i] != '\r')
            i++;
        w++;
    }
}

bool ck_load_error_in(const kc_ck *c, const kc_node *n, const char *const *codes)
{
    // The subtree of n is contiguous in document order; the next element bounds its lines.
    size_t i = 0;
    while (i < c->nnodes && c->nodes[i] != n)
        i++;
    unsigned end = 0xFFFFFFFFu;
    for (size_t j = i + 1; j < c->nnodes; j++) {
        const kc_node *a = c->nodes[j];
        while (a && a != n)
            a = a->parent;
        if (!a) {
            end = c->nodes[j]->line;
            break;
        }
    }
    for (size_t k = 0; k < c->d->count; k++) {
        const kc_diag *g = &c->d->items[k];
        if (g->line < n->line || g->line >= end)
            continue;
        for (size_t m = 0; codes[m]; m++)
            if (strcmp(g->code, codes[m]) == 0)
                return true;
    }
    return false;
}

static const char *const unknown_attr[] = {"E-attr-unknown", NULL};

const ck_sym *ck_find(const kc_ck *c, const char *id)
{
    for (size_t i = 0; i < c->nsyms; i++)
        if (strcmp(c->syms[i].id, id) == 0)
            return &c->syms[i];
    return NULL;
}

static const char *plural(const char *kind)
{
    return strcmp(kind, "batch") == 0 ? "es" : "s";
}

void ck_kind_hint(const kc_ck *c, const char *word, const char *kind, char *out, size_t outsz)
{
    const char *cands[256] = {0};
    size_t n = 0;
    for (size_t i = 0; i < c->nsyms && n < 256; i++)
        if (strcmp(c->syms[i].kind, kind) == 0)
            cands[n++] = c->syms[i].id;
    const char *s = word ? kc__suggest(word, cands, n) : NULL;
    if (s) {
        snprintf(out, outsz, "did you mean `%s`?", s);
        return;
    }
    if (n == 0) {
        snprintf(out, outsz, "the program declares no %s", kind);
        return;
    }
    size_t len = (size_t)snprintf(out, outsz, "declared %s%s:", kind, plural(kind));
    for (size_t i = 0; i < n && i < 6 && len < outsz; i++)
        len += (size_t)snprintf(out + len, outsz - len, "%s `%s`", i ? "," : "", cands[i]);
    if (n > 6 && len < outsz)
        snprintf(out + len, outsz - len, " ...");
}

const ck_sym *ck_ref(kc_ck *c, const char *id, const char *kind, unsigned line, unsigned col)
{
    char hint[400];
    const ck_sym *s = ck_find(c, id);
    if (!s) {
        ck_kind_hint(c, id, kind, hint, sizeof hint);
        ck_diag(c, KC_ERROR, "E-ref-undefined", line, col, hint, "unknown %s `%s`", kind, id);
        return NULL;
    }
    if (strcmp(s->kind, kind) != 0) {
        ck_kind_hint(c, id, kind, hint, sizeof hint);
        ck_diag(c, KC_ERROR, "E-ref-kind", line, col, hint, "`%s` is a %s, not a %s", id,
                s->kind, kind);
        return NULL;
    }
    return s;
}

const char *ck_money(const kc_ck *c, int64_t minor, char buf[48])
{
    kc__fmt_money(buf, 48, minor, c->p->minor_unit);
    return buf;
}

const char *ck_date(int64_t days, char buf[16])
{
    kc__fmt_date(buf, 16, days);
    return buf;
}

void ck_window_days(kc_ck *c, const kc_node *n)
{
    const kc_attr *w = kc__attr(n, "window"), *days = kc__attr(n, "days");
    bool rolling = w->present && strcmp(w->v.s, "rolling-days") == 0;
    if (rolling && !days->present && !days->line && !ck_load_error_in(c, n, unknown_attr))
        ck_diag(c, KC_ERROR, "E-window-days", w->vline, w->vcol, "add `days=\"30\"` or similar",
                "`window=\"rolling-days\"` needs `days`");
    else if (rolling && days->present && days->v.i == 0)
        ck_diag(c, KC_ERROR, "E-window-days", days->vline, days->vcol, NULL,
                "a rolling window of 0 days is always empty");
    else if (!rolling && w->present && days->present)
        ck_diag(c, KC_ERROR, "E-window-days", days->line, days->col,
                "remove `days`, or use `window=\"rolling-days\"`",
                "`days` only applies to `window=\"rolling-days\"`, not `%s`", w->v.s);
}

// ---- ids -------------------------------------------------------------------------------------
static int cmp_doc(const void *a, const void *b)
{
    const kc_node *x = *(const kc_node *const *)a, *y = *(const kc_node *const *)b;
    return x->doc_index < y->doc_index ? -1 : x->doc_index > y->doc_index;
}

static size_t count_nodes(const kc_node *n)
{
    size_t k = n->spec ? 1 : 0;
    for (const kc_node *ch = n->first; ch; ch = ch->next)
        k += count_nodes(ch);
    return k;
}

static void collect_nodes(kc_ck *c, const kc_node *n)
{
    if (n->spec)
        c->nodes[c->nnodes++] = n;
    for (const kc_node *ch = n->first; ch; ch = ch->next)
        collect_nodes(c, ch);
}

static const kc_attr *declaring_attr(const kc_node *n, size_t *idx)
{
    for (size_t k = 0; n->spec->attrs[k].name; k++)
        if (n->spec->attrs[k].flags & KC_A_DECLARES) {
            if (idx)
                *idx = k;
            return &n->attrs[k];
        }
    return NULL;
}

static void collect_ids(kc_ck *c)
{
    for (size_t i = 0; i < c->nnodes; i++) {
        const kc_node *n = c->nodes[i];
        const kc_attr *a = n->spec->kind ? declaring_attr(n, NULL) : NULL;
        if (!a || !a->present)
            continue;
        const ck_sym *first = ck_find(c, a->v.s);
        if (first) {
            char hint[200];
            snprintf(hint, sizeof hint,
                     "first declared on line %u (a %s); ids are unique across the program",
                     first->attr->vline, first->kind);
            ck_diag(c, KC_ERROR, "E-id-duplicate", a->vline, a->vcol, hint,
                    "duplicate id `%s`", a->v.s);
            continue;
        }
        c->syms[c->nsyms++] = (ck_sym){a->v.s, n->spec->kind, n, a};
    }
}

// ---- references and values in context -----------------------------------------------------
static bool is_effect_percent(const kc_node *n, const char *attr)
{
    // Percents that are a share of a price or an amount: above 100% they make no sense.
    static const struct {
        kc_elem_id e;
        const char *a;
    } limited[] = {
        {KC_E_TIER, "discount"},          {KC_E_DISCOUNT, "percent"},
        {KC_E_CHEAPEST, "percent"},       {KC_E_BUY_GET, "percent"},
        {KC_E_CAP, "max-line-share"},     {KC_E_REDEMPTION, "max-share"},
        {KC_E_AGREEMENTS, "max"},         {KC_E_REFERRAL, "percent"},
        {KC_E_TIER_REMINDER, "within"},
    };
    for (size_t i = 0; i < sizeof limited / sizeof limited[0]; i++)
        if (kc__is(n, limited[i].e) && strcmp(attr, limited[i].a) == 0)
            return true;
    return false;
}

static void check_selector_attribute(kc_ck *c, const kc_node *n, const kc_attr *a)
{
    const char *r = a->raw, *eq = strchr(r, '=');
    bool ok = eq && eq > r && eq[1] && eq[1] != ' ';
    for (const char *q = r; ok && q < eq; q++)
        if (*q == ' ' || *q == '\t')
            ok = false;
    if (!ok)
        ck_diag(c, KC_ERROR, "E-selector-attribute", a->vline, a->vcol,
                "write `name=value`, like `attribute=\"material=brass\"`",
                "`%s attribute` must have the form `name=value`, got `%s`", n->spec->name, r);
}

static void check_attr_refs(kc_ck *c, const kc_node *n)
{
    for (size_t k = 0; n->spec->attrs[k].name; k++) {
        const kc_attr_spec *as = &n->spec->attrs[k];
        const kc_attr *a = &n->attrs[k];
        if (!a->present)
            continue;
        // In a template's expansion only the values filled in from parameters are new: the
        // rest was checked once, in the template.
        if ((n->copy_of || a->inherited) && !a->param)
            continue;
        unsigned line, col;
        switch (as->type) {
        case KC_V_REF:
            ck_ref(c, a->v.s, as->arg, a->vline, a->vcol);
            break;
        case KC_V_REFS:
            for (size_t i = 0; i < a->v.n; i++) {
                ck_pos(c, a, ck_word_off(a, i), &line, &col);
                ck_ref(c, a->v.list[i], as->arg, line, col);
            }
            break;
        case KC_V_PERCENT_REF:
        case KC_V_FACTOR_REF: {
            if (!a->v.is_ref) {
                if (as->type == KC_V_PERCENT_REF && is_effect_percent(n, as->name) &&
                    a->v.i > 10000)
                    ck_diag(c, KC_ERROR, "E-percent-range", a->vline, a->vcol,
                            "at most `100%`", "`%s %s` is above 100%%", n->spec->name,
                            as->name);
                break;
            }
            const ck_sym *t = ck_ref(c, a->v.s, "table", a->vline, a->vcol + 1);
            if (!t)
                break;
            c->table_uses[t - c->syms]++;
            const char *want = as->type == KC_V_PERCENT_REF ? "percent" : "factor";
            const char *out = kc__str(t->node, "output");
            if (out && strcmp(out, want) != 0) {
                char hint[200];
                snprintf(hint, sizeof hint,
                         "`%s %s` needs a table with output=\"%s\" (line %u)", n->spec->name,
                         as->name, want, t->node->line);
                bool mass = strcmp(out, "money") == 0 || strcmp(out, "points") == 0;
                ck_diag(c, KC_ERROR, "E-table-output", a->vline, a->vcol, hint,
                        "table `%s` gives %s%s, not a %s", a->v.s, mass ? "" : "a ", out, want);
            }
            break;
        }
        case KC_V_PERCENT:
            if (is_effect_percent(n, as->name) && a->v.i > 10000)
                ck_diag(c, KC_ERROR, "E-percent-range", a->vline, a->vcol, "at most `100%`",
                        "`%s %s` is above 100%%", n->spec->name, as->name);
            break;
        case KC_V_TEXT:
            if (strcmp(as->name, "attribute") == 0 && !kc__is(n, KC_E_CUSTOMER) &&
                !kc__is(n, KC_E_INPUT))
                check_selector_attribute(c, n, a);
            break;
        default:
            break;
        }
    }
}

// ---- segments --------------------------------------------------------------------------------
static void check_segments(kc_ck *c)
{
    const kc_attr *first_default = NULL;
    for (size_t i = 0; i < c->nnodes; i++) {
        const kc_node *s = c->nodes[i];
        if (!kc__is(s, KC_E_SEGMENT))
            continue;
        const kc_attr *def = kc__attr(s, "default");
        if (def->present && def->v.i) {
            if (first_default) {
                char hint[120];
                snprintf(hint, sizeof hint, "the first default segment is on line %u",
                         first_default->vline);
                ck_diag(c, KC_ERROR, "E-segment-default", def->vline, def->vcol, hint,
                        "only one segment may be the default");
            } else {
                first_default = def;
            }
        }
        const kc_attr *js = kc__attr(s, "join-sku"), *md = kc__attr(s, "membership-days");
        bool typo = ck_load_error_in(c, s, unknown_attr);
        if (md->present && !js->present && !js->line && !typo)
            ck_diag(c, KC_ERROR, "E-segment-membership", md->line, md->col,
                    "add `join-sku` with the SKUs that sell the membership",
                    "`membership-days` needs `join-sku`: nothing starts the membership");
        if (js->present && !md->present && !md->line && !typo)
            ck_diag(c, KC_ERROR, "E-segment-membership", js->line, js->col,
                    "add `membership-days` with the length of a membership",
                    "`join-sku` needs `membership-days`: how long does the membership last?");
        const kc_attr *jr = kc__attr(s, "join-receipt");
        if (jr->present && jr->line && !js->present && !js->line && !typo)
            ck_diag(c, KC_ERROR, "E-segment-membership", jr->line, jr->col,
                    "add `join-sku` with the SKUs that sell the membership, or remove "
                    "`join-receipt`",
                    "`join-receipt` needs `join-sku`: no receipt sells this segment");
        const kc_attr *id = kc__attr(s, "id");
        for (kc_node *t = kc__child(s, KC_E_TRANSITION, NULL); t;
             t = kc__child(s, KC_E_TRANSITION, t)) {
            const kc_attr *to = kc__attr(t, "to");
            if (id->present && to->present && strcmp(id->v.s, to->v.s) == 0)
                ck_diag(c, KC_ERROR, "E-segment-transition", to->vline, to->vcol,
                        "name another segment, or remove the transition",
                        "segment `%s` cannot move to itself", id->v.s);
        }
    }
}

// ---- tiers -----------------------------------------------------------------------------------
static void fmt_threshold(const kc_ck *c, bool money, int64_t v, char *out, size_t outsz)
{
    if (money && c->p->minor_unit <= 4) {
        int64_t div = 1;
        for (int i = c->p->minor_unit; i < 4; i++)
            div *= 10;
        if (v % div == 0) {
            kc__fmt_money(out, outsz, v / div, c->p->minor_unit);
            return;
        }
    }
    kc__fmt_fixed4(out, outsz, v);
}

static void check_ladder(kc_ck *c, const kc_node *l)
{
    ck_window_days(c, l);
    kc__check_ladder_messages(c, l);
    const char *metric = kc__str(l, "metric");
    const kc_node *x = kc__child(l, KC_E_EXCLUDE, NULL);
    if (x && metric && strcmp(metric, "points-earned") == 0)
        ck_diag(c, KC_ERROR, "E-ladder-exclude", x->line, x->col,
                "put the `<exclude>` in `<accrual>`: lines that earn no points add none",
                "ladder `%s` counts points earned, which `<exclude>` cannot leave lines out of",
                kc__has(l, "id") ? kc__str(l, "id") : "?");
    // An <exclude> that names no lines would leave every line out: the ladder would count 0.
    for (; x; x = kc__child(l, KC_E_EXCLUDE, x)) {
        bool any = false;
        for (size_t k = 0; x->spec->attrs[k].name && !any; k++)
            any = ck_written(x, x->spec->attrs[k].name);
        if (!any && !ck_load_error_in(c, x, unknown_attr))
            ck_diag(c, KC_ERROR, "E-ladder-exclude", x->line, x->col,
                    "name the lines: `category`, `sku`, `brand` or `attribute`",
                    "this `<exclude>` names no lines, so ladder `%s` would count none",
                    kc__has(l, "id") ? kc__str(l, "id") : "?");
    }
    bool money = metric && strcmp(metric, "paid") == 0;
    const kc_node *prev = NULL;
    bool first = true;
    for (kc_node *t = kc__child(l, KC_E_TIER, NULL); t; t = kc__child(l, KC_E_TIER, t)) {
        const kc_attr *from = kc__attr(t, "from");
        const kc_attr *tid = kc__attr(t, "id");
        const char *name = tid->present ? tid->v.s : "?";
        static const char *const excl[] = {"discount-exclude-category", "discount-exclude-sku",
                                           "discount-exclude-brand"};
        for (size_t k = 0; k < 3; k++)
            if (ck_written(t, excl[k]) && !ck_written(t, "discount")) {
                const kc_attr *a = kc__attr(t, excl[k]);
                ck_diag(c, KC_ERROR, "E-tier-exclude", a->line, a->col,
                        "add `discount`, or remove the exclusion",
                        "`%s` narrows the tier's discount, but tier `%s` has no `discount`",
                        excl[k], name);
            }
        if (!from->present) {
            first = false;
            continue;
        }
        if (metric) {
            int64_t div = 10000;
            if (money)
                for (int i = 0; i < c->p->minor_unit && div > 1; i++)
                    div /= 10;
            if (from->v.i % div != 0) {
                char hint[120];
                if (money)
                    snprintf(hint, sizeof hint, "the currency has %d decimal place%s",
                             c->p->minor_unit, c->p->minor_unit == 1 ? "" : "s");
                else
                    snprintf(hint, sizeof hint, "`%s` counts whole %s", metric,
                             strcmp(metric, "receipts") == 0 ? "receipts" : "points");
                ck_diag(c, KC_ERROR, "E-tier-from", from->vline, from->vcol, hint,
                        money ? "`from` of tier `%s` is money and has too many decimals"
                              : "`from` of tier `%s` must be a whole number",
                        name);
            }
        }
        if (first && from->v.i != 0) {
            char v[48], hint[200];
            fmt_threshold(c, money, from->v.i, v, sizeof v);
            snprintf(hint, sizeof hint, "start the first tier at `from=\"0\"` if every customer "
                                        "should have a tier");
            ck_diag(c, KC_WARNING, "W-tier-start", from->vline, from->vcol, hint,
                    "customers below %s have no tier of ladder `%s`", v,
                    kc__has(l, "id") ? kc__str(l, "id") : "?");
        }
        if (prev) {
            const kc_attr *pf = kc__attr(prev, "from");
            if (from->v.i <= pf->v.i) {
                char v[48], pv[48], hint[200];
                fmt_threshold(c, money, from->v.i, v, sizeof v);
                fmt_threshold(c, money, pf->v.i, pv, sizeof pv);
                snprintf(hint, sizeof hint,
                         "list tiers from the lowest threshold to the highest; `%s` is on "
                         "line %u",
                         kc__has(prev, "id") ? kc__str(prev, "id") : "?", prev->line);
                ck_diag(c, KC_ERROR, "E-tier-order", from->vline, from->vcol, hint,
                        "tier `%s` starts at %s, not above the %s of the tier before it", name,
                        v, pv);
            }
        }
        prev = t;
        first = false;
    }
}

// ---- redemption, promo codes, expiry, triggers -------------------------------------------
static void check_redemption(kc_ck *c, const kc_node *r)
{
    const kc_attr *step = kc__attr(r, "step"), *share = kc__attr(r, "max-share");
    if (step->present && step->v.i == 0)
        ck_diag(c, KC_ERROR, "E-redemption-step", step->vline, step->vcol,
                "`step=\"1\"` spends points one by one", "`step` must be at least 1");
    if (share->present && share->v.i == 0)
        ck_diag(c, KC_WARNING, "W-redemption-share", share->vline, share->vcol,
                "remove `redemption` if points are not meant to pay",
                "`max-share=\"0%%\"`: points can never pay for anything");
}

static void check_batch(kc_ck *c, const kc_node *b)
{
    const kc_attr *kind = kc__attr(b, "kind");
    const kc_attr *from = kc__attr(b, "from"), *to = kc__attr(b, "to");
    if (from->present && to->present && from->v.i > to->v.i) {
        char f[16], t[16];
        ck_diag(c, KC_ERROR, "E-date-order", to->vline, to->vcol, "swap the dates?",
                "the batch ends (%s) before it starts (%s)", ck_date(to->v.i, t),
                ck_date(from->v.i, f));
    }
    const kc_attr *days = kc__attr(b, "valid-days");
    if (days && days->present && days->v.i < 1)
        ck_diag(c, KC_ERROR, "E-batch-field", days->vline, days->vcol,
                "a code is valid at least on the day it is issued",
                "`valid-days` must be at least 1");
    if (!kind->present)
        return;
    bool single = strcmp(kind->v.s, "single") == 0;
    static const char *const single_needs[] = {"count", "prefix"}, *const single_bans[] = {
        "code", "uses"};
    static const char *const multi_needs[] = {"code"},
                             *const multi_bans[] = {"count", "prefix", "valid-days"};
    const char *const *needs = single ? single_needs : multi_needs;
    const char *const *bans = single ? single_bans : multi_bans;
    size_t nneeds = single ? 2 : 1, nbans = single ? 2 : 3;
    bool typo = ck_load_error_in(c, b, unknown_attr);
    for (size_t i = 0; i < nneeds; i++)
        if (!ck_written(b, needs[i]) && !typo)
            ck_diag(c, KC_ERROR, "E-batch-field", kind->vline, kind->vcol,
                    single ? "a `single` batch generates `count` codes starting with `prefix`"
                           : "a `multi` batch is one public `code`",
                    "a `%s` batch needs `%s`", kind->v.s, needs[i]);
    for (size_t i = 0; i < nbans; i++)
        if (ck_written(b, bans[i])) {
            const kc_attr *a = kc__attr(b, bans[i]);
            ck_diag(c, KC_ERROR, "E-batch-field", a->line, a->col,
                    single ? "use kind=\"multi\" for one public code"
                           : "use kind=\"single\" for generated codes",
                    "`%s` does not apply to a `%s` batch", bans[i], kind->v.s);
        }
}

static void check_expiry(kc_ck *c, const kc_node *e)
{
    const kc_node *seen[16] = {0};
    for (kc_node *l = kc__child(e, KC_E_LIFETIME, NULL); l; l = kc__child(e, KC_E_LIFETIME, l)) {
        const kc_attr *src = kc__attr(l, "source");
        if (src->present && src->v.i >= 0 && src->v.i < 16) {
            const kc_node *f = seen[src->v.i];
            if (f) {
                char hint[120];
                snprintf(hint, sizeof hint, "the first lifetime of `%s` points is on line %u",
                         src->v.s, f->line);
                ck_diag(c, KC_ERROR, "E-expiry-duplicate", src->vline, src->vcol, hint,
                        "points from `%s` already have a lifetime", src->v.s);
            } else {
                seen[src->v.i] = l;
            }
        }
        const kc_attr *days = kc__attr(l, "days"), *hold = kc__attr(l, "hold-days");
        if (days->present && hold->present && hold->v.i >= days->v.i)
            ck_diag(c, KC_WARNING, "W-lifetime-hold", hold->vline, hold->vcol,
                    "hold-days is the return window; it should be shorter than `days`",
                    "points are held %lld days, no less than their lifetime of %lld days",
                    (long long)hold->v.i, (long long)days->v.i);
    }
    for (kc_node *w = kc__child(e, KC_E_WARN, NULL); w; w = kc__child(e, KC_E_WARN, w)) {
        const kc_attr *db = kc__attr(w, "days-before");
        if (!db->present)
            continue;
        for (kc_node *v = kc__child(e, KC_E_WARN, NULL); v && v != w;
             v = kc__child(e, KC_E_WARN, v)) {
            const kc_attr *vb = kc__attr(v, "days-before");
            if (vb->present && vb->v.i == db->v.i) {
                char hint[120];
                snprintf(hint, sizeof hint, "the other warning is on line %u", v->line);
                ck_diag(c, KC_WARNING, "W-warn-duplicate", db->vline, db->vcol, hint,
                        "customers are already warned %lld days before points expire",
                        (long long)db->v.i);
                break;
            }
        }
    }
}

// Segments and tiers of one audience exclude each other: every tier named belongs to a ladder
// limited to segments of which none is named. Writes the first such ladder to *ladder.
static bool audience_excludes(const kc_ck *c, const kc_node *n, const kc_node **ladder)
{
    const kc_attr *segs = kc__attr(n, "segments"), *tiers = kc__attr(n, "tiers");
    if (!segs->present || !tiers->present || tiers->v.n == 0)
        return false;
    *ladder = NULL;
    for (size_t i = 0; i < tiers->v.n; i++) {
        const ck_sym *t = ck_find(c, tiers->v.list[i]);
        if (!t || strcmp(t->kind, "tier") != 0 || !t->node->parent)
            return false;
        const kc_attr *ls = kc__attr(t->node->parent, "segments");
        if (!ls->present)
            return false;
        for (size_t j = 0; j < ls->v.n; j++)
            for (size_t k = 0; k < segs->v.n; k++)
                if (strcmp(ls->v.list[j], segs->v.list[k]) == 0)
                    return false;
        if (!*ladder)
            *ladder = t->node->parent;
    }
    return true;
}

void kc__audience_hint(const kc_ck *c, const kc_node *n, char *out, size_t outsz)
{
    const kc_node *l = NULL;
    out[0] = '\0';
    if (audience_excludes(c, n, &l) && l)
        snprintf(out, outsz, "ladder `%s` is only climbed by `%s`",
                 kc__has(l, "id") ? kc__str(l, "id") : "?", kc__attr(l, "segments")->raw);
}

bool kc__audience_excludes(const kc_ck *c, const kc_node *n)
{
    const kc_node *l;
    return audience_excludes(c, n, &l);
}

static void check_audience_empty(kc_ck *c, const kc_node *n, const char *what)
{
    if (!kc__audience_excludes(c, n))
        return;
    char hint[300];
    kc__audience_hint(c, n, hint, sizeof hint);
    const kc_attr *tiers = kc__attr(n, "tiers");
    ck_diag(c, KC_WARNING, "W-audience-empty", tiers->vline, tiers->vcol, hint,
            "this %s reaches nobody: customers of its segments cannot hold its tiers", what);
}

static bool is_trigger(const kc_node *n)
{
    return n->spec && n->spec->kind && strcmp(n->spec->kind, "trigger") == 0;
}

// A challenge's reminder: `remind-*` needs `remind-days-before`, a window with an end, and a
// goal of more than `remind-left` receipts (else it reminds before the first purchase).
static void check_challenge_remind(kc_ck *c, const kc_node *t)
{
    static const char *const others[] = {"remind-left", "remind-channels", "remind-message"};
    const kc_attr *d = kc__attr(t, "remind-days-before");
    if (!d->present) {
        for (size_t i = 0; i < sizeof others / sizeof *others; i++) {
            const kc_attr *a = kc__attr(t, others[i]);
            if (ck_written(t, others[i]))
                ck_diag(c, KC_ERROR, "E-challenge-remind", a->line, a->col,
                        "add `remind-days-before`: when to remind",
                        "`%s` needs `remind-days-before`", others[i]);
        }
        return;
    }
    if (d->v.i < 1)
        ck_diag(c, KC_ERROR, "E-challenge-remind", d->vline, d->vcol,
                "1 reminds on the window's last day",
                "`remind-days-before` %lld is not a day of the window", (long long)d->v.i);
    const kc_attr *w = kc__attr(t, "window");
    if (w->present && strcmp(w->v.s, "rolling-days") == 0)
        ck_diag(c, KC_ERROR, "E-challenge-remind", d->line, d->col,
                "use a calendar window, or remove `remind-days-before`",
                "a rolling-days window never ends: there is no \"before the end\" to remind at");
    const kc_attr *left = kc__attr(t, "remind-left"), *rc = kc__attr(t, "receipts");
    if (ck_written(t, "remind-left") && (left->v.i < 1 || (rc->present && left->v.i >= rc->v.i)))
        ck_diag(c, KC_ERROR, "E-challenge-remind", left->vline, left->vcol,
                "remind-left is 1 .. receipts - 1",
                "`remind-left` %lld reminds customers who bought nothing in the window",
                (long long)left->v.i);
    if (!ck_written(t, "remind-channels") && !ck_written(t, "channels"))
        ck_diag(c, KC_ERROR, "E-challenge-remind", d->line, d->col,
                "add `remind-channels` (or `channels`)",
                "the reminder has no channel to go out by");
}

static void check_trigger(kc_ck *c, const kc_node *t)
{
    check_audience_empty(c, t, "trigger");
    if (kc__is(t, KC_E_CHALLENGE)) {
        ck_window_days(c, t);
        check_challenge_remind(c, t);
    }
    if (kc__is(t, KC_E_TIER_REMINDER) && kc__has(t, "ladder")) {
        const ck_sym *l = ck_find(c, kc__str(t, "ladder"));
        const char *w = l && kc__is(l->node, KC_E_LADDER) ? kc__str(l->node, "window") : NULL;
        const kc_attr *la = kc__attr(t, "ladder");
        if (w && (strcmp(w, "rolling-days") == 0 || strcmp(w, "all-time") == 0))
            ck_diag(c, KC_WARNING, "W-reminder-window", la->vline, la->vcol,
                    "remind of a ladder counted over calendar periods",
                    "ladder `%s` counts over `%s`, which never ends: this reminder never fires",
                    la->v.s, w);
    }
    if (kc__is(t, KC_E_REFERRAL) || kc__is(t, KC_E_TIER_REMINDER))
        return;
    if (!ck_written(t, "points") && !ck_written(t, "batch") && !ck_written(t, "message"))
        ck_diag(c, KC_WARNING, "W-trigger-no-reward", t->line, t->col,
                "add `points`, `batch` or `message`",
                "trigger `%s` gives nothing and says nothing",
                kc__has(t, "id") ? kc__str(t, "id") : t->spec->name);
}

// ---- the entry point -----------------------------------------------------------------------
// <agreements> becomes a promotion with the id "agreement" (program-abi.md): no other element
// may take that id.
static void check_agreement_id(kc_ck *c)
{
    if (!kc__child(c->p->root, KC_E_AGREEMENTS, NULL))
        return;
    for (size_t i = 0; i < c->nnodes; i++) {
        const kc_node *n = c->nodes[i];
        if (!n->spec || !n->spec->kind)
            continue;
        const kc_attr *a = kc__attr(n, "id");
        if (a->present && strcmp(a->v.s, "agreement") == 0)
            kc_diag_add(c->d, KC_ERROR, "E-id-reserved", c->p->file, a->vline, a->vcol,
                        "rename it: `<agreements>` makes the promotion `agreement`",
                        "the id `agreement` is taken by the agreements of this program");
    }
}

void kc_check(kc_program *p, kc_diags *d)
{
    if (!p || !p->root || !p->root->spec)
        return;
    kc_ck c = {.p = p, .d = d};
    size_t total = count_nodes(p->root);
    c.nodes = calloc(total ? total : 1, sizeof *c.nodes);
    c.syms = calloc(total ? total : 1, sizeof *c.syms);
    c.table_uses = calloc(total ? total : 1, sizeof *c.table_uses);
    if (!c.nodes || !c.syms || !c.table_uses) {
        free(c.nodes);
        free(c.syms);
        free(c.table_uses);
        return;
    }
    collect_nodes(&c, p->root);
    qsort(c.nodes, c.nnodes, sizeof *c.nodes, cmp_doc);
    collect_ids(&c);
    check_agreement_id(&c);

    for (size_t i = 0; i < c.nnodes; i++) {
        const kc_node *n = c.nodes[i];
        check_attr_refs(&c, n);
        if (kc__is(n, KC_E_LADDER))
            check_ladder(&c, n);
        else if (kc__is(n, KC_E_REDEMPTION))
            check_redemption(&c, n);
        else if (kc__is(n, KC_E_BATCH))
            check_batch(&c, n);
        else if (kc__is(n, KC_E_EXPIRY))
            check_expiry(&c, n);
        else if (kc__is(n, KC_E_RATE))
            check_audience_empty(&c, n, "rate");
        else if (is_trigger(n))
            check_trigger(&c, n);
    }
    check_segments(&c);
    kc__check_tables(&c);
    kc__check_promotions(&c);
    kc__check_early_access(&c);
    kc__check_chains(&c);

    free(c.nodes);
    free(c.syms);
    free(c.table_uses);
}
