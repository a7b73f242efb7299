// SPDX-License-Identifier: MIT
// kr-ledger: SQLite storage of customers, cards, point lots, the journal and receipt records.
//
// Conventions (see docs/internals/ledger.md):
//  - Points and money are int64 (whole points, minor currency units); times are int64 Unix
//    seconds UTC, always passed in by the caller (the ledger never reads the clock).
//  - Every function returns kr_ledger_status; details of anything but OK are in
//    kr_ledger_errmsg(db) until the next call on the same handle.
//  - Mutating functions run inside the caller's transaction (kr_ledger_begin .. commit) and are
//    atomic on their own: on any non-OK status nothing they did remains (savepoint rollback),
//    so the caller may continue its transaction. Called outside a transaction, each is its own.
//  - Returned memory is owned by the caller and freed with the matching *_free function
//    (or plain free() where stated). Input strings are copied; the ledger keeps no pointers.
//  - One handle per thread. Several processes may open the same file (WAL, busy timeout).
//  - `op_id` names the business operation (receipt id, job run id...) and is written on every
//    journal row it causes; at most KR_LEDGER_ID_MAX-1 bytes. Short ids (ladder, tier, metric,
//    period, kind, channel, batch) are limited the same way.
#ifndef KR_LEDGER_H
#define KR_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct kr_ledger kr_ledger;

typedef enum kr_ledger_status {
    KR_LEDGER_OK = 0,
    KR_LEDGER_NOT_FOUND,      // no such customer / card / lot / receipt / code
    KR_LEDGER_EXISTS,         // idempotent replay: same key and content already stored; no change
    KR_LEDGER_CONFLICT,       // uniqueness or idempotency conflict (same key, other content/owner)
    KR_LEDGER_INVALID,        // bad argument; the message names the problem
    KR_LEDGER_INSUFFICIENT,   // not enough points / certificate value; nothing changed
    KR_LEDGER_LIMIT,          // promo code use limit reached
    KR_LEDGER_EXPIRED,        // certificate or code past its validity
    KR_LEDGER_BLOCKED,        // the card is blocked
    KR_LEDGER_STATE,          // not allowed in the object's current state (e.g. card not active)
    KR_LEDGER_MERGED,         // customer was merged; message names the survivor
    KR_LEDGER_SCHEMA_TOO_NEW, // file written by a newer program version; refused
    KR_LEDGER_BUSY,           // another connection holds the write lock past the busy timeout
    KR_LEDGER_NOMEM,
    KR_LEDGER_DB_ERROR, // SQLite I/O, corruption or unexpected error
} kr_ledger_status;

// Short identifiers (op ids, metrics, periods, ladders...) are shorter than this.
#define KR_LEDGER_ID_MAX 128
// "No expiry" for expires_at / lifetimes (stored as NULL).
#define KR_LEDGER_NEVER INT64_MAX
// Busy timeout set on open, in milliseconds.
#define KR_LEDGER_BUSY_TIMEOUT_MS 5000

// ---------------------------------------------------------------------------------------------
// Handle, errors, transactions
// ---------------------------------------------------------------------------------------------

// kr_ledger_open: opens (creating if needed) a ledger file, or ":memory:". Sets WAL mode,
//   synchronous=FULL, foreign_keys=ON, busy timeout; applies pending schema migrations, one
//   transaction each. *out gets the handle (close with kr_ledger_close); on failure *out is NULL
//   and the reason is written to err (optional, errlen bytes). SCHEMA_TOO_NEW when the file's
//   schema_version is above kr_ledger_schema_version().
kr_ledger_status kr_ledger_open(const char *path, kr_ledger **out, char *err, size_t errlen);

// kr_ledger_close: finalises cached statements, closes the file, frees the handle. NULL is ok.
//   An open transaction is rolled back.
void kr_ledger_close(kr_ledger *db);

// kr_ledger_schema_version: the newest schema version this code knows.
int kr_ledger_schema_version(void);

// kr_ledger_errmsg: message of the last non-OK status on this handle (never NULL; owned by db).
const char *kr_ledger_errmsg(const kr_ledger *db);

// kr_ledger_status_name: "OK", "NOT_FOUND", ... (static string).
const char *kr_ledger_status_name(kr_ledger_status st);

// kr_ledger_begin: BEGIN IMMEDIATE (takes the write lock now; BUSY after the timeout).
//   STATE if a transaction is already open.
kr_ledger_status kr_ledger_begin(kr_ledger *db);
// kr_ledger_commit / kr_ledger_rollback: end the transaction. STATE if none is open.
kr_ledger_status kr_ledger_commit(kr_ledger *db);
kr_ledger_status kr_ledger_rollback(kr_ledger *db);

// kr_ledger_sha256_hex: SHA-256 of a request body as 64 lowercase hex digits and NUL (out: 65).
void kr_ledger_sha256_hex(const void *data, size_t len, char out[65]);

// ---------------------------------------------------------------------------------------------
// Customers and identities
// ---------------------------------------------------------------------------------------------

typedef struct kr_ledger_attr {
    const char *key;
    const char *value;
} kr_ledger_attr;

// Profile as given to create/update/import. NULL strings mean "none".
typedef struct kr_ledger_customer_in {
    const char *external_id; // id in the ERP (unique when present)
    const char *name;
    const char *birthday; // "YYYY-MM-DD" or NULL
    int64_t registered_at;
    // Segment ids (KR_LEDGER_SEGMENT_MAX chars at most, see kr_ledger_segment_join); a set:
    // duplicates ignored. Create/import: joined at registered_at, no end. Update: see there.
    const char *const *segments;
    size_t n_segments;
    const kr_ledger_attr *attrs; // keys unique
    size_t n_attrs;
    const char *phone; // create/import only: as typed, normalised to E.164
    const char *email; // create/import only: trimmed, lower-cased
} kr_ledger_customer_in;

