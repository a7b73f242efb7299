// SPDX-License-Identifier: MIT
// kr-ledger-issued.c: which operation issued a card or generated a single-use code, so that
// `cards issue` and `codes generate` repeated with the same id answer the same numbers
// (kr-ledger-codes.h, "Issued by an operation"; schema version 9).
#include "kr-ledger-private.h"
#include "kr-ledger-codes.h"

kr_ledger_status kr_ledger_issued_mark(kr_ledger *db, kr_ledger_issued_kind kind,
                                       const char *number, const char *op_id)
{
    static const char cards[] = "UPDATE card SET op_id = ?2 WHERE number = ?1";
    static const char codes[] = "UPDATE promo_code SET op_id = ?2 WHERE code = ?1";
    kr_ledger_status s = kr_ledger_check_id(db, "operation id", op_id);
    if (s != KR_LEDGER_OK)
        return s;
    sqlite3_stmt *st = kr_ledger_stmt(db, kind == KR_LEDGER_ISSUED_CARDS ? cards : codes);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "tt", number, op_id);
    if (s == KR_LEDGER_OK)
        s = kr_ledger_exec_done(db, st);
    if (s == KR_LEDGER_OK && sqlite3_changes(db->sql) != 1)
        return kr_ledger_fail(db, KR_LEDGER_NOT_FOUND, "%s %s not found",
                              kind == KR_LEDGER_ISSUED_CARDS ? "card" : "code", number);
    return s;
}

kr_ledger_status kr_ledger_issued_list(kr_ledger *db, kr_ledger_issued_kind kind, const char *op_id,
                                       kr_ledger_issued_fn each, void *ctx, size_t *n)
{
    // rowid order is insertion order: the numbers come back in the order they were issued.
    static const char cards[] = "SELECT number, batch_id FROM card WHERE op_id = ?1 ORDER BY rowid";
    static const char codes[] =
        "SELECT code, batch_id FROM promo_code WHERE op_id = ?1 ORDER BY rowid";
    *n = 0;
    kr_ledger_status s = kr_ledger_check_id(db, "operation id", op_id);
    if (s != KR_LEDGER_OK)
        return s;
    sqlite3_stmt *st = kr_ledger_stmt(db, kind == KR_LEDGER_ISSUED_CARDS ? cards : codes);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "t", op_id);
    bool row = false;
    while (s == KR_LEDGER_OK && (s = kr_ledger_step(db, st, &row)) == KR_LEDGER_OK && row) {
        each(ctx, (const char *)sqlite3_column_text(st, 0),
             (const char *)sqlite3_column_text(st, 1));
        (*n)++;
    }
    if (s == KR_LEDGER_OK)
        kr_ledger_done(st);
    return s;
}
