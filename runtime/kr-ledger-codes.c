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
        " (SELECT count(*) FROM promo_use u WHERE u.code = p.code AND u.customer_id = ?2),"
        " owner_id FROM promo_code p WHERE code = ?1";
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
    out->owner_id = sqlite3_column_int64(st, 6);
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

kr_ledger_status kr_ledger_customer_codes(kr_ledger *db, int64_t customer_id,
                                          kr_ledger_owned_code *out, size_t max, size_t *n)
{
    static const char sql[] = "SELECT code, batch_id, valid_until, uses, max_uses FROM promo_code"
                              " WHERE owner_id = ?1 ORDER BY rowid LIMIT ?2";
    *n = 0;
    sqlite3_stmt *st = kr_ledger_stmt(db, sql);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    kr_ledger_status s = kr_ledger_bind(db, st, "ii", customer_id, (int64_t)max);
    bool row = true;
    while (s == KR_LEDGER_OK && *n < max && (s = kr_ledger_step(db, st, &row)) == KR_LEDGER_OK &&
           row) {
        kr_ledger_owned_code *c = &out[(*n)++];
        kr_ledger_col_copy(st, 0, c->code, sizeof c->code);
        kr_ledger_col_copy(st, 1, c->batch_id, sizeof c->batch_id);
        c->valid_until = kr_ledger_col_expiry(st, 2);
        c->uses = sqlite3_column_int64(st, 3);
        c->max_uses = sqlite3_column_int64(st, 4);
    }
    kr_ledger_done(st);
    return s;
}

kr_ledger_status kr_ledger_customer_cards(kr_ledger *db, int64_t customer_id, kr_ledger_card *out,
                                          size_t max, size_t *n)
{
    static const char sql[] =
        "SELECT number, batch_id, state, coalesce(issued_at, 0), coalesce(activated_at, 0),"
        " coalesce(blocked_at, 0) FROM card WHERE customer_id = ?1 ORDER BY issued_at, number"
        " LIMIT ?2";
    static const char *const states[] = {"issued", "active", "blocked"};
    *n = 0;
    sqlite3_stmt *st = kr_ledger_stmt(db, sql);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    kr_ledger_status s = kr_ledger_bind(db, st, "ii", customer_id, (int64_t)max);
    bool row = true;
    while (s == KR_LEDGER_OK && *n < max && (s = kr_ledger_step(db, st, &row)) == KR_LEDGER_OK &&
           row) {
        kr_ledger_card *c = &out[(*n)++];
        memset(c, 0, sizeof *c);
        kr_ledger_col_copy(st, 0, c->number, sizeof c->number);
        kr_ledger_col_copy(st, 1, c->batch_id, sizeof c->batch_id);
        const char *state = (const char *)sqlite3_column_text(st, 2);
        for (size_t i = 0; state && i < 3; i++)
            if (strcmp(state, states[i]) == 0)
                c->state = (kr_ledger_card_state)i;
        c->customer_id = customer_id;
        c->issued_at = sqlite3_column_int64(st, 3);
        c->activated_at = sqlite3_column_int64(st, 4);
        c->blocked_at = sqlite3_column_int64(st, 5);
    }
    kr_ledger_done(st);
    return s;
}
