// SPDX-License-Identifier: MIT
// kr-ops-receipt.c: calculate, confirm, return and cancel (kr-ops.h).
//
// A confirm is one transaction: idempotency record, points spent (from the lots that expire
// first), new lots (accrual and promotion points with the program's hold and lifetime), codes
// used, counters (per local day: money paid, receipts, points earned), tiers upgraded at once
// where the ladder says so, paid-club memberships joined, gift certificates taken from and
// issued (kr-ops-certificates.c). The answer stored with the receipt is returned verbatim on
// a replay and read back by returns: it carries, per line, the points earned and spent and the
// money each certificate paid, and the lots the points were spent from ("spent_from").
#include "kr-ops-private.h"

#include "kr-ledger-codes.h"
#include "kr-ledger-query.h"
#include "kr-ledger-sales.h"
#include "kr-money.h"

#include <stdlib.h>
#include <string.h>

#define MAX_SNAPSHOT_ITEMS 64

// The customer as the program sees it at the receipt's time (kr_engine_customer), with the
// storage its pointers point into.
typedef struct snapshot {
    int64_t customer;          // ledger id; 0 for an anonymous receipt
    kr_ledger_customer *lc;    // owned
    const char *segments[MAX_SNAPSHOT_ITEMS];
    const char *tiers[MAX_SNAPSHOT_ITEMS];
    char tier_store[MAX_SNAPSHOT_ITEMS][KR_LEDGER_ID_MAX];
    const char *lists[MAX_SNAPSHOT_ITEMS];
    char *lists_text;          // owned copy of the "lists" attribute, split in place
    kr_engine_kv attrs[MAX_SNAPSHOT_ITEMS];
    kr_engine_counter counters[MAX_SNAPSHOT_ITEMS];
    char counter_keys[MAX_SNAPSHOT_ITEMS][48];
    const char *codes[MAX_SNAPSHOT_ITEMS]; // batch ids of valid codes (point into policy)
    const char *code_text[MAX_SNAPSHOT_ITEMS]; // the codes as presented, for use records
    size_t n_codes;
    kr_engine_customer c;
    kr_ledger_balance balance; // owned buckets
    bool has_balance;
} snapshot;

static void snapshot_free(snapshot *s)
{
    kr_ledger_customer_free(s->lc);
    free(s->lists_text);
    if (s->has_balance)
        kr_ledger_balance_free(&s->balance);
    memset(s, 0, sizeof *s);
}

static bool on_ladder(const kr_ladder *l, const snapshot *s)
{
    if (!l->n_segments)
        return true;
    for (size_t i = 0; i < s->c.n_segments; i++)
        if (kr__ops_listed(l->segments, l->n_segments, s->c.segments[i]))
            return true;
    return false;
}

static kr_ledger_status add_counter(kr_ops *o, snapshot *s, const char *what, const char *metric,
                                    kr_window w, int64_t days, int64_t day)
{
    if (s->c.n_counters >= MAX_SNAPSHOT_ITEMS)
        return KR_LEDGER_OK;
    size_t i = s->c.n_counters;
    if (w == KR_WINDOW_ROLLING_DAYS)
        snprintf(s->counter_keys[i], sizeof s->counter_keys[i], "%s:rolling-days:%lld", what,
                 (long long)days);
    else
        snprintf(s->counter_keys[i], sizeof s->counter_keys[i], "%s:%s", what, kr_window_name(w));
    for (size_t k = 0; k < i; k++)
        if (strcmp(s->counter_keys[k], s->counter_keys[i]) == 0)
            return KR_LEDGER_OK;
    int64_t v = 0;
    kr_ledger_status ls = kr__ops_window_sum(o, s->customer, metric, w, days, day, &v);
    if (ls != KR_LEDGER_OK)
        return ls;
    s->counters[i].key = s->counter_keys[i];
    s->counters[i].value = v;
    s->c.n_counters++;
    return KR_LEDGER_OK;
}

// Fills the snapshot of `customer` at `at` (customer 0: anonymous, nothing to read).
static kr_ledger_status snapshot_build(kr_ops *o, int64_t customer, int64_t at, snapshot *s)
{
    memset(s, 0, sizeof *s);
    s->customer = customer;
    if (!customer)
        return KR_LEDGER_OK;
    s->c.segments = s->segments;
    s->c.tiers = s->tiers;
    if (customer == KR__OPS_NEW_CARD) {
        // A member with no history: the default segment, the tiers a zero metric gives.
        s->c.first_purchase = true;
        for (size_t i = 0; i < o->policy.n_segments; i++)
            if (o->policy.segments[i].is_default && s->c.n_segments < MAX_SNAPSHOT_ITEMS)
                s->segments[s->c.n_segments++] = o->policy.segments[i].id;
        for (size_t i = 0; i < o->policy.n_ladders && s->c.n_tiers < MAX_SNAPSHOT_ITEMS; i++) {
            const kr_ladder *l = &o->policy.ladders[i];
            int k = kr__ops_tier_for(l, 0);
            if (k >= 0 && on_ladder(l, s))
                s->tiers[s->c.n_tiers++] = l->tiers[k].id;
        }
        return KR_LEDGER_OK;
    }
    kr_ledger_status ls = kr_ledger_customer_get(o->db, customer, &s->lc);
    if (ls != KR_LEDGER_OK)
        return ls;
    const kr_ledger_customer *lc = s->lc;
    int64_t day = kr__ops_local_day(o, at);
    s->c.id = lc->external_id;
    s->c.segments = s->segments;
    for (size_t i = 0; i < lc->n_segments && s->c.n_segments < MAX_SNAPSHOT_ITEMS; i++)
        if (lc->segments[i].until == KR_LEDGER_NEVER || lc->segments[i].until > at)
            s->segments[s->c.n_segments++] = lc->segments[i].segment;
    if (s->c.n_segments == 0)
        for (size_t i = 0; i < o->policy.n_segments; i++)
            if (o->policy.segments[i].is_default && s->c.n_segments < MAX_SNAPSHOT_ITEMS)
                s->segments[s->c.n_segments++] = o->policy.segments[i].id;

    // Tiers: the ledger's current tier per ladder; a customer with no tier row yet has the
    // tier the ladder's metric gives now.
    s->c.tiers = s->tiers;
    for (size_t i = 0; i < o->policy.n_ladders && s->c.n_tiers < MAX_SNAPSHOT_ITEMS; i++) {
        const kr_ladder *l = &o->policy.ladders[i];
        if (!on_ladder(l, s))
            continue;
        kr_ledger_tier t;
        ls = kr_ledger_tier_current(o->db, customer, l->id, at, &t);
        // An operator's floor that has run out no longer holds: the counters decide until the
        // jobs write the tier again.
        if (ls == KR_LEDGER_OK && t.reason == KR_LEDGER_TIER_MANUAL && t.floor_until <= at)
            ls = KR_LEDGER_NOT_FOUND;
        if (ls == KR_LEDGER_OK) {
            snprintf(s->tier_store[s->c.n_tiers], KR_LEDGER_ID_MAX, "%s", t.tier_id);
        } else if (ls == KR_LEDGER_NOT_FOUND) {
            int k = -1;
            ls = kr__ops_ladder_earned(o, customer, l, day, &k);
            if (ls != KR_LEDGER_OK)
                return ls;
            if (k < 0)
                continue;
            snprintf(s->tier_store[s->c.n_tiers], KR_LEDGER_ID_MAX, "%s", l->tiers[k].id);
        } else {
            return ls;
        }
        s->tiers[s->c.n_tiers] = s->tier_store[s->c.n_tiers];
        s->c.n_tiers++;
    }

    s->c.attrs = s->attrs;
    for (size_t i = 0; i < lc->n_attrs && s->c.n_attrs < MAX_SNAPSHOT_ITEMS; i++) {
        s->attrs[s->c.n_attrs].key = lc->attrs[i].key;
        s->attrs[s->c.n_attrs].value = lc->attrs[i].value;
        s->c.n_attrs++;
        // Personal-offer lists are the attribute "lists": space-separated list ids.
        if (strcmp(lc->attrs[i].key, "lists") == 0 && !s->lists_text) {
            s->lists_text = strdup(lc->attrs[i].value);
            for (char *tok = s->lists_text ? strtok(s->lists_text, " ") : NULL;
                 tok && s->c.n_lists < MAX_SNAPSHOT_ITEMS; tok = strtok(NULL, " "))
                s->lists[s->c.n_lists++] = tok;
        }
    }
    s->c.lists = s->lists;

    int64_t receipts_all = 0;
    ls = kr_ledger_counter_get(o->db, customer, "receipts", "all", &receipts_all);
    if (ls != KR_LEDGER_OK)
        return ls;
    s->c.first_purchase = receipts_all == 0;
    if (lc->birthday && strlen(lc->birthday) == 10) {
        s->c.birth_month = (unsigned)atoi(lc->birthday + 5);
        s->c.birth_day = (unsigned)atoi(lc->birthday + 8);
    }
    s->c.has_registered = true;
    s->c.registered = lc->registered_at;

    static const kr_window windows[] = {
        KR_WINDOW_CALENDAR_MONTH,         KR_WINDOW_CALENDAR_QUARTER,
        KR_WINDOW_CALENDAR_YEAR,          KR_WINDOW_PREVIOUS_CALENDAR_QUARTER,
        KR_WINDOW_PREVIOUS_CALENDAR_YEAR, KR_WINDOW_ALL_TIME};
    s->c.counters = s->counters;
    for (size_t i = 0; i < sizeof windows / sizeof windows[0]; i++) {
        ls = add_counter(o, s, "turnover", "paid", windows[i], 0, day);
        if (ls == KR_LEDGER_OK)
            ls = add_counter(o, s, "receipt-count", "receipts", windows[i], 0, day);
        if (ls != KR_LEDGER_OK)
            return ls;
    }
    for (size_t i = 0; i < o->policy.n_ladders; i++) {
        const kr_ladder *l = &o->policy.ladders[i];
        if (l->window != KR_WINDOW_ROLLING_DAYS)
            continue;
        ls = add_counter(o, s, "turnover", "paid", l->window, l->days, day);
        if (ls == KR_LEDGER_OK)
            ls = add_counter(o, s, "receipt-count", "receipts", l->window, l->days, day);
        if (ls != KR_LEDGER_OK)
            return ls;
    }

    ls = kr_ledger_balance_get(o->db, customer, at, &s->balance);
    if (ls != KR_LEDGER_OK)
        return ls;
    s->has_balance = true;
    s->c.balance = s->balance.spendable;
    return KR_LEDGER_OK;
}

