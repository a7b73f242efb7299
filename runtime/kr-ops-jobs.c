// SPDX-License-Identifier: MIT
// kr-ops-jobs.c: the scheduled work due at an instant (kr_ops_jobs_run): expiry and burns,
// segment transitions and paid memberships, tiers, birthday / inactivity / tier-reminder
// triggers and warnings before expiry.
//
// Jobs, in this order (each sees what the previous ones did):
//   1. expiry   lots past expires_at expire (kr_ledger_expire); end-of-period burns expire the
//               live points of the burn's sources earned before the current period began
//               (journal op "burn:<period>:<ended period>", e.g. "burn:calendar-year:2025").
//   2. segments memberships whose `until` passed are left (moving on by the segment's
//               transition when it is due), then members due for a transition move.
//   3. customers one pass over every customer: tiers per ladder, then the birthday,
//               inactivity, tier-reminder and challenge reminders (which may filter on the
//               new tiers), then the trigger chains (kr-ops-chains.c).
//   4. warnings outbox entries before points expire.
//
// Transactions: every job is its own transaction, and the long ones (segments, the customer
// pass, warnings) commit every page of JOBS_PAGE customers, so a till never waits for a whole
// run (the ledger lock is held for a page at a time). On a failure the current page is rolled
// back and an error is answered; the pages and jobs before it stay done. That is safe because
// every effect is idempotent on its own key, so the next run does exactly the rest:
//   - expiry and burns leave nothing to expire twice (remaining is 0 afterwards);
//   - a segment move removes the customer from the segment it was due in;
//   - tier rows are written only when the tier changes, and never when the customer already
//     has a row later than `at` (a later run decided);
//   - trigger rewards leave a marker counter (metric "job:<kind>:<trigger>", period = the
//     birthday's year or the date of the last purchase) in the same transaction as the points
//     and the outbox entry, whose keys are deterministic ("birthday:<trigger>:<customer>:<year>");
//   - notifications rely on the outbox's unique key.
// Hence a second run at the same instant (or at an earlier one) changes nothing and answers
// zeros.
//
// The answer: {"at", "expired": {"lots", "points"}, "burned": {"lots", "points"},
// "tiers_changed", "segment_moves", "memberships_ended", "birthdays" (rewards given by birthday
// triggers), "birthday_points", "inactive", "inactivity_points", "warnings", "reminders"
// (tier and challenge reminders), "notifications" (all outbox entries added)}; a program with
// trigger chains adds "chain_steps", "chains_left" and "chain_points".
//
// Outbox entries (channels in the program's order of preference; due at the run):
//   expiry-warning  key "expiry-warning:<customer>:<last day>:<days_before>", payload
//                   {"points", "date" (the last day the points can be spent), "days_before",
//                   "message"}; of the warnings whose days_before reaches the expiry only the
//                   tightest is sent (a lot with 5 days left gets the 7-day one, not both)
//   birthday        key "birthday:<trigger>:<customer>:<year>", payload {"trigger", "points",
//                   "code" (when the trigger has a batch), "code_until" (its last day, when it
//                   has one), "message"}
//   inactivity      key "inactivity:<trigger>:<customer>:<date of the last purchase>", as above;
//                   its points are recorded with source "event"
//   tier-reminder   key "tier-reminder:<trigger>:<customer>:<period's last day>", payload
//                   {"trigger", "ladder", "tier", "tier_name", "left", "message"}
//   challenge-reminder key "challenge-reminder:<trigger>:<customer>:<window's last day>",
//                   payload {"trigger", "left" (receipts), "points", "date" (the window's
//                   last day), "message"}
// Messages fill {points}, {date}, {code}, {until} (the code's last day), {left} (money with the
// currency's decimals) and {tier} (the next tier's name); "message" is null when the program
// gives none.
//
// Late runs: jobs may run daily or less often. A birthday, an inactivity anniversary or a
// tier-reminder day that fell at most JOBS_CATCHUP_DAYS - 1 days before the run's local day
// is still acted on (once); older ones are not (a greeting a month late does more harm than
// good). Without a "last run" record this also applies to the very first run.
#include "kr-ops-private.h"

#include "kr-ledger-query.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// Customers per transaction in the long jobs.
#define JOBS_PAGE 500
// A trigger day up to this many days back (today included) still fires.
#define JOBS_CATCHUP_DAYS 7

typedef struct jobs_run {
    kr_ops *o;     // borrowed
    int64_t at;    // the run's instant
    int64_t today; // its local day
    int64_t lo;    // the earliest local day a late trigger still fires
    kr_buf text;   // scratch: messages and payloads (owned)
    kr_buf tmp;    // scratch: placeholder values (owned)

    // The summary.
    int64_t expired_lots, expired_points, burned_lots, burned_points;
    int64_t tiers_changed, segment_moves, memberships_ended;
    int64_t birthdays, birthday_points, inactive, inactivity_points;
    int64_t warnings, reminders, notifications;
    kr__ops_chain_tally chains; // trigger chains (kr-ops-chains.c)
} jobs_run;

// ---- small helpers -----------------------------------------------------------------------------

static const kr_segment *find_segment(const kr_policy *p, const char *id)
{
    for (size_t i = 0; i < p->n_segments; i++)
        if (strcmp(p->segments[i].id, id) == 0)
            return &p->segments[i];
    return NULL;
}

static int tier_index(const kr_ladder *l, const char *tier_id)
{
    for (size_t k = 0; k < l->n_tiers; k++)
        if (strcmp(l->tiers[k].id, tier_id) == 0)
            return (int)k;
    return -1;
}

static kr_ledger_status tx_begin(jobs_run *r)
{
    return kr_ledger_begin(r->o->db);
}

// Commits when s is OK, else rolls back; returns s (or the commit's failure).
static kr_ledger_status tx_end(jobs_run *r, kr_ledger_status s)
{
    if (s == KR_LEDGER_OK) {
        s = kr_ledger_commit(r->o->db);
        if (s == KR_LEDGER_OK)
            return s;
    }
    kr_ledger_rollback(r->o->db);
    return s;
}

