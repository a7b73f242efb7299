// SPDX-License-Identifier: MIT
// test-ops-jobs: kr_ops_jobs_run against tests/runtime/ops/jobs.xml — expiry at the exact
// instant, the year-end burn, tiers (immediate upgrade, downgrade at the quarter's end, a
// manual floor), segment transitions and paid memberships, birthday points once a year (and
// late by a few days), warnings 30 and 7 days before expiry, the tier reminder, inactivity;
// every second run (and every earlier one) changes nothing; kr_ops_check after each scenario.
#include "kr-ledger-codes.h"
#include "kr-ledger-query.h"
#include "ops/ops-test.h"

// The summary of a run that did nothing at `at` (an RFC 3339 UTC text).
#define NOTHING(at)                                                                                \
    "{\"at\":\"" at "\",\"expired\":{\"lots\":0,\"points\":0},\"burned\":{\"lots\":0,"             \
    "\"points\":0},\"tiers_changed\":0,\"segment_moves\":0,\"memberships_ended\":0,"               \
    "\"birthdays\":0,\"birthday_points\":0,\"inactive\":0,\"inactivity_points\":0,"                \
    "\"warnings\":0,\"reminders\":0,\"notifications\":0}"

static kr_buf answer;

// Runs the jobs at `when`; returns the answer (valid until the next call).
static const char *jobs(kr_ops *o, int64_t when)
{
    kr_ops_status st = kr_ops_jobs_run(o, when, &answer);
    if (st != KR_OPS_OK)
        tap_diag("jobs_run: %s: %s", kr_ops_status_name(st), answer.data);
    return answer.data ? answer.data : "";
}

static bool same(const char *got, const char *want)
{
    if (strcmp(got, want) == 0)
        return true;
    tap_diag("got:  %s", got);
    tap_diag("want: %s", want);
    return false;
}

// Reads an integer field `"name":N` of the answer (first occurrence).
static long long field(const char *json, const char *name)
{
    char key[64];
    snprintf(key, sizeof key, "\"%s\":", name);
    const char *p = strstr(json, key);
    return p ? atoll(p + strlen(key)) : -1;
}

static const char *tier_of(kr_ops *o, int64_t customer, int64_t at)
{
    static kr_ledger_tier t;
    if (kr_ledger_tier_current(o->db, customer, "partner-levels", at, &t) != KR_LEDGER_OK)
        return "(none)";
    return t.tier_id;
}

// All pending outbox messages (free with kr_ledger_outbox_free).
static kr_ledger_outbox_msg *outbox(kr_ops *o, size_t *n)
{
    kr_ledger_outbox_msg *v = NULL;
    *n = 0;
    if (kr_ledger_outbox_due(o->db, INT64_MAX - 1, 1000, &v, n) != KR_LEDGER_OK)
        tap_diag("outbox_due: %s", kr_ledger_errmsg(o->db));
    return v;
}

static const kr_ledger_outbox_msg *find_msg(const kr_ledger_outbox_msg *v, size_t n,
                                            const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].key, key) == 0)
            return &v[i];
    return NULL;
}

static void expect_msg(const kr_ledger_outbox_msg *v, size_t n, const char *key, const char *kind,
                       const char *channels, const char *payload, int64_t due)
{
    const kr_ledger_outbox_msg *m = find_msg(v, n, key);
    tap_ok(m != NULL, "outbox has %s", key);
    if (!m)
        return;
    tap_ok(strcmp(m->kind, kind) == 0, "%s: kind %s (%s)", key, kind, m->kind);
    tap_ok(strcmp(m->channels, channels) == 0, "%s: channels %s in order (%s)", key, channels,
           m->channels);
    tap_ok(same(m->payload, payload), "%s: payload", key);
    tap_ok(m->due_at == due, "%s: due at the run", key);
}

static int64_t add_points(kr_ops *o, int64_t customer, kr_source src, int64_t points,
                          const char *when, const char *op)
{
    kr_ledger_status s = kr__ops_add_points(o, customer, src, points, T(when), op, NULL);
    if (s != KR_LEDGER_OK)
        tap_diag("add_points: %s", kr_ledger_errmsg(o->db));
    return s;
}

static void add_counter(kr_ops *o, int64_t customer, const char *metric, const char *day, int64_t v)
{
    if (kr_ledger_counter_add(o->db, customer, metric, day, v, NULL) != KR_LEDGER_OK ||
        kr_ledger_counter_add(o->db, customer, metric, "all", v, NULL) != KR_LEDGER_OK)
        tap_diag("counter_add: %s", kr_ledger_errmsg(o->db));
}

static int64_t balance_of(kr_ops *o, int64_t customer)
{
    kr_ledger_customer *c = NULL;
    if (kr_ledger_customer_get(o->db, customer, &c) != KR_LEDGER_OK)
        return -1;
    int64_t b = c->balance;
    kr_ledger_customer_free(c);
    return b;
}

