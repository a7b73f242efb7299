// SPDX-License-Identifier: MIT
// kr-ops-chains.c: trigger chains in the jobs' customer pass (docs/internals/ops.md, "Trigger
// chains"; the language: docs/rules-language.md, "Chains").
//
// A chain starts on a local day: the customer's registration, or the day they joined the
// chain's segment (a membership still running). The pass enters a customer whose start fell
// on a day from the run's catch-up limit to today and who is in the chain's audience; a
// customer enters a chain once (a chain of a segment rejoined later does not start again).
// Then every step whose day (start + after-days) has come is done in order: its points (a lot
// of source `event`, op "chain:<chain>:<step>:<customer>"), its code (kr__ops_issue_code) and
// an outbox entry of kind "chain", key "chain:<chain>:<step>:<customer>", payload {"chain",
// "step", "points", "points_until" (last day, when they expire), "code", "code_until",
// "message"} with {points}, {date} (the points' last day), {code} and {until} (the code's
// last day) filled in. A step with unless="purchase" whose customer has bought on a day after
// the start leaves the chain instead: it and the later steps never happen.
//
// Exactly once: the step is journalled in chain_step (primary key customer, chain, step) and
// the position's done_days is raised to its after-days, in the same transaction as its points,
// code and outbox entry (the jobs commit per page of customers). A run that stops midway is
// rolled back to the page's start; a repeated run finds the steps done. A step added to a
// published chain with fewer days than a customer's done_days is not done for that customer.
#include "kr-ops-private.h"

#include <stdio.h>
#include <string.h>

// The chain's audience: any of its segments (none: everyone) and any of its tiers (none: any).
static bool in_audience(const kr_chain *ch, const char *const *segments, size_t n_segments,
                        const char *const *tiers, size_t n_tiers)
{
    return kr__ops_filters_admit(ch->segments, ch->n_segments, ch->tiers, ch->n_tiers, segments,
                                 n_segments, tiers, n_tiers);
}

// The local day the chain starts for customer c at `at`, or -1 when it does not (not a member
// of the start segment now).
static int64_t start_day(kr_ops *o, const kr_chain *ch, const kr_ledger_customer *c, int64_t at)
{
    if (ch->start_event)
        return -1; // entered by kr__ops_chains_event only
    if (!ch->start_segment)
        return kr__ops_local_day(o, c->registered_at);
    for (size_t i = 0; i < c->n_segments; i++) {
        const kr_ledger_membership *m = &c->segments[i];
        if (strcmp(m->segment, ch->start_segment) == 0 &&
            (m->until == KR_LEDGER_NEVER || m->until > at))
            return kr__ops_local_day(o, m->joined_at);
    }
    return -1;
}

