// SPDX-License-Identifier: MIT
// kr-ops-triggers.c: triggers that fire on an operation rather than on a schedule —
// registration (welcome points), referral (the referrer earns a share of what the referred
// customer pays, for a number of days after the referred customer registered), challenges
// (N receipts within a window earn a bonus once per window) and custom ERP events.
//
// Referral: the referred customer's attribute "referrer" holds the referrer's ERP id. Points =
// percent of the money the referred customer paid (after discounts), converted at the
// program's point value and rounded by its points rounding, as a "referral" lot of the
// referrer under the receipt's id (so a return of the receipt can find them).
// Challenge: counted per customer with the counter "challenge:<trigger>" by local day (one per
// receipt of at least min-amount); the reward is given when the count in the window that
// contains the receipt's day reaches `receipts`, once per window (marker counter
// "job:challenge:<trigger>" under the window's first day; for rolling windows, no reward when
// one was given within the window).
#include "kr-ops-private.h"

#include "kr-engine-private.h"
#include "kr-ledger-query.h"
#include "kr-money.h"

#include <stdio.h>
#include <string.h>

bool kr__ops_filters_admit(char *const *want_segments, size_t n_want_segments,
                           char *const *want_tiers, size_t n_want_tiers,
                           const char *const *segments, size_t n_segments,
                           const char *const *tiers, size_t n_tiers)
{
    bool seg_ok = n_want_segments == 0, tier_ok = n_want_tiers == 0;
    for (size_t i = 0; !seg_ok && i < n_segments; i++)
        seg_ok = kr__ops_listed(want_segments, n_want_segments, segments[i]);
    for (size_t i = 0; !tier_ok && i < n_tiers; i++)
        tier_ok = kr__ops_listed(want_tiers, n_want_tiers, tiers[i]);
    return seg_ok && tier_ok;
}

bool kr__ops_trigger_admits(const kr_trigger *t, const char *const *segments, size_t n_segments,
                            const char *const *tiers, size_t n_tiers)
{
    return kr__ops_filters_admit(t->segments, t->n_segments, t->tiers, t->n_tiers, segments,
                                 n_segments, tiers, n_tiers);
}

static void reward_json(kr_buf *b, bool *first, const char *kind, const char *trigger,
                        int64_t customer, int64_t points)
{
    kr_buf_puts(b, *first ? ",\"rewards\":[{\"kind\":" : ",{\"kind\":");
    *first = false;
    kr_buf_json_string(b, kind);
    kr_buf_puts(b, ",\"trigger\":");
    kr_buf_json_string(b, trigger);
    kr_buf_printf(b, ",\"customer\":%lld,\"points\":%lld}", (long long)customer,
                  (long long)points);
}

static kr_ledger_status notify(kr_ops *o, const kr_trigger *t, int64_t customer, const char *key,
                               int64_t points, int64_t at)
{
    if (!t->n_channels)
        return KR_LEDGER_OK;
    kr_buf payload;
    kr_buf_init(&payload, 4096);
    kr_buf_puts(&payload, "{\"trigger\":");
    kr_buf_json_string(&payload, t->id);
    kr_buf_printf(&payload, ",\"points\":%lld,\"message\":", (long long)points);
    if (t->message) {
        // {points} is the one placeholder these triggers fill.
        kr_buf text;
        kr_buf_init(&text, 4096);
        for (const char *p = t->message; *p; p++) {
            if (strncmp(p, "{points}", 8) == 0) {
                kr_buf_printf(&text, "%lld", (long long)points);
                p += 7;
            } else {
                kr_buf_append(&text, p, 1);
            }
        }
        kr_buf_json_string(&payload, text.data ? text.data : "");
        kr_buf_free(&text);
    } else {
        kr_buf_puts(&payload, "null");
    }
    kr_buf_puts(&payload, "}");
    kr_ledger_outbox_in in = {
        .key = key,
        .customer_id = customer,
        .kind = t->kind == KR_TRIGGER_REGISTRATION ? "registration"
                : t->kind == KR_TRIGGER_EVENT      ? "event"
                                                   : "challenge",
        .channels = (const char *const *)t->channels,
        .n_channels = t->n_channels,
        .payload = payload.data,
        .due_at = at,
        .created_at = at,
    };
    kr_ledger_status ls = kr_ledger_outbox_enqueue(o->db, &in, NULL);
    kr_buf_free(&payload);
    return ls == KR_LEDGER_EXISTS ? KR_LEDGER_OK : ls;
}

