// SPDX-License-Identifier: MIT
// kc-check-promotions.c: promotions — effects, validity, conditions that can never hold,
// and promotions that another one always pre-empts.
//
// A promotion is "dead" when its own conditions contradict each other. Conditions reached
// from `when` through `all` only (match="all") are mandatory: if one can never hold, neither
// can the promotion (E-promo-dead); one inside `any` is merely a dead branch (W-cond-dead).
// Disabled promotions (enabled="false") never apply by design and get no dead/shadow reports.
#include "kc-check-private.h"

#include <stdlib.h>
#include <string.h>

static const char *pid(const kc_node *pr)
{
    return kc__has(pr, "id") ? kc__str(pr, "id") : "?";
}

static bool is_effect(const kc_node *n)
{
    return kc__is(n, KC_E_DISCOUNT) || kc__is(n, KC_E_FIXED_PRICE) || kc__is(n, KC_E_CHEAPEST) ||
           kc__is(n, KC_E_BUY_GET) || kc__is(n, KC_E_POINTS) || kc__is(n, KC_E_MESSAGE);
}

static const char *const selector_attrs[] = {"category",         "sku",         "brand",
                                             "attribute",        "exclude-category",
                                             "exclude-sku",      "exclude-brand"};

static bool has_selector(const kc_node *n)
{
    for (size_t i = 0; i < sizeof selector_attrs / sizeof selector_attrs[0]; i++)
        if (ck_written(n, selector_attrs[i]))
            return true;
    return false;
}

// ---- effects -------------------------------------------------------------------------------
static void one_of(kc_ck *c, const kc_node *e, const char *const *names, size_t n,
                   const char *list)
{
    size_t written = 0;
    const kc_attr *second = NULL;
    for (size_t i = 0; i < n; i++)
        if (ck_written(e, names[i]) && ++written == 2)
            second = kc__attr(e, names[i]);
    static const char *const unknown_attr[] = {"E-attr-unknown", NULL};
    if (written == 0 && !ck_load_error_in(c, e, unknown_attr))
        ck_diag(c, KC_ERROR, "E-effect-value", e->line, e->col, NULL,
                "`%s` needs one of %s", e->spec->name, list);
    else if (second)
        ck_diag(c, KC_ERROR, "E-effect-value", second->line, second->col,
                "keep one of them; use two effects for two rewards",
                "`%s` takes only one of %s", e->spec->name, list);
}

static void zero_count(kc_ck *c, const kc_node *e, const char *name)
{
    const kc_attr *a = kc__attr(e, name);
    if (a->present && a->v.i == 0)
        ck_diag(c, KC_ERROR, "E-effect-value", a->vline, a->vcol, "at least 1",
                "`%s %s` is 0: the effect gives nothing", e->spec->name, name);
}

static void check_effect(kc_ck *c, const kc_node *e)
{
    if (kc__is(e, KC_E_DISCOUNT)) {
        static const char *const v[] = {"percent", "amount"};
        one_of(c, e, v, 2, "`percent` and `amount`");
        const kc_attr *per = kc__attr(e, "per");
        if (per->present && strcmp(per->v.s, "line") != 0 && ck_written(e, "percent") &&
            !ck_written(e, "amount"))
            ck_diag(c, KC_ERROR, "E-effect-per", per->vline, per->vcol,
                    "remove `per`, or give an `amount` instead of the percent",
                    "`per=\"%s\"` applies to `amount`; a percent is always taken per line",
                    per->v.s);
    } else if (kc__is(e, KC_E_POINTS)) {
        static const char *const v[] = {"amount", "percent", "multiplier"};
        one_of(c, e, v, 3, "`amount`, `percent` and `multiplier`");
    } else if (kc__is(e, KC_E_CHEAPEST)) {
        zero_count(c, e, "count");
    } else if (kc__is(e, KC_E_BUY_GET)) {
        zero_count(c, e, "buy");
        zero_count(c, e, "get");
    }
}

// An effect that applies to every receipt its promotion's conditions admit.
static bool always_applies(const kc_node *pr)
{
    for (const kc_node *e = pr->first; e; e = e->next) {
        if (kc__is(e, KC_E_MESSAGE))
            return true;
        if ((kc__is(e, KC_E_DISCOUNT) || kc__is(e, KC_E_FIXED_PRICE) || kc__is(e, KC_E_POINTS) ||
             kc__is(e, KC_E_CHEAPEST)) &&
            !has_selector(e))
            return true;
    }
    return false;
}

// ---- conditions ----------------------------------------------------------------------------
typedef struct promo_ck {
    kc_ck *c;
    const kc_node *pr;
    bool enabled, line_stage;
    bool has_from, has_to;
    int64_t from, to;
} promo_ck;

