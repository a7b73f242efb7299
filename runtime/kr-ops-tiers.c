// SPDX-License-Identifier: MIT
// kr-ops-tiers.c: what tier ladders need beyond the counters — the lines a ladder's <exclude>
// leaves out of its metric (counted apart, so that a return takes back exactly what was
// counted), an operator's floor (kr_ops_tier_floor), and a customer's view of a ladder with the
// way to the next tier, which the balance and the receipt answers share (with the receipt's
// own contribution and the ladder's customer message). docs/internals/ops.md, "Tiers".
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
        if (ls == KR_LEDGER_OK)
            ls = kr__ops_remember(o, key, hash, customer, out->data, at);
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

// ---- a customer's view of a ladder (balance and receipt answers) ------------------------------

kr_ledger_status kr__ops_tier_view_get(kr_ops *o, int64_t customer, const kr_ladder *l,
                                       int64_t at, const int64_t *add, kr__ops_tier_view *v)
{
    memset(v, 0, sizeof *v);
    v->tier = v->next = -1;
    v->period_ends = -1;
    int64_t day = kr__ops_local_day(o, at);
    v->last_period = kr_window_current_of(l->window) != KR_WINDOW_NONE;
    kr_ledger_status ls = kr__ops_ladder_value(o, customer, l, day, &v->value);
    if (ls == KR_LEDGER_OK && v->last_period)
        ls = kr__ops_ladder_progress(o, customer, l, day, &v->progress);
    if (ls != KR_LEDGER_OK)
        return ls;
    // The receipt counts in this period: in the metric of a current-period ladder, in the
    // progress of a previous-period one (whose value is a closed period).
    int64_t plus = add ? *add : 0;
    if (v->last_period) {
        v->progress += plus;
    } else {
        v->value += plus;
        v->progress = v->value;
    }
    // What the counters give (kr__ops_ladder_earned, with the receipt in).
    int earned = kr__ops_tier_for(l, v->value);
    if (v->last_period && l->upgrade_immediate && kr__ops_tier_for(l, v->progress) > earned)
        earned = kr__ops_tier_for(l, v->progress);
    kr_ledger_tier t;
    ls = kr_ledger_tier_current(o->db, customer, l->id, at, &t);
    if (ls == KR_LEDGER_OK && t.reason == KR_LEDGER_TIER_MANUAL && t.floor_until <= at)
        ls = KR_LEDGER_NOT_FOUND; // a floor that has run out: the counters decide
    if (ls == KR_LEDGER_OK) {
        v->tier = tier_index(l, t.tier_id);
        // Confirm's immediate upgrade (kr-ops-receipt.c, upgrade_tiers) only ever lifts.
        if (add && l->upgrade_immediate && earned > v->tier)
            v->tier = earned;
    } else if (ls == KR_LEDGER_NOT_FOUND) {
        v->tier = earned;
    } else {
        return ls;
    }
    // A status earned from the previous period's purchases: the way shown is this period's
    // (it decides the next status), measured from the tier this period's purchases reach.
    int from = v->last_period ? kr__ops_tier_for(l, v->progress) : v->tier;
    if ((size_t)(from + 1) < l->n_tiers) {
        v->next = from + 1;
        int64_t need = l->tiers[v->next].from - v->progress;
        v->left = need > 0 ? need : 0;
        int64_t ends = kr_window_next_start(l->window, day);
        v->period_ends = ends >= 0 ? ends - 1 : -1;
    }
    return KR_LEDGER_OK;
}

// A metric amount: money with the currency's decimals for `paid`, a count otherwise.
static void metric_json(kr_ops *o, const kr_ladder *l, int64_t v, kr_buf *out)
{
    if (l->metric == KR_METRIC_PAID)
        kr_buf_json_money(out, v, o->minor_unit);
    else
        kr_buf_printf(out, "%lld", (long long)v);
}

void kr__ops_tier_view_json(kr_ops *o, const kr_ladder *l, const kr__ops_tier_view *v,
                            kr_buf *out)
{
    kr_buf_puts(out, ",\"value\":");
    metric_json(o, l, v->value, out);
    if (v->last_period) { // this period's purchases, which decide the next period's status
        kr_buf_puts(out, ",\"progress\":");
        metric_json(o, l, v->progress, out);
    }
    if (v->next < 0)
        return;
    const kr_tier *next = &l->tiers[v->next];
    kr_buf_puts(out, ",\"next\":{\"tier\":");
    kr_buf_json_string(out, next->id);
    kr_buf_puts(out, ",\"name\":");
    kr_buf_json_string(out, next->name ? next->name : next->id);
    kr_buf_puts(out, ",\"left\":");
    metric_json(o, l, v->left, out);
    if (v->period_ends >= 0) {
        char key[11];
        kr__ops_day_key(v->period_ends, key);
        kr_buf_printf(out, ",\"period_ends\":\"%s\"", key);
    }
    kr_buf_puts(out, "}");
}

