// SPDX-License-Identifier: MIT
// kr-engine.h: the evaluation engine — runs a compiled program (Lua 5.4, program-abi.md) in
// a sandboxed Lua state against one receipt and returns exact discounts, points and why.
//
// Table of contents
//   kr_engine_status     what every function returns; check it on the next line
//   kr_engine_limits     memory cap, instruction budget and its deadline
//   kr_engine_open/close one engine = one Lua state = one program; one per worker thread
//   kr_engine_receipt    the receipt, its lines, the customer snapshot (input, borrowed)
//   kr_engine_result     discounts, points and the explanation (output, owned by the result)
//   kr_engine_calculate  pure evaluation: writes nothing anywhere but the result
//   kr_engine_result_json the result as deterministic JSON text
//
// Ownership, once for the whole header: every pointer in an input struct is borrowed for the
// duration of the call and never kept. A kr_engine owns its Lua state and the program's
// metadata; strings a result points at (promotion ids, src, condition texts) are owned by the
// engine and stay valid until kr_engine_close. A kr_engine_result owns its arrays and message
// texts; it is reused across calls (arrays grow, never shrink) and freed by
// kr_engine_result_free. An engine is not thread-safe: use one per thread.
//
// Money is int64 minor units everywhere; percentages are basis points (1% = 100 bp).
#ifndef KR_ENGINE_H
#define KR_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum kr_engine_status {
    KR_ENGINE_OK = 0,
    KR_ENGINE_INVALID,  // bad argument or receipt; the message names the field
    KR_ENGINE_PROGRAM,  // the program failed to load or does not follow the ABI
    KR_ENGINE_RUNTIME,  // a Lua error while evaluating; the message names the promotion
    KR_ENGINE_BUDGET,   // the instruction budget of one evaluation ran out
    KR_ENGINE_MEMORY,   // the sandbox memory cap was hit (or malloc failed)
    KR_ENGINE_NOSPACE,  // the caller's buffer is too small (kr_engine_result_json)
} kr_engine_status;

// A short English name of a status ("ok", "budget", ...), static.
const char *kr_engine_status_name(kr_engine_status s);

// An evaluation runs without an instruction hook; one still running after `deadline_ms` gets
// the hook from the engine's watchdog thread (by a signal, KR__WATCH_SIGNAL in
// kr-engine-private.h: SIGRTMIN + 5, which the process must leave to the engine and not
// block in threads that evaluate), and from then on may run `instructions` more VM
// instructions before it stops with KR_ENGINE_BUDGET. Loading the chunk counts its budget from
// the start. docs/internals/engine.md "Sandbox" has the trade-off.
typedef struct kr_engine_limits {
    size_t memory_bytes;   // hard cap of the Lua heap, program included (0: 64 MiB)
    int64_t instructions;  // Lua VM instructions after the deadline (0: 10,000,000)
    int64_t deadline_ms;   // wall time before the budget counts (0: 20 ms)
} kr_engine_limits;

typedef struct kr_engine kr_engine;

// Loads the program text (Lua source only; bytecode is refused) named `name` (used in
// messages) into a fresh sandbox and reads its metadata. On failure *out is NULL and, when
// `err` is not NULL, a message is written there (always NUL-terminated). `limits` may be NULL.
kr_engine_status kr_engine_open(const char *lua_text, size_t len, const char *name,
                                const kr_engine_limits *limits, kr_engine **out, char *err,
                                size_t errsz);
void kr_engine_close(kr_engine *e); // NULL is fine

// Program metadata, valid while the engine is open.
const char *kr_engine_program_id(const kr_engine *e);
int64_t kr_engine_program_version(const kr_engine *e);
int kr_engine_minor_unit(const kr_engine *e);
size_t kr_engine_promotion_count(const kr_engine *e);

// ---- input -----------------------------------------------------------------------------------
typedef struct kr_engine_kv {
    const char *key, *value;
} kr_engine_kv;

typedef struct kr_engine_counter {
    const char *key; // "turnover:calendar-quarter", "receipts:calendar-month", ...
    int64_t value;   // money in minor units or a count, as the key says
} kr_engine_counter;

typedef struct kr_engine_line {
    const char *id;       // the ERP's line id, echoed in the result
    const char *sku;      // required
    const char *category; // may be NULL
    const char *brand;    // may be NULL
    const kr_engine_kv *attrs;
    size_t n_attrs;
    int64_t qty;    // whole units, >= 1
    int64_t price;  // unit price before loyalty, >= 0
    int64_t amount; // line amount before loyalty (usually qty * price), >= 0
} kr_engine_line;

