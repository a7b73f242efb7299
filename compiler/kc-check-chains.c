// SPDX-License-Identifier: MIT
// kc-check-chains.c: checks of `<chain>` trigger chains (docs/rules-language.md, "Chains").
//
// Diagnostic codes:
//   E-chain-start        start="segment" without `segment`, start="event" without `event`, or
//                        either attribute with another start
//   E-chain-step-order   a step's `after-days` is not later than the step before it: steps run
//                        in document order, one day offset each, so it could never run
//   E-chain-points-days  `points-days` without `points`, or below 1
//   W-chain-unless-first `unless="purchase"` on a step of the start day: a purchase counts
//                        from the day after the start, so it never holds there
//   W-chain-step-empty   a step that gives nothing and says nothing
//   W-chain-no-channel   a step with a `message` but no `channels`: nobody is told
#include "kc-check-private.h"

#include <string.h>

static void check_step(kc_ck *c, const kc_node *st, const kc_node *prev)
{
    const char *id = kc__has(st, "id") ? kc__str(st, "id") : "step";
    const kc_attr *after = kc__attr(st, "after-days");
    if (prev && ck_present(st, "after-days") && ck_present(prev, "after-days") &&
        after->v.i <= kc__attr(prev, "after-days")->v.i)
        ck_diag(c, KC_ERROR, "E-chain-step-order", after->vline, after->vcol,
                "give each step more days than the one before it",
                "step `%s` comes %lld days after the start, not after step `%s` (%lld days): "
                "it could never run",
                id, (long long)after->v.i, kc__has(prev, "id") ? kc__str(prev, "id") : "step",
                (long long)kc__attr(prev, "after-days")->v.i);
    const kc_attr *pd = kc__attr(st, "points-days");
    if (ck_written(st, "points-days") &&
        (!ck_written(st, "points") || (pd->present && pd->v.i < 1)))
        ck_diag(c, KC_ERROR, "E-chain-points-days", pd->line, pd->col,
                "`points-days` is the life of the step's `points`, 1 day or more",
                "`points-days` of step `%s` has no points to apply to", id);
    const kc_attr *un = kc__attr(st, "unless");
    if (un->present && after->present && after->v.i == 0)
        ck_diag(c, KC_WARNING, "W-chain-unless-first", un->line, un->col,
                "purchases count from the day after the start; move the step later or drop "
                "`unless`",
                "`unless=\"purchase\"` on step `%s` of the start day never holds", id);
    if (!ck_written(st, "points") && !ck_written(st, "batch") && !ck_written(st, "message"))
        ck_diag(c, KC_WARNING, "W-chain-step-empty", st->line, st->col,
                "add `points`, `batch` or `message`", "step `%s` gives nothing and says nothing",
                id);
    else if (ck_written(st, "message") && !ck_written(st, "channels")) {
        const kc_attr *m = kc__attr(st, "message");
        ck_diag(c, KC_WARNING, "W-chain-no-channel", m->line, m->col,
                "add `channels`: how the message goes out",
                "the message of step `%s` has no channel: nobody would read it", id);
    }
}

static void check_chain(kc_ck *c, const kc_node *ch)
{
    const char *start = kc__has(ch, "start") ? kc__str(ch, "start") : NULL;
    const kc_attr *seg = kc__attr(ch, "segment");
    if (start && strcmp(start, "segment") == 0 && !ck_written(ch, "segment"))
        ck_diag(c, KC_ERROR, "E-chain-start", ch->line, ch->col,
                "add `segment`: joining which segment starts the chain",
                "chain `%s` starts on joining a segment but names none",
                kc__has(ch, "id") ? kc__str(ch, "id") : "chain");
    else if (start && strcmp(start, "segment") != 0 && ck_written(ch, "segment"))
        ck_diag(c, KC_ERROR, "E-chain-start", seg->line, seg->col,
                "remove `segment`, or write start=\"segment\"",
                "`segment` only applies to start=\"segment\"; this chain starts on `%s`", start);
    const kc_attr *ev = kc__attr(ch, "event");
    if (start && strcmp(start, "event") == 0 && !ck_written(ch, "event"))
        ck_diag(c, KC_ERROR, "E-chain-start", ch->line, ch->col,
                "add `event`: the name the ERP sends",
                "chain `%s` starts on an ERP event but names none",
                kc__has(ch, "id") ? kc__str(ch, "id") : "chain");
    else if (start && strcmp(start, "event") != 0 && ck_written(ch, "event"))
        ck_diag(c, KC_ERROR, "E-chain-start", ev->line, ev->col,
                "remove `event`, or write start=\"event\"",
                "`event` only applies to start=\"event\"; this chain starts on `%s`", start);
    const kc_node *prev = NULL;
    for (const kc_node *st = kc__child(ch, KC_E_STEP, NULL); st;
         st = kc__child(ch, KC_E_STEP, st)) {
        check_step(c, st, prev);
        prev = st;
    }
}

void kc__check_chains(kc_ck *c)
{
    for (size_t i = 0; i < c->nnodes; i++)
        if (kc__is(c->nodes[i], KC_E_CHAIN))
            check_chain(c, c->nodes[i]);
}
