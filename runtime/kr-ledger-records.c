// SPDX-License-Identifier: MIT
// kr-ledger-records: receipts, counters, tiers, program versions, outbox, promo codes,
// certificates.
#include "kr-ledger-private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool is_hex64(const char *s)
{
    if (!s || strlen(s) != 64)
        return false;
    for (size_t i = 0; i < 64; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

// Runs a savepoint around fn's status, keeping EXISTS (a no-op) as the answer.
static kr_ledger_status finish(kr_ledger *db, kr_ledger_status s)
{
    kr_ledger_status e = kr_ledger_sp_end(db, s == KR_LEDGER_EXISTS ? KR_LEDGER_OK : s);
    return e == KR_LEDGER_OK ? s : e;
}

// --- receipts -------------------------------------------------------------------------------

static const char *const receipt_states[] = {"confirmed", "cancelled", "partially_returned",
                                             "returned"};

void kr_ledger_receipt_free(kr_ledger_receipt *r)
{
    if (!r)
        return;
    free(r->id);
    free(r->result);
    free(r);
}

kr_ledger_status kr_ledger_receipt_get(kr_ledger *db, const char *id, kr_ledger_receipt **out)
{
    static const char sql[] = "SELECT body_hash, customer_id, state, result, created_at,"
                              " updated_at FROM receipt WHERE id = ?1";
    *out = NULL;
    kr_ledger_status s = kr_ledger_check_id(db, "receipt id", id);
    if (s != KR_LEDGER_OK)
        return s;
    sqlite3_stmt *st = kr_ledger_stmt(db, sql);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "t", id);
    bool row = false;
    if (s == KR_LEDGER_OK)
        s = kr_ledger_step(db, st, &row);
    if (s != KR_LEDGER_OK)
        return s;
    if (!row)
        return kr_ledger_fail(db, KR_LEDGER_NOT_FOUND, "receipt '%s' not found", id);
    kr_ledger_receipt *r = calloc(1, sizeof *r);
    if (!r) {
        kr_ledger_done(st);
        return kr_ledger_fail(db, KR_LEDGER_NOMEM, "out of memory");
    }
    r->id = strdup(id);
    kr_ledger_col_copy(st, 0, r->body_hash, sizeof r->body_hash);
    r->customer_id = sqlite3_column_int64(st, 1);
    const char *state = (const char *)sqlite3_column_text(st, 2);
    for (size_t i = 0; state && i < 4; i++)
        if (strcmp(state, receipt_states[i]) == 0)
            r->state = (kr_ledger_receipt_state)i;
    s = kr_ledger_col_dup(db, st, 3, &r->result);
    r->created_at = sqlite3_column_int64(st, 4);
    r->updated_at = sqlite3_column_int64(st, 5);
    kr_ledger_done(st);
    if (s == KR_LEDGER_OK && (!r->id || !r->result))
        s = kr_ledger_fail(db, KR_LEDGER_NOMEM, "out of memory");
    if (s != KR_LEDGER_OK) {
        kr_ledger_receipt_free(r);
        return s;
    }
    *out = r;
    return KR_LEDGER_OK;
}

kr_ledger_status kr_ledger_receipt_put(kr_ledger *db, const kr_ledger_receipt_in *in,
                                       kr_ledger_receipt **out_stored)
{
    static const char sql[] =
        "INSERT INTO receipt(id, body_hash, customer_id, state, result, created_at, updated_at)"
        " VALUES (?1, ?2, ?3, 'confirmed', ?4, ?5, ?5)";
    if (out_stored)
        *out_stored = NULL;
    if (!in)
        return kr_ledger_fail(db, KR_LEDGER_INVALID, "no receipt given");
    kr_ledger_status s = kr_ledger_check_id(db, "receipt id", in->id);
    if (s != KR_LEDGER_OK)
        return s;
    if (!is_hex64(in->body_hash))
        return kr_ledger_fail(db, KR_LEDGER_INVALID,
                              "body hash must be 64 lowercase hex digits (SHA-256)");
    if (!in->result)
        return kr_ledger_fail(db, KR_LEDGER_INVALID, "receipt result text is missing");
    kr_ledger_receipt *old = NULL;
    s = kr_ledger_receipt_get(db, in->id, &old);
    if (s == KR_LEDGER_OK) {
        bool same = strcmp(old->body_hash, in->body_hash) == 0;
        if (same)
            s = kr_ledger_fail(db, KR_LEDGER_EXISTS, "receipt '%s' was already confirmed", in->id);
        else
            s = kr_ledger_fail(db, KR_LEDGER_CONFLICT,
                               "receipt '%s' was already confirmed with a different body", in->id);
        if (out_stored)
            *out_stored = old;
        else
            kr_ledger_receipt_free(old);
        return s;
    }
    if (s != KR_LEDGER_NOT_FOUND)
        return s;
    if (in->customer_id) {
        s = kr_ledger_live_customer(db, in->customer_id);
        if (s != KR_LEDGER_OK)
            return s;
    }
    sqlite3_stmt *st = kr_ledger_stmt(db, sql);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "ttzti", in->id, in->body_hash, in->customer_id, in->result, in->at);
    if (s == KR_LEDGER_OK)
        s = kr_ledger_exec_done(db, st);
    return s;
}

