// SPDX-License-Identifier: MIT
// kr-ledger-lots: point lots: accrual, spend, return, reversal with debt, expiry, balance, history.
#include "kr-ledger-private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const source_names[] = {
    [KR_LEDGER_SRC_ACCRUAL] = "accrual",     [KR_LEDGER_SRC_PROMOTION] = "promotion",
    [KR_LEDGER_SRC_BIRTHDAY] = "birthday",   [KR_LEDGER_SRC_REGISTRATION] = "registration",
    [KR_LEDGER_SRC_REFERRAL] = "referral",   [KR_LEDGER_SRC_EVENT] = "event",
    [KR_LEDGER_SRC_MANUAL] = "manual",       [KR_LEDGER_SRC_IMPORT] = "import",
    [KR_LEDGER_SRC_CHALLENGE] = "challenge", [KR_LEDGER_SRC_RETURN] = "return",
};

#define N_SOURCES (sizeof source_names / sizeof source_names[0])

const char *kr_ledger_source_name(kr_ledger_source src)
{
    if ((size_t)src < N_SOURCES)
        return source_names[src];
    return NULL;
}

static kr_ledger_source source_of(const char *name)
{
    for (size_t i = 0; name && i < N_SOURCES; i++)
        if (strcmp(name, source_names[i]) == 0)
            return (kr_ledger_source)i;
    return KR_LEDGER_SRC_MANUAL;
}

// A lot id and how much is in play for it.
typedef struct lot_amt {
    int64_t id, customer_id, amount;
} lot_amt;

typedef struct lot_vec {
    lot_amt *v;
    size_t n, cap;
} lot_vec;

static kr_ledger_status vec_push(kr_ledger *db, lot_vec *vec, int64_t id, int64_t customer_id,
                                 int64_t amount)
{
    if (vec->n == vec->cap) {
        size_t cap = vec->cap ? vec->cap * 2 : 16;
        lot_amt *p = realloc(vec->v, cap * sizeof *p);
        if (!p)
            return kr_ledger_fail(db, KR_LEDGER_NOMEM, "out of memory");
        vec->v = p;
        vec->cap = cap;
    }
    vec->v[vec->n++] = (lot_amt){id, customer_id, amount};
    return KR_LEDGER_OK;
}

// Reads (id, customer_id, remaining) rows of a bound statement into vec, stopping once the
// remainings add up to `enough` (0 = read all). Resets the statement.
static kr_ledger_status collect(kr_ledger *db, sqlite3_stmt *st, lot_vec *vec, int64_t enough,
                                int64_t *total)
{
    bool row = true;
    kr_ledger_status s;
    *total = 0;
    while ((s = kr_ledger_step(db, st, &row)) == KR_LEDGER_OK && row) {
        int64_t rem = sqlite3_column_int64(st, 2);
        s = vec_push(db, vec, sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1), rem);
        if (s != KR_LEDGER_OK)
            break;
        *total += rem;
        if (enough > 0 && *total >= enough)
            break;
    }
    kr_ledger_done(st);
    return s;
}

static kr_ledger_status check_op(kr_ledger *db, const char *op_id)
{
    return kr_ledger_check_id(db, "operation id", op_id);
}

// --- creation -------------------------------------------------------------------------------

