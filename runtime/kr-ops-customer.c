// SPDX-License-Identifier: MIT
// kr-ops-customer.c: balance, history, customers and cards (kr-ops.h).
#include "kr-ops-private.h"

#include "kr-ledger-codes.h"
#include "kr-ledger-query.h"

#include <stdlib.h>
#include <string.h>

// Resolves a customer reference JSON text for reading or writing.
static kr_ops_status who(kr_ops *o, const char *json, int64_t at, bool for_write, int64_t *id,
                         kr_buf *out)
{
    kr_customer_ref ref;
    json_t *root = NULL;
    kr_ops_status st = kr__ops_parse_ref(o, json, &ref, &root, out);
    // Balance counts unknown card numbers (kr-ops-guard.c) against the reference's "source";
    // history has no time to lock by, and is an operator's tool.
    if (st == KR_OPS_OK && at)
        kr__ops_guard_source(o, NULL, NULL, json_string_value(json_object_get(root, "source")));
    if (st == KR_OPS_OK)
        st = kr__ops_resolve(o, &ref, at, for_write, id, out);
    st = kr__ops_guard_flush(o, st, out);
    if (st == KR_OPS_OK && *id == 0)
        st = kr__ops_fail(o, out, KR_OPS_NOT_FOUND, "customer", "the card has no customer yet");
    json_decref(root);
    return st;
}

// Writes the tiers of every ladder the customer is on, with progress to the next tier
// (kr__ops_tier_view_get, as receipt answers show it).
static kr_ledger_status write_tiers(kr_ops *o, int64_t customer, int64_t at, kr_buf *out)
{
    kr_ledger_customer *c = NULL;
    kr_ledger_status cs = kr_ledger_customer_get(o->db, customer, &c);
    if (cs != KR_LEDGER_OK)
        return cs;
    kr_buf_puts(out, ",\"tiers\":[");
    bool first = true;
    for (size_t i = 0; i < o->policy.n_ladders; i++) {
        const kr_ladder *l = &o->policy.ladders[i];
        // Only the ladders the customer is on (a ladder may be for some segments only).
        bool on = l->n_segments == 0;
        for (size_t k = 0; !on && k < c->n_segments; k++)
            for (size_t m = 0; !on && m < l->n_segments; m++)
                on = strcmp(c->segments[k].segment, l->segments[m]) == 0 &&
                     (c->segments[k].until == KR_LEDGER_NEVER || c->segments[k].until > at);
        if (!on)
            continue;
        kr__ops_tier_view v;
        kr_ledger_status ls = kr__ops_tier_view_get(o, customer, l, at, NULL, &v);
        kr_ledger_tier floor;
        bool has_floor = false;
        if (ls == KR_LEDGER_OK) {
            ls = kr_ledger_tier_floor(o->db, customer, l->id, at, &floor);
            has_floor = ls == KR_LEDGER_OK && floor.floor_until > at;
            if (ls == KR_LEDGER_NOT_FOUND)
                ls = KR_LEDGER_OK;
        }
        if (ls != KR_LEDGER_OK) {
            kr_ledger_customer_free(c);
            return ls;
        }
        kr_buf_printf(out, "%s{\"ladder\":", first ? "" : ",");
        first = false;
        kr_buf_json_string(out, l->id);
        kr_buf_puts(out, ",\"tier\":");
        if (v.tier >= 0)
            kr_buf_json_string(out, l->tiers[v.tier].id);
        else
            kr_buf_puts(out, "null");
        kr__ops_tier_view_json(o, l, &v, out);
        if (has_floor) { // an operator's floor still running (kr_ops_tier_floor)
            kr_buf_puts(out, ",\"floor\":{\"tier\":");
            kr_buf_json_string(out, floor.tier_id);
            kr_buf_puts(out, ",\"until\":");
            if (floor.floor_until == KR_LEDGER_NEVER) {
                kr_buf_puts(out, "null");
            } else {
                char key[11];
                kr__ops_day_key(kr__ops_local_day(o, floor.floor_until) - 1, key);
                kr_buf_printf(out, "\"%s\"", key);
            }
            kr_buf_puts(out, "}");
        }
        kr_buf_puts(out, "}");
    }
    kr_buf_puts(out, "]");
    kr_ledger_customer_free(c);
    return KR_LEDGER_OK;
}