// Appends `tmpl` to b with each "{name}" of names[] replaced by values[]; unknown
// placeholders are kept as written.
static void fill_template(kr_buf *b, const char *tmpl, const char *const *names,
                          const char *const *values, size_t n)
{
    for (const char *p = tmpl; *p;) {
        bool done = false;
        if (*p == '{') {
            for (size_t i = 0; i < n && !done; i++) {
                size_t len = strlen(names[i]);
                if (strncmp(p + 1, names[i], len) == 0 && p[1 + len] == '}') {
                    kr_buf_puts(b, values[i]);
                    p += len + 2;
                    done = true;
                }
            }
        }
        if (!done)
            kr_buf_append(b, p++, 1);
    }
}

void kr__ops_fill_template(kr_buf *b, const char *tmpl, const char *const *names,
                           const char *const *values, size_t n)
{
    fill_template(b, tmpl, names, values, n);
}

void kr__ops_money_text(kr_buf *tmp, int64_t minor, int minor_unit, char *out, size_t outsz)
{
    kr_buf_reset(tmp);
    kr_buf_json_money(tmp, minor, minor_unit);
    size_t len = tmp->len >= 2 ? tmp->len - 2 : 0;
    snprintf(out, outsz, "%.*s", (int)len, tmp->data ? tmp->data + 1 : "");
}

// The customer's segments at `at` (memberships still running, or the program's default).
typedef struct customer_view {
    const kr_ledger_customer *c; // borrowed
    const char *segments[64];
    size_t n_segments;
    const char *tiers[64]; // the effective tier id per ladder the customer is on
    size_t n_tiers;
    int tier_of[64];      // per ladder of the policy: effective tier index, -1 none
    int64_t value_of[64]; // per ladder: the metric's value today
} customer_view;

static void view_segments(const kr_ops *o, const kr_ledger_customer *c, int64_t at,
                          customer_view *v)
{
    v->c = c;
    v->n_segments = 0;
    for (size_t i = 0; i < c->n_segments && v->n_segments < 64; i++)
        if (c->segments[i].until == KR_LEDGER_NEVER || c->segments[i].until > at)
            v->segments[v->n_segments++] = c->segments[i].segment;
    if (v->n_segments == 0)
        for (size_t i = 0; i < o->policy.n_segments && v->n_segments < 64; i++)
            if (o->policy.segments[i].is_default)
                v->segments[v->n_segments++] = o->policy.segments[i].id;
}

static bool any_segment(char *const *list, size_t n, const customer_view *v)
{
    if (!n)
        return true;
    for (size_t i = 0; i < v->n_segments; i++)
        if (kr__ops_listed(list, n, v->segments[i]))
            return true;
    return false;
}

static bool trigger_matches(const kr_trigger *t, const customer_view *v)
{
    if (!any_segment(t->segments, t->n_segments, v))
        return false;
    if (!t->n_tiers)
        return true;
    for (size_t i = 0; i < v->n_tiers; i++)
        if (kr__ops_listed(t->tiers, t->n_tiers, v->tiers[i]))
            return true;
    return false;
}

// Enqueues one outbox entry with the payload in r->text. *added: true when it is new (false
// when the key was already enqueued).
static kr_ledger_status enqueue(jobs_run *r, const char *key, int64_t customer, const char *kind,
                                char *const *channels, size_t n_channels, bool *added)
{
    *added = false;
    if (r->text.failed)
        return KR_LEDGER_NOMEM;
    kr_ledger_outbox_in in = {
        .key = key,
        .customer_id = customer,
        .kind = kind,
        .channels = (const char *const *)channels,
        .n_channels = n_channels,
        .payload = r->text.data,
        .due_at = r->at,
        .created_at = r->at,
    };
    kr_ledger_status s = kr_ledger_outbox_enqueue(r->o->db, &in, NULL);
    if (s == KR_LEDGER_EXISTS)
        return KR_LEDGER_OK;
    if (s != KR_LEDGER_OK)
        return s;
    *added = true;
    r->notifications++;
    return KR_LEDGER_OK;
}

// ---- 1. expiry and burns -----------------------------------------------------------------------

// A label of the period that ended the day before `start` (the current period's first day):
// "2025" for a year, "2025-Q4" for a quarter, "2025-12" for a month.
static void ended_period_label(kr_window w, int64_t start, char *out, size_t outsz)
{
    int64_t y;
    unsigned m, d;
    kr_civil_from_days(start - 1, &y, &m, &d);
    if (w == KR_WINDOW_CALENDAR_YEAR)
        snprintf(out, outsz, "%04lld", (long long)y);
    else if (w == KR_WINDOW_CALENDAR_QUARTER)
        snprintf(out, outsz, "%04lld-Q%u", (long long)y, (m - 1) / 3 + 1);
    else
        snprintf(out, outsz, "%04lld-%02u", (long long)y, m);
}

static kr_ledger_status job_expiry(jobs_run *r)
{
    kr_ops *o = r->o;
    kr_ledger_status s = tx_begin(r);
    if (s != KR_LEDGER_OK)
        return s;
    s = kr_ledger_expire(o->db, r->at, NULL, &r->expired_lots, &r->expired_points);
    for (size_t i = 0; i < o->policy.n_burns && s == KR_LEDGER_OK; i++) {
        const kr_burn *b = &o->policy.burns[i];
        int64_t from, to;
        kr_window_range(b->period, 0, r->today, &from, &to);
        char label[32], op[KR_LEDGER_ID_MAX];
        ended_period_label(b->period, from, label, sizeof label);
        snprintf(op, sizeof op, "burn:%s:%s", kr_window_name(b->period), label);
        int64_t boundary = kr__ops_day_start(o, from);
        if (!b->sources) {
            s = kr_ledger_burn(o->db, NULL, boundary, r->at, op, &r->burned_lots,
                               &r->burned_points);
            continue;
        }
        for (int src = 0; src < KR_SOURCE_COUNT && s == KR_LEDGER_OK; src++)
            if (b->sources & (1u << src))
                s = kr_ledger_burn(o->db, kr_source_name((kr_source)src), boundary, r->at, op,
                                   &r->burned_lots, &r->burned_points);
    }
    return tx_end(r, s);
}

// ---- 2. segments -------------------------------------------------------------------------------

