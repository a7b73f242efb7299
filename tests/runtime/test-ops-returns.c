// SPDX-License-Identifier: MIT
// test-ops-returns.c: returns of some units of a line, through the operations on
// tests/runtime/ops/returns.xml, with every figure worked out by hand in the comments; then a
// property check that random sequences of partial returns add up exactly to the whole lines.
//
// returns.xml: 5% of the money paid back as points (not on certificates nor the club card),
// points pay up to 50% at 1.00 a point; gift-1000 certificates (GIFT-1000); the paid club "club"
// (CLUB, 30 days a card); the all-time ladder "levels" over the money paid, leaving out SKU SVC;
// the challenge "two": 2 receipts of at least 900.00 in a calendar month give 100 points.
//
// How a line comes back in pieces (docs/internals/ops.md, "Partial returns"): the first u units
// of a line carry back F(u), the money its fiscal sub-lines print for them, cheaper units first;
// of F(u) the points take floor(P x F(u) / final), each certificate floor(C x rest / what is
// left of final), the money paid the rest; points earned follow the money paid and points spent
// follow the points' money. A return of k units takes share(before + k) - share(before).
#include "kr-ledger-private.h"
#include "kr-ledger-sales.h"
#include "kr-reports.h"
#include "ops/ops-test.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

static kr_buf out;
static json_t *ans; // the last answer, parsed

typedef enum kind { CONFIRM, RETURN, GRANT, CUSTOMER } kind;