static bool in_segment(kr_ops *o, int64_t customer, const char *segment)
{
    kr_ledger_customer *c = NULL;
    bool found = false;
    if (kr_ledger_customer_get(o->db, customer, &c) != KR_LEDGER_OK)
        return false;
    for (size_t i = 0; i < c->n_segments; i++)
        found |= strcmp(c->segments[i].segment, segment) == 0;
    kr_ledger_customer_free(c);
    return found;
}

// ---- scenarios ---------------------------------------------------------------------------------

static void expiry_at_the_instant(void)
{
    kr_ops *o = ops_test_open();
    int64_t c = ops_test_customer(
        o,
        "{\"id\":\"C1\",\"phone\":\"+79160000001\",\"registered\":\"2026-01-01T10:00:00+03:00\"}",
        T("2026-01-01T10:00:00+03:00"));
    // Accrual: hold 14 days (spendable 2026-01-24 12:00), then 365 local days: expires at the
    // start of 2027-01-24 in Moscow.
    add_points(o, c, KR_SOURCE_ACCRUAL, 500, "2026-01-10T12:00:00+03:00", "R1");
    tap_ok(same(jobs(o, T("2027-01-23T23:59:59+03:00")),
                "{\"at\":\"2027-01-23T20:59:59Z\",\"expired\":{\"lots\":0,\"points\":0},"
                "\"burned\":{\"lots\":0,\"points\":0},\"tiers_changed\":0,\"segment_moves\":0,"
                "\"memberships_ended\":0,\"birthdays\":0,\"birthday_points\":0,\"inactive\":0,"
                "\"inactivity_points\":0,\"warnings\":1,\"reminders\":0,\"notifications\":1}"),
           "a second before expiry: nothing expires (a last-minute 7-day warning is sent)");
    tap_ok(same(jobs(o, T("2027-01-24T00:00:00+03:00")),
                "{\"at\":\"2027-01-23T21:00:00Z\",\"expired\":{\"lots\":1,\"points\":500},"
                "\"burned\":{\"lots\":0,\"points\":0},\"tiers_changed\":0,\"segment_moves\":0,"
                "\"memberships_ended\":0,\"birthdays\":0,\"birthday_points\":0,\"inactive\":0,"
                "\"inactivity_points\":0,\"warnings\":0,\"reminders\":0,\"notifications\":0}"),
           "at the local midnight the lot expires");
    tap_ok(balance_of(o, c) == 0, "balance 0 after expiry");
    tap_ok(same(jobs(o, T("2027-01-24T00:00:00+03:00")), NOTHING("2027-01-23T21:00:00Z")),
           "a second run at the same instant changes nothing");
    tap_ok(same(jobs(o, T("2027-01-20T00:00:00+03:00")), NOTHING("2027-01-19T21:00:00Z")),
           "a run at an earlier instant changes nothing");
    tap_ok(ops_test_check(o), "check after expiry");
    kr_ops_close(o);
}

static void warnings_30_and_7_days_before(void)
{
    kr_ops *o = ops_test_open();
    int64_t c = ops_test_customer(
        o,
        "{\"id\":\"C1\",\"phone\":\"+79160000001\",\"registered\":\"2026-01-01T10:00:00+03:00\"}",
        T("2026-01-01T10:00:00+03:00"));
    add_points(o, c, KR_SOURCE_ACCRUAL, 500, "2026-01-10T12:00:00+03:00", "R1");
    // Daily at 03:00 from 2026-12-20 to 2027-01-25.
    int64_t first = T("2026-12-20T03:00:00+03:00");
    long long warnings = 0, expired = 0;
    int64_t day30 = 0, day7 = 0, expired_on = 0;
    for (int64_t t = first; t <= T("2027-01-25T03:00:00+03:00"); t += 86400) {
        const char *a = jobs(o, t);
        long long w = field(a, "warnings");
        if (w > 0 && !day30)
            day30 = t;
        else if (w > 0 && !day7)
            day7 = t;
        warnings += w;
        long long e = field(a, "lots");
        if (e > 0)
            expired_on = t;
        expired += e;
    }
    tap_ok(warnings == 2, "two warnings in all (%lld)", warnings);
    tap_ok(day30 == T("2026-12-25T03:00:00+03:00"), "the 30-day warning on 2026-12-25");
    tap_ok(day7 == T("2027-01-17T03:00:00+03:00"), "the 7-day warning on 2027-01-17");
    tap_ok(expired == 1 && expired_on == T("2027-01-24T03:00:00+03:00"),
           "the lot expired by the run of 2027-01-24");
    size_t n;
    kr_ledger_outbox_msg *v = outbox(o, &n);
    tap_ok(n == 2, "two outbox entries (%zu)", n);
    char key[64];
    snprintf(key, sizeof key, "expiry-warning:%lld:2027-01-23:30", (long long)c);
    expect_msg(v, n, key, "expiry-warning", "messenger,sms",
               "{\"points\":500,\"date\":\"2027-01-23\",\"days_before\":30,"
               "\"message\":\"500 points expire on 2027-01-23.\"}",
               T("2026-12-25T03:00:00+03:00"));
    snprintf(key, sizeof key, "expiry-warning:%lld:2027-01-23:7", (long long)c);
    expect_msg(v, n, key, "expiry-warning", "messenger,sms,push",
               "{\"points\":500,\"date\":\"2027-01-23\",\"days_before\":7,"
               "\"message\":\"A week left: 500 points expire on 2027-01-23.\"}",
               T("2027-01-17T03:00:00+03:00"));
    kr_ledger_outbox_free(v, n);
    tap_ok(ops_test_check(o), "check after warnings");
    kr_ops_close(o);
}

