// SPDX-License-Identifier: MIT
// kr-ops-private.h: the operations' shared structure and helpers, for kr-ops*.c only.
//
//   kr-ops.c          open/close, errors, customer references and the customer snapshot
//   kr-ops-receipt.c  calculate, confirm, return, cancel
//   kr-ops-customer.c balance, history, customers, cards
//   kr-ops-jobs.c     scheduled work (kr_ops_jobs_run)
//   kr-ops-outbox.c   the outbox for the messaging integration (list, ack)
//   kr-ops-import.c   CSV import (kr_ops_import_csv)
//   kr-ops-sales.c    the sale facts of a confirmed receipt, for reports
//   kr-ops-reports.c  the marketers' reports (kr-reports.h)
#ifndef KR_OPS_PRIVATE_H
#define KR_OPS_PRIVATE_H

#include "kr-engine.h"
#include "kr-input.h"
#include "kr-ledger.h"
#include "kr-ledger-codes.h"
#include "kr-ops.h"
#include "kr-policy.h"
#include "kr-receipt.h"
#include "kr-time.h"

struct kr_ops {
    kr_ledger *db;        // owned
    kr_engine *engine;    // owned
    kr_policy policy;     // owned: the program's data tables
    kr_time_zone *tz;     // owned: the program's time zone
    char program_id[KR_LEDGER_ID_MAX];
    int64_t program_version;
    int minor_unit;

    // Input error context (kr_ops_set_source).
    char source[256];
    unsigned line;

    // Unknown card numbers (kr-ops-guard.c): the limits, the source of the request being
    // served, and a miss to record once the request's transaction is over.
    int64_t guard_limit, guard_window, guard_lockout; // guard_limit 0: off
    char guard_source[96];
    bool guard_missed;
    int64_t guard_missed_at;

    // Scratch reused across calls (owned).
    kr_engine_result result;
    kr_buf scratch;
};

// Writes {"error": {...}} into out and returns st. `field` may be NULL.
kr_ops_status kr__ops_fail(kr_ops *o, kr_buf *out, kr_ops_status st, const char *field,
                           const char *fmt, ...) __attribute__((format(printf, 5, 6)));
// Writes an input error (line/column/field from a reader) as the error answer.
kr_ops_status kr__ops_input_error(kr_ops *o, kr_buf *out, const kr_input_error *err);
// Idempotency of an operation recorded under `key` (a receipt id, "return:<id>" ...): OK when
// the key is new; REPLAY with the stored answer in `out` when it was done with the same body
// hash; CONFLICT (answered) when it was done with another body.
kr_ops_status kr__ops_replay(kr_ops *o, const char *key, const char *hash, kr_buf *out);
// True when `s` is one of the n strings of `v` (segment, tier and channel lists of the policy).
bool kr__ops_listed(char *const *v, size_t n, const char *s);
// Writes a customer's contacts as JSON members: "id" (the ERP's id), "name", "phone" and
// "email", each null when unknown (no braces: the caller places them).
void kr__ops_contacts_json(kr_buf *out, const kr_ledger_customer *c);
// The other half of kr__ops_replay: keeps `answer` under `key` with the body hash, in the
// operation's transaction, so a repeat of the request answers it again.
kr_ledger_status kr__ops_remember(kr_ops *o, const char *key, const char *hash, int64_t customer,
                                  const char *answer, int64_t at);
// The SHA-256 of a request re-serialised with sorted keys and no spaces: the same request sent
// with other formatting is the same request.
void kr__ops_body_hash(const json_t *root, char out[65]);
// Reads the customer reference object at `key` of `obj` ({"card"|"phone"|"email"|"id"}).
bool kr__ops_read_ref(kr_json_obj *obj, const char *key, kr_customer_ref *ref);

// Idempotency of `cards issue` / `codes generate` (kind) on `op_id`: OK (nothing written to
// out) when the operation is new; REPLAY with the first answer in `out`, the numbers read back
// from the ledger, when it issued `count` of `batch` already; CONFLICT (answered, naming
// "batch" or "count") when it issued another batch or count. `key` names the answer's array.
kr_ops_status kr__ops_issued_repeat(kr_ops *o, kr_ledger_issued_kind kind, const char *op_id,
                                    const char *batch, size_t count, const char *key,
                                    kr_buf *out);

// Maps a ledger status (with kr_ledger_errmsg) to an error answer; `field` may be NULL.
kr_ops_status kr__ops_ledger_error(kr_ops *o, kr_buf *out, kr_ledger_status ls,
                                   const char *field);