static kr_ledger_status referral(kr_ops *o, const kr_trigger *t, int64_t customer,
                                 const kr_engine_customer *c, int64_t paid, int64_t at,
                                 const char *rid, kr_buf *answer, bool *first)
{
    const char *ref = NULL;
    for (size_t i = 0; i < c->n_attrs; i++)
        if (strcmp(c->attrs[i].key, "referrer") == 0)
            ref = c->attrs[i].value;
    if (!ref || paid <= 0 || !c->has_registered || at - c->registered > t->days * 86400)
        return KR_LEDGER_OK;
    int64_t referrer = 0;
    kr_ledger_status ls = kr_ledger_customer_by_external_id(o->db, ref, &referrer);
    if (ls == KR_LEDGER_NOT_FOUND)
        return KR_LEDGER_OK; // an unknown referrer earns nothing
    if (ls == KR_LEDGER_OK)
        ls = kr_ledger_customer_survivor(o->db, referrer, &referrer);
    if (ls != KR_LEDGER_OK || referrer == customer)
        return ls;
    kr_ledger_customer *rc = NULL;
    ls = kr_ledger_customer_get(o->db, referrer, &rc);
    if (ls != KR_LEDGER_OK)
        return ls;
    const char *segs[64];
    size_t n = 0;
    for (size_t i = 0; i < rc->n_segments && n < 64; i++)
        if (rc->segments[i].until == KR_LEDGER_NEVER || rc->segments[i].until > at)
            segs[n++] = rc->segments[i].segment;
    // The referrer must be in one of the trigger's segments (its tier filter is not applied:
    // the referrer's tiers are not read here).
    bool admitted = t->n_segments == 0;
    for (size_t i = 0; !admitted && i < n; i++)
        admitted = kr__ops_listed(t->segments, t->n_segments, segs[i]);
    kr_ledger_customer_free(rc);
    if (!admitted)
        return KR_LEDGER_OK;
    int64_t points = 0;
    if (kr_money_points(paid, t->percent, o->policy.point_value ? o->policy.point_value : 100,
                        o->engine->points_rounding, &points) != KR_MONEY_OK ||
        points <= 0)
        return KR_LEDGER_OK;
    ls = kr__ops_add_points(o, referrer, KR_SOURCE_REFERRAL, points, at, rid, NULL);
    if (ls == KR_LEDGER_OK)
        reward_json(answer, first, "referral", t->id, referrer, points);
    return ls;
}