// The local day a membership's transition becomes due, or INT64_MAX when it cannot be told.
static int64_t transition_day(const kr_ops *o, const kr_transition *t, int64_t joined_at,
                              int64_t registered_at)
{
    int64_t since = t->since_registration ? registered_at : joined_at;
    return kr__ops_local_day(o, since) + t->after_days;
}

// Moves the customer from segment `from` to `to` (NULL: only leaves).
static kr_ledger_status move_segment(jobs_run *r, int64_t customer, const char *from,
                                     const char *to)
{
    kr_ledger_status s = kr_ledger_segment_leave(r->o->db, customer, from, r->at);
    if (s == KR_LEDGER_NOT_FOUND)
        return KR_LEDGER_OK; // left meanwhile
    if (s == KR_LEDGER_OK && to) {
        s = kr_ledger_segment_join(r->o->db, customer, to, r->at, KR_LEDGER_NEVER);
        if (s == KR_LEDGER_EXISTS)
            s = KR_LEDGER_OK;
        if (s == KR_LEDGER_OK)
            r->segment_moves++;
    }
    return s;
}

// Paid memberships whose `until` passed: the member leaves, and moves on by the segment's
// first transition that is due (the usual "back to regular after membership-days").
static kr_ledger_status job_memberships(jobs_run *r)
{
    kr_ops *o = r->o;
    kr_ledger_segment_member page[JOBS_PAGE];
    int64_t after_c = 0;
    char after_s[KR_LEDGER_SEGMENT_MAX + 1] = "";
    for (;;) {
        size_t n = 0;
        kr_ledger_status s = tx_begin(r);
        if (s != KR_LEDGER_OK)
            return s;
        s = kr_ledger_segment_expired(o->db, r->at, after_c, after_c ? after_s : NULL, JOBS_PAGE,
                                      page, &n);
        for (size_t i = 0; i < n && s == KR_LEDGER_OK; i++) {
            const kr_ledger_segment_member *m = &page[i];
            const kr_segment *seg = find_segment(&o->policy, m->segment);
            const char *to = NULL;
            if (seg && seg->n_transitions) {
                kr_ledger_customer *c = NULL;
                s = kr_ledger_customer_get(o->db, m->customer_id, &c);
                if (s != KR_LEDGER_OK)
                    break;
                for (size_t k = 0; k < seg->n_transitions && !to; k++)
                    if (transition_day(o, &seg->transitions[k], m->joined_at, c->registered_at) <=
                        r->today)
                        to = seg->transitions[k].to;
                kr_ledger_customer_free(c);
            }
            s = move_segment(r, m->customer_id, m->segment, to);
            if (s == KR_LEDGER_OK)
                r->memberships_ended++;
        }
        s = tx_end(r, s);
        if (s != KR_LEDGER_OK)
            return s;
        if (n < JOBS_PAGE)
            return KR_LEDGER_OK;
        after_c = page[n - 1].customer_id;
        snprintf(after_s, sizeof after_s, "%s", page[n - 1].segment);
    }
}

// True when the customer's membership of `segment` still runs at `at` (a paid membership that
// was renewed must not be ended by a transition counted from joining).
static kr_ledger_status membership_running(jobs_run *r, int64_t customer, const char *segment,
                                           bool *running)
{
    kr_ledger_customer *c = NULL;
    *running = false;
    kr_ledger_status s = kr_ledger_customer_get(r->o->db, customer, &c);
    if (s != KR_LEDGER_OK)
        return s;
    for (size_t i = 0; i < c->n_segments; i++)
        if (strcmp(c->segments[i].segment, segment) == 0)
            *running = c->segments[i].until != KR_LEDGER_NEVER && c->segments[i].until > r->at;
    kr_ledger_customer_free(c);
    return KR_LEDGER_OK;
}

static kr_ledger_status job_transitions(jobs_run *r)
{
    kr_ops *o = r->o;
    int64_t ids[JOBS_PAGE];
    for (size_t i = 0; i < o->policy.n_segments; i++) {
        const kr_segment *seg = &o->policy.segments[i];
        for (size_t k = 0; k < seg->n_transitions; k++) {
            const kr_transition *t = &seg->transitions[k];
            // Due when the local day of `since` is at most today - after_days.
            int64_t before = kr__ops_day_start(o, r->today - t->after_days + 1) - 1;
            int64_t after = 0;
            for (;;) {
                size_t n = 0;
                kr_ledger_status s = tx_begin(r);
                if (s != KR_LEDGER_OK)
                    return s;
                if (t->since_registration)
                    s = kr_ledger_segment_members_registered(o->db, seg->id, before, r->at, after,
                                                             JOBS_PAGE, ids, &n);
                else
                    s = kr_ledger_segment_members_due(o->db, seg->id, before, after, JOBS_PAGE, ids,
                                                      &n);
                for (size_t m = 0; m < n && s == KR_LEDGER_OK; m++) {
                    bool running = false;
                    if (seg->membership_days > 0)
                        s = membership_running(r, ids[m], seg->id, &running);
                    if (s == KR_LEDGER_OK && !running)
                        s = move_segment(r, ids[m], seg->id, t->to);
                }
                s = tx_end(r, s);
                if (s != KR_LEDGER_OK)
                    return s;
                if (n < JOBS_PAGE)
                    break;
                after = ids[n - 1];
            }
        }
    }
    return KR_LEDGER_OK;
}

// ---- 3. the customer pass: tiers ---------------------------------------------------------------

// True when a period boundary of the ladder passed between the local day a tier was set and
// today. Rolling windows move every day.
static bool boundary_passed(const kr_ladder *l, int64_t set_day, int64_t today)
{
    int64_t next = kr_window_next_start(l->window, set_day);
    if (next < 0)
        return today > set_day;
    return today >= next;
}