// Longest segment id. Segment ids are 1..KR_LEDGER_SEGMENT_MAX characters of ASCII letters,
// digits, '-', '_' and '.', starting with a letter or digit (the rule language's id rule).
#define KR_LEDGER_SEGMENT_MAX 64

// One segment membership: joined at `joined_at`, lasts until `until` (exclusive: a member while
// at < until) or KR_LEDGER_NEVER.
typedef struct kr_ledger_membership {
    char *segment; // owned
    int64_t joined_at;
    int64_t until;
} kr_ledger_membership;

// A stored customer. All pointers are owned by the struct; free with kr_ledger_customer_free.
typedef struct kr_ledger_customer {
    int64_t id;
    char *external_id; // NULL if none
    char *name;        // NULL if none
    char *birthday;    // NULL if none
    int64_t registered_at;
    bool anonymous;      // placeholder for an anonymous card (see docs)
    int64_t merged_into; // 0, or the surviving customer
    int64_t balance;     // sum of lot remainings (including lots expired but not yet swept)
    int64_t debt;        // points owed after an accrual was reversed (paid by future lots)
    char *phone;         // first phone identity, NULL if none
    char *email;         // first e-mail identity, NULL if none
    kr_ledger_membership *segments; // by segment id (byte order)
    size_t n_segments;
    kr_ledger_attr *attrs; // by key
    size_t n_attrs;
} kr_ledger_customer;

// kr_ledger_customer_create: new customer (+ phone/e-mail identities). *out_id: new id.
//   INVALID (bad phone/e-mail/birthday), CONFLICT (external id or identity already taken).
kr_ledger_status kr_ledger_customer_create(kr_ledger *db, const kr_ledger_customer_in *in,
                                           int64_t *out_id);

// kr_ledger_customer_update: replaces external id, name, birthday, registration time, segments
//   and attributes (phone/e-mail fields are ignored: use kr_ledger_identity_add/remove).
//   Segments are replaced as a set: a segment the customer keeps keeps its joined_at and until,
//   one no longer listed is left, a new one is joined at `at` (the time of the update, not
//   registered_at) with no end. NOT_FOUND, MERGED, INVALID, CONFLICT.
kr_ledger_status kr_ledger_customer_update(kr_ledger *db, int64_t id,
                                           const kr_ledger_customer_in *in, int64_t at);

// kr_ledger_customer_get: reads a customer (merged ones too: see merged_into). *out is
//   allocated; free with kr_ledger_customer_free. NOT_FOUND.
kr_ledger_status kr_ledger_customer_get(kr_ledger *db, int64_t id, kr_ledger_customer **out);
void kr_ledger_customer_free(kr_ledger_customer *c);

// kr_ledger_customer_survivor: follows merges: *out = id itself, or the customer it was merged
//   into. NOT_FOUND.
kr_ledger_status kr_ledger_customer_survivor(kr_ledger *db, int64_t id, int64_t *out);

// Look-ups. *out_id is the owning customer. Phone/e-mail are normalised first (INVALID if bad).
//   NOT_FOUND when nobody has it.
kr_ledger_status kr_ledger_customer_by_phone(kr_ledger *db, const char *phone, int64_t *out_id);
kr_ledger_status kr_ledger_customer_by_email(kr_ledger *db, const char *email, int64_t *out_id);
kr_ledger_status kr_ledger_customer_by_external_id(kr_ledger *db, const char *external_id,
                                                   int64_t *out_id);
// By card: OK for an active card (its customer, possibly an anonymous placeholder);
//   STATE for an issued, not yet activated card; BLOCKED for a blocked card (*out_id is still
//   set to its customer, 0 if none); INVALID when it is not 6..32 digits (spaces and dashes
//   are ignored); NOT_FOUND.
kr_ledger_status kr_ledger_customer_by_card(kr_ledger *db, const char *number, int64_t *out_id);

// ---------------------------------------------------------------------------------------------
// Segment memberships (not points: nothing here touches lots or the journal)
// ---------------------------------------------------------------------------------------------

// kr_ledger_segment_join: makes the customer a member of `segment` from `at` until `until`
//   (> at, or KR_LEDGER_NEVER). Already a member: joined_at is kept and `until` is extended
//   when the new one is later (OK); EXISTS when nothing changed (the stored until is the same
//   or later). This applies to a membership whose until has passed but that was not left yet
//   too: it is renewed in place. INVALID (bad segment id, until <= at), NOT_FOUND, MERGED.
kr_ledger_status kr_ledger_segment_join(kr_ledger *db, int64_t customer_id, const char *segment,
                                        int64_t at, int64_t until);

// kr_ledger_segment_set_until: sets the end of a stored membership to `until` (a time after
//   it was joined; later or earlier than the stored end: renewals and returns of a paid club
//   decide). NOT_FOUND (not a member, or `until` is not after joined_at), MERGED, INVALID.
kr_ledger_status kr_ledger_segment_set_until(kr_ledger *db, int64_t customer_id,
                                             const char *segment, int64_t until);

// kr_ledger_segment_leave: ends the membership now (the row is deleted; no history is kept,
//   `at` is the business time of the call). NOT_FOUND (no such customer, or not a member),
//   MERGED, INVALID.
kr_ledger_status kr_ledger_segment_leave(kr_ledger *db, int64_t customer_id, const char *segment,
                                         int64_t at);

