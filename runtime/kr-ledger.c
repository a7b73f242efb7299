// SPDX-License-Identifier: MIT
// kr-ledger: open/close, pragmas, migrations, transactions, statement cache and error helpers.
#include "kr-ledger-private.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const status_names[] = {
    [KR_LEDGER_OK] = "OK",
    [KR_LEDGER_NOT_FOUND] = "NOT_FOUND",
    [KR_LEDGER_EXISTS] = "EXISTS",
    [KR_LEDGER_CONFLICT] = "CONFLICT",
    [KR_LEDGER_INVALID] = "INVALID",
    [KR_LEDGER_INSUFFICIENT] = "INSUFFICIENT",
    [KR_LEDGER_LIMIT] = "LIMIT",
    [KR_LEDGER_EXPIRED] = "EXPIRED",
    [KR_LEDGER_BLOCKED] = "BLOCKED",
    [KR_LEDGER_STATE] = "STATE",
    [KR_LEDGER_MERGED] = "MERGED",
    [KR_LEDGER_SCHEMA_TOO_NEW] = "SCHEMA_TOO_NEW",
    [KR_LEDGER_BUSY] = "BUSY",
    [KR_LEDGER_NOMEM] = "NOMEM",
    [KR_LEDGER_DB_ERROR] = "DB_ERROR",
};

const char *kr_ledger_status_name(kr_ledger_status st)
{
    if ((size_t)st < sizeof status_names / sizeof status_names[0] && status_names[st])
        return status_names[st];
    return "UNKNOWN";
}

const char *kr_ledger_errmsg(const kr_ledger *db)
{
    return db ? db->err : "no ledger handle";
}

int kr_ledger_schema_version(void)
{
    return kr_ledger_migrations[kr_ledger_n_migrations - 1].version;
}

kr_ledger_status kr_ledger_fail(kr_ledger *db, kr_ledger_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(db->err, sizeof db->err, fmt, ap);
    va_end(ap);
    return st;
}

kr_ledger_status kr_ledger_sqlfail(kr_ledger *db, int rc, const char *what)
{
    kr_ledger_status st;
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        st = KR_LEDGER_BUSY;
        break;
    case SQLITE_NOMEM:
        st = KR_LEDGER_NOMEM;
        break;
    case SQLITE_CONSTRAINT:
        st = KR_LEDGER_CONFLICT;
        break;
    default:
        st = KR_LEDGER_DB_ERROR;
        break;
    }
    return kr_ledger_fail(db, st, "%s: %s (sqlite %d)", what,
                          db->sql ? sqlite3_errmsg(db->sql) : sqlite3_errstr(rc), rc);
}

static size_t slot_of(const char *key)
{
    uintptr_t h = (uintptr_t)key;
    h ^= h >> 7;
    h *= (uintptr_t)0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 5) % KR_LEDGER_STMT_SLOTS;
}

sqlite3_stmt *kr_ledger_stmt(kr_ledger *db, const char *sql)
{
    size_t i = slot_of(sql);
    for (size_t probe = 0; probe < KR_LEDGER_STMT_SLOTS; probe++) {
        size_t k = (i + probe) % KR_LEDGER_STMT_SLOTS;
        if (db->cache[k].key == sql) {
            sqlite3_stmt *st = db->cache[k].st;
            // The previous user reset it already (errors were reported then).
            (void)sqlite3_reset(st);
            int rc = sqlite3_clear_bindings(st);
            if (rc != SQLITE_OK) {
                kr_ledger_sqlfail(db, rc, "clear bindings");
                return NULL;
            }
            return st;
        }
        if (db->cache[k].key == NULL) {
            sqlite3_stmt *st = NULL;
            int rc = sqlite3_prepare_v3(db->sql, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
            if (rc != SQLITE_OK) {
                kr_ledger_sqlfail(db, rc, "prepare");
                sqlite3_finalize(st);
                return NULL;
            }
            db->cache[k].key = sql;
            db->cache[k].st = st;
            return st;
        }
    }
    kr_ledger_fail(db, KR_LEDGER_DB_ERROR, "statement cache full (raise KR_LEDGER_STMT_SLOTS)");
    return NULL;
}

kr_ledger_status kr_ledger_bind(kr_ledger *db, sqlite3_stmt *st, const char *fmt, ...)
{
    va_list ap;
    int rc = SQLITE_OK;
    int idx = 1;
    va_start(ap, fmt);
    for (const char *f = fmt; *f && rc == SQLITE_OK; f++, idx++) {
        switch (*f) {
        case 'i':
            rc = sqlite3_bind_int64(st, idx, va_arg(ap, int64_t));
            break;
        case 'e': {
            int64_t v = va_arg(ap, int64_t);
            rc = v == KR_LEDGER_NEVER ? sqlite3_bind_null(st, idx) : sqlite3_bind_int64(st, idx, v);
            break;
        }
        case 'z': {
            int64_t v = va_arg(ap, int64_t);
            rc = v == 0 ? sqlite3_bind_null(st, idx) : sqlite3_bind_int64(st, idx, v);
            break;
        }
        case 't': {
            const char *s = va_arg(ap, const char *);
            rc = s ? sqlite3_bind_text(st, idx, s, -1, SQLITE_TRANSIENT)
                   : sqlite3_bind_null(st, idx);
            break;
        }
        default:
            rc = SQLITE_MISUSE;
            break;
        }
    }
    va_end(ap);
    if (rc != SQLITE_OK)
        return kr_ledger_sqlfail(db, rc, "bind");
    return KR_LEDGER_OK;
}

kr_ledger_status kr_ledger_step(kr_ledger *db, sqlite3_stmt *st, bool *row)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *row = true;
        return KR_LEDGER_OK;
    }
    *row = false;
    if (rc == SQLITE_DONE)
        return KR_LEDGER_OK;
    kr_ledger_status s = kr_ledger_sqlfail(db, rc, sqlite3_sql(st));
    (void)sqlite3_reset(st); // returns the same error, already reported
    return s;
}