// Checks the codes on the receipt: each valid one adds its batch to the snapshot; an unknown,
// expired or used-up code, or one issued to another customer, is reported to the cashier and
// otherwise ignored.
static kr_ledger_status check_codes(kr_ops *o, const kr_receipt *r, snapshot *s, kr_buf *notes)
{
    int64_t day = kr__ops_local_day(o, r->rc.time);
    for (size_t i = 0; i < r->n_codes && s->n_codes < MAX_SNAPSHOT_ITEMS; i++) {
        kr_ledger_promo p;
        kr_ledger_status ls = kr_ledger_promo_get(o->db, r->codes[i], s->customer, &p);
        const char *why = NULL;
        const kr_batch *b = NULL;
        if (ls == KR_LEDGER_NOT_FOUND || ls == KR_LEDGER_INVALID)
            why = "no such code";
        else if (ls != KR_LEDGER_OK)
            return ls;
        else if (!(b = kr_policy_batch(&o->policy, p.batch_id)))
            why = "its batch is not in the current program";
        else if ((b->from >= 0 && day < b->from) || (b->to >= 0 && day > b->to) ||
                 (p.valid_until != KR_LEDGER_NEVER && r->rc.time >= p.valid_until))
            why = "not valid at this time";
        else if (p.owner_id && !s->customer)
            why = "issued to a customer: identify the customer first";
        else if (p.owner_id && p.owner_id != s->customer)
            why = "issued to another customer";
        else if (p.max_uses && p.uses >= p.max_uses)
            why = "used up";
        else if (p.max_per_customer && s->customer && p.customer_uses >= p.max_per_customer)
            why = "already used by this customer";
        else if (b->per_customer && s->customer && p.customer_uses >= b->per_customer)
            why = "already used by this customer";
        if (why) {
            if (notes->len)
                kr_buf_puts(notes, ",");
            kr_buf_puts(notes, "{\"code\":");
            kr_buf_json_string(notes, r->codes[i]);
            kr_buf_puts(notes, ",\"message\":");
            kr_buf_json_string(notes, why);
            kr_buf_puts(notes, "}");
            continue;
        }
        s->codes[s->n_codes] = b->id;
        s->code_text[s->n_codes] = r->codes[i];
        s->n_codes++;
    }
    return KR_LEDGER_OK;
}

// The receipt's effect on the ladders of an identified customer in the ledger
// (kr__ops_receipt_tiers): `,"tiers":[...]` to `tiers` and the ladders' customer messages to
// `messages`. Nothing for an anonymous receipt or a card not yet in the ledger. Reads only.
static kr_ledger_status receipt_tiers(kr_ops *o, const kr_receipt *r, const snapshot *s,
                                      kr_buf *tiers, kr_buf *messages)
{
    if (s->customer <= 0)
        return KR_LEDGER_OK;
    bool *on = calloc(o->policy.n_ladders + 1, sizeof *on);
    if (!on)
        return KR_LEDGER_NOMEM;
    for (size_t i = 0; i < o->policy.n_ladders; i++)
        on[i] = on_ladder(&o->policy.ladders[i], s);
    kr_ledger_status ls = kr__ops_receipt_tiers(o, r, &o->result, s->customer, on, tiers,
                                                messages);
    free(on);
    return ls;
}

// The end of the JSON array that starts at `p` (just after its '['): the offset of its ']'
// from `p`, skipping strings and nested values; `n` when it does not end.
static size_t array_end(const char *p, size_t n)
{
    int depth = 0;
    bool in_string = false;
    for (size_t i = 0; i < n; i++) {
        char ch = p[i];
        if (in_string) {
            if (ch == '\\')
                i++;
            else if (ch == '"')
                in_string = false;
        } else if (ch == '"') {
            in_string = true;
        } else if (ch == '[' || ch == '{') {
            depth++;
        } else if ((ch == ']' || ch == '}') && depth-- == 0) {
            return i;
        }
    }
    return n;
}

// Appends the engine's answer `e` (len bytes, without its closing brace) to `out`, with the
// ladders' `messages` (comma-separated objects, may be empty) after the promotions' messages.
static void append_engine(kr_buf *out, const char *e, size_t len, const char *messages)
{
    static const char key[] = "\"messages\":[";
    const char *m = messages && *messages ? strstr(e, key) : NULL;
    if (!m || (size_t)(m - e) >= len) {
        kr_buf_append(out, e, len);
        return;
    }
    size_t open = (size_t)(m - e) + sizeof key - 1;
    size_t close = open + array_end(e + open, len - open);
    kr_buf_append(out, e, close);
    if (close > open)
        kr_buf_puts(out, ",");
    kr_buf_puts(out, messages);
    kr_buf_append(out, e + close, len - close);
}