// Recomputes the customer's tier on ladder l at r->at:
//   - upgrade="immediate": a higher tier now; upgrade="period-end" ladders change only when a
//     period boundary passed since the current tier was set (judged by the value of the period
//     that ended); previous-period ladders (previous-calendar-quarter, -year) take the tier of
//     the period that ended at the boundary, and with upgrade="immediate" any higher tier the
//     current period reaches meanwhile;
//   - downgrades only when a boundary passed since the current tier was set, never with
//     downgrade="never";
//   - an operator's floor (manual row, floor_until > at) keeps the customer at least there.
// A row is written only on change; a customer without rows whose computed tier is the one
// the snapshot would compute anyway (and is the ladder's first) gets none.
// *eff: the effective tier index afterwards (-1: none); *value: the metric today.
static kr_ledger_status recompute_tier(jobs_run *r, int64_t customer, const kr_ladder *l, int *eff,
                                       int64_t *value)
{
    kr_ops *o = r->o;
    *eff = -1;
    int64_t latest = INT64_MIN;
    kr_ledger_status s = kr_ledger_tier_latest_at(o->db, customer, l->id, &latest);
    if (s != KR_LEDGER_OK)
        return s;
    kr_ledger_tier cur;
    bool have = false;
    int ci = -1;
    s = kr_ledger_tier_current(o->db, customer, l->id, r->at, &cur);
    if (s == KR_LEDGER_OK) {
        have = true;
        ci = tier_index(l, cur.tier_id);
    } else if (s != KR_LEDGER_NOT_FOUND) {
        return s;
    }
    s = kr__ops_ladder_value(o, customer, l, r->today, value);
    if (s != KR_LEDGER_OK)
        return s;
    int onfly = kr__ops_tier_for(l, *value);
    if (latest > r->at) {
        // A run at a later instant (or an operator) already decided: change nothing.
        *eff = have ? ci : onfly;
        return KR_LEDGER_OK;
    }
    // A tier the program no longer has, and an operator's floor that has run out, are
    // recomputed as if a boundary passed.
    bool boundary = !have || ci < 0 ||
                    (cur.reason == KR_LEDGER_TIER_MANUAL && cur.floor_until <= r->at) ||
                    boundary_passed(l, kr__ops_local_day(o, cur.from_at), r->today);
    int target;
    if (kr_window_current_of(l->window) != KR_WINDOW_NONE) {
        // The previous period decides at the boundary; with upgrade="immediate" the current
        // period's metric lifts the customer as soon as it reaches the next period's tier.
        target = boundary ? onfly : ci;
        if (l->upgrade_immediate) {
            int64_t now = 0;
            s = kr__ops_ladder_progress(o, customer, l, r->today, &now);
            if (s != KR_LEDGER_OK)
                return s;
            if (kr__ops_tier_for(l, now) > target)
                target = kr__ops_tier_for(l, now);
        }
    } else if (l->upgrade_immediate) {
        target = have && ci >= 0 ? ci : onfly;
        if (onfly > target || (onfly < target && boundary))
            target = onfly;
    } else if (boundary) {
        // Upgrades at the period's end: judged by the period that ended.
        int64_t from, to, prev = *value;
        kr_window_range(l->window, l->days, r->today, &from, &to);
        if (l->window != KR_WINDOW_ROLLING_DAYS) {
            s = kr__ops_ladder_value(o, customer, l, from - 1, &prev);
            if (s != KR_LEDGER_OK)
                return s;
        }
        target = kr__ops_tier_for(l, prev);
    } else {
        target = ci;
    }
    if (l->downgrade_never && have && ci > target)
        target = ci;
    kr_ledger_tier floor;
    s = kr_ledger_tier_floor(o->db, customer, l->id, r->at, &floor);
    if (s == KR_LEDGER_OK) {
        int fi = tier_index(l, floor.tier_id);
        if (floor.floor_until > r->at && fi > target)
            target = fi;
    } else if (s != KR_LEDGER_NOT_FOUND) {
        return s;
    }
    *eff = target;
    bool write = have ? target != ci : target >= 0 && (target != onfly || target > 0);
    if (!write || target < 0)
        return KR_LEDGER_OK;
    kr_ledger_tier t = {
        .from_at = r->at, .reason = KR_LEDGER_TIER_COMPUTED, .floor_until = KR_LEDGER_NEVER};
    snprintf(t.ladder_id, sizeof t.ladder_id, "%s", l->id);
    snprintf(t.tier_id, sizeof t.tier_id, "%s", l->tiers[target].id);
    s = kr_ledger_tier_set(o->db, customer, &t);
    if (s == KR_LEDGER_OK)
        r->tiers_changed++;
    return s;
}

// ---- 3. the customer pass: triggers ------------------------------------------------------------

// A promo code of the trigger's batch into code (64 bytes): a `multi` batch's public code, or
// for a `single` batch a new unguessable code "<prefix>-XXXXXXXX" (8 of 32 letters and digits
// without look-alikes, 40 bits) recorded with the batch's limits, issued to `customer` (only
// that customer's receipts can use it) and valid until the batch's `to` or its `valid-days`
// from the run's day. "" when the trigger has none.
static kr_ledger_status give_code(jobs_run *r, const kr_trigger *t, int64_t customer,
                                  char code[64], int64_t *until_out)
{
    code[0] = '\0';
    *until_out = KR_LEDGER_NEVER;
    const kr_batch *b = t->batch ? kr_policy_batch(&r->o->policy, t->batch) : NULL;
    if (!b)
        return KR_LEDGER_OK;
    return kr__ops_issue_code(r->o, b, customer, r->at, code, until_out);
}

kr_ledger_status kr__ops_issue_code(kr_ops *o, const kr_batch *b, int64_t customer, int64_t at,
                                    char code[64], int64_t *until_out)
{
    static const char alphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    code[0] = '\0';
    *until_out = KR_LEDGER_NEVER;
    if (!b->single) {
        snprintf(code, 64, "%s", b->code ? b->code : "");
        *until_out = b->to >= 0 ? kr__ops_day_start(o, b->to + 1) : KR_LEDGER_NEVER;
        return KR_LEDGER_OK;
    }
    if (sodium_init() < 0)
        return KR_LEDGER_DB_ERROR;
    int64_t until = kr__ops_code_until(o, b, at);
    kr_ledger_status s = KR_LEDGER_CONFLICT;
    for (int attempt = 0; attempt < 8 && s == KR_LEDGER_CONFLICT; attempt++) {
        size_t n = (size_t)snprintf(code, 64, "%.40s-", b->prefix ? b->prefix : "");
        for (int i = 0; i < 8; i++)
            code[n++] = alphabet[randombytes_uniform(sizeof alphabet - 1)];
        code[n] = '\0';
        s = kr_ledger_promo_add_owned(o->db, code, b->id, 1,
                                      b->per_customer > 0 ? b->per_customer : 1, until, customer);
    }
    if (s != KR_LEDGER_OK)
        code[0] = '\0';
    else
        *until_out = until;
    return s;
}

