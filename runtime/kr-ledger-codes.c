// SPDX-License-Identifier: MIT
// kr-ledger-codes.c: promo code look-up with its limits (kr-ledger-codes.h).
#include "kr-ledger-codes.h"

#include "kr-ledger-private.h"

#include <string.h>

kr_ledger_status kr_ledger_promo_get(kr_ledger *db, const char *code, int64_t customer_id,
                                     kr_ledger_promo *out)
{
    static const char sql[] =
        "SELECT batch_id, max_uses, max_per_customer, valid_until, uses,"
        " (SELECT count(*) FROM promo_use u WHERE u.code = p.code AND u.customer_id = ?2)"
        " FROM promo_code p WHERE code = ?1";
    memset(out, 0, sizeof *out);
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
    if (!row) {
        kr_ledger_done(st);
        return kr_ledger_fail(db, KR_LEDGER_NOT_FOUND, "no promo code '%s'", code);
    }
    kr_ledger_col_copy(st, 0, out->batch_id, sizeof out->batch_id);
    out->max_uses = sqlite3_column_int64(st, 1);
    out->max_per_customer = sqlite3_column_int64(st, 2);
    out->valid_until = kr_ledger_col_expiry(st, 3);
    out->uses = sqlite3_column_int64(st, 4);
    out->customer_uses = customer_id ? sqlite3_column_int64(st, 5) : 0;
    kr_ledger_done(st);
    return KR_LEDGER_OK;
}
