// SPDX-License-Identifier: MIT
// kr-ops.c: opening the runtime (ledger + program), error answers, customer references, time
// and the counters behind tiers and tables (kr-ops-private.h).
#include "kr-ops-private.h"

#include "kr-engine-private.h"
#include "kr-ledger-codes.h"
#include "kr-ledger-query.h"

#include <lauxlib.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *kr_ops_status_name(kr_ops_status s)
{
    switch (s) {
    case KR_OPS_OK:
        return "ok";
    case KR_OPS_REPLAY:
        return "replay";
    case KR_OPS_INVALID:
        return "invalid";
    case KR_OPS_NOT_FOUND:
        return "not_found";
    case KR_OPS_CONFLICT:
        return "conflict";
    case KR_OPS_REFUSED:
        return "refused";
    case KR_OPS_PROGRAM:
        return "program";
    case KR_OPS_BUSY:
        return "busy";
    case KR_OPS_FAILED:
        return "failed";
    }
    return "?";
}

kr_ops_status kr__ops_fail(kr_ops *o, kr_buf *out, kr_ops_status st, const char *field,
                           const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    kr_buf_reset(out);
    kr_buf_puts(out, "{\"error\":{\"code\":");
    kr_buf_json_string(out, kr_ops_status_name(st));
    if (o && o->source[0]) {
        kr_buf_puts(out, ",\"source\":");
        kr_buf_json_string(out, o->source);
    }
    if (o && o->line)
        kr_buf_printf(out, ",\"line\":%u", o->line);
    if (field && *field) {
        kr_buf_puts(out, ",\"field\":");
        kr_buf_json_string(out, field);
    }
    kr_buf_puts(out, ",\"message\":");
    kr_buf_json_string(out, msg);
    kr_buf_puts(out, "}}");
    return st;
}

kr_ops_status kr__ops_input_error(kr_ops *o, kr_buf *out, const kr_input_error *err)
{
    kr_buf_reset(out);
    kr_buf_puts(out, "{\"error\":{\"code\":\"invalid\"");
    if (o->source[0]) {
        kr_buf_puts(out, ",\"source\":");
        kr_buf_json_string(out, o->source);
    }
    if (err->line)
        kr_buf_printf(out, ",\"line\":%u", err->line);
    if (err->column)
        kr_buf_printf(out, ",\"column\":%u", err->column);
    if (err->field[0]) {
        kr_buf_puts(out, ",\"field\":");
        kr_buf_json_string(out, err->field);
    }
    kr_buf_puts(out, ",\"message\":");
    kr_buf_json_string(out, err->message);
    kr_buf_puts(out, "}}");
    return KR_OPS_INVALID;
}

kr_ops_status kr__ops_ledger_error(kr_ops *o, kr_buf *out, kr_ledger_status ls, const char *field)
{
    kr_ops_status st;
    switch (ls) {
    case KR_LEDGER_OK:
    case KR_LEDGER_EXISTS:
        return KR_OPS_OK;
    case KR_LEDGER_NOT_FOUND:
        st = KR_OPS_NOT_FOUND;
        break;
    case KR_LEDGER_CONFLICT:
        st = KR_OPS_CONFLICT;
        break;
    case KR_LEDGER_INVALID:
        st = KR_OPS_INVALID;
        break;
    case KR_LEDGER_INSUFFICIENT:
    case KR_LEDGER_LIMIT:
    case KR_LEDGER_EXPIRED:
    case KR_LEDGER_BLOCKED:
    case KR_LEDGER_STATE:
    case KR_LEDGER_MERGED:
        st = KR_OPS_REFUSED;
        break;
    case KR_LEDGER_BUSY:
        st = KR_OPS_BUSY;
        break;
    default:
        st = KR_OPS_FAILED;
        break;
    }
    return kr__ops_fail(o, out, st, field, "%s", kr_ledger_errmsg(o->db));
}

