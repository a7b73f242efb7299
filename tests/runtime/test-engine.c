// SPDX-License-Identifier: MIT
// test-engine.c: worked examples with hand-computed expectations against
// tests/runtime/engine/worked.xml (compiled at build time), and sandbox failures against
// hand-written Lua programs. Usage: test-engine WORKED.lua
#include "kr-engine.h"

#include <lauxlib.h>
#include <lualib.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int n_test, n_failed;

static bool check(bool ok, const char *name)
{
    n_test++;
    printf("%s %d - %s\n", ok ? "ok" : "not ok", n_test, name);
    if (!ok)
        n_failed++;
    return ok;
}

#define CHECK_EQ(got, want, name)                                                              \
    do {                                                                                       \
        long long g_ = (long long)(got), w_ = (long long)(want);                               \
        if (!check(g_ == w_, name))                                                            \
            printf("#   got %lld, want %lld\n", g_, w_);                                       \
    } while (0)

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf)
        buf[n] = '\0';
    *len = (size_t)n;
    return buf;
}

static kr_engine_line line(const char *id, const char *sku, const char *category, int64_t qty,
                           int64_t price)
{
    return (kr_engine_line){.id = id, .sku = sku, .category = category, .qty = qty,
                            .price = price, .amount = qty * price};
}

// 2026-04-15 12:00 Moscow, a Wednesday.
#define NOON_APR15 INT64_C(1776243600)

static kr_engine_receipt receipt(const kr_engine_line *lines, size_t n)
{
    return (kr_engine_receipt){.id = "R1", .time = NOON_APR15, .store = "s01",
                               .region = "moscow", .channel = "store", .lines = lines,
                               .n_lines = n};
}

static size_t promo(const kr_engine *e, const char *id)
{
    for (size_t i = 0; i < kr_engine_promotion_count(e); i++)
        if (strcmp(kr_engine_promotion_id(e, i), id) == 0)
            return i;
    return SIZE_MAX;
}

static const kr_engine_applied *applied(const kr_engine *e, const kr_engine_result *r,
                                        const char *id)
{
    for (size_t i = 0; i < r->n_applied; i++)
        if (r->applied[i].promotion == promo(e, id))
            return &r->applied[i];
    return NULL;
}

static const kr_engine_rejected *rejected(const kr_engine *e, const kr_engine_result *r,
                                          const char *id)
{
    for (size_t i = 0; i < r->n_rejected; i++)
        if (r->rejected[i].promotion == promo(e, id))
            return &r->rejected[i];
    return NULL;
}

static bool calc(kr_engine *e, const kr_engine_receipt *rc, kr_engine_result *r, const char *what)
{
    kr_engine_status st = kr_engine_calculate(e, rc, r);
    if (!check(st == KR_ENGINE_OK, what)) {
        printf("#   %s: %s\n", kr_engine_status_name(st), r->error);
        return false;
    }
    int64_t sum = 0;
    for (size_t i = 0; i < r->n_lines; i++)
        sum += r->lines[i].final;
    if (sum != r->total_final)
        printf("# lines do not add up\n");
    return true;
}

// ---- worked examples ---------------------------------------------------------------------------
static void test_percent(kr_engine *e, kr_engine_result *r)
{
    // 2 x 745.00 = 1490.00 -> 149.00 off; 99.99 -> 9.999 -> 10.00 (half-up); 1500.00 untouched
    kr_engine_line ls[] = {line("1", "P1-A", "taps", 2, 74500), line("2", "P1-B", "taps", 1, 9999),
                           line("3", "SRV", "services", 1, 150000)};
    kr_engine_receipt rc = receipt(ls, 3);
    if (!calc(e, &rc, r, "percent: calculates"))
        return;
    CHECK_EQ(r->lines[0].final, 134100, "percent: line 1 is 1341.00");
    CHECK_EQ(r->lines[1].final, 8999, "percent: line 2 is 89.99");
    CHECK_EQ(r->lines[2].final, 150000, "percent: line 3 untouched");
    CHECK_EQ(r->total_discount, 15900, "percent: 159.00 off in all");
    CHECK_EQ(r->lines[0].n_discounts, 1, "percent: line 1 names one discount");
    check(r->lines[0].n_discounts == 1 &&
              r->discounts[r->lines[0].first_discount].promotion == promo(e, "pct10"),
          "percent: the discount names pct10");
    // 1341.00 over 2 units: 670.50 each, one sub-line
    CHECK_EQ(r->lines[0].n_fiscal, 1, "percent: 2 units divide 1341.00");
    CHECK_EQ(r->lines[0].fiscal[0].price, 67050, "percent: fiscal unit price 670.50");
}