static void burn_at_year_end(void)
{
    kr_ops *o = ops_test_open();
    int64_t c = ops_test_customer(o, "{\"id\":\"C1\",\"registered\":\"2026-01-01T10:00:00+03:00\"}",
                                  T("2026-01-01T10:00:00+03:00"));
    // Campaign points live 90 days (to 2027-01-30) but burn when 2026 ends; purchase points
    // do not burn.
    add_points(o, c, KR_SOURCE_PROMOTION, 100, "2026-11-15T12:00:00+03:00", "R1:promo");
    add_points(o, c, KR_SOURCE_ACCRUAL, 50, "2026-11-15T12:00:00+03:00", "R1");
    tap_ok(same(jobs(o, T("2026-12-31T23:59:00+03:00")), NOTHING("2026-12-31T20:59:00Z")),
           "nothing burns before the year ends");
    tap_ok(same(jobs(o, T("2027-01-01T00:00:00+03:00")),
                "{\"at\":\"2026-12-31T21:00:00Z\",\"expired\":{\"lots\":0,\"points\":0},"
                "\"burned\":{\"lots\":1,\"points\":100},\"tiers_changed\":0,\"segment_moves\":0,"
                "\"memberships_ended\":0,\"birthdays\":0,\"birthday_points\":0,\"inactive\":0,"
                "\"inactivity_points\":0,\"warnings\":0,\"reminders\":0,\"notifications\":0}"),
           "the campaign points burn at the year's end");
    tap_ok(balance_of(o, c) == 50, "the purchase points remain");
    kr_ledger_journal_row *rows = NULL;
    size_t n = 0;
    bool found = false;
    if (kr_ledger_history(o->db, c, 0, 100, &rows, &n) == KR_LEDGER_OK)
        for (size_t i = 0; i < n; i++)
            if (strcmp(rows[i].op_id, "burn:calendar-year:2026") == 0 &&
                strcmp(rows[i].kind, "expire") == 0 && rows[i].delta == -100)
                found = true;
    free(rows);
    tap_ok(found, "journal: expire -100 under burn:calendar-year:2026");
    tap_ok(same(jobs(o, T("2027-01-01T00:00:00+03:00")), NOTHING("2026-12-31T21:00:00Z")),
           "a second run burns nothing");
    tap_ok(same(jobs(o, T("2027-01-02T00:00:00+03:00")), NOTHING("2027-01-01T21:00:00Z")),
           "nor does the next day's");
    tap_ok(ops_test_check(o), "check after the burn");
    kr_ops_close(o);
}