// The local day (days since 1970-01-01 in the program's time zone) of an instant.
int64_t kr__ops_local_day(const kr_ops *o, int64_t t);
// The instant a local day starts.
int64_t kr__ops_day_start(const kr_ops *o, int64_t day);

// The end (exclusive instant, or KR_LEDGER_NEVER) of a code of batch `b` generated or issued at
// `at`: the batch's `to`, or the end of its `valid_days`-th local day from `at` when earlier.
int64_t kr__ops_code_until(const kr_ops *o, const kr_batch *b, int64_t at);

// The customer id kr__ops_resolve gives, when not writing, for an issued card not used yet.
#define KR__OPS_NEW_CARD INT64_C(-1)

// Resolves a customer reference to a ledger customer id (following merges). NOT_FOUND etc.
// are answered with the field named ("customer.card").
kr_ops_status kr__ops_resolve(kr_ops *o, const kr_customer_ref *ref, int64_t at, bool for_write,
                              int64_t *customer_id, kr_buf *out);
// Parses a customer reference JSON text into ref (strings point into *root; json_decref it).
kr_ops_status kr__ops_parse_ref(kr_ops *o, const char *json, kr_customer_ref *ref, json_t **root,
                                kr_buf *out);

// Counters: the ledger keeps daily counters per customer: metric "paid" (money, minor
// units, after discounts), "receipts" (count), "points" (points earned), under period
// "YYYY-MM-DD" (local day), plus period "all" for lifetime totals. Sums a metric over the
// local days [from, to].
kr_ledger_status kr__ops_counter_sum(kr_ops *o, int64_t customer, const char *metric,
                                     int64_t from_day, int64_t to_day, int64_t *out);
void kr__ops_day_key(int64_t day, char out[11]);

// A promo code of batch `b` for `customer`, issued at `at` (kr-ops-jobs.c): a `multi` batch's
// public code, or a new single-use code owned by the customer, valid until the batch's `to` or
// its `valid-days`. *until_out: the code's end (KR_LEDGER_NEVER: none).
kr_ledger_status kr__ops_issue_code(kr_ops *o, const kr_batch *b, int64_t customer, int64_t at,
                                    char code[64], int64_t *until_out);
// Appends `tmpl` to b with each "{name}" of names[] replaced by values[] (kr-ops-jobs.c).
void kr__ops_fill_template(kr_buf *b, const char *tmpl, const char *const *names,
                           const char *const *values, size_t n);

// What the trigger chains did in one jobs run.
typedef struct kr__ops_chain_tally {
    int64_t steps, left, points, notifications;
} kr__ops_chain_tally;
// Trigger chains of one customer at the jobs' instant `at` (kr-ops-chains.c): enters the
// chains whose start fell on a local day from `lo` to today, then does every step due, each
// once, in the caller's transaction. `segments` and `tiers` are the customer's now (for the
// chains' audience). Adds to *t.
kr_ledger_status kr__ops_chains_customer(kr_ops *o, const kr_ledger_customer *c,
                                         const char *const *segments, size_t n_segments,
                                         const char *const *tiers, size_t n_tiers, int64_t at,
                                         int64_t lo, kr__ops_chain_tally *t);

// An ERP event `event` for `customer` at `at` (kr_ops_event, in its transaction): enters the
// chains it starts that the customer has not entered and whose audience admits `segments`
// (tiers are not looked at here: a chain limited to tiers is not entered by an event). Appends
// the ids of the chains entered to `entered` as JSON strings separated by commas.
kr_ledger_status kr__ops_chains_event(kr_ops *o, int64_t customer, const char *event,
                                      const char *const *segments, size_t n_segments,
                                      int64_t at, kr_buf *entered);

// Early access (kr-ops-early-access.c). Appends `,"early_access":[...]` to `out` — one entry
// per receipt line that an `<early-access>` rule keeps from `customer` (NULL: anonymous) at
// the receipt's time — and returns the index of the first such line, or -1 (nothing written).
int64_t kr__ops_early_access(kr_ops *o, const kr_engine_receipt *rc,
                             const kr_engine_customer *customer, kr_buf *out);
// OK when no line is kept from the customer; else REFUSED, answered in `out` with the field
// `lines[i]` of the first such line and the cashier's message. Reads only.
kr_ops_status kr__ops_early_access_refuse(kr_ops *o, const kr_engine_receipt *rc,
                                          const kr_engine_customer *customer, kr_buf *out);

// Sums a counter over a window at local day `day` (all-time: the period "all").
kr_ledger_status kr__ops_window_sum(kr_ops *o, int64_t customer, const char *metric, kr_window w,
                                    int64_t days, int64_t day, int64_t *out);

