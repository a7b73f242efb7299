// SPDX-License-Identifier: MIT
// kr-ops-reports: the marketers' reports (kr-reports.h) — one SQL query per report over the
// sale facts (kr-ledger-sales.h), the journal, customers and codes, read-only.
//
// How a report runs: the period's local days become buckets of instants (one bucket, or one per
// day, week or month); an SQL function kr_report_bucket(at) maps an instant to its bucket, so
// time groupings and the other groupings (store, segment, promotion ...) are one GROUP BY. The
// query returns integers only (counts, minor units, points); shares and averages are worked out
// here from them with integer arithmetic, and every bucket of a time grouping gets its row, zero
// or not. This file reads the ledger's tables directly (kr-ledger-private.h) because reports are
// aggregate SQL that no per-record ledger call can express; it never writes.
#include "kr-ledger-private.h"
#include "kr-ops-private.h"
#include "kr-reports.h"

#include <stdlib.h>
#include <string.h>

#define MAX_BUCKETS 4000 // days in eleven years: longer periods are refused by day
#define MAX_COLS 16

// ---- columns ------------------------------------------------------------------------------------
typedef enum col_kind {
    C_BUCKET, // the row's key: a bucket index -> its label ("2026-03", "2026-03-02" ...) for a
              // time grouping, else the grouping's text value, named after the grouping
    C_TEXT,   // SQL text (NULL -> null)
    C_INT,    // SQL integer: a count or points
    C_MONEY,  // SQL integer minor units
    C_PCT,    // 100 * value[a] / value[b], two decimals, half up (0 when value[b] is 0)
    C_AVG,    // value[a] / value[b] in minor units, half up (0 when value[b] is 0)
    C_OPEN,   // points report: opening balance a (0 lots, 1 debt) before the bucket
    C_CLOSE,  // closing balance a after the bucket (opening + SQL column b)
    C_VALUE,  // C_CLOSE of lots times the program's point value, as money
} col_kind;

typedef struct col {
    const char *name;
    col_kind kind;
    int a, b; // C_PCT/C_AVG: output column indexes; C_OPEN/C_CLOSE: balance, SQL column
} col;

typedef struct report_def {
    kr_report_info info;
    // One %s: the grouping's SQL; ?1/?2 the period's instants, ?3..?5 store, region, channel
    // (NULL: any), ?6 the row limit, ?7 the program's default segment, ?8 the segment filter.
    const char *sql;
    const char *opening_sql; // points: balances before ?1 (lots, debt); else NULL
    struct {
        const char *by, *expr; // a grouping and the SQL put for %s
    } groups[8];
    col cols[MAX_COLS];
} report_def;

#define TIME_GROUPS                                                                                \
    {"all", "kr_report_bucket(at)"}, {"day", "kr_report_bucket(at)"},                              \
        {"week", "kr_report_bucket(at)"}, {"month", "kr_report_bucket(at)"}

// A sale `s` (customer `c`) whose customer was in segment SEG at its time: a running membership,
// or none at all and SEG is the program's default segment (?7), as the engine sees it.
#define IN_SEGMENT(seg)                                                                            \
    "(s.customer_id IS NOT NULL AND (EXISTS (SELECT 1 FROM customer_segment m"                    \
    " WHERE m.customer_id = coalesce(c.merged_into, s.customer_id) AND m.segment_id = " seg        \
    " AND m.joined_at <= s.at AND (m.until IS NULL OR m.until > s.at)) OR (" seg " = ?7"           \
    " AND NOT EXISTS (SELECT 1 FROM customer_segment m WHERE m.customer_id ="                      \
    " coalesce(c.merged_into, s.customer_id) AND m.joined_at <= s.at"                              \
    " AND (m.until IS NULL OR m.until > s.at)))))"

// The kept sales of the period: not cancelled, with the money of their returned units (whole
// lines and parts of lines: receipt_line_part), the
// customer as the ledger knows them now (following merges), and the filters applied (store,
// region, channel, the customer's segment at the sale's time).
#define KEPT_SALES                                                                                 \
    "WITH k AS (SELECT s.receipt_id, s.at, s.store, s.region, s.channel, s.original, s.final,"    \
    " s.points_spent, s.points_earned, s.rejected, r.state,"                                      \
    " CASE WHEN s.customer_id IS NULL THEN NULL ELSE coalesce(c.merged_into, s.customer_id) END"   \
    "  AS cust,"                                                                                   \
    " CASE WHEN r.state = 'confirmed' THEN 0 ELSE (SELECT coalesce(sum(x.final), 0)"               \
    "  FROM receipt_line_part x WHERE x.receipt_id = s.receipt_id) END AS returned,"               \
    " CASE WHEN r.state = 'confirmed' THEN 0 ELSE (SELECT coalesce(sum(x.original), 0)"            \
    "  FROM receipt_line_part x WHERE x.receipt_id = s.receipt_id) END AS returned_original"        \
    " FROM sale s JOIN receipt r ON r.id = s.receipt_id"                                           \
    " LEFT JOIN customer c ON c.id = s.customer_id"                                                \
    " WHERE s.at >= ?1 AND s.at < ?2 AND r.state <> 'cancelled'"                                   \
    " AND (?3 IS NULL OR s.store = ?3) AND (?4 IS NULL OR s.region = ?4)"                          \
    " AND (?5 IS NULL OR s.channel = ?5) AND (?8 IS NULL OR " IN_SEGMENT ("?8") "))"

// A line of a kept sale (alias k) that has not come back (only receipts with returns are looked
// up).
#define LINE_KEPT(l)                                                                               \
    "(k.state = 'confirmed' OR NOT EXISTS (SELECT 1 FROM receipt_line_return x"                   \
    " WHERE x.receipt_id = " l ".receipt_id AND x.line_id = " l ".line_id))"