static void tiers_quarterly(void)
{
    kr_ops *o = ops_test_open();
    int64_t reg = T("2026-01-05T10:00:00+03:00");
    int64_t p = ops_test_customer(
        o,
        "{\"id\":\"P1\",\"segments\":[\"partner\"],\"registered\":\"2026-01-05T10:00:00+03:00\"}",
        reg);
    int64_t q = ops_test_customer(
        o,
        "{\"id\":\"P2\",\"segments\":[\"partner\"],\"registered\":\"2026-01-05T10:00:00+03:00\"}",
        reg);
    // P1's turnover comes straight from counters (as a confirm leaves them); P2 buys through
    // confirm, which upgrades at once itself.
    add_counter(o, p, "paid", "2026-02-10", 31000000);
    static const char receipt[] =
        "{\"id\":\"R-P2\",\"time\":\"2026-02-10T12:00:00+03:00\",\"customer\":{\"id\":\"P2\"},"
        "\"lines\":[{\"id\":\"1\",\"sku\":\"TAP\",\"qty\":1,\"price\":\"310000.00\"}]}";
    kr_ops_status st = kr_ops_confirm(o, receipt, strlen(receipt), &answer);
    if (st != KR_OPS_OK)
        tap_diag("confirm: %s", answer.data);
    tap_ok(st == KR_OPS_OK &&
               strcmp(tier_of(o, q, T("2026-02-10T12:00:00+03:00")), "p-silver") == 0,
           "a partner crossing 300,000.00 is silver from that receipt on (%s)",
           tier_of(o, q, T("2026-02-10T12:00:00+03:00")));

    const char *a = jobs(o, T("2026-02-10T20:00:00+03:00"));
    tap_ok(field(a, "tiers_changed") == 1, "the job upgrades P1 at once (%s)", a);
    tap_ok(strcmp(tier_of(o, p, T("2026-02-10T20:00:00+03:00")), "p-silver") == 0, "P1 is silver");
    // A return takes 20,000.00 of the quarter's turnover away from both.
    add_counter(o, p, "paid", "2026-02-11", -2000000);
    add_counter(o, q, "paid", "2026-02-11", -2000000);
    a = jobs(o, T("2026-03-31T23:00:00+03:00"));
    tap_ok(field(a, "tiers_changed") == 0, "no downgrade before the quarter ends (%s)", a);
    tap_ok(strcmp(tier_of(o, p, T("2026-03-31T23:00:00+03:00")), "p-silver") == 0 &&
               strcmp(tier_of(o, q, T("2026-03-31T23:00:00+03:00")), "p-silver") == 0,
           "both still silver on the quarter's last day");
    a = jobs(o, T("2026-04-01T00:00:01+03:00"));
    tap_ok(field(a, "tiers_changed") == 2, "both downgraded when the quarter ends (%s)", a);
    tap_ok(strcmp(tier_of(o, p, T("2026-04-01T00:00:01+03:00")), "p-base") == 0 &&
               strcmp(tier_of(o, q, T("2026-04-01T00:00:01+03:00")), "p-base") == 0,
           "both are p-base in the new quarter");
    tap_ok(same(jobs(o, T("2026-04-01T00:00:01+03:00")), NOTHING("2026-03-31T21:00:01Z")),
           "a second run changes nothing");
    tap_ok(same(jobs(o, T("2026-03-20T00:00:00+03:00")), NOTHING("2026-03-19T21:00:00Z")),
           "a run at an earlier instant changes nothing");
    tap_ok(strcmp(tier_of(o, p, T("2026-03-20T00:00:00+03:00")), "p-silver") == 0,
           "history before the downgrade is kept");
    tap_ok(ops_test_check(o), "check after tiers");
    kr_ops_close(o);
}

static void manual_floor(void)
{
    kr_ops *o = ops_test_open();
    int64_t f = ops_test_customer(
        o,
        "{\"id\":\"F1\",\"segments\":[\"partner\"],\"registered\":\"2026-01-05T10:00:00+03:00\"}",
        T("2026-01-05T10:00:00+03:00"));
    kr_ledger_tier floor = {.ladder_id = "partner-levels",
                            .tier_id = "p-gold",
                            .from_at = T("2026-01-15T12:00:00+03:00"),
                            .reason = KR_LEDGER_TIER_MANUAL,
                            .floor_until = T("2026-09-30T00:00:00+03:00")};
    tap_ok(kr_ledger_tier_set(o->db, f, &floor) == KR_LEDGER_OK, "an operator sets a gold floor");
    const char *a = jobs(o, T("2026-04-02T03:00:00+03:00"));
    tap_ok(field(a, "tiers_changed") == 0 &&
               strcmp(tier_of(o, f, T("2026-04-02T03:00:00+03:00")), "p-gold") == 0,
           "the floor holds past the quarter's end with no turnover (%s)", a);
    a = jobs(o, T("2026-09-29T03:00:00+03:00"));
    tap_ok(field(a, "tiers_changed") == 0 &&
               strcmp(tier_of(o, f, T("2026-09-29T03:00:00+03:00")), "p-gold") == 0,
           "and until its end (%s)", a);
    a = jobs(o, T("2026-10-01T03:00:00+03:00"));
    tap_ok(field(a, "tiers_changed") == 1 &&
               strcmp(tier_of(o, f, T("2026-10-01T03:00:00+03:00")), "p-base") == 0,
           "after the floor ended the earned tier applies (%s)", a);
    tap_ok(ops_test_check(o), "check after the floor");
    kr_ops_close(o);
}