kr_ops_status kr_ops_balance(kr_ops *o, const char *who_json, int64_t at, kr_buf *out)
{
    int64_t id = 0;
    kr_ops_status st = who(o, who_json, at, false, &id, out);
    if (st != KR_OPS_OK)
        return st;
    kr_ledger_balance b;
    kr_ledger_status ls = kr_ledger_balance_get(o->db, id, at, &b);
    if (ls != KR_LEDGER_OK)
        return kr__ops_ledger_error(o, out, ls, "customer");
    kr_buf_reset(out);
    kr_buf_printf(out,
                  "{\"customer\":%lld,\"at\":", (long long)id);
    kr_buf_json_time(out, at);
    kr_buf_printf(out, ",\"spendable\":%lld,\"pending\":%lld,\"debt\":%lld,\"expiring\":[",
                  (long long)b.spendable, (long long)b.pending, (long long)b.debt);
    // Points by the last local day they can be spent (lots ending on one day add up).
    int64_t last_day = INT64_MIN, sum = 0;
    bool first = true;
    for (size_t i = 0; i <= b.n_buckets; i++) {
        int64_t d = i < b.n_buckets ? kr__ops_local_day(o, b.buckets[i].expires_at - 1) : INT64_MAX;
        if (d != last_day && last_day != INT64_MIN) {
            char key[11];
            kr__ops_day_key(last_day, key);
            kr_buf_printf(out, "%s{\"valid_until\":\"%s\",\"points\":%lld}", first ? "" : ",", key,
                          (long long)sum);
            first = false;
            sum = 0;
        }
        if (i < b.n_buckets) {
            last_day = d;
            sum += b.buckets[i].points;
        }
    }
    kr_buf_printf(out, "],\"never_expiring\":%lld", (long long)b.never_expiring);
    kr_ledger_balance_free(&b);
    ls = write_tiers(o, id, at, out);
    if (ls != KR_LEDGER_OK)
        return kr__ops_ledger_error(o, out, ls, NULL);
    kr_buf_puts(out, "}");
    return out->failed ? KR_OPS_FAILED : KR_OPS_OK;
}

kr_ops_status kr_ops_history(kr_ops *o, const char *who_json, int64_t after_id, size_t limit,
                             kr_buf *out)
{
    int64_t id = 0;
    kr_ops_status st = who(o, who_json, 0, false, &id, out);
    if (st != KR_OPS_OK)
        return st;
    kr_ledger_journal_row *rows = NULL;
    size_t n = 0;
    kr_ledger_status ls = kr_ledger_history(o->db, id, after_id, limit ? limit : 100, &rows, &n);
    if (ls != KR_LEDGER_OK)
        return kr__ops_ledger_error(o, out, ls, NULL);
    kr_buf_reset(out);
    kr_buf_printf(out, "{\"customer\":%lld,\"entries\":[", (long long)id);
    for (size_t i = 0; i < n; i++) {
        const kr_ledger_journal_row *r = &rows[i];
        kr_buf_printf(out, "%s{\"id\":%lld,\"at\":", i ? "," : "", (long long)r->id);
        kr_buf_json_time(out, r->at);
        kr_buf_puts(out, ",\"kind\":");
        kr_buf_json_string(out, r->kind);
        kr_buf_puts(out, ",\"operation\":");
        kr_buf_json_string(out, r->op_id);
        kr_buf_printf(out, ",\"points\":%lld,\"lot\":%lld", (long long)r->delta,
                      (long long)r->lot_id);
        if (r->ref_op[0]) {
            kr_buf_puts(out, ",\"reverses\":");
            kr_buf_json_string(out, r->ref_op);
        }
        if (r->peer_customer_id)
            kr_buf_printf(out, ",\"other_customer\":%lld", (long long)r->peer_customer_id);
        kr_buf_puts(out, "}");
    }
    kr_buf_printf(out, "],\"next_after\":%lld}", n ? (long long)rows[n - 1].id : (long long)after_id);
    free(rows);
    return out->failed ? KR_OPS_FAILED : KR_OPS_OK;
}