kr_ledger_status kr_ledger_receipt_set_state(kr_ledger *db, const char *id,
                                             kr_ledger_receipt_state state, int64_t at)
{
    static const char sql[] = "UPDATE receipt SET state = ?2, updated_at = ?3 WHERE id = ?1";
    kr_ledger_status s = kr_ledger_check_id(db, "receipt id", id);
    if (s != KR_LEDGER_OK)
        return s;
    if ((size_t)state >= 4)
        return kr_ledger_fail(db, KR_LEDGER_INVALID, "unknown receipt state %d", (int)state);
    sqlite3_stmt *st = kr_ledger_stmt(db, sql);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "tti", id, receipt_states[state], at);
    if (s == KR_LEDGER_OK)
        s = kr_ledger_exec_done(db, st);
    if (s == KR_LEDGER_OK && sqlite3_changes(db->sql) == 0)
        s = kr_ledger_fail(db, KR_LEDGER_NOT_FOUND, "receipt '%s' not found", id);
    return s;
}

kr_ledger_status kr_ledger_receipt_line_return(kr_ledger *db, const char *receipt_id,
                                               const char *line_id, const char *op_id, int64_t at)
{
    static const char q[] = "SELECT op_id FROM receipt_line_return"
                            " WHERE receipt_id = ?1 AND line_id = ?2";
    static const char q_receipt[] = "SELECT 1 FROM receipt WHERE id = ?1";
    static const char ins[] = "INSERT INTO receipt_line_return(receipt_id, line_id, op_id, at)"
                              " VALUES (?1, ?2, ?3, ?4)";
    kr_ledger_status s = kr_ledger_check_id(db, "receipt id", receipt_id);
    if (s == KR_LEDGER_OK)
        s = kr_ledger_check_id(db, "line id", line_id);
    if (s == KR_LEDGER_OK)
        s = kr_ledger_check_id(db, "operation id", op_id);
    if (s != KR_LEDGER_OK)
        return s;
    sqlite3_stmt *st = kr_ledger_stmt(db, q_receipt);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "t", receipt_id);
    bool row = false;
    if (s == KR_LEDGER_OK)
        s = kr_ledger_step(db, st, &row);
    if (s != KR_LEDGER_OK)
        return s;
    kr_ledger_done(st);
    if (!row)
        return kr_ledger_fail(db, KR_LEDGER_NOT_FOUND, "receipt '%s' not found", receipt_id);
    st = kr_ledger_stmt(db, q);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "tt", receipt_id, line_id);
    if (s == KR_LEDGER_OK)
        s = kr_ledger_step(db, st, &row);
    if (s != KR_LEDGER_OK)
        return s;
    if (row) {
        char prev[KR_LEDGER_ID_MAX];
        kr_ledger_col_copy(st, 0, prev, sizeof prev);
        kr_ledger_done(st);
        if (strcmp(prev, op_id) == 0)
            return KR_LEDGER_EXISTS;
        return kr_ledger_fail(db, KR_LEDGER_CONFLICT,
                              "line '%s' of receipt '%s' was already returned by '%s'", line_id,
                              receipt_id, prev);
    }
    st = kr_ledger_stmt(db, ins);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "ttti", receipt_id, line_id, op_id, at);
    if (s == KR_LEDGER_OK)
        s = kr_ledger_exec_done(db, st);
    return s;
}

void kr_ledger_strings_free(char **v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

kr_ledger_status kr_ledger_receipt_returned_lines(kr_ledger *db, const char *receipt_id,
                                                  char ***out, size_t *out_n)
{
    static const char sql[] =
        "SELECT line_id FROM receipt_line_return WHERE receipt_id = ?1 ORDER BY line_id";
    *out = NULL;
    *out_n = 0;
    kr_ledger_status s = kr_ledger_check_id(db, "receipt id", receipt_id);
    if (s != KR_LEDGER_OK)
        return s;
    sqlite3_stmt *st = kr_ledger_stmt(db, sql);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "t", receipt_id);
    char **v = NULL;
    size_t n = 0, cap = 0;
    bool row = true;
    while (s == KR_LEDGER_OK && (s = kr_ledger_step(db, st, &row)) == KR_LEDGER_OK && row) {
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            char **p = realloc(v, cap * sizeof *p);
            if (!p) {
                s = kr_ledger_fail(db, KR_LEDGER_NOMEM, "out of memory");
                kr_ledger_done(st);
                break;
            }
            v = p;
        }
        s = kr_ledger_col_dup(db, st, 0, &v[n]);
        if (s != KR_LEDGER_OK) {
            kr_ledger_done(st);
            break;
        }
        n++;
    }
    if (s != KR_LEDGER_OK) {
        kr_ledger_strings_free(v, n);
        return s;
    }
    kr_ledger_done(st);
    *out = v;
    *out_n = n;
    return KR_LEDGER_OK;
}

// --- counters -------------------------------------------------------------------------------