void kr_ops_set_source(kr_ops *o, const char *name, unsigned line)
{
    snprintf(o->source, sizeof o->source, "%s", name ? name : "");
    o->line = line;
}

int64_t kr__ops_local_day(const kr_ops *o, int64_t t)
{
    int64_t day;
    int wd, minute;
    kr_time_local(o->tz, t, &day, &wd, &minute);
    return day;
}

int64_t kr__ops_day_start(const kr_ops *o, int64_t day)
{
    // The offset at the day's start equals the offset a few hours in, except on the rare day
    // of a transition; take the offset at noon UTC of that day as the estimate, then correct.
    int64_t t = day * 86400 - kr_time_offset(o->tz, day * 86400 + 43200);
    if (kr__ops_local_day(o, t) != day)
        t = day * 86400 - kr_time_offset(o->tz, t);
    return t;
}

void kr__ops_day_key(int64_t day, char out[11])
{
    int64_t y;
    unsigned m, d;
    kr_civil_from_days(day, &y, &m, &d);
    // Years are 1900..2999 everywhere in Kopilka (dates outside are refused on input).
    int yy = (int)(y < 0 ? 0 : y > 9999 ? 9999 : y);
    snprintf(out, 11, "%04d-%02u-%02u", yy, m % 13u, d % 32u);
}

kr_ledger_status kr__ops_counter_sum(kr_ops *o, int64_t customer, const char *metric,
                                     int64_t from_day, int64_t to_day, int64_t *out)
{
    char from[11], to[11];
    kr__ops_day_key(from_day, from);
    kr__ops_day_key(to_day, to);
    return kr_ledger_counter_sum(o->db, customer, metric, from, to, out);
}

kr_ledger_status kr__ops_window_sum(kr_ops *o, int64_t customer, const char *metric, kr_window w,
                                    int64_t days, int64_t day, int64_t *out)
{
    if (w == KR_WINDOW_ALL_TIME)
        return kr_ledger_counter_get(o->db, customer, metric, "all", out);
    int64_t from, to;
    kr_window_range(w, days, day, &from, &to);
    return kr__ops_counter_sum(o, customer, metric, from, to, out);
}

void kr__ops_left_out_metric(const char *metric, const char *ladder_id, char out[KR_LEDGER_ID_MAX])
{
    snprintf(out, KR_LEDGER_ID_MAX, "%s-left-out:%.100s", metric, ladder_id);
}

// The ladder's metric over window w: the counter of the metric less what the ladder's
// <exclude> left out (counted apart at confirm, see kr__ops_left_out).
static kr_ledger_status ladder_window_value(kr_ops *o, int64_t customer, const kr_ladder *l,
                                            kr_window w, int64_t day, int64_t *value)
{
    const char *metric = kr_metric_counter(l->metric);
    kr_ledger_status ls = kr__ops_window_sum(o, customer, metric, w, l->days, day, value);
    if (ls != KR_LEDGER_OK || !l->n_exclude)
        return ls;
    char left[KR_LEDGER_ID_MAX];
    kr__ops_left_out_metric(metric, l->id, left);
    int64_t out = 0;
    ls = kr__ops_window_sum(o, customer, left, w, l->days, day, &out);
    if (ls == KR_LEDGER_OK)
        *value = *value > out ? *value - out : 0;
    return ls;
}

kr_ledger_status kr__ops_ladder_value(kr_ops *o, int64_t customer, const kr_ladder *l,
                                      int64_t day, int64_t *value)
{
    return ladder_window_value(o, customer, l, l->window, day, value);
}

kr_ledger_status kr__ops_ladder_progress(kr_ops *o, int64_t customer, const kr_ladder *l,
                                         int64_t day, int64_t *value)
{
    kr_window cur = kr_window_current_of(l->window);
    return ladder_window_value(o, customer, l, cur != KR_WINDOW_NONE ? cur : l->window, day,
                               value);
}