// The whole answer for a calculated receipt: the engine's result plus customer, balance and
// code notes. `spent_from` (may be NULL) lists the lots points were spent from.
// `balance_after` (confirm only) is the customer's spendable balance once the confirm is
// recorded: points spent are gone, and points it credited without a hold are in. `tiers`
// and `messages` (may be NULL) are what receipt_tiers wrote.
static void write_answer(kr_ops *o, const kr_receipt *r, const snapshot *s, const char *notes,
                         int64_t spendable_from, int64_t balance_after,
                         const kr_ledger_take *takes, size_t n_takes, const char *tiers,
                         const char *messages, const char *extra, kr_buf *out)
{
    kr_engine_result *res = &o->result;
    size_t needed = 0;
    kr_buf_reset(out);
    // The engine writes into a caller buffer; grow the scratch to the size it asks for.
    kr_engine_status es = KR_ENGINE_NOSPACE;
    if (kr_buf_reserve(&o->scratch, 4096))
        es = kr_engine_result_json(o->engine, res, &r->rc, o->scratch.data, o->scratch.alloc,
                                   &needed);
    if (es == KR_ENGINE_NOSPACE && kr_buf_reserve(&o->scratch, needed))
        es = kr_engine_result_json(o->engine, res, &r->rc, o->scratch.data, o->scratch.alloc,
                                   &needed);
    // One flat object: the engine's result without its closing brace, then what the
    // operations add (customer, balances, when the points become spendable, code notes).
    size_t elen = es == KR_ENGINE_OK ? strlen(o->scratch.data) : 0;
    if (elen < 2) {
        kr_buf_puts(out, "{\"receipt\":");
        kr_buf_json_string(out, r->rc.id);
    } else {
        append_engine(out, o->scratch.data, elen - 1, messages);
    }
    kr_buf_puts(out, ",\"customer\":");
    if (s->customer > 0)
        kr_buf_printf(out, "%lld", (long long)s->customer);
    else
        kr_buf_puts(out, "null");
    int64_t before = s->c.balance;
    kr_buf_printf(out, ",\"balance_before\":%lld", (long long)before);
    if (spendable_from >= 0) {
        kr_buf_printf(out, ",\"balance_after\":%lld", (long long)balance_after);
        kr_buf_printf(out, ",\"points_pending\":%lld,\"points_spendable_from\":",
                      (long long)res->points_earned);
        kr_buf_json_time(out, spendable_from);
    }
    kr_buf_printf(out, ",\"codes\":[%s]", notes ? notes : "");
    if (takes) {
        kr_buf_puts(out, ",\"spent_from\":[");
        for (size_t i = 0; i < n_takes; i++)
            kr_buf_printf(out, "%s[%lld,%lld]", i ? "," : "", (long long)takes[i].lot_id,
                          (long long)takes[i].amount);
        kr_buf_puts(out, "]");
    }
    if (tiers)
        kr_buf_puts(out, tiers);
    if (extra)
        kr_buf_puts(out, extra);
    kr_buf_puts(out, "}");
}

// Evaluates the receipt for `customer` (already resolved). Fills the snapshot and o->result.
static kr_ops_status evaluate(kr_ops *o, kr_receipt *r, int64_t customer, snapshot *s,
                              kr__ops_certs *certs, kr_buf *notes, kr_buf *out)
{
    kr_ledger_status ls = snapshot_build(o, customer, r->rc.time, s);
    if (ls == KR_LEDGER_OK)
        ls = check_codes(o, r, s, notes);
    if (ls != KR_LEDGER_OK)
        return kr__ops_ledger_error(o, out, ls, "customer");
    if (customer)
        kr__ops_club_joining(o, r, s->lc, r->rc.time, s->segments, &s->c.n_segments,
                             MAX_SNAPSHOT_ITEMS);
    r->rc.customer = customer ? &s->c : NULL;
    r->rc.codes = s->codes;
    r->rc.n_codes = s->n_codes;
    if (r->rc.points_to_spend && !customer)
        return kr__ops_fail(o, out, KR_OPS_INVALID, "points",
                            "an anonymous receipt cannot be paid with points");
    kr_ops_status st = kr__ops_certs_prepare(o, r, certs, out);
    if (st != KR_OPS_OK)
        return st;
    kr_engine_status es = kr_engine_calculate(o->engine, &r->rc, &o->result);
    if (es == KR_ENGINE_INVALID)
        return kr__ops_fail(o, out, KR_OPS_INVALID, NULL, "%s", o->result.error);
    if (es != KR_ENGINE_OK)
        return kr__ops_fail(o, out, KR_OPS_PROGRAM, NULL, "%s", o->result.error);
    return KR_OPS_OK;
}

static kr_ops_status parse_receipt(kr_ops *o, const char *json, size_t len, kr_receipt *r,
                                   kr_buf *out)
{
    kr_input_error err;
    kr_input_status is = kr_receipt_parse(json, len, o->line, o->minor_unit, r, &err);
    if (is == KR_INPUT_NOMEM)
        return kr__ops_fail(o, out, KR_OPS_FAILED, NULL, "out of memory");
    if (is != KR_INPUT_OK)
        return kr__ops_input_error(o, out, &err);
    return KR_OPS_OK;
}

kr_ops_status kr_ops_calculate(kr_ops *o, const char *json, size_t len, kr_buf *out)
{
    kr_receipt r;
    kr_ops_status st = parse_receipt(o, json, len, &r, out);
    if (st != KR_OPS_OK)
        return st;
    int64_t customer = 0;
    snapshot s;
    memset(&s, 0, sizeof s);
    kr_buf notes;
    kr_buf_init(&notes, 0);
    kr__ops_guard_source(o, r.rc.store, r.rc.channel, NULL);
    kr__ops_certs certs = {0};
    st = kr__ops_resolve(o, &r.customer, r.rc.time, false, &customer, out);
    if (st == KR_OPS_OK)
        st = evaluate(o, &r, customer, &s, &certs, &notes, out);
    kr_buf extra;
    kr_buf_init(&extra, 0);
    if (st == KR_OPS_OK && kr__ops_left_out(o, &r, &o->result, 0, 0, &extra) != KR_LEDGER_OK)
        st = kr__ops_fail(o, out, KR_OPS_FAILED, NULL, "out of memory");
    // Lines kept for an audience until a day: flagged for the cashier (confirm refuses them).
    if (st == KR_OPS_OK)
        kr__ops_early_access(o, &r.rc, customer ? &s.c : NULL, &extra);
    // What confirm would do to the customer's tiers, without writing.
    kr_buf tiers, messages;
    kr_buf_init(&tiers, 0);
    kr_buf_init(&messages, 0);
    if (st == KR_OPS_OK) {
        kr_ledger_status ls = receipt_tiers(o, &r, &s, &tiers, &messages);
        if (ls != KR_LEDGER_OK)
            st = kr__ops_ledger_error(o, out, ls, "customer");
    }
    if (st == KR_OPS_OK)
        write_answer(o, &r, &s, notes.data, -1, 0, NULL, 0, tiers.data, messages.data,
                     extra.data, out);
    kr_buf_free(&tiers);
    kr_buf_free(&messages);
    if (st == KR_OPS_OK && out->failed)
        st = KR_OPS_FAILED;
    kr_buf_free(&extra);
    kr__ops_certs_free(&certs);
    kr_buf_free(&notes);
    snapshot_free(&s);
    kr_receipt_free(&r);
    return kr__ops_guard_flush(o, st, out);
}

// ---- confirm -----------------------------------------------------------------------------------
static kr_ledger_status add_counters(kr_ops *o, int64_t customer, int64_t day, int64_t paid,
                                     int64_t receipts, int64_t points)
{
    char key[11];
    kr__ops_day_key(day, key);
    struct {
        const char *metric;
        int64_t delta;
    } rows[] = {{"paid", paid}, {"receipts", receipts}, {"points", points}};
    for (size_t i = 0; i < 3; i++) {
        if (!rows[i].delta)
            continue;
        kr_ledger_status ls = kr_ledger_counter_add(o->db, customer, rows[i].metric, key,
                                                    rows[i].delta, NULL);
        if (ls == KR_LEDGER_OK)
            ls = kr_ledger_counter_add(o->db, customer, rows[i].metric, "all", rows[i].delta,
                                       NULL);
        if (ls != KR_LEDGER_OK)
            return ls;
    }
    return KR_LEDGER_OK;
}

