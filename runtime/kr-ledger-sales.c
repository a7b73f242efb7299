// SPDX-License-Identifier: MIT
// kr-ledger-sales: writes the sale facts that reports read (kr-ledger-sales.h).
#include "kr-ledger-private.h"
#include "kr-ledger-sales.h"

static kr_ledger_status put_rows(kr_ledger *db, const kr_ledger_sale *s)
{
    static const char q_sale[] =
        "INSERT INTO sale(receipt_id, at, customer_id, store, region, channel, original, final,"
        " points_spent, points_earned, rejected)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
    static const char q_line[] =
        "INSERT INTO sale_line(receipt_id, line_id, sku, qty, original, final)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
    // A promotion listed twice (never by the engine) adds up rather than failing the receipt.
    static const char q_promo[] =
        "INSERT INTO sale_promotion(receipt_id, promotion, discount, points)"
        " VALUES (?1, ?2, ?3, ?4) ON CONFLICT(receipt_id, promotion) DO UPDATE SET"
        " discount = discount + excluded.discount, points = points + excluded.points";
    sqlite3_stmt *st = kr_ledger_stmt(db, q_sale);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    kr_ledger_status ls = kr_ledger_bind(db, st, "tiztttiiiit", s->receipt_id, s->at,
                                         s->customer_id, s->store, s->region, s->channel,
                                         s->original, s->final, s->points_spent,
                                         s->points_earned, s->rejected);
    if (ls == KR_LEDGER_OK)
        ls = kr_ledger_exec_done(db, st);
    for (size_t i = 0; ls == KR_LEDGER_OK && i < s->n_lines; i++) {
        const kr_ledger_sale_line *l = &s->lines[i];
        st = kr_ledger_stmt(db, q_line);
        if (!st)
            return KR_LEDGER_DB_ERROR;
        ls = kr_ledger_bind(db, st, "tttiii", s->receipt_id, l->id, l->sku, l->qty, l->original,
                            l->final);
        if (ls == KR_LEDGER_OK)
            ls = kr_ledger_exec_done(db, st);
    }
    for (size_t i = 0; ls == KR_LEDGER_OK && i < s->n_promotions; i++) {
        const kr_ledger_sale_promotion *p = &s->promotions[i];
        st = kr_ledger_stmt(db, q_promo);
        if (!st)
            return KR_LEDGER_DB_ERROR;
        ls = kr_ledger_bind(db, st, "ttii", s->receipt_id, p->promotion, p->discount, p->points);
        if (ls == KR_LEDGER_OK)
            ls = kr_ledger_exec_done(db, st);
    }
    return ls;
}

kr_ledger_status kr_ledger_sale_put(kr_ledger *db, const kr_ledger_sale *s)
{
    if (!s || !s->receipt_id)
        return kr_ledger_fail(db, KR_LEDGER_INVALID, "no sale given");
    if (s->original < 0 || s->final < 0 || s->points_spent < 0 || s->points_earned < 0)
        return kr_ledger_fail(db, KR_LEDGER_INVALID, "sale %s: a negative amount", s->receipt_id);
    kr_ledger_status ls = kr_ledger_sp_begin(db);
    if (ls != KR_LEDGER_OK)
        return ls;
    return kr_ledger_sp_end(db, put_rows(db, s));
}

kr_ledger_status kr_ledger_line_part_put(kr_ledger *db, const kr_ledger_line_part *p)
{
    static const char q_receipt[] = "SELECT 1 FROM receipt WHERE id = ?1";
    static const char q_part[] = "SELECT 1 FROM receipt_line_part"
                                 " WHERE receipt_id = ?1 AND line_id = ?2 AND op_id = ?3";
    static const char ins[] =
        "INSERT INTO receipt_line_part(receipt_id, line_id, op_id, qty, original, final, at)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
    kr_ledger_status s = kr_ledger_check_id(db, "receipt id", p->receipt_id);
    if (s == KR_LEDGER_OK)
        s = kr_ledger_check_id(db, "line id", p->line_id);
    if (s == KR_LEDGER_OK)
        s = kr_ledger_check_id(db, "operation id", p->op_id);
    if (s != KR_LEDGER_OK)
        return s;
    if (p->qty < 1 || p->original < 0 || p->final < 0)
        return kr_ledger_fail(db, KR_LEDGER_INVALID,
                              "part of line '%s' of receipt '%s': %lld units, %lld, %lld",
                              p->line_id, p->receipt_id, (long long)p->qty, (long long)p->original,
                              (long long)p->final);
    const char *qs[2] = {q_receipt, q_part};
    for (size_t i = 0; i < 2; i++) {
        sqlite3_stmt *st = kr_ledger_stmt(db, qs[i]);
        if (!st)
            return KR_LEDGER_DB_ERROR;
        s = i ? kr_ledger_bind(db, st, "ttt", p->receipt_id, p->line_id, p->op_id)
              : kr_ledger_bind(db, st, "t", p->receipt_id);
        bool row = false;
        if (s == KR_LEDGER_OK)
            s = kr_ledger_step(db, st, &row);
        if (s != KR_LEDGER_OK)
            return s;
        kr_ledger_done(st);
        if (i == 0 && !row)
            return kr_ledger_fail(db, KR_LEDGER_NOT_FOUND, "receipt '%s' not found", p->receipt_id);
        if (i == 1 && row)
            return KR_LEDGER_EXISTS;
    }
    sqlite3_stmt *st = kr_ledger_stmt(db, ins);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "tttiiii", p->receipt_id, p->line_id, p->op_id, p->qty, p->original,
                       p->final, p->at);
    if (s == KR_LEDGER_OK)
        s = kr_ledger_exec_done(db, st);
    return s;
}

kr_ledger_status kr_ledger_line_units_back(kr_ledger *db, const char *receipt_id,
                                           const char *line_id, int64_t *out)
{
    static const char sql[] = "SELECT coalesce(sum(qty), 0) FROM receipt_line_part"
                              " WHERE receipt_id = ?1 AND line_id = ?2";
    *out = 0;
    sqlite3_stmt *st = kr_ledger_stmt(db, sql);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    kr_ledger_status s = kr_ledger_bind(db, st, "tt", receipt_id, line_id);
    bool row = false;
    if (s == KR_LEDGER_OK)
        s = kr_ledger_step(db, st, &row);
    if (s != KR_LEDGER_OK)
        return s;
    *out = row ? sqlite3_column_int64(st, 0) : 0;
    kr_ledger_done(st);
    return KR_LEDGER_OK;
}