static void segment_transitions(void)
{
    kr_ops *o = ops_test_open();
    int64_t h = ops_test_customer(
        o,
        "{\"id\":\"H1\",\"segments\":[\"homeowner\"],\"registered\":\"2025-03-01T10:00:00+03:00\"}",
        T("2025-03-01T10:00:00+03:00"));
    tap_ok(same(jobs(o, T("2026-02-28T23:00:00+03:00")), NOTHING("2026-02-28T20:00:00Z")),
           "a homeowner stays one for 364 days");
    const char *a = jobs(o, T("2026-03-01T00:30:00+03:00"));
    tap_ok(field(a, "segment_moves") == 1, "moves 365 days after registration (%s)", a);
    tap_ok(!in_segment(o, h, "homeowner") && in_segment(o, h, "retail"), "H1 is retail now");
    tap_ok(same(jobs(o, T("2026-03-01T00:30:00+03:00")), NOTHING("2026-02-28T21:30:00Z")),
           "a second run moves nobody");

    // A paid club membership of 30 days, then back to retail.
    int64_t c = ops_test_customer(o, "{\"id\":\"K1\",\"registered\":\"2026-04-01T10:00:00+03:00\"}",
                                  T("2026-04-01T10:00:00+03:00"));
    tap_ok(kr_ledger_segment_join(o->db, c, "club", T("2026-05-01T12:00:00+03:00"),
                                  T("2026-05-31T00:00:00+03:00")) == KR_LEDGER_OK,
           "K1 buys a 30-day membership");
    tap_ok(same(jobs(o, T("2026-05-30T12:00:00+03:00")), NOTHING("2026-05-30T09:00:00Z")),
           "the membership runs");
    a = jobs(o, T("2026-05-31T00:10:00+03:00"));
    tap_ok(field(a, "memberships_ended") == 1 && field(a, "segment_moves") == 1,
           "the membership ends and K1 moves to retail (%s)", a);
    tap_ok(!in_segment(o, c, "club") && in_segment(o, c, "retail"), "K1 is retail now");
    tap_ok(same(jobs(o, T("2026-05-31T00:10:00+03:00")), NOTHING("2026-05-30T21:10:00Z")),
           "a second run changes nothing");
    tap_ok(ops_test_check(o), "check after transitions");
    kr_ops_close(o);
}

