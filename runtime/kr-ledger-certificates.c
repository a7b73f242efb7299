// SPDX-License-Identifier: MIT
// kr-ledger-certificates: gift certificates sold on receipts — sale, void, give-back, reading
// and history (kr-ledger.h "Certificates sold on receipts"). Uses are in kr-ledger-records.c.
#include "kr-ledger-private.h"

#include <stdlib.h>
#include <string.h>

// Ends the savepoint around s, keeping EXISTS (a no-op) as the answer.
static kr_ledger_status finish(kr_ledger *db, kr_ledger_status s)
{
    kr_ledger_status e = kr_ledger_sp_end(db, s == KR_LEDGER_EXISTS ? KR_LEDGER_OK : s);
    return e == KR_LEDGER_OK ? s : e;
}

kr_ledger_status kr_ledger_certificate_sell(kr_ledger *db, const kr_ledger_certificate_in *in)
{
    static const char sql[] =
        "INSERT INTO certificate(number, face_value, remaining, valid_until, issued_at, kind,"
        " partial, sold_receipt, sold_line) VALUES (?1, ?2, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
    kr_ledger_status s = kr_ledger_check_id(db, "certificate number", in->number);
    if (s == KR_LEDGER_OK)
        s = kr_ledger_check_id(db, "certificate kind", in->kind);
    if (s == KR_LEDGER_OK)
        s = kr_ledger_check_id(db, "receipt id", in->receipt);
    if (s == KR_LEDGER_OK)
        s = kr_ledger_check_id(db, "receipt line id", in->line);
    if (s != KR_LEDGER_OK)
        return s;
    if (in->face_value <= 0)
        return kr_ledger_fail(db, KR_LEDGER_INVALID, "face value must be positive");
    if (in->valid_until <= in->issued_at)
        return kr_ledger_fail(db, KR_LEDGER_INVALID, "a certificate must be valid after its sale");
    sqlite3_stmt *st = kr_ledger_stmt(db, sql);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "tieititt", in->number, in->face_value, in->valid_until,
                       in->issued_at, in->kind, (int64_t)in->partial, in->receipt, in->line);
    if (s == KR_LEDGER_OK)
        s = kr_ledger_exec_done(db, st);
    if (s == KR_LEDGER_CONFLICT)
        return kr_ledger_fail(db, KR_LEDGER_CONFLICT, "certificate '%s' already exists",
                              in->number);
    return s;
}

kr_ledger_status kr_ledger_certificate_read(kr_ledger *db, const char *number,
                                            kr_ledger_certificate *out)
{
    static const char sql[] =
        "SELECT number, coalesce(kind, ''), face_value, remaining, partial, valid_until,"
        " issued_at, coalesce(sold_receipt, ''), coalesce(sold_line, ''), coalesce(voided_at, 0),"
        " coalesce(void_op, '') FROM certificate WHERE number = ?1";
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
    memset(out, 0, sizeof *out);
    kr_ledger_col_copy(st, 0, out->number, sizeof out->number);
    kr_ledger_col_copy(st, 1, out->kind, sizeof out->kind);
    out->face_value = sqlite3_column_int64(st, 2);
    out->remaining = sqlite3_column_int64(st, 3);
    out->partial = sqlite3_column_int64(st, 4) != 0;
    out->valid_until = kr_ledger_col_expiry(st, 5);
    out->issued_at = sqlite3_column_int64(st, 6);
    kr_ledger_col_copy(st, 7, out->sold_receipt, sizeof out->sold_receipt);
    kr_ledger_col_copy(st, 8, out->sold_line, sizeof out->sold_line);
    out->voided_at = sqlite3_column_int64(st, 9);
    kr_ledger_col_copy(st, 10, out->void_op, sizeof out->void_op);
    kr_ledger_done(st);
    return KR_LEDGER_OK;
}