// Turnover: a sale counts for every segment its customer was a member of at the sale's time (the
// program's default segment, ?7, when none: as receipts are evaluated), and for the tier of
// each ladder the tier history records at that time (its latest row); NULL: none.
#define SEGMENT_GROUP                                                                              \
    "SELECT coalesce(m.segment_id, ?7) AS key, k.* FROM k LEFT JOIN customer_segment m"          \
    " ON m.customer_id = k.cust AND m.joined_at <= k.at AND (m.until IS NULL OR m.until > k.at)"
#define TIER_GROUP                                                                                 \
    "SELECT t.ladder_id || ':' || t.tier_id AS key, k.* FROM k LEFT JOIN tier_history t"          \
    " ON t.customer_id = k.cust AND t.id = (SELECT t2.id FROM tier_history t2"                     \
    " WHERE t2.customer_id = k.cust AND t2.ladder_id = t.ladder_id AND t2.from_at <= k.at"        \
    " ORDER BY t2.from_at DESC, t2.id DESC LIMIT 1)"

static const report_def reports[] = {
    {{"sales", "receipts and revenue with and without a card, shares of members",
      "all day week month store region channel", true},
     KEPT_SALES " SELECT %s AS key,"
                " sum(state <> 'returned'),"
                " sum(final - returned),"
                " sum(original - returned_original - (final - returned)),"
                " sum(returned),"
                " sum(state <> 'returned' AND cust IS NOT NULL),"
                " sum(CASE WHEN cust IS NOT NULL THEN final - returned ELSE 0 END),"
                " count(DISTINCT CASE WHEN state <> 'returned' THEN cust END)"
                " FROM k GROUP BY key ORDER BY key",
     NULL,
     {TIME_GROUPS, {"store", "store"}, {"region", "region"}, {"channel", "channel"}},
     {{"period", C_BUCKET, 0, 0},
      {"receipts", C_INT, 0, 0},
      {"revenue", C_MONEY, 0, 0},
      {"discount", C_MONEY, 0, 0},
      {"returned", C_MONEY, 0, 0},
      {"member_receipts", C_INT, 0, 0},
      {"member_revenue", C_MONEY, 0, 0},
      {"members", C_INT, 0, 0},
      {"member_receipt_share", C_PCT, 5, 1},
      {"member_revenue_share", C_PCT, 6, 2},
      {"average_check", C_AVG, 2, 1},
      {"member_average_check", C_AVG, 6, 5}}},
    {{"members", "new members: registered, and first purchases", "all day week month", true},
     "WITH firsts AS (SELECT coalesce(c.merged_into, s.customer_id) AS cust, min(s.at) AS at,"
     " s.store, s.region, s.channel, (?8 IS NULL OR " IN_SEGMENT("?8") ") AS in_segment"
     " FROM sale s JOIN receipt r ON r.id = s.receipt_id LEFT JOIN customer c ON c.id ="
     " s.customer_id WHERE s.customer_id IS NOT NULL AND r.state NOT IN ('cancelled', 'returned')"
     " GROUP BY 1)"
     " SELECT %s AS key, sum(reg), sum(first) FROM ("
     "  SELECT registered_at AS at, 1 AS reg, 0 AS first FROM customer"
     "  WHERE anonymous = 0 AND merged_into IS NULL AND registered_at >= ?1 AND registered_at < ?2"
     "  AND ?3 IS NULL AND ?4 IS NULL AND ?5 IS NULL AND ?8 IS NULL"
     "  UNION ALL SELECT at, 0, 1 FROM firsts WHERE at >= ?1 AND at < ?2"
     "  AND (?3 IS NULL OR store = ?3) AND (?4 IS NULL OR region = ?4)"
     "  AND (?5 IS NULL OR channel = ?5) AND in_segment)"
     " GROUP BY key ORDER BY key",
     NULL,
     {TIME_GROUPS},
     {{"period", C_BUCKET, 0, 0},
      {"registered", C_INT, 0, 0},
      {"first_purchases", C_INT, 0, 0}}},
    {{"points", "points earned, granted, spent, expired, burned, given and taken back; "
                "the liability at the period's end and its value in money",
      "all day week month", false},
     "SELECT %s AS key,"
     " sum(CASE WHEN j.kind = 'create' AND l.source IN ('accrual', 'promotion', 'referral',"
     "  'challenge') THEN j.delta ELSE 0 END),"
     " sum(CASE WHEN j.kind = 'create' AND l.source IN ('birthday', 'registration', 'event',"
     "  'manual', 'import') THEN j.delta ELSE 0 END),"
     " sum(CASE WHEN j.kind = 'import' THEN j.delta ELSE 0 END),"
     " sum(CASE WHEN j.kind = 'return-in' OR (j.kind = 'create' AND l.source = 'return')"
     "  THEN j.delta ELSE 0 END),"
     " -sum(CASE WHEN j.kind = 'spend' THEN j.delta ELSE 0 END),"
     " -sum(CASE WHEN j.kind = 'expire' AND j.op_id NOT LIKE 'burn:%%' THEN j.delta ELSE 0 END),"
     " -sum(CASE WHEN j.kind = 'expire' AND j.op_id LIKE 'burn:%%' THEN j.delta ELSE 0 END),"
     " -sum(CASE WHEN j.kind = 'reverse' THEN j.delta ELSE 0 END),"
     " -sum(CASE WHEN j.kind = 'debt-pay' AND j.lot_id IS NOT NULL THEN j.delta ELSE 0 END),"
     " sum(CASE WHEN j.lot_id IS NOT NULL THEN j.delta ELSE 0 END),"
     " sum(CASE WHEN j.lot_id IS NULL THEN j.delta ELSE 0 END)"
     " FROM journal j LEFT JOIN lot l ON l.id = j.lot_id"
     " WHERE j.at >= ?1 AND j.at < ?2 GROUP BY key ORDER BY key",
     "SELECT coalesce(sum(CASE WHEN lot_id IS NOT NULL THEN delta END), 0),"
     " coalesce(sum(CASE WHEN lot_id IS NULL THEN delta END), 0) FROM journal WHERE at < ?1",
     {TIME_GROUPS},
     {{"period", C_BUCKET, 0, 0},
      {"earned", C_INT, 0, 0},
      {"granted", C_INT, 0, 0},
      {"imported", C_INT, 0, 0},
      {"given_back", C_INT, 0, 0},
      {"spent", C_INT, 0, 0},
      {"expired", C_INT, 0, 0},
      {"burned", C_INT, 0, 0},
      {"taken_back", C_INT, 0, 0},
      {"debt_repaid", C_INT, 0, 0},
      {"opening", C_OPEN, 0, 0},
      {"closing", C_CLOSE, 0, 10},
      {"closing_value", C_VALUE, 0, 10},
      {"debt", C_CLOSE, 1, 11}}},
    {{"promotions", "per promotion: receipts, money off, points given; its top rejection",
      "promotion", true},
     KEPT_SALES ","
                " app AS (SELECT p.promotion AS promotion, count(*) AS receipts,"
                "  sum(p.discount) AS discount, sum(p.points) AS points,"
                "  sum(k.final - k.returned) AS revenue FROM k JOIN sale_promotion p"
                "  ON p.receipt_id = k.receipt_id WHERE k.state <> 'returned' GROUP BY 1),"
                // Why a promotion did not apply: the sales' compact lists, grouped by entry
                // first (few distinct ones), then taken apart.
                " rej AS (SELECT x.value AS v, count(*) AS n"
                "  FROM k, json_each(k.rejected) x WHERE k.state <> 'returned'"
                "  AND k.rejected IS NOT NULL GROUP BY 1),"
                " whys AS (SELECT json_extract(v, '$[0]') AS promotion, json_extract(v, '$[1]')"
                "  AS reason, json_extract(v, '$[2]') AS detail, n,"
                "  sum(n) OVER (PARTITION BY json_extract(v, '$[0]')) AS total,"
                "  row_number() OVER (PARTITION BY json_extract(v, '$[0]') ORDER BY n DESC, v)"
                "  AS rank FROM rej),"
                " top AS (SELECT promotion, total, n, reason || coalesce(': ' || detail, '')"
                "  AS why FROM whys WHERE rank = 1),"
                " ids AS (SELECT promotion FROM app UNION SELECT promotion FROM top)"
                " SELECT %s AS key, coalesce(app.receipts, 0), coalesce(app.discount, 0),"
                "  coalesce(app.points, 0), coalesce(app.revenue, 0), coalesce(top.total, 0),"
                "  top.why, top.n"
                " FROM ids LEFT JOIN app ON app.promotion = ids.promotion"
                " LEFT JOIN top ON top.promotion = ids.promotion"
                " ORDER BY 2 DESC, 1",
     NULL,
     {{"promotion", "ids.promotion"}},
     {{"promotion", C_TEXT, 0, 0},
      {"receipts", C_INT, 0, 0},
      {"discount", C_MONEY, 0, 0},
      {"points", C_INT, 0, 0},
      {"revenue", C_MONEY, 0, 0},
      {"rejected", C_INT, 0, 0},
      {"top_rejection", C_TEXT, 0, 0},
      {"top_rejection_receipts", C_INT, 0, 0}}},
    {{"codes", "promo codes per batch: issued, used, conversion, average check with a code",
      "batch", true},
     KEPT_SALES ","
                " used AS (SELECT p.batch_id AS batch, count(DISTINCT p.code) AS codes,"
                "  count(DISTINCT k.receipt_id) AS receipts, sum(k.final - k.returned) AS revenue"
                "  FROM promo_use u JOIN promo_code p ON p.code = u.code"
                "  JOIN k ON k.receipt_id = u.op_id WHERE k.state <> 'returned' GROUP BY 1),"
                " issued AS (SELECT batch_id AS batch, count(*) AS codes FROM promo_code GROUP BY 1),"
                " plain AS (SELECT count(*) AS receipts, coalesce(sum(final - returned), 0) AS"
                "  revenue FROM k WHERE state <> 'returned' AND NOT EXISTS (SELECT 1 FROM"
                "  promo_use u WHERE u.op_id = k.receipt_id))"
                " SELECT %s AS key, issued.codes, coalesce(used.codes, 0),"
                "  coalesce(used.receipts, 0), coalesce(used.revenue, 0), plain.receipts,"
                "  plain.revenue"
                " FROM issued LEFT JOIN used ON used.batch = issued.batch, plain ORDER BY 1",
     NULL,
     {{"batch", "issued.batch"}},
     {{"batch", C_TEXT, 0, 0},
      {"issued", C_INT, 0, 0},
      {"used", C_INT, 0, 0},
      {"receipts", C_INT, 0, 0},
      {"revenue", C_MONEY, 0, 0},
      {"receipts_without_code", C_INT, 0, 0},
      {"revenue_without_code", C_MONEY, 0, 0},
      {"conversion", C_PCT, 2, 1},
      {"average_check", C_AVG, 4, 3},
      {"average_check_without_code", C_AVG, 6, 5}}},
    {{"repeat", "repeat purchases: customers with 1, 2, 3+ receipts; returning customers",
      "all day week month store region channel", true},
     KEPT_SALES ","
                " per AS (SELECT %s AS key, cust, count(*) AS n, min(at) AS first FROM k"
                "  WHERE state <> 'returned' AND cust IS NOT NULL GROUP BY 1, 2)"
                " SELECT key, count(*), sum(n = 1), sum(n = 2), sum(n >= 3),"
                "  sum(n >= 2),"
                "  sum(EXISTS (SELECT 1 FROM sale s2 JOIN receipt r2 ON r2.id = s2.receipt_id"
                "   WHERE s2.customer_id IN (SELECT id FROM customer WHERE id = per.cust OR"
                "   merged_into = per.cust) AND s2.at < kr_report_start(per.first)"
                "   AND r2.state NOT IN ('cancelled', 'returned')))"
                " FROM per GROUP BY key ORDER BY key",
     NULL,
     {TIME_GROUPS, {"store", "store"}, {"region", "region"}, {"channel", "channel"}},
     {{"period", C_BUCKET, 0, 0},
      {"customers", C_INT, 0, 0},
      {"one_receipt", C_INT, 0, 0},
      {"two_receipts", C_INT, 0, 0},
      {"three_or_more", C_INT, 0, 0},
      {"repeat_customers", C_INT, 0, 0},
      {"returning", C_INT, 0, 0},
      {"repeat_share", C_PCT, 5, 1},
      {"returning_share", C_PCT, 6, 1}}},
    {{"turnover", "members' turnover by segment or tier at the time of each sale",
      "segment tier", true},
     KEPT_SALES ","
                " g AS (%s WHERE k.state <> 'returned' AND k.cust IS NOT NULL)"
                " SELECT key, count(DISTINCT cust), count(*), sum(final - returned),"
                "  sum(points_earned), sum(points_spent) FROM g"
                " GROUP BY key ORDER BY 4 DESC, 1",
     NULL,
     {{"segment", SEGMENT_GROUP}, {"tier", TIER_GROUP}},
     {{"group", C_TEXT, 0, 0},
      {"customers", C_INT, 0, 0},
      {"receipts", C_INT, 0, 0},
      {"revenue", C_MONEY, 0, 0},
      {"points_earned", C_INT, 0, 0},
      {"points_spent", C_INT, 0, 0},
      {"average_check", C_AVG, 3, 2},
      {"revenue_per_customer", C_AVG, 3, 1}}},
    {{"tiers", "status changes: customers who entered and left each tier, and its holders at "
               "the end",
      "tier", false},
     "WITH h AS (SELECT t.id, t.customer_id AS cust, t.ladder_id, t.tier_id, t.from_at,"
     " t.reason, lag(t.tier_id) OVER (PARTITION BY t.customer_id, t.ladder_id"
     " ORDER BY t.from_at, t.id) AS before FROM tier_history t JOIN customer c"
     " ON c.id = t.customer_id WHERE c.merged_into IS NULL AND t.from_at < ?2),"
     " moves AS (SELECT ladder_id, tier_id AS tier, 1 AS entered, 0 AS gone,"
     "  reason = 'manual' AS manual, 0 AS held FROM h WHERE from_at >= ?1"
     "  AND before IS NOT tier_id"
     "  UNION ALL SELECT ladder_id, before, 0, 1, 0, 0 FROM h WHERE from_at >= ?1"
     "  AND before IS NOT NULL AND before <> tier_id),"
     " last AS (SELECT ladder_id, tier_id, row_number() OVER (PARTITION BY cust, ladder_id"
     "  ORDER BY from_at DESC, id DESC) AS rn FROM h),"
     " rows AS (SELECT * FROM moves UNION ALL SELECT ladder_id, tier_id, 0, 0, 0, 1 FROM last"
     "  WHERE rn = 1)"
     " SELECT %s AS key, sum(entered), sum(manual), sum(gone), sum(held) FROM rows"
     " GROUP BY 1 ORDER BY 1",
     NULL,
     {{"tier", "ladder_id || ':' || tier"}},
     {{"tier", C_TEXT, 0, 0},
      {"entered", C_INT, 0, 0},
      {"entered_by_operator", C_INT, 0, 0},
      {"left", C_INT, 0, 0},
      {"holders", C_INT, 0, 0}}},
    {{"products", "products (SKU): units, receipts, revenue, discount, returns", "sku", true},
     KEPT_SALES ","
                // Units, money and amount before discounts of the units back (bq, bf, bo),
                // looked up only for receipts that had returns.
                " lines AS (SELECT l.*, NOT " LINE_KEPT("l") " AS back,"
                "  coalesce(p.bq, 0) AS bq, coalesce(p.bf, 0) AS bf, coalesce(p.bo, 0) AS bo"
                "  FROM k JOIN sale_line l ON l.receipt_id = k.receipt_id"
                "  LEFT JOIN (SELECT receipt_id, line_id, sum(qty) AS bq, sum(final) AS bf,"
                "   sum(original) AS bo FROM receipt_line_part GROUP BY 1, 2) p"
                "  ON k.state <> 'confirmed' AND p.receipt_id = l.receipt_id"
                "  AND p.line_id = l.line_id)"
                " SELECT %s AS key, sum(qty - bq),"
                "  count(DISTINCT CASE WHEN back THEN NULL ELSE receipt_id END),"
                "  sum(final - bf),"
                "  sum(original - final - (bo - bf)),"
                "  sum(bq)"
                " FROM lines GROUP BY key ORDER BY 4 DESC, 1 LIMIT ?6",
     NULL,
     {{"sku", "sku"}},
     {{"sku", C_TEXT, 0, 0},
      {"units", C_INT, 0, 0},
      {"receipts", C_INT, 0, 0},
      {"revenue", C_MONEY, 0, 0},
      {"discount", C_MONEY, 0, 0},
      {"returned_units", C_INT, 0, 0}}},
    {{"pairs", "product pairs bought on one receipt, most frequent first", "sku", true},
     KEPT_SALES ","
                " pairs AS (SELECT a.sku AS sa, b.sku AS sb, count(DISTINCT a.receipt_id) AS n"
                "  FROM k JOIN sale_line a ON a.receipt_id = k.receipt_id"
                "  JOIN sale_line b ON b.receipt_id = a.receipt_id AND b.sku > a.sku"
                "  WHERE k.state <> 'returned' AND " LINE_KEPT("a") " AND " LINE_KEPT("b")
                "  GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2 LIMIT ?6),"
                " per AS (SELECT l.sku AS sku, count(DISTINCT l.receipt_id) AS n FROM k"
                "  JOIN sale_line l ON l.receipt_id = k.receipt_id WHERE k.state <> 'returned'"
                "  AND " LINE_KEPT("l") " AND l.sku IN (SELECT sa FROM pairs UNION"
                "  SELECT sb FROM pairs) GROUP BY 1)"
                " SELECT %s AS key, sb, pairs.n, pa.n, pb.n FROM pairs"
                " JOIN per pa ON pa.sku = sa JOIN per pb ON pb.sku = sb"
                " ORDER BY 3 DESC, 1, 2",
     NULL,
     {{"sku", "sa"}},
     {{"sku_a", C_TEXT, 0, 0},
      {"sku_b", C_TEXT, 0, 0},
      {"receipts", C_INT, 0, 0},
      {"receipts_a", C_INT, 0, 0},
      {"receipts_b", C_INT, 0, 0},
      {"share_of_a", C_PCT, 2, 3},
      {"share_of_b", C_PCT, 2, 4}}},
};
#define N_REPORTS (sizeof reports / sizeof reports[0])

