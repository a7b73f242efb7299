// SPDX-License-Identifier: MIT
// kr-ledger-query.c: aggregate queries and the jobs' burn (kr-ledger-query.h).
#include "kr-ledger-query.h"

#include "kr-ledger-private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

kr_ledger_status kr_ledger_counter_sum(kr_ledger *db, int64_t customer_id, const char *metric,
                                       const char *from_period, const char *to_period, int64_t *out)
{
    static const char sql[] = "SELECT COALESCE(SUM(value), 0) FROM counter WHERE customer_id = ?1"
                              " AND metric = ?2 AND period BETWEEN ?3 AND ?4";
    kr_ledger_status s = kr_ledger_check_id(db, "metric", metric);
    if (s == KR_LEDGER_OK)
        s = kr_ledger_check_id(db, "period", from_period);
    if (s == KR_LEDGER_OK)
        s = kr_ledger_check_id(db, "period", to_period);
    if (s != KR_LEDGER_OK)
        return s;
    sqlite3_stmt *st = kr_ledger_stmt(db, sql);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "ittt", customer_id, metric, from_period, to_period);
    bool row = false;
    if (s == KR_LEDGER_OK)
        s = kr_ledger_step(db, st, &row);
    if (s != KR_LEDGER_OK)
        return s;
    *out = row ? sqlite3_column_int64(st, 0) : 0;
    kr_ledger_done(st);
    return KR_LEDGER_OK;
}

kr_ledger_status kr_ledger_customers_page(kr_ledger *db, int64_t after_id, size_t limit,
                                          int64_t *ids, size_t *n)
{
    static const char sql[] = "SELECT id FROM customer WHERE merged_into IS NULL AND id > ?1"
                              " ORDER BY id LIMIT ?2";
    *n = 0;
    if (limit == 0 || limit > 10000)
        return kr_ledger_fail(db, KR_LEDGER_INVALID, "page size must be 1..10000");
    sqlite3_stmt *st = kr_ledger_stmt(db, sql);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    kr_ledger_status s = kr_ledger_bind(db, st, "ii", after_id, (int64_t)limit);
    bool row = true;
    while (s == KR_LEDGER_OK) {
        s = kr_ledger_step(db, st, &row);
        if (s != KR_LEDGER_OK || !row)
            break;
        ids[(*n)++] = sqlite3_column_int64(st, 0);
    }
    if (s == KR_LEDGER_OK)
        kr_ledger_done(st);
    return s;
}

kr_ledger_status kr_ledger_counter_last_day(kr_ledger *db, int64_t customer_id, const char *metric,
                                            char out[11])
{
    // Daily keys are exactly "YYYY-MM-DD"; "all" and other period kinds are not dates.
    static const char sql[] = "SELECT max(period) FROM counter WHERE customer_id = ?1"
                              " AND metric = ?2 AND value > 0 AND length(period) = 10"
                              " AND period GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'";
    out[0] = '\0';
    kr_ledger_status s = kr_ledger_check_id(db, "metric", metric);
    if (s != KR_LEDGER_OK)
        return s;
    sqlite3_stmt *st = kr_ledger_stmt(db, sql);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "it", customer_id, metric);
    bool row = false;
    if (s == KR_LEDGER_OK)
        s = kr_ledger_step(db, st, &row);
    if (s != KR_LEDGER_OK)
        return s;
    if (row)
        kr_ledger_col_copy(st, 0, out, 11);
    kr_ledger_done(st);
    if (!out[0])
        return kr_ledger_fail(db, KR_LEDGER_NOT_FOUND, "customer %lld has no %s counted by day",
                              (long long)customer_id, metric);
    return KR_LEDGER_OK;
}