kr_ops_status kr_ops_customer_create(kr_ops *o, const char *json, size_t len, int64_t at,
                                     kr_buf *out)
{
    static const char *const keys[] = {"id",       "name",     "phone", "email", "card",
                                       "birthday", "registered", "segments", "attrs", NULL};
    kr_input_error err = {0};
    json_t *root = kr_json_parse(json, len, o->line, &err);
    if (!root)
        return kr__ops_input_error(o, out, &err);
    kr_json_obj obj = {.obj = root, .err = &err};
    kr_ledger_customer_in in = {.registered_at = at};
    const char *card = NULL;
    const json_t *segs = NULL;
    int64_t bday = 0;
    const char *segv[64];
    kr_ledger_attr attrs[64];
    kr_ops_status st = KR_OPS_OK;
    if (!kr_json_expect_object(&obj, keys) || !kr_json_string(&obj, "id", false, &in.external_id) ||
        !kr_json_string(&obj, "name", false, &in.name) ||
        !kr_json_string(&obj, "phone", false, &in.phone) ||
        !kr_json_string(&obj, "email", false, &in.email) ||
        !kr_json_string(&obj, "card", false, &card) ||
        !kr_json_date(&obj, "birthday", false, &bday) ||
        !kr_json_time(&obj, "registered", false, &in.registered_at) ||
        !kr_json_array(&obj, "segments", false, &segs)) {
        json_decref(root);
        return kr__ops_input_error(o, out, &err);
    }
    in.birthday = json_string_value(json_object_get(root, "birthday"));
    for (size_t i = 0; segs && i < json_array_size(segs); i++) {
        const char *sid = json_string_value(json_array_get(segs, i));
        bool known = false;
        for (size_t k = 0; sid && k < o->policy.n_segments; k++)
            known |= strcmp(o->policy.segments[k].id, sid) == 0;
        if (!known || in.n_segments == 64) {
            char field[32];
            snprintf(field, sizeof field, "segments[%zu]", i);
            kr_json_fail(&obj, field, "the program has no segment %s%s%s", sid ? "\"" : "",
                         sid ? sid : "of that type", sid ? "\"" : "");
            json_decref(root);
            return kr__ops_input_error(o, out, &err);
        }
        segv[in.n_segments++] = sid;
    }
    in.segments = segv;
    const json_t *a = json_object_get(root, "attrs");
    if (a) {
        const char *key;
        json_t *val;
        if (!json_is_object(a))
            kr_json_fail(&obj, "attrs", "must be an object of strings");
        json_object_foreach((json_t *)a, key, val)
        {
            if (!json_is_string(val) || in.n_attrs == 64) {
                kr_json_fail(&obj, "attrs", "attribute %s must be a string", key);
                break;
            }
            attrs[in.n_attrs].key = key;
            attrs[in.n_attrs].value = json_string_value(val);
            in.n_attrs++;
        }
        if (err.message[0]) {
            json_decref(root);
            return kr__ops_input_error(o, out, &err);
        }
        in.attrs = attrs;
    }
    kr_ledger_status ls = kr_ledger_begin(o->db);
    int64_t id = 0;
    if (ls == KR_LEDGER_OK)
        ls = kr_ledger_customer_create(o->db, &in, &id);
    if (ls == KR_LEDGER_OK && card) {
        // A card handed out at a till is activated; a card the ERP issued itself is recorded.
        ls = kr_ledger_card_activate(o->db, card, id, at, NULL);
        if (ls == KR_LEDGER_NOT_FOUND)
            ls = kr_ledger_card_register(o->db, card, id, at);
    }
    if (ls == KR_LEDGER_OK)
        ls = kr__ops_club_terms(o, id);
    if (ls == KR_LEDGER_OK)
        ls = kr__ops_registration_triggers(o, id, in.segments, in.n_segments, in.registered_at);
    if (ls == KR_LEDGER_OK)
        ls = kr_ledger_commit(o->db);
    if (ls != KR_LEDGER_OK) {
        kr_ledger_rollback(o->db);
        st = kr__ops_ledger_error(o, out, ls, card && ls == KR_LEDGER_NOT_FOUND ? "card" : NULL);
    } else {
        kr_buf_reset(out);
        kr_buf_printf(out, "{\"customer\":%lld}", (long long)id);
    }
    json_decref(root);
    return st;
}

// Programs with trigger chains: ,"chains":[{"chain", "started" (the start day), "state"
// ("running", "done", "left"), "steps" (ids of the steps done, in the chain's order)}] for
// the chains the customer entered, in the program's order.
static kr_ledger_status write_chains(kr_ops *o, int64_t id, kr_buf *out)
{
    static const char *const states[] = {"running", "done", "left"};
    enum { MAX_STEPS = 64 };
    char(*steps)[KR_LEDGER_ID_MAX] = calloc(MAX_STEPS, sizeof *steps);
    if (!steps)
        return KR_LEDGER_NOMEM;
    kr_ledger_status ls = KR_LEDGER_OK;
    size_t k = 0;
    kr_buf_puts(out, ",\"chains\":[");
    for (size_t i = 0; i < o->policy.n_chains && ls == KR_LEDGER_OK; i++) {
        const kr_chain *ch = &o->policy.chains[i];
        kr_ledger_chain_pos pos;
        ls = kr_ledger_chain_get(o->db, id, ch->id, &pos);
        if (ls == KR_LEDGER_NOT_FOUND) {
            ls = KR_LEDGER_OK;
            continue;
        }
        size_t n = 0;
        if (ls == KR_LEDGER_OK)
            ls = kr_ledger_chain_steps_done(o->db, id, ch->id, steps, MAX_STEPS, &n);
        if (ls != KR_LEDGER_OK)
            break;
        char day[11];
        kr__ops_day_key(pos.entered_day, day);
        kr_buf_puts(out, k++ ? ",{\"chain\":" : "{\"chain\":");
        kr_buf_json_string(out, ch->id);
        kr_buf_printf(out, ",\"started\":\"%s\",\"state\":\"%s\",\"steps\":[", day,
                      states[pos.state]);
        // In the chain's order (a run late by weeks does several steps at one instant); steps
        // since removed from the program come last.
        size_t w = 0;
        for (size_t a = 0; a <= ch->n_steps; a++)
            for (size_t j = 0; j < n; j++) {
                bool known = false;
                for (size_t b = 0; b < ch->n_steps && !known; b++)
                    known = strcmp(ch->steps[b].id, steps[j]) == 0;
                if (a < ch->n_steps ? strcmp(ch->steps[a].id, steps[j]) != 0 : known)
                    continue;
                kr_buf_puts(out, w++ ? "," : "");
                kr_buf_json_string(out, steps[j]);
            }
        kr_buf_puts(out, "]}");
    }
    kr_buf_puts(out, "]");
    free(steps);
    return ls;
}