kr_ledger_status kr__ops_ladder_earned(kr_ops *o, int64_t customer, const kr_ladder *l,
                                       int64_t day, int *tier)
{
    int64_t v = 0;
    kr_ledger_status ls = kr__ops_ladder_value(o, customer, l, day, &v);
    if (ls != KR_LEDGER_OK)
        return ls;
    *tier = kr__ops_tier_for(l, v);
    if (kr_window_current_of(l->window) != KR_WINDOW_NONE && l->upgrade_immediate) {
        ls = kr__ops_ladder_progress(o, customer, l, day, &v);
        if (ls != KR_LEDGER_OK)
            return ls;
        int now = kr__ops_tier_for(l, v);
        *tier = now > *tier ? now : *tier;
    }
    return KR_LEDGER_OK;
}

int kr__ops_tier_for(const kr_ladder *l, int64_t value)
{
    int best = -1;
    for (size_t i = 0; i < l->n_tiers; i++)
        if (value >= l->tiers[i].from)
            best = (int)i;
    return best;
}

// The ledger's names for the program's point sources (the two enums differ in order).
static kr_ledger_source ledger_source(kr_source s)
{
    switch (s) {
    case KR_SOURCE_ACCRUAL:
        return KR_LEDGER_SRC_ACCRUAL;
    case KR_SOURCE_PROMOTION:
        return KR_LEDGER_SRC_PROMOTION;
    case KR_SOURCE_BIRTHDAY:
        return KR_LEDGER_SRC_BIRTHDAY;
    case KR_SOURCE_REGISTRATION:
        return KR_LEDGER_SRC_REGISTRATION;
    case KR_SOURCE_REFERRAL:
        return KR_LEDGER_SRC_REFERRAL;
    case KR_SOURCE_EVENT:
        return KR_LEDGER_SRC_EVENT;
    case KR_SOURCE_CHALLENGE:
        return KR_LEDGER_SRC_CHALLENGE;
    case KR_SOURCE_MANUAL:
        return KR_LEDGER_SRC_MANUAL;
    case KR_SOURCE_IMPORT:
    case KR_SOURCE_COUNT:
        break;
    }
    return KR_LEDGER_SRC_IMPORT;
}

kr_ledger_status kr__ops_add_points(kr_ops *o, int64_t customer, kr_source source,
                                    int64_t points, int64_t at, const char *op_id,
                                    int64_t *spendable_from)
{
    const kr_lifetime *lt = &o->policy.lifetimes[source];
    int64_t hold = lt->set ? lt->hold_days * 86400 : 0;
    int64_t from = at + hold;
    if (spendable_from)
        *spendable_from = from;
    if (points <= 0)
        return KR_LEDGER_OK;
    // Lifetimes count whole local days from the day points become spendable: points earned
    // on the 1st with 365 days expire at the start of the local day 365 days later.
    int64_t expires = KR_LEDGER_NEVER;
    if (lt->set && lt->days >= 0)
        expires = kr__ops_day_start(o, kr__ops_local_day(o, from) + lt->days);
    if (expires != KR_LEDGER_NEVER && expires <= from)
        expires = from + 1;
    kr_ledger_lot_in in = {
        .customer_id = customer,
        .source = ledger_source(source),
        .amount = points,
        .earned_at = at,
        .spendable_from = from,
        .expires_at = expires,
        .op_id = op_id,
    };
    return kr_ledger_lot_add(o->db, &in, NULL);
}

kr_ops_status kr__ops_replay(kr_ops *o, const char *key, const char *hash, kr_buf *out)
{
    kr_ledger_receipt *old = NULL;
    kr_ledger_status ls = kr_ledger_receipt_get(o->db, key, &old);
    if (ls == KR_LEDGER_NOT_FOUND)
        return KR_OPS_OK;
    if (ls != KR_LEDGER_OK)
        return kr__ops_ledger_error(o, out, ls, "id");
    kr_ops_status st;
    if (strcmp(old->body_hash, hash) == 0) {
        kr_buf_reset(out);
        kr_buf_puts(out, old->result);
        st = KR_OPS_REPLAY;
    } else {
        st = kr__ops_fail(o, out, KR_OPS_CONFLICT, "id",
                          "%s was already done with different content", key);
    }
    kr_ledger_receipt_free(old);
    return st;
}

