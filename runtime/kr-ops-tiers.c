// SPDX-License-Identifier: MIT
// kr-ops-tiers.c: what tier ladders need beyond the counters — the lines a ladder's <exclude>
// leaves out of its metric (counted apart, so that a return takes back exactly what was
// counted) and an operator's floor (kr_ops_tier_floor). docs/internals/ops.md, "Tiers".
#include "kr-ops-private.h"

#include "kr-ledger-query.h"

#include <stdlib.h>
#include <string.h>

// The line's value of attribute `name`, or NULL.
static const char *line_attr(const kr_engine_line *l, const char *name)
{
    for (size_t i = 0; name && i < l->n_attrs; i++)
        if (strcmp(l->attrs[i].key, name) == 0)
            return l->attrs[i].value;
    return NULL;
}

static bool left_out(const kr_ladder *l, const kr_engine_line *line)
{
    for (size_t k = 0; k < l->n_exclude; k++) {
        const kr_selector *x = &l->exclude[k];
        if (kr_selector_match(x, line->sku, line->category, line->brand,
                              line_attr(line, x->attr_name)))
            return true;
    }
    return false;
}

kr_ledger_status kr__ops_left_out_add(kr_ops *o, int64_t customer, const char *ladder_id,
                                      int64_t day, int64_t paid, int64_t receipts)
{
    char key[11];
    kr__ops_day_key(day, key);
    const struct {
        const char *metric;
        int64_t delta;
    } rows[] = {{"paid", paid}, {"receipts", receipts}};
    for (size_t i = 0; i < 2; i++) {
        if (!rows[i].delta)
            continue;
        char metric[KR_LEDGER_ID_MAX];
        kr__ops_left_out_metric(rows[i].metric, ladder_id, metric);
        kr_ledger_status ls =
            kr_ledger_counter_add(o->db, customer, metric, key, rows[i].delta, NULL);
        if (ls == KR_LEDGER_OK)
            ls = kr_ledger_counter_add(o->db, customer, metric, "all", rows[i].delta, NULL);
        if (ls != KR_LEDGER_OK)
            return ls;
    }
    return KR_LEDGER_OK;
}

kr_ledger_status kr__ops_left_out(kr_ops *o, const kr_receipt *r, const kr_engine_result *res,
                                  int64_t customer, int64_t day, kr_buf *json)
{
    bool any = false;
    for (size_t i = 0; i < o->policy.n_ladders; i++) {
        const kr_ladder *l = &o->policy.ladders[i];
        if (!l->n_exclude)
            continue;
        int64_t paid = 0;
        size_t n = 0;
        for (size_t k = 0; k < r->rc.n_lines; k++) {
            if (!left_out(l, &r->lines[k]))
                continue;
            kr_buf_puts(json, !any ? ",\"not_counted\":[" : n ? "," : "},");
            if (!n) {
                kr_buf_puts(json, "{\"ladder\":");
                kr_buf_json_string(json, l->id);
                kr_buf_puts(json, ",\"lines\":[");
            }
            kr_buf_json_string(json, r->lines[k].id);
            any = true;
            n++;
            paid += k < res->n_lines ? res->lines[k].final : 0;
        }
        if (n)
            kr_buf_puts(json, "]");
        if (n && customer) {
            kr_ledger_status ls =
                kr__ops_left_out_add(o, customer, l->id, day, paid, n == r->rc.n_lines ? 1 : 0);
            if (ls != KR_LEDGER_OK)
                return ls;
        }
    }
    if (any)
        kr_buf_puts(json, "}]");
    return json->failed ? KR_LEDGER_NOMEM : KR_LEDGER_OK;
}

// ---- an operator's floor ---------------------------------------------------------------------

static int tier_index(const kr_ladder *l, const char *id)
{
    for (size_t k = 0; k < l->n_tiers; k++)
        if (strcmp(l->tiers[k].id, id) == 0)
            return (int)k;
    return -1;
}