static void dead(promo_ck *P, bool mandatory, unsigned line, unsigned col, const char *hint,
                 const char *reason)
{
    if (!P->enabled)
        return;
    if (mandatory)
        ck_diag(P->c, KC_ERROR, "E-promo-dead", line, col, hint,
                "promotion `%s` can never apply: %s", pid(P->pr), reason);
    else
        ck_diag(P->c, KC_WARNING, "W-cond-dead", line, col, hint,
                "this condition can never hold: %s", reason);
}

static void basis_after(promo_ck *P, const kc_node *n)
{
    const kc_attr *b = kc__attr(n, "basis");
    if (P->line_stage && b->present && strcmp(b->v.s, "after") == 0)
        ck_diag(P->c, KC_WARNING, "W-basis-after", b->vline, b->vcol,
                "use stage=\"receipt\" to see amounts after line discounts",
                "a line-stage promotion runs first and sees no earlier stage: "
                "`basis=\"after\"` is the same as `before`");
}

static void check_cond(promo_ck *P, const kc_node *n, bool mandatory)
{
    kc_ck *c = P->c;
    char msg[300], a[48], b[48];
    if (kc__is(n, KC_E_TOTAL)) {
        const kc_attr *mn = kc__attr(n, "min"), *mx = kc__attr(n, "max");
        if (mn->present && mx->present && mn->v.i >= mx->v.i) {
            snprintf(msg, sizeof msg, "no receipt total is at least %s and below %s",
                     ck_money(c, mn->v.i, a), ck_money(c, mx->v.i, b));
            dead(P, mandatory, mx->vline, mx->vcol, "`min` is inclusive, `max` exclusive", msg);
        }
        basis_after(P, n);
    } else if (kc__is(n, KC_E_LINES)) {
        const kc_attr *q = kc__attr(n, "min-quantity");
        if (q->present && q->v.i == 0)
            ck_diag(c, KC_WARNING, "W-cond-always", q->vline, q->vcol,
                    "leave it out (one matching line is then enough), or ask for 2 or more",
                    "`min-quantity=\"0\"` asks for nothing: any number of units is at least 0");
        basis_after(P, n);
    } else if (kc__is(n, KC_E_CODE)) {
        const kc_attr *ba = kc__attr(n, "batch");
        const ck_sym *s = ba->present ? ck_find(c, ba->v.s) : NULL;
        if (!s || strcmp(s->kind, "batch") != 0)
            return;
        const kc_attr *bf = kc__attr(s->node, "from"), *bt = kc__attr(s->node, "to");
        if (bf->present && bt->present && bf->v.i > bt->v.i)
            return; // E-date-order on the batch says it all
        char hint[200];
        snprintf(hint, sizeof hint, "batch `%s` is on line %u", ba->v.s, s->node->line);
        if (bt->present && P->has_from && bt->v.i < P->from) {
            snprintf(msg, sizeof msg, "codes of `%s` expire on %s, before it starts on %s",
                     ba->v.s, ck_date(bt->v.i, a), ck_date(P->from, b));
            dead(P, mandatory, ba->vline, ba->vcol, hint, msg);
        } else if (bf->present && P->has_to && bf->v.i > P->to) {
            snprintf(msg, sizeof msg, "codes of `%s` are valid from %s, after it ends on %s",
                     ba->v.s, ck_date(bf->v.i, a), ck_date(P->to, b));
            dead(P, mandatory, ba->vline, ba->vcol, hint, msg);
        }
    } else if (kc__is(n, KC_E_ALL) || kc__is(n, KC_E_ANY) || kc__is(n, KC_E_WHEN)) {
        bool all = kc__is(n, KC_E_ALL) ||
                   (kc__is(n, KC_E_WHEN) && (!kc__str(n, "match") ||
                                             strcmp(kc__str(n, "match"), "all") == 0));
        bool any_child = false;
        for (const kc_node *ch = n->first; ch; ch = ch->next)
            if (ch->spec) {
                any_child = true;
                check_cond(P, ch, mandatory && all);
            }
        if (kc__is(n, KC_E_ANY) && !any_child)
            dead(P, mandatory, n->line, n->col, "put conditions inside, or remove it",
                 "an empty `any` never holds");
    }
}