// Immediate upgrades: after the counters moved, a customer whose metric now reaches a higher
// tier of a ladder with upgrade="immediate" moves up at once.
static kr_ledger_status upgrade_tiers(kr_ops *o, const snapshot *s, int64_t at)
{
    int64_t day = kr__ops_local_day(o, at);
    for (size_t i = 0; i < o->policy.n_ladders; i++) {
        const kr_ladder *l = &o->policy.ladders[i];
        if (!l->upgrade_immediate || !on_ladder(l, s))
            continue;
        // A previous-period ladder moves up when this period already earns the next one's tier.
        int target = -1;
        kr_ledger_status ls = kr__ops_ladder_earned(o, s->customer, l, day, &target);
        if (ls != KR_LEDGER_OK)
            return ls;
        if (target < 0)
            continue;
        kr_ledger_tier cur;
        int current = -1;
        ls = kr_ledger_tier_current(o->db, s->customer, l->id, at, &cur);
        if (ls == KR_LEDGER_OK) {
            for (size_t k = 0; k < l->n_tiers; k++)
                if (strcmp(l->tiers[k].id, cur.tier_id) == 0)
                    current = (int)k;
        } else if (ls != KR_LEDGER_NOT_FOUND) {
            return ls;
        }
        if (target <= current)
            continue;
        kr_ledger_tier t = {.from_at = at, .reason = KR_LEDGER_TIER_COMPUTED,
                            .floor_until = KR_LEDGER_NEVER};
        snprintf(t.ladder_id, sizeof t.ladder_id, "%s", l->id);
        snprintf(t.tier_id, sizeof t.tier_id, "%s", l->tiers[target].id);
        ls = kr_ledger_tier_set(o->db, s->customer, &t);
        if (ls != KR_LEDGER_OK)
            return ls;
    }
    return KR_LEDGER_OK;
}

// Records the effects of an evaluated receipt (inside the confirm transaction); `tiers` and
// `messages` are receipt_tiers' (read before anything was recorded), for the answer.
static kr_ops_status record_receipt(kr_ops *o, const kr_receipt *r, const snapshot *s,
                                    const kr__ops_certs *certs, const char *notes,
                                    const char *hash, const char *tiers, const char *messages,
                                    kr_buf *out)
{
    const kr_engine_result *res = &o->result;
    const char *rid = r->rc.id;
    int64_t at = r->rc.time;
    kr_ledger_take *takes = NULL;
    size_t n_takes = 0;
    kr_ledger_status ls = KR_LEDGER_OK;
    int64_t spendable_from = at;
    if (s->customer && res->points_spent > 0) {
        ls = kr_ledger_spend(o->db, s->customer, res->points_spent, at, rid, &takes, &n_takes);
        if (ls == KR_LEDGER_INSUFFICIENT) {
            free(takes);
            return kr__ops_fail(o, out, KR_OPS_REFUSED, "points",
                                "not enough spendable points: %s", kr_ledger_errmsg(o->db));
        }
    }
    if (ls == KR_LEDGER_OK && s->customer)
        ls = kr__ops_add_points(o, s->customer, KR_SOURCE_ACCRUAL, res->accrual_points, at, rid,
                                &spendable_from);
    for (size_t i = 0; ls == KR_LEDGER_OK && s->customer && i < res->n_applied; i++)
        ls = kr__ops_add_points(o, s->customer, KR_SOURCE_PROMOTION, res->applied[i].points, at,
                                rid, NULL);
    // A code is used by the receipt when a promotion that asks for its batch applied.
    for (size_t i = 0; ls == KR_LEDGER_OK && i < s->n_codes; i++) {
        bool used = false;
        for (size_t k = 0; !used && k < res->n_applied; k++) {
            size_t p = res->applied[k].promotion;
            if (p < o->policy.n_promotions)
                used = kr__ops_listed(o->policy.promotions[p].batches,
                               o->policy.promotions[p].n_batches, s->codes[i]);
        }
        if (!used)
            continue;
        ls = kr_ledger_promo_use(o->db, s->code_text[i], s->customer, rid, at);
        if (ls == KR_LEDGER_EXISTS)
            ls = KR_LEDGER_OK;
    }
    if (ls == KR_LEDGER_OK && s->customer)
        ls = add_counters(o, s->customer, kr__ops_local_day(o, at), res->total_final, 1,
                          res->points_earned);
    // Lines a ladder leaves out: counted apart, and named in the answer for returns.
    kr_buf extra; // answer fields after the engine's: not_counted, rewards, certificates_issued
    kr_buf_init(&extra, 0);
    if (ls == KR_LEDGER_OK)
        ls = kr__ops_left_out(o, r, res, s->customer, kr__ops_local_day(o, at), &extra);
    if (ls == KR_LEDGER_OK && s->customer)
        ls = upgrade_tiers(o, s, at);
    if (ls == KR_LEDGER_OK && s->customer)
        ls = kr__ops_club_join(o, r, s->customer, &extra);
    if (ls == KR_LEDGER_OK && s->customer)
        ls = kr__ops_receipt_triggers(o, s->customer, &s->c, res->total_final, at, rid, &extra);
    // What the till shows the customer afterwards: the ledger's spendable balance now, with the
    // points spent gone and the points credited without a hold (a challenge bonus) in.
    int64_t balance_after = 0;
    if (ls == KR_LEDGER_OK && s->customer) {
        kr_ledger_balance b;
        ls = kr_ledger_balance_get(o->db, s->customer, at, &b);
        if (ls == KR_LEDGER_OK) {
            balance_after = b.spendable;
            kr_ledger_balance_free(&b);
        }
    }
    if (ls != KR_LEDGER_OK) {
        free(takes);
        kr_buf_free(&extra);
        return kr__ops_ledger_error(o, out, ls, NULL);
    }
    kr_ops_status cst = kr__ops_certs_confirm(o, r, certs, &extra, out);
    if (cst != KR_OPS_OK) {
        free(takes);
        kr_buf_free(&extra);
        return cst;
    }
    write_answer(o, r, s, notes, spendable_from, balance_after, takes, n_takes, tiers, messages,
                 extra.data, out);
    kr_buf_free(&extra);
    free(takes);
    if (out->failed)
        return kr__ops_fail(o, out, KR_OPS_FAILED, NULL, "the answer is too large");
    ls = kr__ops_remember(o, rid, hash, s->customer, out->data, at);
    if (ls == KR_LEDGER_OK)
        ls = kr__ops_sale_record(o, r, res, s->customer, at);
    if (ls != KR_LEDGER_OK)
        return kr__ops_ledger_error(o, out, ls, "id");
    return KR_OPS_OK;
}

// Records an evaluated receipt (record_receipt), with its tiers as they are before anything
// is recorded plus the receipt's contribution — the figures calculate shows; upgrade_tiers
// then writes what they say.
static kr_ops_status record(kr_ops *o, const kr_receipt *r, const snapshot *s,
                            const kr__ops_certs *certs, const char *notes, const char *hash,
                            kr_buf *out)
{
    kr_buf tiers, messages;
    kr_buf_init(&tiers, 0);
    kr_buf_init(&messages, 0);
    kr_ledger_status ls = receipt_tiers(o, r, s, &tiers, &messages);
    kr_ops_status st = ls == KR_LEDGER_OK
                           ? record_receipt(o, r, s, certs, notes, hash, tiers.data,
                                            messages.data, out)
                           : kr__ops_ledger_error(o, out, ls, "customer");
    kr_buf_free(&tiers);
    kr_buf_free(&messages);
    return st;
}

