// SPDX-License-Identifier: MIT
// kr-ledger-chains.c: customers' positions in trigger chains and the journal of steps done
// (kr-ledger.h, "Trigger chains"; schema version 8).
#include "kr-ledger-private.h"

#include <string.h>

static const char *const state_names[] = {"running", "done", "left"};

kr_ledger_status kr_ledger_chain_get(kr_ledger *db, int64_t customer_id, const char *chain_id,
                                     kr_ledger_chain_pos *out)
{
    static const char sql[] = "SELECT entered_day, done_days, state FROM chain_position"
                              " WHERE customer_id = ?1 AND chain_id = ?2";
    memset(out, 0, sizeof *out);
    kr_ledger_status s = kr_ledger_check_id(db, "chain", chain_id);
    if (s != KR_LEDGER_OK)
        return s;
    sqlite3_stmt *st = kr_ledger_stmt(db, sql);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "it", customer_id, chain_id);
    bool row = false;
    if (s == KR_LEDGER_OK)
        s = kr_ledger_step(db, st, &row);
    if (s != KR_LEDGER_OK)
        return s;
    if (!row) {
        kr_ledger_done(st);
        return kr_ledger_fail(db, KR_LEDGER_NOT_FOUND, "customer %lld is not in chain '%s'",
                              (long long)customer_id, chain_id);
    }
    out->entered_day = sqlite3_column_int64(st, 0);
    out->done_days = sqlite3_column_int64(st, 1);
    const char *state = (const char *)sqlite3_column_text(st, 2);
    out->state = KR_LEDGER_CHAIN_RUNNING;
    for (int i = 0; state && i < 3; i++)
        if (strcmp(state, state_names[i]) == 0)
            out->state = (kr_ledger_chain_state)i;
    kr_ledger_done(st);
    return KR_LEDGER_OK;
}

kr_ledger_status kr_ledger_chain_put(kr_ledger *db, int64_t customer_id, const char *chain_id,
                                     const kr_ledger_chain_pos *pos, int64_t at)
{
    static const char sql[] =
        "INSERT INTO chain_position(customer_id, chain_id, entered_day, done_days, state,"
        " updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
        " ON CONFLICT(customer_id, chain_id) DO UPDATE SET entered_day = excluded.entered_day,"
        " done_days = excluded.done_days, state = excluded.state, updated_at = excluded.updated_at";
    kr_ledger_status s = kr_ledger_check_id(db, "chain", chain_id);
    if (s == KR_LEDGER_OK)
        s = kr_ledger_live_customer(db, customer_id);
    if (s != KR_LEDGER_OK)
        return s;
    if (pos->done_days < -1 || (unsigned)pos->state > KR_LEDGER_CHAIN_LEFT)
        return kr_ledger_fail(db, KR_LEDGER_INVALID, "bad chain position");
    sqlite3_stmt *st = kr_ledger_stmt(db, sql);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "itiiti", customer_id, chain_id, pos->entered_day, pos->done_days,
                       state_names[pos->state], at);
    bool row = false;
    if (s == KR_LEDGER_OK)
        s = kr_ledger_step(db, st, &row);
    if (s != KR_LEDGER_OK)
        return s;
    kr_ledger_done(st);
    return KR_LEDGER_OK;
}

kr_ledger_status kr_ledger_chain_step_add(kr_ledger *db, int64_t customer_id, const char *chain_id,
                                          const char *step_id, int64_t at, int64_t points,
                                          const char *code)
{
    static const char sql[] =
        "INSERT OR IGNORE INTO chain_step(customer_id, chain_id, step_id, at, points, code)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
    kr_ledger_status s = kr_ledger_check_id(db, "chain", chain_id);
    if (s == KR_LEDGER_OK)
        s = kr_ledger_check_id(db, "step", step_id);
    if (s == KR_LEDGER_OK)
        s = kr_ledger_live_customer(db, customer_id);
    if (s != KR_LEDGER_OK)
        return s;
    sqlite3_stmt *st = kr_ledger_stmt(db, sql);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "ittiit", customer_id, chain_id, step_id, at, points,
                       code && *code ? code : NULL);
    bool row = false;
    if (s == KR_LEDGER_OK)
        s = kr_ledger_step(db, st, &row);
    if (s != KR_LEDGER_OK)
        return s;
    kr_ledger_done(st);
    return sqlite3_changes(db->sql) == 0 ? KR_LEDGER_EXISTS : KR_LEDGER_OK;
}

kr_ledger_status kr_ledger_chain_step_code(kr_ledger *db, int64_t customer_id, const char *chain_id,
                                           const char *step_id, const char *code)
{
    static const char sql[] = "UPDATE chain_step SET code = ?4"
                              " WHERE customer_id = ?1 AND chain_id = ?2 AND step_id = ?3";
    sqlite3_stmt *st = kr_ledger_stmt(db, sql);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    kr_ledger_status s = kr_ledger_bind(db, st, "ittt", customer_id, chain_id, step_id, code);
    bool row = false;
    if (s == KR_LEDGER_OK)
        s = kr_ledger_step(db, st, &row);
    if (s != KR_LEDGER_OK)
        return s;
    kr_ledger_done(st);
    if (sqlite3_changes(db->sql) == 0)
        return kr_ledger_fail(db, KR_LEDGER_NOT_FOUND, "chain step '%s' of '%s' is not journalled",
                              step_id, chain_id);
    return KR_LEDGER_OK;
}

kr_ledger_status kr_ledger_chain_steps_done(kr_ledger *db, int64_t customer_id,
                                            const char *chain_id, char (*ids)[KR_LEDGER_ID_MAX],
                                            size_t max, size_t *n)
{
    static const char sql[] = "SELECT step_id FROM chain_step WHERE customer_id = ?1"
                              " AND chain_id = ?2 ORDER BY at, step_id";
    *n = 0;
    sqlite3_stmt *st = kr_ledger_stmt(db, sql);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    kr_ledger_status s = kr_ledger_bind(db, st, "it", customer_id, chain_id);
    bool row = true;
    while (s == KR_LEDGER_OK && (s = kr_ledger_step(db, st, &row)) == KR_LEDGER_OK && row) {
        if (*n < max)
            kr_ledger_col_copy(st, 0, ids[(*n)++], KR_LEDGER_ID_MAX);
    }
    if (s != KR_LEDGER_OK)
        return s;
    kr_ledger_done(st);
    return KR_LEDGER_OK;
}