// kr_ledger_segment_members_due: ids of the members of `segment` with joined_at <= joined_before
//   (the scheduled "N days after joining" transitions: joined_before = now - N days), id >
//   after_id, ascending, at most `limit` (1..10,000) into ids; *n is how many. Page by passing
//   the last id as after_id; leaving or joining segments between pages is safe. Memberships
//   past their until that were not left yet are included. INVALID.
kr_ledger_status kr_ledger_segment_members_due(kr_ledger *db, const char *segment,
                                               int64_t joined_before, int64_t after_id,
                                               size_t limit, int64_t *ids, size_t *n);

// One membership as listed by kr_ledger_segment_expired.
typedef struct kr_ledger_segment_member {
    int64_t customer_id;
    char segment[KR_LEDGER_SEGMENT_MAX + 1];
    int64_t joined_at;
    int64_t until;
} kr_ledger_segment_member;

// kr_ledger_segment_expired: memberships with until <= at (e.g. paid club memberships that
//   ended) that are still stored, by customer id then segment id, after the cursor
//   (after_customer_id, after_segment: the last row of the previous page; 0 and NULL for the
//   first page), at most `limit` (1..10,000) into out; *n is how many. The caller decides what
//   to do (kr_ledger_segment_leave, a transition, a renewal). INVALID.
kr_ledger_status kr_ledger_segment_expired(kr_ledger *db, int64_t at, int64_t after_customer_id,
                                           const char *after_segment, size_t limit,
                                           kr_ledger_segment_member *out, size_t *n);

// kr_ledger_segment_open_ended: memberships of `segment` without an end (until NULL), by
//   customer id after `after_customer_id`, at most `limit` (1..10,000) into out (until is
//   KR_LEDGER_NEVER); *n is how many. For giving a paid club's memberships their term
//   (kr_ledger_segment_set_until). INVALID.
kr_ledger_status kr_ledger_segment_open_ended(kr_ledger *db, const char *segment,
                                              int64_t after_customer_id, size_t limit,
                                              kr_ledger_segment_member *out, size_t *n);

typedef enum kr_ledger_identity_kind {
    KR_LEDGER_PHONE,
    KR_LEDGER_EMAIL,
} kr_ledger_identity_kind;

// kr_ledger_identity_add: gives the customer a phone / e-mail (normalised). EXISTS if already
//   theirs, CONFLICT if it belongs to another customer, INVALID, NOT_FOUND, MERGED.
kr_ledger_status kr_ledger_identity_add(kr_ledger *db, int64_t customer_id,
                                        kr_ledger_identity_kind kind, const char *value);
// kr_ledger_identity_remove: removes a phone / e-mail from whoever holds it. NOT_FOUND, INVALID.
kr_ledger_status kr_ledger_identity_remove(kr_ledger *db, kr_ledger_identity_kind kind,
                                           const char *value);

// ---------------------------------------------------------------------------------------------
// Cards: issued (anonymous, in batches) -> active (at the till) -> blocked (final).
// An active card always has a customer: a real one, or an anonymous placeholder created on
// activation that is merged into the real customer when the card is attached.
// ---------------------------------------------------------------------------------------------

typedef enum kr_ledger_card_state {
    KR_LEDGER_CARD_ISSUED,
    KR_LEDGER_CARD_ACTIVE,
    KR_LEDGER_CARD_BLOCKED,
} kr_ledger_card_state;

typedef struct kr_ledger_card {
    char number[33];
    char batch_id[KR_LEDGER_ID_MAX];
    kr_ledger_card_state state;
    int64_t customer_id;                         // 0 while issued
    int64_t issued_at, activated_at, blocked_at; // 0 when not (yet)
} kr_ledger_card;

typedef struct kr_ledger_card_number {
    char digits[33];
} kr_ledger_card_number;

// kr_ledger_cards_issue: issues `count` new random 16-digit Luhn cards in state ISSUED.
//   out: optional array of `count` entries that receives the numbers. INVALID (count 0 or above
//   1,000,000, bad batch id), DB_ERROR if no unused number is found after retries.
kr_ledger_status kr_ledger_cards_issue(kr_ledger *db, const char *batch_id, size_t count,
                                       int64_t at, kr_ledger_card_number *out);

// kr_ledger_card_activate: ISSUED -> ACTIVE. customer_id 0 creates an anonymous placeholder
//   customer; otherwise the card is attached to that customer at once. *out_customer_id
//   (optional) receives the card's customer. STATE (already active), BLOCKED, NOT_FOUND,
//   MERGED, INVALID.
kr_ledger_status kr_ledger_card_activate(kr_ledger *db, const char *number, int64_t customer_id,
                                         int64_t at, int64_t *out_customer_id);

// kr_ledger_card_attach: attaches an ACTIVE card held by an anonymous placeholder to a real
//   customer; the placeholder (its points, history) is merged into the customer under op_id.
//   EXISTS (already theirs), CONFLICT (card belongs to another real customer), STATE (issued),
//   BLOCKED, NOT_FOUND, MERGED.
kr_ledger_status kr_ledger_card_attach(kr_ledger *db, const char *number, int64_t customer_id,
                                       const char *op_id, int64_t at);

// kr_ledger_card_block: ISSUED/ACTIVE -> BLOCKED (final). BLOCKED if already, NOT_FOUND.
kr_ledger_status kr_ledger_card_block(kr_ledger *db, const char *number, int64_t at);

// kr_ledger_card_get: reads a card into *out. NOT_FOUND, INVALID.
kr_ledger_status kr_ledger_card_get(kr_ledger *db, const char *number, kr_ledger_card *out);

// ---------------------------------------------------------------------------------------------
// Point lots and the journal
// ---------------------------------------------------------------------------------------------