// True when the customer is in one of the ladder's segments at `at` (or the ladder has none).
static kr_ledger_status on_ladder(kr_ops *o, int64_t customer, const kr_ladder *l, int64_t at,
                                  bool *on)
{
    *on = l->n_segments == 0;
    if (*on)
        return KR_LEDGER_OK;
    kr_ledger_customer *c = NULL;
    kr_ledger_status ls = kr_ledger_customer_get(o->db, customer, &c);
    if (ls != KR_LEDGER_OK)
        return ls;
    size_t live = 0;
    for (size_t k = 0; k < c->n_segments; k++) {
        if (c->segments[k].until != KR_LEDGER_NEVER && c->segments[k].until <= at)
            continue;
        live++;
        for (size_t m = 0; m < l->n_segments; m++)
            if (strcmp(c->segments[k].segment, l->segments[m]) == 0)
                *on = true;
    }
    // A customer without a running membership is in the program's default segment.
    for (size_t i = 0; !live && i < o->policy.n_segments; i++)
        for (size_t m = 0; o->policy.segments[i].is_default && m < l->n_segments; m++)
            if (strcmp(o->policy.segments[i].id, l->segments[m]) == 0)
                *on = true;
    kr_ledger_customer_free(c);
    return KR_LEDGER_OK;
}

// The customer's effective tier index on the ladder at `at`: the latest row (a floor that has
// run out no longer counts), else what the counters give.
static kr_ledger_status effective_tier(kr_ops *o, int64_t customer, const kr_ladder *l,
                                       int64_t at, int *tier)
{
    kr_ledger_tier cur;
    kr_ledger_status ls = kr_ledger_tier_current(o->db, customer, l->id, at, &cur);
    if (ls == KR_LEDGER_OK && !(cur.reason == KR_LEDGER_TIER_MANUAL && cur.floor_until <= at)) {
        *tier = tier_index(l, cur.tier_id);
        return KR_LEDGER_OK;
    }
    if (ls != KR_LEDGER_OK && ls != KR_LEDGER_NOT_FOUND)
        return ls;
    return kr__ops_ladder_earned(o, customer, l, kr__ops_local_day(o, at), tier);
}