kr_ledger_status kr_ledger_lot_create(kr_ledger *db, const kr_ledger_lot_in *in, const char *kind,
                                      int64_t *out_lot_id)
{
    static const char ins[] =
        "INSERT INTO lot(customer_id, source, amount, remaining, earned_at, spendable_from,"
        " expires_at, op_id) VALUES (?1, ?2, ?3, ?3, ?4, ?5, ?6, ?7)";
    static const char bal[] = "UPDATE customer SET balance = balance + ?2 WHERE id = ?1";
    static const char q_debt[] = "SELECT debt FROM customer WHERE id = ?1";
    static const char pay[] = "UPDATE customer SET debt = debt - ?2 WHERE id = ?1";
    const char *src = kr_ledger_source_name(in->source);
    if (!src)
        return kr_ledger_fail(db, KR_LEDGER_INVALID, "unknown lot source %d", (int)in->source);
    if (in->amount <= 0)
        return kr_ledger_fail(db, KR_LEDGER_INVALID, "lot amount %lld must be positive",
                              (long long)in->amount);
    if (in->spendable_from < in->earned_at)
        return kr_ledger_fail(db, KR_LEDGER_INVALID, "lot is spendable before it is earned");
    if (in->expires_at != KR_LEDGER_NEVER && in->expires_at <= in->spendable_from)
        return kr_ledger_fail(db, KR_LEDGER_INVALID, "lot expires before it becomes spendable");
    kr_ledger_status s = check_op(db, in->op_id);
    if (s != KR_LEDGER_OK)
        return s;
    sqlite3_stmt *st = kr_ledger_stmt(db, ins);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "itiiiet", in->customer_id, src, in->amount, in->earned_at,
                       in->spendable_from, in->expires_at, in->op_id);
    if (s == KR_LEDGER_OK)
        s = kr_ledger_exec_done(db, st);
    if (s != KR_LEDGER_OK)
        return s;
    int64_t lot = sqlite3_last_insert_rowid(db->sql);
    s = kr_ledger_journal_add(db, in->op_id, kind, lot, in->customer_id, in->amount, in->earned_at,
                              NULL, 0);
    if (s != KR_LEDGER_OK)
        return s;
    st = kr_ledger_stmt(db, bal);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "ii", in->customer_id, in->amount);
    if (s == KR_LEDGER_OK)
        s = kr_ledger_exec_done(db, st);
    if (s != KR_LEDGER_OK)
        return s;

    // A debt left by a reversed accrual is paid from the next lot, first thing.
    st = kr_ledger_stmt(db, q_debt);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "i", in->customer_id);
    bool row = false;
    if (s == KR_LEDGER_OK)
        s = kr_ledger_step(db, st, &row);
    if (s != KR_LEDGER_OK)
        return s;
    int64_t debt = row ? sqlite3_column_int64(st, 0) : 0;
    kr_ledger_done(st);
    if (debt > 0) {
        int64_t x = debt < in->amount ? debt : in->amount;
        s = kr_ledger_lot_delta(db, lot, in->customer_id, -x, in->op_id, "debt-pay", in->earned_at,
                                NULL);
        if (s == KR_LEDGER_OK)
            s = kr_ledger_journal_add(db, in->op_id, "debt-pay", 0, in->customer_id, -x,
                                      in->earned_at, NULL, 0);
        if (s != KR_LEDGER_OK)
            return s;
        st = kr_ledger_stmt(db, pay);
        if (!st)
            return KR_LEDGER_DB_ERROR;
        s = kr_ledger_bind(db, st, "ii", in->customer_id, x);
        if (s == KR_LEDGER_OK)
            s = kr_ledger_exec_done(db, st);
        if (s != KR_LEDGER_OK)
            return s;
    }
    if (out_lot_id)
        *out_lot_id = lot;
    return KR_LEDGER_OK;
}

kr_ledger_status kr_ledger_lot_add(kr_ledger *db, const kr_ledger_lot_in *in, int64_t *out_lot_id)
{
    if (!in)
        return kr_ledger_fail(db, KR_LEDGER_INVALID, "no lot given");
    kr_ledger_status s = kr_ledger_live_customer(db, in->customer_id);
    if (s != KR_LEDGER_OK)
        return s;
    s = kr_ledger_sp_begin(db);
    if (s != KR_LEDGER_OK)
        return s;
    return kr_ledger_sp_end(db, kr_ledger_lot_create(db, in, "create", out_lot_id));
}