// The rest of a customer's profile: ,"tiers":{ladder: tier} (the tier held at `at` on each
// ladder that has one), ,"cards":[{"number", "state", "batch"}], ,"codes":[{"code", "batch",
// "valid_until", "used"}] (codes issued to the customer, e.g. birthday codes).
static kr_ledger_status write_profile(kr_ops *o, int64_t id, int64_t at, kr_buf *out)
{
    kr_ledger_status ls = KR_LEDGER_OK;
    kr_buf_puts(out, ",\"tiers\":{");
    size_t k = 0;
    for (size_t i = 0; i < o->policy.n_ladders && ls == KR_LEDGER_OK; i++) {
        kr_ledger_tier t;
        ls = kr_ledger_tier_current(o->db, id, o->policy.ladders[i].id, at, &t);
        if (ls == KR_LEDGER_NOT_FOUND) {
            ls = KR_LEDGER_OK;
            continue;
        }
        if (ls != KR_LEDGER_OK)
            break;
        kr_buf_puts(out, k++ ? "," : "");
        kr_buf_json_string(out, o->policy.ladders[i].id);
        kr_buf_puts(out, ":");
        kr_buf_json_string(out, t.tier_id);
    }
    if (ls != KR_LEDGER_OK)
        return ls;
    enum { MAX_LISTED = 100 };
    static const char *const card_states[] = {"issued", "active", "blocked"};
    kr_ledger_card cards[MAX_LISTED];
    size_t n = 0;
    ls = kr_ledger_customer_cards(o->db, id, cards, MAX_LISTED, &n);
    if (ls != KR_LEDGER_OK)
        return ls;
    kr_buf_puts(out, "},\"cards\":[");
    for (size_t i = 0; i < n; i++) {
        kr_buf_puts(out, i ? ",{\"number\":" : "{\"number\":");
        kr_buf_json_string(out, cards[i].number);
        kr_buf_printf(out, ",\"state\":\"%s\",\"batch\":", card_states[cards[i].state]);
        kr_buf_json_string(out, cards[i].batch_id);
        kr_buf_puts(out, "}");
    }
    kr_ledger_owned_code *codes = calloc(MAX_LISTED, sizeof *codes);
    if (!codes)
        return KR_LEDGER_NOMEM;
    ls = kr_ledger_customer_codes(o->db, id, codes, MAX_LISTED, &n);
    kr_buf_puts(out, "],\"codes\":[");
    for (size_t i = 0; ls == KR_LEDGER_OK && i < n; i++) {
        kr_buf_puts(out, i ? ",{\"code\":" : "{\"code\":");
        kr_buf_json_string(out, codes[i].code);
        kr_buf_puts(out, ",\"batch\":");
        kr_buf_json_string(out, codes[i].batch_id);
        // The last day the code is accepted (local), or null for no end.
        kr_buf_puts(out, ",\"valid_until\":");
        if (codes[i].valid_until == KR_LEDGER_NEVER) {
            kr_buf_puts(out, "null");
        } else {
            char day[11];
            kr__ops_day_key(kr__ops_local_day(o, codes[i].valid_until - 1), day);
            kr_buf_printf(out, "\"%s\"", day);
        }
        kr_buf_printf(out, ",\"used\":%s}",
                      codes[i].max_uses && codes[i].uses >= codes[i].max_uses ? "true" : "false");
    }
    kr_buf_puts(out, "]");
    free(codes);
    if (ls == KR_LEDGER_OK && o->policy.n_chains)
        ls = write_chains(o, id, out);
    return ls;
}