// Gives a trigger's reward once: points (source `source`), a promo code of its batch, and an
// outbox entry (payload {"trigger", "points", "code" when given, "message"} with {points} and
// {code} filled in). `kind` names the job ("birthday",
// "inactivity"), `period` the occasion ("2026", "2026-03-01"). Done already when the marker
// counter is set. *gave: true when it was given now.
static kr_ledger_status reward_once(jobs_run *r, const kr_trigger *t, const char *kind,
                                    kr_source source, int64_t customer, const char *period,
                                    bool *gave)
{
    kr_ops *o = r->o;
    *gave = false;
    char metric[KR_LEDGER_ID_MAX], op[KR_LEDGER_ID_MAX];
    snprintf(metric, sizeof metric, "job:%s:%.100s", kind, t->id);
    snprintf(op, sizeof op, "%s:%.64s:%lld:%s", kind, t->id, (long long)customer, period);
    int64_t done = 0;
    kr_ledger_status s = kr_ledger_counter_get(o->db, customer, metric, period, &done);
    if (s != KR_LEDGER_OK || done > 0)
        return s;
    if (t->points > 0) {
        s = kr__ops_add_points(o, customer, source, t->points, r->at, op, NULL);
        if (s != KR_LEDGER_OK)
            return s;
    }
    char code[64];
    int64_t code_until = KR_LEDGER_NEVER;
    s = give_code(r, t, customer, code, &code_until);
    if (s != KR_LEDGER_OK)
        return s;
    if (t->n_channels) {
        char pts[32], until[11] = "";
        snprintf(pts, sizeof pts, "%lld", (long long)t->points);
        // {until}: the code's last day (local), when it has an end.
        if (code[0] && code_until != KR_LEDGER_NEVER)
            kr__ops_day_key(kr__ops_local_day(o, code_until - 1), until);
        const char *names[] = {"points", "code", "until"};
        const char *values[] = {pts, code, until};
        kr_buf_reset(&r->tmp);
        if (t->message)
            fill_template(&r->tmp, t->message, names, values, 3);
        kr_buf_reset(&r->text);
        kr_buf_printf(&r->text, "{\"trigger\":");
        kr_buf_json_string(&r->text, t->id);
        kr_buf_printf(&r->text, ",\"points\":%lld,", (long long)t->points);
        if (code[0]) {
            kr_buf_puts(&r->text, "\"code\":");
            kr_buf_json_string(&r->text, code);
            kr_buf_puts(&r->text, ",");
            if (until[0])
                kr_buf_printf(&r->text, "\"code_until\":\"%s\",", until);
        }
        kr_buf_puts(&r->text, "\"message\":");
        if (t->message)
            kr_buf_json_string(&r->text, r->tmp.data ? r->tmp.data : "");
        else
            kr_buf_puts(&r->text, "null");
        kr_buf_puts(&r->text, "}");
        bool added;
        s = enqueue(r, op, customer, kind, t->channels, t->n_channels, &added);
        if (s != KR_LEDGER_OK)
            return s;
    }
    s = kr_ledger_counter_add(o->db, customer, metric, period, 1, NULL);
    if (s == KR_LEDGER_OK)
        *gave = true;
    return s;
}

// The local day of the birthday (month m, day d) in year y; 29 February is the 28th in other
// years.
static int64_t birthday_in(int64_t y, unsigned m, unsigned d)
{
    int64_t day = kr_days_from_civil(y, m, d);
    int64_t yy;
    unsigned mm, dd;
    kr_civil_from_days(day, &yy, &mm, &dd);
    if (mm != m)
        day = kr_days_from_civil(y, m, d - 1);
    return day;
}

static kr_ledger_status birthday_triggers(jobs_run *r, const customer_view *v)
{
    const kr_ledger_customer *c = v->c;
    int64_t bday;
    char why[64];
    if (!c->birthday || !kr_parse_date(c->birthday, &bday, why, sizeof why))
        return KR_LEDGER_OK;
    int64_t by, ty;
    unsigned bm, bd, tm, td;
    kr_civil_from_days(bday, &by, &bm, &bd);
    kr_civil_from_days(r->today, &ty, &tm, &td);
    int64_t registered = kr__ops_local_day(r->o, c->registered_at);
    for (size_t i = 0; i < r->o->policy.n_triggers; i++) {
        const kr_trigger *t = &r->o->policy.triggers[i];
        if (t->kind != KR_TRIGGER_BIRTHDAY || !trigger_matches(t, v))
            continue;
        // The birthday of the year before, this year or next (days_before may cross a year).
        for (int64_t y = ty - 1; y <= ty + 1; y++) {
            int64_t fire = birthday_in(y, bm, bd) - t->days_before;
            if (fire > r->today || fire < r->lo || fire < registered)
                continue;
            char period[16];
            snprintf(period, sizeof period, "%04lld", (long long)y);
            bool gave = false;
            kr_ledger_status s =
                reward_once(r, t, "birthday", KR_SOURCE_BIRTHDAY, c->id, period, &gave);
            if (s != KR_LEDGER_OK)
                return s;
            if (gave) {
                r->birthdays++;
                r->birthday_points += t->points > 0 ? t->points : 0;
            }
        }
    }
    return KR_LEDGER_OK;
}