kr_ledger_status kr_ledger_lot_get(kr_ledger *db, int64_t lot_id, kr_ledger_lot *out)
{
    static const char sql[] = "SELECT customer_id, source, amount, remaining, earned_at,"
                              " spendable_from, expires_at, op_id FROM lot WHERE id = ?1";
    sqlite3_stmt *st = kr_ledger_stmt(db, sql);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    kr_ledger_status s = kr_ledger_bind(db, st, "i", lot_id);
    bool row = false;
    if (s == KR_LEDGER_OK)
        s = kr_ledger_step(db, st, &row);
    if (s != KR_LEDGER_OK)
        return s;
    if (!row)
        return kr_ledger_fail(db, KR_LEDGER_NOT_FOUND, "lot %lld not found", (long long)lot_id);
    memset(out, 0, sizeof *out);
    out->id = lot_id;
    out->customer_id = sqlite3_column_int64(st, 0);
    out->source = source_of((const char *)sqlite3_column_text(st, 1));
    out->amount = sqlite3_column_int64(st, 2);
    out->remaining = sqlite3_column_int64(st, 3);
    out->earned_at = sqlite3_column_int64(st, 4);
    out->spendable_from = sqlite3_column_int64(st, 5);
    out->expires_at = kr_ledger_col_expiry(st, 6);
    kr_ledger_col_copy(st, 7, out->op_id, sizeof out->op_id);
    kr_ledger_done(st);
    return KR_LEDGER_OK;
}

// --- spend ----------------------------------------------------------------------------------

// Spend order: earliest expiry first (never-expiring last), then oldest, then lowest id.
static const char SQL_SPENDABLE[] =
    "SELECT id, customer_id, remaining FROM lot WHERE customer_id = ?1 AND remaining > 0"
    " AND spendable_from <= ?2 AND (expires_at IS NULL OR expires_at > ?2)"
    " ORDER BY expires_at IS NULL, expires_at, earned_at, id";

static kr_ledger_status spend(kr_ledger *db, int64_t customer_id, int64_t points, int64_t at,
                              const char *op_id, lot_vec *vec)
{
    kr_ledger_status s = check_op(db, op_id);
    if (s != KR_LEDGER_OK)
        return s;
    if (points <= 0)
        return kr_ledger_fail(db, KR_LEDGER_INVALID, "points to spend must be positive, not %lld",
                              (long long)points);
    s = kr_ledger_live_customer(db, customer_id);
    if (s != KR_LEDGER_OK)
        return s;
    sqlite3_stmt *st = kr_ledger_stmt(db, SQL_SPENDABLE);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "ii", customer_id, at);
    int64_t total = 0;
    if (s == KR_LEDGER_OK)
        s = collect(db, st, vec, points, &total);
    if (s != KR_LEDGER_OK)
        return s;
    if (total < points)
        return kr_ledger_fail(db, KR_LEDGER_INSUFFICIENT,
                              "customer %lld has %lld spendable points, %lld requested",
                              (long long)customer_id, (long long)total, (long long)points);
    int64_t need = points;
    for (size_t i = 0; i < vec->n; i++) {
        int64_t x = vec->v[i].amount < need ? vec->v[i].amount : need;
        vec->v[i].amount = x;
        need -= x;
        s = kr_ledger_lot_delta(db, vec->v[i].id, customer_id, -x, op_id, "spend", at, NULL);
        if (s != KR_LEDGER_OK)
            return s;
    }
    return KR_LEDGER_OK;
}

kr_ledger_status kr_ledger_spend(kr_ledger *db, int64_t customer_id, int64_t points, int64_t at,
                                 const char *op_id, kr_ledger_take **out_takes, size_t *out_n)
{
    lot_vec vec = {0};
    if (out_takes)
        *out_takes = NULL;
    if (out_n)
        *out_n = 0;
    kr_ledger_status s = kr_ledger_sp_begin(db);
    if (s != KR_LEDGER_OK)
        return s;
    s = kr_ledger_sp_end(db, spend(db, customer_id, points, at, op_id, &vec));
    if (s == KR_LEDGER_OK && out_takes && vec.n) {
        kr_ledger_take *t = malloc(vec.n * sizeof *t);
        if (!t) {
            free(vec.v);
            // The points are spent; the caller must roll back its transaction.
            return kr_ledger_fail(db, KR_LEDGER_NOMEM, "out of memory listing the takes");
        }
        for (size_t i = 0; i < vec.n; i++)
            t[i] = (kr_ledger_take){vec.v[i].id, vec.v[i].amount};
        *out_takes = t;
        if (out_n)
            *out_n = vec.n;
    }
    free(vec.v);
    return s;
}