static void test_receipt_amount(kr_engine *e, kr_engine_result *r)
{
    // 500.00 over 1000.00, 2000.00, 3000.00: 83.333 / 166.667 / 250.00 -> 83.33, 166.67, 250.00
    kr_engine_line ls[] = {line("1", "D-1", NULL, 1, 100000), line("2", "D-2", NULL, 1, 200000),
                           line("3", "D-3", NULL, 3, 100000)};
    kr_engine_receipt rc = receipt(ls, 3);
    if (!calc(e, &rc, r, "receipt 500: calculates"))
        return;
    CHECK_EQ(r->lines[0].original - r->lines[0].final, 8333, "receipt 500: line 1 gets 83.33");
    CHECK_EQ(r->lines[1].original - r->lines[1].final, 16667, "receipt 500: line 2 gets 166.67");
    CHECK_EQ(r->lines[2].original - r->lines[2].final, 25000, "receipt 500: line 3 gets 250.00");
    CHECK_EQ(r->total_discount, 50000, "receipt 500: lines sum to 500.00");
    CHECK_EQ(r->total_final, 550000, "receipt 500: 5500.00 to pay");
    // 2750.00 over 3 units: 916.67 x 2 + 916.66 ... exactly: 275000 = 3 * 91666 + 2
    CHECK_EQ(r->lines[2].n_fiscal, 2, "receipt 500: 3 units do not divide 2750.00");
    CHECK_EQ(r->lines[2].fiscal[0].qty * r->lines[2].fiscal[0].price +
                 r->lines[2].fiscal[1].qty * r->lines[2].fiscal[1].price,
             275000, "receipt 500: fiscal sub-lines add up to the line");
    const kr_engine_applied *a = applied(e, r, "receipt500");
    check(a && a->discount == 50000, "receipt 500: applied with 500.00");
}

static void test_groups(kr_engine *e, kr_engine_result *r)
{
    kr_engine_line ls[] = {line("1", "G1-X", NULL, 1, 300000), line("2", "G2-Y", NULL, 1, 300000)};
    kr_engine_receipt rc = receipt(ls, 2);
    if (!calc(e, &rc, r, "groups: calculates"))
        return;
    // best: 5% = 150.00 beats 100.00; priority: the first (100.00) wins
    CHECK_EQ(r->lines[0].final, 285000, "groups: best gives 150.00 off");
    CHECK_EQ(r->lines[1].final, 290000, "groups: priority gives the first, 100.00 off");
    const kr_engine_rejected *x = rejected(e, r, "best-amount");
    check(x && x->reason == KR_ENGINE_REASON_GROUP && x->other == promo(e, "best-percent"),
          "groups: best-amount is not in group winner best-percent");
    x = rejected(e, r, "prio-percent");
    check(x && x->reason == KR_ENGINE_REASON_GROUP && x->other == promo(e, "prio-amount"),
          "groups: prio-percent is not in group winner prio-amount");
}

static void test_stop(kr_engine *e, kr_engine_result *r)
{
    kr_engine_line ls[] = {line("1", "S-1", NULL, 1, 100000)};
    kr_engine_receipt rc = receipt(ls, 1);
    if (!calc(e, &rc, r, "stop: calculates"))
        return;
    CHECK_EQ(r->lines[0].final, 90000, "stop: only the stopper's 10%");
    const kr_engine_rejected *x = rejected(e, r, "stopped");
    check(x && x->reason == KR_ENGINE_REASON_STOPPED && x->other == promo(e, "stopper"),
          "stop: 'stopped' is stopped by 'stopper'");
}

static void test_caps(kr_engine *e, kr_engine_result *r)
{
    // 20% of 3000.00 + 1000.00 = 800.00, capped at 500.00: 375.00 + 125.00
    kr_engine_line ls[] = {line("1", "C-1", NULL, 1, 300000), line("2", "C-2", NULL, 1, 100000),
                           line("3", "F-1", NULL, 2, 10000)};
    kr_engine_receipt rc = receipt(ls, 3);
    if (!calc(e, &rc, r, "caps: calculates"))
        return;
    CHECK_EQ(r->lines[0].final, 262500, "caps: max-discount trims line 1 to 375.00 off");
    CHECK_EQ(r->lines[1].final, 87500, "caps: max-discount trims line 2 to 125.00 off");
    const kr_engine_applied *a = applied(e, r, "capped");
    check(a && a->discount == 50000, "caps: capped gives 500.00");
    // 50% of 2 x 100.00, floor 80.00 a unit: 160.00
    CHECK_EQ(r->lines[2].final, 16000, "caps: price floor keeps 80.00 a unit");
}

static void test_points(kr_engine *e, kr_engine_result *r)
{
    // Eligible 1500.01; 30% = 450.003 -> 450 points (1 point = 1.00). Spread by amount:
    // 450 * 1000.00/1500.01 = 299.998, 450 * 500.01/1500.01 = 150.002 -> 300 and 150.
    kr_engine_line ls[] = {line("1", "Z-1", "pipes", 1, 100000), line("2", "Z-2", "pipes", 1, 50001)};
    kr_engine_customer cu = {.id = "c1", .balance = 10000};
    kr_engine_receipt rc = receipt(ls, 2);
    rc.customer = &cu;
    rc.points_to_spend = 10000;
    if (!calc(e, &rc, r, "points: calculates"))
        return;
    CHECK_EQ(r->max_points, 450, "points: at most 450 points (30%)");
    CHECK_EQ(r->points_spent, 450, "points: 450 spent");
    CHECK_EQ(r->lines[0].points_spent, 300, "points: 300 on line 1");
    CHECK_EQ(r->lines[1].points_spent, 150, "points: 150 on line 2");
    CHECK_EQ(r->lines[0].max_points + r->lines[1].max_points, 450, "points: line maxima add up");
    CHECK_EQ(r->to_pay, 150001 - 45000, "points: 1050.01 paid in money");
    // Accrual 3% of the money paid, rounded down: 700.00 -> 21; 350.01 -> 10.5003 -> 10
    CHECK_EQ(r->lines[0].points_earned, 21, "accrual: 21 on line 1");
    CHECK_EQ(r->lines[1].points_earned, 10, "accrual: 10 on line 2 (rounded down)");
    CHECK_EQ(r->accrual_points, 31, "accrual: 31 in all");

    // Below min-balance nothing can be spent.
    cu.balance = 99;
    if (calc(e, &rc, r, "points: min-balance calculates"))
        CHECK_EQ(r->points_spent, 0, "points: a balance under min-balance pays nothing");
    // Anonymous receipts neither spend nor earn.
    rc.customer = NULL;
    if (calc(e, &rc, r, "points: anonymous calculates"))
        check(r->points_spent == 0 && r->points_earned == 0, "points: anonymous earns nothing");
}

