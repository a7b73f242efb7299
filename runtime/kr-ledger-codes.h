// SPDX-License-Identifier: MIT
// kr-ledger-codes.h: reading a promo code's batch and limits (for checking a code at the till
// before it is used), cards the ERP issued, the latest deployed program. Same conventions as
// kr-ledger.h.
#ifndef KR_LEDGER_CODES_H
#define KR_LEDGER_CODES_H

#include "kr-ledger.h"

typedef struct kr_ledger_promo {
    char batch_id[KR_LEDGER_ID_MAX];
    int64_t max_uses, max_per_customer; // 0: unlimited
    int64_t valid_until;                // KR_LEDGER_NEVER: no end
    int64_t uses;                       // uses so far in all
    int64_t customer_uses;              // uses so far by the customer asked about
    int64_t owner_id;                   // the customer it was issued to; 0: anyone's
} kr_ledger_promo;

// kr_ledger_promo_get: the code (case-insensitive) with its uses so far, in all and by
//   `customer_id` (0: anonymous, counts as none). NOT_FOUND.
kr_ledger_status kr_ledger_promo_get(kr_ledger *db, const char *code, int64_t customer_id,
                                     kr_ledger_promo *out);

// A code issued to one customer (kr_ledger_promo_add_owned).
typedef struct kr_ledger_owned_code {
    char code[KR_LEDGER_ID_MAX];
    char batch_id[KR_LEDGER_ID_MAX];
    int64_t valid_until; // KR_LEDGER_NEVER: no end
    int64_t uses, max_uses;
} kr_ledger_owned_code;

// kr_ledger_customer_codes: the codes issued to `customer_id`, oldest first, at most `max` into
//   out; *n is how many.
kr_ledger_status kr_ledger_customer_codes(kr_ledger *db, int64_t customer_id,
                                          kr_ledger_owned_code *out, size_t max, size_t *n);
// kr_ledger_customer_cards: the cards held by `customer_id` (any state), by issue time, at most
//   `max` into out; *n is how many.
kr_ledger_status kr_ledger_customer_cards(kr_ledger *db, int64_t customer_id, kr_ledger_card *out,
                                          size_t max, size_t *n);

// kr_ledger_card_register: records a card the ERP issued itself (6..32 digits, no check of a
//   Luhn digit) as ACTIVE and held by `customer_id`, in batch "erp". CONFLICT when the number
//   exists, INVALID when it is not a card number, NOT_FOUND / MERGED for the customer.
kr_ledger_status kr_ledger_card_register(kr_ledger *db, const char *number, int64_t customer_id,
                                         int64_t at);

// kr_ledger_program_latest: the most recently deployed program of any id (by deployed_at, then
//   version). *out allocated; kr_ledger_program_free. NOT_FOUND when none was deployed.
kr_ledger_status kr_ledger_program_latest(kr_ledger *db, kr_ledger_program **out);

// ---- Issued by an operation (schema version 9) ----------------------------------------------
typedef enum kr_ledger_issued_kind {
    KR_LEDGER_ISSUED_CARDS, // rows of card
    KR_LEDGER_ISSUED_CODES  // single-use rows of promo_code
} kr_ledger_issued_kind;
// Called once per number an operation issued, in issue order; both strings live until it returns.
typedef void (*kr_ledger_issued_fn)(void *ctx, const char *number, const char *batch_id);

// kr_ledger_issued_mark: records that operation `op_id` issued `number` (a card number or a
//   code just added), in the caller's transaction. INVALID (bad id), NOT_FOUND.
kr_ledger_status kr_ledger_issued_mark(kr_ledger *db, kr_ledger_issued_kind kind,
                                       const char *number, const char *op_id);
// kr_ledger_issued_list: the numbers operation `op_id` issued, oldest first, through `each`;
//   *n is how many (0: the operation has not been done).
kr_ledger_status kr_ledger_issued_list(kr_ledger *db, kr_ledger_issued_kind kind,
                                       const char *op_id, kr_ledger_issued_fn each, void *ctx,
                                       size_t *n);

#endif
