// SPDX-License-Identifier: MIT
// test-engine-props.c: properties over random receipts (a fixed-seed PRNG) against the
// plumbing program: lines sum to the totals, no line is negative or below what was paid for
// it, fiscal sub-lines add up, points stay within their limits, and every result is
// deterministic (the same receipt gives the same JSON in a second engine, in reverse order).
// Usage: test-engine-props PLUMBING.lua
#include "kr-engine.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { N_RECEIPTS = 2000, MAX_LINES = 12, JSON_SIZE = 1 << 16 };

static uint64_t rng_state = 0x9E3779B97F4A7C15u;

// splitmix64: deterministic on every platform.
static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

static int64_t pick(int64_t lo, int64_t hi) // inclusive
{
    return lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1));
}

typedef struct gen {
    kr_engine_line lines[MAX_LINES];
    char ids[MAX_LINES][24];
    kr_engine_customer cu;
    const char *segs[1], *tiers[1], *codes[1];
    kr_engine_certificate certs[3];
    unsigned char sells[MAX_LINES]; // lines selling a certificate
    kr_engine_receipt rc;
} gen;

static void generate(gen *g)
{
    static const char *const cats[] = {"taps", "mixers", "pipes", "services", "tiles"};
    static const char *const skus[] = {"GRH-1", "GRH-2", "PIPE-9", "SRV-INSTALL", "TILE-7"};
    static const char *const regions[] = {"moscow", "tula", "kaluga", "tver", NULL};
    static const char *const segments[] = {"partner", "retail", "homeowner"};
    static const char *const tiers[] = {"p-base", "p-silver", "p-gold"};
    memset(g, 0, sizeof *g);
    size_t n = (size_t)pick(1, MAX_LINES);
    for (size_t i = 0; i < n; i++) {
        size_t k = (size_t)pick(0, 4);
        snprintf(g->ids[i], sizeof g->ids[i], "%zu", i + 1);
        int64_t qty = pick(1, 7), price = pick(0, 100) < 3 ? 0 : pick(1, 5000000);
        g->lines[i] = (kr_engine_line){.id = g->ids[i], .sku = skus[k], .category = cats[k],
                                       .qty = qty, .price = price, .amount = qty * price};
        if (pick(0, 9) == 0 && g->lines[i].amount > 0) // weighted goods: amount != qty * price
            g->lines[i].amount -= pick(0, g->lines[i].amount / 10);
    }
    g->rc = (kr_engine_receipt){.id = "P", .lines = g->lines, .n_lines = n,
                                // 2026-01-01 .. 2026-12-31, any hour
                                .time = INT64_C(1767214800) + pick(0, 365 * 86400),
                                .region = regions[pick(0, 4)], .store = "s01",
                                .channel = "store"};
    if (pick(0, 1)) {
        g->codes[0] = "spring";
        g->rc.codes = g->codes;
        g->rc.n_codes = 1;
    }
    if (pick(0, 2) == 0) {
        static const char *const numbers[] = {"C1", "C2", "C3"};
        g->rc.n_certificates = (size_t)pick(1, 3);
        for (size_t k = 0; k < g->rc.n_certificates; k++)
            g->certs[k] = (kr_engine_certificate){.number = numbers[k],
                                                  .available = pick(0, 3000000),
                                                  .whole = pick(0, 3) == 0};
        for (size_t i = 0; i < n; i++)
            g->sells[i] = pick(0, 5) == 0;
        g->rc.certificates = g->certs;
        g->rc.certificate_line = g->sells;
    }
    if (pick(0, 4)) {
        g->segs[0] = segments[pick(0, 2)];
        g->tiers[0] = tiers[pick(0, 2)];
        g->cu = (kr_engine_customer){.id = "c", .segments = g->segs, .n_segments = 1,
                                     .tiers = g->tiers, .n_tiers = 1,
                                     .balance = pick(0, 1) ? pick(0, 200000) : 0};
        g->rc.customer = &g->cu;
        g->rc.points_to_spend = pick(0, 2) ? pick(0, 300000) : 0;
        g->rc.reward = (kr_engine_reward)pick(0, 2);
        g->rc.points_bp = (uint32_t)pick(0, 10000);
    }
}

