// SPDX-License-Identifier: MIT
// kr-ledger-sales.h: the facts reports read — one row per sale receipt, its lines and the
// promotions that applied on it (schema version 6; docs/internals/ledger.md, "Tables"). Same
// conventions as kr-ledger.h: strings are borrowed for the call, money in minor units.
#ifndef KR_LEDGER_SALES_H
#define KR_LEDGER_SALES_H

#include "kr-ledger.h"

typedef struct kr_ledger_sale_line {
    const char *id, *sku;
    int64_t qty;      // >= 1
    int64_t original; // before discounts
    int64_t final;    // after discounts (what the customer pays, points included)
} kr_ledger_sale_line;

typedef struct kr_ledger_sale_promotion {
    const char *promotion; // the promotion's id
    int64_t discount;      // money off the receipt
    int64_t points;        // points it gave
} kr_ledger_sale_promotion;

typedef struct kr_ledger_sale {
    const char *receipt_id;              // a receipt already recorded (kr_ledger_receipt_put)
    int64_t at;                          // the receipt's time
    int64_t customer_id;                 // 0: anonymous receipt
    const char *store, *region, *channel; // as the receipt named them; NULL when absent
    int64_t original, final, points_spent, points_earned;
    const kr_ledger_sale_line *lines;
    size_t n_lines;
    const kr_ledger_sale_promotion *promotions; // one per applied promotion
    size_t n_promotions;
    const char *rejected; // JSON [[promotion, reason, detail], ...] or NULL (none rejected)
} kr_ledger_sale;

// kr_ledger_sale_put: records a sale with its lines and promotions (a savepoint: all or
//   nothing). Call it in the confirm's transaction, once per receipt. CONFLICT when the receipt
//   already has a sale row (a second put is a caller's bug); INVALID on negative amounts.
kr_ledger_status kr_ledger_sale_put(kr_ledger *db, const kr_ledger_sale *s);

// One part of a receipt line that came back (schema version 7, table receipt_line_part): the
// units a return operation took back and their money.
typedef struct kr_ledger_line_part {
    const char *receipt_id, *line_id, *op_id;
    int64_t qty;      // >= 1 units back by this operation
    int64_t original; // their share of the line's amount before discounts
    int64_t final;    // their share of the line's final amount (what the fiscal receipt printed)
    int64_t at;
} kr_ledger_line_part;

// kr_ledger_line_part_put: records a part. EXISTS (nothing written) when op_id already recorded
//   a part of that line; INVALID on qty < 1 or negative money; NOT_FOUND when the receipt is
//   not recorded. The caller checks that the line has the units left (kr_ledger_line_units_back).
kr_ledger_status kr_ledger_line_part_put(kr_ledger *db, const kr_ledger_line_part *p);

// kr_ledger_line_units_back: the units of line `line_id` of `receipt_id` that returns have taken
//   back so far (0 when none) into *out.
kr_ledger_status kr_ledger_line_units_back(kr_ledger *db, const char *receipt_id,
                                           const char *line_id, int64_t *out);

#endif
