// SPDX-License-Identifier: MIT
// test-money.c: hand-computed tables and seeded property tests of kr-money (TAP output).
#include "kr-money.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__extension__ typedef __int128 i128;

// ---- TAP -----------------------------------------------------------------------------------
static int n_run, n_failed;

__attribute__((format(printf, 2, 3))) static void check(bool cond, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    n_run++;
    if (!cond)
        n_failed++;
    printf("%s %d - ", cond ? "ok" : "not ok", n_run);
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
}

__attribute__((format(printf, 1, 2))) static void diag(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("# ");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
}

// ---- deterministic PRNG (xorshift64*) ------------------------------------------------------
typedef struct rng {
    uint64_t s;
} rng;

static rng rng_seed(uint64_t seed)
{
    rng r = {seed * UINT64_C(0x9E3779B97F4A7C15) + UINT64_C(0x2545F4914F6CDD1D)};
    if (r.s == 0)
        r.s = 1;
    return r;
}

static uint64_t rnd(rng *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * UINT64_C(0x2545F4914F6CDD1D);
}

// Uniform-enough integer in [lo, hi] (hi - lo < 2^63).
static int64_t rnd_in(rng *r, int64_t lo, int64_t hi)
{
    uint64_t span = (uint64_t)(hi - lo) + 1;
    return lo + (int64_t)(rnd(r) % span);
}

static const char *M(kr_money_rounding m) { return kr_money_rounding_name(m); }
static const char *S(kr_money_status s) { return kr_money_status_name(s); }

enum { DOWN = KR_MONEY_DOWN, UP = KR_MONEY_UP, HUP = KR_MONEY_HALF_UP, HEVEN = KR_MONEY_HALF_EVEN };
enum { OK = KR_MONEY_OK, EINVAL = KR_MONEY_EINVAL, EOVER = KR_MONEY_EOVERFLOW,
       ECAP = KR_MONEY_ECAPACITY };

// ---- rounding, muldiv, percent -------------------------------------------------------------
static void test_names(void)
{
    kr_money_rounding m = KR_MONEY_UP;
    bool all = true;
    const char *names[] = {"down", "up", "half-up", "half-even"};
    const kr_money_rounding modes[] = {KR_MONEY_DOWN, KR_MONEY_UP, KR_MONEY_HALF_UP,
                                       KR_MONEY_HALF_EVEN};
    for (size_t i = 0; i < 4; i++) {
        all = all && kr_money_rounding_parse(names[i], &m) && m == modes[i] &&
              strcmp(kr_money_rounding_name(modes[i]), names[i]) == 0;
    }
    check(all, "rounding names parse and print: down, up, half-up, half-even");
    m = KR_MONEY_UP;
    bool refused = !kr_money_rounding_parse("HALF-UP", &m) && !kr_money_rounding_parse("", &m) &&
                   !kr_money_rounding_parse("half_up", &m) && !kr_money_rounding_parse(NULL, &m) &&
                   m == KR_MONEY_UP;
    check(refused, "rounding parse refuses HALF-UP, half_up, \"\", NULL and leaves *out");
    check(strcmp(S(KR_MONEY_ECAPACITY), "ecapacity") == 0 && strcmp(S(KR_MONEY_OK), "ok") == 0,
          "status names");
}

typedef struct div_case {
    int64_t num, den;
    int mode;
    int st;
    int64_t want;
} div_case;

