// SPDX-License-Identifier: MIT
// kr-ledger-check: the invariant checker: every row of every query below is one violation.
#include "kr-ledger-private.h"

#include <stdio.h>
#include <string.h>

typedef struct check {
    const char *what;
    const char *sql;
} check;

static const check checks[] = {
    {"customer balance differs from the sum of their lot remainings",
     "SELECT c.id AS customer, c.balance, coalesce(t.s, 0) AS lots_sum FROM customer c"
     " LEFT JOIN (SELECT customer_id, sum(remaining) AS s FROM lot GROUP BY customer_id) t"
     " ON t.customer_id = c.id WHERE c.balance <> coalesce(t.s, 0)"},
    {"customer balance differs from the sum of their lot journal rows",
     "SELECT c.id AS customer, c.balance, coalesce(t.s, 0) AS journal_sum FROM customer c"
     " LEFT JOIN (SELECT customer_id, sum(delta) AS s FROM journal WHERE lot_id IS NOT NULL"
     " GROUP BY customer_id) t ON t.customer_id = c.id WHERE c.balance <> coalesce(t.s, 0)"},
    {"lot remaining is not explained by its journal",
     "SELECT l.id AS lot, l.remaining, coalesce(t.s, 0) AS journal_sum FROM lot l"
     " LEFT JOIN (SELECT lot_id, sum(delta) AS s FROM journal WHERE lot_id IS NOT NULL"
     " GROUP BY lot_id) t ON t.lot_id = l.id WHERE l.remaining <> coalesce(t.s, 0)"},
    {"lot has not exactly one creation row of its amount",
     "SELECT l.id AS lot, l.amount, count(j.id) AS creation_rows,"
     " coalesce(sum(j.delta), 0) AS created FROM lot l LEFT JOIN journal j"
     " ON j.lot_id = l.id AND j.kind IN ('create', 'import') GROUP BY l.id"
     " HAVING count(j.id) <> 1 OR coalesce(sum(j.delta), 0) <> l.amount"},
    {"lot remaining is negative or above its amount",
     "SELECT id AS lot, remaining, amount FROM lot WHERE remaining < 0 OR remaining > amount"},
    {"customer debt differs from the debt journal",
     "SELECT c.id AS customer, c.debt, coalesce(t.s, 0) AS journal_sum FROM customer c"
     " LEFT JOIN (SELECT customer_id, sum(delta) AS s FROM journal WHERE lot_id IS NULL"
     " GROUP BY customer_id) t ON t.customer_id = c.id"
     " WHERE c.debt <> coalesce(t.s, 0) OR c.debt < 0"},
    {"identity points at a merged customer",
     "SELECT i.kind, i.value, i.customer_id AS customer, c.merged_into FROM identity i"
     " JOIN customer c ON c.id = i.customer_id WHERE c.merged_into IS NOT NULL"},
    {"card points at a merged customer",
     "SELECT k.number AS card, k.customer_id AS customer, c.merged_into FROM card k"
     " JOIN customer c ON c.id = k.customer_id WHERE c.merged_into IS NOT NULL"},
    {"lot belongs to a merged customer",
     "SELECT l.id AS lot, l.customer_id AS customer, c.merged_into FROM lot l"
     " JOIN customer c ON c.id = l.customer_id WHERE c.merged_into IS NOT NULL"},
    {"counter belongs to a merged customer",
     "SELECT t.customer_id AS customer, t.metric, t.period FROM counter t"
     " JOIN customer c ON c.id = t.customer_id WHERE c.merged_into IS NOT NULL"},
    {"segment membership belongs to a merged customer",
     "SELECT m.customer_id AS customer, m.segment_id AS segment, c.merged_into"
     " FROM customer_segment m JOIN customer c ON c.id = m.customer_id"
     " WHERE c.merged_into IS NOT NULL"},
    {"promo code is owned by a merged customer",
     "SELECT p.code, p.owner_id AS customer, c.merged_into FROM promo_code p"
     " JOIN customer c ON c.id = p.owner_id WHERE c.merged_into IS NOT NULL"},
    {"chain position or chain step belongs to a merged customer",
     "SELECT p.customer_id AS customer, p.chain_id AS chain, c.merged_into"
     " FROM chain_position p JOIN customer c ON c.id = p.customer_id"
     " WHERE c.merged_into IS NOT NULL UNION ALL"
     " SELECT s.customer_id, s.chain_id, c.merged_into FROM chain_step s"
     " JOIN customer c ON c.id = s.customer_id WHERE c.merged_into IS NOT NULL"},
    {"chain step journalled without a position in its chain",
     "SELECT s.customer_id AS customer, s.chain_id AS chain, s.step_id AS step FROM chain_step s"
     " LEFT JOIN chain_position p ON p.customer_id = s.customer_id AND p.chain_id = s.chain_id"
     " WHERE p.customer_id IS NULL"},
    {"merged customer does not point at a live survivor",
     "SELECT c.id AS customer, c.merged_into, s.merged_into AS survivor_merged_into"
     " FROM customer c JOIN customer s ON s.id = c.merged_into"
     " WHERE s.merged_into IS NOT NULL OR c.merged_into = c.id"},
    {"lot expires before it becomes spendable",
     "SELECT id AS lot, spendable_from, expires_at FROM lot"
     " WHERE expires_at IS NOT NULL AND expires_at <= spendable_from"},
    {"certificate remaining differs from its face value less uses plus give-backs",
     "SELECT c.number AS certificate, c.remaining, c.face_value,"
     " coalesce(u.s, 0) AS used, coalesce(b.s, 0) AS given_back FROM certificate c"
     " LEFT JOIN (SELECT number, sum(amount) AS s FROM certificate_use GROUP BY number) u"
     " ON u.number = c.number"
     " LEFT JOIN (SELECT number, sum(amount) AS s FROM certificate_back GROUP BY number) b"
     " ON b.number = c.number"
     " WHERE c.remaining <> c.face_value - coalesce(u.s, 0) + coalesce(b.s, 0)"},
    {"voided certificate was used after its void",
     "SELECT c.number AS certificate, c.voided_at, u.op_id, u.at FROM certificate c"
     " JOIN certificate_use u ON u.number = c.number"
     " WHERE c.voided_at IS NOT NULL AND u.at >= c.voided_at"},
    {"receipt line has more units returned than it sold, or is marked wholly returned without "
     "all of them",
     "SELECT l.receipt_id AS receipt, l.line_id AS line, l.qty, p.units AS returned"
     " FROM sale_line l JOIN (SELECT receipt_id, line_id, sum(qty) AS units"
     " FROM receipt_line_part GROUP BY 1, 2) p ON p.receipt_id = l.receipt_id"
     " AND p.line_id = l.line_id"
     " WHERE p.units > l.qty OR (p.units < l.qty AND EXISTS (SELECT 1 FROM receipt_line_return x"
     " WHERE x.receipt_id = l.receipt_id AND x.line_id = l.line_id))"},
};