kr_ledger_status kr_ledger_exec_done(kr_ledger *db, sqlite3_stmt *st)
{
    bool row;
    kr_ledger_status s = kr_ledger_step(db, st, &row);
    if (s != KR_LEDGER_OK)
        return s;
    kr_ledger_done(st);
    if (row)
        return kr_ledger_fail(db, KR_LEDGER_DB_ERROR, "statement returned a row: %s",
                              sqlite3_sql(st));
    return KR_LEDGER_OK;
}

void kr_ledger_done(sqlite3_stmt *st)
{
    // After a successful step sqlite3_reset returns SQLITE_OK; after a failed one it repeats the
    // step's error, which kr_ledger_step has already reported.
    (void)sqlite3_reset(st);
}

int64_t kr_ledger_col_expiry(sqlite3_stmt *st, int i)
{
    if (sqlite3_column_type(st, i) == SQLITE_NULL)
        return KR_LEDGER_NEVER;
    return sqlite3_column_int64(st, i);
}

kr_ledger_status kr_ledger_col_dup(kr_ledger *db, sqlite3_stmt *st, int i, char **out)
{
    *out = NULL;
    if (sqlite3_column_type(st, i) == SQLITE_NULL)
        return KR_LEDGER_OK;
    const unsigned char *t = sqlite3_column_text(st, i);
    if (!t)
        return kr_ledger_fail(db, KR_LEDGER_NOMEM, "out of memory reading a column");
    size_t n = (size_t)sqlite3_column_bytes(st, i);
    char *p = malloc(n + 1);
    if (!p)
        return kr_ledger_fail(db, KR_LEDGER_NOMEM, "out of memory");
    memcpy(p, t, n);
    p[n] = '\0';
    *out = p;
    return KR_LEDGER_OK;
}

void kr_ledger_col_copy(sqlite3_stmt *st, int i, char *buf, size_t len)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    snprintf(buf, len, "%s", t ? (const char *)t : "");
}

kr_ledger_status kr_ledger_check_id(kr_ledger *db, const char *what, const char *s)
{
    if (!s || !s[0])
        return kr_ledger_fail(db, KR_LEDGER_INVALID, "%s is missing", what);
    if (strlen(s) >= KR_LEDGER_ID_MAX)
        return kr_ledger_fail(db, KR_LEDGER_INVALID, "%s is longer than %d bytes", what,
                              KR_LEDGER_ID_MAX - 1);
    return KR_LEDGER_OK;
}

// --- savepoints and transactions ------------------------------------------------------------

static const char SQL_SP[] = "SAVEPOINT kr_op";
static const char SQL_SP_RELEASE[] = "RELEASE kr_op";
static const char SQL_SP_ROLLBACK[] = "ROLLBACK TO kr_op";

kr_ledger_status kr_ledger_sp_begin(kr_ledger *db)
{
    sqlite3_stmt *st = kr_ledger_stmt(db, SQL_SP);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    kr_ledger_status s = kr_ledger_exec_done(db, st);
    if (s != KR_LEDGER_OK)
        return s;
    db->sp_depth++;
    return KR_LEDGER_OK;
}