// Runs an operation on the JSON printf makes of fmt against `o` and parses its answer.
static kr_ops_status run(kr_ops *o, kind what, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static kr_ops_status run(kr_ops *o, kind what, const char *fmt, ...)
{
    char json[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(json, sizeof json, fmt, ap);
    va_end(ap);
    json_decref(ans);
    size_t n = strlen(json);
    kr_ops_status st = what == CONFIRM  ? kr_ops_confirm(o, json, n, &out)
                       : what == RETURN ? kr_ops_return(o, json, n, &out)
                       : what == GRANT
                           ? kr_ops_points_grant(o, json, n, &out)
                           : kr_ops_customer_create(o, json, n, T("2026-03-01T09:00:00Z"), &out);
    ans = json_loads(out.data ? out.data : "", 0, NULL);
    if (st != KR_OPS_OK && st != KR_OPS_REPLAY)
        tap_diag("%s: %s", kr_ops_status_name(st), out.data ? out.data : "");
    return st;
}

static const json_t *at_path(const char *path)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", path);
    const json_t *v = ans;
    for (char *tok = strtok(buf, "."); tok && v; tok = strtok(NULL, "."))
        v = json_is_array(v) ? json_array_get(v, (size_t)atoi(tok)) : json_object_get(v, tok);
    return v;
}

// True when the value at `path` of the last answer prints (compactly) as `want`.
static bool is(const char *path, const char *want)
{
    const json_t *v = at_path(path);
    char *got = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    bool same = got && strcmp(got, want) == 0;
    if (!same)
        tap_diag("%s: expected %s, got %s", path, want, got ? got : "(missing)");
    free(got);
    return same;
}

// Money at `path` of the last answer in minor units (-1 when absent).
static int64_t money_at(const char *path)
{
    const char *s = json_string_value(at_path(path));
    int64_t v = -1;
    char why[64];
    if (!s || !kr_parse_money(s, 2, false, &v, why, sizeof why))
        return -1;
    return v;
}

static int64_t int_at(const char *path)
{
    return json_integer_value(at_path(path));
}

// The customer's spendable points at `at`, and the ladder's value (turnover) into *value.
static int64_t spendable(kr_ops *o, const char *who, const char *at, int64_t *value)
{
    char ref[64];
    snprintf(ref, sizeof ref, "{\"id\":\"%s\"}", who);
    json_decref(ans);
    ans = NULL;
    if (kr_ops_balance(o, ref, T(at), &out) != KR_OPS_OK)
        return -1;
    ans = json_loads(out.data, 0, NULL);
    if (value)
        *value = money_at("tiers.0.value");
    return int_at("spendable");
}

static int64_t counter(kr_ops *o, int64_t customer, const char *metric, const char *period)
{
    int64_t v = -1;
    kr_ledger_counter_get(o->db, customer, metric, period, &v);
    return v;
}

// ---- units one by one, and the same line at once -------------------------------------------
// Ivan has 100 points granted. R0 (1 March): 2 x 500.00 pipes, 50 points, counts for the
// challenge. R1 (2 March): 3 mixers for 1000.00, paid 100 points (100.00): fiscal 2 x 333.33 +
// 1 x 333.34; P = 100.00, paid money 900.00, 45 points earned; the challenge's second receipt,
// so R1 completes it: +100 bonus. Balance 100 - 100 + 50 + 45 + 100 = 195.
//   u=1: F 333.33, points' money floor(100.00 x 333.33 / 1000.00) = 33.33 (3333.3 -> 3333
//        kopecks), paid 300.00, earned floor(45 x 300/900) = 15, spent floor(100 x 33.33/100) = 33
//   u=2: F 666.66, points' money 66.66, paid 600.00, earned 30, spent 66
//   u=3: F 1000.00, 100.00, 900.00, 45, 100
// so the pieces are 333.33/33.33/300.00/15/33, 333.33/33.33/300.00/15/33,
// 333.34/33.34/300.00/15/34.
static void setup_ivan(kr_ops *o)
{
    run(o, CUSTOMER, "{\"id\":\"ivan\",\"phone\":\"+79160000001\"}");
    run(o, GRANT,
        "{\"id\":\"g-ivan\",\"time\":\"2026-03-01T09:00:00Z\",\"customer\":{\"id\":"
        "\"ivan\"},\"points\":100}");
    run(o, CONFIRM,
        "{\"id\":\"R0\",\"time\":\"2026-03-01T12:00:00Z\",\"customer\":{\"id\":\"ivan\"},"
        "\"lines\":[{\"id\":\"1\",\"sku\":\"PIPE\",\"qty\":2,\"price\":\"500.00\"}]}");
    run(o, CONFIRM,
        "{\"id\":\"R1\",\"time\":\"2026-03-02T12:00:00Z\",\"customer\":{\"id\":\"ivan\"},"
        "\"points\":100,\"lines\":[{\"id\":\"1\",\"sku\":\"MIX\",\"qty\":3,\"price\":\"333.34\","
        "\"amount\":\"1000.00\"}]}");
}

static void test_one_by_one(void)
{
    kr_ops *o = ops_test_open();
    setup_ivan(o);
    tap_ok(is("lines.0.fiscal",
              "[{\"qty\":2,\"price\":\"333.33\"},{\"qty\":1,\"price\":\"333.34\"}]") &&
               is("rewards.0.points", "100"),
           "R1 prints 2 x 333.33 + 1 x 333.34 and completes the challenge");
    int64_t value = 0;
    tap_ok(spendable(o, "ivan", "2026-03-02T13:00:00Z", &value) == 195 && value == 200000,
           "before: 195 points, turnover 2000.00");

    const char *x1 = "{\"id\":\"X1\",\"receipt\":\"R1\",\"time\":\"2026-03-03T09:00:00Z\","
                     "\"lines\":[{\"id\":\"1\",\"qty\":1}]}";
    tap_ok(run(o, RETURN, "%s", x1) == KR_OPS_OK &&
               is("returned_lines",
                  "[{\"line\":\"1\",\"qty\":1,\"left\":2,\"money\":\"333.33\",\"points_money\":"
                  "\"33.33\",\"certificate_money\":\"0.00\",\"paid_money\":\"300.00\","
                  "\"points_reversed\":15,\"points_given_back\":33}]") &&
               is("money", "\"333.33\"") && is("points_reversed", "15") &&
               is("points_returned", "33") && is("lines", "[\"1\"]"),
           "unit 1: 333.33 (the cheaper printed price), 15 points reversed, 33 given back");
    // 1000.00 - 333.33 = 666.67 < 900.00: R1 stops counting and its bonus goes:
    // 195 - 15 + 33 - 100 = 113.
    tap_ok(spendable(o, "ivan", "2026-03-03T09:00:00Z", &value) == 113 && value == 166667,
           "113 points (the challenge bonus taken back), turnover 1666.67");
    tap_ok(counter(o, 1, "challenge:two", "2026-03-02") == 0 &&
               counter(o, 1, "challenge:two", "2026-03-01") == 1,
           "R1 no longer counts for the challenge, R0 still does");
    tap_ok(ops_test_check(o), "check after unit 1");

    const char *x2 = "{\"id\":\"X2\",\"receipt\":\"R1\",\"time\":\"2026-03-04T09:00:00Z\","
                     "\"lines\":[{\"id\":\"1\",\"qty\":1}]}";
    tap_ok(run(o, RETURN, "%s", x2) == KR_OPS_OK && is("returned_lines.0.money", "\"333.33\"") &&
               is("returned_lines.0.left", "1") && is("returned_lines.0.points_given_back", "33"),
           "unit 2: 333.33, 15 reversed, 33 given back");
    tap_ok(spendable(o, "ivan", "2026-03-04T09:00:00Z", &value) == 131 && value == 133334,
           "131 points (113 - 15 + 33), turnover 1333.34");
    tap_ok(run(o, RETURN, "%s", x2) == KR_OPS_REPLAY && is("returned_lines.0.money", "\"333.33\""),
           "the same return again is a replay with the first answer");
    tap_ok(spendable(o, "ivan", "2026-03-04T09:00:00Z", NULL) == 131, "and changes nothing");
    tap_ok(run(o, RETURN,
               "{\"id\":\"X2\",\"receipt\":\"R1\",\"time\":\"2026-03-04T09:00:00Z\",\"lines\":"
               "[{\"id\":\"1\",\"qty\":2}]}") == KR_OPS_CONFLICT,
           "the same return id with another body is a conflict");
    tap_ok(run(o, RETURN,
               "{\"id\":\"X3\",\"receipt\":\"R1\",\"time\":\"2026-03-05T09:00:00Z\",\"lines\":"
               "[{\"id\":\"1\",\"qty\":2}]}") == KR_OPS_CONFLICT &&
               is("error.field", "\"lines[0].qty\"") &&
               is("error.message", "\"2 of the 3 units of line 1 of R1 came back before: 1 is "
                                   "left to return, not 2\""),
           "2 units when 1 is left: conflict naming lines[0].qty");
    tap_ok(run(o, RETURN,
               "{\"id\":\"X3\",\"receipt\":\"R1\",\"time\":\"2026-03-05T09:00:00Z\",\"lines\":"
               "[{\"id\":\"1\",\"qty\":4}]}") == KR_OPS_INVALID &&
               is("error.field", "\"lines[0].qty\""),
           "4 units of a 3-unit line: invalid");
    tap_ok(spendable(o, "ivan", "2026-03-05T09:00:00Z", &value) == 131 && value == 133334 &&
               ops_test_check(o),
           "the refused returns changed nothing");

    tap_ok(run(o, RETURN,
               "{\"id\":\"X3\",\"receipt\":\"R1\",\"time\":\"2026-03-05T09:00:00Z\",\"lines\":"
               "[{\"id\":\"1\"}]}") == KR_OPS_OK &&
               is("returned_lines",
                  "[{\"line\":\"1\",\"qty\":1,\"left\":0,\"money\":\"333.34\",\"points_money\":"
                  "\"33.34\",\"certificate_money\":\"0.00\",\"paid_money\":\"300.00\","
                  "\"points_reversed\":15,\"points_given_back\":34}]"),
           "unit 3 (qty left out: the units left): 333.34, 15 reversed, 34 given back");
    // 333.33 + 333.33 + 333.34 = 1000.00; 15 x 3 = 45; 33 + 33 + 34 = 100: the whole line. The
    // balance is what R1 never happened gives: 100 granted + 50 of R0 = 150.
    tap_ok(spendable(o, "ivan", "2026-03-05T09:00:00Z", &value) == 150 && value == 100000,
           "150 points and turnover 1000.00: as if R1 never happened");
    tap_ok(run(o, RETURN,
               "{\"id\":\"X4\",\"receipt\":\"R1\",\"time\":\"2026-03-05T09:00:00Z\",\"lines\":"
               "[{\"id\":\"1\",\"qty\":1}]}") == KR_OPS_CONFLICT &&
               is("error.field", "\"lines[0].id\""),
           "a line with no unit left: conflict naming lines[0].id");
    tap_ok(ops_test_check(o), "check at the end");
    kr_ops_close(o);

    // The twin: the same receipts, R1 returned at once.
    o = ops_test_open();
    setup_ivan(o);
    tap_ok(run(o, RETURN,
               "{\"id\":\"W1\",\"receipt\":\"R1\",\"time\":\"2026-03-03T09:00:00Z\",\"lines\":"
               "[{\"id\":\"1\"}]}") == KR_OPS_OK &&
               is("money", "\"1000.00\"") && is("points_reversed", "45") &&
               is("points_returned", "100") && is("returned_lines.0.points_money", "\"100.00\"") &&
               is("returned_lines.0.paid_money", "\"900.00\""),
           "at once: 1000.00, 45 reversed, 100 given back");
    tap_ok(spendable(o, "ivan", "2026-03-05T09:00:00Z", &value) == 150 && value == 100000 &&
               ops_test_check(o),
           "the same 150 points and 1000.00 as the three returns");
    kr_ops_close(o);
}

// ---- certificates and the club ---------------------------------------------------------------
// Olga buys three gift certificates G1, G2, G3 on one line (S1) and three club cards (K1: 90
// days, through 29 May). P1: 3 mixers for 1000.00 paid 300.00 by G1, 700.00 in money, 35
// points. A unit of P1 back: G1 gets floor(300.00 x F/1000.00) of the cumulative money:
//   u=1: F 333.33 -> 99.99 (9999.9), paid 233.34;  u=2: 666.66 -> 199.99, paid 466.67;
//   u=3: 300.00, 700.00. Earned: floor(35 x 233.34/700) = 11, floor(35 x 466.67/700) = 23, 35.
static void test_certificates_and_club(void)
{
    kr_ops *o = ops_test_open();
    run(o, CUSTOMER, "{\"id\":\"olga\",\"phone\":\"+79160000002\"}");
    tap_ok(run(o, CONFIRM,
               "{\"id\":\"S1\",\"time\":\"2026-03-01T12:00:00Z\",\"customer\":{\"id\":\"olga\"},"
               "\"lines\":[{\"id\":\"g\",\"sku\":\"GIFT-1000\",\"category\":\"certificates\","
               "\"qty\":3,\"price\":\"1000.00\",\"certificates\":[\"G1\",\"G2\",\"G3\"]},"
               "{\"id\":\"k\",\"sku\":\"CLUB\",\"qty\":3,\"price\":\"100.00\"}]}") == KR_OPS_OK &&
               is("memberships.0.days", "90") && is("memberships.0.last_day", "\"2026-05-29\""),
           "S1 sells G1..G3 and 90 club days (1 March + 90 days: through 29 May)");
    tap_ok(run(o, CONFIRM,
               "{\"id\":\"P1\",\"time\":\"2026-03-02T12:00:00Z\",\"customer\":{\"id\":\"olga\"},"
               "\"certificates\":[{\"number\":\"G1\",\"amount\":\"300.00\"}],"
               "\"lines\":[{\"id\":\"1\",\"sku\":\"MIX\",\"qty\":3,\"price\":\"333.34\","
               "\"amount\":\"1000.00\"}]}") == KR_OPS_OK &&
               is("lines.0.paid_certificates", "\"300.00\"") && is("lines.0.points_earned", "35"),
           "P1: G1 pays 300.00, 35 points on 700.00");

    tap_ok(run(o, RETURN,
               "{\"id\":\"Y1\",\"receipt\":\"P1\",\"time\":\"2026-03-03T09:00:00Z\",\"lines\":"
               "[{\"id\":\"1\",\"qty\":1}]}") == KR_OPS_OK &&
               is("returned_lines.0.certificate_money", "\"99.99\"") &&
               is("returned_lines.0.paid_money", "\"233.34\"") &&
               is("returned_lines.0.points_reversed", "11") &&
               is("certificates_returned.0.amount", "\"99.99\"") &&
               is("certificates_returned.0.remaining", "\"799.99\""),
           "a unit of P1: 99.99 back to G1 (799.99 left), 233.34 in money, 11 points");

    tap_ok(run(o, RETURN,
               "{\"id\":\"Y2\",\"receipt\":\"S1\",\"time\":\"2026-03-03T09:00:00Z\",\"lines\":"
               "[{\"id\":\"g\",\"qty\":2}]}") == KR_OPS_INVALID &&
               is("error.field", "\"lines[0].certificates\""),
           "2 of 3 certificates back without naming them: invalid (which ones?)");
    tap_ok(run(o, RETURN,
               "{\"id\":\"Y2\",\"receipt\":\"S1\",\"time\":\"2026-03-03T09:00:00Z\",\"lines\":"
               "[{\"id\":\"g\",\"qty\":2,\"certificates\":[\"G2\"]}]}") == KR_OPS_INVALID &&
               is("error.field", "\"lines[0].certificates\""),
           "2 units naming 1 certificate: invalid");
    tap_ok(run(o, RETURN,
               "{\"id\":\"Y2\",\"receipt\":\"S1\",\"time\":\"2026-03-03T09:00:00Z\",\"lines\":"
               "[{\"id\":\"g\",\"qty\":1,\"certificates\":[\"G9\"]}]}") == KR_OPS_INVALID,
           "a certificate the line did not sell: invalid");
    tap_ok(run(o, RETURN,
               "{\"id\":\"Y2\",\"receipt\":\"S1\",\"time\":\"2026-03-03T09:00:00Z\",\"lines\":"
               "[{\"id\":\"g\",\"qty\":1,\"certificates\":[\"G1\"]}]}") == KR_OPS_REFUSED,
           "G1 was used: refused");
    tap_ok(run(o, RETURN,
               "{\"id\":\"Y2\",\"receipt\":\"S1\",\"time\":\"2026-03-03T09:00:00Z\",\"lines\":"
               "[{\"id\":\"g\",\"qty\":1,\"certificates\":[\"G2\"]},{\"id\":\"k\",\"qty\":1}]}") ==
                   KR_OPS_OK &&
               is("certificates_voided", "[\"G2\"]") && is("money", "\"1100.00\"") &&
               is("returned_lines.0.money", "\"1000.00\"") && is("memberships.0.days", "30") &&
               is("memberships.0.last_day", "\"2026-04-29\""),
           "G2 and one club card back: G2 void, 1000.00 + 100.00, 30 days off (through 29 April)");
    tap_ok(run(o, RETURN,
               "{\"id\":\"Y3\",\"receipt\":\"S1\",\"time\":\"2026-03-03T10:00:00Z\",\"lines\":"
               "[{\"id\":\"g\",\"qty\":1,\"certificates\":[\"G2\"]}]}") == KR_OPS_CONFLICT,
           "G2 again: conflict");
    tap_ok(run(o, RETURN,
               "{\"id\":\"Y3\",\"receipt\":\"S1\",\"time\":\"2026-03-03T10:00:00Z\",\"lines\":"
               "[{\"id\":\"g\"}]}") == KR_OPS_REFUSED,
           "both units left (G1, G3) unnamed: G1 is used, refused, nothing changes");
    tap_ok(run(o, RETURN,
               "{\"id\":\"Y3\",\"receipt\":\"S1\",\"time\":\"2026-03-03T10:00:00Z\",\"lines\":"
               "[{\"id\":\"g\",\"qty\":1,\"certificates\":[\"G3\"]}]}") == KR_OPS_OK &&
               is("certificates_voided", "[\"G3\"]") && is("returned_lines.0.left", "1"),
           "G3 back: void, one unit left");
    // The rest of P1: G1 gets 300.00 - 99.99 = 200.01 (1000.00 again), 466.66 in money
    // (700.00 - 233.34), 35 - 11 = 24 points.
    tap_ok(run(o, RETURN,
               "{\"id\":\"Y4\",\"receipt\":\"P1\",\"time\":\"2026-03-04T09:00:00Z\",\"lines\":"
               "[{\"id\":\"1\"}]}") == KR_OPS_OK &&
               is("returned_lines.0.qty", "2") && is("money", "\"666.67\"") &&
               is("returned_lines.0.certificate_money", "\"200.01\"") &&
               is("returned_lines.0.paid_money", "\"466.66\"") && is("points_reversed", "24") &&
               is("certificates_returned.0.remaining", "\"1000.00\""),
           "the two units left of P1: 200.01 back to G1 (1000.00), 466.66, 24 points");
    tap_ok(run(o, RETURN,
               "{\"id\":\"Y5\",\"receipt\":\"S1\",\"time\":\"2026-03-05T09:00:00Z\",\"lines\":"
               "[{\"id\":\"g\"},{\"id\":\"k\"}]}") == KR_OPS_OK &&
               is("certificates_voided", "[\"G1\"]") && is("memberships.0.days", "60") &&
               is("memberships.0.ended", "true"),
           "the rest of S1: G1 (unused again) void; 60 club days off ends the membership");
    tap_ok(ops_test_check(o), "check at the end");
    kr_ops_close(o);
}

// ---- points that expired before the return -----------------------------------------------------
// Anna's 100 granted points last until 10 March. E1 (2 March) spends them on 3 mixers for
// 1000.00 (the figures of R1 above). Unit 1 back on 5 March: 33 go back into the lot (still
// live). After the lot expires (jobs on 11 March: the 33 are gone), units 2 and 3 give back
// 33 and 34 into the expired lot: journalled in and expired at once ("points_returned_dropped").
static void test_expired(void)
{
    kr_ops *o = ops_test_open();
    run(o, CUSTOMER, "{\"id\":\"anna\",\"phone\":\"+79160000003\"}");
    run(o, GRANT,
        "{\"id\":\"g-anna\",\"time\":\"2026-03-01T09:00:00Z\",\"customer\":{\"id\":"
        "\"anna\"},\"points\":100,\"expires\":\"2026-03-10T00:00:00Z\"}");
    run(o, CONFIRM,
        "{\"id\":\"E1\",\"time\":\"2026-03-02T12:00:00Z\",\"customer\":{\"id\":\"anna\"},"
        "\"points\":100,\"lines\":[{\"id\":\"1\",\"sku\":\"MIX\",\"qty\":3,\"price\":\"333.34\","
        "\"amount\":\"1000.00\"}]}");
    tap_ok(run(o, RETURN,
               "{\"id\":\"Z1\",\"receipt\":\"E1\",\"time\":\"2026-03-05T09:00:00Z\",\"lines\":"
               "[{\"id\":\"1\",\"qty\":1}]}") == KR_OPS_OK &&
               is("points_returned", "33") && is("points_returned_dropped", "0") &&
               is("balance_after", "63"),
           "unit 1 before the expiry: 33 back into the lot; 45 - 15 + 33 = 63");
    kr_buf jobs;
    kr_buf_init(&jobs, 0);
    tap_ok(kr_ops_jobs_run(o, T("2026-03-11T00:00:00Z"), &jobs) == KR_OPS_OK &&
               spendable(o, "anna", "2026-03-11T00:00:00Z", NULL) == 30,
           "the lot expires: 63 - 33 = 30");
    kr_buf_free(&jobs);
    tap_ok(run(o, RETURN,
               "{\"id\":\"Z2\",\"receipt\":\"E1\",\"time\":\"2026-03-15T09:00:00Z\",\"lines\":"
               "[{\"id\":\"1\",\"qty\":1}]}") == KR_OPS_OK &&
               is("returned_lines.0.points_given_back", "33") && is("points_returned", "0") &&
               is("points_returned_dropped", "33") && is("balance_after", "15"),
           "unit 2 after the expiry: 33 dropped; 30 - 15 = 15");
    tap_ok(ops_test_check(o), "check after unit 2");
    tap_ok(run(o, RETURN,
               "{\"id\":\"Z3\",\"receipt\":\"E1\",\"time\":\"2026-03-16T09:00:00Z\",\"lines\":"
               "[{\"id\":\"1\",\"qty\":1}]}") == KR_OPS_OK &&
               is("points_returned_dropped", "34") && is("balance_after", "0"),
           "unit 3: 34 dropped, nothing left");
    tap_ok(ops_test_check(o), "check at the end");
    kr_ops_close(o);
}

// ---- reports -------------------------------------------------------------------------------
// The sale facts of the parts: R1 of Ivan (3 mixers, 1000.00) with one unit back (333.33) and
// R0 (2 pipes, 1000.00) kept. products: MIX 2 units, 666.67, 1 unit returned; PIPE 2 units,
// 1000.00. sales: 2 receipts, revenue 1666.67, returned 333.33.
static void test_reports(void)
{
    kr_ops *o = ops_test_open();
    setup_ivan(o);
    run(o, RETURN,
        "{\"id\":\"X1\",\"receipt\":\"R1\",\"time\":\"2026-03-03T09:00:00Z\","
        "\"lines\":[{\"id\":\"1\",\"qty\":1}]}");
    kr_report_query q = {.from = "2026-03-01", .to = "2026-04-01"};
    json_decref(ans);
    ans =
        kr_ops_report(o, "products", &q, &out) == KR_OPS_OK ? json_loads(out.data, 0, NULL) : NULL;
    tap_ok(is("rows.0.sku", "\"PIPE\"") && is("rows.0.units", "2") &&
               is("rows.0.revenue", "\"1000.00\"") && is("rows.1.sku", "\"MIX\"") &&
               is("rows.1.units", "2") && is("rows.1.revenue", "\"666.67\"") &&
               is("rows.1.receipts", "1") && is("rows.1.returned_units", "1"),
           "products: MIX 2 units for 666.67 with 1 returned, PIPE untouched");
    json_decref(ans);
    ans = kr_ops_report(o, "sales", &q, &out) == KR_OPS_OK ? json_loads(out.data, 0, NULL) : NULL;
    tap_ok(is("rows.0.receipts", "2") && is("rows.0.revenue", "\"1666.67\"") &&
               is("rows.0.returned", "\"333.33\""),
           "sales: 2 receipts, 1666.67, 333.33 returned");
    kr_ops_close(o);
}

// ---- a ledger from before partial returns ---------------------------------------------------
// Version 6 knew only whole lines (receipt_line_return). Migration 7 gives each returned line one
// part with all its units and money; a return of it is then refused, as it was before.
static void test_migration(void)
{
    char path[] = "/tmp/kr-returns-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    unlink(path);
    kr_ledger *db = NULL;
    char err[256];
    if (kr_ledger_open_version(path, 6, &db, err, sizeof err) != KR_LEDGER_OK) {
        tap_ok(0, "open at version 6: %s", err);
        return;
    }
    const char *answer =
        "{\"receipt\":\"OLD1\",\"lines\":[{\"id\":\"1\",\"sku\":\"MIX\",\"qty\":3,"
        "\"original\":\"1000.00\",\"final\":\"900.00\",\"points_spent\":0,\"points_earned\":0,"
        "\"paid_points_money\":\"0.00\",\"certificates\":[]},{\"id\":\"2\",\"sku\":\"PIPE\","
        "\"qty\":2,\"original\":\"100.00\",\"final\":\"100.00\",\"points_spent\":0,"
        "\"points_earned\":0,\"paid_points_money\":\"0.00\",\"certificates\":[]}]}";
    kr_ledger_receipt_in rec = {.id = "OLD1",
                                .body_hash = "0000000000000000000000000000000000000000000000000000"
                                             "000000000000",
                                .result = answer,
                                .at = T("2026-03-03T12:00:00+03:00")};
    kr_ledger_sale_line sl[2] = {{"1", "MIX", 3, 100000, 90000}, {"2", "PIPE", 2, 10000, 10000}};
    kr_ledger_sale sale = {.receipt_id = "OLD1",
                           .at = rec.at,
                           .original = 110000,
                           .final = 100000,
                           .lines = sl,
                           .n_lines = 2};
    bool put =
        kr_ledger_receipt_put(db, &rec, NULL) == KR_LEDGER_OK &&
        kr_ledger_sale_put(db, &sale) == KR_LEDGER_OK &&
        kr_ledger_receipt_line_return(db, "OLD1", "1", "return:X", rec.at + 60) == KR_LEDGER_OK &&
        kr_ledger_receipt_set_state(db, "OLD1", KR_LEDGER_RECEIPT_PARTIALLY_RETURNED,
                                    rec.at + 60) == KR_LEDGER_OK;
    kr_ledger_close(db);
    db = NULL;
    tap_ok(put && kr_ledger_open(path, &db, err, sizeof err) == KR_LEDGER_OK,
           "a version-6 ledger with a returned line opens with the current schema");
    int64_t units = -1;
    if (db) {
        sqlite3_stmt *st = NULL;
        sqlite3_prepare_v2(db->sql,
                           "SELECT count(*), max(line_id), max(op_id), sum(qty), sum(original),"
                           " sum(final) FROM receipt_line_part",
                           -1, &st, NULL);
        bool ok = st && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int64(st, 0) == 1 &&
                  strcmp((const char *)sqlite3_column_text(st, 1), "1") == 0 &&
                  strcmp((const char *)sqlite3_column_text(st, 2), "return:X") == 0 &&
                  sqlite3_column_int64(st, 3) == 3 && sqlite3_column_int64(st, 4) == 100000 &&
                  sqlite3_column_int64(st, 5) == 90000;
        sqlite3_finalize(st);
        kr_ledger_line_units_back(db, "OLD1", "1", &units);
        tap_ok(ok && units == 3, "line 1 became one part: 3 units, 1000.00 / 900.00, return:X");
        kr_ledger_close(db);
    }
    kr_ops_program p = {.lua = ops_test_lua, .lua_len = ops_test_lua_len, .name = "fixture"};
    kr_ops *o = NULL;
    if (kr_ops_open(path, &p, &o, err, sizeof err) == KR_OPS_OK) {
        tap_ok(run(o, RETURN,
                   "{\"id\":\"Y\",\"receipt\":\"OLD1\",\"time\":\"2026-03-05T09:00:00Z\","
                   "\"lines\":[{\"id\":\"1\",\"qty\":1}]}") == KR_OPS_CONFLICT &&
                   is("error.field", "\"lines[0].id\""),
               "a unit of the old returned line cannot come back");
        tap_ok(run(o, RETURN,
                   "{\"id\":\"Y\",\"receipt\":\"OLD1\",\"time\":\"2026-03-05T09:00:00Z\","
                   "\"lines\":[{\"id\":\"2\",\"qty\":1}]}") == KR_OPS_OK &&
                   is("money", "\"50.00\"") && is("returned_lines.0.left", "1"),
               "a unit of the other line does: 50.00 (2 x 50.00 printed)");
        kr_ops_close(o);
    } else {
        tap_ok(0, "kr_ops_open: %s", err);
    }
    unlink(path);
}

// ---- property: pieces add up to the whole -------------------------------------------------------
static uint64_t rng = 0x9e3779b97f4a7c15u;
static int64_t rnd(int64_t n) // 0..n-1, deterministic
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (int64_t)(rng % (uint64_t)n);
}