bool kr__ops_listed(char *const *v, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i], s) == 0)
            return true;
    return false;
}

void kr__ops_contacts_json(kr_buf *out, const kr_ledger_customer *c)
{
    kr_buf_puts(out, "\"id\":");
    kr_buf_json_string_or_null(out, c->external_id);
    kr_buf_puts(out, ",\"name\":");
    kr_buf_json_string_or_null(out, c->name);
    kr_buf_puts(out, ",\"phone\":");
    kr_buf_json_string_or_null(out, c->phone);
    kr_buf_puts(out, ",\"email\":");
    kr_buf_json_string_or_null(out, c->email);
}

kr_ledger_status kr__ops_remember(kr_ops *o, const char *key, const char *hash, int64_t customer,
                                  const char *answer, int64_t at)
{
    kr_ledger_receipt_in rec = {
        .id = key, .body_hash = hash, .customer_id = customer, .result = answer, .at = at};
    return kr_ledger_receipt_put(o->db, &rec, NULL);
}

typedef struct issued_read {
    kr_buf answer;                  // the array's items, comma-separated
    char batch[KR_LEDGER_ID_MAX];   // the batch of the first number
} issued_read;

static void issued_one(void *ctx, const char *number, const char *batch_id)
{
    issued_read *r = ctx;
    if (!r->batch[0])
        snprintf(r->batch, sizeof r->batch, "%s", batch_id);
    else
        kr_buf_puts(&r->answer, ",");
    kr_buf_json_string(&r->answer, number);
}

kr_ops_status kr__ops_issued_repeat(kr_ops *o, kr_ledger_issued_kind kind, const char *op_id,
                                    const char *batch, size_t count, const char *key,
                                    kr_buf *out)
{
    issued_read r = {0};
    kr_buf_init(&r.answer, 0);
    size_t n = 0;
    kr_ledger_status ls = kr_ledger_issued_list(o->db, kind, op_id, issued_one, &r, &n);
    if (ls != KR_LEDGER_OK) {
        kr_buf_free(&r.answer);
        return kr__ops_ledger_error(o, out, ls, "id");
    }
    kr_ops_status st = KR_OPS_OK;
    if (n > 0 && strcmp(r.batch, batch) != 0)
        st = kr__ops_fail(o, out, KR_OPS_CONFLICT, "batch",
                          "operation %s issued batch %s, not %s; nothing changed", op_id,
                          r.batch, batch);
    else if (n > 0 && n != count)
        st = kr__ops_fail(o, out, KR_OPS_CONFLICT, "count",
                          "operation %s issued %zu, not %zu; nothing changed", op_id, n, count);
    else if (n > 0) {
        kr_buf_reset(out);
        kr_buf_puts(out, "{\"batch\":");
        kr_buf_json_string(out, batch);
        kr_buf_printf(out, ",\"%s\":[", key);
        kr_buf_append(out, r.answer.data, r.answer.len);
        kr_buf_puts(out, "]}");
        st = out->failed || r.answer.failed ? KR_OPS_FAILED : KR_OPS_REPLAY;
    }
    kr_buf_free(&r.answer);
    return st;
}

void kr__ops_body_hash(const json_t *root, char out[65])
{
    char *text = json_dumps(root, JSON_SORT_KEYS | JSON_COMPACT);
    kr_ledger_sha256_hex(text ? text : "", text ? strlen(text) : 0, out);
    free(text);
}

