// SPDX-License-Identifier: MIT
// kr-ops.h: Kopilka's operations — what a till, the web shop, QA and the admin ask of the
// runtime — over one ledger file and one compiled program. JSON in, JSON out: the command
// line (`kopilka`) and the HTTP service are thin layers on these functions.
//
// Table of contents
//   kr_ops_open/close      a ledger file (created and migrated if needed) + a program
//   kr_ops_calculate       what discount and points for this cart (writes nothing)
//   kr_ops_confirm         the paid receipt: idempotent on its id, one transaction
//   kr_ops_cancel/return   undo a whole receipt, or some of its lines
//   kr_ops_balance/history what a customer has, and how it came to be
//   kr_ops_customer_*      create, update, look up, merge customers; cards (issue, attach, block)
//   kr_ops_tier_floor      an operator's floor on a tier ladder (partner contracts)
//   kr_ops_outbox_*        notifications waiting to be sent, and their acknowledgement
//   kr_ops_jobs_run        the scheduled work due at an instant (expiry, tiers, birthdays ...)
//   kr_ops_certificate_show a gift certificate: value left, validity, uses
//   kr_ops_import_csv      customers, cards and opening balances from the ERP: all or nothing
//   kr_ops_check           the ledger's invariants
//   kr_ops_report          marketers' reports over the ledger (kr-reports.h)
//
// Formats: docs/formats.md. Every answer is one JSON object appended to `out`. On a failing
// status `out` holds {"error": {"code": ..., "field": ..., "message": ...}} and nothing was
// changed. Times are passed in by the caller (QA sets the clock; a service passes the wall
// clock): nothing here reads the clock. One kr_ops per thread.
#ifndef KR_OPS_H
#define KR_OPS_H

#include "kr-buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum kr_ops_status {
    KR_OPS_OK = 0,
    KR_OPS_REPLAY,    // confirm/return/cancel already done with the same body: the first answer
    KR_OPS_INVALID,   // bad input (the error names the line and field)
    KR_OPS_NOT_FOUND, // unknown customer, card, receipt or line
    KR_OPS_CONFLICT,  // the same id with a different body; a line returned twice ...
    KR_OPS_REFUSED,   // not allowed now: blocked card, merged customer, not enough points ...
    KR_OPS_PROGRAM,   // the program failed on this input (the error names the rule)
    KR_OPS_BUSY,      // the ledger is locked by another writer past the timeout
    KR_OPS_FAILED,    // storage error or out of memory
} kr_ops_status;

const char *kr_ops_status_name(kr_ops_status s); // "ok", "replay", "invalid" ...

typedef struct kr_ops kr_ops;

typedef struct kr_ops_program {
    const char *lua; // the compiled program (kopilkac output)
    size_t lua_len;
    const char *name; // for messages, e.g. "rules-examples/plumbing/program.xml"
    const char *xml;  // optional: the source, recorded with the deployed version
    size_t xml_len;
    const char *deployed_by; // optional: who deploys it (recorded)
    int64_t deployed_at;     // when (recorded)
} kr_ops_program;

// Opens (or creates) the ledger at `db_path` (":memory:" for a throwaway one) and loads the
// program; records it as a deployed version when it is not yet recorded. On failure *out is
// NULL and err (NUL-terminated) says why.
kr_ops_status kr_ops_open(const char *db_path, const kr_ops_program *program, kr_ops **out,
                          char *err, size_t errsz);
// Opens a ledger with the program most recently deployed in it (for commands that do not name
// a program). KR_OPS_NOT_FOUND when the ledger records none.
kr_ops_status kr_ops_open_deployed(const char *db_path, kr_ops **out, char *err, size_t errsz);
void kr_ops_close(kr_ops *o);

// Guessing protection for card numbers (docs/internals/ops.md "Unknown card numbers"):
// calculate, confirm and balance count unknown card numbers per source (the receipt's store,
// else its channel; balance: the reference's "source", else "any"); the `limit`-th within
// `window_seconds` locks card lookups from that source for `lockout_seconds` (answered
// `refused`). Defaults: 10 numbers in 600 s, 1800 s lockout. limit 0 turns it off.
void kr_ops_set_card_guard(kr_ops *o, int64_t limit, int64_t window_seconds,
                           int64_t lockout_seconds);

// Sets the line number and file name that input errors carry (JSON Lines readers set them
// before each call; 0/NULL when unknown).
void kr_ops_set_source(kr_ops *o, const char *name, unsigned line);