kr_ops_status kr_ops_tier_floor(kr_ops *o, const char *json, size_t len, kr_buf *out)
{
    static const char *const keys[] = {"id", "time", "customer", "ladder", "tier", "until", NULL};
    kr_input_error err = {0};
    json_t *root = kr_json_parse(json, len, o->line, &err);
    if (!root)
        return kr__ops_input_error(o, out, &err);
    kr_json_obj obj = {.obj = root, .err = &err};
    const char *id = NULL, *ladder = NULL, *tier = NULL;
    int64_t at = 0, until_day = -1;
    kr_customer_ref ref;
    if (!kr_json_expect_object(&obj, keys) || !kr_json_string(&obj, "id", true, &id) ||
        !kr_json_time(&obj, "time", true, &at) ||
        !kr_json_string(&obj, "ladder", true, &ladder) ||
        !kr_json_string(&obj, "tier", true, &tier) ||
        !kr_json_date(&obj, "until", false, &until_day) ||
        !kr__ops_read_ref(&obj, "customer", &ref)) {
        json_decref(root);
        return kr__ops_input_error(o, out, &err);
    }
    if (!json_object_get(root, "until"))
        until_day = -1;
    const kr_ladder *l = kr_policy_ladder(&o->policy, ladder);
    int ti = l ? tier_index(l, tier) : -1;
    kr_ops_status st = KR_OPS_OK;
    if (!l)
        st = kr__ops_fail(o, out, KR_OPS_NOT_FOUND, "ladder", "the program has no ladder \"%s\"",
                          ladder);
    else if (ti < 0)
        st = kr__ops_fail(o, out, KR_OPS_NOT_FOUND, "tier", "ladder %s has no tier \"%s\"",
                          ladder, tier);
    else if (!l->manual_floor)
        st = kr__ops_fail(o, out, KR_OPS_REFUSED, "ladder",
                          "ladder %s must be earned: the program says manual-floor=\"false\"",
                          ladder);
    // The floor holds through `until` (its last day): it ends when the next day begins.
    int64_t floor_until = until_day >= 0 ? kr__ops_day_start(o, until_day + 1) : KR_LEDGER_NEVER;
    if (st == KR_OPS_OK && floor_until <= at)
        st = kr__ops_fail(o, out, KR_OPS_INVALID, "until",
                          "the floor would end before it starts: `until` is the last day it holds");
    if (st != KR_OPS_OK) {
        json_decref(root);
        return st;
    }
    char key[KR_LEDGER_ID_MAX], hash[65];
    snprintf(key, sizeof key, "tier-floor:%.100s", id);
    kr__ops_body_hash(root, hash);
    kr_ledger_status ls = kr_ledger_begin(o->db);
    if (ls != KR_LEDGER_OK) {
        json_decref(root);
        return kr__ops_ledger_error(o, out, ls, NULL);
    }
    st = kr__ops_replay(o, key, hash, out);
    int64_t customer = 0;
    if (st == KR_OPS_OK)
        st = kr__ops_resolve(o, &ref, at, true, &customer, out);
    if (st == KR_OPS_OK && !customer)
        st = kr__ops_fail(o, out, KR_OPS_NOT_FOUND, "customer", "the card has no customer yet");
    bool on = false;
    int before = -1;
    if (st == KR_OPS_OK) {
        ls = on_ladder(o, customer, l, at, &on);
        if (ls == KR_LEDGER_OK)
            ls = effective_tier(o, customer, l, at, &before);
        if (ls != KR_LEDGER_OK)
            st = kr__ops_ledger_error(o, out, ls, "customer");
        else if (!on)
            st = kr__ops_fail(o, out, KR_OPS_REFUSED, "customer",
                              "the customer is not in a segment that climbs ladder %s", ladder);
    }
    if (st == KR_OPS_OK) {
        // The floor row; a customer already above it keeps the tier he has (a second, computed
        // row after the floor, at the same instant), so the floor only ever lifts.
        kr_ledger_tier t = {.from_at = at, .reason = KR_LEDGER_TIER_MANUAL,
                            .floor_until = floor_until};
        snprintf(t.ladder_id, sizeof t.ladder_id, "%s", l->id);
        snprintf(t.tier_id, sizeof t.tier_id, "%s", l->tiers[ti].id);
        ls = kr_ledger_tier_set(o->db, customer, &t);
        int now = before > ti ? before : ti;
        if (ls == KR_LEDGER_OK && before > ti) {
            kr_ledger_tier keep = {.from_at = at, .reason = KR_LEDGER_TIER_COMPUTED,
                                   .floor_until = KR_LEDGER_NEVER};
            snprintf(keep.ladder_id, sizeof keep.ladder_id, "%s", l->id);
            snprintf(keep.tier_id, sizeof keep.tier_id, "%s", l->tiers[before].id);
            ls = kr_ledger_tier_set(o->db, customer, &keep);
        }
        kr_buf_reset(out);
        kr_buf_puts(out, "{\"floor\":");
        kr_buf_json_string(out, id);
        kr_buf_printf(out, ",\"customer\":%lld,\"ladder\":", (long long)customer);
        kr_buf_json_string(out, l->id);
        kr_buf_puts(out, ",\"tier\":");
        kr_buf_json_string(out, l->tiers[ti].id);
        kr_buf_puts(out, ",\"until\":");
        if (until_day >= 0) {
            char day[11];
            kr__ops_day_key(until_day, day);
            kr_buf_printf(out, "\"%s\"", day);
        } else {
            kr_buf_puts(out, "null");
        }
        kr_buf_puts(out, ",\"tier_before\":");
        if (before >= 0)
            kr_buf_json_string(out, l->tiers[before].id);
        else
            kr_buf_puts(out, "null");
        kr_buf_puts(out, ",\"tier_now\":");
        kr_buf_json_string(out, l->tiers[now].id);
        kr_buf_puts(out, "}");
        if (ls == KR_LEDGER_OK && out->failed)
            ls = KR_LEDGER_NOMEM;
        if (ls == KR_LEDGER_OK) {
            kr_ledger_receipt_in rec = {.id = key, .body_hash = hash, .customer_id = customer,
                                        .result = out->data, .at = at};
            ls = kr_ledger_receipt_put(o->db, &rec, NULL);
        }
        if (ls == KR_LEDGER_OK)
            ls = kr_ledger_commit(o->db);
        if (ls != KR_LEDGER_OK)
            st = kr__ops_ledger_error(o, out, ls, NULL);
    }
    if (st != KR_OPS_OK)
        kr_ledger_rollback(o->db);
    json_decref(root);
    return st;
}