kr_ledger_status kr_ledger_certificates_sold(kr_ledger *db, const char *receipt, const char *line,
                                             char ***out, size_t *n)
{
    static const char sql[] = "SELECT number FROM certificate WHERE sold_receipt = ?1 AND"
                              " sold_line = ?2 ORDER BY number";
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = kr_ledger_stmt(db, sql);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    kr_ledger_status s = kr_ledger_bind(db, st, "tt", receipt, line);
    size_t cap = 0;
    bool row = true;
    while (s == KR_LEDGER_OK && (s = kr_ledger_step(db, st, &row)) == KR_LEDGER_OK && row) {
        if (*n == cap) {
            size_t nc = cap ? cap * 2 : 8;
            char **v = realloc(*out, nc * sizeof *v);
            if (!v) {
                s = kr_ledger_fail(db, KR_LEDGER_NOMEM, "out of memory");
                break;
            }
            *out = v;
            cap = nc;
        }
        s = kr_ledger_col_dup(db, st, 0, &(*out)[*n]);
        if (s == KR_LEDGER_OK)
            (*n)++;
    }
    if (s != KR_LEDGER_OK) {
        kr_ledger_done(st);
        kr_ledger_strings_free(*out, *n);
        *out = NULL;
        *n = 0;
        return s;
    }
    kr_ledger_done(st);
    return KR_LEDGER_OK;
}

static kr_ledger_status certificate_void(kr_ledger *db, const char *number, const char *op_id,
                                         int64_t at)
{
    static const char sql[] =
        "UPDATE certificate SET voided_at = ?2, void_op = ?3 WHERE number = ?1";
    kr_ledger_certificate c;
    kr_ledger_status s = kr_ledger_check_id(db, "operation id", op_id);
    if (s == KR_LEDGER_OK)
        s = kr_ledger_certificate_read(db, number, &c);
    if (s != KR_LEDGER_OK)
        return s;
    if (c.voided_at)
        return strcmp(c.void_op, op_id) == 0
                   ? KR_LEDGER_EXISTS
                   : kr_ledger_fail(db, KR_LEDGER_STATE, "certificate '%s' was already voided",
                                    number);
    if (c.remaining != c.face_value)
        return kr_ledger_fail(db, KR_LEDGER_STATE,
                              "certificate '%s' was used (%lld of %lld left): a used certificate "
                              "cannot be returned",
                              number, (long long)c.remaining, (long long)c.face_value);
    sqlite3_stmt *st = kr_ledger_stmt(db, sql);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "tit", number, at, op_id);
    if (s == KR_LEDGER_OK)
        s = kr_ledger_exec_done(db, st);
    return s;
}

kr_ledger_status kr_ledger_certificate_void(kr_ledger *db, const char *number, const char *op_id,
                                            int64_t at)
{
    kr_ledger_status s = kr_ledger_sp_begin(db);
    if (s != KR_LEDGER_OK)
        return s;
    return finish(db, certificate_void(db, number, op_id, at));
}

kr_ledger_status kr_ledger_certificate_used_by(kr_ledger *db, const char *number,
                                               const char *receipt, int64_t *out_used,
                                               int64_t *out_given_back)
{
    static const char sql[] =
        "SELECT (SELECT coalesce(sum(amount), 0) FROM certificate_use WHERE number = ?1 AND"
        " op_id = ?2), (SELECT coalesce(sum(amount), 0) FROM certificate_back WHERE number = ?1"
        " AND receipt = ?2)";
    kr_ledger_status s = kr_ledger_certificate_get(db, number, NULL, NULL, NULL);
    if (s != KR_LEDGER_OK)
        return s;
    sqlite3_stmt *st = kr_ledger_stmt(db, sql);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "tt", number, receipt);
    bool row = false;
    if (s == KR_LEDGER_OK)
        s = kr_ledger_step(db, st, &row);
    if (s != KR_LEDGER_OK)
        return s;
    if (out_used)
        *out_used = row ? sqlite3_column_int64(st, 0) : 0;
    if (out_given_back)
        *out_given_back = row ? sqlite3_column_int64(st, 1) : 0;
    kr_ledger_done(st);
    return KR_LEDGER_OK;
}

kr_ledger_status kr_ledger_certificate_op_done(kr_ledger *db, const char *q_done, const char *number,
                                              const char *op_id, int64_t amount, const char *did,
                                              const char *prep)
{
    sqlite3_stmt *st = kr_ledger_stmt(db, q_done);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    kr_ledger_status s = kr_ledger_bind(db, st, "tt", number, op_id);
    bool row = false;
    if (s == KR_LEDGER_OK)
        s = kr_ledger_step(db, st, &row);
    if (s != KR_LEDGER_OK || !row)
        return s;
    int64_t prev = sqlite3_column_int64(st, 0);
    kr_ledger_done(st);
    if (prev == amount)
        return KR_LEDGER_EXISTS;
    return kr_ledger_fail(db, KR_LEDGER_CONFLICT,
                          "operation '%s' already %s %lld %s certificate '%s'", op_id, did,
                          (long long)prev, prep, number);
}