static kr_ledger_status inactivity_triggers(jobs_run *r, const customer_view *v)
{
    bool any = false;
    for (size_t i = 0; i < r->o->policy.n_triggers && !any; i++)
        any = r->o->policy.triggers[i].kind == KR_TRIGGER_INACTIVITY;
    if (!any)
        return KR_LEDGER_OK;
    char last[11];
    kr_ledger_status s = kr_ledger_counter_last_day(r->o->db, v->c->id, "receipts", last);
    if (s == KR_LEDGER_NOT_FOUND)
        return KR_LEDGER_OK; // never bought: no spell of inactivity to speak of
    if (s != KR_LEDGER_OK)
        return s;
    int64_t last_day;
    char why[64];
    if (!kr_parse_date(last, &last_day, why, sizeof why))
        return KR_LEDGER_OK;
    for (size_t i = 0; i < r->o->policy.n_triggers; i++) {
        const kr_trigger *t = &r->o->policy.triggers[i];
        if (t->kind != KR_TRIGGER_INACTIVITY || t->days <= 0 || !trigger_matches(t, v))
            continue;
        int64_t fire = last_day + t->days;
        if (fire > r->today || fire < r->lo)
            continue;
        // One spell = one last purchase: the period is its date.
        bool gave = false;
        s = reward_once(r, t, "inactivity", KR_SOURCE_EVENT, v->c->id, last, &gave);
        if (s != KR_LEDGER_OK)
            return s;
        if (gave) {
            r->inactive++;
            r->inactivity_points += t->points > 0 ? t->points : 0;
        }
    }
    return KR_LEDGER_OK;
}

static kr_ledger_status tier_reminders(jobs_run *r, const customer_view *v)
{
    kr_ops *o = r->o;
    for (size_t i = 0; i < o->policy.n_triggers; i++) {
        const kr_trigger *t = &o->policy.triggers[i];
        if (t->kind != KR_TRIGGER_TIER_REMINDER || !t->ladder || !trigger_matches(t, v))
            continue;
        const kr_ladder *l = kr_policy_ladder(&o->policy, t->ladder);
        if (!l || !t->n_channels)
            continue;
        size_t li = (size_t)(l - o->policy.ladders);
        if (li >= 64 || !any_segment(l->segments, l->n_segments, v))
            continue;
        int64_t end = kr_window_next_start(l->window, r->today);
        if (end < 0)
            continue; // rolling windows have no end to remind of
        int64_t fire = end - t->days_before;
        if (fire > r->today || fire < r->lo)
            continue;
        // What the period counts: for previous-period ladders, this period's purchases make
        // the next period's status.
        int64_t value = v->value_of[li];
        if (kr_window_current_of(l->window) != KR_WINDOW_NONE) {
            kr_ledger_status s = kr__ops_ladder_progress(o, v->c->id, l, r->today, &value);
            if (s != KR_LEDGER_OK)
                return s;
        }
        int cur = v->tier_of[li];
        int by_value = kr__ops_tier_for(l, value);
        if (by_value > cur)
            cur = by_value;
        if ((size_t)(cur + 1) >= l->n_tiers)
            continue;
        const kr_tier *next = &l->tiers[cur + 1];
        int64_t left = next->from - value;
        // Within `within` (basis points) of the threshold: left / from <= within / 10000.
        if (left <= 0 || left * 10000 > next->from * t->within)
            continue;
        char left_text[40];
        if (l->metric == KR_METRIC_PAID)
            kr__ops_money_text(&r->tmp, left, o->minor_unit, left_text, sizeof left_text);
        else
            snprintf(left_text, sizeof left_text, "%lld", (long long)left);
        const char *tier_name = next->name ? next->name : next->id;
        const char *names[] = {"left", "tier"};
        const char *values[] = {left_text, tier_name};
        kr_buf_reset(&r->tmp);
        if (t->message)
            fill_template(&r->tmp, t->message, names, values, 2);
        kr_buf_reset(&r->text);
        kr_buf_puts(&r->text, "{\"trigger\":");
        kr_buf_json_string(&r->text, t->id);
        kr_buf_puts(&r->text, ",\"ladder\":");
        kr_buf_json_string(&r->text, l->id);
        kr_buf_puts(&r->text, ",\"tier\":");
        kr_buf_json_string(&r->text, next->id);
        kr_buf_puts(&r->text, ",\"tier_name\":");
        kr_buf_json_string(&r->text, tier_name);
        kr_buf_puts(&r->text, ",\"left\":");
        kr_buf_json_string(&r->text, left_text);
        kr_buf_puts(&r->text, ",\"message\":");
        if (t->message)
            kr_buf_json_string(&r->text, r->tmp.data ? r->tmp.data : "");
        else
            kr_buf_puts(&r->text, "null");
        kr_buf_puts(&r->text, "}");
        // One reminder per customer and period: the key names the period's last day.
        char key[KR_LEDGER_ID_MAX], day[11];
        kr__ops_day_key(end - 1, day);
        snprintf(key, sizeof key, "tier-reminder:%.64s:%lld:%s", t->id, (long long)v->c->id, day);
        bool added = false;
        kr_ledger_status s =
            enqueue(r, key, v->c->id, "tier-reminder", t->channels, t->n_channels, &added);
        if (s != KR_LEDGER_OK)
            return s;
        if (added)
            r->reminders++;
    }
    return KR_LEDGER_OK;
}