kr_ledger_status kr_ledger_counter_add(kr_ledger *db, int64_t customer_id, const char *metric,
                                       const char *period, int64_t delta, int64_t *out_value)
{
    static const char sql[] =
        "INSERT INTO counter(customer_id, metric, period, value) VALUES (?1, ?2, ?3, ?4)"
        " ON CONFLICT(customer_id, metric, period) DO UPDATE SET value = value + excluded.value"
        " RETURNING value";
    kr_ledger_status s = kr_ledger_check_id(db, "metric", metric);
    if (s == KR_LEDGER_OK)
        s = kr_ledger_check_id(db, "period", period);
    if (s == KR_LEDGER_OK)
        s = kr_ledger_live_customer(db, customer_id);
    if (s != KR_LEDGER_OK)
        return s;
    sqlite3_stmt *st = kr_ledger_stmt(db, sql);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "itti", customer_id, metric, period, delta);
    bool row = false;
    if (s == KR_LEDGER_OK)
        s = kr_ledger_step(db, st, &row);
    if (s != KR_LEDGER_OK)
        return s;
    int64_t v = row ? sqlite3_column_int64(st, 0) : 0;
    // Step to completion so the RETURNING statement finishes its write.
    if (row)
        s = kr_ledger_step(db, st, &row);
    if (s != KR_LEDGER_OK)
        return s;
    kr_ledger_done(st);
    if (out_value)
        *out_value = v;
    return KR_LEDGER_OK;
}

kr_ledger_status kr_ledger_counter_get(kr_ledger *db, int64_t customer_id, const char *metric,
                                       const char *period, int64_t *out_value)
{
    static const char sql[] =
        "SELECT value FROM counter WHERE customer_id = ?1 AND metric = ?2 AND period = ?3";
    kr_ledger_status s = kr_ledger_check_id(db, "metric", metric);
    if (s == KR_LEDGER_OK)
        s = kr_ledger_check_id(db, "period", period);
    if (s != KR_LEDGER_OK)
        return s;
    sqlite3_stmt *st = kr_ledger_stmt(db, sql);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "itt", customer_id, metric, period);
    bool row = false;
    if (s == KR_LEDGER_OK)
        s = kr_ledger_step(db, st, &row);
    if (s != KR_LEDGER_OK)
        return s;
    *out_value = row ? sqlite3_column_int64(st, 0) : 0;
    kr_ledger_done(st);
    return KR_LEDGER_OK;
}

// --- tiers ----------------------------------------------------------------------------------

kr_ledger_status kr_ledger_tier_set(kr_ledger *db, int64_t customer_id, const kr_ledger_tier *t)
{
    static const char sql[] = "INSERT INTO tier_history(customer_id, ladder_id, tier_id, from_at,"
                              " reason, floor_until) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
    if (!t)
        return kr_ledger_fail(db, KR_LEDGER_INVALID, "no tier given");
    kr_ledger_status s = kr_ledger_check_id(db, "ladder id", t->ladder_id);
    if (s == KR_LEDGER_OK)
        s = kr_ledger_check_id(db, "tier id", t->tier_id);
    if (s != KR_LEDGER_OK)
        return s;
    if (t->reason != KR_LEDGER_TIER_COMPUTED && t->reason != KR_LEDGER_TIER_MANUAL)
        return kr_ledger_fail(db, KR_LEDGER_INVALID, "unknown tier reason %d", (int)t->reason);
    s = kr_ledger_live_customer(db, customer_id);
    if (s != KR_LEDGER_OK)
        return s;
    sqlite3_stmt *st = kr_ledger_stmt(db, sql);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "ittite", customer_id, t->ladder_id, t->tier_id, t->from_at,
                       t->reason == KR_LEDGER_TIER_MANUAL ? "manual" : "computed", t->floor_until);
    if (s == KR_LEDGER_OK)
        s = kr_ledger_exec_done(db, st);
    return s;
}

kr_ledger_status kr_ledger_tier_current(kr_ledger *db, int64_t customer_id, const char *ladder_id,
                                        int64_t at, kr_ledger_tier *out)
{
    static const char sql[] = "SELECT tier_id, from_at, reason, floor_until FROM tier_history"
                              " WHERE customer_id = ?1 AND ladder_id = ?2 AND from_at <= ?3"
                              " ORDER BY from_at DESC, id DESC LIMIT 1";
    kr_ledger_status s = kr_ledger_check_id(db, "ladder id", ladder_id);
    if (s != KR_LEDGER_OK)
        return s;
    sqlite3_stmt *st = kr_ledger_stmt(db, sql);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "iti", customer_id, ladder_id, at);
    bool row = false;
    if (s == KR_LEDGER_OK)
        s = kr_ledger_step(db, st, &row);
    if (s != KR_LEDGER_OK)
        return s;
    if (!row)
        return kr_ledger_fail(db, KR_LEDGER_NOT_FOUND, "customer %lld has no tier on '%s'",
                              (long long)customer_id, ladder_id);
    memset(out, 0, sizeof *out);
    snprintf(out->ladder_id, sizeof out->ladder_id, "%s", ladder_id);
    kr_ledger_col_copy(st, 0, out->tier_id, sizeof out->tier_id);
    out->from_at = sqlite3_column_int64(st, 1);
    const char *reason = (const char *)sqlite3_column_text(st, 2);
    out->reason =
        reason && strcmp(reason, "manual") == 0 ? KR_LEDGER_TIER_MANUAL : KR_LEDGER_TIER_COMPUTED;
    out->floor_until = kr_ledger_col_expiry(st, 3);
    kr_ledger_done(st);
    return KR_LEDGER_OK;
}

// --- program versions -----------------------------------------------------------------------

