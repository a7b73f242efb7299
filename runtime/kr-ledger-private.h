// SPDX-License-Identifier: MIT
// kr-ledger-private: the handle, statement cache, error and savepoint helpers shared by
// kr-ledger*.c.
#ifndef KR_LEDGER_PRIVATE_H
#define KR_LEDGER_PRIVATE_H

#include "kr-ledger.h"

#include <sqlite3.h>

#if defined(__GNUC__)
#define KR_LEDGER_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define KR_LEDGER_PRINTF(a, b)
#endif

// Statement cache: open addressing on the address of the SQL string literal.
#define KR_LEDGER_STMT_SLOTS 512

struct kr_ledger {
    sqlite3 *sql;
    char err[768];
    struct {
        const char *key;
        sqlite3_stmt *st;
    } cache[KR_LEDGER_STMT_SLOTS];
    unsigned sp_depth; // open kr_ledger_sp_begin savepoints
};

// One schema migration: applied in one transaction when the file's version is below `version`.
typedef struct kr_ledger_migration {
    int version;
    const char *description;
    const char *sql;
} kr_ledger_migration;

extern const kr_ledger_migration kr_ledger_migrations[];
extern const size_t kr_ledger_n_migrations;

// kr_ledger_open_version: like kr_ledger_open but migrates only up to `version` (tests, tools).
kr_ledger_status kr_ledger_open_version(const char *path, int version, kr_ledger **out, char *err,
                                        size_t errlen);

// kr_ledger_fail: sets the message and returns st.
kr_ledger_status kr_ledger_fail(kr_ledger *db, kr_ledger_status st, const char *fmt, ...)
    KR_LEDGER_PRINTF(3, 4);
// kr_ledger_sqlfail: maps an SQLite code (BUSY, NOMEM, CONSTRAINT -> CONFLICT, else DB_ERROR)
//   and sets "<what>: <sqlite message>".
kr_ledger_status kr_ledger_sqlfail(kr_ledger *db, int rc, const char *what);

// kr_ledger_stmt: the cached prepared statement for `sql` (a string literal: its address is the
//   key), reset and with bindings cleared. NULL on error (message set; status DB_ERROR).
sqlite3_stmt *kr_ledger_stmt(kr_ledger *db, const char *sql);

// kr_ledger_bind: binds parameters 1..n by a format: 'i' int64_t, 't' const char * (NULL ->
//   NULL), 'e' int64_t expiry (KR_LEDGER_NEVER -> NULL), 'z' int64_t (0 -> NULL).
kr_ledger_status kr_ledger_bind(kr_ledger *db, sqlite3_stmt *st, const char *fmt, ...);

// kr_ledger_step: one step. *row true when a row is available. On error the statement is reset
//   and the message set.
kr_ledger_status kr_ledger_step(kr_ledger *db, sqlite3_stmt *st, bool *row);
// kr_ledger_exec_done: steps a statement that returns no rows, then resets it.
kr_ledger_status kr_ledger_exec_done(kr_ledger *db, sqlite3_stmt *st);
// kr_ledger_done: resets after reading (errors were already reported by kr_ledger_step).
void kr_ledger_done(sqlite3_stmt *st);

// Column helpers. col_expiry maps NULL to KR_LEDGER_NEVER.
int64_t kr_ledger_col_expiry(sqlite3_stmt *st, int i);
// kr_ledger_col_dup: malloc'd copy of a text column (NULL for SQL NULL). NOMEM.
kr_ledger_status kr_ledger_col_dup(kr_ledger *db, sqlite3_stmt *st, int i, char **out);
// kr_ledger_col_copy: copies a text column into a fixed buffer ("" for NULL; truncates).
void kr_ledger_col_copy(sqlite3_stmt *st, int i, char *buf, size_t len);

// Savepoints make every mutating call atomic inside the caller's transaction.
kr_ledger_status kr_ledger_sp_begin(kr_ledger *db);
// kr_ledger_sp_end: releases the savepoint when st is OK, otherwise rolls back to it. Returns
//   st (or the error of the release itself).
kr_ledger_status kr_ledger_sp_end(kr_ledger *db, kr_ledger_status st);

// kr_ledger_check_id: INVALID unless s is non-empty and shorter than KR_LEDGER_ID_MAX.
kr_ledger_status kr_ledger_check_id(kr_ledger *db, const char *what, const char *s);
// Whether operation `op_id` already moved money of certificate `number`: `q_done` selects that
// amount by (?1 number, ?2 op_id). OK: not yet; EXISTS: with this same amount (a repeat);
// CONFLICT: with another amount ("operation 'x' already <did> 500 <prep> certificate 'y'").
kr_ledger_status kr_ledger_certificate_op_done(kr_ledger *db, const char *q_done, const char *number,
                                              const char *op_id, int64_t amount, const char *did,
                                              const char *prep);

// kr_ledger_live_customer: NOT_FOUND / MERGED (naming the survivor) / OK.
kr_ledger_status kr_ledger_live_customer(kr_ledger *db, int64_t id);

// kr_ledger_journal_add: appends a journal row (lot_id/peer 0 -> NULL, ref_op NULL ok).
kr_ledger_status kr_ledger_journal_add(kr_ledger *db, const char *op_id, const char *kind,
                                       int64_t lot_id, int64_t customer_id, int64_t delta,
                                       int64_t at, const char *ref_op, int64_t peer);

// kr_ledger_lot_delta: remaining += delta on a lot and balance += delta on its customer, with
//   the journal row (the only way lot remainings change).
kr_ledger_status kr_ledger_lot_delta(kr_ledger *db, int64_t lot_id, int64_t customer_id,
                                     int64_t delta, const char *op_id, const char *kind, int64_t at,
                                     const char *ref_op);

// kr_ledger_lot_create: inserts a lot + its creation journal row (kind "create"/"import") and
//   pays the customer's debt from it. The customer must be live (checked by the caller).
kr_ledger_status kr_ledger_lot_create(kr_ledger *db, const kr_ledger_lot_in *in, const char *kind,
                                      int64_t *out_lot_id);

// kr_ledger_merge_into: the merge itself (no savepoint, no liveness checks).
kr_ledger_status kr_ledger_merge_into(kr_ledger *db, int64_t from, int64_t into, const char *op_id,
                                      int64_t at);

// kr_ledger_customer_insert: inserts a customer row and its profile (no savepoint).
kr_ledger_status kr_ledger_customer_insert(kr_ledger *db, const kr_ledger_customer_in *in,
                                           bool anonymous, int64_t *out_id);

#endif