static kr_ledger_status challenge(kr_ops *o, const kr_trigger *t, int64_t customer, int64_t paid,
                                  int64_t at, const char *rid, kr_buf *answer, bool *first,
                                  bool *counted)
{
    if (t->min_amount && paid < t->min_amount)
        return KR_LEDGER_OK;
    *counted = true;
    char metric[KR_LEDGER_ID_MAX], marker[KR_LEDGER_ID_MAX], day_key[11];
    snprintf(metric, sizeof metric, "challenge:%.100s", t->id);
    snprintf(marker, sizeof marker, "job:challenge:%.100s", t->id);
    int64_t day = kr__ops_local_day(o, at);
    kr__ops_day_key(day, day_key);
    kr_ledger_status ls = kr_ledger_counter_add(o->db, customer, metric, day_key, 1, NULL);
    if (ls != KR_LEDGER_OK)
        return ls;
    int64_t from, to, count = 0, given = 0;
    kr_window w = t->window == KR_WINDOW_NONE ? KR_WINDOW_CALENDAR_MONTH : t->window;
    kr_window_range(w, t->days, day, &from, &to);
    ls = kr__ops_counter_sum(o, customer, metric, from, to, &count);
    if (ls == KR_LEDGER_OK)
        ls = kr__ops_counter_sum(o, customer, marker, from, to, &given);
    if (ls != KR_LEDGER_OK || count < t->receipts || given > 0)
        return ls;
    ls = kr_ledger_counter_add(o->db, customer, marker, day_key, 1, NULL);
    if (ls == KR_LEDGER_OK)
        ls = kr__ops_add_points(o, customer, KR_SOURCE_CHALLENGE, t->points, at, rid, NULL);
    if (ls == KR_LEDGER_OK) {
        char key[KR_LEDGER_ID_MAX];
        snprintf(key, sizeof key, "challenge:%.60s:%lld:%s", t->id, (long long)customer,
                 day_key);
        ls = notify(o, t, customer, key, t->points, at);
    }
    if (ls == KR_LEDGER_OK)
        reward_json(answer, first, "challenge", t->id, customer, t->points);
    return ls;
}

kr_ledger_status kr__ops_receipt_triggers(kr_ops *o, int64_t customer,
                                          const kr_engine_customer *c, int64_t paid, int64_t at,
                                          const char *receipt_id, kr_buf *answer)
{
    bool first = true;
    kr_ledger_status ls = KR_LEDGER_OK;
    kr_buf counted_ids; // the challenges that counted the receipt, for returns
    kr_buf_init(&counted_ids, 0);
    for (size_t i = 0; ls == KR_LEDGER_OK && i < o->policy.n_triggers; i++) {
        const kr_trigger *t = &o->policy.triggers[i];
        bool counted = false;
        if (t->kind == KR_TRIGGER_REFERRAL)
            ls = referral(o, t, customer, c, paid, at, receipt_id, answer, &first);
        else if (t->kind == KR_TRIGGER_CHALLENGE &&
                 kr__ops_trigger_admits(t, c->segments, c->n_segments, c->tiers, c->n_tiers))
            ls = challenge(o, t, customer, paid, at, receipt_id, answer, &first, &counted);
        if (counted) {
            kr_buf_puts(&counted_ids, counted_ids.data ? "," : "");
            kr_buf_json_string(&counted_ids, t->id);
        }
    }
    if (!first)
        kr_buf_puts(answer, "]");
    bool any_challenge = false;
    for (size_t i = 0; i < o->policy.n_triggers; i++)
        any_challenge |= o->policy.triggers[i].kind == KR_TRIGGER_CHALLENGE;
    if (any_challenge)
        kr_buf_printf(answer, ",\"challenges_counted\":[%s]",
                      counted_ids.data ? counted_ids.data : "");
    kr_buf_free(&counted_ids);
    return ls;
}

static bool json_lists(const json_t *arr, const char *s)
{
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const char *v = json_string_value(json_array_get(arr, i));
        if (v && strcmp(v, s) == 0)
            return true;
    }
    return false;
}

