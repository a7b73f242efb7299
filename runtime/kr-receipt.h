// SPDX-License-Identifier: MIT
// kr-receipt.h: the receipt and return JSON of docs/formats.md, read into engine input.
//
// A parsed receipt owns its JSON tree; every string in it (and in `rc`) points into that tree
// and lives until kr_receipt_free. The customer reference and the promo codes are left as the
// till sent them: resolving them is the ledger's business (kr-ops).
#ifndef KR_RECEIPT_H
#define KR_RECEIPT_H

#include "kr-engine.h"
#include "kr-input.h"

typedef struct kr_customer_ref {
    const char *card, *phone, *email, *id; // at most one is set; all NULL: anonymous
} kr_customer_ref;

// A certificate the receipt is paid with ("certificates": [{"number", "amount"}]).
typedef struct kr_receipt_certificate {
    const char *number;
    int64_t amount; // what the till asks it to pay; -1: as much as it can
} kr_receipt_certificate;

// Longest certificate number (pre-printed or generated).
#define KR_RECEIPT_CERTIFICATE_MAX 64

typedef struct kr_receipt {
    json_t *root;              // owned
    kr_engine_receipt rc;      // engine input; customer, codes and uses are set by the caller
    kr_engine_line *lines;     // owned array (rc.lines points here)
    kr_engine_kv *kv;          // owned storage of every line's attrs
    kr_customer_ref customer;
    const char **codes;        // owned array of the raw codes
    size_t n_codes;
    kr_receipt_certificate *pay; // owned: the certificates paying for it, in order
    size_t n_pay;
    // The certificate numbers a line carries (pre-printed certificates sold on it):
    // sold[sold_first[i] .. sold_first[i] + sold_n[i]) for line i. Owned arrays.
    const char **sold;
    size_t *sold_first, *sold_n;
    bool has_region, has_channel;
} kr_receipt;

// Parses one receipt. `line` is the line number of the text in its file (for errors);
// `minor_unit` is the program currency's. On KR_INPUT_INVALID `err` names the field and `out`
// is left empty (nothing to free, but kr_receipt_free is harmless).
kr_input_status kr_receipt_parse(const char *text, size_t len, unsigned line, int minor_unit,
                                 kr_receipt *out, kr_input_error *err);
void kr_receipt_free(kr_receipt *r);

typedef struct kr_return_line {
    const char *id;
    int64_t qty; // 0: every unit of the line not yet returned
    // A line that sold gift certificates: the numbers of those coming back, one per unit
    // (borrowed from root; NULL when absent). Required when only some of its units come back.
    const json_t *certificates;
} kr_return_line;

typedef struct kr_return {
    json_t *root; // owned
    const char *id, *receipt;
    int64_t time;
    kr_return_line *lines; // owned
    size_t n_lines;
} kr_return;

kr_input_status kr_return_parse(const char *text, size_t len, unsigned line, kr_return *out,
                                kr_input_error *err);
void kr_return_free(kr_return *r);

#endif