const kr_report_info *kr_report_at(size_t i)
{
    return i < N_REPORTS ? &reports[i].info : NULL;
}

// ---- periods and buckets ------------------------------------------------------------------------
typedef struct buckets {
    int64_t start[MAX_BUCKETS + 1]; // bucket i is [start[i], start[i+1])
    int64_t day[MAX_BUCKETS + 1];   // the local day each bucket starts on
    size_t n;
    const char *by;
} buckets;

static bool is_time_group(const char *by)
{
    return strcmp(by, "all") == 0 || strcmp(by, "day") == 0 || strcmp(by, "week") == 0 ||
           strcmp(by, "month") == 0;
}

// The local day after `day` where a bucket of `by` ends (clipped by the caller).
static int64_t next_boundary(const char *by, int64_t day)
{
    if (strcmp(by, "day") == 0)
        return day + 1;
    if (strcmp(by, "week") == 0) {
        int64_t monday_based = ((day % 7) + 7 + 3) % 7; // 1970-01-01 was a Thursday: 3
        return day - monday_based + 7;
    }
    if (strcmp(by, "month") == 0) {
        int64_t y;
        unsigned m, d;
        kr_civil_from_days(day, &y, &m, &d);
        return m == 12 ? kr_days_from_civil(y + 1, 1, 1) : kr_days_from_civil(y, m + 1, 1);
    }
    return INT64_MAX; // "all" and the non-time groupings: one bucket
}