kr_ledger_status kr_ledger_tier_floor(kr_ledger *db, int64_t customer_id, const char *ladder_id,
                                      int64_t at, kr_ledger_tier *out)
{
    static const char sql[] = "SELECT tier_id, from_at, floor_until FROM tier_history"
                              " WHERE customer_id = ?1 AND ladder_id = ?2 AND from_at <= ?3"
                              " AND reason = 'manual' ORDER BY from_at DESC, id DESC LIMIT 1";
    kr_ledger_status s = kr_ledger_check_id(db, "ladder id", ladder_id);
    if (s != KR_LEDGER_OK)
        return s;
    sqlite3_stmt *st = kr_ledger_stmt(db, sql);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "iti", customer_id, ladder_id, at);
    bool row = false;
    if (s == KR_LEDGER_OK)
        s = kr_ledger_step(db, st, &row);
    if (s != KR_LEDGER_OK)
        return s;
    if (!row)
        return kr_ledger_fail(db, KR_LEDGER_NOT_FOUND, "customer %lld has no floor on '%s'",
                              (long long)customer_id, ladder_id);
    memset(out, 0, sizeof *out);
    snprintf(out->ladder_id, sizeof out->ladder_id, "%s", ladder_id);
    kr_ledger_col_copy(st, 0, out->tier_id, sizeof out->tier_id);
    out->from_at = sqlite3_column_int64(st, 1);
    out->reason = KR_LEDGER_TIER_MANUAL;
    out->floor_until = kr_ledger_col_expiry(st, 2);
    kr_ledger_done(st);
    return KR_LEDGER_OK;
}

kr_ledger_status kr_ledger_tier_latest_at(kr_ledger *db, int64_t customer_id, const char *ladder_id,
                                          int64_t *out)
{
    static const char sql[] = "SELECT max(from_at) FROM tier_history WHERE customer_id = ?1"
                              " AND ladder_id = ?2";
    *out = INT64_MIN;
    kr_ledger_status s = kr_ledger_check_id(db, "ladder id", ladder_id);
    if (s != KR_LEDGER_OK)
        return s;
    sqlite3_stmt *st = kr_ledger_stmt(db, sql);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "it", customer_id, ladder_id);
    bool row = false;
    if (s == KR_LEDGER_OK)
        s = kr_ledger_step(db, st, &row);
    if (s != KR_LEDGER_OK)
        return s;
    if (row && sqlite3_column_type(st, 0) != SQLITE_NULL)
        *out = sqlite3_column_int64(st, 0);
    kr_ledger_done(st);
    return KR_LEDGER_OK;
}

kr_ledger_status kr_ledger_segment_members_registered(kr_ledger *db, const char *segment,
                                                      int64_t registered_before,
                                                      int64_t joined_before, int64_t after_id,
                                                      size_t limit, int64_t *ids, size_t *n)
{
    static const char sql[] =
        "SELECT s.customer_id FROM customer_segment s JOIN customer c ON c.id = s.customer_id"
        " WHERE s.segment_id = ?1 AND s.customer_id > ?2 AND s.joined_at <= ?3"
        " AND c.registered_at <= ?4 AND c.merged_into IS NULL ORDER BY s.customer_id LIMIT ?5";
    *n = 0;
    if (limit == 0 || limit > 10000)
        return kr_ledger_fail(db, KR_LEDGER_INVALID, "page size must be 1..10000");
    kr_ledger_status s = kr_ledger_check_id(db, "segment", segment);
    if (s != KR_LEDGER_OK)
        return s;
    sqlite3_stmt *st = kr_ledger_stmt(db, sql);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "tiiii", segment, after_id, joined_before, registered_before,
                       (int64_t)limit);
    bool row = true;
    while (s == KR_LEDGER_OK) {
        s = kr_ledger_step(db, st, &row);
        if (s != KR_LEDGER_OK || !row)
            break;
        ids[(*n)++] = sqlite3_column_int64(st, 0);
    }
    if (s == KR_LEDGER_OK)
        kr_ledger_done(st);
    return s;
}

kr_ledger_status kr_ledger_expiring_page(kr_ledger *db, int64_t after, int64_t until,
                                         int64_t after_customer_id, int64_t after_expires_at,
                                         size_t limit, kr_ledger_expiring *out, size_t *n)
{
    static const char sql[] =
        "SELECT l.customer_id, l.expires_at, sum(l.remaining) FROM lot l"
        " JOIN customer c ON c.id = l.customer_id"
        " WHERE l.remaining > 0 AND l.expires_at IS NOT NULL AND l.expires_at > ?1"
        " AND l.expires_at <= ?2 AND c.anonymous = 0 AND c.merged_into IS NULL"
        " AND (l.customer_id, l.expires_at) > (?3, ?4)"
        " GROUP BY l.customer_id, l.expires_at ORDER BY l.customer_id, l.expires_at LIMIT ?5";
    *n = 0;
    if (limit == 0 || limit > 10000)
        return kr_ledger_fail(db, KR_LEDGER_INVALID, "page size must be 1..10000");
    sqlite3_stmt *st = kr_ledger_stmt(db, sql);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    kr_ledger_status s = kr_ledger_bind(db, st, "iiiii", after, until, after_customer_id,
                                        after_expires_at, (int64_t)limit);
    bool row = true;
    while (s == KR_LEDGER_OK) {
        s = kr_ledger_step(db, st, &row);
        if (s != KR_LEDGER_OK || !row)
            break;
        out[*n].customer_id = sqlite3_column_int64(st, 0);
        out[*n].expires_at = sqlite3_column_int64(st, 1);
        out[*n].points = sqlite3_column_int64(st, 2);
        (*n)++;
    }
    if (s == KR_LEDGER_OK)
        kr_ledger_done(st);
    return s;
}