// Runs `fn` in a transaction: commit on OK, roll back otherwise (and on REPLAY).
static kr_ops_status in_transaction(kr_ops *o, kr_buf *out, kr_ops_status st)
{
    if (st == KR_OPS_OK) {
        kr_ledger_status ls = kr_ledger_commit(o->db);
        if (ls != KR_LEDGER_OK) {
            kr_ledger_rollback(o->db);
            return kr__ops_ledger_error(o, out, ls, NULL);
        }
        return KR_OPS_OK;
    }
    kr_ledger_rollback(o->db);
    return st;
}

kr_ops_status kr_ops_confirm(kr_ops *o, const char *json, size_t len, kr_buf *out)
{
    kr_receipt r;
    kr_ops_status st = parse_receipt(o, json, len, &r, out);
    if (st != KR_OPS_OK)
        return st;
    char hash[65];
    kr__ops_body_hash(r.root, hash);
    kr_ledger_status ls = kr_ledger_begin(o->db);
    if (ls != KR_LEDGER_OK) {
        kr_receipt_free(&r);
        return kr__ops_ledger_error(o, out, ls, NULL);
    }
    snapshot s;
    memset(&s, 0, sizeof s);
    kr_buf notes;
    kr_buf_init(&notes, 0);
    int64_t customer = 0;
    kr__ops_certs certs = {0};
    st = kr__ops_replay(o, r.rc.id, hash, out);
    kr__ops_guard_source(o, r.rc.store, r.rc.channel, NULL);
    if (st == KR_OPS_OK)
        st = kr__ops_resolve(o, &r.customer, r.rc.time, true, &customer, out);
    if (st == KR_OPS_OK)
        st = evaluate(o, &r, customer, &s, &certs, &notes, out);
    if (st == KR_OPS_OK)
        st = kr__ops_early_access_refuse(o, &r.rc, customer ? &s.c : NULL, out);
    if (st == KR_OPS_OK)
        st = record(o, &r, &s, &certs, notes.data, hash, out);
    st = in_transaction(o, out, st);
    kr__ops_certs_free(&certs);
    kr_buf_free(&notes);
    snapshot_free(&s);
    kr_receipt_free(&r);
    return kr__ops_guard_flush(o, st, out);
}

// ---- returns -----------------------------------------------------------------------------------
// What the first u units of a line carry back (docs/internals/ops.md, "Partial returns"): the
// money the fiscal receipt printed for them, and shares of everything else of the line.
typedef struct line_share {
    int64_t money;        // of `final`: the first u units of the fiscal sub-lines, in order
    int64_t original;     // of the amount before discounts: original x u / qty
    int64_t points_money; // of the money points paid
    int64_t certs[KR_ENGINE_MAX_CERTIFICATES]; // of the money each certificate paid
    int64_t paid_money;                        // of the money paid (the rest of `money`)
    int64_t earned;                            // of the points earned, following paid_money
    int64_t spent;                             // of the points spent, following points_money
} line_share;

// A receipt line as its stored answer has it, and what returns did and do to it.
typedef struct stored_line {
    const char *id;
    int64_t qty, final, original, earned, spent, points_money;
    kr_money_fiscal fiscal[2]; // the printed sub-lines: qty units x price, cheaper first
    size_t n_fiscal;
    const char *cert_number[KR_ENGINE_MAX_CERTIFICATES]; // borrowed from the stored answer
    int64_t cert_amount[KR_ENGINE_MAX_CERTIFICATES];
    size_t n_certs;
    int64_t before;      // units returned by earlier operations
    int64_t units;       // units this operation returns (0: not in it)
    const json_t *named; // the return's "certificates" for the line (NULL: none named)
    int ret_index;       // the line's index in the return (-1: a cancel)
    line_share back;     // what this operation takes back of the line
} stored_line;

static bool read_money(json_t *obj, const char *key, int minor_unit, int64_t *out)
{
    const char *v = json_string_value(json_object_get(obj, key));
    char why[64];
    return v && kr_parse_money(v, minor_unit, false, out, why, sizeof why);
}

// The fiscal sub-lines of a stored line: the answer's "fiscal" when it prints the line's
// units and final amount exactly, else the split the engine prints (kr_money_fiscal_split).
static bool read_fiscal(json_t *l, int minor_unit, stored_line *sl)
{
    json_t *fs = json_object_get(l, "fiscal");
    int64_t units = 0, money = 0;
    size_t n = json_array_size(fs);
    for (size_t k = 0; k < n && n <= 2; k++) {
        json_t *f = json_array_get(fs, k);
        int64_t q = json_integer_value(json_object_get(f, "qty")), price = 0;
        if (q < 1 || !read_money(f, "price", minor_unit, &price) || price > INT64_MAX / q)
            break;
        sl->fiscal[k] = (kr_money_fiscal){q, price, q * price};
        units += q;
        money += q * price;
        sl->n_fiscal = k + 1;
    }
    if (n >= 1 && n <= 2 && sl->n_fiscal == n && units == sl->qty && money == sl->final)
        return true;
    return kr_money_fiscal_split(sl->final, sl->qty, sl->fiscal, &sl->n_fiscal) == KR_MONEY_OK;
}

// Reads what a confirmed receipt's stored answer says about its lines and spent lots.
static bool read_stored(json_t *answer, int minor_unit, stored_line **lines, size_t *n,
                        json_t **takes)
{
    json_t *arr = json_object_get(answer, "lines");
    *takes = json_object_get(answer, "spent_from");
    if (!json_is_array(arr))
        return false;
    *n = json_array_size(arr);
    *lines = calloc(*n ? *n : 1, sizeof **lines);
    if (!*lines)
        return false;
    for (size_t i = 0; i < *n; i++) {
        json_t *l = json_array_get(arr, i);
        stored_line *sl = &(*lines)[i];
        sl->ret_index = -1;
        sl->id = json_string_value(json_object_get(l, "id"));
        sl->qty = json_integer_value(json_object_get(l, "qty"));
        sl->earned = json_integer_value(json_object_get(l, "points_earned"));
        sl->spent = json_integer_value(json_object_get(l, "points_spent"));
        if (!sl->id || sl->qty < 1 || sl->earned < 0 || sl->spent < 0 ||
            !read_money(l, "final", minor_unit, &sl->final) ||
            !read_money(l, "original", minor_unit, &sl->original))
            return false;
        // Answers always carry the money points paid; 0 when an old one does not.
        if (json_object_get(l, "paid_points_money") &&
            !read_money(l, "paid_points_money", minor_unit, &sl->points_money))
            return false;
        int64_t paid_by_others = sl->points_money;
        json_t *cs = json_object_get(l, "certificates");
        if (json_array_size(cs) > KR_ENGINE_MAX_CERTIFICATES)
            return false;
        for (size_t k = 0; k < json_array_size(cs); k++) {
            json_t *e = json_array_get(cs, k);
            sl->cert_number[k] = json_string_value(json_object_get(e, "number"));
            if (!sl->cert_number[k] || !read_money(e, "amount", minor_unit, &sl->cert_amount[k]))
                return false;
            paid_by_others += sl->cert_amount[k];
            sl->n_certs++;
        }
        if (paid_by_others > sl->final || !read_fiscal(l, minor_unit, sl))
            return false;
    }
    return true;
}

// floor(x * num / den) for x, num >= 0, den > 0 (128-bit product); 0 when den is 0.
static int64_t part(int64_t x, int64_t num, int64_t den)
{
    int64_t r = 0;
    if (den <= 0 || kr_money_muldiv(x, num, den, KR_MONEY_DOWN, &r) != KR_MONEY_OK)
        return 0;
    return r;
}