static int n_test, n_failed;

static void check(bool ok, const char *name, int receipt)
{
    if (ok)
        return;
    n_failed++;
    printf("# receipt %d: %s\n", receipt, name);
}

static size_t spring_code = SIZE_MAX;

static void verify(const kr_engine_receipt *rc, const kr_engine_result *r, int k)
{
    int64_t orig = 0, fin = 0, paid = 0, spent = 0, earned = 0, certs = 0;
    for (size_t i = 0; i < r->n_lines; i++) {
        const kr_engine_line_result *l = &r->lines[i];
        int64_t disc = 0, spring = 0;
        for (size_t d = 0; d < l->n_discounts; d++) {
            const kr_engine_discount *x = &r->discounts[l->first_discount + d];
            check(x->line == i && x->amount > 0, "a discount is positive and on its line", k);
            disc += x->amount;
            if (x->promotion == spring_code)
                spring = x->amount;
        }
        // spring-code has max-line-share 50%: its floor is half the line before it
        check(2 * spring <= l->original - (disc - spring), "no line below its floor", k);
        check(l->original == rc->lines[i].amount, "original is the input amount", k);
        check(l->original - disc == l->final, "discounts explain the final amount", k);
        check(l->final >= 0 && l->final <= l->original, "final within 0..original", k);
        check(l->paid_money >= 0 &&
                  l->paid_money + l->paid_points_money + l->paid_certificates == l->final,
              "money, points and certificates pay the line", k);
        int64_t by_cert = 0;
        for (size_t c = 0; c < r->n_certificates; c++)
            by_cert += r->certificate_split[i * r->n_certificates + c];
        check(by_cert == l->paid_certificates && l->paid_certificates >= 0,
              "the certificates' shares of a line add up", k);
        check(!rc->certificate_line || !rc->certificate_line[i] || l->paid_certificates == 0,
              "a certificate does not buy a certificate", k);
        certs += l->paid_certificates;
        check(l->points_spent <= l->max_points, "points spent within the line's most", k);
        int64_t f = 0, q = 0;
        for (size_t s = 0; s < l->n_fiscal; s++) {
            f += l->fiscal[s].qty * l->fiscal[s].price;
            q += l->fiscal[s].qty;
            check(l->fiscal[s].price >= 0, "fiscal price not negative", k);
        }
        check(f == l->final && q == rc->lines[i].qty, "fiscal sub-lines add up", k);
        orig += l->original;
        fin += l->final;
        paid += l->paid_money;
        spent += l->points_spent;
        earned += l->points_earned;
        check(l->points_earned >= 0, "points earned not negative", k);
    }
    check(orig == r->total_original && fin == r->total_final &&
              r->total_discount == orig - fin,
          "lines add up to the totals", k);
    check(paid == r->to_pay &&
              r->to_pay + r->points_money + r->certificate_money == r->total_final,
          "money, points and certificates add up to the total", k);
    check(certs == r->certificate_money && r->n_certificates == rc->n_certificates,
          "line certificate money adds up", k);
    int64_t pays = 0;
    bool short_paid = false;
    for (size_t c = 0; c < r->n_certificates; c++) {
        const kr_engine_certificate *cert = &rc->certificates[c];
        pays += r->certificate_pays[c];
        check(r->certificate_pays[c] >= 0 && r->certificate_pays[c] <= cert->available,
              "a certificate pays at most what it may", k);
        check(r->certificate_forfeited[c] ==
                  (cert->whole ? cert->available - r->certificate_pays[c] : 0),
              "only a certificate spent whole forfeits, and exactly its rest", k);
        short_paid |= r->certificate_pays[c] < cert->available;
    }
    check(pays == r->certificate_money, "certificates' payments add up", k);
    // A certificate pays less than it may only when nothing it may pay for is left.
    for (size_t i = 0; short_paid && i < r->n_lines; i++)
        check((rc->certificate_line && rc->certificate_line[i]) || r->lines[i].paid_money == 0,
              "certificates pay all they can", k);
    check(spent == r->points_spent && spent <= r->max_points, "points spent add up", k);
    check(!rc->customer || r->max_points <= rc->customer->balance, "no more than the balance", k);
    check(r->points_spent <= rc->points_to_spend, "no more than asked", k);
    int64_t by_promo = 0;
    for (size_t a = 0; a < r->n_applied; a++)
        by_promo += r->applied[a].discount;
    check(by_promo == r->total_discount, "applied promotions explain the discount", k);
    check(earned <= r->points_earned, "line points within the receipt's", k);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test-engine-props PLUMBING.lua\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        printf("Bail out! cannot read %s\n", argv[1]);
        return 1;
    }
    static char text[1 << 20];
    size_t len = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    kr_engine *a = NULL, *b = NULL;
    char err[512];
    if (kr_engine_open(text, len, "plumbing.lua", NULL, &a, err, sizeof err) != KR_ENGINE_OK ||
        kr_engine_open(text, len, "plumbing.lua", NULL, &b, err, sizeof err) != KR_ENGINE_OK) {
        printf("Bail out! %s\n", err);
        return 1;
    }
    for (size_t p = 0; p < kr_engine_promotion_count(a); p++)
        if (strcmp(kr_engine_promotion_id(a, p), "spring-code") == 0)
            spring_code = p;
    static gen gens[N_RECEIPTS];
    static char json_a[JSON_SIZE], json_b[JSON_SIZE];
    for (int k = 0; k < N_RECEIPTS; k++)
        generate(&gens[k]);
    kr_engine_result r, r2;
    kr_engine_result_init(&r);
    kr_engine_result_init(&r2);
    int failures_before = 0, calc_failed = 0, nondet = 0, applied = 0;
    char **first = calloc(N_RECEIPTS, sizeof *first);
    for (int k = 0; k < N_RECEIPTS && first; k++) {
        kr_engine_status st = kr_engine_calculate(a, &gens[k].rc, &r);
        if (st != KR_ENGINE_OK) {
            if (calc_failed++ < 5)
                printf("# receipt %d: %s: %s\n", k, kr_engine_status_name(st), r.error);
            continue;
        }
        verify(&gens[k].rc, &r, k);
        applied += r.n_applied > 0;
        if (kr_engine_result_json(a, &r, &gens[k].rc, json_a, sizeof json_a, NULL) == KR_ENGINE_OK)
            first[k] = strdup(json_a);
    }
    n_test++;
    printf("%s %d - %d random receipts calculate\n", calc_failed ? "not ok" : "ok", n_test,
           N_RECEIPTS);
    n_test++;
    printf("%s %d - lines sum to totals; no line negative; points within limits\n",
           n_failed == failures_before ? "ok" : "not ok", n_test);
    // Determinism: a second engine, receipts in reverse order.
    for (int k = N_RECEIPTS - 1; k >= 0 && first; k--) {
        if (!first[k])
            continue;
        if (kr_engine_calculate(b, &gens[k].rc, &r2) != KR_ENGINE_OK ||
            kr_engine_result_json(b, &r2, &gens[k].rc, json_b, sizeof json_b, NULL) !=
                KR_ENGINE_OK ||
            strcmp(first[k], json_b) != 0) {
            if (nondet++ < 3)
                printf("# receipt %d differs:\n# %s\n# %s\n", k, first[k], json_b);
        }
    }
    n_test++;
    printf("%s %d - results are deterministic across engines and order\n",
           nondet ? "not ok" : "ok", n_test);
    n_test++;
    printf("%s %d - promotions apply to a fair share of receipts (%d of %d)\n",
           applied > N_RECEIPTS / 4 ? "ok" : "not ok", n_test, applied, N_RECEIPTS);
    if (applied <= N_RECEIPTS / 4)
        n_failed++;
    for (int k = 0; k < N_RECEIPTS && first; k++)
        free(first[k]);
    free(first);
    kr_engine_result_free(&r);
    kr_engine_result_free(&r2);
    kr_engine_close(a);
    kr_engine_close(b);
    printf("1..%d\n", n_test);
    return n_failed || calc_failed || nondet ? 1 : 0;
}