kr_ops_status kr_ops_customer_get(kr_ops *o, const char *who_json, int64_t at, kr_buf *out)
{
    int64_t id = 0;
    kr_ops_status st = who(o, who_json, at, false, &id, out);
    if (st != KR_OPS_OK)
        return st;
    kr_ledger_customer *c = NULL;
    kr_ledger_status ls = kr_ledger_customer_get(o->db, id, &c);
    if (ls != KR_LEDGER_OK)
        return kr__ops_ledger_error(o, out, ls, NULL);
    kr_buf_reset(out);
    kr_buf_printf(out, "{\"customer\":%lld,", (long long)c->id);
    kr__ops_contacts_json(out, c);
    kr_buf_puts(out, ",\"birthday\":");
    kr_buf_json_string_or_null(out, c->birthday);
    kr_buf_printf(out, ",\"anonymous\":%s,\"segments\":[", c->anonymous ? "true" : "false");
    // The memberships running at `at` (one whose end passed is left by the next jobs run).
    for (size_t i = 0, k = 0; i < c->n_segments; i++) {
        if (c->segments[i].until != KR_LEDGER_NEVER && c->segments[i].until <= at)
            continue;
        kr_buf_puts(out, k++ ? "," : "");
        kr_buf_json_string(out, c->segments[i].segment);
    }
    kr_buf_puts(out, "],\"attrs\":{");
    for (size_t i = 0; i < c->n_attrs; i++) {
        kr_buf_puts(out, i ? "," : "");
        kr_buf_json_string(out, c->attrs[i].key);
        kr_buf_puts(out, ":");
        kr_buf_json_string(out, c->attrs[i].value);
    }
    kr_buf_printf(out, "},\"balance\":%lld", (long long)c->balance);
    kr_ledger_customer_free(c);
    ls = write_profile(o, id, at, out);
    if (ls != KR_LEDGER_OK)
        return kr__ops_ledger_error(o, out, ls, NULL);
    kr_buf_puts(out, "}");
    return out->failed ? KR_OPS_FAILED : KR_OPS_OK;
}

// Each ladder's tier of both customers, before they become one (-1: none): the survivor keeps
// the better (tiers_after_merge).
static kr_ledger_status tiers_before_merge(kr_ops *o, int64_t from, int64_t into, int64_t at,
                                           int before[64])
{
    kr_ledger_status ls = KR_LEDGER_OK;
    size_t nl = o->policy.n_ladders < 64 ? o->policy.n_ladders : 64;
    for (size_t i = 0; ls == KR_LEDGER_OK && i < nl; i++) {
        const kr_ladder *l = &o->policy.ladders[i];
        before[i] = -1;
        const int64_t who2[2] = {from, into};
        for (int w = 0; w < 2 && ls == KR_LEDGER_OK; w++) {
            kr_ledger_tier t;
            ls = kr_ledger_tier_current(o->db, who2[w], l->id, at, &t);
            if (ls == KR_LEDGER_NOT_FOUND) {
                ls = KR_LEDGER_OK;
                continue;
            }
            for (size_t k = 0; ls == KR_LEDGER_OK && k < l->n_tiers; k++)
                if (strcmp(l->tiers[k].id, t.tier_id) == 0 && (int)k > before[i])
                    before[i] = (int)k;
        }
    }
    return ls;
}

// After a merge (or a card's placeholder merged by an attach) the counters add up: an
// immediate ladder may now give a higher tier; the survivor gets the best of that and `before`.
static kr_ledger_status tiers_after_merge(kr_ops *o, int64_t into, int64_t at,
                                          const int before[64])
{
    kr_ledger_status ls = KR_LEDGER_OK;
    size_t nl = o->policy.n_ladders < 64 ? o->policy.n_ladders : 64;
    int64_t day = kr__ops_local_day(o, at);
    for (size_t i = 0; ls == KR_LEDGER_OK && i < nl; i++) {
        const kr_ladder *l = &o->policy.ladders[i];
        int best = before[i];
        if (l->upgrade_immediate) {
            int k = -1;
            ls = kr__ops_ladder_earned(o, into, l, day, &k);
            best = k > best ? k : best;
        }
        kr_ledger_tier cur;
        int current = -1;
        kr_ledger_status ts = kr_ledger_tier_current(o->db, into, l->id, at, &cur);
        for (size_t k = 0; ts == KR_LEDGER_OK && k < l->n_tiers; k++)
            if (strcmp(l->tiers[k].id, cur.tier_id) == 0)
                current = (int)k;
        if (ls == KR_LEDGER_OK && best > current && best >= 0) {
            kr_ledger_tier t = {.from_at = at, .reason = KR_LEDGER_TIER_COMPUTED,
                                .floor_until = KR_LEDGER_NEVER};
            snprintf(t.ladder_id, sizeof t.ladder_id, "%s", l->id);
            snprintf(t.tier_id, sizeof t.tier_id, "%s", l->tiers[best].id);
            ls = kr_ledger_tier_set(o->db, into, &t);
        }
    }
    return ls;
}

kr_ops_status kr_ops_customer_merge(kr_ops *o, const char *from_json, const char *into_json,
                                    const char *op_id, int64_t at, kr_buf *out)
{
    int64_t from = 0, into = 0;
    kr_ops_status st = who(o, from_json, at, false, &from, out);
    if (st == KR_OPS_OK)
        st = who(o, into_json, at, false, &into, out);
    if (st != KR_OPS_OK)
        return st;
    if (from == into)
        return kr__ops_fail(o, out, KR_OPS_INVALID, "from", "both name the same customer");
    kr_ledger_status ls = kr_ledger_begin(o->db);
    int before[64];
    if (ls == KR_LEDGER_OK)
        ls = tiers_before_merge(o, from, into, at, before);
    if (ls == KR_LEDGER_OK)
        ls = kr_ledger_merge(o->db, from, into, op_id, at);
    if (ls == KR_LEDGER_OK)
        ls = tiers_after_merge(o, into, at, before);
    if (ls == KR_LEDGER_OK)
        ls = kr_ledger_commit(o->db);
    if (ls != KR_LEDGER_OK) {
        kr_ledger_rollback(o->db);
        return kr__ops_ledger_error(o, out, ls, NULL);
    }
    kr_buf_reset(out);
    kr_buf_printf(out, "{\"merged\":%lld,\"into\":%lld}", (long long)from, (long long)into);
    return KR_OPS_OK;
}