// How a customer takes promotions with reward="choice".
typedef enum kr_engine_reward {
    KR_ENGINE_REWARD_DISCOUNT = 0, // money off the receipt (the default)
    KR_ENGINE_REWARD_POINTS,       // all as points
    KR_ENGINE_REWARD_SPLIT,        // `points_bp` of it as points, the rest as money off
} kr_engine_reward;

// What the ledger says is left of a promotion's limits (the caller reads them; the engine
// never stores). A promotion not listed has no limit. uses_left 0: "limit reached";
// budget_left: most money off it may still give (-1: unlimited).
typedef struct kr_engine_uses {
    const char *promotion;
    int64_t uses_left;   // -1: unlimited
    int64_t budget_left; // -1: unlimited
} kr_engine_uses;

typedef struct kr_engine_customer {
    const char *id;
    const char *const *segments;
    size_t n_segments;
    const char *const *tiers;
    size_t n_tiers;
    const char *const *lists;
    size_t n_lists;
    const kr_engine_kv *attrs;
    size_t n_attrs;
    bool first_purchase;                 // this receipt is the customer's first
    unsigned birth_month, birth_day;     // 0: unknown
    bool has_registered;
    int64_t registered;                  // Unix seconds
    const kr_engine_counter *counters;
    size_t n_counters;
    int64_t balance;                     // spendable points
} kr_engine_customer;

// A gift certificate the receipt is paid with (docs/formats.md "certificates"). The caller has
// checked it (exists, in date, not void); the engine only spreads its money (stage 3).
typedef struct kr_engine_certificate {
    const char *number;
    int64_t available; // most it may pay: its remaining value, or less when the till said so
    bool whole;        // partial="false": spent whole; what the receipt cannot take is forfeited
} kr_engine_certificate;

// Certificates one receipt may be paid with.
#define KR_ENGINE_MAX_CERTIFICATES 16

typedef struct kr_engine_receipt {
    const char *id;
    int64_t time; // Unix seconds; converted to the program's time zone
    const char *store, *region, *channel; // may be NULL
    const char *const *codes;             // batch ids of the valid codes on the receipt
    size_t n_codes;
    const kr_engine_line *lines;
    size_t n_lines; // 1 .. 10,000
    const kr_engine_customer *customer; // NULL: anonymous
    int64_t points_to_spend;            // points the customer wants to spend (0: none)
    // The customer's choice for promotions with reward="choice" (docs/formats.md "reward"):
    // it applies to `reward_promotion`, or to every such promotion when that is NULL.
    const char *reward_promotion;
    kr_engine_reward reward;
    uint32_t points_bp; // KR_ENGINE_REWARD_SPLIT: share taken as points, 0..10000
    const kr_engine_uses *uses;
    size_t n_uses;
    // Certificates paying for the receipt, in the order they are used (0..16).
    const kr_engine_certificate *certificates;
    size_t n_certificates;
    // Per line (NULL: none): nonzero for a line that sells a certificate, which certificates
    // cannot pay for (a certificate does not buy a certificate).
    const unsigned char *certificate_line;
} kr_engine_receipt;

// ---- result ----------------------------------------------------------------------------------
// Why a promotion did not apply.
typedef enum kr_engine_reason {
    KR_ENGINE_REASON_DISABLED = 1,  // enabled="false"
    KR_ENGINE_REASON_CONDITION,     // a condition failed: `condition`, `src` name it
    KR_ENGINE_REASON_GROUP,         // "not in group winner": `other` is the winner
    KR_ENGINE_REASON_STOPPED,       // "stopped by X": `other` is X
    KR_ENGINE_REASON_LIMIT,         // "limit reached" (uses or budget left is 0)
    KR_ENGINE_REASON_NOTHING,       // the conditions held but no line was affected
} kr_engine_reason;

typedef struct kr_engine_discount {
    size_t line;      // index into the receipt's lines
    size_t promotion; // index for kr_engine_promotion_id/_src
    int64_t amount;   // money off this line by this promotion (> 0)
} kr_engine_discount;

typedef struct kr_engine_fiscal {
    int64_t qty, price; // sub-line: qty units at price (sum qty*price = line final amount)
} kr_engine_fiscal;