bool kr__ops_read_ref(kr_json_obj *obj, const char *key, kr_customer_ref *ref)
{
    static const char *const ref_keys[] = {"card", "phone", "email", "id", NULL};
    kr_json_obj who;
    bool present = false;
    memset(ref, 0, sizeof *ref);
    return kr_json_child(obj, key, NULL, 0, true, &who, &present) &&
           kr_json_expect_object(&who, ref_keys) &&
           kr_json_string(&who, "card", false, &ref->card) &&
           kr_json_string(&who, "phone", false, &ref->phone) &&
           kr_json_string(&who, "email", false, &ref->email) &&
           kr_json_string(&who, "id", false, &ref->id) &&
           (ref->card || ref->phone || ref->email || ref->id ||
            kr_json_fail(&who, NULL, "name the customer by card, phone, email or id"));
}

kr_ops_status kr__ops_parse_ref(kr_ops *o, const char *json, kr_customer_ref *ref, json_t **root,
                                kr_buf *out)
{
    static const char *const keys[] = {"card", "phone", "email", "id", "source", NULL};
    kr_input_error err = {0};
    const char *source = NULL;
    memset(ref, 0, sizeof *ref);
    *root = kr_json_parse(json, strlen(json), o->line, &err);
    if (!*root)
        return kr__ops_input_error(o, out, &err);
    kr_json_obj obj = {.obj = *root, .err = &err};
    if (!kr_json_expect_object(&obj, keys) || !kr_json_string(&obj, "card", false, &ref->card) ||
        !kr_json_string(&obj, "phone", false, &ref->phone) ||
        !kr_json_string(&obj, "email", false, &ref->email) ||
        !kr_json_string(&obj, "id", false, &ref->id) ||
        !kr_json_string(&obj, "source", false, &source) ||
        (source && (!source[0] || strlen(source) > 64) &&
         !kr_json_fail(&obj, "source", "a source is 1..64 bytes (a store, a site)")) ||
        (!ref->card && !ref->phone && !ref->email && !ref->id &&
         !kr_json_fail(&obj, NULL, "name the customer by card, phone, email or id"))) {
        json_decref(*root);
        *root = NULL;
        return kr__ops_input_error(o, out, &err);
    }
    return KR_OPS_OK;
}

kr_ops_status kr__ops_resolve(kr_ops *o, const kr_customer_ref *ref, int64_t at, bool for_write,
                              int64_t *customer_id, kr_buf *out)
{
    kr_ledger_status ls;
    const char *field;
    *customer_id = 0;
    if (ref->card) {
        field = "customer.card";
        kr_ops_status gs = kr__ops_guard_check(o, at, out);
        if (gs != KR_OPS_OK)
            return gs;
        ls = kr_ledger_customer_by_card(o->db, ref->card, customer_id);
        if (ls == KR_LEDGER_STATE) {
            // An anonymous card handed out at a till: activated by its first confirmed receipt.
            if (!for_write) {
                // calculate: a card handed out but not used yet is a member with no history
                // (its first confirm activates it), so the cashier is quoted member prices.
                *customer_id = KR__OPS_NEW_CARD;
                return KR_OPS_OK;
            }
            ls = kr_ledger_card_activate(o->db, ref->card, 0, at, customer_id);
        }
        if (ls == KR_LEDGER_BLOCKED)
            return kr__ops_fail(o, out, KR_OPS_REFUSED, field, "card %s is blocked", ref->card);
        if (ls == KR_LEDGER_NOT_FOUND) {
            kr__ops_guard_missed(o, at);
            return kr__ops_fail(o, out, KR_OPS_NOT_FOUND, field, "no card %s", ref->card);
        }
    } else if (ref->phone) {
        field = "customer.phone";
        ls = kr_ledger_customer_by_phone(o->db, ref->phone, customer_id);
        if (ls == KR_LEDGER_NOT_FOUND)
            return kr__ops_fail(o, out, KR_OPS_NOT_FOUND, field, "no customer with phone %s",
                                ref->phone);
    } else if (ref->email) {
        field = "customer.email";
        ls = kr_ledger_customer_by_email(o->db, ref->email, customer_id);
        if (ls == KR_LEDGER_NOT_FOUND)
            return kr__ops_fail(o, out, KR_OPS_NOT_FOUND, field, "no customer with e-mail %s",
                                ref->email);
    } else if (ref->id) {
        field = "customer.id";
        ls = kr_ledger_customer_by_external_id(o->db, ref->id, customer_id);
        if (ls == KR_LEDGER_NOT_FOUND)
            return kr__ops_fail(o, out, KR_OPS_NOT_FOUND, field, "no customer with id %s",
                                ref->id);
    } else {
        return KR_OPS_OK; // anonymous
    }
    if (ls != KR_LEDGER_OK)
        return kr__ops_ledger_error(o, out, ls, field);
    int64_t survivor = *customer_id;
    ls = kr_ledger_customer_survivor(o->db, *customer_id, &survivor);
    if (ls != KR_LEDGER_OK)
        return kr__ops_ledger_error(o, out, ls, field);
    *customer_id = survivor;
    return KR_OPS_OK;
}