// --- return ---------------------------------------------------------------------------------

static kr_ledger_status give_back(kr_ledger *db, const kr_ledger_take *takes, size_t n, int64_t at,
                                  const char *op_id, kr_ledger_expired_policy policy,
                                  int64_t lifetime, kr_ledger_return_result *res)
{
    static const char q_lot[] = "SELECT customer_id, expires_at FROM lot WHERE id = ?1";
    static const char q_spent[] =
        "SELECT coalesce(sum(CASE kind WHEN 'spend' THEN -delta ELSE 0 END), 0),"
        " coalesce(sum(CASE kind WHEN 'return-in' THEN delta ELSE 0 END), 0)"
        " FROM journal WHERE lot_id = ?1";
    kr_ledger_status s = check_op(db, op_id);
    if (s != KR_LEDGER_OK)
        return s;
    if (n == 0 || !takes)
        return kr_ledger_fail(db, KR_LEDGER_INVALID, "nothing to return");
    if (policy != KR_LEDGER_EXPIRED_DROP && policy != KR_LEDGER_EXPIRED_NEW_LOT)
        return kr_ledger_fail(db, KR_LEDGER_INVALID, "unknown expired-lot policy %d", (int)policy);
    if (policy == KR_LEDGER_EXPIRED_NEW_LOT && lifetime <= 0)
        return kr_ledger_fail(db, KR_LEDGER_INVALID, "new-lot lifetime must be positive");
    if (policy == KR_LEDGER_EXPIRED_NEW_LOT && lifetime != KR_LEDGER_NEVER &&
        at > INT64_MAX - 1 - lifetime)
        return kr_ledger_fail(db, KR_LEDGER_INVALID, "new-lot lifetime overflows");
    int64_t customer = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t lot = takes[i].lot_id, x = takes[i].amount;
        if (x <= 0)
            return kr_ledger_fail(db, KR_LEDGER_INVALID,
                                  "return amount for lot %lld must be "
                                  "positive",
                                  (long long)lot);
        sqlite3_stmt *st = kr_ledger_stmt(db, q_lot);
        if (!st)
            return KR_LEDGER_DB_ERROR;
        s = kr_ledger_bind(db, st, "i", lot);
        bool row = false;
        if (s == KR_LEDGER_OK)
            s = kr_ledger_step(db, st, &row);
        if (s != KR_LEDGER_OK)
            return s;
        if (!row)
            return kr_ledger_fail(db, KR_LEDGER_NOT_FOUND, "lot %lld not found", (long long)lot);
        int64_t owner = sqlite3_column_int64(st, 0);
        int64_t expires = kr_ledger_col_expiry(st, 1);
        kr_ledger_done(st);
        if (customer && owner != customer)
            return kr_ledger_fail(db, KR_LEDGER_INVALID,
                                  "returned lots belong to different customers");
        customer = owner;

        st = kr_ledger_stmt(db, q_spent);
        if (!st)
            return KR_LEDGER_DB_ERROR;
        s = kr_ledger_bind(db, st, "i", lot);
        if (s == KR_LEDGER_OK)
            s = kr_ledger_step(db, st, &row);
        if (s != KR_LEDGER_OK)
            return s;
        int64_t spent = sqlite3_column_int64(st, 0), back = sqlite3_column_int64(st, 1);
        kr_ledger_done(st);
        if (back + x > spent)
            return kr_ledger_fail(db, KR_LEDGER_INVALID,
                                  "lot %lld: returning %lld but only %lld of its spent points "
                                  "are not yet returned",
                                  (long long)lot, (long long)x, (long long)(spent - back));

        s = kr_ledger_lot_delta(db, lot, owner, x, op_id, "return-in", at, NULL);
        if (s != KR_LEDGER_OK)
            return s;
        if (expires != KR_LEDGER_NEVER && expires <= at) {
            // The lot's own expiry has passed: the points do not live on in it.
            s = kr_ledger_lot_delta(db, lot, owner, -x, op_id, "expire", at, NULL);
            if (s != KR_LEDGER_OK)
                return s;
            if (policy == KR_LEDGER_EXPIRED_DROP)
                res->dropped += x;
            else
                res->renewed += x;
        } else {
            res->restored += x;
        }
    }
    if (res->renewed > 0) {
        kr_ledger_lot_in in = {
            .customer_id = customer,
            .source = KR_LEDGER_SRC_RETURN,
            .amount = res->renewed,
            .earned_at = at,
            .spendable_from = at,
            .expires_at = lifetime == KR_LEDGER_NEVER ? KR_LEDGER_NEVER : at + lifetime,
            .op_id = op_id,
        };
        s = kr_ledger_lot_create(db, &in, "create", &res->new_lot_id);
    }
    return s;
}