// "One more purchase for 500 points": a challenge's reminder goes out remind_days_before days
// before its calendar window ends (or on a later run within the catch-up days) to customers
// the trigger admits who are 1 .. remind_left counted receipts short and were not rewarded in
// the window yet. Once per customer and window: the outbox key names the window's last day.
static kr_ledger_status challenge_reminders(jobs_run *r, const customer_view *v)
{
    kr_ops *o = r->o;
    for (size_t i = 0; i < o->policy.n_triggers; i++) {
        const kr_trigger *t = &o->policy.triggers[i];
        if (t->kind != KR_TRIGGER_CHALLENGE || t->remind_days_before <= 0 || !trigger_matches(t, v))
            continue;
        char *const *channels = t->n_remind_channels ? t->remind_channels : t->channels;
        size_t n_channels = t->n_remind_channels ? t->n_remind_channels : t->n_channels;
        kr_window w = t->window == KR_WINDOW_NONE ? KR_WINDOW_CALENDAR_MONTH : t->window;
        int64_t end = kr_window_next_start(w, r->today);
        if (!n_channels || end < 0)
            continue; // rolling windows have no end to remind of
        int64_t fire = end - t->remind_days_before;
        if (fire > r->today || fire < r->lo)
            continue;
        int64_t from, to, count = 0, given = 0;
        kr_window_range(w, t->days, r->today, &from, &to);
        char metric[KR_LEDGER_ID_MAX], marker[KR_LEDGER_ID_MAX];
        snprintf(metric, sizeof metric, "challenge:%.100s", t->id);
        snprintf(marker, sizeof marker, "job:challenge:%.100s", t->id);
        kr_ledger_status s = kr__ops_counter_sum(o, v->c->id, metric, from, to, &count);
        if (s == KR_LEDGER_OK)
            s = kr__ops_counter_sum(o, v->c->id, marker, from, to, &given);
        if (s != KR_LEDGER_OK)
            return s;
        int64_t left = t->receipts - count;
        if (given > 0 || left < 1 || left > t->remind_left)
            continue;
        char left_text[24], points_text[24], date[11];
        snprintf(left_text, sizeof left_text, "%lld", (long long)left);
        snprintf(points_text, sizeof points_text, "%lld", (long long)t->points);
        kr__ops_day_key(end - 1, date);
        const char *names[] = {"left", "points", "date"};
        const char *values[] = {left_text, points_text, date};
        kr_buf_reset(&r->tmp);
        if (t->remind_message)
            fill_template(&r->tmp, t->remind_message, names, values, 3);
        kr_buf_reset(&r->text);
        kr_buf_puts(&r->text, "{\"trigger\":");
        kr_buf_json_string(&r->text, t->id);
        kr_buf_printf(&r->text, ",\"left\":%lld,\"points\":%lld,\"date\":\"%s\",\"message\":",
                      (long long)left, (long long)t->points, date);
        if (t->remind_message)
            kr_buf_json_string(&r->text, r->tmp.data ? r->tmp.data : "");
        else
            kr_buf_puts(&r->text, "null");
        kr_buf_puts(&r->text, "}");
        char key[KR_LEDGER_ID_MAX];
        snprintf(key, sizeof key, "challenge-reminder:%.64s:%lld:%s", t->id, (long long)v->c->id,
                 date);
        bool added = false;
        s = enqueue(r, key, v->c->id, "challenge-reminder", channels, n_channels, &added);
        if (s != KR_LEDGER_OK)
            return s;
        if (added)
            r->reminders++;
    }
    return KR_LEDGER_OK;
}

static kr_ledger_status customer_jobs(jobs_run *r, int64_t id)
{
    kr_ops *o = r->o;
    kr_ledger_customer *c = NULL;
    kr_ledger_status s = kr_ledger_customer_get(o->db, id, &c);
    if (s != KR_LEDGER_OK)
        return s;
    customer_view v;
    memset(&v, 0, sizeof v);
    view_segments(o, c, r->at, &v);
    for (size_t i = 0; i < o->policy.n_ladders && i < 64 && s == KR_LEDGER_OK; i++) {
        const kr_ladder *l = &o->policy.ladders[i];
        v.tier_of[i] = -1;
        if (!any_segment(l->segments, l->n_segments, &v))
            continue;
        s = recompute_tier(r, id, l, &v.tier_of[i], &v.value_of[i]);
        if (s == KR_LEDGER_OK && v.tier_of[i] >= 0)
            v.tiers[v.n_tiers++] = l->tiers[v.tier_of[i]].id;
    }
    // Anonymous placeholders have nobody to greet or remind.
    if (s == KR_LEDGER_OK && !c->anonymous)
        s = birthday_triggers(r, &v);
    if (s == KR_LEDGER_OK && !c->anonymous)
        s = inactivity_triggers(r, &v);
    if (s == KR_LEDGER_OK && !c->anonymous)
        s = tier_reminders(r, &v);
    if (s == KR_LEDGER_OK && !c->anonymous)
        s = challenge_reminders(r, &v);
    if (s == KR_LEDGER_OK && !c->anonymous)
        s = kr__ops_chains_customer(o, c, v.segments, v.n_segments, v.tiers, v.n_tiers, r->at,
                                    r->lo, &r->chains);
    kr_ledger_customer_free(c);
    return s;
}

static kr_ledger_status job_customers(jobs_run *r)
{
    int64_t ids[JOBS_PAGE];
    int64_t after = 0;
    for (;;) {
        size_t n = 0;
        kr_ledger_status s = tx_begin(r);
        if (s != KR_LEDGER_OK)
            return s;
        s = kr_ledger_customers_page(r->o->db, after, JOBS_PAGE, ids, &n);
        for (size_t i = 0; i < n && s == KR_LEDGER_OK; i++)
            s = customer_jobs(r, ids[i]);
        s = tx_end(r, s);
        if (s != KR_LEDGER_OK)
            return s;
        if (n < JOBS_PAGE)
            return KR_LEDGER_OK;
        after = ids[n - 1];
    }
}

// ---- 4. warnings before expiry -----------------------------------------------------------------

// One (customer, expiry date) group of live points.
typedef struct expiring_group {
    int64_t customer, day, points; // day: the last local day the points can be spent
} expiring_group;

// Enqueues the tightest warning for a group: of the warnings whose days_before reaches the
// expiry, the one with the fewest days (a customer told "a week left" need not also hear "a
// month left" on the same day). Keyed "expiry-warning:<customer>:<date>:<days>".
static kr_ledger_status warn_group(jobs_run *r, const expiring_group *g)
{
    kr_ops *o = r->o;
    int64_t days_left = g->day + 1 - r->today;
    const kr_warning *w = NULL;
    for (size_t i = 0; i < o->policy.n_warnings; i++) {
        const kr_warning *x = &o->policy.warnings[i];
        if (x->days_before >= days_left && x->n_channels && (!w || x->days_before < w->days_before))
            w = x;
    }
    if (!w || g->points <= 0)
        return KR_LEDGER_OK;
    char date[11], pts[32], key[KR_LEDGER_ID_MAX];
    kr__ops_day_key(g->day, date);
    snprintf(pts, sizeof pts, "%lld", (long long)g->points);
    snprintf(key, sizeof key, "expiry-warning:%lld:%s:%lld", (long long)g->customer, date,
             (long long)w->days_before);
    const char *names[] = {"points", "date"};
    const char *values[] = {pts, date};
    kr_buf_reset(&r->tmp);
    if (w->message)
        fill_template(&r->tmp, w->message, names, values, 2);
    kr_buf_reset(&r->text);
    kr_buf_printf(&r->text, "{\"points\":%lld,\"date\":\"%s\",\"days_before\":%lld,\"message\":",
                  (long long)g->points, date, (long long)w->days_before);
    if (w->message)
        kr_buf_json_string(&r->text, r->tmp.data ? r->tmp.data : "");
    else
        kr_buf_puts(&r->text, "null");
    kr_buf_puts(&r->text, "}");
    bool added = false;
    kr_ledger_status s =
        enqueue(r, key, g->customer, "expiry-warning", w->channels, w->n_channels, &added);
    if (s == KR_LEDGER_OK && added)
        r->warnings++;
    return s;
}