static void test_certificates(kr_engine *e, kr_engine_result *r)
{
    // A: 700.00 + 300.01 may be paid by a certificate, the 3000.00 line sells one. 500.00 of
    // the certificate over 70000 : 30001 (of 100001): 34999.65 and 15000.35 -> 34999 and 15000,
    // the kopeck left to the larger remainder -> 350.00 and 150.00.
    kr_engine_line ls[] = {line("1", "K-1", "pipes", 1, 70000), line("2", "K-2", "pipes", 1, 30001),
                           line("3", "K-CERT", "certificates", 1, 300000)};
    const unsigned char sells[] = {0, 0, 1};
    kr_engine_certificate c1 = {.number = "C1", .available = 50000};
    kr_engine_customer cu = {.id = "c1", .balance = 0};
    kr_engine_receipt rc = receipt(ls, 3);
    rc.customer = &cu;
    rc.certificates = &c1;
    rc.n_certificates = 1;
    rc.certificate_line = sells;
    if (!calc(e, &rc, r, "certificates: calculates"))
        return;
    CHECK_EQ(r->certificate_money, 50000, "certificates: 500.00 paid by the certificate");
    CHECK_EQ(r->lines[0].paid_certificates, 35000, "certificates: 350.00 of line 1");
    CHECK_EQ(r->lines[1].paid_certificates, 15000, "certificates: 150.00 of line 2");
    CHECK_EQ(r->lines[2].paid_certificates, 0, "certificates: a certificate does not buy one");
    CHECK_EQ(r->certificate_split[0], 35000, "certificates: the split names line 1's share");
    CHECK_EQ(r->certificate_pays[0], 50000, "certificates: the certificate pays 500.00");
    CHECK_EQ(r->certificate_forfeited[0], 0, "certificates: a partial one forfeits nothing");
    CHECK_EQ(r->to_pay, 400001 - 50000, "certificates: 3500.01 left in money");
    // Accrual 3% of the money paid only: 350.00 -> 10.5 -> 10; 150.01 -> 4.5003 -> 4;
    // 3000.00 -> 90 (worked.xml accrues on every category).
    CHECK_EQ(r->lines[0].points_earned, 10, "certificates: 10 points on 350.00 paid in money");
    CHECK_EQ(r->lines[1].points_earned, 4, "certificates: 4 points on 150.01 paid in money");
    CHECK_EQ(r->accrual_points, 104, "certificates: 104 points in all");

    // B: points first, then a certificate spent whole. 1000.00 + a 1000.00 certificate line;
    // 30% of 2000.00 = 600 points, 300 on each line. The certificate (1000.00, whole) may pay
    // only line 1's 700.00 left: it pays 700.00 and forfeits 300.00.
    kr_engine_line lb[] = {line("1", "K-1", "pipes", 1, 100000),
                           line("2", "K-CERT", "certificates", 1, 100000)};
    const unsigned char sells_b[] = {0, 1};
    kr_engine_certificate c2 = {.number = "C2", .available = 100000, .whole = true};
    cu.balance = 1000;
    rc = receipt(lb, 2);
    rc.customer = &cu;
    rc.points_to_spend = 1000;
    rc.certificates = &c2;
    rc.n_certificates = 1;
    rc.certificate_line = sells_b;
    if (!calc(e, &rc, r, "certificates: after points calculates"))
        return;
    CHECK_EQ(r->points_spent, 600, "certificates: 600 points first (30% of 2000.00)");
    CHECK_EQ(r->lines[0].paid_certificates, 70000, "certificates: 700.00 left of line 1");
    CHECK_EQ(r->certificate_forfeited[0], 30000, "certificates: 300.00 of a whole one forfeited");
    CHECK_EQ(r->to_pay, 200000 - 60000 - 70000, "certificates: 700.00 left in money");
    CHECK_EQ(r->lines[0].points_earned, 0, "certificates: nothing paid in money, no points");
    CHECK_EQ(r->lines[1].points_earned, 21, "certificates: 3% of 700.00 = 21");

    // C: two certificates in the receipt's order: 600.00 then up to 600.00 on 1000.00.
    kr_engine_certificate two[] = {{.number = "C3", .available = 60000},
                                   {.number = "C4", .available = 60000}};
    rc = receipt(lb, 1);
    rc.certificates = two;
    rc.n_certificates = 2;
    if (!calc(e, &rc, r, "certificates: two calculate"))
        return;
    CHECK_EQ(r->certificate_pays[0], 60000, "certificates: the first pays 600.00");
    CHECK_EQ(r->certificate_pays[1], 40000, "certificates: the second pays the 400.00 left");
    CHECK_EQ(r->certificate_split[1], 40000, "certificates: line 1's share of the second");
    CHECK_EQ(r->to_pay, 0, "certificates: nothing left to pay");

    // D: more than 16 certificates is refused, naming the field.
    kr_engine_certificate many[17];
    for (size_t k = 0; k < 17; k++)
        many[k] = (kr_engine_certificate){.number = "C", .available = 1};
    rc.certificates = many;
    rc.n_certificates = 17;
    kr_engine_status st = kr_engine_calculate(e, &rc, r);
    check(st == KR_ENGINE_INVALID && strstr(r->error, "certificates"),
          "certificates: 17 certificates are refused");
}