kr_ledger_status kr_ledger_program_put(kr_ledger *db, const kr_ledger_program *p)
{
    static const char q[] =
        "SELECT hash FROM program_version WHERE program_id = ?1 AND version = ?2";
    static const char ins[] = "INSERT INTO program_version(program_id, version, hash, xml, lua,"
                              " deployed_at, deployed_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
    if (!p)
        return kr_ledger_fail(db, KR_LEDGER_INVALID, "no program given");
    kr_ledger_status s = kr_ledger_check_id(db, "program id", p->program_id);
    if (s == KR_LEDGER_OK)
        s = kr_ledger_check_id(db, "deployed by", p->deployed_by);
    if (s != KR_LEDGER_OK)
        return s;
    if (!is_hex64(p->hash))
        return kr_ledger_fail(db, KR_LEDGER_INVALID, "program hash must be SHA-256 hex");
    if (!p->xml || !p->lua)
        return kr_ledger_fail(db, KR_LEDGER_INVALID, "program XML or Lua text is missing");
    sqlite3_stmt *st = kr_ledger_stmt(db, q);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "ti", p->program_id, p->version);
    bool row = false;
    if (s == KR_LEDGER_OK)
        s = kr_ledger_step(db, st, &row);
    if (s != KR_LEDGER_OK)
        return s;
    if (row) {
        char hash[65];
        kr_ledger_col_copy(st, 0, hash, sizeof hash);
        kr_ledger_done(st);
        if (strcmp(hash, p->hash) == 0)
            return KR_LEDGER_EXISTS;
        return kr_ledger_fail(db, KR_LEDGER_CONFLICT,
                              "program '%s' version %lld is stored with another hash",
                              p->program_id, (long long)p->version);
    }
    st = kr_ledger_stmt(db, ins);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "titttit", p->program_id, p->version, p->hash, p->xml, p->lua,
                       p->deployed_at, p->deployed_by);
    if (s == KR_LEDGER_OK)
        s = kr_ledger_exec_done(db, st);
    return s;
}

void kr_ledger_program_free(kr_ledger_program *p)
{
    if (!p)
        return;
    free(p->program_id);
    free(p->xml);
    free(p->lua);
    free(p->deployed_by);
    free(p);
}

kr_ledger_status kr_ledger_program_current(kr_ledger *db, const char *program_id,
                                           kr_ledger_program **out)
{
    static const char sql[] = "SELECT program_id, version, hash, xml, lua, deployed_at, deployed_by"
                              " FROM program_version WHERE program_id = ?1"
                              " ORDER BY deployed_at DESC, version DESC LIMIT 1";
    *out = NULL;
    kr_ledger_status s = kr_ledger_check_id(db, "program id", program_id);
    if (s != KR_LEDGER_OK)
        return s;
    sqlite3_stmt *st = kr_ledger_stmt(db, sql);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "t", program_id);
    bool row = false;
    if (s == KR_LEDGER_OK)
        s = kr_ledger_step(db, st, &row);
    if (s != KR_LEDGER_OK)
        return s;
    if (!row)
        return kr_ledger_fail(db, KR_LEDGER_NOT_FOUND, "program '%s' was never deployed",
                              program_id);
    kr_ledger_program *p = calloc(1, sizeof *p);
    if (!p) {
        kr_ledger_done(st);
        return kr_ledger_fail(db, KR_LEDGER_NOMEM, "out of memory");
    }
    s = kr_ledger_col_dup(db, st, 0, &p->program_id);
    p->version = sqlite3_column_int64(st, 1);
    kr_ledger_col_copy(st, 2, p->hash, sizeof p->hash);
    if (s == KR_LEDGER_OK)
        s = kr_ledger_col_dup(db, st, 3, &p->xml);
    if (s == KR_LEDGER_OK)
        s = kr_ledger_col_dup(db, st, 4, &p->lua);
    p->deployed_at = sqlite3_column_int64(st, 5);
    if (s == KR_LEDGER_OK)
        s = kr_ledger_col_dup(db, st, 6, &p->deployed_by);
    kr_ledger_done(st);
    if (s != KR_LEDGER_OK) {
        kr_ledger_program_free(p);
        return s;
    }
    *out = p;
    return KR_LEDGER_OK;
}

// --- outbox ---------------------------------------------------------------------------------

static const char *const outbox_states[] = {"pending", "sent", "failed", "cancelled"};