static void check_valid(promo_ck *P, const kc_node *v)
{
    kc_ck *c = P->c;
    const kc_attr *from = kc__attr(v, "from"), *to = kc__attr(v, "to"),
                  *days = kc__attr(v, "days");
    char f[16], t[16];
    if (from->present && to->present && from->v.i > to->v.i) {
        ck_diag(c, KC_ERROR, "E-date-order", to->vline, to->vcol, "swap the dates?",
                "the promotion ends (%s) before it starts (%s)", ck_date(to->v.i, t),
                ck_date(from->v.i, f));
        return;
    }
    if (from->present && to->present && days->present && to->v.i - from->v.i < 6) {
        static const char *const wd[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
        int64_t mask = 0;
        char covered[64] = "";
        for (int64_t d = from->v.i; d <= to->v.i; d++) {
            int k = (int)(((d + 3) % 7 + 7) % 7); // 1970-01-01 was a Thursday
            if (!(mask & (INT64_C(1) << k))) {
                mask |= INT64_C(1) << k;
                size_t len = strlen(covered);
                snprintf(covered + len, sizeof covered - len, "%s%s", len ? " " : "", wd[k]);
            }
        }
        if (!(mask & days->v.i)) {
            char msg[300];
            if (from->v.i == to->v.i)
                snprintf(msg, sizeof msg, "%s is a %s, not one of `%s`", ck_date(from->v.i, f),
                         covered, days->raw);
            else
                snprintf(msg, sizeof msg, "%s to %s covers only %s, none of `%s`",
                         ck_date(from->v.i, f), ck_date(to->v.i, t), covered, days->raw);
            dead(P, true, days->vline, days->vcol, "widen the dates or change the weekdays",
                 msg);
        }
    }
}

static void check_promotion(kc_ck *c, const kc_node *pr)
{
    promo_ck P = {.c = c, .pr = pr, .enabled = kc__int(pr, "enabled") != 0};
    const char *stage = kc__str(pr, "stage");
    P.line_stage = !stage || strcmp(stage, "line") == 0;
    size_t effects = 0;
    for (const kc_node *e = pr->first; e; e = e->next)
        if (is_effect(e)) {
            effects++;
            check_effect(c, e);
        }
    static const char *const unknown_child[] = {"E-element-unknown", "E-element-misplaced",
                                                "E-namespace", NULL};
    // A promotion whose template is unknown is reported once, for the template (E-ref-*).
    bool lost_template = ck_written(pr, "template") && !pr->tmpl;
    if (effects == 0 && !lost_template && !ck_load_error_in(c, pr, unknown_child))
        ck_diag(c, KC_ERROR, "E-promo-no-effect", pr->line, pr->col,
                "add a `discount`, `fixed-price`, `cheapest`, `buy-get`, `points` or `message`",
                "promotion `%s` has no effect", pid(pr));
    const kc_node *v = kc__child(pr, KC_E_VALID, NULL);
    if (v) {
        const kc_attr *from = kc__attr(v, "from"), *to = kc__attr(v, "to");
        // Dates in the wrong order are reported once (E-date-order), not again for codes.
        bool ordered = !from->present || !to->present || from->v.i <= to->v.i;
        P.has_from = from->present && ordered;
        P.from = from->v.i;
        P.has_to = to->present && ordered;
        P.to = to->v.i;
        check_valid(&P, v);
    }
    const kc_node *aud = kc__child(pr, KC_E_AUDIENCE, NULL);
    if (aud && P.enabled && kc__audience_excludes(c, aud)) {
        char hint[300];
        kc__audience_hint(c, aud, hint, sizeof hint);
        const kc_attr *tiers = kc__attr(aud, "tiers");
        ck_diag(c, KC_WARNING, "W-promo-dead", tiers->vline, tiers->vcol, hint,
                "promotion `%s` can never apply: customers of its segments cannot hold its "
                "tiers",
                pid(pr));
    }
    const kc_node *when = kc__child(pr, KC_E_WHEN, NULL);
    if (when)
        check_cond(&P, when, true);
}

// ---- shadowing -----------------------------------------------------------------------------
static const char *effective(const kc_node *n, size_t k)
{
    const kc_attr *a = &n->attrs[k];
    if (a->present)
        return a->raw;
    if (a->defaulted)
        return n->spec->attrs[k].def;
    return NULL;
}

static bool same_tree(const kc_node *x, const kc_node *y)
{
    if (x->spec != y->spec)
        return false;
    for (size_t k = 0; x->spec->attrs[k].name; k++) {
        const char *a = effective(x, k), *b = effective(y, k);
        if ((a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0))
            return false;
        // a value that failed to parse is absent but written: never call such trees equal
        if ((!x->attrs[k].present && x->attrs[k].line) || (!y->attrs[k].present && y->attrs[k].line))
            return false;
    }
    const kc_node *a = x->first, *b = y->first;
    for (;;) {
        while (a && !a->spec)
            a = a->next;
        while (b && !b->spec)
            b = b->next;
        if (!a || !b)
            return !a && !b;
        if (!same_tree(a, b))
            return false;
        a = a->next;
        b = b->next;
    }
}

// Promotion `a` applies whenever `b`'s conditions hold: each condition block of `a` is absent
// or equal to `b`'s; `a` has no use limit and an effect that needs no particular line.
static bool covers(const kc_node *a, const kc_node *b)
{
    if (kc__child(a, KC_E_LIMIT, NULL) || !always_applies(a))
        return false;
    static const kc_elem_id blocks[] = {KC_E_VALID, KC_E_WHERE, KC_E_AUDIENCE, KC_E_WHEN};
    for (size_t i = 0; i < 4; i++) {
        const kc_node *ca = kc__child(a, blocks[i], NULL), *cb = kc__child(b, blocks[i], NULL);
        if (!ca) {
            // Without an audience only members qualify; members="false" widens b's.
            if (blocks[i] == KC_E_AUDIENCE && cb && kc__has(cb, "members") &&
                !kc__int(cb, "members"))
                return false;
            continue;
        }
        if (!cb || !same_tree(ca, cb))
            return false;
    }
    return true;
}

typedef struct promo_ref {
    const kc_node *n;
    int64_t priority;
} promo_ref;

static int cmp_priority(const void *x, const void *y)
{
    const promo_ref *a = x, *b = y;
    if (a->priority != b->priority)
        return a->priority > b->priority ? -1 : 1;
    return a->n->doc_index < b->n->doc_index ? -1 : a->n->doc_index > b->n->doc_index;
}

static bool str_eq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

static void find_shadowed(kc_ck *c, promo_ref *pr, size_t n)
{
    qsort(pr, n, sizeof *pr, cmp_priority);
    for (size_t j = 0; j < n; j++) {
        const kc_node *b = pr[j].n;
        const char *bg = kc__has(b, "group") ? kc__str(b, "group") : NULL;
        const ck_sym *gs = bg ? ck_find(c, bg) : NULL;
        bool priority_group = gs && kc__is(gs->node, KC_E_GROUP) &&
                              str_eq(kc__str(gs->node, "policy"), "priority");
        for (size_t i = 0; i < j; i++) {
            const kc_node *a = pr[i].n;
            const char *ag = kc__has(a, "group") ? kc__str(a, "group") : NULL;
            char hint[200];
            snprintf(hint, sizeof hint,
                     "give `%s` a higher priority, or narrow the conditions of `%s`", pid(b),
                     pid(a));
            if (priority_group && str_eq(ag, bg) && covers(a, b)) {
                ck_diag(c, KC_WARNING, "W-promo-shadowed", b->line, b->col, hint,
                        "promotion `%s` can never apply: `%s` (line %u) comes first in "
                        "exclusive group `%s` and applies whenever `%s` would",
                        pid(b), pid(a), a->line, bg, pid(b));
                break;
            }
            if (!ag && kc__int(a, "stop") && str_eq(kc__str(a, "stage"), kc__str(b, "stage")) &&
                covers(a, b)) {
                ck_diag(c, KC_WARNING, "W-promo-shadowed", b->line, b->col, hint,
                        "promotion `%s` can never apply: `%s` (line %u) runs first in the "
                        "`%s` stage, applies whenever `%s` would and has stop=\"true\"",
                        pid(b), pid(a), a->line, kc__str(a, "stage"), pid(b));
                break;
            }
        }
    }
}

void kc__check_promotions(kc_ck *c)
{
    promo_ref *refs = calloc(c->nnodes ? c->nnodes : 1, sizeof *refs);
    if (!refs)
        return;
    size_t n = 0;
    for (size_t i = 0; i < c->nnodes; i++) {
        const kc_node *pr = c->nodes[i];
        if (!kc__is(pr, KC_E_PROMOTION))
            continue;
        check_promotion(c, pr);
        if (kc__int(pr, "enabled"))
            refs[n++] = (promo_ref){pr, kc__int(pr, "priority")};
    }
    for (size_t i = 0; i < c->nnodes; i++) {
        const kc_node *g = c->nodes[i];
        const kc_attr *id = kc__is(g, KC_E_GROUP) ? kc__attr(g, "id") : NULL;
        if (!id || !id->present)
            continue;
        bool used = false;
        for (size_t k = 0; k < c->nnodes && !used; k++)
            used = kc__is(c->nodes[k], KC_E_PROMOTION) && kc__has(c->nodes[k], "group") &&
                   strcmp(kc__str(c->nodes[k], "group"), id->v.s) == 0;
        if (!used)
            ck_diag(c, KC_WARNING, "W-group-empty", id->vline, id->vcol,
                    "add `group=\"...\"` to its promotions, or remove the group",
                    "no promotion belongs to group `%s`", id->v.s);
    }
    find_shadowed(c, refs, n);
    free(refs);
}