static void test_table(kr_engine *e, kr_engine_result *r)
{
    // taps 5% of 1000.00 = 50.00; other 3% of 333.33 = 9.9999 -> 10.00
    kr_engine_line ls[] = {line("1", "T-1", "taps", 1, 100000), line("2", "T-2", "pipes", 1, 33333)};
    kr_engine_receipt rc = receipt(ls, 2);
    if (!calc(e, &rc, r, "table: calculates"))
        return;
    CHECK_EQ(r->lines[0].final, 95000, "table: taps get 5%");
    CHECK_EQ(r->lines[1].final, 32333, "table: the rest get 3%, rounded half-up");
}

static void test_choice(kr_engine *e, kr_engine_result *r)
{
    // 10% of 2000.00 = 200.00; split 50%: 100.00 off and 100.00 as 100 points
    kr_engine_line ls[] = {line("1", "R-1", NULL, 1, 200000)};
    kr_engine_customer cu = {.id = "c1"};
    kr_engine_receipt rc = receipt(ls, 1);
    rc.customer = &cu;
    rc.reward = KR_ENGINE_REWARD_SPLIT;
    rc.points_bp = 5000;
    if (!calc(e, &rc, r, "choice: calculates"))
        return;
    CHECK_EQ(r->lines[0].final, 190000, "choice: half as money off");
    const kr_engine_applied *a = applied(e, r, "choice");
    check(a && a->discount == 10000 && a->points == 100, "choice: half as 100 points");
    // accrual 3% of 1900.00 = 57, plus 100 from the choice
    CHECK_EQ(r->points_earned, 157, "choice: points earned include the reward");
    rc.reward = KR_ENGINE_REWARD_POINTS;
    if (calc(e, &rc, r, "choice: all points calculates")) {
        a = applied(e, r, "choice");
        check(r->lines[0].final == 200000 && a && a->points == 200, "choice: all as 200 points");
    }
    rc.reward_promotion = "another";
    if (calc(e, &rc, r, "choice: for another promotion calculates"))
        CHECK_EQ(r->lines[0].final, 180000, "choice: a choice for another promotion is ignored");

    // No kopeck lost in a split: 10% of 7451.00 = 745.10; half = 372.55 -> 372 whole points
    // (points-rounding down) worth 372.00; the other 373.10 stays off the receipt, so
    // 372 x 1.00 + 373.10 = 745.10, the whole benefit.
    kr_engine_line odd[] = {line("1", "R-1", NULL, 1, 745100)};
    rc = receipt(odd, 1);
    rc.customer = &cu;
    rc.reward = KR_ENGINE_REWARD_SPLIT;
    rc.points_bp = 5000;
    if (calc(e, &rc, r, "choice: odd split calculates")) {
        a = applied(e, r, "choice");
        check(a && a->points == 372 && a->discount == 37310,
              "choice: 372 points and 373.10 off");
        check(a && a->points * 100 + a->discount == 74510,
              "choice: points x point value + discount = the whole 745.10");
        CHECK_EQ(r->lines[0].final, 745100 - 37310, "choice: the line carries the 373.10");
    }
    // All as points: 745.10 -> 745 points, and the 0.10 that makes no point stays as money off.
    rc.reward = KR_ENGINE_REWARD_POINTS;
    if (calc(e, &rc, r, "choice: odd all-points calculates")) {
        a = applied(e, r, "choice");
        check(a && a->points == 745 && a->discount == 10, "choice: 745 points and 0.10 off");
    }
}

static void test_rejected(kr_engine *e, kr_engine_result *r)
{
    kr_engine_line ls[] = {line("1", "B-1", NULL, 1, 100000)};
    kr_engine_receipt rc = receipt(ls, 1);
    if (!calc(e, &rc, r, "rejected: calculates"))
        return;
    const kr_engine_rejected *x = rejected(e, r, "big-receipt");
    check(x && x->reason == KR_ENGINE_REASON_CONDITION && strstr(x->condition, "5000.00") &&
              strstr(x->src, "worked.xml:"),
          "rejected: big-receipt names its failing condition and src");
    if (x)
        printf("#   %s (%s)\n", x->condition, x->src);
    kr_engine_uses u = {.promotion = "receipt500", .uses_left = 0, .budget_left = -1};
    kr_engine_line ld[] = {line("1", "D-1", NULL, 1, 100000)};
    rc = receipt(ld, 1);
    rc.uses = &u;
    rc.n_uses = 1;
    if (calc(e, &rc, r, "limit: calculates")) {
        x = rejected(e, r, "receipt500");
        check(x && x->reason == KR_ENGINE_REASON_LIMIT && r->total_discount == 0,
              "limit: no uses left is 'limit reached'");
    }
    u.uses_left = 5;
    u.budget_left = 12345;
    if (calc(e, &rc, r, "budget: calculates"))
        CHECK_EQ(r->total_discount, 12345, "budget: the budget left trims the discount");
}