static kr_ledger_status outbox_enqueue(kr_ledger *db, const kr_ledger_outbox_in *in,
                                       int64_t *out_id)
{
    static const char q[] = "SELECT id FROM outbox WHERE key = ?1";
    static const char ins[] =
        "INSERT INTO outbox(key, customer_id, kind, channels, payload, due_at, state,"
        " created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', ?7, ?7)";
    kr_ledger_status s = kr_ledger_check_id(db, "outbox key", in->key);
    if (s == KR_LEDGER_OK)
        s = kr_ledger_check_id(db, "notification kind", in->kind);
    if (s != KR_LEDGER_OK)
        return s;
    if (!in->payload)
        return kr_ledger_fail(db, KR_LEDGER_INVALID, "notification payload is missing");
    if (in->n_channels == 0 || !in->channels)
        return kr_ledger_fail(db, KR_LEDGER_INVALID, "a notification needs at least one channel");
    char channels[KR_LEDGER_ID_MAX] = "";
    size_t len = 0;
    for (size_t i = 0; i < in->n_channels; i++) {
        const char *c = in->channels[i];
        if (!c || !c[0] || strchr(c, ','))
            return kr_ledger_fail(db, KR_LEDGER_INVALID, "channel %zu is empty or has a comma", i);
        size_t cl = strlen(c);
        if (len + cl + 2 > sizeof channels)
            return kr_ledger_fail(db, KR_LEDGER_INVALID, "channel list is too long");
        if (i)
            channels[len++] = ',';
        memcpy(channels + len, c, cl + 1);
        len += cl;
    }
    sqlite3_stmt *st = kr_ledger_stmt(db, q);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "t", in->key);
    bool row = false;
    if (s == KR_LEDGER_OK)
        s = kr_ledger_step(db, st, &row);
    if (s != KR_LEDGER_OK)
        return s;
    if (row) {
        if (out_id)
            *out_id = sqlite3_column_int64(st, 0);
        kr_ledger_done(st);
        return KR_LEDGER_EXISTS;
    }
    s = kr_ledger_live_customer(db, in->customer_id);
    if (s != KR_LEDGER_OK)
        return s;
    st = kr_ledger_stmt(db, ins);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "titttii", in->key, in->customer_id, in->kind, channels, in->payload,
                       in->due_at, in->created_at);
    if (s == KR_LEDGER_OK)
        s = kr_ledger_exec_done(db, st);
    if (s == KR_LEDGER_OK && out_id)
        *out_id = sqlite3_last_insert_rowid(db->sql);
    return s;
}

kr_ledger_status kr_ledger_outbox_enqueue(kr_ledger *db, const kr_ledger_outbox_in *in,
                                          int64_t *out_id)
{
    if (!in)
        return kr_ledger_fail(db, KR_LEDGER_INVALID, "no notification given");
    kr_ledger_status s = kr_ledger_sp_begin(db);
    if (s != KR_LEDGER_OK)
        return s;
    return finish(db, outbox_enqueue(db, in, out_id));
}

void kr_ledger_outbox_free(kr_ledger_outbox_msg *v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i].payload);
    free(v);
}

kr_ledger_status kr_ledger_outbox_due(kr_ledger *db, int64_t at, size_t limit,
                                      kr_ledger_outbox_msg **out, size_t *out_n)
{
    static const char sql[] =
        "SELECT id, key, customer_id, kind, channels, payload, due_at, attempts FROM outbox"
        " WHERE state = 'pending' AND due_at <= ?1 ORDER BY due_at, id LIMIT ?2";
    *out = NULL;
    *out_n = 0;
    if (limit == 0 || limit > 10000)
        return kr_ledger_fail(db, KR_LEDGER_INVALID, "outbox limit %zu is not in 1..10000", limit);
    kr_ledger_outbox_msg *v = calloc(limit, sizeof *v);
    if (!v)
        return kr_ledger_fail(db, KR_LEDGER_NOMEM, "out of memory");
    sqlite3_stmt *st = kr_ledger_stmt(db, sql);
    if (!st) {
        free(v);
        return KR_LEDGER_DB_ERROR;
    }
    kr_ledger_status s = kr_ledger_bind(db, st, "ii", at, (int64_t)limit);
    size_t n = 0;
    bool row = true;
    while (s == KR_LEDGER_OK && n < limit && (s = kr_ledger_step(db, st, &row)) == KR_LEDGER_OK &&
           row) {
        kr_ledger_outbox_msg *m = &v[n];
        m->id = sqlite3_column_int64(st, 0);
        kr_ledger_col_copy(st, 1, m->key, sizeof m->key);
        m->customer_id = sqlite3_column_int64(st, 2);
        kr_ledger_col_copy(st, 3, m->kind, sizeof m->kind);
        kr_ledger_col_copy(st, 4, m->channels, sizeof m->channels);
        s = kr_ledger_col_dup(db, st, 5, &m->payload);
        m->due_at = sqlite3_column_int64(st, 6);
        m->state = KR_LEDGER_OUTBOX_PENDING;
        m->attempts = sqlite3_column_int64(st, 7);
        n++;
    }
    kr_ledger_done(st);
    if (s != KR_LEDGER_OK) {
        kr_ledger_outbox_free(v, n);
        return s;
    }
    if (n == 0) {
        free(v);
        v = NULL;
    }
    *out = v;
    *out_n = n;
    return KR_LEDGER_OK;
}

kr_ledger_status kr_ledger_outbox_mark(kr_ledger *db, int64_t id, kr_ledger_outbox_state state,
                                       int64_t at)
{
    static const char sql[] = "UPDATE outbox SET state = ?2, updated_at = ?3,"
                              " attempts = attempts + ?4 WHERE id = ?1";
    if ((size_t)state >= 4)
        return kr_ledger_fail(db, KR_LEDGER_INVALID, "unknown outbox state %d", (int)state);
    int64_t attempt = (state == KR_LEDGER_OUTBOX_SENT || state == KR_LEDGER_OUTBOX_FAILED) ? 1 : 0;
    sqlite3_stmt *st = kr_ledger_stmt(db, sql);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    kr_ledger_status s = kr_ledger_bind(db, st, "itii", id, outbox_states[state], at, attempt);
    if (s == KR_LEDGER_OK)
        s = kr_ledger_exec_done(db, st);
    if (s == KR_LEDGER_OK && sqlite3_changes(db->sql) == 0)
        s = kr_ledger_fail(db, KR_LEDGER_NOT_FOUND, "notification %lld not found", (long long)id);
    return s;
}