// ---- receipts -----------------------------------------------------------------------------
// Receipt JSON (docs/formats.md "Receipt") -> result JSON: per line the original amount,
// discounts by promotion, final amount, most points payable, points spent and earned, fiscal
// sub-lines; per receipt the totals, points earned and when they become spendable, applied
// and rejected promotions with reasons, messages, the balance before and after.
kr_ops_status kr_ops_calculate(kr_ops *o, const char *json, size_t len, kr_buf *out);
// As calculate, then records it all in one transaction: points spent from the lots that
// expire first, new lots with hold and expiry, codes used, counters and tiers updated, gift
// certificates taken from and issued (docs/formats.md "Gift certificates"). A
// repeat with the same id and body answers KR_OPS_REPLAY with the first answer; the same id
// with another body is KR_OPS_CONFLICT.
kr_ops_status kr_ops_confirm(kr_ops *o, const char *json, size_t len, kr_buf *out);
// Return JSON (docs/formats.md "Return"): some units of some lines (all those left when a line
// gives no qty) come back; reverses the accrual of exactly those units and gives back the
// points spent on them into their original lots (or by the program's policy when those
// expired), and their certificate money to the certificates it came from — shares of the line
// that add up to the whole line over any sequence of returns (docs/internals/ops.md, "Partial
// returns"); the units of a line that sold certificates void theirs (named by the return when
// only some come back), and a used one refuses the whole return (REFUSED). More units than
// are left: CONFLICT naming lines[i].qty, nothing changed. Idempotent on the return's id.
kr_ops_status kr_ops_return(kr_ops *o, const char *json, size_t len, kr_buf *out);
// Cancels a whole confirmed receipt (as a return of every line not yet returned).
kr_ops_status kr_ops_cancel(kr_ops *o, const char *receipt_id, int64_t at, kr_buf *out);

// A custom event from the ERP, JSON {"id", "event", "time", "customer": REF}: every event
// trigger of that name whose filters admit the customer gives its points and notification.
// Idempotent on the event's id.
kr_ops_status kr_ops_event(kr_ops *o, const char *json, size_t len, kr_buf *out);

// ---- customers -------------------------------------------------------------------------------
// A customer reference JSON: {"card": ...} | {"phone": ...} | {"email": ...} | {"id": ...}.
// The balance: points (spendable, pending, debt, by expiry date) and, per ladder the customer
// climbs, the tier, the metric (`value`; `progress` of the current period for previous-period
// ladders), the next tier and what is left, and a running floor (docs/formats.md, "Balance").
kr_ops_status kr_ops_balance(kr_ops *o, const char *who_json, int64_t at, kr_buf *out);
kr_ops_status kr_ops_history(kr_ops *o, const char *who_json, int64_t after_id, size_t limit,
                             kr_buf *out);
// Customer JSON: {"id", "name", "phone", "email", "card", "birthday", "registered",
// "segments", "attrs", "referrer"}; answers {"customer": <ledger id>}.
kr_ops_status kr_ops_customer_create(kr_ops *o, const char *json, size_t len, int64_t at,
                                     kr_buf *out);
// A customer's profile at `at`: {"customer", "id", "name", "phone", "email", "birthday",
// "anonymous", "segments" (memberships running at `at`), "attrs", "balance", "tiers" ({ladder:
// tier}), "cards" ([{"number", "state", "batch"}]), "codes" (codes issued to the customer:
// [{"code", "batch", "valid_until" (last day, or null), "used"}])}.
kr_ops_status kr_ops_customer_get(kr_ops *o, const char *who_json, int64_t at, kr_buf *out);
// Changes a customer, JSON {"customer": REF, "name", "birthday", "segments" (the new set),
// "attrs" (merged: a key with null removes the attribute), "phone", "email" (added as further
// identities)}; fields left out stay as they are. A new segment is joined at `at`.
kr_ops_status kr_ops_customer_update(kr_ops *o, const char *json, size_t len, int64_t at,
                                     kr_buf *out);
// Merges the duplicate `from` into `into` (both customer references), with an operation id.
kr_ops_status kr_ops_customer_merge(kr_ops *o, const char *from_json, const char *into_json,
                                    const char *op_id, int64_t at, kr_buf *out);
// Issues `count` anonymous cards of a batch under the operation id `op_id` (required); answers
// {"batch", "cards": [numbers]}. Idempotent on op_id: a repeat with the same batch and count
// answers the same numbers (read back from the ledger); another batch or count is a CONFLICT
// naming "batch" or "count", and nothing changes.
kr_ops_status kr_ops_cards_issue(kr_ops *o, const char *op_id, const char *batch, size_t count,
                                 int64_t at, kr_buf *out);