static bool make_buckets(const kr_ops *o, const char *by, int64_t from_day, int64_t to_day,
                         buckets *b)
{
    b->n = 0;
    b->by = by;
    int64_t day = from_day;
    while (day < to_day) {
        if (b->n == MAX_BUCKETS)
            return false;
        int64_t next = next_boundary(is_time_group(by) ? by : "all", day);
        b->day[b->n] = day;
        b->start[b->n++] = kr__ops_day_start(o, day);
        day = next < to_day ? next : to_day;
    }
    b->day[b->n] = to_day;
    b->start[b->n] = kr__ops_day_start(o, to_day);
    return true;
}

// The bucket of an instant: the greatest i with start[i] <= at, or -1 outside [from, to).
static int64_t bucket_of(const buckets *b, int64_t at)
{
    if (b->n == 0 || at < b->start[0] || at >= b->start[b->n])
        return -1;
    size_t lo = 0, hi = b->n; // start[lo] <= at < start[hi]
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (b->start[mid] <= at)
            lo = mid;
        else
            hi = mid;
    }
    return (int64_t)lo;
}

// SQL kr_report_bucket(at): the bucket index, NULL outside the period.
static void sql_bucket(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
    (void)argc;
    const buckets *b = sqlite3_user_data(cx);
    int64_t i = bucket_of(b, sqlite3_value_int64(argv[0]));
    if (i < 0)
        sqlite3_result_null(cx);
    else
        sqlite3_result_int64(cx, i);
}