static kr_ledger_status outbox_row(kr_ledger *db, sqlite3_stmt *st, kr_ledger_outbox_msg *m)
{
    m->id = sqlite3_column_int64(st, 0);
    kr_ledger_col_copy(st, 1, m->key, sizeof m->key);
    m->customer_id = sqlite3_column_int64(st, 2);
    kr_ledger_col_copy(st, 3, m->kind, sizeof m->kind);
    kr_ledger_col_copy(st, 4, m->channels, sizeof m->channels);
    m->due_at = sqlite3_column_int64(st, 6);
    m->attempts = sqlite3_column_int64(st, 7);
    const char *state = (const char *)sqlite3_column_text(st, 8);
    m->state = KR_LEDGER_OUTBOX_PENDING;
    for (size_t i = 0; state && i < 4; i++)
        if (strcmp(state, outbox_states[i]) == 0)
            m->state = (kr_ledger_outbox_state)i;
    m->created_at = sqlite3_column_int64(st, 9);
    return kr_ledger_col_dup(db, st, 5, &m->payload);
}

#define OUTBOX_COLUMNS                                                                             \
    "SELECT id, key, customer_id, kind, channels, payload, due_at, attempts, state, created_at"    \
    " FROM outbox"

kr_ledger_status kr_ledger_outbox_get(kr_ledger *db, int64_t id, kr_ledger_outbox_msg *out)
{
    static const char sql[] = OUTBOX_COLUMNS " WHERE id = ?1";
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st = kr_ledger_stmt(db, sql);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    kr_ledger_status s = kr_ledger_bind(db, st, "i", id);
    bool row = false;
    if (s == KR_LEDGER_OK)
        s = kr_ledger_step(db, st, &row);
    if (s != KR_LEDGER_OK)
        return s;
    if (!row)
        return kr_ledger_fail(db, KR_LEDGER_NOT_FOUND, "notification %lld not found",
                              (long long)id);
    s = outbox_row(db, st, out);
    kr_ledger_done(st);
    return s;
}

kr_ledger_status kr_ledger_outbox_pending(kr_ledger *db, int64_t customer_id, int64_t after_id,
                                          size_t limit, kr_ledger_outbox_msg **out,
                                          size_t *out_n)
{
    static const char sql[] = OUTBOX_COLUMNS " WHERE state = 'pending' AND id > ?1"
                                             " AND (?2 = 0 OR customer_id = ?2) ORDER BY id LIMIT ?3";
    *out = NULL;
    *out_n = 0;
    if (limit == 0 || limit > 10000)
        return kr_ledger_fail(db, KR_LEDGER_INVALID, "outbox limit %zu is not in 1..10000", limit);
    kr_ledger_outbox_msg *v = calloc(limit, sizeof *v);
    if (!v)
        return kr_ledger_fail(db, KR_LEDGER_NOMEM, "out of memory");
    sqlite3_stmt *st = kr_ledger_stmt(db, sql);
    if (!st) {
        free(v);
        return KR_LEDGER_DB_ERROR;
    }
    kr_ledger_status s = kr_ledger_bind(db, st, "iii", after_id, customer_id, (int64_t)limit);
    size_t n = 0;
    bool row = true;
    while (s == KR_LEDGER_OK && n < limit && (s = kr_ledger_step(db, st, &row)) == KR_LEDGER_OK &&
           row)
        s = outbox_row(db, st, &v[n++]);
    kr_ledger_done(st);
    if (s != KR_LEDGER_OK || n == 0) {
        kr_ledger_outbox_free(v, n);
        return s;
    }
    *out = v;
    *out_n = n;
    return KR_LEDGER_OK;
}

// --- promo codes ----------------------------------------------------------------------------

kr_ledger_status kr_ledger_promo_add(kr_ledger *db, const char *code, const char *batch_id,
                                     int64_t max_uses, int64_t max_per_customer,
                                     int64_t valid_until)
{
    return kr_ledger_promo_add_owned(db, code, batch_id, max_uses, max_per_customer, valid_until,
                                     0);
}

kr_ledger_status kr_ledger_promo_add_owned(kr_ledger *db, const char *code, const char *batch_id,
                                           int64_t max_uses, int64_t max_per_customer,
                                           int64_t valid_until, int64_t owner_id)
{
    static const char sql[] = "INSERT INTO promo_code(code, batch_id, max_uses, max_per_customer,"
                              " valid_until, owner_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
    kr_ledger_status s = kr_ledger_check_id(db, "promo code", code);
    if (s == KR_LEDGER_OK)
        s = kr_ledger_check_id(db, "batch id", batch_id);
    if (s == KR_LEDGER_OK && owner_id)
        s = kr_ledger_live_customer(db, owner_id);
    if (s != KR_LEDGER_OK)
        return s;
    if (max_uses < 0 || max_per_customer < 0)
        return kr_ledger_fail(db, KR_LEDGER_INVALID, "use limits cannot be negative");
    sqlite3_stmt *st = kr_ledger_stmt(db, sql);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "ttiiez", code, batch_id, max_uses, max_per_customer, valid_until,
                       owner_id);
    if (s == KR_LEDGER_OK)
        s = kr_ledger_exec_done(db, st);
    if (s == KR_LEDGER_CONFLICT)
        return kr_ledger_fail(db, KR_LEDGER_CONFLICT, "promo code '%s' already exists", code);
    return s;
}

