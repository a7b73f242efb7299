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