// SQL kr_report_start(at): the instant the bucket of `at` starts (the period's start outside).
static void sql_start(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
    (void)argc;
    const buckets *b = sqlite3_user_data(cx);
    int64_t i = bucket_of(b, sqlite3_value_int64(argv[0]));
    sqlite3_result_int64(cx, b->start[i < 0 ? 0 : i]);
}

static void put_day(kr_buf *out, int64_t day, bool month_only)
{
    int64_t y;
    unsigned m, d;
    kr_civil_from_days(day, &y, &m, &d);
    if (month_only)
        kr_buf_printf(out, "%04lld-%02u", (long long)y, m);
    else
        kr_buf_printf(out, "%04lld-%02u-%02u", (long long)y, m, d);
}

// The label of bucket i: its first day ("2026-03-02"), its month ("2026-03") when it is a whole
// calendar month, or "FROM/TO" (TO exclusive) for the whole period.
static void put_label(kr_buf *out, const buckets *b, size_t i)
{
    if (strcmp(b->by, "all") == 0) {
        put_day(out, b->day[0], false);
        kr_buf_puts(out, "/");
        put_day(out, b->day[b->n], false);
        return;
    }
    put_day(out, b->day[i], strcmp(b->by, "month") == 0);
}

// ---- values ----------------------------------------------------------------------------------------
typedef struct row {
    bool is_null[MAX_COLS];
    int64_t v[MAX_COLS];
    const char *text[MAX_COLS]; // borrowed from the statement until the next step
} row;