kr_ops_status kr_ops_cards_issue(kr_ops *o, const char *op_id, const char *batch, size_t count,
                                 int64_t at, kr_buf *out)
{
    if (count == 0 || count > 100000)
        return kr__ops_fail(o, out, KR_OPS_INVALID, "count", "issue 1 to 100000 cards at a time");
    if (!op_id || !*op_id || strlen(op_id) >= KR_LEDGER_ID_MAX)
        return kr__ops_fail(o, out, KR_OPS_INVALID, "id",
                            "an operation id of 1 to %d bytes is required", KR_LEDGER_ID_MAX - 1);
    kr_ledger_card_number *nums = calloc(count, sizeof *nums);
    if (!nums)
        return kr__ops_fail(o, out, KR_OPS_FAILED, NULL, "out of memory");
    kr_ledger_status ls = kr_ledger_begin(o->db);
    if (ls != KR_LEDGER_OK) {
        free(nums);
        return kr__ops_ledger_error(o, out, ls, NULL);
    }
    // The check, the cards and their op id are one transaction: a crash before the commit
    // leaves no card and no trace of the id (the retry issues them), after it the retry reads
    // them back.
    kr_ops_status rep =
        kr__ops_issued_repeat(o, KR_LEDGER_ISSUED_CARDS, op_id, batch, count, "cards", out);
    if (rep != KR_OPS_OK) {
        kr_ledger_rollback(o->db);
        free(nums);
        return rep == KR_OPS_REPLAY ? KR_OPS_OK : rep;
    }
    ls = kr_ledger_cards_issue(o->db, batch, count, at, nums);
    for (size_t i = 0; i < count && ls == KR_LEDGER_OK; i++)
        ls = kr_ledger_issued_mark(o->db, KR_LEDGER_ISSUED_CARDS, nums[i].digits, op_id);
    if (ls == KR_LEDGER_OK)
        ls = kr_ledger_commit(o->db);
    if (ls != KR_LEDGER_OK) {
        kr_ledger_rollback(o->db);
        free(nums);
        return kr__ops_ledger_error(o, out, ls, "batch");
    }
    kr_buf_reset(out);
    kr_buf_puts(out, "{\"batch\":");
    kr_buf_json_string(out, batch);
    kr_buf_puts(out, ",\"cards\":[");
    for (size_t i = 0; i < count; i++)
        kr_buf_printf(out, "%s\"%s\"", i ? "," : "", nums[i].digits);
    kr_buf_puts(out, "]}");
    free(nums);
    return out->failed ? KR_OPS_FAILED : KR_OPS_OK;
}

kr_ops_status kr_ops_card_attach(kr_ops *o, const char *card, const char *who_json, int64_t at,
                                 kr_buf *out)
{
    int64_t id = 0;
    kr_ops_status st = who(o, who_json, at, false, &id, out);
    if (st != KR_OPS_OK)
        return st;
    char op[KR_LEDGER_ID_MAX];
    snprintf(op, sizeof op, "attach:%.100s", card);
    // The card's anonymous placeholder is merged into the customer: as with a merge, the
    // customer keeps the better tier and the added-up turnover may give a higher one.
    kr_ledger_card before_card;
    int64_t holder = 0;
    if (kr_ledger_card_get(o->db, card, &before_card) == KR_LEDGER_OK)
        holder = before_card.customer_id;
    int before[64];
    kr_ledger_status ls = kr_ledger_begin(o->db);
    if (ls == KR_LEDGER_OK && holder && holder != id)
        ls = tiers_before_merge(o, holder, id, at, before);
    if (ls == KR_LEDGER_OK)
        ls = kr_ledger_card_attach(o->db, card, id, op, at);
    if (ls == KR_LEDGER_OK && holder && holder != id)
        ls = tiers_after_merge(o, id, at, before);
    if (ls == KR_LEDGER_EXISTS)
        ls = KR_LEDGER_OK;
    if (ls == KR_LEDGER_OK)
        ls = kr_ledger_commit(o->db);
    if (ls != KR_LEDGER_OK) {
        kr_ledger_rollback(o->db);
        return kr__ops_ledger_error(o, out, ls, "card");
    }
    kr_buf_reset(out);
    kr_buf_puts(out, "{\"card\":");
    kr_buf_json_string(out, card);
    kr_buf_printf(out, ",\"customer\":%lld}", (long long)id);
    return KR_OPS_OK;
}