// What a receipt adds to ladder l's metric once confirmed (what confirm's counters get): its
// money, one receipt, or its points — less the lines the ladder's <exclude> leaves out
// (kr__ops_left_out: their money, and the receipt when every line is left out).
static int64_t receipt_adds(const kr_ladder *l, const kr_receipt *r, const kr_engine_result *res)
{
    if (l->metric == KR_METRIC_POINTS)
        return res->points_earned;
    int64_t paid = res->total_final;
    size_t n = 0;
    for (size_t k = 0; l->n_exclude && k < r->rc.n_lines; k++) {
        if (!left_out(l, &r->lines[k]))
            continue;
        n++;
        paid -= k < res->n_lines ? res->lines[k].final : 0;
    }
    if (l->metric == KR_METRIC_RECEIPTS)
        return n && n == r->rc.n_lines ? 0 : 1;
    return paid;
}

static const char *tier_name(const kr_ladder *l, int k)
{
    return l->tiers[k].name ? l->tiers[k].name : l->tiers[k].id;
}

// The ladder's message for the customer after this receipt, appended to `text` (nothing when
// the ladder has none that fits): the upgrade message when the receipt moves the customer up,
// else the progress message while a next tier is still to be reached.
static void ladder_message(kr_ops *o, const kr_ladder *l, const kr__ops_tier_view *before,
                           const kr__ops_tier_view *after, kr_buf *tmp, kr_buf *text)
{
    if (after->tier > before->tier && after->tier >= 0 && l->upgrade_message) {
        const char *names[] = {"tier"};
        const char *values[] = {tier_name(l, after->tier)};
        kr__ops_fill_template(text, l->upgrade_message, names, values, 1);
        return;
    }
    if (after->next < 0 || after->left <= 0 || !l->progress_message)
        return;
    char left[40], date[11] = "";
    if (l->metric == KR_METRIC_PAID)
        kr__ops_money_text(tmp, after->left, o->minor_unit, left, sizeof left);
    else
        snprintf(left, sizeof left, "%lld", (long long)after->left);
    if (after->period_ends >= 0)
        kr__ops_day_key(after->period_ends, date);
    const char *names[] = {"tier", "left", "date"};
    const char *values[] = {tier_name(l, after->next), left, date};
    kr__ops_fill_template(text, l->progress_message, names, values, 3);
}

kr_ledger_status kr__ops_receipt_tiers(kr_ops *o, const kr_receipt *r,
                                       const kr_engine_result *res, int64_t customer,
                                       const bool *on, kr_buf *tiers, kr_buf *messages)
{
    kr_buf tmp, text;
    kr_buf_init(&tmp, 0);
    kr_buf_init(&text, 0);
    kr_ledger_status ls = KR_LEDGER_OK;
    kr_buf_puts(tiers, ",\"tiers\":[");
    bool first = true;
    for (size_t i = 0; i < o->policy.n_ladders && ls == KR_LEDGER_OK; i++) {
        const kr_ladder *l = &o->policy.ladders[i];
        if (!on[i])
            continue;
        int64_t add = receipt_adds(l, r, res);
        kr__ops_tier_view before, after;
        ls = kr__ops_tier_view_get(o, customer, l, r->rc.time, NULL, &before);
        if (ls == KR_LEDGER_OK)
            ls = kr__ops_tier_view_get(o, customer, l, r->rc.time, &add, &after);
        if (ls != KR_LEDGER_OK)
            break;
        kr_buf_puts(tiers, first ? "{\"ladder\":" : ",{\"ladder\":");
        first = false;
        kr_buf_json_string(tiers, l->id);
        kr_buf_puts(tiers, ",\"tier_before\":");
        if (before.tier >= 0)
            kr_buf_json_string(tiers, l->tiers[before.tier].id);
        else
            kr_buf_puts(tiers, "null");
        kr_buf_puts(tiers, ",\"tier\":");
        if (after.tier >= 0)
            kr_buf_json_string(tiers, l->tiers[after.tier].id);
        else
            kr_buf_puts(tiers, "null");
        kr__ops_tier_view_json(o, l, &after, tiers);
        kr_buf_puts(tiers, "}");
        kr_buf_reset(&text);
        ladder_message(o, l, &before, &after, &tmp, &text);
        if (text.len) {
            kr_buf_puts(messages, messages->len ? ",{\"ladder\":" : "{\"ladder\":");
            kr_buf_json_string(messages, l->id);
            kr_buf_puts(messages, ",\"to\":\"customer\",\"text\":");
            kr_buf_json_string(messages, text.data);
            kr_buf_puts(messages, "}");
        }
    }
    kr_buf_puts(tiers, "]");
    if (ls == KR_LEDGER_OK && (tiers->failed || messages->failed || text.failed || tmp.failed))
        ls = KR_LEDGER_NOMEM;
    kr_buf_free(&tmp);
    kr_buf_free(&text);
    return ls;
}