typedef struct kr_engine_line_result {
    int64_t original;        // the input amount
    size_t first_discount;   // this line's discounts: result->discounts[first .. first + n)
    size_t n_discounts;
    int64_t final;           // original - discounts (before payment with points)
    int64_t max_points;      // most points payable on it (the receipt's most, spread)
    int64_t points_spent;    // points paying for it
    int64_t paid_points_money; // money paid by those points
    int64_t paid_certificates; // money paid by certificates (after points)
    int64_t paid_money;      // final - paid_points_money - paid_certificates
    int64_t points_earned;   // accrual + promotion points on this line
    kr_engine_fiscal fiscal[2]; // one or two sub-lines
    size_t n_fiscal;
} kr_engine_line_result;

typedef struct kr_engine_applied {
    size_t promotion;
    int64_t discount; // money off the receipt
    int64_t points;   // points earned by it (reward points/choice, points effects)
} kr_engine_applied;

typedef struct kr_engine_rejected {
    size_t promotion;
    kr_engine_reason reason;
    const char *condition; // REASON_CONDITION: the failing condition's text (engine-owned)
    const char *src;       // REASON_CONDITION: its src ("program.xml:41:9")
    size_t other;          // REASON_GROUP / REASON_STOPPED: the winner / the stopper
} kr_engine_rejected;

typedef struct kr_engine_message {
    size_t promotion;
    bool to_customer; // false: the cashier
    const char *text; // owned by the result
} kr_engine_message;

typedef struct kr_engine_result {
    kr_engine_line_result *lines;
    size_t n_lines;
    kr_engine_discount *discounts;
    size_t n_discounts;
    kr_engine_applied *applied; // evaluation order
    size_t n_applied;
    kr_engine_rejected *rejected; // evaluation order
    size_t n_rejected;
    kr_engine_message *messages;
    size_t n_messages;
    int64_t total_original, total_discount, total_final;
    int64_t max_points;     // most points payable (redemption rules and balance)
    int64_t points_spent;
    int64_t points_money;   // money paid by points
    int64_t certificate_money; // money paid by certificates
    int64_t to_pay;         // money the customer pays: final - points_money - certificate_money
    int64_t points_earned;  // accrual_points + all applied[].points
    int64_t accrual_points; // from the base accrual (with multipliers)
    // Per certificate of the receipt (same order): what it pays and, for a certificate spent
    // whole, the rest the receipt could not take (forfeited). certificate_split[i * n + k] is
    // what certificate k pays of line i (n = n_certificates).
    size_t n_certificates;
    int64_t certificate_pays[KR_ENGINE_MAX_CERTIFICATES];
    int64_t certificate_forfeited[KR_ENGINE_MAX_CERTIFICATES];
    int64_t *certificate_split;
    char error[512];        // on a failing status: what went wrong and where

    // private: capacities and the message text store
    size_t cap_lines, cap_discounts, cap_applied, cap_rejected, cap_messages, cap_split;
    char *text;
    size_t text_len, text_cap;
} kr_engine_result;

void kr_engine_result_init(kr_engine_result *r);
void kr_engine_result_free(kr_engine_result *r); // leaves an initialised, empty result

// Id, name and src of promotion `i` (< kr_engine_promotion_count), engine-owned.
const char *kr_engine_promotion_id(const kr_engine *e, size_t i);
// The word the answer's "rejected" gives a reason ("condition", "not in group winner" ...).
const char *kr_engine_reason_name(kr_engine_reason r);
const char *kr_engine_promotion_name(const kr_engine *e, size_t i);
const char *kr_engine_promotion_src(const kr_engine *e, size_t i);

// Evaluates the program against the receipt; see docs/internals/engine.md for the stages.
// Pure: writes nothing but `out`. On a failing status `out->error` says why (naming the
// promotion and its src when a promotion failed) and the other fields are unspecified; the
// engine stays usable for the next receipt.
kr_engine_status kr_engine_calculate(kr_engine *e, const kr_engine_receipt *rc,
                                     kr_engine_result *out);

// Writes `r` as one line of JSON (keys in a fixed order) into buf, NUL-terminated. On
// KR_ENGINE_NOSPACE nothing useful is in buf; *needed (if not NULL) is the size it takes.
kr_engine_status kr_engine_result_json(const kr_engine *e, const kr_engine_result *r,
                                       const kr_engine_receipt *rc, char *buf, size_t bufsz,
                                       size_t *needed);

#endif