kr_ops_status kr_ops_card_block(kr_ops *o, const char *card, int64_t at, kr_buf *out)
{
    kr_ledger_card c;
    kr_ledger_status ls = kr_ledger_card_get(o->db, card, &c);
    if (ls != KR_LEDGER_OK)
        return kr__ops_ledger_error(o, out, ls, "card");
    if (c.state != KR_LEDGER_CARD_BLOCKED) {
        ls = kr_ledger_begin(o->db);
        if (ls == KR_LEDGER_OK)
            ls = kr_ledger_card_block(o->db, card, at);
        if (ls == KR_LEDGER_OK)
            ls = kr_ledger_commit(o->db);
        if (ls != KR_LEDGER_OK) {
            kr_ledger_rollback(o->db);
            return kr__ops_ledger_error(o, out, ls, "card");
        }
        c.blocked_at = at;
    }
    // A repeat answers the same: the card stays blocked since its first block.
    kr_buf_reset(out);
    kr_buf_puts(out, "{\"card\":");
    kr_buf_json_string(out, c.number);
    kr_buf_puts(out, ",\"state\":\"blocked\",\"blocked_at\":");
    kr_buf_json_time(out, c.blocked_at);
    kr_buf_printf(out, ",\"customer\":%lld}", (long long)c.customer_id);
    return out->failed ? KR_OPS_FAILED : KR_OPS_OK;
}