kr_ledger_status kr_ledger_sp_end(kr_ledger *db, kr_ledger_status result)
{
    kr_ledger_status s;
    sqlite3_stmt *st;
    if (result != KR_LEDGER_OK) {
        // Keep the message of the original failure.
        char saved[sizeof db->err];
        memcpy(saved, db->err, sizeof saved);
        st = kr_ledger_stmt(db, SQL_SP_ROLLBACK);
        s = st ? kr_ledger_exec_done(db, st) : KR_LEDGER_DB_ERROR;
        if (s != KR_LEDGER_OK) {
            db->sp_depth--;
            return s;
        }
        memcpy(db->err, saved, sizeof saved);
    }
    st = kr_ledger_stmt(db, SQL_SP_RELEASE);
    s = st ? kr_ledger_exec_done(db, st) : KR_LEDGER_DB_ERROR;
    db->sp_depth--;
    if (s != KR_LEDGER_OK)
        return s;
    return result;
}

kr_ledger_status kr_ledger_begin(kr_ledger *db)
{
    static const char sql[] = "BEGIN IMMEDIATE";
    if (!sqlite3_get_autocommit(db->sql))
        return kr_ledger_fail(db, KR_LEDGER_STATE, "a transaction is already open");
    sqlite3_stmt *st = kr_ledger_stmt(db, sql);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    return kr_ledger_exec_done(db, st);
}

kr_ledger_status kr_ledger_commit(kr_ledger *db)
{
    static const char sql[] = "COMMIT";
    if (sqlite3_get_autocommit(db->sql))
        return kr_ledger_fail(db, KR_LEDGER_STATE, "no transaction is open");
    sqlite3_stmt *st = kr_ledger_stmt(db, sql);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    return kr_ledger_exec_done(db, st);
}

kr_ledger_status kr_ledger_rollback(kr_ledger *db)
{
    static const char sql[] = "ROLLBACK";
    if (sqlite3_get_autocommit(db->sql))
        return kr_ledger_fail(db, KR_LEDGER_STATE, "no transaction is open");
    sqlite3_stmt *st = kr_ledger_stmt(db, sql);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    return kr_ledger_exec_done(db, st);
}

void kr_ledger_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, data, len);
    sodium_bin2hex(out, 65, h, sizeof h);
}

// --- open, pragmas, migrations --------------------------------------------------------------

static kr_ledger_status exec_sql(kr_ledger *db, const char *sql, const char *what)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db->sql, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        kr_ledger_status st = kr_ledger_sqlfail(db, rc, what);
        if (msg)
            kr_ledger_fail(db, st, "%s: %s", what, msg);
        sqlite3_free(msg);
        return st;
    }
    return KR_LEDGER_OK;
}

// Current schema version: 0 for a new file (no schema_version table).
static kr_ledger_status read_version(kr_ledger *db, int *out)
{
    static const char q_table[] =
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'";
    static const char q_max[] = "SELECT coalesce(max(version), 0) FROM schema_version";
    bool row;
    sqlite3_stmt *st = kr_ledger_stmt(db, q_table);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    kr_ledger_status s = kr_ledger_step(db, st, &row);
    if (s != KR_LEDGER_OK)
        return s;
    int64_t has = row ? sqlite3_column_int64(st, 0) : 0;
    kr_ledger_done(st);
    if (!has) {
        *out = 0;
        return KR_LEDGER_OK;
    }
    // Not cached: the table may not exist when the cache is first filled.
    sqlite3_stmt *q = NULL;
    int rc = sqlite3_prepare_v2(db->sql, q_max, -1, &q, NULL);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(q);
        return kr_ledger_sqlfail(db, rc, "read schema version");
    }
    rc = sqlite3_step(q);
    if (rc != SQLITE_ROW) {
        s = kr_ledger_sqlfail(db, rc, "read schema version");
        sqlite3_finalize(q);
        return s;
    }
    int64_t v = sqlite3_column_int64(q, 0);
    rc = sqlite3_finalize(q);
    if (rc != SQLITE_OK)
        return kr_ledger_sqlfail(db, rc, "read schema version");
    *out = v > 1000000 ? 1000000 : (int)v;
    return KR_LEDGER_OK;
}