// What the first u (0..qty) units of line l carry. Every share is nondecreasing in u and is
// the line's whole figure at u = qty, so what successive returns take (share(after) -
// share(before)) is never negative and adds up exactly to the whole line.
//  - money: the fiscal sub-lines in printed order, cheaper units first (2 x 333.33 +
//    1 x 333.34: the first unit back is 333.33, the third 333.34);
//  - the money is split over who paid it, in order points, each certificate, money; each takes
//    floor(its amount x what is left of the money / what is left of the final amount) and the
//    money paid is the rest, so the parts add up to the money of the units exactly (and each
//    stays nondecreasing: the rest after a floor is a ceiling of a proportion);
//  - points earned follow the money paid, points spent follow the money points paid (their
//    money when none of it was paid that way; their units when the line is free);
//  - the amount before discounts: original x u / qty.
static void share_of(const stored_line *l, int64_t u, line_share *s)
{
    memset(s, 0, sizeof *s);
    int64_t left = u;
    for (size_t k = 0; k < l->n_fiscal; k++) {
        int64_t take = left < l->fiscal[k].qty ? left : l->fiscal[k].qty;
        s->money += take * l->fiscal[k].price;
        left -= take;
    }
    s->original = part(l->original, u, l->qty);
    int64_t rest = s->money, weight = l->final;
    s->points_money = part(l->points_money, rest, weight);
    rest -= s->points_money;
    weight -= l->points_money;
    int64_t paid_total = weight;
    for (size_t k = 0; k < l->n_certs; k++) {
        s->certs[k] = part(l->cert_amount[k], rest, weight);
        rest -= s->certs[k];
        weight -= l->cert_amount[k];
        paid_total -= l->cert_amount[k];
    }
    s->paid_money = rest;
    s->earned = paid_total > 0 ? part(l->earned, s->paid_money, paid_total)
                : l->final > 0 ? part(l->earned, s->money, l->final)
                               : part(l->earned, u, l->qty);
    s->spent = l->points_money > 0 ? part(l->spent, s->points_money, l->points_money)
               : l->final > 0      ? part(l->spent, s->money, l->final)
                                   : part(l->spent, u, l->qty);
}

// b - a, field by field, into d.
static void share_minus(const line_share *b, const line_share *a, line_share *d)
{
    d->money = b->money - a->money;
    d->original = b->original - a->original;
    d->points_money = b->points_money - a->points_money;
    for (size_t k = 0; k < KR_ENGINE_MAX_CERTIFICATES; k++)
        d->certs[k] = b->certs[k] - a->certs[k];
    d->paid_money = b->paid_money - a->paid_money;
    d->earned = b->earned - a->earned;
    d->spent = b->spent - a->spent;
}

// Takes back from the ladders' left-out counters what the confirm put there for the units
// coming back (the stored answer's "not_counted", whatever the program says now); a cancel
// takes back the receipt too when every line was left out.
static kr_ledger_status undo_left_out(kr_ops *o, int64_t customer, int64_t day, json_t *answer,
                                      const stored_line *lines, size_t n, bool cancel)
{
    json_t *nc = json_object_get(answer, "not_counted");
    for (size_t i = 0; i < json_array_size(nc); i++) {
        json_t *entry = json_array_get(nc, i), *ids = json_object_get(entry, "lines");
        const char *ladder = json_string_value(json_object_get(entry, "ladder"));
        if (!ladder)
            continue;
        int64_t paid = 0;
        for (size_t k = 0; k < json_array_size(ids); k++) {
            const char *id = json_string_value(json_array_get(ids, k));
            for (size_t m = 0; id && m < n; m++)
                if (lines[m].units && strcmp(lines[m].id, id) == 0)
                    paid += lines[m].back.money;
        }
        int64_t receipts = cancel && json_array_size(ids) == n ? 1 : 0;
        kr_ledger_status ls = kr__ops_left_out_add(o, customer, ladder, day, -paid, -receipts);
        if (ls != KR_LEDGER_OK)
            return ls;
    }
    return KR_LEDGER_OK;
}

// The certificates the returning units sold (to void) and the certificate money going back.
static kr_ops_status certs_of_return(kr_ops *o, const kr_ledger_receipt *rec,
                                     const stored_line *lines, size_t n, char ***voids,
                                     size_t *n_voids, kr__ops_cert_back **backs, size_t *n_backs,
                                     kr_buf *out)
{
    size_t cap = 0;
    for (size_t i = 0; i < n; i++)
        cap += lines[i].units ? lines[i].n_certs : 0;
    *backs = calloc(cap ? cap : 1, sizeof **backs);
    if (!*backs)
        return kr__ops_fail(o, out, KR_OPS_FAILED, NULL, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const stored_line *l = &lines[i];
        if (!l->units)
            continue;
        char field[64] = "lines";
        if (l->ret_index >= 0)
            snprintf(field, sizeof field, "lines[%d].certificates", l->ret_index);
        kr_ops_status st = kr__ops_certs_returning(o, rec->id, l->id, l->units, l->named, field,
                                                   voids, n_voids, out);
        if (st != KR_OPS_OK)
            return st;
        for (size_t k = 0; k < l->n_certs; k++)
            (*backs)[(*n_backs)++] = (kr__ops_cert_back){l->cert_number[k], l->back.certs[k]};
    }
    return KR_OPS_OK;
}

// The answer's "returned_lines": per line of this operation, the units, what is left, and what
// came back of its money and points.
static void write_returned_lines(const kr_ops *o, const stored_line *lines, size_t n, kr_buf *out)
{
    kr_buf_puts(out, ",\"returned_lines\":[");
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        const stored_line *l = &lines[i];
        if (!l->units)
            continue;
        kr_buf_puts(out, first ? "{\"line\":" : ",{\"line\":");
        first = false;
        kr_buf_json_string(out, l->id);
        kr_buf_printf(out, ",\"qty\":%lld,\"left\":%lld,\"money\":", (long long)l->units,
                      (long long)(l->qty - l->before - l->units));
        kr_buf_json_money(out, l->back.money, o->minor_unit);
        int64_t certs = 0;
        for (size_t k = 0; k < l->n_certs; k++)
            certs += l->back.certs[k];
        kr_buf_puts(out, ",\"points_money\":");
        kr_buf_json_money(out, l->back.points_money, o->minor_unit);
        kr_buf_puts(out, ",\"certificate_money\":");
        kr_buf_json_money(out, certs, o->minor_unit);
        kr_buf_puts(out, ",\"paid_money\":");
        kr_buf_json_money(out, l->back.paid_money, o->minor_unit);
        kr_buf_printf(out, ",\"points_reversed\":%lld,\"points_given_back\":%lld}",
                      (long long)l->back.earned, (long long)l->back.spent);
    }
    kr_buf_puts(out, "]");
}