kr_ledger_status kr_ledger_return(kr_ledger *db, const kr_ledger_take *takes, size_t n, int64_t at,
                                  const char *op_id, kr_ledger_expired_policy policy,
                                  int64_t lifetime, kr_ledger_return_result *out)
{
    kr_ledger_return_result res = {0};
    kr_ledger_status s = kr_ledger_sp_begin(db);
    if (s != KR_LEDGER_OK)
        return s;
    s = kr_ledger_sp_end(db, give_back(db, takes, n, at, op_id, policy, lifetime, &res));
    if (s == KR_LEDGER_OK && out)
        *out = res;
    return s;
}

// --- reversal of an accrual -----------------------------------------------------------------

static kr_ledger_status reverse(kr_ledger *db, int64_t customer_id, const char *accrual_op,
                                const char *prefer, int64_t points, int64_t at, const char *op_id,
                                kr_ledger_reverse_result *res)
{
    static const char q_credited[] =
        "SELECT count(*), coalesce(sum(amount), 0) FROM lot WHERE op_id = ?1 AND customer_id = ?2";
    static const char q_reversed[] =
        "SELECT coalesce(sum(CASE kind WHEN 'reverse' THEN -delta WHEN 'debt-add' THEN delta"
        " ELSE 0 END), 0) FROM journal WHERE ref_op = ?1 AND customer_id IN"
        " (SELECT id FROM customer WHERE id = ?2 OR merged_into = ?2)";
    static const char q_own[] =
        "SELECT id, customer_id, remaining FROM lot WHERE op_id = ?1 AND customer_id = ?2"
        " AND remaining > 0 AND (expires_at IS NULL OR expires_at > ?3)"
        " ORDER BY coalesce(source = ?4, 0) DESC, id";
    static const char q_other[] =
        "SELECT id, customer_id, remaining FROM lot WHERE customer_id = ?1 AND remaining > 0"
        " AND (expires_at IS NULL OR expires_at > ?2)"
        " ORDER BY expires_at IS NULL, expires_at, earned_at, id";
    static const char add_debt[] = "UPDATE customer SET debt = debt + ?2 WHERE id = ?1";
    kr_ledger_status s = check_op(db, op_id);
    if (s == KR_LEDGER_OK)
        s = kr_ledger_check_id(db, "accrual operation id", accrual_op);
    if (s != KR_LEDGER_OK)
        return s;
    if (points <= 0)
        return kr_ledger_fail(db, KR_LEDGER_INVALID, "points to reverse must be positive");
    s = kr_ledger_live_customer(db, customer_id);
    if (s != KR_LEDGER_OK)
        return s;

    sqlite3_stmt *st = kr_ledger_stmt(db, q_credited);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "ti", accrual_op, customer_id);
    bool row = false;
    if (s == KR_LEDGER_OK)
        s = kr_ledger_step(db, st, &row);
    if (s != KR_LEDGER_OK)
        return s;
    int64_t n_lots = sqlite3_column_int64(st, 0), credited = sqlite3_column_int64(st, 1);
    kr_ledger_done(st);
    if (n_lots == 0)
        return kr_ledger_fail(db, KR_LEDGER_NOT_FOUND,
                              "operation '%s' credited no lots to customer %lld", accrual_op,
                              (long long)customer_id);
    st = kr_ledger_stmt(db, q_reversed);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "ti", accrual_op, customer_id);
    if (s == KR_LEDGER_OK)
        s = kr_ledger_step(db, st, &row);
    if (s != KR_LEDGER_OK)
        return s;
    int64_t reversed = sqlite3_column_int64(st, 0);
    kr_ledger_done(st);
    if (reversed + points > credited)
        return kr_ledger_fail(db, KR_LEDGER_INVALID,
                              "operation '%s' credited %lld points, %lld already reversed; "
                              "cannot reverse %lld more",
                              accrual_op, (long long)credited, (long long)reversed,
                              (long long)points);

    int64_t need = points;
    for (int pass = 0; pass < 2 && need > 0; pass++) {
        lot_vec vec = {0};
        int64_t total = 0;
        st = kr_ledger_stmt(db, pass == 0 ? q_own : q_other);
        if (!st)
            return KR_LEDGER_DB_ERROR;
        s = pass == 0 ? kr_ledger_bind(db, st, "tiit", accrual_op, customer_id, at, prefer)
                      : kr_ledger_bind(db, st, "ii", customer_id, at);
        if (s == KR_LEDGER_OK)
            s = collect(db, st, &vec, need, &total);
        for (size_t i = 0; i < vec.n && s == KR_LEDGER_OK && need > 0; i++) {
            int64_t x = vec.v[i].amount < need ? vec.v[i].amount : need;
            need -= x;
            if (pass == 0)
                res->from_own_lots += x;
            else
                res->from_other_lots += x;
            s = kr_ledger_lot_delta(db, vec.v[i].id, customer_id, -x, op_id, "reverse", at,
                                    accrual_op);
        }
        free(vec.v);
        if (s != KR_LEDGER_OK)
            return s;
    }
    if (need > 0) {
        res->debt = need;
        s = kr_ledger_journal_add(db, op_id, "debt-add", 0, customer_id, need, at, accrual_op, 0);
        if (s != KR_LEDGER_OK)
            return s;
        st = kr_ledger_stmt(db, add_debt);
        if (!st)
            return KR_LEDGER_DB_ERROR;
        s = kr_ledger_bind(db, st, "ii", customer_id, need);
        if (s == KR_LEDGER_OK)
            s = kr_ledger_exec_done(db, st);
    }
    return s;
}