#define PMAX_LINES 3
static int n_with_certs, n_with_points, n_pieces; // what the trials exercised
typedef struct sums {
    int64_t money, points_money, certs, paid, reversed, given;
} sums;

// One trial: the same receipt on two ledgers; on `a` its lines come back by random pieces (a
// return may take pieces of several lines), on `b` at once. After every piece the ledger holds
// its invariants; at the end the pieces add up to the confirm's lines, and both ledgers agree.
static bool trial(int t)
{
    kr_ops *a = ops_test_open(), *b = ops_test_open();
    kr_ops *both[2] = {a, b};
    int64_t n_lines = 1 + rnd(PMAX_LINES), qty[PMAX_LINES], amount[PMAX_LINES];
    int64_t points = rnd(400), cert = rnd(3) ? 0 : 1 + rnd(50000);
    char lines[1024] = "", certs[128] = "";
    size_t len = 0;
    for (int64_t i = 0; i < n_lines; i++) {
        qty[i] = 1 + rnd(7);
        amount[i] = rnd(4) ? 1 + rnd(300000) : rnd(qty[i] * 2); // some of a few kopecks
        len += (size_t)snprintf(lines + len, sizeof lines - len,
                                "%s{\"id\":\"l%lld\",\"sku\":\"S%lld\",\"qty\":%lld,"
                                "\"price\":\"%lld.%02lld\",\"amount\":\"%lld.%02lld\"}",
                                i ? "," : "", (long long)i, (long long)i, (long long)qty[i],
                                (long long)(amount[i] / 100 + 1), 0LL, (long long)(amount[i] / 100),
                                (long long)(amount[i] % 100));
    }
    if (cert)
        snprintf(certs, sizeof certs,
                 ",\"certificates\":[{\"number\":\"GC-P\",\"amount\":"
                 "\"%lld.%02lld\"}]",
                 (long long)(cert / 100), (long long)(cert % 100));
    json_t *confirmed = NULL;
    n_with_certs += cert > 0;
    for (int k = 0; k < 2; k++) {
        run(both[k], CUSTOMER, "{\"id\":\"c\",\"phone\":\"+79160000009\"}");
        run(both[k], GRANT,
            "{\"id\":\"g\",\"time\":\"2026-03-01T09:00:00Z\",\"customer\":"
            "{\"id\":\"c\"},\"points\":1000}");
        kr_ledger_certificate_add(both[k]->db, "GC-P", 1000000, KR_LEDGER_NEVER,
                                  T("2026-03-01T09:00:00Z"));
        if (run(both[k], CONFIRM,
                "{\"id\":\"R\",\"time\":\"2026-03-02T12:00:00Z\",\"customer\":{\"id\":\"c\"},"
                "\"points\":%lld%s,\"lines\":[%s]}",
                (long long)points, certs, lines) != KR_OPS_OK) {
            tap_diag("trial %d: confirm refused", t);
            kr_ops_close(a);
            kr_ops_close(b);
            return false;
        }
        if (!confirmed) {
            confirmed = json_incref(ans);
            n_with_points += int_at("points.spent") > 0;
        }
    }
    bool good = true;
    sums got[PMAX_LINES] = {{0}};
    int64_t left[PMAX_LINES], total_left = 0, n_ret = 0;
    for (int64_t i = 0; i < n_lines; i++)
        total_left += left[i] = qty[i];
    while (good && total_left > 0) {
        char body[1024];
        size_t bl = (size_t)snprintf(body, sizeof body,
                                     "{\"id\":\"p%lld\",\"receipt\":\"R\",\"time\":"
                                     "\"2026-03-%02lldT09:00:00Z\",\"lines\":[",
                                     (long long)n_ret, (long long)(3 + n_ret / 4));
        bool any = false;
        for (int64_t i = 0; i < n_lines; i++) {
            if (!left[i] || (any && rnd(2)))
                continue;
            int64_t k = 1 + rnd(left[i]);
            bl += (size_t)snprintf(body + bl, sizeof body - bl, "%s{\"id\":\"l%lld\",\"qty\":%lld}",
                                   any ? "," : "", (long long)i, (long long)k);
            left[i] -= k;
            total_left -= k;
            any = true;
        }
        snprintf(body + bl, sizeof body - bl, "]}");
        n_ret++;
        n_pieces++;
        good = run(a, RETURN, "%s", body) == KR_OPS_OK && ops_test_check(a);
        for (size_t r = 0; good && r < json_array_size(json_object_get(ans, "returned_lines"));
             r++) {
            char p[64];
            snprintf(p, sizeof p, "returned_lines.%zu.line", r);
            int64_t i = atoll(json_string_value(at_path(p)) + 1);
            sums *s = &got[i];
#define ADD(field, key, fn)                                                                        \
    snprintf(p, sizeof p, "returned_lines.%zu." key, r);                                           \
    s->field += fn(p);
            ADD(money, "money", money_at)
            ADD(points_money, "points_money", money_at)
            ADD(certs, "certificate_money", money_at)
            ADD(paid, "paid_money", money_at)
            ADD(reversed, "points_reversed", int_at)
            ADD(given, "points_given_back", int_at)
#undef ADD
        }
    }
    json_decref(ans);
    ans = json_incref(confirmed);
    for (int64_t i = 0; good && i < n_lines; i++) {
        char p[64];
#define WHOLE(key, fn) (snprintf(p, sizeof p, "lines.%lld." key, (long long)i), fn(p))
        good = got[i].money == WHOLE("final", money_at) &&
               got[i].points_money == WHOLE("paid_points_money", money_at) &&
               got[i].certs == WHOLE("paid_certificates", money_at) &&
               got[i].paid == WHOLE("paid_money", money_at) &&
               got[i].reversed == WHOLE("points_earned", int_at) &&
               got[i].given == WHOLE("points_spent", int_at);
#undef WHOLE
        if (!good)
            tap_diag("trial %d line %lld: pieces %lld/%lld/%lld/%lld/%lld/%lld differ from %s", t,
                     (long long)i, (long long)got[i].money, (long long)got[i].points_money,
                     (long long)got[i].certs, (long long)got[i].paid, (long long)got[i].reversed,
                     (long long)got[i].given, out.data);
    }
    json_decref(confirmed);
    if (good)
        good = run(b, RETURN,
                   "{\"id\":\"w\",\"receipt\":\"R\",\"time\":\"2026-03-03T09:00:00Z\",\"lines\":"
                   "[{\"id\":\"l0\"}%s%s]}",
                   n_lines > 1 ? ",{\"id\":\"l1\"}" : "",
                   n_lines > 2 ? ",{\"id\":\"l2\"}" : "") == KR_OPS_OK;
    // Both ledgers end where the receipt never was: the same balance, certificate and turnover.
    int64_t va = 0, vb = 0, ra = 0, rb = 0;
    if (good) {
        int64_t sa = spendable(a, "c", "2026-03-31T00:00:00Z", &va);
        int64_t sb = spendable(b, "c", "2026-03-31T00:00:00Z", &vb);
        kr_ledger_certificate_get(a->db, "GC-P", NULL, &ra, NULL);
        kr_ledger_certificate_get(b->db, "GC-P", NULL, &rb, NULL);
        good = sa == sb && sa == 1000 && va == vb && va == 0 && ra == rb && ra == 1000000 &&
               ops_test_check(b);
        if (!good)
            tap_diag("trial %d: balance %lld/%lld, turnover %lld/%lld, GC-P %lld/%lld", t,
                     (long long)sa, (long long)sb, (long long)va, (long long)vb, (long long)ra,
                     (long long)rb);
    }
    kr_ops_close(a);
    kr_ops_close(b);
    return good;
}

static void test_property(void)
{
    int passed = 0, trials = 60;
    for (int t = 0; t < trials; t++)
        passed += trial(t);
    tap_diag("%d returns; %d trials paid with points, %d with a certificate", n_pieces,
             n_with_points, n_with_certs);
    tap_ok(passed == trials,
           "%d of %d random sequences of partial returns add up to the whole "
           "lines, with the ledger's invariants after every return",
           passed, trials);
}

int main(int argc, char **argv)
{
    if (argc < 2 || !ops_test_load(argv[1])) {
        printf("Bail out! usage: test-ops-returns RETURNS.lua\n");
        return 1;
    }
    kr_buf_init(&out, 0);
    test_one_by_one();
    test_certificates_and_club();
    test_expired();
    test_reports();
    test_migration();
    test_property();
    json_decref(ans);
    kr_buf_free(&out);
    free(ops_test_lua);
    return tap_done();
}