static void test_zero_row(kr_engine *e, kr_engine_result *r)
{
    // 9000.00: the table says 0%, so zero-row takes nothing off: rejected "nothing to
    // discount", it stops nothing, and after-zero gives its 1% = 90.00.
    kr_engine_line ls[] = {line("1", "Z0-1", "pipes", 1, 900000)};
    kr_engine_receipt rc = receipt(ls, 1);
    if (!calc(e, &rc, r, "zero row: calculates"))
        return;
    const kr_engine_rejected *x = rejected(e, r, "zero-row");
    check(x && x->reason == KR_ENGINE_REASON_NOTHING, "zero row: rejected, nothing to discount");
    check(!applied(e, r, "zero-row"), "zero row: not applied");
    const kr_engine_applied *a = applied(e, r, "after-zero");
    check(a && a->discount == 9000, "zero row: the next promotion is not stopped (90.00)");
    // 12000.00: 3% = 360.00 applies and stops after-zero.
    ls[0] = line("1", "Z0-1", "pipes", 1, 1200000);
    if (!calc(e, &rc, r, "zero row: 12000.00 calculates"))
        return;
    a = applied(e, r, "zero-row");
    check(a && a->discount == 36000, "zero row: 3% of 12000.00 = 360.00");
    x = rejected(e, r, "after-zero");
    check(x && x->reason == KR_ENGINE_REASON_STOPPED, "zero row: a real discount stops the stage");
}

static void test_json(kr_engine *e, kr_engine_result *r)
{
    kr_engine_line ls[] = {line("1", "P1-A", "taps", 2, 74500)};
    kr_engine_receipt rc = receipt(ls, 1);
    if (!calc(e, &rc, r, "json: calculates"))
        return;
    char small[16], buf[8192];
    size_t need = 0;
    check(kr_engine_result_json(e, r, &rc, small, sizeof small, &need) == KR_ENGINE_NOSPACE &&
              need > sizeof small,
          "json: a small buffer is NOSPACE with the size needed");
    check(kr_engine_result_json(e, r, &rc, buf, sizeof buf, NULL) == KR_ENGINE_OK &&
              strlen(buf) + 1 == need,
          "json: fits and the size matches");
    check(strstr(buf, "\"lines\":[{\"id\":\"1\",\"sku\":\"P1-A\",\"qty\":2,\"original\":\"1490.00\","
                      "\"discounts\":[{\"promotion\":"
                      "\"pct10\"") != NULL,
          "json: lines with discounts in a fixed order");
    printf("#   %.200s\n", buf);
}

static void test_invalid(kr_engine *e, kr_engine_result *r)
{
    kr_engine_line ls[] = {line("1", "A", NULL, 1, 100), line("2", "B", NULL, 0, 100)};
    kr_engine_receipt rc = receipt(ls, 2);
    kr_engine_status st = kr_engine_calculate(e, &rc, r);
    check(st == KR_ENGINE_INVALID && strstr(r->error, "lines[1].qty"),
          "invalid: a line with no units names lines[1].qty");
    ls[1].qty = 1;
    ls[1].sku = NULL;
    st = kr_engine_calculate(e, &rc, r);
    check(st == KR_ENGINE_INVALID && strstr(r->error, "lines[1].sku"),
          "invalid: a line without sku names lines[1].sku");
    rc.n_lines = 0;
    st = kr_engine_calculate(e, &rc, r);
    check(st == KR_ENGINE_INVALID && strstr(r->error, "lines"), "invalid: no lines");
}

// ---- sandbox -----------------------------------------------------------------------------------
static const char *const evil_lua =
    "local function p(id, check)\n"
    "  return { id = id, name = id, src = 'evil.lua:' .. id, stage = 'line', enabled = true,\n"
    "    conditions = {}, check = check,\n"
    "    effects = function(ctx) return { { kind = 'percent', bp = 1000, lines = { 1 } } } end }\n"
    "end\n"
    "return { abi = 2, id = 'evil', version = 1, currency = 'RUB', minor_unit = 2,\n"
    "  time_zone = 'Europe/Moscow', groups = {}, promotions = {\n"
    "  p('loop', function(ctx) if ctx.store == 'loop' then while true do end end end),\n"
    "  p('pcall-loop', function(ctx) if ctx.store == 'pcall' then\n"
    "      while true do pcall(function() while true do end end) end end end),\n"
    "  p('hog', function(ctx) if ctx.store == 'hog' then local t = {}\n"
    "      for i = 1, 1e9 do t[i] = string.rep('x', 1000) .. i end end end),\n"
    "  p('os', function(ctx) if ctx.store == 'os' then os.execute('true') end end),\n"
    "  p('io', function(ctx) if ctx.store == 'io' then io.open('/etc/passwd') end end),\n"
    "  p('load', function(ctx) if ctx.store == 'load' then load('return 1')() end end),\n"
    "  p('random', function(ctx) if ctx.store == 'random' then return math.random(3) end end),\n"
    "  p('write', function(ctx) if ctx.store == 'write' then ctx.lines[1].attrs.x = '1' end end),\n"
    "  p('rawset', function(ctx) if ctx.store == 'rawset' then rawset(ctx.lines[1].attrs, 'x', '1')\n"
    "      elseif ctx.lines[1].attrs.x ~= nil then error('attrs.x leaked') end end),\n"
    "} }\n";