// The value of a ladder's metric for a customer at local day `day` (over the ladder's window,
// less the lines its <exclude> leaves out), and the tier it gives (index into ladder->tiers,
// -1 when below every threshold).
kr_ledger_status kr__ops_ladder_value(kr_ops *o, int64_t customer, const kr_ladder *l,
                                      int64_t day, int64_t *value);
int kr__ops_tier_for(const kr_ladder *l, int64_t value);
// The metric of the current period for a previous-period ladder (what decides the next
// period's tier); for other windows the same as kr__ops_ladder_value.
kr_ledger_status kr__ops_ladder_progress(kr_ops *o, int64_t customer, const kr_ladder *l,
                                         int64_t day, int64_t *value);
// The tier the counters alone give at `day` (no history, no floor): the tier of the metric;
// for a previous-period ladder with upgrade="immediate", the higher of that and the tier the
// current period already reaches (docs/rules-language.md, 3.3). -1: none.
kr_ledger_status kr__ops_ladder_earned(kr_ops *o, int64_t customer, const kr_ladder *l,
                                       int64_t day, int *tier);
// The counter that keeps what a ladder's <exclude> leaves out of `metric`:
// "<metric>-left-out:<ladder id>".
void kr__ops_left_out_metric(const char *metric, const char *ladder_id, char out[KR_LEDGER_ID_MAX]);

// ---- kr-ops-tiers.c: lines left out of ladders, operators' floors --------------------------
// The lines of an evaluated receipt that ladders with <exclude> leave out. Appends
// `,"not_counted":[{"ladder": ID, "lines": [line ids]}, ...]` to `json` (nothing when no line
// is left out). With `customer` (confirm), also adds their money (the lines' final amounts)
// to "paid-left-out:<ladder>", and 1 to "receipts-left-out:<ladder>" when every line is left
// out, for the local day `day` and "all".
kr_ledger_status kr__ops_left_out(kr_ops *o, const kr_receipt *r, const kr_engine_result *res,
                                  int64_t customer, int64_t day, kr_buf *json);
// A customer on one ladder (kr__ops_tier_view): the tier held, the metric, and the way to
// the next tier. The balance shows it as it is; a receipt's answer as it will be once the
// receipt is confirmed (docs/internals/ops.md, "Tiers").
typedef struct kr__ops_tier_view {
    int tier;            // index into l->tiers held now (-1: none)
    int64_t value;       // the metric over the ladder's window
    bool last_period;    // a previous-period ladder: `progress` is this period's metric
    int64_t progress;    // what the next tier is measured by (== value otherwise)
    int next;            // index of the next tier (-1: at the top)
    int64_t left;        // metric still needed for it (0 when reached, awaiting period end)
    int64_t period_ends; // the period's last local day (-1: the window never ends)
} kr__ops_tier_view;
// The customer's view of ladder `l` at `at`. `add` (NULL for the balance) is a receipt's
// contribution to the metric, not yet counted: it is added to this period's metric, and on
// a ladder with upgrade="immediate" the tier it reaches is taken at once — what confirm's
// upgrade writes. The tier held comes from the ledger's tier row (a run-out floor does not count),
// else from the counters. Reads only.
kr_ledger_status kr__ops_tier_view_get(kr_ops *o, int64_t customer, const kr_ladder *l,
                                       int64_t at, const int64_t *add, kr__ops_tier_view *v);
// Appends `,"value":...` (and `,"progress":...` for a previous-period ladder) and
// `,"next":{"tier","name","left","period_ends"}` (absent at the top) to `out`.
void kr__ops_tier_view_json(kr_ops *o, const kr_ladder *l, const kr__ops_tier_view *v,
                            kr_buf *out);
// A receipt's effect on the ladders of `customer` (> 0) whose `on[i]` is set (one flag per
// ladder of the program): appends `,"tiers":[{"ladder","tier_before","tier",value/progress/
// next}]` to `tiers` and, for ladders with a message, `{"ladder","to":"customer","text"}`
// objects (comma-separated, no brackets) to `messages`. `res` is the evaluated receipt
// (its money and the lines a ladder's <exclude> leaves out give its contribution). Reads
// only: calculate and confirm (before it records) write the same.
kr_ledger_status kr__ops_receipt_tiers(kr_ops *o, const kr_receipt *r,
                                       const kr_engine_result *res, int64_t customer,
                                       const bool *on, kr_buf *tiers, kr_buf *messages);
// Plain-text money ("1500.00") for a message: the answer's money without the quotes.
void kr__ops_money_text(kr_buf *tmp, int64_t minor, int minor_unit, char *out, size_t outsz);
// Adds deltas to a ladder's left-out counters of local day `day` and of "all" (returns and
// cancels pass negative deltas). Zero deltas are skipped.
kr_ledger_status kr__ops_left_out_add(kr_ops *o, int64_t customer, const char *ladder_id,
                                      int64_t day, int64_t paid, int64_t receipts);