kr_ledger_status kr__ops_challenge_return(kr_ops *o, int64_t customer, const char *receipt_id,
                                          int64_t receipt_at, const json_t *answer,
                                          int64_t paid_total, int64_t paid_before,
                                          int64_t paid_after, bool whole_after, const char *op,
                                          int64_t at)
{
    char day_key[11];
    kr__ops_day_key(kr__ops_local_day(o, receipt_at), day_key);
    const json_t *counted = json_object_get(answer, "challenges_counted");
    const json_t *rewards = json_object_get(answer, "rewards");
    kr_ledger_status ls = KR_LEDGER_OK;
    for (size_t i = 0; ls == KR_LEDGER_OK && i < o->policy.n_triggers; i++) {
        const kr_trigger *t = &o->policy.triggers[i];
        if (t->kind != KR_TRIGGER_CHALLENGE)
            continue;
        // Did the receipt count at its confirm? Answers stored before confirms said so
        // ("challenges_counted") are judged by the receipt's amount, as confirm did.
        bool did =
            counted ? json_lists(counted, t->id) : !t->min_amount || paid_total >= t->min_amount;
        // It counts until a return takes it whole, or brings it below the qualifying amount.
        bool was = did && (!t->min_amount || paid_before >= t->min_amount);
        bool still = !whole_after && (!t->min_amount || paid_after >= t->min_amount);
        if (!was || still)
            continue;
        char metric[KR_LEDGER_ID_MAX];
        snprintf(metric, sizeof metric, "challenge:%.100s", t->id);
        int64_t v = 0;
        ls = kr_ledger_counter_get(o->db, customer, metric, day_key, &v);
        if (ls == KR_LEDGER_OK && v > 0)
            ls = kr_ledger_counter_add(o->db, customer, metric, day_key, -1, NULL);
        // The bonus this receipt completed is taken back (and may be won again).
        for (size_t k = 0; ls == KR_LEDGER_OK && k < json_array_size(rewards); k++) {
            const json_t *rw = json_array_get(rewards, k);
            const char *kind = json_string_value(json_object_get(rw, "kind"));
            const char *trig = json_string_value(json_object_get(rw, "trigger"));
            int64_t pts = json_integer_value(json_object_get(rw, "points"));
            if (!kind || !trig || strcmp(kind, "challenge") != 0 || strcmp(trig, t->id) != 0 ||
                pts <= 0)
                continue;
            kr_ledger_reverse_result rr;
            ls = kr_ledger_reverse_accrual_source(
                o->db, customer, receipt_id, kr_source_name(KR_SOURCE_CHALLENGE), pts, at, op, &rr);
            if (ls == KR_LEDGER_INVALID || ls == KR_LEDGER_NOT_FOUND)
                ls = KR_LEDGER_OK; // already taken back
            char marker[KR_LEDGER_ID_MAX];
            snprintf(marker, sizeof marker, "job:challenge:%.100s", t->id);
            if (ls == KR_LEDGER_OK)
                ls = kr_ledger_counter_get(o->db, customer, marker, day_key, &v);
            if (ls == KR_LEDGER_OK && v > 0)
                ls = kr_ledger_counter_add(o->db, customer, marker, day_key, -1, NULL);
        }
    }
    return ls;
}

kr_ledger_status kr__ops_registration_triggers(kr_ops *o, int64_t customer,
                                               const char *const *segments, size_t n_segments,
                                               int64_t at)
{
    kr_ledger_status ls = KR_LEDGER_OK;
    for (size_t i = 0; ls == KR_LEDGER_OK && i < o->policy.n_triggers; i++) {
        const kr_trigger *t = &o->policy.triggers[i];
        if (t->kind != KR_TRIGGER_REGISTRATION ||
            !kr__ops_trigger_admits(t, segments, n_segments, NULL, 0))
            continue;
        char op[KR_LEDGER_ID_MAX];
        snprintf(op, sizeof op, "registration:%.60s:%lld", t->id, (long long)customer);
        ls = kr__ops_add_points(o, customer, KR_SOURCE_REGISTRATION, t->points, at, op, NULL);
        if (ls == KR_LEDGER_OK)
            ls = notify(o, t, customer, op, t->points, at);
    }
    return ls;
}