kr_ledger_status kr_ledger_reverse_accrual(kr_ledger *db, int64_t customer_id,
                                           const char *accrual_op, int64_t points, int64_t at,
                                           const char *op_id, kr_ledger_reverse_result *out)
{
    kr_ledger_reverse_result res = {0};
    kr_ledger_status s = kr_ledger_sp_begin(db);
    if (s != KR_LEDGER_OK)
        return s;
    s = kr_ledger_sp_end(db, reverse(db, customer_id, accrual_op, NULL, points, at, op_id, &res));
    if (s == KR_LEDGER_OK && out)
        *out = res;
    return s;
}

kr_ledger_status kr_ledger_reverse_accrual_source(kr_ledger *db, int64_t customer_id,
                                                  const char *accrual_op, const char *source,
                                                  int64_t points, int64_t at, const char *op_id,
                                                  kr_ledger_reverse_result *out)
{
    kr_ledger_reverse_result res = {0};
    kr_ledger_status s = kr_ledger_sp_begin(db);
    if (s != KR_LEDGER_OK)
        return s;
    s = kr_ledger_sp_end(db, reverse(db, customer_id, accrual_op, source, points, at, op_id, &res));
    if (s == KR_LEDGER_OK && out)
        *out = res;
    return s;
}

// --- expiry ---------------------------------------------------------------------------------

