// SPDX-License-Identifier: MIT
// kr-ledger-guard.c: attempt counters for unknown card numbers (kr-ledger-guard.h).
#include "kr-ledger-guard.h"

#include "kr-ledger-private.h"

#include <string.h>

static kr_ledger_status check_source(kr_ledger *db, const char *source)
{
    size_t n = source ? strlen(source) : 0;
    if (n == 0 || n > KR_LEDGER_GUARD_SOURCE_MAX)
        return kr_ledger_fail(db, KR_LEDGER_INVALID, "guard source is not 1..%d bytes",
                              KR_LEDGER_GUARD_SOURCE_MAX);
    return KR_LEDGER_OK;
}

kr_ledger_status kr_ledger_guard_locked(kr_ledger *db, const char *source, int64_t at,
                                        int64_t *until)
{
    static const char sql[] =
        "SELECT locked_until FROM card_guard WHERE source = ?1 AND locked_until > ?2";
    *until = 0;
    kr_ledger_status s = check_source(db, source);
    if (s != KR_LEDGER_OK)
        return s;
    sqlite3_stmt *st = kr_ledger_stmt(db, sql);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "ti", source, at);
    bool row = false;
    if (s == KR_LEDGER_OK)
        s = kr_ledger_step(db, st, &row);
    if (s != KR_LEDGER_OK)
        return s;
    if (row)
        *until = sqlite3_column_int64(st, 0);
    kr_ledger_done(st);
    return KR_LEDGER_OK;
}

static kr_ledger_status guard_miss(kr_ledger *db, const char *source, int64_t at, int64_t limit,
                                   int64_t window, int64_t lockout, int64_t *locked_until)
{
    // A miss in the running window adds one; the first miss after it starts a new window.
    static const char count[] =
        "INSERT INTO card_guard(source, window_start, misses, locked_until)"
        " VALUES (?1, ?2, 1, NULL) ON CONFLICT(source) DO UPDATE SET"
        " misses = CASE WHEN ?2 >= window_start + ?3 OR ?2 < window_start THEN 1"
        " ELSE misses + 1 END,"
        " window_start = CASE WHEN ?2 >= window_start + ?3 OR ?2 < window_start THEN ?2"
        " ELSE window_start END";
    static const char lock[] =
        "UPDATE card_guard SET locked_until = ?2 + ?4, misses = 0, window_start = ?2"
        " WHERE source = ?1 AND misses >= ?3";
    sqlite3_stmt *st = kr_ledger_stmt(db, count);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    kr_ledger_status s = kr_ledger_bind(db, st, "tii", source, at, window);
    if (s == KR_LEDGER_OK)
        s = kr_ledger_exec_done(db, st);
    if (s != KR_LEDGER_OK)
        return s;
    st = kr_ledger_stmt(db, lock);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "tiii", source, at, limit, lockout);
    if (s == KR_LEDGER_OK)
        s = kr_ledger_exec_done(db, st);
    if (s == KR_LEDGER_OK && sqlite3_changes(db->sql) > 0)
        *locked_until = at + lockout;
    return s;
}

kr_ledger_status kr_ledger_guard_miss(kr_ledger *db, const char *source, int64_t at, int64_t limit,
                                      int64_t window, int64_t lockout, int64_t *locked_until)
{
    *locked_until = 0;
    kr_ledger_status s = check_source(db, source);
    if (s == KR_LEDGER_OK && (limit < 1 || window < 1 || lockout < 1))
        s = kr_ledger_fail(db, KR_LEDGER_INVALID,
                           "guard limit, window and lockout must be positive");
    if (s != KR_LEDGER_OK)
        return s;
    s = kr_ledger_sp_begin(db);
    if (s != KR_LEDGER_OK)
        return s;
    return kr_ledger_sp_end(db, guard_miss(db, source, at, limit, window, lockout, locked_until));
}