static void birthdays(void)
{
    kr_ops *o = ops_test_open();
    int64_t reg = T("2026-01-01T10:00:00+03:00");
    int64_t b1 = ops_test_customer(o,
                                   "{\"id\":\"B1\",\"segments\":[\"partner\"],\"birthday\":"
                                   "\"1990-06-15\",\"registered\":\"2026-01-01T10:00:00+03:00\"}",
                                   reg);
    int64_t b2 = ops_test_customer(o,
                                   "{\"id\":\"B2\",\"segments\":[\"partner\"],\"birthday\":"
                                   "\"1985-06-15\",\"registered\":\"2026-01-01T10:00:00+03:00\"}",
                                   reg);
    int64_t r = ops_test_customer(
        o,
        "{\"id\":\"R1\",\"birthday\":\"1990-06-15\",\"registered\":\"2026-01-01T10:00:00+03:00\"}",
        reg);
    long long total = 0;
    for (int64_t t = T("2026-06-10T09:00:00+03:00"); t <= T("2026-06-20T09:00:00+03:00");
         t += 86400) {
        const char *a = jobs(o, t);
        if (t == T("2026-06-15T09:00:00+03:00"))
            tap_ok(same(a, "{\"at\":\"2026-06-15T06:00:00Z\",\"expired\":{\"lots\":0,\"points\":0},"
                           "\"burned\":{\"lots\":0,\"points\":0},\"tiers_changed\":0,"
                           "\"segment_moves\":0,\"memberships_ended\":0,\"birthdays\":2,"
                           "\"birthday_points\":2000,\"inactive\":0,\"inactivity_points\":0,"
                           "\"warnings\":2,\"reminders\":0,\"notifications\":4}"),
                   "on the birthday: 1000 points for each partner (and the 30-day warning of "
                   "those 30-day points)");
        total += field(a, "birthday_points");
    }
    tap_ok(total == 2000, "birthday points given once in 11 daily runs (%lld)", total);
    tap_ok(balance_of(o, b1) == 1000 && balance_of(o, b2) == 1000 && balance_of(o, r) == 0,
           "partners got 1000, the retail customer nothing");
    size_t n;
    kr_ledger_outbox_msg *v = outbox(o, &n);
    char key[96];
    snprintf(key, sizeof key, "birthday:partner-birthday:%lld:2026", (long long)b1);
    expect_msg(v, n, key, "birthday", "messenger,sms",
               "{\"trigger\":\"partner-birthday\",\"points\":1000,"
               "\"message\":\"Happy birthday! 1000 points for you.\"}",
               T("2026-06-15T09:00:00+03:00"));
    // The retail customer's code a week ahead (the 8th; handled by the first run, the 10th).
    snprintf(key, sizeof key, "birthday:retail-birthday-code:%lld:2026", (long long)r);
    const kr_ledger_outbox_msg *m = find_msg(v, n, key);
    char code[32] = "";
    if (m && sscanf(m->payload,
                    "{\"trigger\":\"retail-birthday-code\",\"points\":0,"
                    "\"code\":\"%13[A-Z0-9-]\"",
                    code) != 1)
        code[0] = '\0';
    tap_ok(m && m->due_at == T("2026-06-10T09:00:00+03:00") &&
               strcmp(m->channels, "messenger,sms,email") == 0,
           "the retail customer's birthday code is sent by the run of the 10th");
    char want[256];
    snprintf(want, sizeof want,
             "{\"trigger\":\"retail-birthday-code\",\"points\":0,\"code\":\"%s\","
             "\"message\":\"Your birthday is coming: take 15%% off with %s.\"}",
             code, code);
    tap_ok(strlen(code) == 13 && strncmp(code, "BDAY-", 5) == 0 && m && same(m->payload, want),
           "with a new BDAY- code in the payload and the message (%s)", code);
    kr_ledger_promo promo;
    tap_ok(code[0] && kr_ledger_promo_get(o->db, code, r, &promo) == KR_LEDGER_OK &&
               strcmp(promo.batch_id, "birthday") == 0 && promo.max_uses == 1,
           "the code is recorded, of batch birthday, single use");
    kr_ledger_outbox_free(v, n);

    // Next year: again once; the 2026 points expired in July.
    const char *a = jobs(o, T("2027-06-15T09:00:00+03:00"));
    tap_ok(field(a, "birthday_points") == 2000 && field(a, "birthdays") == 2,
           "a year later: once more (%s)", a);
    tap_ok(same(jobs(o, T("2027-06-16T09:00:00+03:00")), NOTHING("2027-06-16T06:00:00Z")),
           "and not the day after");
    tap_ok(ops_test_check(o), "check after birthdays");
    kr_ops_close(o);

    // Runs on the 13th and the 17th only: a birthday on the 15th is still greeted on the 17th;
    // one on the 5th (more than a week before any run) is not.
    o = ops_test_open();
    int64_t b3 = ops_test_customer(o,
                                   "{\"id\":\"B3\",\"segments\":[\"partner\"],\"birthday\":"
                                   "\"1990-06-15\",\"registered\":\"2026-01-01T10:00:00+03:00\"}",
                                   reg);
    int64_t b4 = ops_test_customer(o,
                                   "{\"id\":\"B4\",\"segments\":[\"partner\"],\"birthday\":"
                                   "\"1990-06-05\",\"registered\":\"2026-01-01T10:00:00+03:00\"}",
                                   reg);
    a = jobs(o, T("2026-06-13T09:00:00+03:00"));
    tap_ok(field(a, "birthdays") == 0, "none due on the 13th (%s)", a);
    a = jobs(o, T("2026-06-17T09:00:00+03:00"));
    tap_ok(field(a, "birthdays") == 1 && balance_of(o, b3) == 1000 && balance_of(o, b4) == 0,
           "the 15th's birthday is handled on the 17th, not the 5th's (%s)", a);
    a = jobs(o, T("2026-06-25T09:00:00+03:00"));
    tap_ok(field(a, "birthdays") == 0, "and only once (%s)", a);
    tap_ok(ops_test_check(o), "check after late birthdays");
    kr_ops_close(o);
}

static void tier_reminder(void)
{
    kr_ops *o = ops_test_open();
    int64_t reg = T("2026-01-05T10:00:00+03:00");
    int64_t r1 = ops_test_customer(
        o,
        "{\"id\":\"R1\",\"segments\":[\"partner\"],\"registered\":\"2026-01-05T10:00:00+03:00\"}",
        reg);
    int64_t r2 = ops_test_customer(
        o,
        "{\"id\":\"R2\",\"segments\":[\"partner\"],\"registered\":\"2026-01-05T10:00:00+03:00\"}",
        reg);
    int64_t r3 =
        ops_test_customer(o, "{\"id\":\"R3\",\"registered\":\"2026-01-05T10:00:00+03:00\"}", reg);
    add_counter(o, r1, "paid", "2026-04-05", 25000000); // 50,000.00 short: 16.7 % of 300,000
    add_counter(o, r2, "paid", "2026-04-05", 20000000); // 100,000.00 short: 33 %
    add_counter(o, r3, "paid", "2026-04-05", 25000000); // retail: not on the ladder
    tap_ok(same(jobs(o, T("2026-05-31T12:00:00+03:00")), NOTHING("2026-05-31T09:00:00Z")),
           "no reminder 31 days before the quarter ends");
    tap_ok(same(jobs(o, T("2026-06-01T12:00:00+03:00")),
                "{\"at\":\"2026-06-01T09:00:00Z\",\"expired\":{\"lots\":0,\"points\":0},"
                "\"burned\":{\"lots\":0,\"points\":0},\"tiers_changed\":0,\"segment_moves\":0,"
                "\"memberships_ended\":0,\"birthdays\":0,\"birthday_points\":0,\"inactive\":0,"
                "\"inactivity_points\":0,\"warnings\":0,\"reminders\":1,\"notifications\":1}"),
           "30 days before: one partner within 20%% is reminded");
    size_t n;
    kr_ledger_outbox_msg *v = outbox(o, &n);
    tap_ok(n == 1, "one outbox entry (%zu)", n);
    char key[96];
    snprintf(key, sizeof key, "tier-reminder:quarter-reminder:%lld:2026-06-30", (long long)r1);
    expect_msg(v, n, key, "tier-reminder", "messenger,sms",
               "{\"trigger\":\"quarter-reminder\",\"ladder\":\"partner-levels\",\"tier\":"
               "\"p-silver\",\"tier_name\":\"Silver partner\",\"left\":\"50000.00\","
               "\"message\":\"50000.00 more and you are Silver partner.\"}",
               T("2026-06-01T12:00:00+03:00"));
    kr_ledger_outbox_free(v, n);
    tap_ok(same(jobs(o, T("2026-06-02T12:00:00+03:00")), NOTHING("2026-06-02T09:00:00Z")),
           "not reminded twice");
    tap_ok(ops_test_check(o), "check after reminders");
    kr_ops_close(o);
}