static kr_ledger_status promo_use(kr_ledger *db, const char *code, int64_t customer_id,
                                  const char *op_id, int64_t at)
{
    static const char q_code[] = "SELECT max_uses, max_per_customer, valid_until, uses, owner_id"
                                 " FROM promo_code WHERE code = ?1";
    static const char q_used[] = "SELECT 1 FROM promo_use WHERE code = ?1 AND op_id = ?2";
    static const char q_cust[] =
        "SELECT count(*) FROM promo_use WHERE code = ?1 AND customer_id = ?2";
    static const char ins[] =
        "INSERT INTO promo_use(code, op_id, customer_id, at) VALUES (?1, ?2, ?3, ?4)";
    static const char inc[] = "UPDATE promo_code SET uses = uses + 1 WHERE code = ?1";
    kr_ledger_status s = kr_ledger_check_id(db, "promo code", code);
    if (s == KR_LEDGER_OK)
        s = kr_ledger_check_id(db, "operation id", op_id);
    if (s == KR_LEDGER_OK && customer_id)
        s = kr_ledger_live_customer(db, customer_id);
    if (s != KR_LEDGER_OK)
        return s;
    sqlite3_stmt *st = kr_ledger_stmt(db, q_code);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "t", code);
    bool row = false;
    if (s == KR_LEDGER_OK)
        s = kr_ledger_step(db, st, &row);
    if (s != KR_LEDGER_OK)
        return s;
    if (!row)
        return kr_ledger_fail(db, KR_LEDGER_NOT_FOUND, "promo code '%s' not found", code);
    int64_t max_uses = sqlite3_column_int64(st, 0), max_cust = sqlite3_column_int64(st, 1);
    int64_t until = kr_ledger_col_expiry(st, 2), uses = sqlite3_column_int64(st, 3);
    int64_t owner = sqlite3_column_int64(st, 4);
    kr_ledger_done(st);

    st = kr_ledger_stmt(db, q_used);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "tt", code, op_id);
    if (s == KR_LEDGER_OK)
        s = kr_ledger_step(db, st, &row);
    if (s != KR_LEDGER_OK)
        return s;
    kr_ledger_done(st);
    if (row)
        return KR_LEDGER_EXISTS;
    if (until != KR_LEDGER_NEVER && at >= until)
        return kr_ledger_fail(db, KR_LEDGER_EXPIRED, "promo code '%s' expired", code);
    if (owner && owner != customer_id)
        return kr_ledger_fail(db, KR_LEDGER_CONFLICT,
                              "promo code '%s' was issued to customer %lld, not to %lld", code,
                              (long long)owner, (long long)customer_id);
    if (max_uses && uses >= max_uses)
        return kr_ledger_fail(db, KR_LEDGER_LIMIT, "promo code '%s' is used up (%lld uses)", code,
                              (long long)uses);
    if (max_cust && customer_id) {
        st = kr_ledger_stmt(db, q_cust);
        if (!st)
            return KR_LEDGER_DB_ERROR;
        s = kr_ledger_bind(db, st, "ti", code, customer_id);
        if (s == KR_LEDGER_OK)
            s = kr_ledger_step(db, st, &row);
        if (s != KR_LEDGER_OK)
            return s;
        int64_t mine = sqlite3_column_int64(st, 0);
        kr_ledger_done(st);
        if (mine >= max_cust)
            return kr_ledger_fail(db, KR_LEDGER_LIMIT,
                                  "customer %lld already used promo code '%s' %lld times",
                                  (long long)customer_id, code, (long long)mine);
    }
    st = kr_ledger_stmt(db, ins);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "ttzi", code, op_id, customer_id, at);
    if (s == KR_LEDGER_OK)
        s = kr_ledger_exec_done(db, st);
    if (s != KR_LEDGER_OK)
        return s;
    st = kr_ledger_stmt(db, inc);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "t", code);
    if (s == KR_LEDGER_OK)
        s = kr_ledger_exec_done(db, st);
    return s;
}

kr_ledger_status kr_ledger_promo_use(kr_ledger *db, const char *code, int64_t customer_id,
                                     const char *op_id, int64_t at)
{
    kr_ledger_status s = kr_ledger_sp_begin(db);
    if (s != KR_LEDGER_OK)
        return s;
    return finish(db, promo_use(db, code, customer_id, op_id, at));
}

kr_ledger_status kr_ledger_promo_uses(kr_ledger *db, const char *code, int64_t customer_id,
                                      int64_t *out_total, int64_t *out_customer)
{
    static const char sql[] = "SELECT uses, (SELECT count(*) FROM promo_use u WHERE u.code = p.code"
                              " AND u.customer_id = ?2) FROM promo_code p WHERE code = ?1";
    kr_ledger_status s = kr_ledger_check_id(db, "promo code", code);
    if (s != KR_LEDGER_OK)
        return s;
    sqlite3_stmt *st = kr_ledger_stmt(db, sql);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "ti", code, customer_id);
    bool row = false;
    if (s == KR_LEDGER_OK)
        s = kr_ledger_step(db, st, &row);
    if (s != KR_LEDGER_OK)
        return s;
    if (!row)
        return kr_ledger_fail(db, KR_LEDGER_NOT_FOUND, "promo code '%s' not found", code);
    if (out_total)
        *out_total = sqlite3_column_int64(st, 0);
    if (out_customer)
        *out_customer = sqlite3_column_int64(st, 1);
    kr_ledger_done(st);
    return KR_LEDGER_OK;
}