static kr_ledger_status expire(kr_ledger *db, int64_t at, const char *op_id, int64_t *lots,
                               int64_t *points)
{
    static const char sql[] = "SELECT id, customer_id, remaining FROM lot WHERE remaining > 0"
                              " AND expires_at IS NOT NULL AND expires_at <= ?1 ORDER BY id";
    lot_vec vec = {0};
    int64_t total = 0;
    sqlite3_stmt *st = kr_ledger_stmt(db, sql);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    kr_ledger_status s = kr_ledger_bind(db, st, "i", at);
    if (s == KR_LEDGER_OK)
        s = collect(db, st, &vec, 0, &total);
    for (size_t i = 0; i < vec.n && s == KR_LEDGER_OK; i++)
        s = kr_ledger_lot_delta(db, vec.v[i].id, vec.v[i].customer_id, -vec.v[i].amount, op_id,
                                "expire", at, NULL);
    if (s == KR_LEDGER_OK) {
        *lots = (int64_t)vec.n;
        *points = total;
    }
    free(vec.v);
    return s;
}

kr_ledger_status kr_ledger_expire(kr_ledger *db, int64_t at, const char *op_id, int64_t *out_lots,
                                  int64_t *out_points)
{
    char gen[KR_LEDGER_ID_MAX];
    if (!op_id) {
        snprintf(gen, sizeof gen, "expire@%lld", (long long)at);
        op_id = gen;
    }
    kr_ledger_status s = check_op(db, op_id);
    if (s != KR_LEDGER_OK)
        return s;
    int64_t lots = 0, points = 0;
    s = kr_ledger_sp_begin(db);
    if (s != KR_LEDGER_OK)
        return s;
    s = kr_ledger_sp_end(db, expire(db, at, op_id, &lots, &points));
    if (s == KR_LEDGER_OK) {
        if (out_lots)
            *out_lots = lots;
        if (out_points)
            *out_points = points;
    }
    return s;
}

// --- balance and history --------------------------------------------------------------------

kr_ledger_status kr_ledger_balance_get(kr_ledger *db, int64_t customer_id, int64_t at,
                                       kr_ledger_balance *out)
{
    static const char q_sum[] =
        "SELECT coalesce(sum(CASE WHEN spendable_from <= ?2 THEN remaining END), 0),"
        " coalesce(sum(CASE WHEN spendable_from > ?2 THEN remaining END), 0),"
        " coalesce(sum(CASE WHEN expires_at IS NULL THEN remaining END), 0),"
        " (SELECT debt FROM customer WHERE id = ?1)"
        " FROM lot WHERE customer_id = ?1 AND remaining > 0"
        " AND (expires_at IS NULL OR expires_at > ?2)";
    static const char q_buckets[] =
        "SELECT expires_at, sum(remaining) FROM lot WHERE customer_id = ?1 AND remaining > 0"
        " AND expires_at > ?2 GROUP BY expires_at ORDER BY expires_at";
    memset(out, 0, sizeof *out);
    kr_ledger_status s = kr_ledger_live_customer(db, customer_id);
    if (s != KR_LEDGER_OK)
        return s;
    sqlite3_stmt *st = kr_ledger_stmt(db, q_sum);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "ii", customer_id, at);
    bool row = false;
    if (s == KR_LEDGER_OK)
        s = kr_ledger_step(db, st, &row);
    if (s != KR_LEDGER_OK)
        return s;
    out->spendable = sqlite3_column_int64(st, 0);
    out->pending = sqlite3_column_int64(st, 1);
    out->never_expiring = sqlite3_column_int64(st, 2);
    out->debt = sqlite3_column_int64(st, 3);
    kr_ledger_done(st);

    st = kr_ledger_stmt(db, q_buckets);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "ii", customer_id, at);
    size_t cap = 0;
    while (s == KR_LEDGER_OK && (s = kr_ledger_step(db, st, &row)) == KR_LEDGER_OK && row) {
        if (out->n_buckets == cap) {
            cap = cap ? cap * 2 : 8;
            kr_ledger_expiry_bucket *p = realloc(out->buckets, cap * sizeof *p);
            if (!p) {
                kr_ledger_done(st);
                kr_ledger_balance_free(out);
                return kr_ledger_fail(db, KR_LEDGER_NOMEM, "out of memory");
            }
            out->buckets = p;
        }
        out->buckets[out->n_buckets++] =
            (kr_ledger_expiry_bucket){sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1)};
    }
    if (s != KR_LEDGER_OK) {
        kr_ledger_balance_free(out);
        return s;
    }
    kr_ledger_done(st);
    return KR_LEDGER_OK;
}