kr_ops_status kr_ops_points_grant(kr_ops *o, const char *json, size_t len, kr_buf *out)
{
    static const char *const keys[] = {"id", "time", "customer", "points", "source", "expires",
                                       NULL};
    kr_input_error err = {0};
    json_t *root = kr_json_parse(json, len, o->line, &err);
    if (!root)
        return kr__ops_input_error(o, out, &err);
    kr_json_obj obj = {.obj = root, .err = &err};
    const char *id = NULL, *source = "manual";
    int64_t at = 0, points = 0, expires = 0;
    kr_customer_ref ref;
    if (!kr_json_expect_object(&obj, keys) || !kr_json_string(&obj, "id", true, &id) ||
        !kr_json_time(&obj, "time", true, &at) ||
        !kr_json_int(&obj, "points", true, 1, INT64_MAX / 4, &points) ||
        !kr_json_string(&obj, "source", false, &source) ||
        !kr_json_time(&obj, "expires", false, &expires) ||
        !kr__ops_read_ref(&obj, "customer", &ref)) {
        json_decref(root);
        return kr__ops_input_error(o, out, &err);
    }
    int src = -1;
    for (int i = 0; i < KR_SOURCE_COUNT; i++)
        if (strcmp(kr_source_name((kr_source)i), source) == 0)
            src = i;
    if (src < 0 || expires < 0 || (expires && expires <= at)) {
        json_decref(root);
        return kr__ops_fail(o, out, KR_OPS_INVALID, src < 0 ? "source" : "expires",
                            src < 0 ? "unknown source \"%s\"" : "points must expire after %s",
                            src < 0 ? source : "they are granted");
    }
    char key[KR_LEDGER_ID_MAX], hash[65];
    snprintf(key, sizeof key, "grant:%.100s", id);
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
    if (st == KR_OPS_OK && !customer)
        st = kr__ops_fail(o, out, KR_OPS_NOT_FOUND, "customer", "the card has no customer yet");
    if (st == KR_OPS_OK) {
        int64_t from = at;
        if (expires) {
            kr_ledger_lot_in in = {.customer_id = customer,
                                   .source = src == KR_SOURCE_IMPORT ? KR_LEDGER_SRC_IMPORT
                                                                     : KR_LEDGER_SRC_MANUAL,
                                   .amount = points, .earned_at = at, .spendable_from = at,
                                   .expires_at = expires, .op_id = key};
            ls = kr_ledger_lot_add(o->db, &in, NULL);
        } else {
            ls = kr__ops_add_points(o, customer, (kr_source)src, points, at, key, &from);
        }
        kr_buf_reset(out);
        kr_buf_printf(out, "{\"grant\":");
        kr_buf_json_string(out, id);
        kr_buf_printf(out, ",\"customer\":%lld,\"points\":%lld,\"spendable_from\":",
                      (long long)customer, (long long)points);
        kr_buf_json_time(out, from);
        kr_buf_puts(out, "}");
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

kr_ops_status kr_ops_customer_update(kr_ops *o, const char *json, size_t len, int64_t at,
                                     kr_buf *out)
{
    static const char *const keys[] = {"customer", "name", "birthday", "segments", "attrs",
                                       "phone",    "email", NULL};
    kr_input_error err = {0};
    json_t *root = kr_json_parse(json, len, o->line, &err);
    if (!root)
        return kr__ops_input_error(o, out, &err);
    kr_json_obj obj = {.obj = root, .err = &err};
    kr_customer_ref ref;
    const char *name = NULL, *phone = NULL, *email = NULL;
    int64_t bday = 0;
    const json_t *segs = NULL;
    if (!kr_json_expect_object(&obj, keys) || !kr__ops_read_ref(&obj, "customer", &ref) ||
        !kr_json_string(&obj, "name", false, &name) ||
        !kr_json_date(&obj, "birthday", false, &bday) ||
        !kr_json_array(&obj, "segments", false, &segs) ||
        !kr_json_string(&obj, "phone", false, &phone) ||
        !kr_json_string(&obj, "email", false, &email)) {
        json_decref(root);
        return kr__ops_input_error(o, out, &err);
    }
    const json_t *attrs = json_object_get(root, "attrs");
    if (attrs && !json_is_object(attrs)) {
        kr_json_fail(&obj, "attrs", "must be an object of strings (null removes one)");
        json_decref(root);
        return kr__ops_input_error(o, out, &err);
    }
    int64_t id = 0;
    kr_ops_status st = kr__ops_resolve(o, &ref, at, false, &id, out);
    if (st == KR_OPS_OK && !id)
        st = kr__ops_fail(o, out, KR_OPS_NOT_FOUND, "customer", "the card has no customer yet");
    kr_ledger_customer *c = NULL;
    kr_ledger_status ls = KR_LEDGER_OK;
    if (st == KR_OPS_OK && (ls = kr_ledger_customer_get(o->db, id, &c)) != KR_LEDGER_OK)
        st = kr__ops_ledger_error(o, out, ls, "customer");
    if (st != KR_OPS_OK) {
        json_decref(root);
        return st;
    }
    // Start from what is stored, then apply what the request names.
    const char *segv[64];
    kr_ledger_attr attrv[128];
    kr_ledger_customer_in in = {.external_id = c->external_id, .name = name ? name : c->name,
                                .birthday = c->birthday, .registered_at = c->registered_at,
                                .segments = segv, .attrs = attrv};
    if (json_object_get(root, "birthday"))
        in.birthday = json_string_value(json_object_get(root, "birthday"));
    if (segs) {
        for (size_t i = 0; i < json_array_size(segs) && in.n_segments < 64; i++) {
            const char *sid = json_string_value(json_array_get(segs, i));
            bool known = false;
            for (size_t k = 0; sid && k < o->policy.n_segments; k++)
                known |= strcmp(o->policy.segments[k].id, sid) == 0;
            if (!known) {
                char field[32];
                snprintf(field, sizeof field, "segments[%zu]", i);
                st = kr__ops_fail(o, out, KR_OPS_INVALID, field, "the program has no segment %s",
                                  sid ? sid : "of that type");
                break;
            }
            segv[in.n_segments++] = sid;
        }
    } else {
        for (size_t i = 0; i < c->n_segments && in.n_segments < 64; i++)
            segv[in.n_segments++] = c->segments[i].segment;
    }
    for (size_t i = 0; i < c->n_attrs && in.n_attrs < 128; i++)
        if (!attrs || !json_object_get(attrs, c->attrs[i].key))
            attrv[in.n_attrs++] = c->attrs[i];
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)attrs, key, val)
    {
        if (json_is_null(val))
            continue;
        if (!json_is_string(val) || in.n_attrs == 128) {
            st = kr__ops_fail(o, out, KR_OPS_INVALID, "attrs", "attribute %s must be a string",
                              key);
            break;
        }
        attrv[in.n_attrs].key = key;
        attrv[in.n_attrs].value = json_string_value(val);
        in.n_attrs++;
    }
    if (st == KR_OPS_OK) {
        ls = kr_ledger_begin(o->db);
        if (ls == KR_LEDGER_OK)
            ls = kr_ledger_customer_update(o->db, id, &in, at);
        if (ls == KR_LEDGER_OK)
            ls = kr__ops_club_terms(o, id);
        if (ls == KR_LEDGER_OK && phone) {
            ls = kr_ledger_identity_add(o->db, id, KR_LEDGER_PHONE, phone);
            ls = ls == KR_LEDGER_EXISTS ? KR_LEDGER_OK : ls;
        }
        if (ls == KR_LEDGER_OK && email) {
            ls = kr_ledger_identity_add(o->db, id, KR_LEDGER_EMAIL, email);
            ls = ls == KR_LEDGER_EXISTS ? KR_LEDGER_OK : ls;
        }
        if (ls == KR_LEDGER_OK)
            ls = kr_ledger_commit(o->db);
        if (ls != KR_LEDGER_OK) {
            kr_ledger_rollback(o->db);
            st = kr__ops_ledger_error(o, out, ls, NULL);
        }
    }
    kr_ledger_customer_free(c);
    json_decref(root);
    if (st != KR_OPS_OK)
        return st;
    kr_buf_reset(out);
    kr_buf_printf(out, "{\"customer\":%lld,\"updated\":true}", (long long)id);
    return KR_OPS_OK;
}
