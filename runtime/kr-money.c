// SPDX-License-Identifier: MIT
// kr-money.c: exact money arithmetic over 128-bit intermediates (kr-money.h, money.md).
#include "kr-money.h"

#include <string.h>

// 128-bit integers (GCC and Clang). Products of two int64 are below 2^126 in magnitude.
__extension__ typedef __int128 i128;

#define I64_MAX ((i128)INT64_MAX)
#define I64_MIN ((i128)INT64_MIN)

const char *kr_money_status_name(kr_money_status s)
{
    switch (s) {
    case KR_MONEY_OK:
        return "ok";
    case KR_MONEY_EINVAL:
        return "einval";
    case KR_MONEY_EOVERFLOW:
        return "eoverflow";
    case KR_MONEY_ECAPACITY:
        return "ecapacity";
    }
    return "?";
}

static const struct {
    kr_money_rounding mode;
    const char *name;
} rounding_names[] = {
    {KR_MONEY_DOWN, "down"},
    {KR_MONEY_UP, "up"},
    {KR_MONEY_HALF_UP, "half-up"},
    {KR_MONEY_HALF_EVEN, "half-even"},
};

bool kr_money_rounding_parse(const char *s, kr_money_rounding *out)
{
    if (!s || !out)
        return false;
    for (size_t i = 0; i < sizeof rounding_names / sizeof rounding_names[0]; i++) {
        if (strcmp(s, rounding_names[i].name) == 0) {
            *out = rounding_names[i].mode;
            return true;
        }
    }
    return false;
}

const char *kr_money_rounding_name(kr_money_rounding mode)
{
    for (size_t i = 0; i < sizeof rounding_names / sizeof rounding_names[0]; i++)
        if (rounding_names[i].mode == mode)
            return rounding_names[i].name;
    return "?";
}

static bool mode_ok(kr_money_rounding mode)
{
    return mode == KR_MONEY_DOWN || mode == KR_MONEY_UP || mode == KR_MONEY_HALF_UP ||
           mode == KR_MONEY_HALF_EVEN;
}

static i128 abs128(i128 v) { return v < 0 ? -v : v; }

// num / den rounded by mode. den != 0; |num| < 2^126 and |den| < 2^125, so 2 * |num % den|
// cannot overflow.
static i128 round_div128(i128 num, i128 den, kr_money_rounding mode)
{
    i128 q, r; // C truncates toward zero; r has the sign of num
    if (num >= I64_MIN && num <= I64_MAX && den >= I64_MIN && den <= I64_MAX &&
        !(num == I64_MIN && den == -1)) { // the usual case, without a 128-bit division call
        q = (int64_t)num / (int64_t)den;
        r = (int64_t)num % (int64_t)den;
    } else {
        q = num / den;
        r = num % den;
    }
    if (r == 0)
        return q;
    i128 away = (num < 0) != (den < 0) ? -1 : 1; // one step away from zero
    switch (mode) {
    case KR_MONEY_DOWN:
        return q;
    case KR_MONEY_UP:
        return q + away;
    case KR_MONEY_HALF_UP:
    case KR_MONEY_HALF_EVEN: {
        i128 twice = 2 * abs128(r), d = abs128(den);
        if (twice != d)
            return twice > d ? q + away : q;
        if (mode == KR_MONEY_HALF_UP)
            return q + away;
        return q % 2 == 0 ? q : q + away;
    }
    }
    return q; // not reached: callers check mode_ok
}

// *out = v when it fits int64.
static kr_money_status fit64(i128 v, int64_t *out)
{
    if (v > I64_MAX || v < I64_MIN)
        return KR_MONEY_EOVERFLOW;
    *out = (int64_t)v;
    return KR_MONEY_OK;
}

// *out = a * b, or false on int64 overflow.
static bool mul64(int64_t a, int64_t b, int64_t *out) { return !__builtin_mul_overflow(a, b, out); }

// ---- rounding ------------------------------------------------------------------------------
kr_money_status kr_money_round_div(int64_t num, int64_t den, kr_money_rounding mode,
                                   int64_t *out)
{
    if (den == 0 || !out || !mode_ok(mode))
        return KR_MONEY_EINVAL;
    return fit64(round_div128(num, den, mode), out);
}

kr_money_status kr_money_muldiv(int64_t a, int64_t b, int64_t den, kr_money_rounding mode,
                                int64_t *out)
{
    if (den == 0 || !out || !mode_ok(mode))
        return KR_MONEY_EINVAL;
    return fit64(round_div128((i128)a * b, den, mode), out);
}

kr_money_status kr_money_percent(int64_t amount, int64_t bp, kr_money_rounding mode,
                                 int64_t *out)
{
    return kr_money_muldiv(amount, bp, 10000, mode, out);
}