typedef struct burn_lot {
    int64_t id, customer_id, remaining, spendable_from, expires_at;
} burn_lot;

static kr_ledger_status burn(kr_ledger *db, const char *source, int64_t earned_before, int64_t at,
                             const char *op_id, int64_t *out_lots, int64_t *out_points)
{
    static const char q_lots[] =
        "SELECT id, customer_id, remaining, spendable_from, expires_at FROM lot"
        " WHERE remaining > 0 AND earned_at < ?1 AND (?2 IS NULL OR source = ?2)"
        " AND (expires_at IS NULL OR expires_at > ?3) ORDER BY id";
    static const char q_expiry[] = "UPDATE lot SET expires_at = ?2 WHERE id = ?1";
    burn_lot *v = NULL;
    size_t n = 0, cap = 0;
    sqlite3_stmt *st = kr_ledger_stmt(db, q_lots);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    kr_ledger_status s = kr_ledger_bind(db, st, "iti", earned_before, source, at);
    bool row = true;
    while (s == KR_LEDGER_OK) {
        s = kr_ledger_step(db, st, &row);
        if (s != KR_LEDGER_OK || !row)
            break;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            burn_lot *nv = realloc(v, nc * sizeof *nv);
            if (!nv) {
                kr_ledger_done(st);
                s = kr_ledger_fail(db, KR_LEDGER_NOMEM, "out of memory listing lots to burn");
                break;
            }
            v = nv;
            cap = nc;
        }
        v[n].id = sqlite3_column_int64(st, 0);
        v[n].customer_id = sqlite3_column_int64(st, 1);
        v[n].remaining = sqlite3_column_int64(st, 2);
        v[n].spendable_from = sqlite3_column_int64(st, 3);
        v[n].expires_at = kr_ledger_col_expiry(st, 4);
        n++;
    }
    if (s == KR_LEDGER_OK)
        kr_ledger_done(st);
    for (size_t i = 0; i < n && s == KR_LEDGER_OK; i++) {
        s = kr_ledger_lot_delta(db, v[i].id, v[i].customer_id, -v[i].remaining, op_id, "expire", at,
                                NULL);
        if (s != KR_LEDGER_OK)
            break;
        if (earned_before > v[i].spendable_from && earned_before < v[i].expires_at) {
            st = kr_ledger_stmt(db, q_expiry);
            if (!st) {
                s = KR_LEDGER_DB_ERROR;
                break;
            }
            s = kr_ledger_bind(db, st, "ii", v[i].id, earned_before);
            if (s == KR_LEDGER_OK)
                s = kr_ledger_exec_done(db, st);
        }
        if (s == KR_LEDGER_OK) {
            *out_lots += 1;
            *out_points += v[i].remaining;
        }
    }
    free(v);
    return s;
}

kr_ledger_status kr_ledger_burn(kr_ledger *db, const char *source, int64_t earned_before,
                                int64_t at, const char *op_id, int64_t *out_lots,
                                int64_t *out_points)
{
    kr_ledger_status s = kr_ledger_check_id(db, "operation id", op_id);
    if (s != KR_LEDGER_OK)
        return s;
    int64_t lots = 0, points = 0;
    s = kr_ledger_sp_begin(db);
    if (s != KR_LEDGER_OK)
        return s;
    s = kr_ledger_sp_end(db, burn(db, source, earned_before, at, op_id, &lots, &points));
    if (s == KR_LEDGER_OK) {
        if (out_lots)
            *out_lots += lots;
        if (out_points)
            *out_points += points;
    }
    return s;
}