// a / b * scale, half up, for a, b >= 0 (0 when b is 0), in 128-bit so nothing overflows.
static int64_t ratio(int64_t a, int64_t b, int64_t scale)
{
    if (b <= 0)
        return 0;
    __int128 n = (__int128)a * scale;
    return (int64_t)((n + b / 2) / b);
}

static void put_money(kr_buf *out, int64_t minor, int minor_unit, bool json)
{
    kr_buf tmp;
    kr_buf_init(&tmp, 32);
    kr_buf_json_money(&tmp, minor, minor_unit); // "123.45" with the quotes
    if (json)
        kr_buf_append(out, tmp.data, tmp.len);
    else if (tmp.len >= 2)
        kr_buf_append(out, tmp.data + 1, tmp.len - 2);
    kr_buf_free(&tmp);
}

// A share in basis points as "41.27".
static void put_pct(kr_buf *out, int64_t bp, bool json)
{
    kr_buf_printf(out, json ? "\"%lld.%02lld\"" : "%lld.%02lld", (long long)(bp / 100),
                  (long long)(bp % 100));
}

static void put_csv_text(kr_buf *out, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        kr_buf_puts(out, s);
        return;
    }
    kr_buf_puts(out, "\"");
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            kr_buf_puts(out, "\"");
        kr_buf_append(out, p, 1);
    }
    kr_buf_puts(out, "\"");
}

typedef struct run {
    kr_ops *o;
    const report_def *def;
    const kr_report_query *q;
    const buckets *b;
    int64_t opening[2]; // points: lots and debt before the bucket being written
    size_t n_rows;
    kr_buf *out;
} run;

static size_t n_cols(const report_def *d)
{
    size_t n = 0;
    while (n < MAX_COLS && d->cols[n].name)
        n++;
    return n;
}

// A column's name: the key column of a report grouped by store, region ... is named so.
static const char *col_name(const run *r, size_t i)
{
    const col *c = &r->def->cols[i];
    return c->kind == C_BUCKET && !is_time_group(r->b->by) ? r->b->by : c->name;
}

// Writes one row: JSON {"col": value, ...} or a CSV line.
static void put_row(run *r, const row *w, size_t bucket)
{
    bool json = r->q->format == KR_REPORT_JSON;
    kr_buf *out = r->out;
    const report_def *d = r->def;
    size_t n = n_cols(d);
    if (json)
        kr_buf_puts(out, r->n_rows ? ",{" : "{");
    int64_t closing[2] = {r->opening[0], r->opening[1]};
    for (size_t i = 0; i < n; i++) {
        const col *c = &d->cols[i];
        if (c->kind == C_CLOSE || c->kind == C_VALUE)
            closing[c->a] = r->opening[c->a] + w->v[c->b];
    }
    for (size_t i = 0; i < n; i++) {
        const col *c = &d->cols[i];
        if (json) {
            if (i)
                kr_buf_puts(out, ",");
            kr_buf_json_string(out, col_name(r, i));
            kr_buf_puts(out, ":");
        } else if (i) {
            kr_buf_puts(out, ",");
        }
        col_kind kind = c->kind == C_BUCKET && !is_time_group(r->b->by) ? C_TEXT : c->kind;
        switch (kind) {
        case C_BUCKET:
            if (json)
                kr_buf_puts(out, "\"");
            put_label(out, r->b, bucket);
            if (json)
                kr_buf_puts(out, "\"");
            break;
        case C_TEXT:
            if (w->is_null[i] || !w->text[i])
                kr_buf_puts(out, json ? "null" : "");
            else if (json)
                kr_buf_json_string(out, w->text[i]);
            else
                put_csv_text(out, w->text[i]);
            break;
        case C_INT:
            kr_buf_printf(out, "%lld", (long long)w->v[i]);
            break;
        case C_MONEY:
            put_money(out, w->v[i], r->o->minor_unit, json);
            break;
        case C_PCT:
            put_pct(out, ratio(w->v[c->a], w->v[c->b], 10000), json);
            break;
        case C_AVG:
            put_money(out, ratio(w->v[c->a], w->v[c->b], 1), r->o->minor_unit, json);
            break;
        case C_OPEN:
            kr_buf_printf(out, "%lld", (long long)r->opening[c->a]);
            break;
        case C_CLOSE:
            kr_buf_printf(out, "%lld", (long long)closing[c->a]);
            break;
        case C_VALUE:
            put_money(out, closing[c->a] * r->o->policy.point_value, r->o->minor_unit, json);
            break;
        }
    }
    kr_buf_puts(out, json ? "}" : "\r\n");
    r->opening[0] = closing[0];
    r->opening[1] = closing[1];
    r->n_rows++;
}

// Reads the statement's current row: SQL column i into w (text borrowed).
static void read_row(sqlite3_stmt *st, const report_def *d, row *w)
{
    memset(w, 0, sizeof *w);
    int nsql = sqlite3_column_count(st);
    for (int i = 0; i < nsql && i < MAX_COLS; i++) {
        w->is_null[i] = sqlite3_column_type(st, i) == SQLITE_NULL;
        w->v[i] = sqlite3_column_int64(st, i);
        if ((size_t)i < n_cols(d) && (d->cols[i].kind == C_TEXT || d->cols[i].kind == C_BUCKET))
            w->text[i] = (const char *)sqlite3_column_text(st, i);
    }
}

