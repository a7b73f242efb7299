// SPDX-License-Identifier: MIT
// kr-reports.h: reports over the ledger for marketers — sales with and without a card, new
// members, points dynamics, promotions, promo codes, repeat purchases, turnover by segment or
// tier, products and product pairs. Read-only; money exact (minor units, printed with the
// currency's decimals); shares are percentages with two decimals, rounded half up from exact
// integer ratios. Shapes and every column: docs/formats.md, "Reports".
//
// A report covers the local days [from, to) in the program's time zone. Sales are counted by
// the day they were made, as the ledger knows them now: a cancelled receipt is not a sale, a
// receipt that came back whole is not a sale either, and a returned line takes its money out
// of the sale it belonged to.
#ifndef KR_REPORTS_H
#define KR_REPORTS_H

#include "kr-ops.h"

typedef enum kr_report_format {
    KR_REPORT_JSON = 0, // one JSON object (docs/formats.md, "Reports")
    KR_REPORT_CSV,      // a header line and one line per row, RFC 4180 quoting
} kr_report_format;

typedef struct kr_report_query {
    const char *from, *to; // "YYYY-MM-DD": the first day, and the day after the last (required)
    const char *by;        // grouping (NULL: the report's default); see kr_report_bys
    const char *store, *region, *channel; // only receipts of that store ... (NULL: all)
    const char *segment; // only receipts of customers in that segment at the time (NULL: all)
    size_t limit;          // products and pairs: most rows (0: 100; at most 10,000)
    kr_report_format format;
} kr_report_query;

// The reports, in the order `kopilka report` lists them.
typedef struct kr_report_info {
    const char *name;
    const char *description;
    const char *bys;     // the groupings it accepts, space separated; the first is the default
    bool sale_filters;   // accepts store, region, channel, segment
} kr_report_info;
// The i-th report (0, 1 ...), or NULL past the last.
const kr_report_info *kr_report_at(size_t i);

// Runs report `name` over the ledger and appends it to `out` in q->format. INVALID names the
// bad field ("name", "from", "to", "by", "store", "segment", "limit") in the error answer
// (always JSON);
// nothing is written to the ledger in any case.
kr_ops_status kr_ops_report(kr_ops *o, const char *name, const kr_report_query *q, kr_buf *out);

#endif