static void test_round_div(void)
{
    static const div_case cases[] = {
        // 3.5 and 2.5: the four modes differ on ties
        {7, 2, HUP, OK, 4}, {7, 2, HEVEN, OK, 4}, {7, 2, DOWN, OK, 3}, {7, 2, UP, OK, 4},
        {5, 2, HUP, OK, 3}, {5, 2, HEVEN, OK, 2}, {5, 2, DOWN, OK, 2}, {5, 2, UP, OK, 3},
        // negatives are symmetric about zero
        {-5, 2, HUP, OK, -3}, {-5, 2, HEVEN, OK, -2}, {-5, 2, DOWN, OK, -2}, {-5, 2, UP, OK, -3},
        {-7, 2, HUP, OK, -4}, {-7, 2, HEVEN, OK, -4}, {-7, 2, DOWN, OK, -3}, {-7, 2, UP, OK, -4},
        {7, -2, HUP, OK, -4}, {7, -2, DOWN, OK, -3}, {-7, -2, HUP, OK, 4}, {-7, -2, DOWN, OK, 3},
        {-7, -2, HEVEN, OK, 4}, {-5, -2, HEVEN, OK, 2},
        // thirds: below, above a half
        {1, 3, HUP, OK, 0}, {1, 3, HEVEN, OK, 0}, {1, 3, DOWN, OK, 0}, {1, 3, UP, OK, 1},
        {2, 3, HUP, OK, 1}, {2, 3, HEVEN, OK, 1}, {2, 3, DOWN, OK, 0}, {2, 3, UP, OK, 1},
        {-1, 3, UP, OK, -1}, {-1, 3, HUP, OK, 0}, {-2, 3, HUP, OK, -1}, {-2, 3, DOWN, OK, 0},
        // exact quotients are never moved
        {6, 3, UP, OK, 2}, {-6, 3, UP, OK, -2}, {0, 5, UP, OK, 0}, {0, -5, HUP, OK, 0},
        // half-even on tenths
        {15, 10, HEVEN, OK, 2}, {25, 10, HEVEN, OK, 2}, {35, 10, HEVEN, OK, 4},
        {-25, 10, HEVEN, OK, -2}, {-35, 10, HEVEN, OK, -4}, {26, 10, HEVEN, OK, 3},
        // 10% of 1234.56 = 123456 * 1000 / 10000 = 12345.6
        {123456000, 10000, HUP, OK, 12346}, {123456000, 10000, DOWN, OK, 12345},
        // int64 edges
        {INT64_MAX, 1, HUP, OK, INT64_MAX}, {INT64_MIN, 1, DOWN, OK, INT64_MIN},
        {INT64_MAX, 2, HUP, OK, INT64_C(4611686018427387904)},
        {INT64_MAX, 2, HEVEN, OK, INT64_C(4611686018427387904)},
        {INT64_MAX, 2, DOWN, OK, INT64_C(4611686018427387903)},
        {INT64_MIN, 2, UP, OK, INT64_C(-4611686018427387904)},
        {INT64_MIN, INT64_MIN, HUP, OK, 1}, {INT64_MAX, INT64_MIN, HUP, OK, -1},
        {INT64_MIN, -1, DOWN, EOVER, 0}, {5, 0, HUP, EINVAL, 0}, {5, 2, 17, EINVAL, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const div_case *c = &cases[i];
        int64_t got = -999;
        kr_money_status st = kr_money_round_div(c->num, c->den, (kr_money_rounding)c->mode, &got);
        bool good = (int)st == c->st && (st != KR_MONEY_OK || got == c->want) &&
                    (st == KR_MONEY_OK || got == -999);
        check(good, "round_div %" PRId64 " / %" PRId64 " %s = %s %" PRId64, c->num, c->den,
              M((kr_money_rounding)c->mode), S((kr_money_status)c->st), c->want);
        if (!good)
            diag("got %s %" PRId64, S(st), got);
    }
    check(kr_money_round_div(1, 1, KR_MONEY_UP, NULL) == KR_MONEY_EINVAL, "round_div NULL out");
}

typedef struct muldiv_case {
    int64_t a, b, den;
    int mode, st;
    int64_t want;
} muldiv_case;

static void test_muldiv_percent(void)
{
    static const muldiv_case md[] = {
        // a product far beyond int64 divided back into range
        {INT64_MAX, INT64_MAX, INT64_MAX, DOWN, OK, INT64_MAX},
        {INT64_MAX, 3, 6, HUP, OK, INT64_C(4611686018427387904)},
        {INT64_MIN, INT64_MIN, INT64_MIN, HUP, OK, INT64_MIN},
        {INT64_MAX, 2, 1, DOWN, EOVER, 0},
        {1000000000000, 1000000, 3, HUP, OK, INT64_C(333333333333333333)},
        {10, 1, 0, DOWN, EINVAL, 0},
    };
    for (size_t i = 0; i < sizeof md / sizeof md[0]; i++) {
        const muldiv_case *c = &md[i];
        int64_t got = -999;
        kr_money_status st =
            kr_money_muldiv(c->a, c->b, c->den, (kr_money_rounding)c->mode, &got);
        bool good = (int)st == c->st && (st != KR_MONEY_OK ? got == -999 : got == c->want);
        check(good, "muldiv %" PRId64 " * %" PRId64 " / %" PRId64 " %s = %s %" PRId64, c->a,
              c->b, c->den, M((kr_money_rounding)c->mode), S((kr_money_status)c->st), c->want);
        if (!good)
            diag("got %s %" PRId64, S(st), got);
    }
    typedef struct {
        int64_t amount, bp;
        int mode;
        int64_t want;
    } pc;
    static const pc cases[] = {
        {123456, 1000, HUP, 12346},  // 10% of 1234.56 = 123.456 -> 123.46
        {123456, 1000, DOWN, 12345}, //                          -> 123.45
        {123456, 1000, HEVEN, 12346},
        {100, 3333, HUP, 33},        // 33.33% of 1.00
        {1999, 1500, HUP, 300},      // 15% of 19.99 = 2.9985
        {1999, 1500, DOWN, 299},
        {1000, 1250, HUP, 125},      // 12.5% of 10.00, exact
        {4, 1250, HUP, 1},           // 0.5 -> 1
        {4, 1250, HEVEN, 0},         // 0.5 -> 0
        {4, 1250, UP, 1},
        {12, 1250, HEVEN, 2},        // 1.5 -> 2
        {-1005, 1000, HUP, -101},    // a return: -100.5 -> -101
        {-1005, 1000, HEVEN, -100},
        {1000, 15000, DOWN, 1500},   // 150%
        {1000, 0, UP, 0},
        {1000, 10000, UP, 1000},     // 100%
        {1, 1, UP, 1},               // 0.0001 up -> 1
        {1, 1, HUP, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const pc *c = &cases[i];
        int64_t got = -999;
        kr_money_status st = kr_money_percent(c->amount, c->bp, (kr_money_rounding)c->mode, &got);
        check(st == KR_MONEY_OK && got == c->want,
              "percent %" PRId64 " bp of %" PRId64 " %s = %" PRId64, c->bp, c->amount,
              M((kr_money_rounding)c->mode), c->want);
        if (st != KR_MONEY_OK || got != c->want)
            diag("got %s %" PRId64, S(st), got);
    }
}

// Every rounding mode against its definition, on random operands: e = num - q * den is the
// error; DOWN keeps q * den between 0 and num, UP goes past num, the halves keep 2|e| <= |den|
// and break ties away from zero / to even.
static void prop_round_div(void)
{
    rng r = rng_seed(11);
    long bad = 0;
    const long N = 100000;
    for (long k = 0; k < N; k++) {
        int64_t num, den;
        switch (k % 4) {
        case 0:
            num = rnd_in(&r, -1000, 1000);
            den = rnd_in(&r, -20, 20);
            break;
        case 1:
            num = (int64_t)rnd(&r);
            den = (int64_t)rnd(&r) >> rnd_in(&r, 0, 62);
            break;
        case 2: // exact halves
            den = 2 * rnd_in(&r, 1, 1000000) * (rnd(&r) & 1 ? 1 : -1);
            num = rnd_in(&r, -1000000, 1000000) * den + den / 2 * (rnd(&r) & 1 ? 1 : -1);
            break;
        default:
            num = (int64_t)rnd(&r);
            den = rnd_in(&r, -100, 100);
            break;
        }
        if (den == 0)
            den = 7;
        for (int mode = 0; mode < 4; mode++) {
            int64_t q;
            kr_money_status st = kr_money_round_div(num, den, (kr_money_rounding)mode, &q);
            if (num == INT64_MIN && den == -1) {
                bad += st != KR_MONEY_EOVERFLOW;
                continue;
            }
            if (st != KR_MONEY_OK) {
                bad++;
                continue;
            }
            i128 e = (i128)num - (i128)q * den, ae = e < 0 ? -e : e;
            i128 ad = den < 0 ? -(i128)den : den;
            i128 qd = (i128)q * den, an = num < 0 ? -(i128)num : num;
            i128 aqd = qd < 0 ? -qd : qd;
            bool same_side = (qd == 0) || ((qd < 0) == (num < 0));
            bool good;
            switch (mode) {
            case DOWN:
                good = ae < ad && aqd <= an && same_side;
                break;
            case UP:
                good = ae < ad && aqd >= an && (same_side || num == 0);
                break;
            case HUP:
                good = 2 * ae <= ad && (2 * ae != ad || aqd > an);
                break;
            default:
                good = 2 * ae <= ad && (2 * ae != ad || q % 2 == 0);
                break;
            }
            if (!good && bad++ == 0)
                diag("first failure: %" PRId64 " / %" PRId64 " %s -> %" PRId64, num, den,
                     M((kr_money_rounding)mode), q);
        }
    }
    check(bad == 0, "round_div property: 4 modes x %ld random quotients obey their definition",
          N);
}

// ---- points --------------------------------------------------------------------------------
static void test_points(void)
{
    typedef struct {
        int64_t amount, rate, pv;
        int mode, st;
        int64_t want;
    } ptc;
    static const ptc cases[] = {
        // 5% of 1234.56 at 1 point = 1.00: 61.728 points
        {123456, 500, 100, DOWN, OK, 61}, {123456, 500, 100, HUP, OK, 62},
        {123456, 500, 100, UP, OK, 62},
        // 5% of 10.00 at 1.00: 0.5 points
        {1000, 500, 100, DOWN, OK, 0}, {1000, 500, 100, HUP, OK, 1}, {1000, 500, 100, UP, OK, 1},
        {1000, 500, 100, HEVEN, OK, 0},
        // exact: 5% of 2000.00 = 100 points in every mode
        {200000, 500, 100, DOWN, OK, 100}, {200000, 500, 100, UP, OK, 100},
        // one rounding: 2.5% of 17.80 = 44.5 kopecks = 4.45 points at 0.10 -> 4 (rounding the
        // money first, 44.5 -> 45 kopecks, would give 4.5 -> 5)
        {1780, 250, 10, HUP, OK, 4},
        // a return: -61.728
        {-123456, 500, 100, DOWN, OK, -61}, {-123456, 500, 100, UP, OK, -62},
        {-123456, 500, 100, HUP, OK, -62},
        // 100 points per ruble spent (rate 10000 bp at point value 0.01)
        {12345, 10000, 1, DOWN, OK, 12345},
        // huge intermediate product: 9.2e18 * 1e6 bp
        {INT64_MAX, 1000000, INT64_C(1000000000000), DOWN, OK, INT64_C(922337203)},
        {INT64_MAX, 20000, 1, DOWN, EOVER, 0},
        {100, -1, 1, DOWN, EINVAL, 0}, {100, 100, 0, DOWN, EINVAL, 0},
        {100, 100, 1, 9, EINVAL, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const ptc *c = &cases[i];
        int64_t got = -999;
        kr_money_status st =
            kr_money_points(c->amount, c->rate, c->pv, (kr_money_rounding)c->mode, &got);
        bool good = (int)st == c->st && (st != KR_MONEY_OK ? got == -999 : got == c->want);
        check(good, "points %" PRId64 " at %" PRId64 " bp, point %" PRId64 " %s = %s %" PRId64,
              c->amount, c->rate, c->pv, M((kr_money_rounding)c->mode),
              S((kr_money_status)c->st), c->want);
        if (!good)
            diag("got %s %" PRId64, S(st), got);
    }
    // DOWN and UP bracket the exact value: q * 10000 * pv <= a * rate < (q + 1) * 10000 * pv.
    rng r = rng_seed(5);
    long bad = 0;
    for (long k = 0; k < 100000; k++) {
        int64_t a = rnd_in(&r, 0, INT64_C(1000000000000)), rate = rnd_in(&r, 0, 100000);
        int64_t pv = rnd_in(&r, 1, 10000);
        int64_t lo, hi;
        if (kr_money_points(a, rate, pv, KR_MONEY_DOWN, &lo) != KR_MONEY_OK ||
            kr_money_points(a, rate, pv, KR_MONEY_UP, &hi) != KR_MONEY_OK) {
            bad++;
            continue;
        }
        i128 num = (i128)a * rate, den = (i128)10000 * pv;
        bool exact = num % den == 0;
        if (!((i128)lo * den <= num && num < (i128)(lo + 1) * den && hi == lo + (exact ? 0 : 1)))
            bad++;
    }
    check(bad == 0, "points property: DOWN/UP bracket the exact quotient (100000 cases)");
}

// ---- fiscal split --------------------------------------------------------------------------
typedef struct fiscal_case {
    int64_t amount, qty;
    size_t n;
    kr_money_fiscal f[2];
} fiscal_case;

static bool fiscal_eq(const kr_money_fiscal *a, const kr_money_fiscal *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i].qty != b[i].qty || a[i].price != b[i].price || a[i].amount != b[i].amount)
            return false;
    return true;
}

static void test_fiscal(void)
{
    static const fiscal_case cases[] = {
        {1000, 3, 2, {{2, 333, 666}, {1, 334, 334}}}, // 3 for 10.00: 2 x 3.33 + 1 x 3.34
        {1000, 4, 1, {{4, 250, 1000}}},
        {10, 3, 2, {{2, 3, 6}, {1, 4, 4}}},
        {2, 3, 2, {{1, 0, 0}, {2, 1, 2}}}, // a zero price is allowed
        {0, 5, 1, {{5, 0, 0}}},
        {99999, 1, 1, {{1, 99999, 99999}}},
        {1, 10000, 2, {{9999, 0, 0}, {1, 1, 1}}},
        {14999, 7, 2, {{2, 2142, 4284}, {5, 2143, 10715}}}, // 14999 = 7 * 2142 + 5
        {INT64_MAX, 2, 2, {{1, INT64_C(4611686018427387903), INT64_C(4611686018427387903)},
                           {1, INT64_C(4611686018427387904), INT64_C(4611686018427387904)}}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const fiscal_case *c = &cases[i];
        kr_money_fiscal f[2] = {{-1, -1, -1}, {-1, -1, -1}};
        size_t n = 99;
        kr_money_status st = kr_money_fiscal_split(c->amount, c->qty, f, &n);
        bool good = st == KR_MONEY_OK && n == c->n && fiscal_eq(f, c->f, n);
        check(good, "fiscal %" PRId64 " units for %" PRId64 " -> %zu sub-line(s), %" PRId64
                    " x %" PRId64 " first",
              c->qty, c->amount, c->n, c->f[0].qty, c->f[0].price);
        if (!good)
            diag("got %s n=%zu {%" PRId64 ",%" PRId64 ",%" PRId64 "} {%" PRId64 ",%" PRId64
                 ",%" PRId64 "}",
                 S(st), n, f[0].qty, f[0].price, f[0].amount, f[1].qty, f[1].price,
                 f[1].amount);
    }
    kr_money_fiscal f[2];
    size_t n = 99;
    check(kr_money_fiscal_split(-1, 3, f, &n) == KR_MONEY_EINVAL &&
              kr_money_fiscal_split(100, 0, f, &n) == KR_MONEY_EINVAL &&
              kr_money_fiscal_split(100, -2, f, &n) == KR_MONEY_EINVAL &&
              kr_money_fiscal_split(100, 3, NULL, &n) == KR_MONEY_EINVAL &&
              kr_money_fiscal_split(100, 3, f, NULL) == KR_MONEY_EINVAL && n == 99,
          "fiscal refuses a negative amount, qty < 1 and NULL outputs");

    typedef struct {
        int64_t amount, qty_milli;
        size_t n;
        bool exact;
        kr_money_fiscal f[2];
    } mc;
    static const mc milli[] = {
        // 1.234 kg for 123.45: 123450 / 1.234 = 10004.05 -> 100.04 per kg; 10004 * 1.234 =
        // 12344.936 -> 12345: exact
        {12345, 1234, 1, true, {{1234, 10004, 12345}}},
        {101, 500, 1, true, {{500, 202, 101}}},     // 0.5 kg for 1.01: 2.02 per kg
        {1001, 2500, 1, false, {{2500, 400, 1001}}}, // 2.5 kg for 10.01: 4.004 -> 4.00; 10.00
        {1003, 2500, 1, true, {{2500, 401, 1003}}},  // 401.2 -> 401; 401 * 2.5 = 1002.5 -> 1003
        {1000, 1500, 1, false, {{1500, 667, 1000}}}, // 666.67 -> 667 (1000.5), not 666 (999)
        {1000, 3000, 2, true, {{2000, 333, 666}, {1000, 334, 334}}}, // whole units
        {5, 1, 1, true, {{1, 5000, 5}}},             // 1 g for 0.05: 50.00 per kg
        {0, 777, 1, true, {{777, 0, 0}}},
        {333, 999, 1, true, {{999, 333, 333}}},      // 333.333 -> 333; 332.667 -> 333
    };
    for (size_t i = 0; i < sizeof milli / sizeof milli[0]; i++) {
        const mc *c = &milli[i];
        kr_money_fiscal g[2] = {{-1, -1, -1}, {-1, -1, -1}};
        size_t ng = 99;
        bool exact = !c->exact;
        kr_money_status st = kr_money_fiscal_split_milli(c->amount, c->qty_milli, g, &ng, &exact);
        bool good = st == KR_MONEY_OK && ng == c->n && exact == c->exact && fiscal_eq(g, c->f, ng);
        check(good, "fiscal milli %" PRId64 "/1000 for %" PRId64 " -> %zu sub-line(s) at %" PRId64
                    ", %s",
              c->qty_milli, c->amount, c->n, c->f[0].price, c->exact ? "exact" : "amount as given");
        if (!good)
            diag("got %s n=%zu exact=%d {%" PRId64 ",%" PRId64 ",%" PRId64 "}", S(st), ng,
                 (int)exact, g[0].qty, g[0].price, g[0].amount);
    }
    check(kr_money_fiscal_split_milli(INT64_MAX, 1, f, &n, NULL) == KR_MONEY_EOVERFLOW &&
              kr_money_fiscal_split_milli(5, 0, f, &n, NULL) == KR_MONEY_EINVAL &&
              kr_money_fiscal_split_milli(-5, 10, f, &n, NULL) == KR_MONEY_EINVAL,
          "fiscal milli: price overflow, qty 0 and negative amount refused");
}

static void prop_fiscal(void)
{
    rng r = rng_seed(3);
    long bad = 0;
    const long N = 100000;
    for (long k = 0; k < N; k++) {
        int64_t amount, qty;
        if (k % 10 == 0) {
            amount = rnd_in(&r, INT64_MAX - 1000000, INT64_MAX);
            qty = rnd_in(&r, 1, INT64_C(1000000000000));
        } else {
            amount = rnd_in(&r, 0, INT64_C(1000000000000) >> rnd_in(&r, 0, 40));
            qty = rnd_in(&r, 1, 1000000 >> rnd_in(&r, 0, 19));
        }
        kr_money_fiscal f[2];
        size_t n = 0;
        if (kr_money_fiscal_split(amount, qty, f, &n) != KR_MONEY_OK || n < 1 || n > 2) {
            bad++;
            continue;
        }
        i128 q = 0, a = 0;
        bool good = true;
        for (size_t i = 0; i < n; i++) {
            q += f[i].qty;
            a += (i128)f[i].qty * f[i].price;
            good = good && f[i].qty >= 1 && f[i].price >= 0 &&
                   (i128)f[i].qty * f[i].price == f[i].amount;
        }
        good = good && q == qty && a == amount && f[0].price == amount / qty &&
               (n == 1 || f[1].price == f[0].price + 1) && (n == 2) == (amount % qty != 0);
        if (!good && bad++ == 0)
            diag("first failure: %" PRId64 " for %" PRId64, amount, qty);
    }
    check(bad == 0, "fiscal property: qty and amount sum exactly, <= 2 sub-lines, prices differ "
                    "by 1 (%ld cases)",
          N);

    bad = 0;
    for (long k = 0; k < N; k++) {
        int64_t amount = rnd_in(&r, 0, INT64_C(10000000000) >> rnd_in(&r, 0, 30));
        int64_t qm = rnd_in(&r, 1, 1000000 >> rnd_in(&r, 0, 19));
        if (k % 7 == 0)
            qm = 1000 * rnd_in(&r, 1, 50);
        kr_money_fiscal f[2];
        size_t n = 0;
        bool exact = false;
        if (kr_money_fiscal_split_milli(amount, qm, f, &n, &exact) != KR_MONEY_OK) {
            bad++;
            continue;
        }
        bool good;
        if (qm % 1000 == 0) {
            good = exact && (n == 1 ? f[0].qty == qm && (i128)f[0].price * (qm / 1000) == amount
                                    : n == 2 && f[0].qty + f[1].qty == qm &&
                                          f[0].qty % 1000 == 0 && f[1].qty % 1000 == 0 &&
                                          f[1].price == f[0].price + 1 &&
                                          f[0].amount + f[1].amount == amount);
        } else {
            // nearest whole price: 2 |p q - 1000 A| <= q, and the flag says whether a register
            // multiplying (rounding half up) gets the amount back
            i128 err = (i128)f[0].price * qm - (i128)amount * 1000;
            i128 aerr = err < 0 ? -err : err;
            i128 back = ((i128)f[0].price * qm + 500) / 1000;
            good = n == 1 && f[0].qty == qm && f[0].amount == amount && 2 * aerr <= qm &&
                   exact == (back == amount) && (qm > 1000 || exact);
        }
        if (!good && bad++ == 0)
            diag("first failure: %" PRId64 " for %" PRId64 "/1000", amount, qm);
    }
    check(bad == 0, "fiscal milli property: nearest price, exact flag true, whole units split "
                    "(%ld cases)",
          N);
}

// ---- max payable points --------------------------------------------------------------------
static void test_max_points(void)
{
    typedef struct {
        const char *what;
        int64_t e[4];
        size_t n;
        kr_money_redemption rule; // share bp, point value, step, min balance
        int64_t balance;
        int st;
        int64_t want;
    } mp;
    static const mp cases[] = {
        {"50% of 1000.00 at 1.00 a point", {50000, 30000, 20000}, 3, {5000, 100, 1, 0}, 10000,
         OK, 500},
        {"limited by the balance", {50000, 30000, 20000}, 3, {5000, 100, 1, 0}, 321, OK, 321},
        {"balance in steps of 10", {50000, 30000, 20000}, 3, {5000, 100, 10, 0}, 321, OK, 320},
        {"balance below min_balance", {50000, 30000, 20000}, 3, {5000, 100, 1, 500}, 321, OK, 0},
        {"balance exactly min_balance", {50000, 30000, 20000}, 3, {5000, 100, 1, 321}, 321, OK,
         321},
        {"whole points per line: 1.50 + 1.50 take 2 points, not 3", {150, 150}, 2,
         {10000, 100, 1, 0}, 1000, OK, 2},
        {"share rounded down: 999.99 * 33.33% / 0.07 = 4761.38 -> 4760 in steps of 5", {99999},
         1, {3333, 7, 5, 0}, 1000000, OK, 4760},
        {"negative balance", {50000}, 1, {5000, 100, 1, 0}, -40, OK, 0},
        {"no share", {50000}, 1, {0, 100, 1, 0}, 1000, OK, 0},
        {"no eligible lines", {0}, 0, {5000, 100, 1, 0}, 1000, OK, 0},
        {"step larger than what is allowed", {50000}, 1, {5000, 100, 300, 0}, 1000, OK, 0},
        {"point 0.01: 30% of 123.45 = 3703.5 -> 3703", {12345}, 1, {3000, 1, 1, 0}, 99999, OK,
         3703},
        {"share over 100%", {100}, 1, {10001, 1, 1, 0}, 10, EINVAL, 0},
        {"point value 0", {100}, 1, {5000, 0, 1, 0}, 10, EINVAL, 0},
        {"step 0", {100}, 1, {5000, 1, 0, 0}, 10, EINVAL, 0},
        {"negative line", {100, -1}, 2, {5000, 1, 1, 0}, 10, EINVAL, 0},
        {"negative min balance", {100}, 1, {5000, 1, 1, -1}, 10, EINVAL, 0},
        {"eligible sum overflows", {INT64_MAX, 1}, 2, {5000, 1, 1, 0}, 10, EOVER, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const mp *c = &cases[i];
        int64_t got = -999;
        kr_money_status st = kr_money_max_payable_points(c->e, c->n, &c->rule, c->balance, &got);
        bool good = (int)st == c->st && (st != KR_MONEY_OK ? got == -999 : got == c->want);
        check(good, "max payable points: %s = %s %" PRId64, c->what, S((kr_money_status)c->st),
              c->want);
        if (!good)
            diag("got %s %" PRId64, S(st), got);
    }
}

// ---- allocation ----------------------------------------------------------------------------
// An independent reference: clamping by sweeping the lines in order of cap/weight, then the
// largest remainders by qsort on (remainder desc, weight desc, index asc).
typedef struct ref_key {
    i128 r;
    int64_t w;
    size_t i;
} ref_key;

static int ref_cmp(const void *pa, const void *pb)
{
    const ref_key *a = pa, *b = pb;
    if (a->r != b->r)
        return a->r > b->r ? -1 : 1;
    if (a->w != b->w)
        return a->w > b->w ? -1 : 1;
    return a->i < b->i ? -1 : a->i > b->i;
}

static const int64_t *ratio_w, *ratio_c;

static int ratio_cmp(const void *pa, const void *pb)
{
    size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
    i128 l = (i128)ratio_c[a] * ratio_w[b], r = (i128)ratio_c[b] * ratio_w[a];
    return l < r ? -1 : l > r;
}

static kr_money_status ref_allocate(int64_t total, const int64_t *w, const int64_t *cap,
                                    size_t n, int64_t *out)
{
    i128 ws = 0, room = 0;
    size_t *ord = malloc((n + 1) * sizeof *ord);
    ref_key *keys = malloc((n + 1) * sizeof *keys);
    bool *clamped = calloc(n + 1, sizeof *clamped);
    if (!ord || !keys || !clamped)
        abort();
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (w[i] > 0) {
            ws += w[i];
            room += cap[i];
            ord[m++] = i;
        }
    }
    kr_money_status st = KR_MONEY_OK;
    if (total > room) {
        st = KR_MONEY_ECAPACITY;
        goto done;
    }
    ratio_w = w;
    ratio_c = cap;
    qsort(ord, m, sizeof *ord, ratio_cmp);
    i128 t = total;
    for (size_t j = 0; j < m && ws > 0; j++) {
        size_t i = ord[j];
        if (!((i128)cap[i] * ws < t * w[i]))
            break;
        clamped[i] = true;
        t -= cap[i];
        ws -= w[i];
    }
    i128 left = total;
    size_t nk = 0;
    for (size_t i = 0; i < n; i++) {
        if (w[i] == 0) {
            out[i] = 0;
        } else if (clamped[i]) {
            out[i] = cap[i];
        } else {
            out[i] = (int64_t)(t * w[i] / ws);
            keys[nk++] = (ref_key){t * w[i] % ws, w[i], i};
        }
        left -= out[i];
    }
    qsort(keys, nk, sizeof *keys, ref_cmp);
    for (size_t j = 0; j < (size_t)left; j++)
        out[keys[j].i]++;
done:
    free(ord);
    free(keys);
    free(clamped);
    return st;
}

typedef struct alloc_case {
    const char *what;
    int64_t total;
    size_t n;
    int64_t w[6];
    int64_t x[6]; // cap, or floor when `floors`
    bool floors;
    int st;
    int64_t want[6];
} alloc_case;

static void test_allocate_examples(void)
{
    static const alloc_case cases[] = {
        {"1.00 over three equal lines: 34 33 33 (index breaks the tie)", 100, 3,
         {100, 100, 100}, {0, 0, 0}, true, OK, {34, 33, 33}},
        {"2 over three equal lines: 1 1 0", 2, 3, {5, 5, 5}, {0, 0, 0}, true, OK, {1, 1, 0}},
        {"1000 over 3333/3333/3334: remainders .3 .3 .4 -> 333 333 334", 1000, 3,
         {3333, 3333, 3334}, {0, 0, 0}, true, OK, {333, 333, 334}},
        {"equal remainders, larger weight first: 2 over 1/4/1 -> 0 2 0", 2, 3, {1, 4, 1},
         {1, 4, 1}, false, OK, {0, 2, 0}},
        {"500.00 over 1234.56/99.90/15.00 -> 45743 3701 556", 50000, 3, {123456, 9990, 1500},
         {0, 0, 0}, true, OK, {45743, 3701, 556}},
        {"same with a floor of 14.50 on the third line -> 46211 3739 50", 50000, 3,
         {123456, 9990, 1500}, {0, 0, 1450}, true, OK, {46211, 3739, 50}},
        {"floor forces redistribution: 1000 over 1000(floor 900)/1000/2000 -> 100 300 600",
         1000, 3, {1000, 1000, 2000}, {900, 0, 0}, true, OK, {100, 300, 600}},
        {"redistribution with remainders: 301 over 500(floor 450)/300/200 -> 50 151 100", 301, 3,
         {500, 300, 200}, {450, 0, 0}, true, OK, {50, 151, 100}},
        {"cascade: 33 over 10/10/10 with caps 1/12/100 -> 1 12 20", 33, 3, {10, 10, 10},
         {1, 12, 100}, false, OK, {1, 12, 20}},
        {"exactly the capacity: 70 over caps 50/20 -> 50 20", 70, 2, {100, 100}, {50, 80}, true,
         OK, {50, 20}},
        {"over the capacity: 71 over caps 50/20", 71, 2, {100, 100}, {50, 80}, true, ECAP, {0}},
        {"weight 0 takes nothing: 10 over 0/5/5 -> 0 5 5", 10, 3, {0, 5, 5}, {0, 0, 0}, true, OK,
         {0, 5, 5}},
        {"weight 0 with a cap adds no capacity: 11 over 0/5/5", 11, 3, {0, 5, 5}, {100, 5, 5},
         false, ECAP, {0}},
        {"zero total -> zeros", 0, 3, {7, 0, 9}, {7, 0, 9}, false, OK, {0, 0, 0}},
        {"all weights 0 and total 0", 0, 2, {0, 0}, {0, 0}, true, OK, {0, 0}},
        {"all weights 0 and total 1", 1, 2, {0, 0}, {0, 0}, true, ECAP, {0}},
        {"points as payment: 3 points over 1.50/2.50/0.99 at 1.00 (caps 1/2/0) -> 1 2 0", 3, 3,
         {150, 250, 99}, {1, 2, 0}, false, OK, {1, 2, 0}},
        {"points: 2 over 150/250/99 caps 1/2/0 -> 1 1 0", 2, 3, {150, 250, 99}, {1, 2, 0}, false,
         OK, {1, 1, 0}},
        {"negative total", -1, 1, {5}, {5}, false, EINVAL, {0}},
        {"negative weight", 1, 2, {5, -5}, {5, 5}, false, EINVAL, {0}},
        {"negative cap", 1, 1, {5}, {-1}, false, EINVAL, {0}},
        {"floor above the weight", 1, 1, {5}, {6}, true, EINVAL, {0}},
        {"weights sum past INT64_MAX", 1, 2, {INT64_MAX, 1}, {1, 1}, false, EOVER, {0}},
        {"one line takes everything up to its cap", INT64_MAX, 1, {1}, {INT64_MAX}, false, OK,
         {INT64_MAX}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const alloc_case *k = &cases[c];
        int64_t out[6] = {-7, -7, -7, -7, -7, -7};
        kr_money_status st = k->floors ? kr_money_allocate_floors(k->total, k->w, k->x, k->n, out)
                                       : kr_money_allocate(k->total, k->w, k->x, k->n, out);
        bool good = (int)st == k->st;
        for (size_t i = 0; i < k->n; i++)
            good = good && out[i] == (st == KR_MONEY_OK ? k->want[i] : -7);
        check(good, "allocate: %s%s", k->what, k->st == OK ? "" : k->st == ECAP ? " -> ecapacity"
                                                          : k->st == EOVER ? " -> eoverflow"
                                                                           : " -> einval");
        if (!good)
            diag("got %s: %" PRId64 " %" PRId64 " %" PRId64, S(st), out[0], out[1], out[2]);
    }
    int64_t one = 1, o = -7;
    check(kr_money_allocate(0, NULL, NULL, 0, NULL) == KR_MONEY_OK &&
              kr_money_allocate(1, NULL, NULL, 0, NULL) == KR_MONEY_ECAPACITY &&
              kr_money_allocate(1, NULL, &one, 1, &o) == KR_MONEY_EINVAL &&
              kr_money_allocate(1, &one, NULL, 1, &o) == KR_MONEY_EINVAL &&
              kr_money_allocate(1, &one, &one, 1, NULL) == KR_MONEY_EINVAL && o == -7,
          "allocate: no lines, NULL arrays");
}

// A random allocation problem: n lines, weights of one of several scales (small scales give
// many ties and zeros), caps equal to / below / independent of / points of the weights, and a
// total mostly within the capacity.
typedef struct problem {
    size_t n;
    int64_t total;
    int64_t *w, *cap, *floor;
    bool floor_ok; // cap <= w everywhere, so floors = w - cap is a valid floors form
    i128 capacity;
} problem;

static void gen_problem(rng *r, problem *p, size_t max_n)
{
    p->n = (size_t)rnd_in(r, 1, rnd_in(r, 0, 9) == 0 ? (int64_t)max_n : 12);
    static const int64_t scales[] = {3, 100, 1000000, INT64_C(1000000000000)};
    int64_t scale = scales[rnd_in(r, 0, 3)];
    int cap_kind = (int)rnd_in(r, 0, 3);
    int64_t pv = rnd_in(r, 1, 500);
    p->capacity = 0;
    p->floor_ok = true;
    for (size_t i = 0; i < p->n; i++) {
        int64_t w = rnd_in(r, 0, 5) == 0 ? 0 : rnd_in(r, 0, scale);
        int64_t c;
        switch (cap_kind) {
        case 0:
            c = w;
            break;
        case 1:
            c = rnd_in(r, 0, 1) ? w : rnd_in(r, 0, w);
            break;
        case 2:
            c = rnd_in(r, 0, 2 * scale);
            break;
        default:
            c = w / pv;
            break;
        }
        p->w[i] = w;
        p->cap[i] = c;
        p->floor_ok = p->floor_ok && c <= w;
        p->floor[i] = c <= w ? w - c : 0;
        if (w > 0)
            p->capacity += c;
    }
    int64_t room = p->capacity > INT64_MAX ? INT64_MAX : (int64_t)p->capacity;
    switch (rnd_in(r, 0, 19)) {
    case 0:
        p->total = room;
        break;
    case 1:
        p->total = room < INT64_MAX ? room + rnd_in(r, 1, 10) : room;
        break;
    case 2:
        p->total = 0;
        break;
    case 3:
        p->total = rnd_in(r, 0, room < 10 ? room : 10);
        break;
    default:
        p->total = rnd_in(r, 0, room);
        break;
    }
}

enum { P_STATUS, P_SUM, P_BOUNDS, P_DETERMINISTIC, P_REFERENCE, P_PERMUTATION, P_QUOTA,
       P_FLOORS, P_COUNT };

static void prop_allocate(void)
{
    enum { MAXN = 64 };
    int64_t w[MAXN], cap[MAXN], fl[MAXN], out[MAXN], again[MAXN], ref[MAXN];
    int64_t pw[MAXN], pc[MAXN], pout[MAXN];
    size_t perm[MAXN];
    long bad[P_COUNT] = {0}, quota_cases = 0, perm_cases = 0, floor_cases = 0;
    const char *names[P_COUNT] = {
        "status is ok iff total <= capacity, else ecapacity with out untouched",
        "shares sum to the total exactly",
        "0 <= share <= cap, weight 0 -> 0",
        "deterministic: the same input twice gives the same output",
        "equal to an independent sort-based reference implementation",
        "reordering lines permutes the shares (exactly for distinct weights; as a multiset)",
        "without clamping every share is within 1 unit of its exact quota",
        "the floors form equals the cap form with cap = weight - floor",
    };
    const long N = 100000;
    for (long k = 0; k < N; k++) {
        rng r = rng_seed((uint64_t)k + 1000);
        problem p = {.w = w, .cap = cap, .floor = fl};
        gen_problem(&r, &p, MAXN);
        size_t n = p.n;
        bool fail[P_COUNT] = {false};
        for (size_t i = 0; i < n; i++)
            out[i] = again[i] = -7;
        kr_money_status st = kr_money_allocate(p.total, w, cap, n, out);
        bool over = p.total > p.capacity;
        if (over) {
            bool untouched = true;
            for (size_t i = 0; i < n; i++)
                untouched = untouched && out[i] == -7;
            fail[P_STATUS] = st != KR_MONEY_ECAPACITY || !untouched;
        } else if (st != KR_MONEY_OK) {
            fail[P_STATUS] = true;
        } else {
            i128 sum = 0, ws = 0;
            for (size_t i = 0; i < n; i++) {
                sum += out[i];
                ws += w[i];
                if (out[i] < 0 || out[i] > cap[i] || (w[i] == 0 && out[i] != 0))
                    fail[P_BOUNDS] = true;
            }
            fail[P_SUM] = sum != p.total;
            fail[P_DETERMINISTIC] = kr_money_allocate(p.total, w, cap, n, again) != KR_MONEY_OK ||
                                    memcmp(out, again, n * sizeof *out) != 0;
            fail[P_REFERENCE] = ref_allocate(p.total, w, cap, n, ref) != KR_MONEY_OK ||
                                memcmp(out, ref, n * sizeof *out) != 0;
            // no clamping when every exact quota fits its cap
            bool unclamped = ws > 0;
            for (size_t i = 0; i < n && unclamped; i++)
                unclamped = (i128)p.total * w[i] <= (i128)cap[i] * ws;
            if (unclamped) {
                quota_cases++;
                for (size_t i = 0; i < n; i++) {
                    i128 d = (i128)out[i] * ws - (i128)p.total * w[i]; // share - quota, * ws
                    if (d <= -ws || d >= ws)
                        fail[P_QUOTA] = true;
                }
            }
            // permutation (Fisher-Yates)
            perm_cases++;
            for (size_t i = 0; i < n; i++)
                perm[i] = i;
            for (size_t i = n - 1; i > 0; i--) {
                size_t j = (size_t)rnd_in(&r, 0, (int64_t)i), t = perm[i];
                perm[i] = perm[j];
                perm[j] = t;
            }
            for (size_t i = 0; i < n; i++) {
                pw[i] = w[perm[i]];
                pc[i] = cap[perm[i]];
            }
            if (kr_money_allocate(p.total, pw, pc, n, pout) != KR_MONEY_OK) {
                fail[P_PERMUTATION] = true;
            } else {
                int64_t a[MAXN], b[MAXN];
                for (size_t i = 0; i < n; i++) {
                    bool unique = true;
                    for (size_t j = 0; j < n; j++)
                        unique = unique && (j == perm[i] || w[j] != pw[i]);
                    if (unique && pout[i] != out[perm[i]])
                        fail[P_PERMUTATION] = true;
                    a[i] = pout[i];
                    b[i] = out[perm[i]];
                }
                // same multiset of (weight, share) pairs: sort by brute force
                for (size_t i = 0; i < n; i++) {
                    bool found = false;
                    for (size_t j = 0; j < n && !found; j++) {
                        if (b[j] != INT64_MIN && a[i] == b[j] && pw[i] == w[perm[j]]) {
                            b[j] = INT64_MIN;
                            found = true;
                        }
                    }
                    if (!found)
                        fail[P_PERMUTATION] = true;
                }
            }
        }
        if (p.floor_ok) {
            floor_cases++;
            int64_t f_out[MAXN];
            for (size_t i = 0; i < n; i++)
                f_out[i] = -7;
            kr_money_status fst = kr_money_allocate_floors(p.total, w, fl, n, f_out);
            fail[P_FLOORS] = fst != st || (st == KR_MONEY_OK
                                               ? memcmp(f_out, out, n * sizeof *out) != 0
                                               : f_out[0] != -7);
        }
        for (int q = 0; q < P_COUNT; q++) {
            if (fail[q] && bad[q]++ == 0) {
                diag("%s: first failure, case %ld: total %" PRId64 ", n %zu", names[q], k,
                     p.total, n);
                for (size_t i = 0; i < n && i < 12; i++)
                    diag("  line %zu: weight %" PRId64 " cap %" PRId64 " -> %" PRId64, i, w[i],
                         cap[i], out[i]);
            }
        }
    }
    for (int q = 0; q < P_COUNT; q++)
        check(bad[q] == 0, "allocate property: %s (%ld cases)", names[q],
              q == P_QUOTA         ? quota_cases
              : q == P_PERMUTATION ? perm_cases
              : q == P_FLOORS      ? floor_cases
                                   : N);
    // the generator must reach the interesting regions, or the properties prove little
    check(quota_cases > N / 10 && quota_cases < N - N / 10 && floor_cases > N / 4,
          "allocate property: the generator covers clamped and unclamped cases (%ld unclamped)",
          quota_cases);
}

// Receipts at the realistic limit: 10,000 lines of up to 10^12, against the reference.
static void test_allocate_large(void)
{
    enum { NL = 10000 };
    int64_t *w = malloc(NL * sizeof *w), *cap = malloc(NL * sizeof *cap);
    int64_t *out = malloc(NL * sizeof *out), *ref = malloc(NL * sizeof *ref);
    if (!w || !cap || !out || !ref)
        abort();
    for (int variant = 0; variant < 3; variant++) {
        rng r = rng_seed(77 + (uint64_t)variant);
        i128 room = 0;
        for (size_t i = 0; i < NL; i++) {
            w[i] = rnd_in(&r, 0, INT64_C(1000000000000));
            if (variant == 0)
                cap[i] = w[i];
            else if (variant == 1)
                cap[i] = rnd_in(&r, 0, w[i]); // random floors: many clamped lines
            else
                cap[i] = (int64_t)i + 1; // caps rising slowly against equal-ish weights
            room += cap[i];
        }
        int64_t total = (int64_t)(room - room / 7);
        kr_money_status st = kr_money_allocate(total, w, cap, NL, out);
        kr_money_status rst = ref_allocate(total, w, cap, NL, ref);
        i128 sum = 0;
        bool bounds = true;
        for (size_t i = 0; i < NL; i++) {
            sum += out[i];
            bounds = bounds && out[i] >= 0 && out[i] <= cap[i];
        }
        check(st == KR_MONEY_OK && rst == KR_MONEY_OK && sum == total && bounds &&
                  memcmp(out, ref, NL * sizeof *out) == 0,
              "allocate 10,000 lines of up to 10^12, caps variant %d: exact, bounded, equals "
              "the reference",
              variant);
    }
    free(w);
    free(cap);
    free(out);
    free(ref);
}

// The rule of max payable points, on random inputs: within every bound, a multiple of the
// step, maximal, and always allocatable over the lines as whole points.
static void prop_max_points(void)
{
    rng r = rng_seed(9);
    long bad = 0;
    const long N = 100000;
    int64_t e[16], caps[16], out[16];
    for (long k = 0; k < N; k++) {
        size_t n = (size_t)rnd_in(&r, 0, 16);
        kr_money_redemption rule = {rnd_in(&r, 0, 10000), rnd_in(&r, 1, 1000), rnd_in(&r, 1, 50),
                                    rnd_in(&r, 0, 2000)};
        int64_t balance = rnd_in(&r, -100, 100000);
        i128 sum = 0, whole = 0;
        for (size_t i = 0; i < n; i++) {
            e[i] = rnd_in(&r, 0, 10000000 >> rnd_in(&r, 0, 20));
            caps[i] = e[i] / rule.point_value;
            sum += e[i];
            whole += caps[i];
        }
        int64_t got;
        if (kr_money_max_payable_points(e, n, &rule, balance, &got) != KR_MONEY_OK) {
            bad++;
            continue;
        }
        i128 wallet = balance >= rule.min_balance && balance > 0 ? balance : 0;
        // bounds
        bool within = got >= 0 && got % rule.step == 0 &&
                      (i128)got * rule.point_value * 10000 <= sum * rule.max_share_bp &&
                      got <= whole && got <= wallet;
        // maximal: one more step breaks a bound
        i128 next = (i128)got + rule.step;
        bool maximal = next * rule.point_value * 10000 > sum * rule.max_share_bp ||
                       next > whole || next > wallet;
        bool spreads = kr_money_allocate(got, e, caps, n, out) == KR_MONEY_OK;
        if (!(within && maximal && spreads) && bad++ == 0)
            diag("first failure: case %ld -> %" PRId64, k, got);
    }
    check(bad == 0, "max payable points property: bounded, step multiple, maximal, allocatable "
                    "(%ld cases)",
          N);
}

int main(void)
{
    test_names();
    test_round_div();
    prop_round_div();
    test_muldiv_percent();
    test_points();
    test_fiscal();
    prop_fiscal();
    test_max_points();
    prop_max_points();
    test_allocate_examples();
    prop_allocate();
    test_allocate_large();
    printf("1..%d\n", n_run);
    if (n_failed)
        diag("%d of %d failed", n_failed, n_run);
    return n_failed ? 1 : 0;
}