static int bind_query(sqlite3_stmt *st, const run *r)
{
    const kr_report_query *q = r->q;
    int rc = sqlite3_bind_int64(st, 1, r->b->start[0]);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 2, r->b->start[r->b->n]);
    const char *filters[3] = {q->store, q->region, q->channel};
    int n_params = sqlite3_bind_parameter_count(st);
    for (int i = 0; rc == SQLITE_OK && i < 3 && 3 + i <= n_params; i++)
        rc = filters[i] ? sqlite3_bind_text(st, 3 + i, filters[i], -1, SQLITE_STATIC)
                        : sqlite3_bind_null(st, 3 + i);
    if (rc == SQLITE_OK && n_params >= 6)
        rc = sqlite3_bind_int64(st, 6, q->limit ? (int64_t)q->limit : 100);
    const char *default_segment = NULL;
    for (size_t i = 0; i < r->o->policy.n_segments; i++)
        if (r->o->policy.segments[i].is_default)
            default_segment = r->o->policy.segments[i].id;
    if (rc == SQLITE_OK && n_params >= 7)
        rc = default_segment ? sqlite3_bind_text(st, 7, default_segment, -1, SQLITE_STATIC)
                             : sqlite3_bind_null(st, 7);
    if (rc == SQLITE_OK && n_params >= 8)
        rc = q->segment ? sqlite3_bind_text(st, 8, q->segment, -1, SQLITE_STATIC)
                        : sqlite3_bind_null(st, 8);
    return rc;
}

// The points report's balances before the period: lots and debt.
static int read_opening(sqlite3 *db, run *r)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, r->def->opening_sql, -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 1, r->b->start[0]);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            r->opening[0] = sqlite3_column_int64(st, 0);
            r->opening[1] = sqlite3_column_int64(st, 1);
            rc = SQLITE_OK;
        } else if (rc == SQLITE_DONE) {
            rc = SQLITE_ERROR; // an aggregate always has its row
        }
    }
    sqlite3_finalize(st);
    return rc;
}

// Runs the query and writes the rows; for a time grouping every bucket gets a row (zeros when
// the query has none for it). SQLite status.
static int write_rows(sqlite3 *db, const char *sql, run *r)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = bind_query(st, r);
    bool timed = r->def->cols[0].kind == C_BUCKET && is_time_group(r->b->by);
    size_t next = 0; // the next bucket without a row yet
    row zero;
    memset(&zero, 0, sizeof zero);
    while (rc == SQLITE_OK) {
        int s = sqlite3_step(st);
        if (s == SQLITE_DONE)
            break;
        if (s != SQLITE_ROW) {
            rc = s;
            break;
        }
        row w;
        read_row(st, r->def, &w);
        if (!timed) {
            put_row(r, &w, 0);
            continue;
        }
        if (w.is_null[0])
            continue; // outside the period (cannot happen: the queries filter on it)
        size_t bucket = (size_t)w.v[0];
        while (next < bucket && next < r->b->n)
            put_row(r, &zero, next++);
        if (bucket >= next && bucket < r->b->n) {
            put_row(r, &w, bucket);
            next = bucket + 1;
        }
    }
    while (rc == SQLITE_OK && timed && next < r->b->n)
        put_row(r, &zero, next++);
    sqlite3_finalize(st);
    return rc;
}

static void put_header(run *r)
{
    const kr_report_query *q = r->q;
    kr_buf *out = r->out;
    size_t n = n_cols(r->def);
    if (q->format == KR_REPORT_CSV) {
        for (size_t i = 0; i < n; i++) {
            if (i)
                kr_buf_puts(out, ",");
            kr_buf_puts(out, col_name(r, i));
        }
        kr_buf_puts(out, "\r\n");
        return;
    }
    kr_buf_puts(out, "{\"report\":");
    kr_buf_json_string(out, r->def->info.name);
    kr_buf_puts(out, ",\"from\":");
    kr_buf_json_string(out, q->from);
    kr_buf_puts(out, ",\"to\":");
    kr_buf_json_string(out, q->to);
    kr_buf_puts(out, ",\"time_zone\":");
    kr_buf_json_string(out, r->o->policy.time_zone);
    kr_buf_puts(out, ",\"by\":");
    kr_buf_json_string(out, r->b->by);
    kr_buf_puts(out, ",\"filters\":{");
    const char *names[4] = {"store", "region", "channel", "segment"};
    const char *values[4] = {q->store, q->region, q->channel, q->segment};
    bool first = true;
    for (int i = 0; i < 4; i++)
        if (values[i]) {
            kr_buf_printf(out, "%s\"%s\":", first ? "" : ",", names[i]);
            kr_buf_json_string(out, values[i]);
            first = false;
        }
    kr_buf_puts(out, "},\"columns\":[");
    for (size_t i = 0; i < n; i++) {
        if (i)
            kr_buf_puts(out, ",");
        kr_buf_json_string(out, col_name(r, i));
    }
    kr_buf_puts(out, "],\"rows\":[");
}

// ---- the entry point -------------------------------------------------------------------------------
static const report_def *find_report(const char *name)
{
    for (size_t i = 0; name && i < N_REPORTS; i++)
        if (strcmp(reports[i].info.name, name) == 0)
            return &reports[i];
    return NULL;
}

static const char *find_group(const report_def *d, const char *by)
{
    for (size_t i = 0; i < sizeof d->groups / sizeof d->groups[0] && d->groups[i].by; i++)
        if (strcmp(d->groups[i].by, by) == 0)
            return d->groups[i].expr;
    return NULL;
}