// ---- allocation ----------------------------------------------------------------------------
// The lines as given: cap[i] directly, or weight[i] - floor[i].
typedef struct alloc_in {
    const int64_t *w;
    const int64_t *x; // cap, or floor when `floors`
    bool floors;
} alloc_in;

static int64_t cap_of(const alloc_in *a, size_t i)
{
    return a->floors ? a->w[i] - a->x[i] : a->x[i];
}

// Is line i clamped when the unclamped lines share t over weight ws? Its quota t * w / ws
// exceeds its cap. t, ws, cap and w are all in [0, INT64_MAX]: products stay below 2^126.
static bool is_clamped(const alloc_in *a, size_t i, i128 t, i128 ws)
{
    int64_t w = a->w[i];
    return w > 0 && (i128)cap_of(a, i) * ws < t * w;
}

// The fractional remainder of an unclamped line, as a numerator over ws (0 <= r < ws), from
// the floor of its quota in out[i]; -1 for lines that take no extra unit (weight 0, clamped).
static int64_t remainder_of(const alloc_in *a, size_t i, i128 t, i128 ws, const int64_t *out)
{
    int64_t w = a->w[i];
    if (w == 0 || is_clamped(a, i, t, ws))
        return -1;
    return (int64_t)(t * w - (i128)out[i] * ws);
}

// Lines with remainder >= r_min, or (when `w_min` > 0) with remainder == r_min and weight
// >= w_min.
static int64_t count_rank(const alloc_in *a, size_t n, i128 t, i128 ws, const int64_t *out,
                          int64_t r_min, int64_t w_min)
{
    int64_t c = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t r = remainder_of(a, i, t, ws, out);
        if (w_min == 0 ? r >= r_min : (r == r_min && a->w[i] >= w_min))
            c++;
    }
    return c;
}

// Receipts with at most this many lines take the direct path of step 3.
#define KR_MONEY_SMALL 64

// The general path below for the common case, in int64 arithmetic: at most KR_MONEY_SMALL
// lines, total and the sum of the weights below 2^31. A cap above total never clamps (its quota
// t * w / ws <= total <= cap), so min(cap, total) stands for it and every product stays below
// 2^62. Same steps, same keys, same order of ties: the same result (checked against the
// general path on random inputs when this was written).
static void allocate_narrow(int64_t total, const alloc_in *a, size_t n, int64_t wsum, int64_t *out)
{
    int64_t cap[KR_MONEY_SMALL], rem[KR_MONEY_SMALL];
    bool clamped[KR_MONEY_SMALL];
    for (size_t i = 0; i < n; i++) {
        int64_t x = cap_of(a, i);
        cap[i] = x < total ? x : total;
        clamped[i] = false;
    }
    // 1. Clamping until the clamped set stops growing.
    int64_t t = total, ws = wsum;
    for (;;) {
        int64_t nt = total, nws = wsum;
        for (size_t i = 0; i < n; i++) {
            int64_t w = a->w[i];
            clamped[i] = w > 0 && cap[i] * ws < t * w;
            if (clamped[i]) {
                nt -= cap[i];
                nws -= w;
            }
        }
        if (nt == t && nws == ws)
            break;
        t = nt;
        ws = nws;
    }
    // 2. Floors of the quotas; clamped lines get their caps.
    int64_t given = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t w = a->w[i];
        if (w == 0) {
            out[i] = 0;
            rem[i] = -1;
        } else if (clamped[i]) {
            out[i] = cap[i];
            rem[i] = -1;
        } else {
            int64_t q = t * w;
            out[i] = q / ws;
            rem[i] = q - out[i] * ws;
        }
        given += out[i];
    }
    // 3. The k largest (remainder, weight, -index) keys take one unit each.
    for (int64_t k = total - given; k > 0; k--) {
        size_t best = n;
        for (size_t i = 0; i < n; i++) {
            if (rem[i] < 0)
                continue;
            if (best == n || rem[i] > rem[best] || (rem[i] == rem[best] && a->w[i] > a->w[best]))
                best = i;
        }
        out[best]++;
        rem[best] = -1;
    }
}