typedef enum kr_ledger_source {
    KR_LEDGER_SRC_ACCRUAL,
    KR_LEDGER_SRC_PROMOTION,
    KR_LEDGER_SRC_BIRTHDAY,
    KR_LEDGER_SRC_REGISTRATION,
    KR_LEDGER_SRC_REFERRAL,
    KR_LEDGER_SRC_EVENT,
    KR_LEDGER_SRC_MANUAL,
    KR_LEDGER_SRC_IMPORT,
    KR_LEDGER_SRC_CHALLENGE,
    KR_LEDGER_SRC_RETURN,
} kr_ledger_source;

// kr_ledger_source_name: "accrual", "promotion", ... (static); NULL for an unknown value.
const char *kr_ledger_source_name(kr_ledger_source src);

typedef struct kr_ledger_lot_in {
    int64_t customer_id;
    kr_ledger_source source;
    int64_t amount; // > 0
    int64_t earned_at;
    int64_t spendable_from; // >= earned_at (hold period)
    int64_t expires_at;     // > spendable_from, or KR_LEDGER_NEVER
    const char *op_id;      // the receipt / operation creating the lot
} kr_ledger_lot_in;

typedef struct kr_ledger_lot {
    int64_t id;
    int64_t customer_id;
    kr_ledger_source source;
    int64_t amount, remaining;
    int64_t earned_at, spendable_from, expires_at; // expires_at: KR_LEDGER_NEVER if none
    char op_id[KR_LEDGER_ID_MAX];
} kr_ledger_lot;

// kr_ledger_lot_add: creates a lot (journal "create"). If the customer owes a debt, the new lot
//   pays it first (journal "debt-pay"), so remaining may start below amount. *out_lot_id
//   (optional). INVALID, NOT_FOUND, MERGED.
kr_ledger_status kr_ledger_lot_add(kr_ledger *db, const kr_ledger_lot_in *in, int64_t *out_lot_id);

// kr_ledger_lot_get: reads one lot. NOT_FOUND.
kr_ledger_status kr_ledger_lot_get(kr_ledger *db, int64_t lot_id, kr_ledger_lot *out);

// One piece of a spend: `amount` points taken from lot `lot_id`.
typedef struct kr_ledger_take {
    int64_t lot_id;
    int64_t amount;
} kr_ledger_take;

// kr_ledger_spend: takes `points` (> 0) from the customer's spendable lots at `at`
//   (spendable_from <= at < expires_at, remaining > 0), by expires_at ascending (never last),
//   then earned_at, then lot id. Journal "spend" per lot. *out_takes (malloc'd, free()) and
//   *out_n list what was taken, for a later kr_ledger_return. INSUFFICIENT (nothing changed),
//   NOT_FOUND, MERGED, INVALID.
kr_ledger_status kr_ledger_spend(kr_ledger *db, int64_t customer_id, int64_t points, int64_t at,
                                 const char *op_id, kr_ledger_take **out_takes, size_t *out_n);

typedef enum kr_ledger_expired_policy {
    KR_LEDGER_EXPIRED_DROP,    // points for expired lots are journalled in and expired at once
    KR_LEDGER_EXPIRED_NEW_LOT, // they go into one new "return" lot with the given lifetime
} kr_ledger_expired_policy;

typedef struct kr_ledger_return_result {
    int64_t restored;   // put back into their original (still live) lots
    int64_t renewed;    // moved into the new lot (NEW_LOT policy)
    int64_t dropped;    // expired and dropped (DROP policy)
    int64_t new_lot_id; // 0 if no new lot
} kr_ledger_return_result;

// kr_ledger_return: gives back spent points: each take's amount goes back into its lot
//   (journal "return-in"); for a lot already expired at `at` (expires_at <= at) the policy
//   applies: DROP -> journal "expire" right after; NEW_LOT -> journal "expire" on the old lot
//   and one new lot (source return, spendable at `at`, expiring at at+lifetime or never).
//   A lot never gets back more than was spent from it (INVALID). out optional.
//   NOT_FOUND (lot), INVALID.
kr_ledger_status kr_ledger_return(kr_ledger *db, const kr_ledger_take *takes, size_t n, int64_t at,
                                  const char *op_id, kr_ledger_expired_policy policy,
                                  int64_t lifetime, kr_ledger_return_result *out);

typedef struct kr_ledger_reverse_result {
    int64_t from_own_lots;   // taken from the lots the accrual created
    int64_t from_other_lots; // taken from the customer's other live lots
    int64_t debt;            // the rest, recorded as debt
} kr_ledger_reverse_result;

// kr_ledger_reverse_accrual: cancels `points` of what operation `accrual_op` credited to the
//   customer (e.g. goods returned). Takes from the live remaining of that op's lots (lot id
//   order), then from the customer's other live lots (spend order, held lots too), and records
//   any rest as debt (journal "debt-add") that future lots pay off. The total reversed for an
//   op never exceeds what it credited (INVALID). NOT_FOUND (no lots of that op), MERGED.
kr_ledger_status kr_ledger_reverse_accrual(kr_ledger *db, int64_t customer_id,
                                           const char *accrual_op, int64_t points, int64_t at,
                                           const char *op_id, kr_ledger_reverse_result *out);
// kr_ledger_reverse_accrual_source: kr_ledger_reverse_accrual taking from the op's lots of
//   `source` first (a challenge bonus taken back comes off the bonus's lot, not the
//   purchase's points of the same receipt).
kr_ledger_status kr_ledger_reverse_accrual_source(kr_ledger *db, int64_t customer_id,
                                                  const char *accrual_op, const char *source,
                                                  int64_t points, int64_t at, const char *op_id,
                                                  kr_ledger_reverse_result *out);

