// SPDX-License-Identifier: MIT
// kr-money.h: exact money arithmetic — rounding, percents, allocation over lines, fiscal
// sub-lines, points — in int64 minor units, with no floating point (docs/internals/money.md).
//
// Table of contents
//   kr_money_status        what every computing function returns; check it on the next line
//   kr_money_rounding      HALF_UP, HALF_EVEN, DOWN, UP; parse/name of "half-up", ...
//   kr_money_round_div     num / den, rounded
//   kr_money_muldiv        a * b / den, rounded once (the product is exact, in 128 bits)
//   kr_money_percent       bp basis points of an amount, rounded
//   kr_money_allocate      a total over lines in proportion to weights, each within a cap
//   kr_money_allocate_floors   the same with per-line floors (cap = weight - floor)
//   kr_money_fiscal_split  a line amount as at most two sub-lines qty x whole unit price
//   kr_money_fiscal_split_milli   the same for quantities in thousandths (weighted goods)
//   kr_money_points        points earned on money paid at a rate, rounded once
//   kr_money_max_payable_points   the most points a receipt may be paid with
//
// Units: money is int64 minor units (kopecks); percents are basis points (1% = 100,
// 100% = 10000); points are whole points. Every product is formed in 128-bit integers, so
// the only overflow is a result that does not fit int64: that is KR_MONEY_EOVERFLOW.
// Nothing here allocates memory, keeps state or keeps a pointer after returning; all output
// goes to caller-provided storage, and on any status other than KR_MONEY_OK the outputs are
// left untouched. Every function is thread-safe (no global state).
#ifndef KR_MONEY_H
#define KR_MONEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum kr_money_status {
    KR_MONEY_OK = 0,
    KR_MONEY_EINVAL,    // an argument is out of its documented range (or a NULL pointer)
    KR_MONEY_EOVERFLOW, // the result (or a documented sum) does not fit int64
    KR_MONEY_ECAPACITY, // kr_money_allocate*: the total exceeds what the lines can take
} kr_money_status;

// A short name of a status ("ok", "einval", "eoverflow", "ecapacity"); static storage.
const char *kr_money_status_name(kr_money_status s);

// How an exact quotient that is not a whole number becomes one. DOWN is 0, so a zeroed
// field means "down" (the points default).
typedef enum kr_money_rounding {
    KR_MONEY_DOWN = 0,  // toward zero: 2.9 -> 2, -2.9 -> -2
    KR_MONEY_UP,        // away from zero: 2.1 -> 3, -2.1 -> -3
    KR_MONEY_HALF_UP,   // to nearest, .5 away from zero: 2.5 -> 3, -2.5 -> -3
    KR_MONEY_HALF_EVEN, // to nearest, .5 to the even neighbour: 2.5 -> 2, 3.5 -> 4, -2.5 -> -2
} kr_money_rounding;

// Parses the rules-language spelling ("half-up", "half-even", "down", "up"; exact,
// case-sensitive) into *out. Returns false (and leaves *out alone) for anything else or NULL.
bool kr_money_rounding_parse(const char *s, kr_money_rounding *out);
// The spelling of a mode ("half-up", ...), static; "?" for a value outside the enum.
const char *kr_money_rounding_name(kr_money_rounding mode);

// ---- rounding ------------------------------------------------------------------------------
// *out = num / den rounded by `mode`. Any signs; the rounding is symmetric about zero.
// EINVAL: den == 0, out NULL or mode outside the enum. EOVERFLOW: INT64_MIN / -1.
kr_money_status kr_money_round_div(int64_t num, int64_t den, kr_money_rounding mode,
                                   int64_t *out);

// *out = a * b / den rounded once by `mode`; a * b is exact (128 bits), so only a result
// outside int64 overflows. EINVAL: den == 0, out NULL, bad mode. EOVERFLOW: result.
kr_money_status kr_money_muldiv(int64_t a, int64_t b, int64_t den, kr_money_rounding mode,
                                int64_t *out);

// *out = amount * bp / 10000 rounded by `mode` ("10% of 1234.56": amount 123456, bp 1000,
// HALF_UP -> 12346). Any signs and any bp (150% is 15000). Errors as kr_money_muldiv.
kr_money_status kr_money_percent(int64_t amount, int64_t bp, kr_money_rounding mode,
                                 int64_t *out);

// ---- allocation ----------------------------------------------------------------------------
// Splits `total` over n lines in proportion to weight[i], line i taking at most cap[i]:
// out[i] >= 0, out[i] <= cap[i], out[i] == 0 when weight[i] == 0, and the out[i] sum to
// `total` exactly. The rule (docs/internals/money.md "Allocation"):
//   1. clamping: with T' and W' the total and the weight of the lines not yet clamped, a line
//      whose exact quota T' * w / W' exceeds its cap is clamped (gets its cap); repeat until
//      no quota exceeds its cap (the result is the unique fixed point);
//   2. largest remainder (Hamilton): each unclamped line gets floor(quota); the units left go
//      one each to the lines with the largest fractional remainder, ties to the larger
//      weight, then to the lower index.
// The result is a function of the lines as a set except for that last tie-break: reordering
// lines permutes the output, except among lines of equal weight, whose shares differ by at
// most 1 and go larger-first in index order. Every unclamped share is within 1 unit of its
// quota (floor or ceiling of it).
// Inputs: total >= 0; weight[i] >= 0; cap[i] >= 0 (any size: a cap may be in other units
// than the weights, e.g. whole points when weights are money). weight/cap may be NULL only
// when n == 0. out has n elements (caller-provided; may not alias weight or cap).
// Errors (out untouched): EINVAL for a negative total, weight or cap, or a NULL array;
// EOVERFLOW when the sum of the positive weights exceeds INT64_MAX (realistic receipts,
// 10,000 lines of 10^12, are far below); ECAPACITY when total exceeds the capacity, the
// sum of cap[i] over the lines with weight[i] > 0 (the caller decides, e.g. caps the total).
// Cost: O(n * (clamping rounds + 128)) time, typically a few rounds; no memory.
kr_money_status kr_money_allocate(int64_t total, const int64_t *weight, const int64_t *cap,
                                  size_t n, int64_t *out);