kr_ledger_status kr_ledger_check(kr_ledger *db, kr_ledger_report_fn report, void *ud,
                                 int64_t *out_violations)
{
    int64_t violations = 0;
    for (size_t c = 0; c < sizeof checks / sizeof checks[0]; c++) {
        sqlite3_stmt *st = kr_ledger_stmt(db, checks[c].sql);
        if (!st)
            return KR_LEDGER_DB_ERROR;
        bool row = true;
        kr_ledger_status s;
        while ((s = kr_ledger_step(db, st, &row)) == KR_LEDGER_OK && row) {
            violations++;
            if (!report)
                continue;
            char msg[512];
            size_t len = (size_t)snprintf(msg, sizeof msg, "%s:", checks[c].what);
            int ncol = sqlite3_column_count(st);
            for (int i = 0; i < ncol && len < sizeof msg; i++) {
                const char *name = sqlite3_column_name(st, i);
                const unsigned char *val = sqlite3_column_text(st, i);
                len += (size_t)snprintf(msg + len, sizeof msg - len, " %s=%s", name ? name : "?",
                                        val ? (const char *)val : "NULL");
            }
            report(ud, msg);
        }
        if (s != KR_LEDGER_OK)
            return s;
        kr_ledger_done(st);
    }
    *out_violations = violations;
    return KR_LEDGER_OK;
}