// kr_ledger_expire: every lot with expires_at <= at and remaining > 0 gets a journal "expire"
//   row and remaining 0. Idempotent. op_id NULL -> "expire@<at>". Counts are optional outputs.
kr_ledger_status kr_ledger_expire(kr_ledger *db, int64_t at, const char *op_id, int64_t *out_lots,
                                  int64_t *out_points);

typedef struct kr_ledger_expiry_bucket {
    int64_t expires_at;
    int64_t points;
} kr_ledger_expiry_bucket;

typedef struct kr_ledger_balance {
    int64_t spendable;      // live lots with spendable_from <= at
    int64_t pending;        // live lots still on hold
    int64_t never_expiring; // part of spendable+pending without expiry
    int64_t debt;
    kr_ledger_expiry_bucket *buckets; // live points by expiry instant, ascending; owned
    size_t n_buckets;
} kr_ledger_balance;

// kr_ledger_balance_get: balance of a customer at `at` ("live" = remaining > 0 and not expired
//   at `at`). *out filled; free its buckets with kr_ledger_balance_free. NOT_FOUND, MERGED.
kr_ledger_status kr_ledger_balance_get(kr_ledger *db, int64_t customer_id, int64_t at,
                                       kr_ledger_balance *out);
void kr_ledger_balance_free(kr_ledger_balance *b);

typedef struct kr_ledger_journal_row {
    int64_t id;
    int64_t customer_id;
    int64_t lot_id; // 0 for debt rows
    char op_id[KR_LEDGER_ID_MAX];
    char kind[16]; // create import spend expire return-in reverse debt-add debt-pay
                   // merge-out merge-in
    int64_t delta;
    int64_t at;
    char ref_op[KR_LEDGER_ID_MAX]; // reverse/debt-add: the reversed accrual op; else ""
    int64_t peer_customer_id;      // merge rows: the other customer; else 0
} kr_ledger_journal_row;

// kr_ledger_history: journal rows of the customer and of customers merged into it, with
//   id > after_id, in journal order (= commit order), at most `limit` (1..1000). *out
//   malloc'd (free()), may be NULL with *out_n 0. NOT_FOUND, INVALID.
kr_ledger_status kr_ledger_history(kr_ledger *db, int64_t customer_id, int64_t after_id,
                                   size_t limit, kr_ledger_journal_row **out, size_t *out_n);

// ---------------------------------------------------------------------------------------------
// Trigger chains (kr-ledger-chains.c)
// ---------------------------------------------------------------------------------------------

typedef enum kr_ledger_chain_state {
    KR_LEDGER_CHAIN_RUNNING,
    KR_LEDGER_CHAIN_DONE, // every step done
    KR_LEDGER_CHAIN_LEFT, // the exit condition held
} kr_ledger_chain_state;

// A customer's position in a chain.
typedef struct kr_ledger_chain_pos {
    int64_t entered_day; // the local day the chain started
    int64_t done_days;   // `after-days` of the last step done; -1: none yet
    kr_ledger_chain_state state;
} kr_ledger_chain_pos;

// kr_ledger_chain_get: the customer's position in chain_id. NOT_FOUND: never entered.
kr_ledger_status kr_ledger_chain_get(kr_ledger *db, int64_t customer_id, const char *chain_id,
                                     kr_ledger_chain_pos *out);
// kr_ledger_chain_put: writes the position (insert or replace) at `at`. NOT_FOUND / MERGED
//   customer, INVALID chain id.
kr_ledger_status kr_ledger_chain_put(kr_ledger *db, int64_t customer_id, const char *chain_id,
                                     const kr_ledger_chain_pos *pos, int64_t at);
// kr_ledger_chain_step_add: journals step step_id of chain_id as done at `at` with the points
//   and code (NULL: none) it gave. EXISTS when it was done before (nothing written).
kr_ledger_status kr_ledger_chain_step_add(kr_ledger *db, int64_t customer_id,
                                          const char *chain_id, const char *step_id, int64_t at,
                                          int64_t points, const char *code);
// kr_ledger_chain_steps_done: the ids of the steps of chain_id journalled for the customer, in
//   the order they were done (at most max; *n the count written), into ids[i] (KR_LEDGER_ID_MAX
//   bytes each).
kr_ledger_status kr_ledger_chain_steps_done(kr_ledger *db, int64_t customer_id,
                                            const char *chain_id, char (*ids)[KR_LEDGER_ID_MAX],
                                            size_t max, size_t *n);
// kr_ledger_chain_step_code: records the promo code a journalled step gave. NOT_FOUND when the
//   step is not journalled.
kr_ledger_status kr_ledger_chain_step_code(kr_ledger *db, int64_t customer_id,
                                           const char *chain_id, const char *step_id,
                                           const char *code);

// ---------------------------------------------------------------------------------------------
// Merge and import
// ---------------------------------------------------------------------------------------------

// kr_ledger_merge: merges customer `from` into `into` (operator-confirmed duplicates): lots
//   (journal merge-out/merge-in), debt, receipts, counters (same metric+period add up),
//   identities, cards, promo uses and pending notifications move to `into`; `from` is marked
//   merged_into and later operations on it return MERGED. Attributes missing on `into` are
//   copied. Segment memberships move to `into`; a segment both are in keeps the earliest
//   joined_at and the latest until. INVALID (same id), NOT_FOUND, MERGED (either already merged).
kr_ledger_status kr_ledger_merge(kr_ledger *db, int64_t from, int64_t into, const char *op_id,
                                 int64_t at);

typedef struct kr_ledger_import_row {
    kr_ledger_customer_in customer; // with phone / e-mail
    const char *card_number;        // optional ERP card (6..32 digits), becomes ACTIVE
    int64_t opening_balance;        // 0 = no lot
    int64_t opening_expires_at;     // KR_LEDGER_NEVER or an instant
} kr_ledger_import_row;