static void test_sandbox(kr_engine_result *r)
{
    kr_engine_limits lim = {.memory_bytes = 8u << 20, .instructions = 2000000};
    kr_engine *e = NULL;
    char err[512];
    kr_engine_status st = kr_engine_open(evil_lua, strlen(evil_lua), "evil.lua", &lim, &e, err,
                                         sizeof err);
    if (!check(st == KR_ENGINE_OK, "sandbox: the program loads")) {
        printf("#   %s\n", err);
        return;
    }
    kr_engine_line ls[] = {line("1", "A", NULL, 1, 100000)};
    kr_engine_receipt rc = receipt(ls, 1);
    static const struct {
        const char *store, *promo, *needle;
        kr_engine_status want;
    } cases[] = {
        {"loop", "loop", "instruction budget", KR_ENGINE_BUDGET},
        {"pcall", "pcall-loop", "instruction budget", KR_ENGINE_BUDGET},
        {"hog", "hog", "memory", KR_ENGINE_MEMORY},
        {"os", "os", "os", KR_ENGINE_RUNTIME},
        {"io", "io", "io", KR_ENGINE_RUNTIME},
        {"load", "load", "load", KR_ENGINE_RUNTIME},
        {"random", "random", "random", KR_ENGINE_RUNTIME},
        // A line without attributes shares one empty table with every other: it is read-only.
        {"write", "write", "read-only", KR_ENGINE_RUNTIME},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        rc.store = cases[k].store;
        st = kr_engine_calculate(e, &rc, r);
        char name[128], want[64];
        snprintf(name, sizeof name, "sandbox: '%s' fails with %s naming the promotion",
                 cases[k].store, kr_engine_status_name(cases[k].want));
        snprintf(want, sizeof want, "promotion %s (evil.lua:%s)", cases[k].promo, cases[k].promo);
        if (!check(st == cases[k].want && strstr(r->error, want) && strstr(r->error, cases[k].needle),
                   name))
            printf("#   %s: %.300s\n", kr_engine_status_name(st), r->error);
        rc.store = "good";
        st = kr_engine_calculate(e, &rc, r);
        snprintf(name, sizeof name, "sandbox: after '%s' a good receipt still works",
                 cases[k].store);
        if (!check(st == KR_ENGINE_OK && r->n_applied == 9, name))
            printf("#   %s: %s\n", kr_engine_status_name(st), r->error);
    }
    // rawset passes the shared empty table's metatable: the write stays within its receipt,
    // and the next receipt's check of 'rawset' finds no attrs.x (else it raises "leaked").
    rc.store = "rawset";
    st = kr_engine_calculate(e, &rc, r);
    check(st == KR_ENGINE_OK, "sandbox: a rawset into the shared empty table is not an error");
    rc.store = "good";
    st = kr_engine_calculate(e, &rc, r);
    if (!check(st == KR_ENGINE_OK && r->n_applied == 9,
               "sandbox: what a rawset wrote is gone on the next receipt"))
        printf("#   %s: %s\n", kr_engine_status_name(st), r->error);
    kr_engine_close(e);

    // Bytecode is refused.
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    check(luaL_dostring(L, "return string.dump(function() return {} end)") == LUA_OK,
          "sandbox: the host Lua dumps a function to bytecode");
    size_t blen;
    const char *bc = lua_tolstring(L, -1, &blen);
    st = kr_engine_open(bc, blen, "bytecode", NULL, &e, err, sizeof err);
    check(st == KR_ENGINE_PROGRAM && e == NULL && strstr(err, "binary"),
          "sandbox: a bytecode chunk is refused");
    lua_close(L);

    const char *bad = "return { abi = 2, id = 'x', time_zone = 'Europe/Moscow', "
                      "promotions = { { id = 'p' } } }";
    st = kr_engine_open(bad, strlen(bad), "bad.lua", NULL, &e, err, sizeof err);
    check(st == KR_ENGINE_PROGRAM && strstr(err, "P.promotions[1].name"),
          "sandbox: a program off the ABI names the field");
    const char *old_abi =
        "return { abi = 1, id = 'x', time_zone = 'Europe/Moscow', promotions = {} }";
    st = kr_engine_open(old_abi, strlen(old_abi), "old.lua", NULL, &e, err, sizeof err);
    check(st == KR_ENGINE_PROGRAM && strstr(err, "P.abi: this runtime reads ABI 2"),
          "sandbox: a program compiled for ABI 1 is refused, naming P.abi");
    // P.accrual without `rate`: every line earns `percent`, which must then be an integer
    // (worked.xml's accrual="3%" is read that way; the tiers scenario keeps a rate function).
    const char *no_rate = "return { abi = 2, id = 'x', time_zone = 'Europe/Moscow', "
                          "promotions = {}, accrual = { basis = 'paid', percent = '@t' } }";
    st = kr_engine_open(no_rate, strlen(no_rate), "norate.lua", NULL, &e, err, sizeof err);
    check(st == KR_ENGINE_PROGRAM && strstr(err, "P.accrual.percent: expected an integer"),
          "sandbox: an accrual without rate needs an integer percent, naming the field");
    const char *forever = "while true do end";
    st = kr_engine_open(forever, strlen(forever), "forever.lua", &lim, &e, err, sizeof err);
    check(st == KR_ENGINE_BUDGET, "sandbox: a chunk that never returns hits the budget");
}

// ---- the validity window as data ------------------------------------------------------------
// P.promotions[k].window: the runtime tests the dates and weekdays before calling check. The
// checks here raise an error when called, so a rejection proves check was not called.
// 2026-04-15 (the receipt) is day 20558, a Wednesday: weekday 3, bit 2 (0x04) of the mask.
static const char *const window_lua =
    "local function p(id, window)\n"
    "  return { id = id, name = id, src = 'w.lua:' .. id, stage = 'line', enabled = true,\n"
    "    window = window, conditions = { { text = 'from', src = 'w.lua:1' },\n"
    "      { text = 'to', src = 'w.lua:2' }, { text = 'days', src = 'w.lua:3' } },\n"
    "    check = function(ctx) if window.called then error('check called') end end,\n"
    "    effects = function(ctx) return { { kind = 'percent', bp = 1000 } } end }\n"
    "end\n"
    "return { abi = 2, id = 'w', version = 1, currency = 'RUB', minor_unit = 2,\n"
    "  time_zone = 'Europe/Moscow', groups = {}, promotions = {\n"
    "  p('later', { from = 20559, to = 20600, called = true }),\n"
    "  p('earlier', { from = 20500, to = 20557, called = true }),\n"
    "  p('weekend', { from = 20500, to = 20600, days = 0x60, called = true }),\n"
    "  p('wednesday', { to = 20558, days = 0x04 }),\n"
    "} }\n";