static kr_money_status allocate(int64_t total, const alloc_in *a, size_t n, int64_t *out)
{
    if (total < 0 || (n > 0 && (!a->w || !a->x || !out)))
        return KR_MONEY_EINVAL;
    i128 wsum = 0, capsum = 0;
    size_t n_positive = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t w = a->w[i], x = a->x[i];
        if (w < 0 || x < 0 || (a->floors && x > w))
            return KR_MONEY_EINVAL;
        if (w > 0) {
            wsum += w;
            capsum += cap_of(a, i);
            n_positive++;
        }
    }
    if (wsum > I64_MAX)
        return KR_MONEY_EOVERFLOW;
    if (total > capsum)
        return KR_MONEY_ECAPACITY;
    if (wsum == 0) { // then total == 0
        for (size_t i = 0; i < n; i++)
            out[i] = 0;
        return KR_MONEY_OK;
    }
    // Fast paths, each the only answer the contract allows (the shares sum to total, none
    // exceeds its cap, a line of weight 0 takes nothing), so the same as the general path:
    // nothing to give; everything the lines can take; one line of positive weight.
    if (total == 0 || total == capsum || n_positive == 1) {
        for (size_t i = 0; i < n; i++)
            out[i] = a->w[i] == 0 ? 0 : total == 0 ? 0 : total == capsum ? cap_of(a, i) : total;
        return KR_MONEY_OK;
    }
    if (n <= KR_MONEY_SMALL && total <= INT32_MAX && wsum <= INT32_MAX) {
        allocate_narrow(total, a, n, (int64_t)wsum, out);
        return KR_MONEY_OK;
    }

    // 1. Clamping. The clamped set only grows from round to round (clamping a line whose
    // quota exceeds its cap raises everyone else's quota), so it is recomputed from scratch
    // with the current (t, ws) until it stops changing: at most n + 1 rounds. Since total <=
    // capacity, some line always stays unclamped, so ws > 0.
    i128 t = total, ws = wsum;
    for (;;) {
        i128 nt = total, nws = wsum;
        for (size_t i = 0; i < n; i++) {
            if (is_clamped(a, i, t, ws)) {
                nt -= cap_of(a, i);
                nws -= a->w[i];
            }
        }
        if (nt == t && nws == ws)
            break;
        t = nt;
        ws = nws;
    }

    // 2. Floors of the quotas; clamped lines get their caps.
    int64_t given = 0; // <= total
    for (size_t i = 0; i < n; i++) {
        int64_t w = a->w[i];
        if (w == 0)
            out[i] = 0;
        else if (is_clamped(a, i, t, ws))
            out[i] = cap_of(a, i);
        else
            out[i] = (int64_t)(t * w / ws);
        given += out[i];
    }
    int64_t k = total - given; // units left; fewer than the lines with a remainder > 0
    if (k == 0)
        return KR_MONEY_OK;

    // 3. The k largest (remainder, weight, -index) keys take one unit each. Receipts are
    // short: up to KR_MONEY_SMALL lines the keys are computed once into the stack and the k
    // largest picked directly (the result is the same as the general path below).
    if (n <= KR_MONEY_SMALL) {
        int64_t rem[KR_MONEY_SMALL];
        for (size_t i = 0; i < n; i++)
            rem[i] = remainder_of(a, i, t, ws, out);
        for (int64_t taken = 0; taken < k; taken++) {
            size_t best = n;
            for (size_t i = 0; i < n; i++) {
                if (rem[i] < 0)
                    continue;
                if (best == n || rem[i] > rem[best] ||
                    (rem[i] == rem[best] && a->w[i] > a->w[best]))
                    best = i;
            }
            out[best]++;
            rem[best] = -1; // each line takes at most one unit
        }
        return KR_MONEY_OK;
    }
    // Longer receipts: without memory for sorting, find the threshold remainder r* (the k-th largest) by bisection, then the
    // threshold weight w* among lines with remainder r*, then take lines in index order.
    int64_t lo = 1, hi = (int64_t)ws - 1; // remainders of receiving lines are in [1, ws - 1]
    while (lo < hi) {
        int64_t mid = lo + (hi - lo + 1) / 2;
        if (count_rank(a, n, t, ws, out, mid, 0) >= k)
            lo = mid;
        else
            hi = mid - 1;
    }
    int64_t r_star = lo;
    int64_t need = k - count_rank(a, n, t, ws, out, r_star + 1, 0); // >= 1, from r == r*
    int64_t w_hi = 1;
    for (size_t i = 0; i < n; i++)
        if (remainder_of(a, i, t, ws, out) == r_star && a->w[i] > w_hi)
            w_hi = a->w[i];
    lo = 1;
    hi = w_hi;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo + 1) / 2;
        if (count_rank(a, n, t, ws, out, r_star, mid) >= need)
            lo = mid;
        else
            hi = mid - 1;
    }
    int64_t w_star = lo;
    int64_t need_at_w =
        need - (w_star < INT64_MAX ? count_rank(a, n, t, ws, out, r_star, w_star + 1) : 0);
    for (size_t i = 0; i < n; i++) {
        int64_t r = remainder_of(a, i, t, ws, out), w = a->w[i];
        bool take = r > r_star || (r == r_star && w > w_star);
        if (!take && r == r_star && w == w_star && need_at_w > 0) {
            take = true;
            need_at_w--;
        }
        if (take)
            out[i]++;
    }
    return KR_MONEY_OK;
}