// Does one step for the customer: journal, points, code, outbox entry.
static kr_ledger_status do_step(kr_ops *o, const kr_chain *ch, const kr_chain_step *st,
                                int64_t customer, int64_t at, kr__ops_chain_tally *t)
{
    char op[KR_LEDGER_ID_MAX];
    snprintf(op, sizeof op, "chain:%.40s:%.40s:%lld", ch->id, st->id, (long long)customer);
    int64_t day = kr__ops_local_day(o, at);

    // The journal row first: EXISTS means an earlier run did the step, so nothing is given.
    kr_ledger_status s = kr_ledger_chain_step_add(o->db, customer, ch->id, st->id, at,
                                                  st->points > 0 ? st->points : 0, NULL);
    if (s == KR_LEDGER_EXISTS)
        return KR_LEDGER_OK;
    if (s != KR_LEDGER_OK)
        return s;
    char code[64] = "";
    int64_t code_until = KR_LEDGER_NEVER;
    const kr_batch *b = st->batch ? kr_policy_batch(&o->policy, st->batch) : NULL;
    if (b)
        s = kr__ops_issue_code(o, b, customer, at, code, &code_until);
    if (s == KR_LEDGER_OK && code[0])
        s = kr_ledger_chain_step_code(o->db, customer, ch->id, st->id, code);
    if (s != KR_LEDGER_OK)
        return s;

    // Points: spendable at once; `points-days` local days (the day given counts), else the
    // lifetime of `event` points.
    int64_t points_until = KR_LEDGER_NEVER;
    if (st->points > 0) {
        if (st->points_days > 0) {
            points_until = kr__ops_day_start(o, day + st->points_days);
            kr_ledger_lot_in in = {.customer_id = customer,
                                   .source = KR_LEDGER_SRC_EVENT,
                                   .amount = st->points,
                                   .earned_at = at,
                                   .spendable_from = at,
                                   .expires_at = points_until,
                                   .op_id = op};
            s = kr_ledger_lot_add(o->db, &in, NULL);
        } else {
            const kr_lifetime *lt = &o->policy.lifetimes[KR_SOURCE_EVENT];
            s = kr__ops_add_points(o, customer, KR_SOURCE_EVENT, st->points, at, op, NULL);
            if (lt->set && lt->days >= 0)
                points_until = kr__ops_day_start(
                    o, kr__ops_local_day(o, at + lt->hold_days * 86400) + lt->days);
        }
        if (s != KR_LEDGER_OK)
            return s;
        t->points += st->points;
    }
    t->steps++;
    if (!st->n_channels)
        return KR_LEDGER_OK;

    char pts[32], date[11] = "", until[11] = "";
    snprintf(pts, sizeof pts, "%lld", (long long)st->points);
    if (points_until != KR_LEDGER_NEVER && st->points > 0)
        kr__ops_day_key(kr__ops_local_day(o, points_until - 1), date);
    if (code[0] && code_until != KR_LEDGER_NEVER)
        kr__ops_day_key(kr__ops_local_day(o, code_until - 1), until);
    const char *names[] = {"points", "date", "code", "until"};
    const char *values[] = {pts, date, code, until};
    kr_buf msg, payload;
    kr_buf_init(&msg, 1u << 16);
    kr_buf_init(&payload, 1u << 17);
    if (st->message)
        kr__ops_fill_template(&msg, st->message, names, values, 4);
    kr_buf_puts(&payload, "{\"chain\":");
    kr_buf_json_string(&payload, ch->id);
    kr_buf_puts(&payload, ",\"step\":");
    kr_buf_json_string(&payload, st->id);
    kr_buf_printf(&payload, ",\"points\":%lld", (long long)st->points);
    if (date[0])
        kr_buf_printf(&payload, ",\"points_until\":\"%s\"", date);
    if (code[0]) {
        kr_buf_puts(&payload, ",\"code\":");
        kr_buf_json_string(&payload, code);
        if (until[0])
            kr_buf_printf(&payload, ",\"code_until\":\"%s\"", until);
    }
    kr_buf_puts(&payload, ",\"message\":");
    if (st->message)
        kr_buf_json_string(&payload, msg.data ? msg.data : "");
    else
        kr_buf_puts(&payload, "null");
    kr_buf_puts(&payload, "}");
    if (payload.failed || msg.failed)
        s = KR_LEDGER_NOMEM;
    kr_ledger_outbox_in in = {
        .key = op,
        .customer_id = customer,
        .kind = "chain",
        .channels = (const char *const *)st->channels,
        .n_channels = st->n_channels,
        .payload = payload.data,
        .due_at = at,
        .created_at = at,
    };
    if (s == KR_LEDGER_OK)
        s = kr_ledger_outbox_enqueue(o->db, &in, NULL);
    if (s == KR_LEDGER_OK)
        t->notifications++;
    else if (s == KR_LEDGER_EXISTS)
        s = KR_LEDGER_OK;
    kr_buf_free(&msg);
    kr_buf_free(&payload);
    return s;
}