typedef void (*kr_ledger_import_reject_fn)(void *ud, size_t index, kr_ledger_status st,
                                           const char *message);

// kr_ledger_import: bulk import inside the caller's transaction. Each row is its own savepoint:
//   a bad row (INVALID/CONFLICT) is reported to `reject` (optional) and skipped, the others
//   go in. Opening balances become "import" lots (earned and spendable at `at`, journal
//   "import" under op_id). *out_ok (optional) = rows imported. A DB error stops the import
//   and is returned.
kr_ledger_status kr_ledger_import(kr_ledger *db, const kr_ledger_import_row *rows, size_t n,
                                  const char *op_id, int64_t at, kr_ledger_import_reject_fn reject,
                                  void *ud, size_t *out_ok);

// ---------------------------------------------------------------------------------------------
// Receipts (idempotency records)
// ---------------------------------------------------------------------------------------------

typedef enum kr_ledger_receipt_state {
    KR_LEDGER_RECEIPT_CONFIRMED,
    KR_LEDGER_RECEIPT_CANCELLED,
    KR_LEDGER_RECEIPT_PARTIALLY_RETURNED,
    KR_LEDGER_RECEIPT_RETURNED,
} kr_ledger_receipt_state;

typedef struct kr_ledger_receipt_in {
    const char *id;        // receipt id from the till/ERP
    const char *body_hash; // 64 hex chars (kr_ledger_sha256_hex of the request body)
    int64_t customer_id;   // 0 = anonymous sale
    const char *result;    // JSON result text returned to the till
    int64_t at;
} kr_ledger_receipt_in;

typedef struct kr_ledger_receipt {
    char *id;
    char body_hash[65];
    int64_t customer_id;
    kr_ledger_receipt_state state;
    char *result;
    int64_t created_at, updated_at;
} kr_ledger_receipt;

// kr_ledger_receipt_get: reads a receipt record. *out allocated; kr_ledger_receipt_free.
//   NOT_FOUND.
kr_ledger_status kr_ledger_receipt_get(kr_ledger *db, const char *id, kr_ledger_receipt **out);
void kr_ledger_receipt_free(kr_ledger_receipt *r);

// kr_ledger_receipt_put: records a confirmed receipt. If the id exists: same hash -> EXISTS
//   (replay; nothing written), different hash -> CONFLICT. In both cases *out_stored (optional)
//   receives the stored record so the caller can answer with its result. INVALID.
kr_ledger_status kr_ledger_receipt_put(kr_ledger *db, const kr_ledger_receipt_in *in,
                                       kr_ledger_receipt **out_stored);

// kr_ledger_receipt_set_state: changes the state (and updated_at). NOT_FOUND.
kr_ledger_status kr_ledger_receipt_set_state(kr_ledger *db, const char *id,
                                             kr_ledger_receipt_state state, int64_t at);

// kr_ledger_receipt_line_return: marks a receipt line returned by operation op_id. EXISTS if
//   the same op already did, CONFLICT if another op returned that line. NOT_FOUND (receipt).
kr_ledger_status kr_ledger_receipt_line_return(kr_ledger *db, const char *receipt_id,
                                               const char *line_id, const char *op_id, int64_t at);

// kr_ledger_receipt_returned_lines: line ids already returned, sorted. *out is a malloc'd array
//   of malloc'd strings; free with kr_ledger_strings_free(*out, *out_n).
kr_ledger_status kr_ledger_receipt_returned_lines(kr_ledger *db, const char *receipt_id,
                                                  char ***out, size_t *out_n);
void kr_ledger_strings_free(char **v, size_t n);

// ---------------------------------------------------------------------------------------------
// Counters, tiers, program versions
// ---------------------------------------------------------------------------------------------

// kr_ledger_counter_add: value(customer, metric, period) += delta; *out_value (optional) is the
//   new value. NOT_FOUND, MERGED, INVALID.
kr_ledger_status kr_ledger_counter_add(kr_ledger *db, int64_t customer_id, const char *metric,
                                       const char *period, int64_t delta, int64_t *out_value);
// kr_ledger_counter_get: the value, 0 if never added. OK.
kr_ledger_status kr_ledger_counter_get(kr_ledger *db, int64_t customer_id, const char *metric,
                                       const char *period, int64_t *out_value);

typedef enum kr_ledger_tier_reason {
    KR_LEDGER_TIER_COMPUTED,
    KR_LEDGER_TIER_MANUAL, // manual floor: the customer is at least this tier until floor_until
} kr_ledger_tier_reason;

typedef struct kr_ledger_tier {
    char ladder_id[KR_LEDGER_ID_MAX];
    char tier_id[KR_LEDGER_ID_MAX];
    int64_t from_at;
    kr_ledger_tier_reason reason;
    int64_t floor_until; // KR_LEDGER_NEVER when not a floor / no end
} kr_ledger_tier;

// kr_ledger_tier_set: appends a tier history row. NOT_FOUND, MERGED, INVALID.
kr_ledger_status kr_ledger_tier_set(kr_ledger *db, int64_t customer_id, const kr_ledger_tier *t);
// kr_ledger_tier_current: the latest row of that ladder with from_at <= at. NOT_FOUND.
kr_ledger_status kr_ledger_tier_current(kr_ledger *db, int64_t customer_id, const char *ladder_id,
                                        int64_t at, kr_ledger_tier *out);

typedef struct kr_ledger_program {
    char *program_id;
    int64_t version;
    char hash[65];
    char *xml;
    char *lua;
    int64_t deployed_at;
    char *deployed_by;
} kr_ledger_program;