// Undoes `units` units of each line of a confirmed receipt under operation `op`.
static kr_ops_status undo_lines(kr_ops *o, const kr_ledger_receipt *rec, json_t *answer,
                                const char *op, int64_t at, stored_line *lines, size_t n,
                                json_t *takes, bool cancel, kr_buf *out)
{
    // What this operation takes back of each line, and of the receipt before and now.
    int64_t earned = 0, spent = 0, spent_before = 0, paid = 0, back_before = 0, total_paid = 0;
    bool whole = true; // every unit of every line is back after this operation
    for (size_t i = 0; i < n; i++) {
        stored_line *l = &lines[i];
        line_share a, b;
        share_of(l, l->before, &a);
        share_of(l, l->before + l->units, &b);
        share_minus(&b, &a, &l->back);
        total_paid += l->final;
        back_before += a.money;
        spent_before += a.spent;
        whole = whole && l->before + l->units == l->qty;
        if (!l->units)
            continue;
        earned += l->back.earned;
        spent += l->back.spent;
        paid += l->back.money;
        kr_ledger_line_part part_in = {.receipt_id = rec->id,
                                       .line_id = l->id,
                                       .op_id = op,
                                       .qty = l->units,
                                       .original = l->back.original,
                                       .final = l->back.money,
                                       .at = at};
        kr_ledger_status ls = kr_ledger_line_part_put(o->db, &part_in);
        if (ls == KR_LEDGER_OK && l->before + l->units == l->qty)
            ls = kr_ledger_receipt_line_return(o->db, rec->id, l->id, op, at);
        if (ls == KR_LEDGER_CONFLICT)
            return kr__ops_fail(o, out, KR_OPS_CONFLICT, "lines",
                                "line %s of %s was already returned", l->id, rec->id);
        if (ls != KR_LEDGER_OK && ls != KR_LEDGER_EXISTS)
            return kr__ops_ledger_error(o, out, ls, "lines");
    }
    // Certificates first: a used certificate among the returned goods refuses the whole return.
    char **voids = NULL;
    size_t n_voids = 0, n_backs = 0;
    kr__ops_cert_back *backs = NULL;
    kr_buf certs;
    kr_buf_init(&certs, 0);
    kr_ops_status cst = certs_of_return(o, rec, lines, n, &voids, &n_voids, &backs, &n_backs, out);
    if (cst == KR_OPS_OK)
        cst = kr__ops_certs_undo(o, rec->id, answer, voids, n_voids, backs, n_backs,
                                 cancel || whole, op, at, &certs, out);
    kr_ledger_strings_free(voids, n_voids);
    free(backs);
    if (cst != KR_OPS_OK) {
        kr_buf_free(&certs);
        return cst;
    }
    int64_t customer = rec->customer_id;
    kr_ledger_reverse_result rev = {0};
    kr_ledger_return_result back = {0};
    kr_ledger_status ls = KR_LEDGER_OK;
    if (customer) {
        ls = kr_ledger_customer_survivor(o->db, customer, &customer);
        if (ls == KR_LEDGER_OK && earned > 0)
            ls = kr_ledger_reverse_accrual(o->db, customer, rec->id, earned, at, op, &rev);
        if (ls == KR_LEDGER_NOT_FOUND)
            ls = KR_LEDGER_OK; // nothing was credited (e.g. the points were 0)
    }
    if (ls == KR_LEDGER_OK && spent > 0 && json_is_array(takes)) {
        // Give back from the receipt's spends in their order, past what earlier returns gave:
        // the points spent on the units returned before, every line together.
        size_t nt = json_array_size(takes), k = 0;
        kr_ledger_take *give = calloc(nt ? nt : 1, sizeof *give);
        if (!give) {
            kr_buf_free(&certs);
            return kr__ops_fail(o, out, KR_OPS_FAILED, NULL, "out of memory");
        }
        int64_t skip = spent_before, want = spent;
        for (size_t i = 0; i < nt && want > 0; i++) {
            json_t *t = json_array_get(takes, i);
            int64_t lot = json_integer_value(json_array_get(t, 0));
            int64_t amount = json_integer_value(json_array_get(t, 1));
            int64_t used = skip < amount ? skip : amount;
            skip -= used;
            amount -= used;
            int64_t g = amount < want ? amount : want;
            if (g > 0) {
                give[k].lot_id = lot;
                give[k].amount = g;
                k++;
                want -= g;
            }
        }
        ls = k ? kr_ledger_return(o->db, give, k, at, op, KR_LEDGER_EXPIRED_DROP, 0, &back)
               : KR_LEDGER_OK;
        free(give);
    }
    // The referrer's share of the returned money goes back too: in proportion to the money
    // back so far, rounded down, so that returns in pieces take back what one return would.
    json_t *rewards = json_object_get(answer, "rewards");
    for (size_t i = 0; ls == KR_LEDGER_OK && i < json_array_size(rewards) && total_paid > 0;
         i++) {
        json_t *rw = json_array_get(rewards, i);
        const char *kind = json_string_value(json_object_get(rw, "kind"));
        if (!kind || strcmp(kind, "referral") != 0)
            continue;
        int64_t who = json_integer_value(json_object_get(rw, "customer"));
        int64_t pts = json_integer_value(json_object_get(rw, "points"));
        int64_t back_pts =
            part(pts, back_before + paid, total_paid) - part(pts, back_before, total_paid);
        kr_ledger_reverse_result rr;
        if (back_pts > 0) {
            ls = kr_ledger_customer_survivor(o->db, who, &who);
            if (ls == KR_LEDGER_OK)
                ls = kr_ledger_reverse_accrual(o->db, who, rec->id, back_pts, at, op, &rr);
            if (ls == KR_LEDGER_INVALID || ls == KR_LEDGER_NOT_FOUND)
                ls = KR_LEDGER_OK; // nothing (more) to take back for this referrer
        }
    }
    // A receipt that comes back whole, or falls below a challenge's amount, no longer counts
    // for it, and a challenge bonus it completed is taken back (kr-ops-triggers.c).
    int64_t paid_before = total_paid - back_before;
    if (ls == KR_LEDGER_OK && customer)
        ls = kr__ops_challenge_return(o, customer, rec->id, rec->created_at, answer, total_paid,
                                      paid_before, paid_before - paid, whole, op, at);
    if (ls == KR_LEDGER_OK && customer) {
        int64_t day = kr__ops_local_day(o, rec->created_at);
        ls = add_counters(o, customer, day, -paid, cancel ? -1 : 0, -earned);
        if (ls == KR_LEDGER_OK)
            ls = undo_left_out(o, customer, day, answer, lines, n, cancel);
    }
    // Paid club days the returning units added come off the membership (kr-ops-club.c).
    kr_buf club;
    kr_buf_init(&club, 0);
    kr__ops_line_back *lb = calloc(n ? n : 1, sizeof *lb);
    size_t n_lb = 0;
    for (size_t i = 0; lb && i < n; i++)
        if (lines[i].units)
            lb[n_lb++] = (kr__ops_line_back){lines[i].id, lines[i].before,
                                             lines[i].before + lines[i].units, lines[i].qty};
    if (!lb)
        ls = KR_LEDGER_NOMEM;
    if (ls == KR_LEDGER_OK && customer)
        ls = kr__ops_club_return(o, customer, answer, lb, n_lb, at, &club);
    free(lb);
    if (ls == KR_LEDGER_OK)
        ls = kr_ledger_receipt_set_state(o->db, rec->id,
                                         cancel  ? KR_LEDGER_RECEIPT_CANCELLED
                                         : whole ? KR_LEDGER_RECEIPT_RETURNED
                                                 : KR_LEDGER_RECEIPT_PARTIALLY_RETURNED,
                                         at);
    if (ls != KR_LEDGER_OK) {
        kr_buf_free(&club);
        kr_buf_free(&certs);
        return kr__ops_ledger_error(o, out, ls, NULL);
    }
    kr_buf_reset(out);
    kr_buf_puts(out, "{\"operation\":");
    kr_buf_json_string(out, op);
    kr_buf_puts(out, ",\"receipt\":");
    kr_buf_json_string(out, rec->id);
    kr_buf_puts(out, ",\"lines\":[");
    bool first = true;
    for (size_t i = 0; i < n; i++)
        if (lines[i].units) {
            kr_buf_puts(out, first ? "" : ",");
            kr_buf_json_string(out, lines[i].id);
            first = false;
        }
    kr_buf_puts(out, "]");
    write_returned_lines(o, lines, n, out);
    kr_buf_printf(out,
                  ",\"points_reversed\":%lld,\"points_reversed_debt\":%lld,"
                  "\"points_returned\":%lld,\"points_returned_dropped\":%lld,\"money\":",
                  (long long)earned, (long long)rev.debt, (long long)(back.restored + back.renewed),
                  (long long)back.dropped);
    kr_buf_json_money(out, paid, o->minor_unit);
    if (club.data)
        kr_buf_puts(out, club.data);
    kr_buf_free(&club);
    if (certs.data)
        kr_buf_puts(out, certs.data);
    kr_buf_free(&certs);
    if (customer) {
        kr_ledger_balance b;
        ls = kr_ledger_balance_get(o->db, customer, at, &b);
        if (ls != KR_LEDGER_OK)
            return kr__ops_ledger_error(o, out, ls, NULL);
        kr_buf_printf(out, ",\"balance_after\":%lld", (long long)b.spendable);
        kr_ledger_balance_free(&b);
    }
    kr_buf_puts(out, "}");
    return out->failed ? KR_OPS_FAILED : KR_OPS_OK;
}