// kr_money_allocate with cap[i] = weight[i] - floor[i]: the line amounts weight[i] go down by
// out[i] to no less than floor[i]. Requires 0 <= floor[i] <= weight[i] (else EINVAL). The
// same rule, ties and errors; used for a receipt discount over line amounts and for points
// paid as payment.
kr_money_status kr_money_allocate_floors(int64_t total, const int64_t *weight,
                                         const int64_t *floor, size_t n, int64_t *out);

// ---- fiscal sub-lines ----------------------------------------------------------------------
// One printed fiscal sub-line: qty units at a whole unit price; amount = the money of it.
typedef struct kr_money_fiscal {
    int64_t qty;    // units (kr_money_fiscal_split) or thousandths (..._split_milli)
    int64_t price;  // unit price in minor units (per unit, or per 1000 thousandths)
    int64_t amount; // minor units; the amounts of the sub-lines sum to the line amount
} kr_money_fiscal;

// A line of `qty` whole units and final `amount` as sub-lines with whole unit prices:
// with p = amount / qty and r = amount % qty, out[0] = {qty - r, p, (qty - r) * p} and, when
// r > 0, out[1] = {r, p + 1, r * (p + 1)} (cheaper sub-line first). So *n_out is 1 or 2,
// the quantities sum to qty, the amounts to `amount`, and the prices differ by exactly 1.
// Example: 3 units for 10.00 -> 2 x 3.33 + 1 x 3.34. A price may be 0 (3 units for 0.02 ->
// 1 x 0.00 + 2 x 0.01). out has room for 2 (caller-provided).
// EINVAL: amount < 0, qty < 1, out or n_out NULL.
kr_money_status kr_money_fiscal_split(int64_t amount, int64_t qty, kr_money_fiscal out[2],
                                      size_t *n_out);

// A line of qty_milli thousandths of a unit (1.234 kg = 1234) and final `amount`:
// - qty_milli a multiple of 1000: kr_money_fiscal_split on the whole units, quantities
//   reported in thousandths (1 or 2 sub-lines, both exact);
// - otherwise one sub-line {qty_milli, p, amount} with p = amount * 1000 / qty_milli rounded
//   half-up, the price per whole unit closest to exact. *exact is true when
//   round_half_up(p * qty_milli / 1000) == amount, i.e. a register that multiplies gets the
//   amount: always when qty_milli < 1000. Otherwise |p * qty_milli / 1000 - amount| <=
//   qty_milli / 2000 minor units (exact rational), and the amount is printed as given.
// `exact` may be NULL. EINVAL: amount < 0, qty_milli < 1, out or n_out NULL.
// EOVERFLOW: a price that does not fit int64 (amount > INT64_MAX / 1000 with a tiny qty).
kr_money_status kr_money_fiscal_split_milli(int64_t amount, int64_t qty_milli,
                                            kr_money_fiscal out[2], size_t *n_out,
                                            bool *exact);

// ---- points --------------------------------------------------------------------------------
// Points earned: *out = amount_paid * rate_bp / 10000 / point_value, rounded ONCE by `mode`
// from the exact quotient (no intermediate rounding of the money). Points rounding in the
// rules language is DOWN (default), HALF_UP or UP; HALF_EVEN is accepted too. A negative
// amount (a return) gives points rounded symmetrically (DOWN: -61.7 -> -61).
// EINVAL: rate_bp < 0, point_value < 1, out NULL, bad mode. EOVERFLOW: result.
kr_money_status kr_money_points(int64_t amount_paid, int64_t rate_bp, int64_t point_value,
                                kr_money_rounding mode, int64_t *out);

// The redemption rule of a program.
typedef struct kr_money_redemption {
    int64_t max_share_bp; // at most this share of the eligible amount is paid, 0..10000
    int64_t point_value;  // minor units one point pays, >= 1
    int64_t step;         // points are spent in multiples of this, >= 1
    int64_t min_balance;  // no points are spent while the balance is below this, >= 0
} kr_money_redemption;

// The most points the receipt may be paid with:
//   E      = sum of eligible[i] (each >= 0: the amounts of the lines points may pay for)
//   share  = floor(E * max_share_bp / (10000 * point_value))  money never above the share
//   whole  = sum of floor(eligible[i] / point_value)           each line takes whole points
//   wallet = balance if balance >= min_balance, else 0 (a negative balance gives 0)
//   *out   = min(share, whole, wallet) rounded down to a multiple of step (>= 0)
// So *out * point_value <= E * max_share_bp / 10000, and kr_money_allocate(*out, eligible,
// {eligible[i] / point_value}, ...) always succeeds (it spreads the points over the lines).
// eligible may be NULL when n == 0. EINVAL: a negative eligible amount, rule fields out of
// range, rule or out NULL. EOVERFLOW: E exceeds INT64_MAX.
kr_money_status kr_money_max_payable_points(const int64_t *eligible, size_t n,
                                            const kr_money_redemption *rule, int64_t balance,
                                            int64_t *out);

#endif