kr_money_status kr_money_allocate(int64_t total, const int64_t *weight, const int64_t *cap,
                                  size_t n, int64_t *out)
{
    alloc_in a = {weight, cap, false};
    return allocate(total, &a, n, out);
}

kr_money_status kr_money_allocate_floors(int64_t total, const int64_t *weight,
                                         const int64_t *floor, size_t n, int64_t *out)
{
    alloc_in a = {weight, floor, true};
    return allocate(total, &a, n, out);
}

// ---- fiscal sub-lines ----------------------------------------------------------------------
kr_money_status kr_money_fiscal_split(int64_t amount, int64_t qty, kr_money_fiscal out[2],
                                      size_t *n_out)
{
    if (amount < 0 || qty < 1 || !out || !n_out)
        return KR_MONEY_EINVAL;
    int64_t p = amount / qty, r = amount % qty;
    // r * (p + 1) <= amount because qty > r: it cannot overflow; checked all the same.
    int64_t upper = 0;
    if (r > 0 && !mul64(r, p + 1, &upper))
        return KR_MONEY_EOVERFLOW;
    out[0] = (kr_money_fiscal){qty - r, p, amount - upper};
    if (r == 0) {
        *n_out = 1;
        return KR_MONEY_OK;
    }
    out[1] = (kr_money_fiscal){r, p + 1, upper};
    *n_out = 2;
    return KR_MONEY_OK;
}

kr_money_status kr_money_fiscal_split_milli(int64_t amount, int64_t qty_milli,
                                            kr_money_fiscal out[2], size_t *n_out,
                                            bool *exact)
{
    if (amount < 0 || qty_milli < 1 || !out || !n_out)
        return KR_MONEY_EINVAL;
    if (qty_milli % 1000 == 0) {
        kr_money_fiscal f[2];
        size_t nf;
        kr_money_status st = kr_money_fiscal_split(amount, qty_milli / 1000, f, &nf);
        if (st != KR_MONEY_OK)
            return st;
        for (size_t i = 0; i < nf; i++)
            if (!mul64(f[i].qty, 1000, &f[i].qty)) // <= qty_milli: cannot overflow
                return KR_MONEY_EOVERFLOW;
        memcpy(out, f, nf * sizeof f[0]);
        *n_out = nf;
        if (exact)
            *exact = true;
        return KR_MONEY_OK;
    }
    int64_t p;
    kr_money_status st = fit64(round_div128((i128)amount * 1000, qty_milli, KR_MONEY_HALF_UP), &p);
    if (st != KR_MONEY_OK)
        return st;
    out[0] = (kr_money_fiscal){qty_milli, p, amount};
    *n_out = 1;
    if (exact)
        *exact = round_div128((i128)p * qty_milli, 1000, KR_MONEY_HALF_UP) == amount;
    return KR_MONEY_OK;
}

// ---- points --------------------------------------------------------------------------------
kr_money_status kr_money_points(int64_t amount_paid, int64_t rate_bp, int64_t point_value,
                                kr_money_rounding mode, int64_t *out)
{
    if (rate_bp < 0 || point_value < 1 || !out || !mode_ok(mode))
        return KR_MONEY_EINVAL;
    // One rounding of amount * rate / (10000 * value): |num| < 2^126, den < 2^77.
    return fit64(round_div128((i128)amount_paid * rate_bp, (i128)10000 * point_value, mode),
                 out);
}

kr_money_status kr_money_max_payable_points(const int64_t *eligible, size_t n,
                                            const kr_money_redemption *rule, int64_t balance,
                                            int64_t *out)
{
    if (!rule || !out || (n > 0 && !eligible))
        return KR_MONEY_EINVAL;
    if (rule->max_share_bp < 0 || rule->max_share_bp > 10000 || rule->point_value < 1 ||
        rule->step < 1 || rule->min_balance < 0)
        return KR_MONEY_EINVAL;
    i128 sum = 0, whole = 0;
    for (size_t i = 0; i < n; i++) {
        if (eligible[i] < 0)
            return KR_MONEY_EINVAL;
        sum += eligible[i];
        whole += eligible[i] / rule->point_value;
    }
    if (sum > I64_MAX)
        return KR_MONEY_EOVERFLOW;
    // Rounded down: the money paid never exceeds the share. sum * bp < 2^77.
    i128 share = sum * rule->max_share_bp / ((i128)10000 * rule->point_value);
    i128 wallet = balance >= rule->min_balance && balance > 0 ? balance : 0;
    i128 m = share < whole ? share : whole;
    if (wallet < m)
        m = wallet;
    m -= m % rule->step;
    *out = (int64_t)m; // <= wallet <= INT64_MAX
    return KR_MONEY_OK;
}