static kr_ledger_status job_warnings(jobs_run *r)
{
    kr_ops *o = r->o;
    int64_t max_days = -1;
    for (size_t i = 0; i < o->policy.n_warnings; i++)
        if (o->policy.warnings[i].days_before > max_days)
            max_days = o->policy.warnings[i].days_before;
    if (max_days < 0)
        return KR_LEDGER_OK;
    // Points whose last day is at most today + max_days - 1 expire by the start of
    // today + max_days.
    int64_t until = kr__ops_day_start(o, r->today + max_days);
    kr_ledger_expiring *rows = calloc(JOBS_PAGE, sizeof *rows);
    if (!rows)
        return KR_LEDGER_NOMEM;
    expiring_group g = {0};
    int64_t after_c = 0, after_e = 0;
    kr_ledger_status s = KR_LEDGER_OK;
    for (;;) {
        size_t n = 0;
        s = tx_begin(r);
        if (s != KR_LEDGER_OK)
            break;
        s = kr_ledger_expiring_page(o->db, r->at, until, after_c, after_e, JOBS_PAGE, rows, &n);
        for (size_t i = 0; i < n && s == KR_LEDGER_OK; i++) {
            int64_t day = kr__ops_local_day(o, rows[i].expires_at - 1);
            if (g.customer == rows[i].customer_id && g.day == day) {
                g.points += rows[i].points;
                continue;
            }
            if (g.customer)
                s = warn_group(r, &g);
            g = (expiring_group){rows[i].customer_id, day, rows[i].points};
        }
        if (s == KR_LEDGER_OK && n < JOBS_PAGE && g.customer) {
            s = warn_group(r, &g);
            g.customer = 0;
        }
        s = tx_end(r, s);
        if (s != KR_LEDGER_OK || n < JOBS_PAGE)
            break;
        after_c = rows[n - 1].customer_id;
        after_e = rows[n - 1].expires_at;
    }
    free(rows);
    return s;
}

// ---- the run -----------------------------------------------------------------------------------

static void summary(const jobs_run *r, kr_buf *out)
{
    kr_buf_reset(out);
    kr_buf_puts(out, "{\"at\":");
    kr_buf_json_time(out, r->at);
    kr_buf_printf(
        out,
        ",\"expired\":{\"lots\":%lld,\"points\":%lld}"
        ",\"burned\":{\"lots\":%lld,\"points\":%lld}"
        ",\"tiers_changed\":%lld,\"segment_moves\":%lld,\"memberships_ended\":%lld"
        ",\"birthdays\":%lld,\"birthday_points\":%lld"
        ",\"inactive\":%lld,\"inactivity_points\":%lld"
        ",\"warnings\":%lld,\"reminders\":%lld,\"notifications\":%lld",
        (long long)r->expired_lots, (long long)r->expired_points, (long long)r->burned_lots,
        (long long)r->burned_points, (long long)r->tiers_changed, (long long)r->segment_moves,
        (long long)r->memberships_ended, (long long)r->birthdays, (long long)r->birthday_points,
        (long long)r->inactive, (long long)r->inactivity_points, (long long)r->warnings,
        (long long)r->reminders, (long long)(r->notifications + r->chains.notifications));
    // Only programs with chains answer their counts (older answers stay as they were).
    if (r->o->policy.n_chains)
        kr_buf_printf(out, ",\"chain_steps\":%lld,\"chains_left\":%lld,\"chain_points\":%lld",
                      (long long)r->chains.steps, (long long)r->chains.left,
                      (long long)r->chains.points);
    kr_buf_puts(out, "}");
}

kr_ops_status kr_ops_jobs_run(kr_ops *o, int64_t at, kr_buf *out)
{
    jobs_run r = {.o = o, .at = at};
    r.today = kr__ops_local_day(o, at);
    r.lo = r.today - (JOBS_CATCHUP_DAYS - 1);
    kr_buf_init(&r.text, 1u << 20);
    kr_buf_init(&r.tmp, 1u << 20);
    static const struct {
        const char *name;
        kr_ledger_status (*run)(jobs_run *);
    } jobs[] = {
        {"expiry", job_expiry},           {"memberships", job_memberships},
        {"transitions", job_transitions}, {"customers", job_customers},
        {"warnings", job_warnings},
    };
    kr_ops_status st = KR_OPS_OK;
    for (size_t i = 0; i < sizeof jobs / sizeof jobs[0]; i++) {
        kr_ledger_status s = jobs[i].run(&r);
        if (s != KR_LEDGER_OK) {
            st = kr__ops_ledger_error(o, out, s, NULL);
            if (st == KR_OPS_OK)
                st = KR_OPS_FAILED;
            // Name the job that stopped; the jobs before it are done (see the top of the file).
            kr_buf_reset(out);
            kr_buf_puts(out, "{\"error\":{\"code\":");
            kr_buf_json_string(out, kr_ops_status_name(st));
            kr_buf_puts(out, ",\"field\":");
            kr_buf_json_string(out, jobs[i].name);
            kr_buf_puts(out, ",\"message\":");
            kr_buf_json_string(out, kr_ledger_errmsg(o->db));
            kr_buf_puts(out, "}}");
            break;
        }
    }
    if (st == KR_OPS_OK)
        summary(&r, out);
    kr_buf_free(&r.text);
    kr_buf_free(&r.tmp);
    if (st == KR_OPS_OK && out->failed)
        st = KR_OPS_FAILED;
    return st;
}