static kr_ledger_status give_back(kr_ledger *db, const char *number, const char *receipt,
                                  int64_t amount, const char *op_id, int64_t at)
{
    static const char q_done[] =
        "SELECT amount FROM certificate_back WHERE number = ?1 AND op_id = ?2";
    static const char ins[] = "INSERT INTO certificate_back(number, op_id, receipt, amount, at)"
                              " VALUES (?1, ?2, ?3, ?4, ?5)";
    static const char inc[] = "UPDATE certificate SET remaining = remaining + ?2 WHERE number = ?1";
    kr_ledger_status s = kr_ledger_check_id(db, "operation id", op_id);
    if (s == KR_LEDGER_OK)
        s = kr_ledger_check_id(db, "receipt id", receipt);
    if (s != KR_LEDGER_OK)
        return s;
    if (amount <= 0)
        return kr_ledger_fail(db, KR_LEDGER_INVALID, "a give-back must be positive");
    int64_t used = 0, back = 0;
    s = kr_ledger_certificate_used_by(db, number, receipt, &used, &back);
    if (s != KR_LEDGER_OK)
        return s;
    s = kr_ledger_certificate_op_done(db, q_done, number, op_id, amount, "gave", "back to");
    if (s != KR_LEDGER_OK)
        return s;
    if (amount > used - back)
        return kr_ledger_fail(db, KR_LEDGER_INVALID,
                              "receipt '%s' took %lld from certificate '%s' and %lld of it went "
                              "back already: %lld cannot go back",
                              receipt, (long long)used, number, (long long)back, (long long)amount);
    sqlite3_stmt *st = kr_ledger_stmt(db, ins);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "tttii", number, op_id, receipt, amount, at);
    if (s == KR_LEDGER_OK)
        s = kr_ledger_exec_done(db, st);
    if (s != KR_LEDGER_OK)
        return s;
    st = kr_ledger_stmt(db, inc);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "ti", number, amount);
    if (s == KR_LEDGER_OK)
        s = kr_ledger_exec_done(db, st);
    return s;
}

kr_ledger_status kr_ledger_certificate_give_back(kr_ledger *db, const char *number,
                                                 const char *receipt, int64_t amount,
                                                 const char *op_id, int64_t at)
{
    kr_ledger_status s = kr_ledger_sp_begin(db);
    if (s != KR_LEDGER_OK)
        return s;
    return finish(db, give_back(db, number, receipt, amount, op_id, at));
}

kr_ledger_status kr_ledger_certificate_history(kr_ledger *db, const char *number, size_t limit,
                                               kr_ledger_certificate_event **out, size_t *n)
{
    static const char sql[] =
        "SELECT 'use', op_id, op_id, amount, at, 0, rowid FROM certificate_use WHERE number = ?1"
        " UNION ALL SELECT 'give-back', op_id, receipt, amount, at, 1, rowid FROM"
        " certificate_back WHERE number = ?1 ORDER BY 5, 6, 7 LIMIT ?2";
    *out = NULL;
    *n = 0;
    if (limit < 1 || limit > 1000)
        return kr_ledger_fail(db, KR_LEDGER_INVALID, "limit must be 1..1000");
    kr_ledger_status s = kr_ledger_certificate_get(db, number, NULL, NULL, NULL);
    if (s != KR_LEDGER_OK)
        return s;
    kr_ledger_certificate_event *v = calloc(limit, sizeof *v);
    if (!v)
        return kr_ledger_fail(db, KR_LEDGER_NOMEM, "out of memory");
    sqlite3_stmt *st = kr_ledger_stmt(db, sql);
    if (!st) {
        free(v);
        return KR_LEDGER_DB_ERROR;
    }
    s = kr_ledger_bind(db, st, "ti", number, (int64_t)limit);
    bool row = true;
    while (s == KR_LEDGER_OK && (s = kr_ledger_step(db, st, &row)) == KR_LEDGER_OK && row &&
           *n < limit) {
        kr_ledger_certificate_event *e = &v[(*n)++];
        kr_ledger_col_copy(st, 0, e->kind, sizeof e->kind);
        kr_ledger_col_copy(st, 1, e->op_id, sizeof e->op_id);
        kr_ledger_col_copy(st, 2, e->receipt, sizeof e->receipt);
        e->amount = sqlite3_column_int64(st, 3);
        e->at = sqlite3_column_int64(st, 4);
    }
    kr_ledger_done(st);
    if (s != KR_LEDGER_OK) {
        free(v);
        *n = 0;
        return s;
    }
    *out = v;
    return KR_LEDGER_OK;
}