// Enters (when due) and advances one chain for the customer.
static kr_ledger_status run_chain(kr_ops *o, const kr_chain *ch, const kr_ledger_customer *c,
                                  const char *const *segments, size_t n_segments,
                                  const char *const *tiers, size_t n_tiers, int64_t at, int64_t lo,
                                  kr__ops_chain_tally *t)
{
    int64_t today = kr__ops_local_day(o, at);
    kr_ledger_chain_pos pos;
    kr_ledger_status s = kr_ledger_chain_get(o->db, c->id, ch->id, &pos);
    bool changed = false; // the position is to be written
    if (s == KR_LEDGER_NOT_FOUND) {
        int64_t day = start_day(o, ch, c, at);
        if (day < lo || day > today || !in_audience(ch, segments, n_segments, tiers, n_tiers))
            return KR_LEDGER_OK;
        pos = (kr_ledger_chain_pos){
            .entered_day = day, .done_days = -1, .state = KR_LEDGER_CHAIN_RUNNING};
        s = KR_LEDGER_OK;
        changed = true;
    } else if (s != KR_LEDGER_OK || pos.state != KR_LEDGER_CHAIN_RUNNING) {
        return s;
    }
    size_t k = 0;
    for (; k < ch->n_steps && s == KR_LEDGER_OK; k++) {
        const kr_chain_step *st = &ch->steps[k];
        if (st->after_days <= pos.done_days)
            continue;
        if (pos.entered_day + st->after_days > today)
            break;
        if (st->unless_purchase) {
            int64_t bought = 0;
            s = kr__ops_counter_sum(o, c->id, "receipts", pos.entered_day + 1, today, &bought);
            if (s != KR_LEDGER_OK)
                return s;
            if (bought > 0) {
                pos.state = KR_LEDGER_CHAIN_LEFT;
                t->left++;
                changed = true;
                break;
            }
        }
        s = do_step(o, ch, st, c->id, at, t);
        pos.done_days = st->after_days;
        changed = true;
    }
    if (s != KR_LEDGER_OK)
        return s;
    if (pos.state == KR_LEDGER_CHAIN_RUNNING && k == ch->n_steps)
        pos.state = KR_LEDGER_CHAIN_DONE;
    if (!changed)
        return KR_LEDGER_OK;
    return kr_ledger_chain_put(o->db, c->id, ch->id, &pos, at);
}

kr_ledger_status kr__ops_chains_customer(kr_ops *o, const kr_ledger_customer *c,
                                         const char *const *segments, size_t n_segments,
                                         const char *const *tiers, size_t n_tiers, int64_t at,
                                         int64_t lo, kr__ops_chain_tally *t)
{
    kr_ledger_status s = KR_LEDGER_OK;
    for (size_t i = 0; i < o->policy.n_chains && s == KR_LEDGER_OK; i++)
        s = run_chain(o, &o->policy.chains[i], c, segments, n_segments, tiers, n_tiers, at, lo, t);
    return s;
}

kr_ledger_status kr__ops_chains_event(kr_ops *o, int64_t customer, const char *event,
                                      const char *const *segments, size_t n_segments, int64_t at,
                                      kr_buf *entered)
{
    kr_ledger_status s = KR_LEDGER_OK;
    for (size_t i = 0; i < o->policy.n_chains && s == KR_LEDGER_OK; i++) {
        const kr_chain *ch = &o->policy.chains[i];
        if (!ch->start_event || strcmp(ch->start_event, event) != 0 ||
            !in_audience(ch, segments, n_segments, NULL, 0))
            continue;
        kr_ledger_chain_pos pos;
        s = kr_ledger_chain_get(o->db, customer, ch->id, &pos);
        if (s == KR_LEDGER_OK)
            continue; // entered before: a chain is run once per customer
        if (s != KR_LEDGER_NOT_FOUND)
            return s;
        pos = (kr_ledger_chain_pos){.entered_day = kr__ops_local_day(o, at),
                                    .done_days = -1,
                                    .state = KR_LEDGER_CHAIN_RUNNING};
        s = kr_ledger_chain_put(o->db, customer, ch->id, &pos, at);
        if (s == KR_LEDGER_OK) {
            kr_buf_puts(entered, entered->len ? "," : "");
            kr_buf_json_string(entered, ch->id);
        }
    }
    return s;
}