static void test_window(kr_engine_result *r)
{
    kr_engine *e = NULL;
    char err[512];
    kr_engine_status st =
        kr_engine_open(window_lua, strlen(window_lua), "w.lua", NULL, &e, err, sizeof err);
    if (!check(st == KR_ENGINE_OK, "window: the program loads")) {
        printf("#   %s\n", err);
        return;
    }
    kr_engine_line ls[] = {line("1", "A", NULL, 1, 100000)};
    kr_engine_receipt rc = receipt(ls, 1);
    st = kr_engine_calculate(e, &rc, r);
    if (!check(st == KR_ENGINE_OK, "window: the receipt is evaluated"))
        printf("#   %s\n", r->error);
    static const struct {
        const char *id, *cond;
    } out[] = {{"later", "from"}, {"earlier", "to"}, {"weekend", "days"}};
    for (size_t k = 0; k < 3 && st == KR_ENGINE_OK; k++) {
        const kr_engine_rejected *x = rejected(e, r, out[k].id);
        char name[96];
        snprintf(name, sizeof name, "window: '%s' is rejected by condition '%s' without check",
                 out[k].id, out[k].cond);
        check(x && x->reason == KR_ENGINE_REASON_CONDITION &&
                  strcmp(x->condition, out[k].cond) == 0,
              name);
    }
    // 10% of 1000.00: the only promotion inside its window, its check called and passed.
    CHECK_EQ(r->total_discount, 10000, "window: 'wednesday' (to the day, on its weekday) applies");
    kr_engine_close(e);
}

// ---- the audience as data -------------------------------------------------------------------
// P.promotions[k].audience: "an identified customer" and "in segment a or b" are tested after
// the window and before check. Checks that raise prove a rejection was made without them.
static const char *const audience_lua =
    "local function p(id, audience, conds, raise)\n"
    "  local cs = {}\n"
    "  for i, t in ipairs(conds) do cs[i] = { text = t, src = 'a.lua:' .. i } end\n"
    "  return { id = id, name = id, src = 'a.lua:' .. id, stage = 'line', enabled = true,\n"
    "    audience = audience, conditions = cs,\n"
    "    check = function(ctx)\n"
    "      if raise == true or (raise == 'anonymous' and ctx.customer == nil) then\n"
    "        error('check called')\n"
    "      end\n"
    "    end,\n"
    "    effects = function(ctx) return { { kind = 'percent', bp = 1000 } } end }\n"
    "end\n"
    "return { abi = 2, id = 'a', version = 1, currency = 'RUB', minor_unit = 2,\n"
    "  time_zone = 'Europe/Moscow', groups = {}, promotions = {\n"
    "  p('members', { member = 1 }, { 'customer' }, 'anonymous'),\n"
    "  p('gold', { member = 1, segment = 2, segments = { 'gold', 'vip' } },\n"
    "    { 'customer', 'segment' }, true),\n"
    "  p('retail', { segment = 1, segments = { 'retail' } }, { 'segment' }, false),\n"
    "} }\n";

static void test_audience(kr_engine_result *r)
{
    kr_engine *e = NULL;
    char err[512];
    kr_engine_status st =
        kr_engine_open(audience_lua, strlen(audience_lua), "a.lua", NULL, &e, err, sizeof err);
    if (!check(st == KR_ENGINE_OK, "audience: the program loads")) {
        printf("#   %s\n", err);
        return;
    }
    kr_engine_line ls[] = {line("1", "A", NULL, 1, 100000)};
    kr_engine_receipt rc = receipt(ls, 1);
    // Anonymous: every promotion fails its first audience condition, none calls check.
    st = kr_engine_calculate(e, &rc, r);
    if (!check(st == KR_ENGINE_OK, "audience: an anonymous receipt is evaluated"))
        printf("#   %s\n", r->error);
    static const struct {
        const char *id, *cond;
    } anon[] = {{"members", "customer"}, {"gold", "customer"}, {"retail", "segment"}};
    for (size_t k = 0; k < 3 && st == KR_ENGINE_OK; k++) {
        const kr_engine_rejected *x = rejected(e, r, anon[k].id);
        char name[96];
        snprintf(name, sizeof name, "audience: anonymous, '%s' is rejected by '%s' without check",
                 anon[k].id, anon[k].cond);
        check(x && x->reason == KR_ENGINE_REASON_CONDITION &&
                  strcmp(x->condition, anon[k].cond) == 0,
              name);
    }
    // A customer in 'retail' (and 'staff'): 'members' and 'retail' pass to their checks, which
    // pass; 'gold' fails its segment condition without check. 10% of 1000.00 is 100.00, then
    // 10% of the 900.00 left is 90.00: 190.00 off.
    const char *segs[] = {"staff", "retail"};
    kr_engine_customer cu = {.id = "c1", .segments = segs, .n_segments = 2};
    rc.customer = &cu;
    st = kr_engine_calculate(e, &rc, r);
    if (!check(st == KR_ENGINE_OK, "audience: a member's receipt is evaluated"))
        printf("#   %s\n", r->error);
    const kr_engine_rejected *x = st == KR_ENGINE_OK ? rejected(e, r, "gold") : NULL;
    check(
        x && x->reason == KR_ENGINE_REASON_CONDITION && strcmp(x->condition, "segment") == 0,
        "audience: a customer in neither 'gold' nor 'vip' is rejected by 'segment' without check");
    CHECK_EQ(r->total_discount, 19000,
             "audience: 'members' and 'retail' apply to a customer in 'retail'");
    kr_engine_close(e);
}