static kr_ledger_status migrate(kr_ledger *db, int target)
{
    for (;;) {
        kr_ledger_status s = exec_sql(db, "BEGIN IMMEDIATE", "begin migration");
        if (s != KR_LEDGER_OK)
            return s;
        int v = 0;
        // Read inside the write transaction: another process may have migrated meanwhile.
        s = read_version(db, &v);
        if (s == KR_LEDGER_OK && v > kr_ledger_schema_version())
            s = kr_ledger_fail(db, KR_LEDGER_SCHEMA_TOO_NEW,
                               "database schema version %d is newer than this program supports "
                               "(%d); upgrade Kopilka before opening this file",
                               v, kr_ledger_schema_version());
        const kr_ledger_migration *m = NULL;
        if (s == KR_LEDGER_OK && v < target) {
            for (size_t i = 0; i < kr_ledger_n_migrations; i++)
                if (kr_ledger_migrations[i].version == v + 1)
                    m = &kr_ledger_migrations[i];
            if (!m)
                s = kr_ledger_fail(db, KR_LEDGER_DB_ERROR, "no migration to version %d", v + 1);
        }
        if (s == KR_LEDGER_OK && m) {
            s = exec_sql(db, m->sql, m->description);
            if (s == KR_LEDGER_OK) {
                static const char ins[] =
                    "INSERT INTO schema_version(version, description, applied_at)"
                    " VALUES (?1, ?2, CAST(strftime('%s', 'now') AS INTEGER))";
                sqlite3_stmt *q = NULL;
                int rc = sqlite3_prepare_v2(db->sql, ins, -1, &q, NULL);
                if (rc == SQLITE_OK)
                    rc = sqlite3_bind_int(q, 1, m->version);
                if (rc == SQLITE_OK)
                    rc = sqlite3_bind_text(q, 2, m->description, -1, SQLITE_STATIC);
                if (rc == SQLITE_OK) {
                    rc = sqlite3_step(q);
                    if (rc == SQLITE_DONE)
                        rc = SQLITE_OK;
                }
                if (rc != SQLITE_OK)
                    s = kr_ledger_sqlfail(db, rc, "record schema version");
                sqlite3_finalize(q);
            }
        }
        if (s != KR_LEDGER_OK) {
            char saved[sizeof db->err];
            memcpy(saved, db->err, sizeof saved);
            exec_sql(db, "ROLLBACK", "rollback migration");
            memcpy(db->err, saved, sizeof saved);
            return s;
        }
        s = exec_sql(db, "COMMIT", "commit migration");
        if (s != KR_LEDGER_OK)
            return s;
        if (!m)
            return KR_LEDGER_OK;
    }
}

static kr_ledger_status set_pragmas(kr_ledger *db)
{
    int rc = sqlite3_busy_timeout(db->sql, KR_LEDGER_BUSY_TIMEOUT_MS);
    if (rc != SQLITE_OK)
        return kr_ledger_sqlfail(db, rc, "busy timeout");
    kr_ledger_status s = exec_sql(db,
                                  "PRAGMA foreign_keys = ON;"
                                  "PRAGMA synchronous = FULL;",
                                  "pragmas");
    if (s != KR_LEDGER_OK)
        return s;
    // journal_mode answers with the mode in effect; ":memory:" stays "memory".
    sqlite3_stmt *q = NULL;
    rc = sqlite3_prepare_v2(db->sql, "PRAGMA journal_mode = WAL", -1, &q, NULL);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(q);
        return kr_ledger_sqlfail(db, rc, "journal_mode");
    }
    rc = sqlite3_step(q);
    char mode[16] = "";
    if (rc == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(q, 0);
        snprintf(mode, sizeof mode, "%s", t ? (const char *)t : "");
    } else {
        s = kr_ledger_sqlfail(db, rc, "journal_mode");
    }
    rc = sqlite3_finalize(q);
    if (s != KR_LEDGER_OK)
        return s;
    if (rc != SQLITE_OK)
        return kr_ledger_sqlfail(db, rc, "journal_mode");
    const char *file = sqlite3_db_filename(db->sql, "main");
    bool in_memory = !file || !file[0];
    if (!in_memory && strcmp(mode, "wal") != 0)
        return kr_ledger_fail(db, KR_LEDGER_DB_ERROR, "could not switch to WAL (mode is '%s')",
                              mode);
    return KR_LEDGER_OK;
}

kr_ledger_status kr_ledger_open_version(const char *path, int version, kr_ledger **out, char *err,
                                        size_t errlen)
{
    *out = NULL;
    if (err && errlen)
        err[0] = '\0';
    if (!path) {
        if (err && errlen)
            snprintf(err, errlen, "no path given");
        return KR_LEDGER_INVALID;
    }
    if (sodium_init() < 0) {
        if (err && errlen)
            snprintf(err, errlen, "libsodium could not be initialised");
        return KR_LEDGER_DB_ERROR;
    }
    kr_ledger *db = calloc(1, sizeof *db);
    if (!db) {
        if (err && errlen)
            snprintf(err, errlen, "out of memory");
        return KR_LEDGER_NOMEM;
    }
    kr_ledger_status s;
    int rc = sqlite3_open_v2(
        path, &db->sql, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        s = kr_ledger_sqlfail(db, rc, path);
    } else {
        s = set_pragmas(db);
        if (s == KR_LEDGER_OK)
            s = migrate(db, version);
    }
    if (s != KR_LEDGER_OK) {
        if (err && errlen)
            snprintf(err, errlen, "%s", db->err);
        kr_ledger_close(db);
        return s;
    }
    *out = db;
    return KR_LEDGER_OK;
}