// kr_ledger_program_put: stores a program version (strings copied). EXISTS when (id, version)
//   is stored with the same hash, CONFLICT with another hash. INVALID.
kr_ledger_status kr_ledger_program_put(kr_ledger *db, const kr_ledger_program *p);
// kr_ledger_program_current: the most recently deployed version of program_id (by deployed_at,
//   then version). *out allocated; kr_ledger_program_free. NOT_FOUND.
kr_ledger_status kr_ledger_program_current(kr_ledger *db, const char *program_id,
                                           kr_ledger_program **out);
void kr_ledger_program_free(kr_ledger_program *p);

// ---------------------------------------------------------------------------------------------
// Notification outbox
// ---------------------------------------------------------------------------------------------

typedef enum kr_ledger_outbox_state {
    KR_LEDGER_OUTBOX_PENDING,
    KR_LEDGER_OUTBOX_SENT,
    KR_LEDGER_OUTBOX_FAILED,
    KR_LEDGER_OUTBOX_CANCELLED,
} kr_ledger_outbox_state;

typedef struct kr_ledger_outbox_in {
    const char *key; // idempotency key, e.g. "expiry-warning:42:2026-11-30"
    int64_t customer_id;
    const char *kind;
    const char *const *channels; // in order of preference, e.g. {"push", "sms"}
    size_t n_channels;
    const char *payload;
    int64_t due_at;
    int64_t created_at;
} kr_ledger_outbox_in;

typedef struct kr_ledger_outbox_msg {
    int64_t id;
    char key[KR_LEDGER_ID_MAX];
    int64_t customer_id;
    char kind[KR_LEDGER_ID_MAX];
    char channels[KR_LEDGER_ID_MAX]; // comma-separated, in order
    char *payload;                   // owned
    int64_t due_at;
    kr_ledger_outbox_state state;
    int64_t attempts;
    int64_t created_at; // set by kr_ledger_outbox_get / _pending
} kr_ledger_outbox_msg;

// kr_ledger_outbox_enqueue: adds a PENDING message. EXISTS when the key was already enqueued
//   (nothing written; *out_id is the stored id). INVALID, NOT_FOUND, MERGED.
kr_ledger_status kr_ledger_outbox_enqueue(kr_ledger *db, const kr_ledger_outbox_in *in,
                                          int64_t *out_id);
// kr_ledger_outbox_due: PENDING messages with due_at <= at, by due_at then id, at most limit.
//   *out malloc'd; free with kr_ledger_outbox_free(*out, *out_n).
kr_ledger_status kr_ledger_outbox_due(kr_ledger *db, int64_t at, size_t limit,
                                      kr_ledger_outbox_msg **out, size_t *out_n);
void kr_ledger_outbox_free(kr_ledger_outbox_msg *v, size_t n);
// kr_ledger_outbox_get: one message by id, any state (*out's payload owned: free it).
//   NOT_FOUND.
kr_ledger_status kr_ledger_outbox_get(kr_ledger *db, int64_t id, kr_ledger_outbox_msg *out);
// kr_ledger_outbox_pending: PENDING messages with id > after_id, of customer_id (0: everyone's),
//   by id, at most limit (1..10,000). *out malloc'd (NULL when none); free with
//   kr_ledger_outbox_free(*out, *out_n).
kr_ledger_status kr_ledger_outbox_pending(kr_ledger *db, int64_t customer_id, int64_t after_id,
                                          size_t limit, kr_ledger_outbox_msg **out,
                                          size_t *out_n);
// kr_ledger_outbox_mark: sets the state (attempts += 1 for SENT/FAILED). NOT_FOUND.
kr_ledger_status kr_ledger_outbox_mark(kr_ledger *db, int64_t id, kr_ledger_outbox_state state,
                                       int64_t at);

// ---------------------------------------------------------------------------------------------
// Promo codes and certificates
// ---------------------------------------------------------------------------------------------

// kr_ledger_promo_add: a code (case-insensitive) of a batch; max_uses / max_per_customer 0 =
//   unlimited; valid_until KR_LEDGER_NEVER or an instant. CONFLICT if the code exists.
kr_ledger_status kr_ledger_promo_add(kr_ledger *db, const char *code, const char *batch_id,
                                     int64_t max_uses, int64_t max_per_customer,
                                     int64_t valid_until);
// kr_ledger_promo_add_owned: as kr_ledger_promo_add, for a code issued to one customer
//   (owner_id; 0: anyone's): only that customer may use it. NOT_FOUND / MERGED for the owner.
kr_ledger_status kr_ledger_promo_add_owned(kr_ledger *db, const char *code, const char *batch_id,
                                           int64_t max_uses, int64_t max_per_customer,
                                           int64_t valid_until, int64_t owner_id);
// kr_ledger_promo_use: records one use by operation op_id. EXISTS if op_id already used this
//   code (idempotent), LIMIT (total or per-customer), EXPIRED, CONFLICT (issued to another
//   customer), NOT_FOUND, MERGED.
kr_ledger_status kr_ledger_promo_use(kr_ledger *db, const char *code, int64_t customer_id,
                                     const char *op_id, int64_t at);
// kr_ledger_promo_uses: total uses and uses by the customer (optional outputs). NOT_FOUND.
kr_ledger_status kr_ledger_promo_uses(kr_ledger *db, const char *code, int64_t customer_id,
                                      int64_t *out_total, int64_t *out_customer);

// kr_ledger_certificate_add: a gift certificate. CONFLICT if the number exists, INVALID.
kr_ledger_status kr_ledger_certificate_add(kr_ledger *db, const char *number, int64_t face_value,
                                           int64_t valid_until, int64_t issued_at);
