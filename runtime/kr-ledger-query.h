// SPDX-License-Identifier: MIT
// kr-ledger-query.h: aggregate queries of the ledger that the operations and the scheduled
// jobs need (sums over periods, pages of customers, lots due to expire), and the one write the
// jobs need beyond kr-ledger.h (end-of-period burns). Same conventions as kr-ledger.h.
#ifndef KR_LEDGER_QUERY_H
#define KR_LEDGER_QUERY_H

#include "kr-ledger.h"

// kr_ledger_counter_sum: the sum of a customer's counter `metric` over the periods from
//   `from_period` to `to_period` inclusive, compared as text (daily keys "YYYY-MM-DD" sort by
//   date). 0 when nothing was counted. INVALID (bad ids).
kr_ledger_status kr_ledger_counter_sum(kr_ledger *db, int64_t customer_id, const char *metric,
                                       const char *from_period, const char *to_period,
                                       int64_t *out);

// kr_ledger_customers_page: ids of customers that were not merged away, id > after_id,
//   ascending, at most `limit` (1..10,000) into ids; *n is how many.
kr_ledger_status kr_ledger_customers_page(kr_ledger *db, int64_t after_id, size_t limit,
                                          int64_t *ids, size_t *n);

// kr_ledger_counter_last_day: the latest daily period ("YYYY-MM-DD") of the customer's counter
//   `metric` with a value above 0 (e.g. the day of the last purchase, metric "receipts"), into
//   out (11 bytes). Periods that are not dates ("all", "job:...") are ignored. NOT_FOUND when
//   there is none. INVALID (bad metric).
kr_ledger_status kr_ledger_counter_last_day(kr_ledger *db, int64_t customer_id, const char *metric,
                                            char out[11]);

// kr_ledger_tier_floor: the latest manual tier row (an operator's floor) of the customer on
//   `ladder_id` with from_at <= at, into *out. The caller tests out->floor_until against its
//   instant (KR_LEDGER_NEVER: no end). NOT_FOUND when there is none. INVALID.
kr_ledger_status kr_ledger_tier_floor(kr_ledger *db, int64_t customer_id, const char *ladder_id,
                                      int64_t at, kr_ledger_tier *out);

// kr_ledger_tier_latest_at: from_at of the customer's latest tier row on `ladder_id` (any
//   time, manual or computed), or INT64_MIN when there is none. INVALID.
kr_ledger_status kr_ledger_tier_latest_at(kr_ledger *db, int64_t customer_id, const char *ladder_id,
                                          int64_t *out);

// kr_ledger_segment_members_registered: ids of the members of `segment` who registered at or
//   before `registered_before` and joined the segment at or before `joined_before`, id >
//   after_id, ascending, at most `limit` (1..10,000); *n is how many. (Transitions counted from
//   registration.) INVALID.
kr_ledger_status kr_ledger_segment_members_registered(kr_ledger *db, const char *segment,
                                                      int64_t registered_before,
                                                      int64_t joined_before, int64_t after_id,
                                                      size_t limit, int64_t *ids, size_t *n);

// Live points of one customer that expire at one instant.
typedef struct kr_ledger_expiring {
    int64_t customer_id;
    int64_t expires_at;
    int64_t points;
} kr_ledger_expiring;

// kr_ledger_expiring_page: live points (remaining > 0) expiring in (after, until], summed by
//   (customer, expires_at), of customers that are not anonymous placeholders, ordered by
//   customer then expires_at, strictly after the cursor (after_customer_id, after_expires_at;
//   0 and 0 for the first page), at most `limit` (1..10,000) rows into out; *n is how many.
//   INVALID.
kr_ledger_status kr_ledger_expiring_page(kr_ledger *db, int64_t after, int64_t until,
                                         int64_t after_customer_id, int64_t after_expires_at,
                                         size_t limit, kr_ledger_expiring *out, size_t *n);

// kr_ledger_burn: end-of-period burn. Every lot of `source` (a kr_ledger_source_name; NULL:
//   every source) earned before `earned_before` that still holds points at `at` (remaining > 0,
//   not expired by then) gets a journal "expire" row of -remaining under op_id and remaining 0;
//   its expires_at is lowered to `earned_before` when that is later than its spendable_from (so
//   a later return does not revive the points). Idempotent: a second call finds nothing.
//   Counts are optional outputs (added to, not set). INVALID.
kr_ledger_status kr_ledger_burn(kr_ledger *db, const char *source, int64_t earned_before,
                                int64_t at, const char *op_id, int64_t *out_lots,
                                int64_t *out_points);

#endif