// Writes `sql` with its "%s" replaced by `expr` and "%%" by "%" into out. False when too long.
static bool splice(char *out, size_t outsz, const char *sql, const char *expr)
{
    size_t n = 0;
    for (const char *p = sql; *p; p++) {
        const char *piece = p;
        size_t len = 1;
        if (p[0] == '%' && p[1] == 's') {
            piece = expr;
            len = strlen(expr);
            p++;
        } else if (p[0] == '%' && p[1] == '%') {
            p++;
        }
        if (n + len >= outsz)
            return false;
        memcpy(out + n, piece, len);
        n += len;
    }
    out[n] = '\0';
    return true;
}

static kr_ops_status parse_day(kr_ops *o, const char *field, const char *text, int64_t *day,
                               kr_buf *out)
{
    char why[128];
    if (!text)
        return kr__ops_fail(o, out, KR_OPS_INVALID, field, "a date YYYY-MM-DD is required");
    if (!kr_parse_date(text, day, why, sizeof why))
        return kr__ops_fail(o, out, KR_OPS_INVALID, field, "%s: %s", text, why);
    return KR_OPS_OK;
}

kr_ops_status kr_ops_report(kr_ops *o, const char *name, const kr_report_query *q, kr_buf *out)
{
    const report_def *d = find_report(name);
    if (!d) {
        kr_buf names;
        kr_buf_init(&names, 128);
        for (size_t i = 0; i < N_REPORTS; i++)
            kr_buf_printf(&names, "%s%s", i ? ", " : "", reports[i].info.name);
        kr_ops_status st = kr__ops_fail(o, out, KR_OPS_INVALID, "name",
                                        "no report named %s; the reports are %s",
                                        name ? name : "(none)", names.data ? names.data : "");
        kr_buf_free(&names);
        return st;
    }
    int64_t from_day, to_day;
    kr_ops_status st = parse_day(o, "from", q->from, &from_day, out);
    if (st == KR_OPS_OK)
        st = parse_day(o, "to", q->to, &to_day, out);
    if (st != KR_OPS_OK)
        return st;
    if (to_day <= from_day)
        return kr__ops_fail(o, out, KR_OPS_INVALID, "to",
                            "the period is empty: to (%s) must come after from (%s); it is the "
                            "day after the period's last day",
                            q->to, q->from);
    char first[16]; // the report's default grouping: the first of its list
    const char *sp = strchr(d->info.bys, ' ');
    size_t first_len = sp ? (size_t)(sp - d->info.bys) : strlen(d->info.bys);
    snprintf(first, sizeof first, "%.*s", (int)first_len, d->info.bys);
    const char *by = q->by ? q->by : first;
    const char *expr = find_group(d, by);
    if (!expr)
        return kr__ops_fail(o, out, KR_OPS_INVALID, "by", "report %s is grouped by %s, not %s",
                            d->info.name, d->info.bys, by);
    if (!d->info.sale_filters && (q->store || q->region || q->channel || q->segment))
        return kr__ops_fail(o, out, KR_OPS_INVALID,
                            q->store    ? "store"
                            : q->region ? "region"
                            : q->channel ? "channel"
                                         : "segment",
                            "report %s covers the whole ledger: %s not kept per store, region, "
                            "channel or segment",
                            d->info.name,
                            strcmp(d->info.name, "points") == 0 ? "points are" : "tiers are");
    if (q->limit && !strstr(d->sql, "?6"))
        return kr__ops_fail(o, out, KR_OPS_INVALID, "limit",
                            "report %s has a row per group, not a top list: no limit applies",
                            d->info.name);
    if (q->limit > 10000)
        return kr__ops_fail(o, out, KR_OPS_INVALID, "limit", "at most 10000 rows, not %zu",
                            q->limit);
    buckets *b = malloc(sizeof *b);
    if (!b)
        return kr__ops_fail(o, out, KR_OPS_FAILED, NULL, "out of memory");
    if (!make_buckets(o, by, from_day, to_day, b)) {
        free(b);
        return kr__ops_fail(o, out, KR_OPS_INVALID, "by",
                            "the period has more than %d %ss: choose a longer grouping",
                            MAX_BUCKETS, by);
    }
    char sql[8192];
    if (!splice(sql, sizeof sql, d->sql, expr)) {
        free(b);
        return kr__ops_fail(o, out, KR_OPS_FAILED, NULL, "report %s: the query is too long",
                            d->info.name);
    }
    sqlite3 *db = o->db->sql;
    int rc = sqlite3_create_function(db, "kr_report_bucket", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                                     b, sql_bucket, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function(db, "kr_report_start", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                                     b, sql_start, NULL, NULL);
    run r = {.o = o, .def = d, .q = q, .b = b, .out = out};
    // One read transaction: every figure of the report comes from the same state of the ledger.
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    bool open = rc == SQLITE_OK;
    if (rc == SQLITE_OK && d->opening_sql)
        rc = read_opening(db, &r);
    kr_buf_reset(out);
    if (rc == SQLITE_OK) {
        put_header(&r);
        rc = write_rows(db, sql, &r);
    }
    if (rc != SQLITE_OK) // the message before COMMIT clears it
        st = kr__ops_fail(o, out, rc == SQLITE_BUSY ? KR_OPS_BUSY : KR_OPS_FAILED, NULL,
                          "report %s: %s", d->info.name, sqlite3_errmsg(db));
    if (open)
        sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    if (rc == SQLITE_OK && q->format == KR_REPORT_JSON) {
        kr_buf_puts(out, "]}");
    }
    // The functions point at the buckets: remove them before the buckets go.
    sqlite3_create_function(db, "kr_report_bucket", 1, SQLITE_UTF8, NULL, NULL, NULL, NULL);
    sqlite3_create_function(db, "kr_report_start", 1, SQLITE_UTF8, NULL, NULL, NULL, NULL);
    free(b);
    if (st == KR_OPS_OK && out->failed)
        return kr__ops_fail(o, out, KR_OPS_FAILED, NULL, "the report is too large");
    return st;
}