kr_ops_status kr_ops_event(kr_ops *o, const char *json, size_t len, kr_buf *out)
{
    static const char *const keys[] = {"id", "event", "time", "customer", NULL};
    kr_input_error err = {0};
    json_t *root = kr_json_parse(json, len, o->line, &err);
    if (!root)
        return kr__ops_input_error(o, out, &err);
    kr_json_obj obj = {.obj = root, .err = &err};
    const char *id = NULL, *event = NULL;
    int64_t at = 0;
    kr_customer_ref ref;
    if (!kr_json_expect_object(&obj, keys) || !kr_json_string(&obj, "id", true, &id) ||
        !kr_json_string(&obj, "event", true, &event) || !kr_json_time(&obj, "time", true, &at) ||
        !kr__ops_read_ref(&obj, "customer", &ref)) {
        json_decref(root);
        return kr__ops_input_error(o, out, &err);
    }
    char key[KR_LEDGER_ID_MAX], hash[65];
    snprintf(key, sizeof key, "event:%.100s", id);
    kr__ops_body_hash(root, hash);
    kr_ledger_status ls = kr_ledger_begin(o->db);
    if (ls != KR_LEDGER_OK) {
        json_decref(root);
        return kr__ops_ledger_error(o, out, ls, NULL);
    }
    kr_ops_status st = kr__ops_replay(o, key, hash, out);
    if (st != KR_OPS_OK) {
        kr_ledger_rollback(o->db);
        json_decref(root);
        return st;
    }
    int64_t customer = 0;
    st = kr__ops_resolve(o, &ref, at, true, &customer, out);
    kr_ledger_customer *c = NULL;
    if (st == KR_OPS_OK && !customer)
        st = kr__ops_fail(o, out, KR_OPS_NOT_FOUND, "customer", "the card has no customer yet");
    if (st == KR_OPS_OK && (ls = kr_ledger_customer_get(o->db, customer, &c)) != KR_LEDGER_OK)
        st = kr__ops_ledger_error(o, out, ls, "customer");
    kr_buf answer;
    kr_buf_init(&answer, 0);
    if (st == KR_OPS_OK) {
        const char *segs[64];
        size_t n = 0;
        for (size_t i = 0; i < c->n_segments && n < 64; i++)
            if (c->segments[i].until == KR_LEDGER_NEVER || c->segments[i].until > at)
                segs[n++] = c->segments[i].segment;
        kr_buf_puts(&answer, "{\"event\":");
        kr_buf_json_string(&answer, event);
        kr_buf_printf(&answer, ",\"customer\":%lld", (long long)customer);
        bool first = true;
        ls = KR_LEDGER_OK;
        for (size_t i = 0; ls == KR_LEDGER_OK && i < o->policy.n_triggers; i++) {
            const kr_trigger *t = &o->policy.triggers[i];
            if (t->kind != KR_TRIGGER_EVENT || !t->event || strcmp(t->event, event) != 0 ||
                !kr__ops_trigger_admits(t, segs, n, NULL, 0))
                continue;
            ls = kr__ops_add_points(o, customer, KR_SOURCE_EVENT, t->points, at, key, NULL);
            if (ls == KR_LEDGER_OK)
                ls = notify(o, t, customer, key, t->points, at);
            if (ls == KR_LEDGER_OK)
                reward_json(&answer, &first, "event", t->id, customer, t->points);
        }
        if (!first)
            kr_buf_puts(&answer, "]");
        // Chains the event starts (kr-ops-chains.c): their steps come with the jobs.
        kr_buf entered;
        kr_buf_init(&entered, 0);
        if (ls == KR_LEDGER_OK)
            ls = kr__ops_chains_event(o, customer, event, segs, n, at, &entered);
        if (entered.len)
            kr_buf_printf(&answer, ",\"chains_entered\":[%s]", entered.data);
        kr_buf_free(&entered);
        kr_buf_puts(&answer, "}");
        if (ls == KR_LEDGER_OK)
            ls = kr__ops_remember(o, key, hash, customer, answer.data, at);
        if (ls != KR_LEDGER_OK)
            st = kr__ops_ledger_error(o, out, ls, NULL);
    }
    if (st == KR_OPS_OK && (ls = kr_ledger_commit(o->db)) != KR_LEDGER_OK)
        st = kr__ops_ledger_error(o, out, ls, NULL);
    if (st != KR_OPS_OK) {
        kr_ledger_rollback(o->db);
    } else {
        kr_buf_reset(out);
        kr_buf_puts(out, answer.data);
    }
    kr_buf_free(&answer);
    kr_ledger_customer_free(c);
    json_decref(root);
    return st;
}