static void inactivity(void)
{
    kr_ops *o = ops_test_open();
    int64_t c = ops_test_customer(
        o,
        "{\"id\":\"I1\",\"phone\":\"+79160000009\",\"registered\":\"2026-01-05T10:00:00+03:00\"}",
        T("2026-01-05T10:00:00+03:00"));
    add_counter(o, c, "receipts", "2026-03-01", 1);
    tap_ok(same(jobs(o, T("2026-05-29T12:00:00+03:00")), NOTHING("2026-05-29T09:00:00Z")),
           "89 days after the last purchase: nothing");
    const char *a = jobs(o, T("2026-05-30T12:00:00+03:00"));
    tap_ok(field(a, "inactive") == 1 && field(a, "inactivity_points") == 200 &&
               field(a, "notifications") == 1,
           "90 days after: 200 points and an SMS (%s)", a);
    tap_ok(balance_of(o, c) == 200, "the points are there");
    tap_ok(same(jobs(o, T("2026-06-01T12:00:00+03:00")), NOTHING("2026-06-01T09:00:00Z")),
           "once per spell");
    tap_ok(ops_test_check(o), "check after inactivity");
    kr_ops_close(o);
}

// The challenge's reminder: 5 days before the month ends (1 June - 5 = 27 May), to players one
// counted receipt short without the month's bonus; once per customer and month.
static void challenge_reminder(void)
{
    kr_ops *o = ops_test_open();
    int64_t reg = T("2026-05-01T10:00:00+03:00");
    int64_t g1 = ops_test_customer(
        o, "{\"id\":\"G1\",\"segments\":[\"gamers\"],\"registered\":\"2026-05-01T10:00:00+03:00\"}",
        reg);
    int64_t g2 = ops_test_customer(
        o, "{\"id\":\"G2\",\"segments\":[\"gamers\"],\"registered\":\"2026-05-01T10:00:00+03:00\"}",
        reg);
    int64_t g3 = ops_test_customer(
        o, "{\"id\":\"G3\",\"segments\":[\"gamers\"],\"registered\":\"2026-05-01T10:00:00+03:00\"}",
        reg);
    int64_t r1 =
        ops_test_customer(o, "{\"id\":\"N1\",\"registered\":\"2026-05-01T10:00:00+03:00\"}", reg);
    add_counter(o, g1, "challenge:monthly-three", "2026-05-04", 1); // 2 of 3: one short
    add_counter(o, g1, "challenge:monthly-three", "2026-05-12", 1);
    add_counter(o, g2, "challenge:monthly-three", "2026-05-04", 1); // 1 of 3: two short
    add_counter(o, g3, "challenge:monthly-three", "2026-05-04", 3); // 3 of 3, rewarded
    add_counter(o, g3, "job:challenge:monthly-three", "2026-05-04", 1);
    add_counter(o, r1, "challenge:monthly-three", "2026-05-04", 2); // not a player
    add_counter(o, g2, "challenge:monthly-three", "2026-04-20", 1); // April does not count
    tap_ok(same(jobs(o, T("2026-05-26T03:00:00+03:00")), NOTHING("2026-05-26T00:00:00Z")),
           "no reminder 6 days before the month ends");
    tap_ok(same(jobs(o, T("2026-05-27T03:00:00+03:00")),
                "{\"at\":\"2026-05-27T00:00:00Z\",\"expired\":{\"lots\":0,\"points\":0},"
                "\"burned\":{\"lots\":0,\"points\":0},\"tiers_changed\":0,\"segment_moves\":0,"
                "\"memberships_ended\":0,\"birthdays\":0,\"birthday_points\":0,\"inactive\":0,"
                "\"inactivity_points\":0,\"warnings\":0,\"reminders\":1,\"notifications\":1}"),
           "5 days before: the one player a receipt short is reminded");
    size_t n;
    kr_ledger_outbox_msg *v = outbox(o, &n);
    tap_ok(n == 1, "one outbox entry (%zu)", n);
    char key[96];
    snprintf(key, sizeof key, "challenge-reminder:monthly-three:%lld:2026-05-31", (long long)g1);
    expect_msg(v, n, key, "challenge-reminder", "push,sms",
               "{\"trigger\":\"monthly-three\",\"left\":1,\"points\":500,\"date\":\"2026-05-31\","
               "\"message\":\"1 more purchase by 2026-05-31: 500 points.\"}",
               T("2026-05-27T03:00:00+03:00"));
    kr_ledger_outbox_free(v, n);
    tap_ok(same(jobs(o, T("2026-05-28T03:00:00+03:00")), NOTHING("2026-05-28T00:00:00Z")),
           "once per customer and month");
    tap_ok(ops_test_check(o), "check after the challenge reminder");
    kr_ops_close(o);
}