void kr_ledger_balance_free(kr_ledger_balance *b)
{
    if (!b)
        return;
    free(b->buckets);
    b->buckets = NULL;
    b->n_buckets = 0;
}

kr_ledger_status kr_ledger_history(kr_ledger *db, int64_t customer_id, int64_t after_id,
                                   size_t limit, kr_ledger_journal_row **out, size_t *out_n)
{
    static const char sql[] =
        "SELECT id, customer_id, lot_id, op_id, kind, delta, at, ref_op, peer_customer_id"
        " FROM journal WHERE customer_id IN"
        " (SELECT id FROM customer WHERE id = ?1 OR merged_into = ?1)"
        " AND id > ?2 ORDER BY id LIMIT ?3";
    *out = NULL;
    *out_n = 0;
    if (limit == 0 || limit > 1000)
        return kr_ledger_fail(db, KR_LEDGER_INVALID, "history limit %zu is not in 1..1000", limit);
    int64_t survivor;
    kr_ledger_status s = kr_ledger_customer_survivor(db, customer_id, &survivor);
    if (s != KR_LEDGER_OK)
        return s;
    kr_ledger_journal_row *rows = calloc(limit, sizeof *rows);
    if (!rows)
        return kr_ledger_fail(db, KR_LEDGER_NOMEM, "out of memory");
    sqlite3_stmt *st = kr_ledger_stmt(db, sql);
    if (!st) {
        free(rows);
        return KR_LEDGER_DB_ERROR;
    }
    s = kr_ledger_bind(db, st, "iii", customer_id, after_id, (int64_t)limit);
    size_t n = 0;
    bool row = true;
    while (s == KR_LEDGER_OK && (s = kr_ledger_step(db, st, &row)) == KR_LEDGER_OK && row &&
           n < limit) {
        kr_ledger_journal_row *r = &rows[n++];
        r->id = sqlite3_column_int64(st, 0);
        r->customer_id = sqlite3_column_int64(st, 1);
        r->lot_id = sqlite3_column_int64(st, 2);
        kr_ledger_col_copy(st, 3, r->op_id, sizeof r->op_id);
        kr_ledger_col_copy(st, 4, r->kind, sizeof r->kind);
        r->delta = sqlite3_column_int64(st, 5);
        r->at = sqlite3_column_int64(st, 6);
        kr_ledger_col_copy(st, 7, r->ref_op, sizeof r->ref_op);
        r->peer_customer_id = sqlite3_column_int64(st, 8);
    }
    if (s != KR_LEDGER_OK) {
        free(rows);
        return s;
    }
    kr_ledger_done(st);
    if (n == 0) {
        free(rows);
        rows = NULL;
    }
    *out = rows;
    *out_n = n;
    return KR_LEDGER_OK;
}