// Credits points to a customer (an operator's correction, points carried over from another
// system), JSON {"id", "time", "customer": REF, "points", "source" (default "manual"),
// "expires" (RFC 3339 time; default: the program's lifetime for the source)}. Idempotent on id.
kr_ops_status kr_ops_points_grant(kr_ops *o, const char *json, size_t len, kr_buf *out);
// Sets an operator's floor on a tier ladder (a partner contract: "silver until the end of
// September whatever his turnover"), JSON {"id", "time", "customer": REF, "ladder", "tier",
// "until" (YYYY-MM-DD, the last day the floor holds; absent: no end)}. From `time` the customer
// has at least that tier until the floor runs out; one above it keeps his own. The ladder must
// allow floors (manual-floor="true") and the customer must climb it (its segments). Journalled
// in the tier history; idempotent on id. Answers {"floor", "customer", "ladder", "tier",
// "until", "tier_before", "tier_now"}.
kr_ops_status kr_ops_tier_floor(kr_ops *o, const char *json, size_t len, kr_buf *out);
// Generates `count` single-use promo codes of a `single` batch of the program (prefix from the
// batch, then 8 characters that cannot be guessed) under the operation id `op_id` (required);
// answers {"batch", "codes": [...]}. Idempotent on op_id as kr_ops_cards_issue: the same batch
// and count answers the same codes; another is a CONFLICT naming "batch" or "count".
kr_ops_status kr_ops_codes_generate(kr_ops *o, const char *op_id, const char *batch,
                                    size_t count, int64_t at, kr_buf *out);
// Attaches an active anonymous card to a customer (its points and history move along).
kr_ops_status kr_ops_card_attach(kr_ops *o, const char *card, const char *who_json,
                                 int64_t at, kr_buf *out);
// Blocks a card (lost or stolen): receipts with it are refused from then on, the customer and
// points stay. Answers {"card", "state": "blocked", "blocked_at", "customer" (0: none)}; a
// repeat answers the same (idempotent).
kr_ops_status kr_ops_card_block(kr_ops *o, const char *card, int64_t at, kr_buf *out);

// ---- the outbox (notifications for the messaging integration) --------------------------------
// Lists pending entries, oldest first, JSON {"customer": REF (optional: only theirs), "after":
// id (optional cursor: entries with a greater id), "limit": 1..1000 (default 100)}. Answers
// {"entries": [{"id", "kind", "customer", "to": {"id", "name", "phone", "email"}, "channels"
// (in order of preference), "created", "message" (placeholders filled in; null when the program
// gives no text), "payload"}], "last": the greatest id listed (or `after`)}.
kr_ops_status kr_ops_outbox_list(kr_ops *o, const char *json, size_t len, kr_buf *out);
// Marks entries as sent at `at`, JSON {"ids": [id, ...]} (1..1000), in one transaction.
// Answers {"sent": N, "already": M}: an entry already sent counts in "already" (idempotent).
// An unknown id (not_found) or a cancelled entry (refused) refuses the request, naming
// "ids[i]", and nothing changes.
kr_ops_status kr_ops_outbox_ack(kr_ops *o, const char *json, size_t len, int64_t at,
                                kr_buf *out);

// ---- gift certificates ---------------------------------------------------------------------
// A certificate for the till or the admin: kind, face value, remaining, state (valid, used up,
// expired, void), validity, the receipt line that sold it and every use and give-back
// (docs/formats.md "Certificate"). `at` decides whether it has expired. NOT_FOUND.
kr_ops_status kr_ops_certificate_show(kr_ops *o, const char *number, int64_t at, kr_buf *out);

// ---- scheduled work, import, checks ------------------------------------------------------------
// Runs everything due at `at`: expiry of lots, end-of-period burns, tier recomputation at
// period ends, segment transitions and paid memberships ending, birthday and inactivity
// triggers, outbox entries for warnings before expiry and tier reminders. Idempotent: a second
// run at the same instant changes nothing. Answers a summary of what was done.
kr_ops_status kr_ops_jobs_run(kr_ops *o, int64_t at, kr_buf *out);
// Imports customers (with phone, e-mail, card, segments, birthday) and opening balances (with
// expiry dates) from CSV (docs/formats.md "Import"), all or nothing: any bad row refuses the
// whole file with an error naming its line and column.
kr_ops_status kr_ops_import_csv(kr_ops *o, const char *csv, size_t len, const char *source_name,
                                int64_t at, kr_buf *out);
// Checks the ledger's invariants; answers {"violations": N, "problems": [...]}.
kr_ops_status kr_ops_check(kr_ops *o, kr_buf *out, int64_t *violations);

#endif