// Guessing protection through balance: unknown card numbers count against the reference's
// "source"; the 3rd within 10 minutes (limits set to 3 / 600 s / 1800 s) locks that source's
// card lookups for 30 minutes, for the real card too; another source is not affected.
static void card_guard_balance(void)
{
    kr_ops *o = ops_test_open();
    int64_t c = ops_test_customer(
        o,
        "{\"id\":\"K1\",\"card\":\"7700000000001\",\"registered\":\"2026-05-01T10:00:00+03:00\"}",
        T("2026-05-01T10:00:00+03:00"));
    kr_ops_set_card_guard(o, 3, 600, 1800);
    int64_t t0 = T("2026-06-01T12:00:00+03:00");
    static const char *const guesses[] = {"{\"card\":\"7700000000002\",\"source\":\"kiosk-1\"}",
                                          "{\"card\":\"7700000000003\",\"source\":\"kiosk-1\"}",
                                          "{\"card\":\"7700000000004\",\"source\":\"kiosk-1\"}"};
    for (int i = 0; i < 3; i++)
        tap_ok(kr_ops_balance(o, guesses[i], t0 + i * 60, &answer) == KR_OPS_NOT_FOUND,
               "guess %d from kiosk-1: not found", i + 1);
    kr_ops_status st =
        kr_ops_balance(o, "{\"card\":\"7700000000001\",\"source\":\"kiosk-1\"}", t0 + 180, &answer);
    tap_ok(st == KR_OPS_REFUSED &&
               strstr(answer.data, "too many unknown card numbers from source kiosk-1") &&
               strstr(answer.data, "until 2026-06-01T09:32:00Z"),
           "kiosk-1 locked from the 3rd miss (12:02) for 30 minutes, the real card too (%s)",
           answer.data);
    tap_ok(kr_ops_balance(o, "{\"card\":\"7700000000001\",\"source\":\"kiosk-2\"}", t0 + 190,
                          &answer) == KR_OPS_OK &&
               field(answer.data, "customer") == c,
           "kiosk-2 is not locked");
    tap_ok(kr_ops_balance(o, "{\"card\":\"7700000000001\"}", t0 + 200, &answer) == KR_OPS_OK,
           "a reference without a source counts against \"any\", not kiosk-1");
    tap_ok(kr_ops_balance(o, "{\"card\":\"7700000000001\",\"source\":\"kiosk-1\"}",
                          T("2026-06-01T12:32:00+03:00"), &answer) == KR_OPS_OK,
           "12:32: the lockout is over");
    tap_ok(kr_ops_balance(o, "{\"card\":\"7700000000001\",\"source\":\"\"}", t0, &answer) ==
                   KR_OPS_INVALID &&
               strstr(answer.data, "\"field\":\"source\""),
           "an empty source is refused by name");
    tap_ok(ops_test_check(o), "check after the guard");
    kr_ops_close(o);
}

int main(int argc, char **argv)
{
    if (argc < 2 || !ops_test_load(argv[1])) {
        printf("Bail out! usage: test-ops-jobs PROGRAM.lua\n");
        return 1;
    }
    kr_buf_init(&answer, 0);
    expiry_at_the_instant();
    warnings_30_and_7_days_before();
    burn_at_year_end();
    tiers_quarterly();
    manual_floor();
    segment_transitions();
    birthdays();
    tier_reminder();
    inactivity();
    challenge_reminder();
    card_guard_balance();
    kr_buf_free(&answer);
    free(ops_test_lua);
    return tap_done();
}