// Reads the program's data tables from the engine's Lua state.
static bool read_policy(kr_ops *o, char *err, size_t errsz)
{
    lua_State *L = o->engine->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, o->engine->program_ref);
    bool ok = kr_policy_read(L, -1, &o->policy, err, errsz);
    lua_pop(L, 1);
    return ok;
}

kr_ops_status kr_ops_open(const char *db_path, const kr_ops_program *program, kr_ops **out,
                          char *err, size_t errsz)
{
    *out = NULL;
    kr_ops *o = calloc(1, sizeof *o);
    if (!o) {
        snprintf(err, errsz, "out of memory");
        return KR_OPS_FAILED;
    }
    kr_engine_result_init(&o->result);
    kr_buf_init(&o->scratch, 0);
    kr_ops_set_card_guard(o, 10, 600, 1800); // kr-ops.h: the defaults
    kr_ledger_status ls = kr_ledger_open(db_path, &o->db, err, errsz);
    if (ls != KR_LEDGER_OK) {
        kr_ops_close(o);
        return ls == KR_LEDGER_BUSY ? KR_OPS_BUSY : KR_OPS_FAILED;
    }
    kr_engine_status es = kr_engine_open(program->lua, program->lua_len, program->name, NULL,
                                         &o->engine, err, errsz);
    if (es != KR_ENGINE_OK) {
        kr_ops_close(o);
        return KR_OPS_PROGRAM;
    }
    if (!read_policy(o, err, errsz)) {
        kr_ops_close(o);
        return KR_OPS_PROGRAM;
    }
    o->tz = kr_time_zone_load(o->policy.time_zone, err, errsz);
    if (!o->tz) {
        kr_ops_close(o);
        return KR_OPS_PROGRAM;
    }
    snprintf(o->program_id, sizeof o->program_id, "%s", o->policy.id);
    o->program_version = o->policy.version;
    o->minor_unit = o->policy.minor_unit;

    // Record the deployed version (idempotent: the same id, version and hash is a no-op).
    char hash[65];
    kr_ledger_sha256_hex(program->lua, program->lua_len, hash);
    kr_ledger_program rec = {
        .program_id = o->program_id,
        .version = o->program_version,
        .xml = (char *)(program->xml ? program->xml : ""),
        .lua = (char *)program->lua,
        .deployed_at = program->deployed_at,
        .deployed_by = (char *)(program->deployed_by ? program->deployed_by : "kopilka"),
    };
    memcpy(rec.hash, hash, sizeof rec.hash);
    ls = kr_ledger_program_put(o->db, &rec);
    if (ls == KR_LEDGER_CONFLICT) {
        snprintf(err, errsz,
                 "program %s version %lld is already deployed with other content: raise its "
                 "version",
                 o->program_id, (long long)o->program_version);
        kr_ops_close(o);
        return KR_OPS_CONFLICT;
    }
    if (ls != KR_LEDGER_OK && ls != KR_LEDGER_EXISTS) {
        snprintf(err, errsz, "%s", kr_ledger_errmsg(o->db));
        kr_ops_close(o);
        return KR_OPS_FAILED;
    }
    // Public multi-use codes of the program's batches exist as soon as the program does.
    for (size_t i = 0; i < o->policy.n_batches; i++) {
        const kr_batch *b = &o->policy.batches[i];
        if (b->single || !b->code)
            continue;
        int64_t until = b->to >= 0 ? kr__ops_day_start(o, b->to + 1) : KR_LEDGER_NEVER;
        ls = kr_ledger_promo_add(o->db, b->code, b->id, b->uses, b->per_customer, until);
        if (ls != KR_LEDGER_OK && ls != KR_LEDGER_CONFLICT) {
            snprintf(err, errsz, "promo code %s: %s", b->code, kr_ledger_errmsg(o->db));
            kr_ops_close(o);
            return KR_OPS_FAILED;
        }
    }
    *out = o;
    return KR_OPS_OK;
}

