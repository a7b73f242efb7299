// SPDX-License-Identifier: MIT
// kr-ledger-codes.c: promo code look-up with its limits (kr-ledger-codes.h).
#include "kr-ledger-codes.h"

#include "kr-identity.h"
#include "kr-ledger-private.h"

#include <stdlib.h>

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

kr_ledger_status kr_ledger_card_register(kr_ledger *db, const char *number, int64_t customer_id,
                                         int64_t at)
{
    static const char ins[] =
        "INSERT INTO card(number, batch_id, state, customer_id, issued_at, activated_at)"
        " VALUES (?1, 'erp', 'active', ?2, ?3, ?3)";
    char digits[KR_IDENTITY_CARD_MAX];
    char why[128] = "";
    if (kr_identity_card_normalize(number, false, digits, sizeof digits, why, sizeof why) !=
        KR_IDENTITY_OK)
        return kr_ledger_fail(db, KR_LEDGER_INVALID, "card %s: %s", number, why);
    kr_ledger_card existing;
    kr_ledger_status s = kr_ledger_card_get(db, digits, &existing);
    if (s == KR_LEDGER_OK)
        return kr_ledger_fail(db, KR_LEDGER_CONFLICT, "card %s already exists", digits);
    if (s != KR_LEDGER_NOT_FOUND)
        return s;
    int64_t survivor = 0;
    s = kr_ledger_customer_survivor(db, customer_id, &survivor);
    if (s != KR_LEDGER_OK)
        return s;
    if (survivor != customer_id)
        return kr_ledger_fail(db, KR_LEDGER_MERGED, "customer %lld was merged into %lld",
                              (long long)customer_id, (long long)survivor);
    sqlite3_stmt *st = kr_ledger_stmt(db, ins);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "tii", digits, customer_id, at);
    if (s == KR_LEDGER_OK)
        s = kr_ledger_exec_done(db, st);
    return s;
}

kr_ledger_status kr_ledger_program_latest(kr_ledger *db, kr_ledger_program **out)
{
    static const char sql[] = "SELECT program_id FROM program_version"
                              " ORDER BY deployed_at DESC, version DESC LIMIT 1";
    *out = NULL;
    sqlite3_stmt *st = kr_ledger_stmt(db, sql);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    bool row = false;
    kr_ledger_status s = kr_ledger_step(db, st, &row);
    if (s != KR_LEDGER_OK)
        return s;
    if (!row) {
        kr_ledger_done(st);
        return kr_ledger_fail(db, KR_LEDGER_NOT_FOUND, "no program was deployed in this ledger");
    }
    char id[KR_LEDGER_ID_MAX];
    kr_ledger_col_copy(st, 0, id, sizeof id);
    kr_ledger_done(st);
    return kr_ledger_program_current(db, id, out);
}
