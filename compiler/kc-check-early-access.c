// SPDX-License-Identifier: MIT
// kc-check-early-access.c: checks of `<early-access>` rules (docs/rules-language.md,
// "Early access").
//
// Diagnostic codes:
//   E-early-access-audience  no `segments` and no `tiers`: nobody could buy the line early
//   E-early-access-lines     no `category`, `sku`, `brand` or `attribute`: the rule would
//                            close the whole shop to everyone else
//   E-early-access-dates     `from` after `until`
// (No W-audience-empty here: the audience is the segments *or* the tiers, so the two never
// exclude each other.)
#include "kc-check-private.h"

#include <string.h>

static void check_one(kc_ck *c, const kc_node *n)
{
    const char *id = kc__has(n, "id") ? kc__str(n, "id") : "early-access";
    if (!ck_written(n, "segments") && !ck_written(n, "tiers"))
        ck_diag(c, KC_ERROR, "E-early-access-audience", n->line, n->col,
                "add `segments` or `tiers`: who may buy the line before `until`",
                "early access `%s` names no audience: nobody could buy the line", id);
    static const char *const sel[] = {"category", "sku", "brand", "attribute"};
    bool any = false;
    for (size_t i = 0; i < sizeof sel / sizeof *sel; i++)
        any = any || ck_written(n, sel[i]);
    if (!any)
        ck_diag(c, KC_ERROR, "E-early-access-lines", n->line, n->col,
                "add `category`, `sku`, `brand` or `attribute`: which goods are the new line",
                "early access `%s` names no goods: it would keep every line from other "
                "customers",
                id);
    if (ck_present(n, "from") && ck_present(n, "until")) {
        const kc_attr *f = kc__attr(n, "from"), *u = kc__attr(n, "until");
        if (f->v.i > u->v.i) {
            char a[16], b[16];
            ck_diag(c, KC_ERROR, "E-early-access-dates", f->vline, f->vcol,
                    "`until` is the last members-only day; `from` the first",
                    "`from` %s is after `until` %s: the line is never members-only",
                    ck_date(f->v.i, a), ck_date(u->v.i, b));
        }
    }
}

void kc__check_early_access(kc_ck *c)
{
    for (size_t i = 0; i < c->nnodes; i++)
        if (kc__is(c->nodes[i], KC_E_EARLY_ACCESS))
            check_one(c, c->nodes[i]);
}