// kr_ledger_certificate_use: takes `amount` (> 0, minor units) by op_id. EXISTS if op_id already
//   used it (same amount; CONFLICT if another amount), INSUFFICIENT, EXPIRED, NOT_FOUND.
kr_ledger_status kr_ledger_certificate_use(kr_ledger *db, const char *number, int64_t amount,
                                           const char *op_id, int64_t at);
// kr_ledger_certificate_get: face value, remaining, valid_until (all optional). NOT_FOUND.
kr_ledger_status kr_ledger_certificate_get(kr_ledger *db, const char *number, int64_t *out_face,
                                           int64_t *out_remaining, int64_t *out_valid_until);

// Certificates sold on receipts (kr-ledger-certificates.c). A certificate's value obeys
// remaining = face_value - sum(uses) + sum(give-backs) (checked by kr_ledger_check). A voided
// certificate (its sale was returned) keeps its remaining but can no longer be used.
typedef struct kr_ledger_certificate_in {
    const char *number;  // 1..KR_LEDGER_ID_MAX-1 bytes, unique
    const char *kind;    // the program's certificate id
    int64_t face_value;  // > 0
    bool partial;        // false: must be spent whole in one receipt
    int64_t valid_until; // exclusive instant, or KR_LEDGER_NEVER
    int64_t issued_at;
    const char *receipt, *line; // the receipt line that sold it
} kr_ledger_certificate_in;

typedef struct kr_ledger_certificate {
    char number[KR_LEDGER_ID_MAX];
    char kind[KR_LEDGER_ID_MAX];   // "" for a certificate added without a kind
    int64_t face_value, remaining;
    bool partial;
    int64_t valid_until;           // KR_LEDGER_NEVER if none
    int64_t issued_at;
    char sold_receipt[KR_LEDGER_ID_MAX], sold_line[KR_LEDGER_ID_MAX]; // "" if not sold so
    int64_t voided_at;             // 0: not voided
    char void_op[KR_LEDGER_ID_MAX];
} kr_ledger_certificate;

// One entry of a certificate's history: "use" (amount taken by receipt op_id) or "give-back"
// (amount given back by op_id, a return or cancel of `receipt`).
typedef struct kr_ledger_certificate_event {
    char kind[16];
    char op_id[KR_LEDGER_ID_MAX];
    char receipt[KR_LEDGER_ID_MAX];
    int64_t amount, at;
} kr_ledger_certificate_event;

// kr_ledger_certificate_sell: stores a certificate sold by a receipt line (remaining = face
//   value). CONFLICT if the number exists, INVALID.
kr_ledger_status kr_ledger_certificate_sell(kr_ledger *db, const kr_ledger_certificate_in *in);
// kr_ledger_certificate_read: the whole record into *out. NOT_FOUND, INVALID.
kr_ledger_status kr_ledger_certificate_read(kr_ledger *db, const char *number,
                                            kr_ledger_certificate *out);
// kr_ledger_certificates_sold: numbers of the certificates sold by line `line` of `receipt`, in
//   number order; *out malloc'd, free with kr_ledger_strings_free(*out, *n).
kr_ledger_status kr_ledger_certificates_sold(kr_ledger *db, const char *receipt, const char *line,
                                             char ***out, size_t *n);
// kr_ledger_certificate_void: voids an unused certificate (its sale is returned). EXISTS when
//   op_id already voided it; STATE when it was used (remaining below face value) or voided by
//   another operation. NOT_FOUND.
kr_ledger_status kr_ledger_certificate_void(kr_ledger *db, const char *number, const char *op_id,
                                            int64_t at);
// kr_ledger_certificate_used_by: what `receipt` took from the certificate (0 if nothing) and
//   what returns of that receipt gave back so far (both optional). NOT_FOUND.
kr_ledger_status kr_ledger_certificate_used_by(kr_ledger *db, const char *number,
                                               const char *receipt, int64_t *out_used,
                                               int64_t *out_given_back);
// kr_ledger_certificate_give_back: gives `amount` (> 0) of what `receipt` took back to the
//   certificate under operation op_id; validity is not changed. EXISTS when op_id already gave
//   back the same amount (CONFLICT for another); INVALID when it would give back more than the
//   receipt took. NOT_FOUND.
kr_ledger_status kr_ledger_certificate_give_back(kr_ledger *db, const char *number,
                                                 const char *receipt, int64_t amount,
                                                 const char *op_id, int64_t at);
// kr_ledger_certificate_history: uses and give-backs in time order (at the same instant uses
//   first, then in the order they were written), at most
//   `limit` (1..1000); *out malloc'd (free()), may be NULL with *n 0. NOT_FOUND.
kr_ledger_status kr_ledger_certificate_history(kr_ledger *db, const char *number, size_t limit,
                                               kr_ledger_certificate_event **out, size_t *n);

// ---------------------------------------------------------------------------------------------
// Invariants
// ---------------------------------------------------------------------------------------------

typedef void (*kr_ledger_report_fn)(void *ud, const char *violation);

// kr_ledger_check: verifies the invariants (docs/internals/ledger.md "Invariants"): cached
//   balances and debts equal lot remainings / debt journal, every lot explained by its journal,
//   0 <= remaining <= amount, nothing (identity, card, lot, counter, segment membership)
//   points at a merged customer, every certificate's remaining = face value - uses +
//   give-backs, no voided certificate was used, no receipt line returned beyond its units
//   (or marked wholly returned short of them). Each violation is passed to report (optional).
//   *out_violations = their number. DB_ERROR if the queries fail.
kr_ledger_status kr_ledger_check(kr_ledger *db, kr_ledger_report_fn report, void *ud,
                                 int64_t *out_violations);

#endif