kr_ledger_status kr_ledger_open(const char *path, kr_ledger **out, char *err, size_t errlen)
{
    return kr_ledger_open_version(path, kr_ledger_schema_version(), out, err, errlen);
}

void kr_ledger_close(kr_ledger *db)
{
    if (!db)
        return;
    for (size_t i = 0; i < KR_LEDGER_STMT_SLOTS; i++)
        if (db->cache[i].st)
            sqlite3_finalize(db->cache[i].st); // its code repeats the last step's error
    if (db->sql) {
        if (!sqlite3_get_autocommit(db->sql))
            exec_sql(db, "ROLLBACK", "rollback on close");
        int rc = sqlite3_close(db->sql);
        if (rc != SQLITE_OK)
            fprintf(stderr, "kr_ledger_close: %s\n", sqlite3_errstr(rc));
    }
    free(db);
}

// --- helpers shared by the topic files ------------------------------------------------------

kr_ledger_status kr_ledger_live_customer(kr_ledger *db, int64_t id)
{
    static const char sql[] = "SELECT merged_into FROM customer WHERE id = ?1";
    sqlite3_stmt *st = kr_ledger_stmt(db, sql);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    kr_ledger_status s = kr_ledger_bind(db, st, "i", id);
    if (s != KR_LEDGER_OK)
        return s;
    bool row;
    s = kr_ledger_step(db, st, &row);
    if (s != KR_LEDGER_OK)
        return s;
    if (!row)
        return kr_ledger_fail(db, KR_LEDGER_NOT_FOUND, "customer %lld not found", (long long)id);
    int64_t into = sqlite3_column_int64(st, 0);
    kr_ledger_done(st);
    if (into)
        return kr_ledger_fail(db, KR_LEDGER_MERGED,
                              "customer %lld was merged into customer %lld; use %lld",
                              (long long)id, (long long)into, (long long)into);
    return KR_LEDGER_OK;
}

kr_ledger_status kr_ledger_journal_add(kr_ledger *db, const char *op_id, const char *kind,
                                       int64_t lot_id, int64_t customer_id, int64_t delta,
                                       int64_t at, const char *ref_op, int64_t peer)
{
    static const char sql[] =
        "INSERT INTO journal(op_id, kind, lot_id, customer_id, delta, at, ref_op,"
        " peer_customer_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
    sqlite3_stmt *st = kr_ledger_stmt(db, sql);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    kr_ledger_status s = kr_ledger_bind(db, st, "ttziiitz", op_id, kind, lot_id, customer_id, delta,
                                        at, ref_op, peer);
    if (s != KR_LEDGER_OK)
        return s;
    return kr_ledger_exec_done(db, st);
}

kr_ledger_status kr_ledger_lot_delta(kr_ledger *db, int64_t lot_id, int64_t customer_id,
                                     int64_t delta, const char *op_id, const char *kind, int64_t at,
                                     const char *ref_op)
{
    static const char upd_lot[] = "UPDATE lot SET remaining = remaining + ?2 WHERE id = ?1";
    static const char upd_cust[] = "UPDATE customer SET balance = balance + ?2 WHERE id = ?1";
    kr_ledger_status s =
        kr_ledger_journal_add(db, op_id, kind, lot_id, customer_id, delta, at, ref_op, 0);
    if (s != KR_LEDGER_OK)
        return s;
    if (delta == 0)
        return KR_LEDGER_OK;
    sqlite3_stmt *st = kr_ledger_stmt(db, upd_lot);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "ii", lot_id, delta);
    if (s == KR_LEDGER_OK)
        s = kr_ledger_exec_done(db, st);
    if (s != KR_LEDGER_OK)
        return s;
    if (sqlite3_changes(db->sql) != 1)
        return kr_ledger_fail(db, KR_LEDGER_NOT_FOUND, "lot %lld not found", (long long)lot_id);
    st = kr_ledger_stmt(db, upd_cust);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "ii", customer_id, delta);
    if (s == KR_LEDGER_OK)
        s = kr_ledger_exec_done(db, st);
    return s;
}