int64_t kr__ops_code_until(const kr_ops *o, const kr_batch *b, int64_t at)
{
    int64_t until = b->to >= 0 ? kr__ops_day_start(o, b->to + 1) : KR_LEDGER_NEVER;
    if (b->valid_days > 0) {
        int64_t own = kr__ops_day_start(o, kr__ops_local_day(o, at) + b->valid_days);
        if (until == KR_LEDGER_NEVER || own < until)
            until = own;
    }
    return until;
}

kr_ops_status kr_ops_codes_generate(kr_ops *o, const char *op_id, const char *batch,
                                    size_t count, int64_t at, kr_buf *out)
{
    // No 0/O, 1/I: codes are read aloud and typed by cashiers.
    static const char alphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    const kr_batch *b = kr_policy_batch(&o->policy, batch);
    if (!b)
        return kr__ops_fail(o, out, KR_OPS_NOT_FOUND, "batch", "the program has no batch %s",
                            batch);
    if (!b->single)
        return kr__ops_fail(o, out, KR_OPS_INVALID, "batch",
                            "batch %s is a multi-use code (%s); only single-use batches are "
                            "generated",
                            batch, b->code ? b->code : "");
    if (count == 0 || count > 100000)
        return kr__ops_fail(o, out, KR_OPS_INVALID, "count", "generate 1 to 100000 codes");
    if (!op_id || !*op_id || strlen(op_id) >= KR_LEDGER_ID_MAX)
        return kr__ops_fail(o, out, KR_OPS_INVALID, "id",
                            "an operation id of 1 to %d bytes is required", KR_LEDGER_ID_MAX - 1);
    int64_t until = kr__ops_code_until(o, b, at);
    kr_ledger_status ls = kr_ledger_begin(o->db);
    if (ls != KR_LEDGER_OK)
        return kr__ops_ledger_error(o, out, ls, NULL);
    // The check and the codes are one transaction: a crash before the commit leaves no code and
    // no trace of the id, so the retry generates them; after it, the retry reads them back.
    kr_ops_status rep = kr__ops_issued_repeat(o, KR_LEDGER_ISSUED_CODES, op_id, batch, count,
                                              "codes", out);
    if (rep != KR_OPS_OK) {
        kr_ledger_rollback(o->db);
        return rep == KR_OPS_REPLAY ? KR_OPS_OK : rep;
    }
    kr_buf_reset(out);
    kr_buf_puts(out, "{\"batch\":");
    kr_buf_json_string(out, batch);
    kr_buf_puts(out, ",\"codes\":[");
    for (size_t i = 0; i < count && ls == KR_LEDGER_OK; i++) {
        char code[80];
        for (int attempt = 0; attempt < 10; attempt++) {
            size_t n = (size_t)snprintf(code, sizeof code, "%s%s", b->prefix ? b->prefix : "",
                                        b->prefix ? "-" : "");
            for (int k = 0; k < 8; k++)
                code[n++] = alphabet[randombytes_uniform(sizeof alphabet - 1)];
            code[n] = '\0';
            ls = kr_ledger_promo_add(o->db, code, b->id, 1, b->per_customer, until);
            if (ls != KR_LEDGER_CONFLICT)
                break;
        }
        if (ls == KR_LEDGER_OK)
            ls = kr_ledger_issued_mark(o->db, KR_LEDGER_ISSUED_CODES, code, op_id);
        if (ls == KR_LEDGER_OK) {
            kr_buf_puts(out, i ? "," : "");
            kr_buf_json_string(out, code);
        }
    }
    if (ls == KR_LEDGER_OK)
        ls = kr_ledger_commit(o->db);
    if (ls != KR_LEDGER_OK) {
        kr_ledger_rollback(o->db);
        return kr__ops_ledger_error(o, out, ls, "batch");
    }
    kr_buf_puts(out, "]}");
    return out->failed ? KR_OPS_FAILED : KR_OPS_OK;
}