// Loads a confirmed receipt and its stored answer for a return or a cancel, with the units of
// each line returned so far.
static kr_ops_status load_confirmed(kr_ops *o, const char *id, kr_ledger_receipt **rec,
                                    json_t **answer, stored_line **lines, size_t *n,
                                    json_t **takes, kr_buf *out)
{
    kr_ledger_status ls = kr_ledger_receipt_get(o->db, id, rec);
    if (ls == KR_LEDGER_NOT_FOUND)
        return kr__ops_fail(o, out, KR_OPS_NOT_FOUND, "receipt", "no confirmed receipt %s", id);
    if (ls != KR_LEDGER_OK)
        return kr__ops_ledger_error(o, out, ls, "receipt");
    if ((*rec)->state == KR_LEDGER_RECEIPT_CANCELLED)
        return kr__ops_fail(o, out, KR_OPS_REFUSED, "receipt", "receipt %s was cancelled", id);
    *answer = json_loads((*rec)->result, 0, NULL);
    if (!*answer || !read_stored(*answer, o->minor_unit, lines, n, takes))
        return kr__ops_fail(o, out, KR_OPS_FAILED, "receipt",
                            "the stored answer of receipt %s cannot be read", id);
    for (size_t i = 0; i < *n; i++) {
        stored_line *l = &(*lines)[i];
        ls = kr_ledger_line_units_back(o->db, id, l->id, &l->before);
        if (ls != KR_LEDGER_OK)
            return kr__ops_ledger_error(o, out, ls, "receipt");
        if (l->before > l->qty)
            return kr__ops_fail(o, out, KR_OPS_FAILED, "receipt",
                                "line %s of %s: %lld of its %lld units are recorded as returned",
                                l->id, id, (long long)l->before, (long long)l->qty);
    }
    return KR_OPS_OK;
}

// Records a return's answer under "return:<id>" (its idempotency record).
static kr_ops_status store_operation(kr_ops *o, const char *key, const char *hash,
                                     int64_t customer, int64_t at, kr_buf *out)
{
    kr_ledger_status ls = kr__ops_remember(o, key, hash, customer, out->data, at);
    if (ls != KR_LEDGER_OK)
        return kr__ops_ledger_error(o, out, ls, "id");
    return KR_OPS_OK;
}

kr_ops_status kr_ops_return(kr_ops *o, const char *json, size_t len, kr_buf *out)
{
    kr_return ret;
    kr_input_error err;
    kr_input_status is = kr_return_parse(json, len, o->line, &ret, &err);
    if (is == KR_INPUT_NOMEM)
        return kr__ops_fail(o, out, KR_OPS_FAILED, NULL, "out of memory");
    if (is != KR_INPUT_OK)
        return kr__ops_input_error(o, out, &err);
    char hash[65], key[KR_LEDGER_ID_MAX];
    kr__ops_body_hash(ret.root, hash);
    snprintf(key, sizeof key, "return:%s", ret.id);
    kr_ledger_status ls = kr_ledger_begin(o->db);
    if (ls != KR_LEDGER_OK) {
        kr_return_free(&ret);
        return kr__ops_ledger_error(o, out, ls, NULL);
    }
    kr_ledger_receipt *rec = NULL;
    json_t *answer = NULL, *takes = NULL;
    stored_line *lines = NULL;
    size_t n = 0;
    kr_ops_status st = kr__ops_replay(o, key, hash, out);
    if (st == KR_OPS_OK)
        st = load_confirmed(o, ret.receipt, &rec, &answer, &lines, &n, &takes, out);
    for (size_t i = 0; st == KR_OPS_OK && i < ret.n_lines; i++) {
        const kr_return_line *rl = &ret.lines[i];
        char field[64];
        size_t k = 0;
        while (k < n && strcmp(lines[k].id, rl->id) != 0)
            k++;
        stored_line *l = k < n ? &lines[k] : NULL;
        int64_t left = l ? l->qty - l->before : 0;
        if (!l) {
            snprintf(field, sizeof field, "lines[%zu].id", i);
            st = kr__ops_fail(o, out, KR_OPS_NOT_FOUND, field, "receipt %s has no line %s",
                              ret.receipt, rl->id);
        } else if (left == 0) {
            snprintf(field, sizeof field, "lines[%zu].id", i);
            st = kr__ops_fail(o, out, KR_OPS_CONFLICT, field, "line %s of %s was already returned",
                              rl->id, ret.receipt);
        } else if (rl->qty > l->qty) {
            snprintf(field, sizeof field, "lines[%zu].qty", i);
            st = kr__ops_fail(o, out, KR_OPS_INVALID, field,
                              "line %s of %s has %lld unit%s; %lld cannot come back", rl->id,
                              ret.receipt, (long long)l->qty, l->qty == 1 ? "" : "s",
                              (long long)rl->qty);
        } else if (rl->qty > left) {
            snprintf(field, sizeof field, "lines[%zu].qty", i);
            st = kr__ops_fail(o, out, KR_OPS_CONFLICT, field,
                              "%lld of the %lld units of line %s of %s came back before: %lld "
                              "%s left to return, not %lld",
                              (long long)l->before, (long long)l->qty, rl->id, ret.receipt,
                              (long long)left, left == 1 ? "is" : "are", (long long)rl->qty);
        } else {
            l->units = rl->qty ? rl->qty : left;
            l->named = rl->certificates;
            l->ret_index = (int)i;
        }
    }
    if (st == KR_OPS_OK)
        st = undo_lines(o, rec, answer, key, ret.time, lines, n, takes, false, out);
    if (st == KR_OPS_OK)
        st = store_operation(o, key, hash, rec->customer_id, ret.time, out);
    st = in_transaction(o, out, st);
    free(lines);
    json_decref(answer);
    kr_ledger_receipt_free(rec);
    kr_return_free(&ret);
    return st;
}

kr_ops_status kr_ops_cancel(kr_ops *o, const char *receipt_id, int64_t at, kr_buf *out)
{
    char key[KR_LEDGER_ID_MAX], hash[65];
    snprintf(key, sizeof key, "cancel:%s", receipt_id);
    kr_ledger_sha256_hex(key, strlen(key), hash);
    kr_ledger_status ls = kr_ledger_begin(o->db);
    if (ls != KR_LEDGER_OK)
        return kr__ops_ledger_error(o, out, ls, NULL);
    kr_ledger_receipt *rec = NULL;
    json_t *answer = NULL, *takes = NULL;
    stored_line *lines = NULL;
    size_t n = 0;
    kr_ops_status st = kr__ops_replay(o, key, hash, out);
    if (st == KR_OPS_OK)
        st = load_confirmed(o, receipt_id, &rec, &answer, &lines, &n, &takes, out);
    for (size_t i = 0; st == KR_OPS_OK && i < n; i++)
        lines[i].units = lines[i].qty - lines[i].before;
    if (st == KR_OPS_OK)
        st = undo_lines(o, rec, answer, key, at, lines, n, takes, true, out);
    if (st == KR_OPS_OK)
        st = store_operation(o, key, hash, rec->customer_id, at, out);
    st = in_transaction(o, out, st);
    free(lines);
    json_decref(answer);
    kr_ledger_receipt_free(rec);
    return st;
}