// Adds a lot of points from `source` earned at `at`, with the program's hold and lifetime for
// that source. `op_id` names the operation. No-op for points <= 0.
kr_ledger_status kr__ops_add_points(kr_ops *o, int64_t customer, kr_source source,
                                    int64_t points, int64_t at, const char *op_id,
                                    int64_t *spendable_from);

// ---- kr-ops-certificates.c: gift certificates on receipts -------------------------------------
// What a receipt does with certificates, prepared before evaluation (owned arrays).
typedef struct kr__ops_certs {
    kr_engine_certificate pay[KR_ENGINE_MAX_CERTIFICATES]; // borrowed numbers (the receipt's)
    unsigned char *line;         // per line: 1 when it sells a certificate
    const kr_certificate **kind; // per line: the kind it sells (NULL: none; policy-owned)
} kr__ops_certs;
// Checks the receipt's certificates against the program and the ledger — lines that sell one
// (SKU of a kind, numbers carried one per unit and not sold before, sold at face value) and
// certificates paying (exist, not void, in date, something left, the amount asked for) — and
// points r->rc at them for the engine. Answers the error naming the field otherwise.
kr_ops_status kr__ops_certs_prepare(kr_ops *o, kr_receipt *r, kr__ops_certs *c, kr_buf *out);
void kr__ops_certs_free(kr__ops_certs *c);
// Inside the confirm transaction, after evaluation: takes from the paying certificates what
// o->result says (pays + forfeited), under the receipt id; issues the certificates the lines
// sell. Appends `,"certificates_issued":[...]` to `issued` when it issued any.
kr_ops_status kr__ops_certs_confirm(kr_ops *o, const kr_receipt *r, const kr__ops_certs *c,
                                    kr_buf *issued, kr_buf *out);
// A return of `units` units of line `line` of `receipt`: appends to *voids (malloc'd array of
// malloc'd numbers, *n_voids of them; the caller frees both) the gift certificates those units
// sold — the ones `named` (the return line's "certificates", NULL when absent), each sold on the
// line and not voided yet, exactly `units` of them; or, unnamed, every certificate of the line
// still valid when that is all the units left. A line that sold none adds nothing. INVALID or
// CONFLICT naming `field` otherwise (ambiguous, unknown, already returned).
kr_ops_status kr__ops_certs_returning(kr_ops *o, const char *receipt, const char *line,
                                      int64_t units, const json_t *named, const char *field,
                                      char ***voids, size_t *n_voids, kr_buf *out);
// Certificate money of returned units going back to one certificate.
typedef struct kr__ops_cert_back {
    const char *number; // borrowed
    int64_t amount;     // minor units, >= 0
} kr__ops_cert_back;
// Inside a return or cancel `op` of `receipt` (its stored answer): voids the certificates
// `voids` (kr__ops_certs_returning) — REFUSED, naming the certificate, if one was used — and
// gives the certificate money `backs` back (several entries of one number add up); `whole`:
// the receipt has now come back entirely, so everything it took from certificates goes back.
// Appends `,"certificates_voided":[...]` and `,"certificates_returned":[...]` to `note`.
kr_ops_status kr__ops_certs_undo(kr_ops *o, const char *receipt, json_t *answer, char *const *voids,
                                 size_t n_voids, const kr__ops_cert_back *backs, size_t n_backs,
                                 bool whole, const char *op, int64_t at, kr_buf *note, kr_buf *out);

// ---- kr-ops-triggers.c: triggers that fire on a receipt or a registration -------------------
// True when segment and tier filters (a trigger's, a chain's; an empty filter admits everyone)
// admit a customer with these segments and tiers: one of each that the filters name.
bool kr__ops_filters_admit(char *const *want_segments, size_t n_want_segments,
                           char *const *want_tiers, size_t n_want_tiers,
                           const char *const *segments, size_t n_segments,
                           const char *const *tiers, size_t n_tiers);
// kr__ops_filters_admit with a trigger's filters.
bool kr__ops_trigger_admits(const kr_trigger *t, const char *const *segments, size_t n_segments,
                            const char *const *tiers, size_t n_tiers);
// After a confirmed receipt of `customer` (inside the confirm transaction): referral points
// for the customer's referrer, challenge rewards. Appends `,"rewards":[...]` to `answer`
// (nothing when none fired). `paid` is the money paid after discounts.
kr_ledger_status kr__ops_receipt_triggers(kr_ops *o, int64_t customer,
                                          const kr_engine_customer *c, int64_t paid, int64_t at,
                                          const char *receipt_id, kr_buf *answer);