// --- certificates ---------------------------------------------------------------------------

kr_ledger_status kr_ledger_certificate_add(kr_ledger *db, const char *number, int64_t face_value,
                                           int64_t valid_until, int64_t issued_at)
{
    static const char sql[] = "INSERT INTO certificate(number, face_value, remaining, valid_until,"
                              " issued_at) VALUES (?1, ?2, ?2, ?3, ?4)";
    kr_ledger_status s = kr_ledger_check_id(db, "certificate number", number);
    if (s != KR_LEDGER_OK)
        return s;
    if (face_value <= 0)
        return kr_ledger_fail(db, KR_LEDGER_INVALID, "face value must be positive");
    sqlite3_stmt *st = kr_ledger_stmt(db, sql);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "tiei", number, face_value, valid_until, issued_at);
    if (s == KR_LEDGER_OK)
        s = kr_ledger_exec_done(db, st);
    if (s == KR_LEDGER_CONFLICT)
        return kr_ledger_fail(db, KR_LEDGER_CONFLICT, "certificate '%s' already exists", number);
    return s;
}

kr_ledger_status kr_ledger_certificate_get(kr_ledger *db, const char *number, int64_t *out_face,
                                           int64_t *out_remaining, int64_t *out_valid_until)
{
    static const char sql[] =
        "SELECT face_value, remaining, valid_until FROM certificate WHERE number = ?1";
    kr_ledger_status s = kr_ledger_check_id(db, "certificate number", number);
    if (s != KR_LEDGER_OK)
        return s;
    sqlite3_stmt *st = kr_ledger_stmt(db, sql);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "t", number);
    bool row = false;
    if (s == KR_LEDGER_OK)
        s = kr_ledger_step(db, st, &row);
    if (s != KR_LEDGER_OK)
        return s;
    if (!row)
        return kr_ledger_fail(db, KR_LEDGER_NOT_FOUND, "certificate '%s' not found", number);
    if (out_face)
        *out_face = sqlite3_column_int64(st, 0);
    if (out_remaining)
        *out_remaining = sqlite3_column_int64(st, 1);
    if (out_valid_until)
        *out_valid_until = kr_ledger_col_expiry(st, 2);
    kr_ledger_done(st);
    return KR_LEDGER_OK;
}

static kr_ledger_status certificate_use(kr_ledger *db, const char *number, int64_t amount,
                                        const char *op_id, int64_t at)
{
    static const char q_use[] =
        "SELECT amount FROM certificate_use WHERE number = ?1 AND op_id = ?2";
    static const char ins[] =
        "INSERT INTO certificate_use(number, op_id, amount, at) VALUES (?1, ?2, ?3, ?4)";
    static const char dec[] = "UPDATE certificate SET remaining = remaining - ?2 WHERE number = ?1";
    kr_ledger_status s = kr_ledger_check_id(db, "operation id", op_id);
    if (s != KR_LEDGER_OK)
        return s;
    if (amount <= 0)
        return kr_ledger_fail(db, KR_LEDGER_INVALID, "certificate amount must be positive");
    int64_t remaining, until;
    s = kr_ledger_certificate_get(db, number, NULL, &remaining, &until);
    if (s != KR_LEDGER_OK)
        return s;
    s = kr_ledger_certificate_op_done(db, q_use, number, op_id, amount, "took", "from");
    if (s != KR_LEDGER_OK)
        return s;
    if (until != KR_LEDGER_NEVER && at >= until)
        return kr_ledger_fail(db, KR_LEDGER_EXPIRED, "certificate '%s' expired", number);
    kr_ledger_certificate c;
    s = kr_ledger_certificate_read(db, number, &c);
    if (s != KR_LEDGER_OK)
        return s;
    if (c.voided_at)
        return kr_ledger_fail(db, KR_LEDGER_STATE,
                              "certificate '%s' was voided (its sale was returned)", number);
    if (amount > remaining)
        return kr_ledger_fail(db, KR_LEDGER_INSUFFICIENT,
                              "certificate '%s' has %lld left, %lld requested", number,
                              (long long)remaining, (long long)amount);
    sqlite3_stmt *st = kr_ledger_stmt(db, ins);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "ttii", number, op_id, amount, at);
    if (s == KR_LEDGER_OK)
        s = kr_ledger_exec_done(db, st);
    if (s != KR_LEDGER_OK)
        return s;
    st = kr_ledger_stmt(db, dec);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "ti", number, amount);
    if (s == KR_LEDGER_OK)
        s = kr_ledger_exec_done(db, st);
    return s;
}

kr_ledger_status kr_ledger_certificate_use(kr_ledger *db, const char *number, int64_t amount,
                                           const char *op_id, int64_t at)
{
    kr_ledger_status s = kr_ledger_sp_begin(db);
    if (s != KR_LEDGER_OK)
        return s;
    return finish(db, certificate_use(db, number, amount, op_id, at));
}