// ---- the deadline ------------------------------------------------------------------------------
// An evaluation runs without the instruction hook until its deadline (engine.md "Sandbox").
static const char *const deadline_lua =
    "return { abi = 2, id = 'd', version = 1, currency = 'RUB', minor_unit = 2,\n"
    "  time_zone = 'Europe/Moscow', groups = {}, promotions = { {\n"
    "    id = 'spin', name = 'spin', src = 'd.lua:spin', stage = 'line', enabled = true,\n"
    "    conditions = {},\n"
    "    check = function(ctx)\n"
    "      if ctx.store == 'forever' then while true do end end\n"
    "      local x = 0\n"
    "      for i = 1, 1000000 do x = x + i end\n" // about 2,000,000 VM instructions
    "    end,\n"
    "    effects = function(ctx) return {} end } } }\n";

typedef struct spin_job {
    kr_engine *e;
    const char *store;
    kr_engine_status st;
    char error[sizeof((kr_engine_result *)0)->error];
} spin_job;

static void *spin(void *arg)
{
    spin_job *j = arg;
    kr_engine_line ls[] = {line("1", "A", NULL, 1, 100000)};
    kr_engine_receipt rc = receipt(ls, 1);
    rc.store = j->store;
    kr_engine_result r;
    kr_engine_result_init(&r);
    j->st = kr_engine_calculate(j->e, &rc, &r);
    memcpy(j->error, r.error, sizeof j->error);
    kr_engine_result_free(&r);
    return NULL;
}

static void test_deadline(void)
{
    // A budget of 1,000,000 instructions, a deadline of 10 seconds: the 2,000,000 instructions
    // of the loop finish in milliseconds, long before the deadline, so nothing counts them.
    kr_engine_limits lim = {.instructions = 1000000, .deadline_ms = 10000};
    kr_engine *e = NULL;
    char err[512];
    kr_engine_status st =
        kr_engine_open(deadline_lua, strlen(deadline_lua), "d.lua", &lim, &e, err, sizeof err);
    if (!check(st == KR_ENGINE_OK, "deadline: the program loads")) {
        printf("#   %s\n", err);
        return;
    }
    spin_job j = {.e = e, .store = "s"};
    spin(&j);
    check(j.st == KR_ENGINE_OK,
          "deadline: 2,000,000 instructions over a budget of 1,000,000 run before the deadline");
    kr_engine_close(e);

    // One engine per worker thread: an endless check on a thread of its own is stopped there
    // (the watchdog signals the evaluating thread) after the 20 ms default deadline and the
    // budget, and the engine serves the next receipt on another thread.
    lim = (kr_engine_limits){.instructions = 1000000};
    st = kr_engine_open(deadline_lua, strlen(deadline_lua), "d.lua", &lim, &e, err, sizeof err);
    if (!check(st == KR_ENGINE_OK, "deadline: the program loads with the default deadline"))
        return;
    spin_job f = {.e = e, .store = "forever"};
    pthread_t t;
    if (pthread_create(&t, NULL, spin, &f) == 0) {
        pthread_join(t, NULL);
        if (!check(f.st == KR_ENGINE_BUDGET && strstr(f.error, "promotion spin (d.lua:spin)") &&
                       strstr(f.error, "instruction budget of 1000000 exhausted"),
                   "deadline: an endless check on a worker thread stops with the budget error"))
            printf("#   %s: %s\n", kr_engine_status_name(f.st), f.error);
    }
    spin_job g = {.e = e, .store = "s"};
    if (pthread_create(&t, NULL, spin, &g) == 0) {
        pthread_join(t, NULL);
        check(g.st == KR_ENGINE_OK, "deadline: the next receipt on another thread is evaluated");
    }
    kr_engine_close(e);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test-engine WORKED.lua\n");
        return 2;
    }
    size_t len;
    char *text = read_all(argv[1], &len);
    if (!text) {
        printf("Bail out! cannot read %s\n", argv[1]);
        return 1;
    }
    kr_engine *e = NULL;
    char err[512];
    kr_engine_status st = kr_engine_open(text, len, "worked.lua", NULL, &e, err, sizeof err);
    free(text);
    if (st != KR_ENGINE_OK) {
        printf("Bail out! %s: %s\n", kr_engine_status_name(st), err);
        return 1;
    }
    kr_engine_result r;
    kr_engine_result_init(&r);
    test_percent(e, &r);
    test_receipt_amount(e, &r);
    test_groups(e, &r);
    test_stop(e, &r);
    test_caps(e, &r);
    test_points(e, &r);
    test_certificates(e, &r);
    test_table(e, &r);
    test_choice(e, &r);
    test_rejected(e, &r);
    test_zero_row(e, &r);
    test_json(e, &r);
    test_invalid(e, &r);
    test_sandbox(&r);
    test_window(&r);
    test_audience(&r);
    test_deadline();
    kr_engine_result_free(&r);
    kr_engine_close(e);
    printf("1..%d\n", n_test);
    return n_failed ? 1 : 0;
}