// A return or cancel of a receipt confirmed at `receipt_at` whose stored answer is `answer`:
// the challenges that counted it (its "challenges_counted"; older answers: by `paid_total`)
// stop counting it when the receipt comes back whole (`whole_after`) or its money after
// discounts falls from `paid_before` (before this return) to `paid_after` below the
// challenge's min-amount; a bonus the receipt completed is then taken back under `op`. A
// receipt leaves the count once: a later return finds paid_before below the amount already.
kr_ledger_status kr__ops_challenge_return(kr_ops *o, int64_t customer, const char *receipt_id,
                                          int64_t receipt_at, const json_t *answer,
                                          int64_t paid_total, int64_t paid_before,
                                          int64_t paid_after, bool whole_after, const char *op,
                                          int64_t at);
// After a new customer is created: registration triggers (welcome points, notification).
kr_ledger_status kr__ops_registration_triggers(kr_ops *o, int64_t customer,
                                               const char *const *segments, size_t n_segments,
                                               int64_t at);

// ---- kr-ops-club.c: paid club memberships (segments with join-sku and membership-days) -----
// The snapshot of a receipt that sells a join SKU: adds the paid segments it sells (unless the
// segment says join-receipt="guest") to `segments` (*n of max used; the default segments are
// replaced when `lc`, NULL for a new card, has no segment of its own at `at`).
void kr__ops_club_joining(const kr_ops *o, const kr_receipt *r, const kr_ledger_customer *lc,
                          int64_t at, const char **segments, size_t *n, size_t max);
// After a confirmed receipt (inside its transaction): joins or renews from the current end;
// appends `,"memberships":[...]` (what each line added) to `answer`, nothing when none.
kr_ledger_status kr__ops_club_join(kr_ops *o, const kr_receipt *r, int64_t customer,
                                   kr_buf *answer);
// The units of one receipt line a return takes back: `before` units had come back earlier,
// `after` have now, of `qty`.
typedef struct kr__ops_line_back {
    const char *id; // borrowed
    int64_t before, after, qty;
} kr__ops_line_back;
// A return or cancel of the units `lines` of a receipt whose stored answer is `answer`: takes
// the days those units added (one card's days per unit: days x after / qty - days x before /
// qty of the line's stored days) off the memberships' ends (ending them at `at` when nothing is
// left); appends `,"memberships":[...]` to `json`, nothing when no membership changed.
kr_ledger_status kr__ops_club_return(kr_ops *o, int64_t customer, const json_t *answer,
                                     const kr__ops_line_back *lines, size_t n_lines, int64_t at,
                                     kr_buf *json);
// After the ERP created or updated a customer: paid memberships without an end get
// membership-days from the day they were joined.
kr_ledger_status kr__ops_club_terms(kr_ops *o, int64_t customer);
// After an import: every paid membership without an end gets membership-days from the day it
// was joined (the import's customers, and any stored before memberships had ends).
kr_ledger_status kr__ops_club_terms_all(kr_ops *o);

// ---- kr-ops-guard.c: guessing protection for card numbers ----------------------------------
// Sets the source the next card lookups count against: "store:<store>" when the receipt names
// a store, else "channel:<channel>", else `fallback` ("any" when NULL).
void kr__ops_guard_source(kr_ops *o, const char *store, const char *channel, const char *fallback);
// Only requests that set a source take part (calculate, confirm, balance); kr__ops_guard_flush
// ends the request's part. Before a card lookup at `at`: REFUSED (answered, field
// "customer.card") while the source is locked out; OK otherwise.
kr_ops_status kr__ops_guard_check(kr_ops *o, int64_t at, kr_buf *out);
// A card number that is not known was tried at `at`: noted, recorded by kr__ops_guard_flush.
void kr__ops_guard_missed(kr_ops *o, int64_t at);
// After the request (outside its transaction, which may have been rolled back): records a
// noted miss. `st` is the request's status, returned unless recording the miss fails.
kr_ops_status kr__ops_guard_flush(kr_ops *o, kr_ops_status st, kr_buf *out);

// ---- kr-ops-sales.c: the sale facts reports read ---------------------------------------------
// Records a confirmed receipt's sale (where, who, totals, lines, applied promotions) inside the
// confirm transaction, after the receipt record. `customer` 0: anonymous.
kr_ledger_status kr__ops_sale_record(kr_ops *o, const kr_receipt *r, const kr_engine_result *res,
                                     int64_t customer, int64_t at);

#endif