kr_ops_status kr_ops_open_deployed(const char *db_path, kr_ops **out, char *err, size_t errsz)
{
    *out = NULL;
    kr_ledger *db = NULL;
    kr_ledger_status ls = kr_ledger_open(db_path, &db, err, errsz);
    if (ls != KR_LEDGER_OK)
        return ls == KR_LEDGER_BUSY ? KR_OPS_BUSY : KR_OPS_FAILED;
    kr_ledger_program *p = NULL;
    ls = kr_ledger_program_latest(db, &p);
    if (ls != KR_LEDGER_OK) {
        snprintf(err, errsz, "%s: %s", db_path, kr_ledger_errmsg(db));
        kr_ledger_close(db);
        return ls == KR_LEDGER_NOT_FOUND ? KR_OPS_NOT_FOUND : KR_OPS_FAILED;
    }
    kr_ledger_close(db);
    char name[300];
    snprintf(name, sizeof name, "%s (version %lld deployed in %s)", p->program_id,
             (long long)p->version, db_path);
    kr_ops_program prog = {.lua = p->lua, .lua_len = strlen(p->lua), .name = name,
                           .xml = p->xml, .xml_len = strlen(p->xml),
                           .deployed_by = p->deployed_by, .deployed_at = p->deployed_at};
    kr_ops_status st = kr_ops_open(db_path, &prog, out, err, errsz);
    kr_ledger_program_free(p);
    return st;
}

void kr_ops_close(kr_ops *o)
{
    if (!o)
        return;
    kr_policy_free(&o->policy);
    kr_time_zone_free(o->tz);
    kr_engine_result_free(&o->result);
    kr_engine_close(o->engine);
    kr_ledger_close(o->db);
    kr_buf_free(&o->scratch);
    free(o);
}

typedef struct check_report {
    kr_buf *b;
    int64_t n;
} check_report;

// Lists the first 100 violations; the count says how many there were in all.
static void on_violation(void *ud, const char *violation)
{
    check_report *r = ud;
    if (r->n++ >= 100)
        return;
    if (r->n > 1)
        kr_buf_puts(r->b, ",");
    kr_buf_json_string(r->b, violation);
}

kr_ops_status kr_ops_check(kr_ops *o, kr_buf *out, int64_t *violations)
{
    check_report r = {out, 0};
    kr_buf_reset(out);
    kr_buf_puts(out, "{\"problems\":[");
    kr_ledger_status ls = kr_ledger_check(o->db, on_violation, &r, violations);
    if (ls != KR_LEDGER_OK)
        return kr__ops_ledger_error(o, out, ls, NULL);
    kr_buf_printf(out, "],\"violations\":%lld}", (long long)*violations);
    return out->failed ? KR_OPS_FAILED : KR_OPS_OK;
}
