// SPDX-License-Identifier: MIT
// test-ops-chains: trigger chains in the jobs (kr-ops-chains.c) against tests/runtime/ops/
// chains.xml — a registration chain: "Hello!" on the day (0), a code after 7 days and 100
// points for 10 days after 14, both unless the customer bought after the registration day.
// Each step happens once across repeated runs, runs at an earlier instant and a rolled-back
// (crashed) page; a purchase leaves the chain; a merge keeps the further position.
#include "ops/ops-test.h"

static kr_buf out;

// Runs the jobs at `at`; the answer's integer `key` (-1 when absent or on failure).
static long long jobs(kr_ops *o, const char *at, const char *key)
{
    if (kr_ops_jobs_run(o, T(at), &out) != KR_OPS_OK) {
        tap_diag("jobs failed: %s", out.data ? out.data : "");
        return -1;
    }
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(out.data, pat);
    return p ? atoll(p + strlen(pat)) : -1;
}

static kr_ledger_chain_pos position(kr_ops *o, int64_t customer)
{
    kr_ledger_chain_pos pos = {.done_days = -2};
    if (kr_ledger_chain_get(o->db, customer, "welcome-chain", &pos) != KR_LEDGER_OK)
        pos.done_days = -2; // not in the chain
    return pos;
}

static int64_t spendable(kr_ops *o, int64_t customer, const char *at)
{
    kr_ledger_balance b;
    if (kr_ledger_balance_get(o->db, customer, T(at), &b) != KR_LEDGER_OK)
        return -1;
    int64_t v = b.spendable;
    kr_ledger_balance_free(&b);
    return v;
}

// Pending outbox entries of a customer (all when 0).
static size_t outbox(kr_ops *o, int64_t customer)
{
    kr_ledger_outbox_msg *m = NULL;
    size_t n = 0;
    if (kr_ledger_outbox_pending(o->db, customer, 0, 1000, &m, &n) != KR_LEDGER_OK)
        return (size_t)-1;
    kr_ledger_outbox_free(m, n);
    return n;
}

// Registered 2026-03-02 (Moscow): hello on 02.03, the code on 09.03, points on 16.03.
static void once_each(void)
{
    kr_ops *o = ops_test_open();
    int64_t anna = ops_test_customer(o, "{\"id\":\"anna\",\"phone\":\"+79160000001\"}",
                                     T("2026-03-02T10:00:00+03:00"));
    tap_ok(jobs(o, "2026-03-02T20:00:00+03:00", "chain_steps") == 1,
           "the registration day: the hello step");
    tap_ok(jobs(o, "2026-03-02T20:00:00+03:00", "chain_steps") == 0,
           "a second run at the same instant does nothing");
    tap_ok(jobs(o, "2026-03-01T20:00:00+03:00", "chain_steps") == 0,
           "a run at an earlier instant does nothing");
    tap_ok(jobs(o, "2026-03-08T20:00:00+03:00", "chain_steps") == 0,
           "08.03, day 6: the code step is not due");
    tap_ok(outbox(o, anna) == 1, "one entry so far (hello)");

    // 09.03: the code step, in a page that fails (rolled back): nothing of it stays.
    kr_ledger_customer *c = NULL;
    kr__ops_chain_tally t = {0};
    const char *seg[] = {"x"};
    kr_ledger_status s = kr_ledger_begin(o->db);
    if (s == KR_LEDGER_OK)
        s = kr_ledger_customer_get(o->db, anna, &c);
    if (s == KR_LEDGER_OK)
        s = kr__ops_chains_customer(o, c, seg, 0, seg, 0, T("2026-03-09T20:00:00+03:00"),
                                    kr__ops_local_day(o, T("2026-03-09T20:00:00+03:00")) - 6, &t);
    kr_ledger_rollback(o->db);
    kr_ledger_customer_free(c);
    tap_ok(s == KR_LEDGER_OK && t.steps == 1, "inside the page the code step was done");
    tap_ok(position(o, anna).done_days == 0 && outbox(o, anna) == 1,
           "rolled back: the position is still after hello, no second entry");

    tap_ok(jobs(o, "2026-03-09T20:00:00+03:00", "chain_steps") == 1,
           "the next run does the code step");
    tap_ok(jobs(o, "2026-03-10T20:00:00+03:00", "chain_steps") == 0, "and only once");
    tap_ok(outbox(o, anna) == 2 && position(o, anna).done_days == 7,
           "two entries; the position is after the 7-day step");
    tap_ok(jobs(o, "2026-03-16T20:00:00+03:00", "chain_points") == 100,
           "16.03: 100 points (no purchase)");
    tap_ok(position(o, anna).state == KR_LEDGER_CHAIN_DONE, "the chain is done");
    // points-days 10: 16.03 .. 25.03, expiring at the start of 26.03.
    tap_ok(spendable(o, anna, "2026-03-25T23:59:00+03:00") == 100 &&
               spendable(o, anna, "2026-03-26T00:00:00+03:00") == 0,
           "spendable at once until the end of 25.03");
    tap_ok(jobs(o, "2026-03-17T20:00:00+03:00", "chain_steps") == 0, "nothing after the end");
    tap_ok(ops_test_check(o), "ledger invariants hold");
    kr_ops_close(o);
}

static void purchase_leaves(void)
{
    kr_ops *o = ops_test_open();
    int64_t boris = ops_test_customer(o, "{\"id\":\"boris\",\"phone\":\"+79160000002\"}",
                                      T("2026-03-02T10:00:00+03:00"));
    jobs(o, "2026-03-02T20:00:00+03:00", "chain_steps");
    const char *rc = "{\"id\":\"B1\",\"time\":\"2026-03-02T12:00:00+03:00\",\"customer\":"
                     "{\"id\":\"boris\"},\"lines\":[{\"id\":\"1\",\"sku\":\"S\",\"qty\":1,"
                     "\"price\":\"500.00\"}]}";
    kr_ops_status st = kr_ops_confirm(o, rc, strlen(rc), &out);
    tap_ok(st == KR_OPS_OK && jobs(o, "2026-03-09T20:00:00+03:00", "chains_left") == 0,
           "a purchase on the start day itself does not leave the chain");
    tap_ok(position(o, boris).done_days == 7, "the code step was done");
    const char *rc2 = "{\"id\":\"B2\",\"time\":\"2026-03-12T12:00:00+03:00\",\"customer\":"
                      "{\"id\":\"boris\"},\"lines\":[{\"id\":\"1\",\"sku\":\"S\",\"qty\":1,"
                      "\"price\":\"500.00\"}]}";
    st = kr_ops_confirm(o, rc2, strlen(rc2), &out);
    tap_ok(st == KR_OPS_OK && jobs(o, "2026-03-16T20:00:00+03:00", "chains_left") == 1,
           "a purchase on 12.03 leaves the chain at the points step");
    tap_ok(position(o, boris).state == KR_LEDGER_CHAIN_LEFT &&
               jobs(o, "2026-03-17T20:00:00+03:00", "chain_points") == 0,
           "left: no points, then or later");
    kr_ops_close(o);
}

// Vera registered 02.03 (done the 7-day step on 09.03); her duplicate Vika registered 07.03
// (hello only). Vera merged into Vika: Vika keeps the start of 02.03 and the 7-day step, so
// she gets no second code on 14.03 and the points once on 16.03.
static void merge_keeps_further(void)
{
    kr_ops *o = ops_test_open();
    ops_test_customer(o, "{\"id\":\"vera\",\"phone\":\"+79160000003\"}",
                      T("2026-03-02T10:00:00+03:00"));
    jobs(o, "2026-03-02T20:00:00+03:00", "chain_steps");
    int64_t vika = ops_test_customer(o, "{\"id\":\"vika\",\"phone\":\"+79160000004\"}",
                                     T("2026-03-07T10:00:00+03:00"));
    tap_ok(jobs(o, "2026-03-09T20:00:00+03:00", "chain_steps") == 2,
           "09.03: Vera's code step and Vika's hello");
    kr_ops_status st = kr_ops_customer_merge(o, "{\"id\":\"vera\"}", "{\"id\":\"vika\"}", "merge-1",
                                             T("2026-03-10T10:00:00+03:00"), &out);
    kr_ledger_chain_pos p = position(o, vika);
    tap_ok(st == KR_OPS_OK && p.done_days == 7 &&
               p.entered_day == kr__ops_local_day(o, T("2026-03-02T10:00:00+03:00")),
           "the survivor has the earlier start and the further step");
    tap_ok(jobs(o, "2026-03-14T20:00:00+03:00", "chain_steps") == 0,
           "14.03 (Vika's own day 7): no second code");
    tap_ok(jobs(o, "2026-03-16T20:00:00+03:00", "chain_points") == 100,
           "16.03: the points, once, to the survivor");
    tap_ok(spendable(o, vika, "2026-03-16T21:00:00+03:00") == 100, "on Vika's balance");
    tap_ok(ops_test_check(o), "ledger invariants hold");
    kr_ops_close(o);
}

// The ERP's "survey-done" on 05.03 starts survey-chain: 50 points three days later (08.03),
// once, however often the event comes.
static void event_starts(void)
{
    kr_ops *o = ops_test_open();
    int64_t gala = ops_test_customer(o, "{\"id\":\"gala\",\"phone\":\"+79160000005\"}",
                                     T("2026-01-10T10:00:00+03:00"));
    const char *ev = "{\"id\":\"E1\",\"event\":\"survey-done\",\"time\":"
                     "\"2026-03-05T12:00:00+03:00\",\"customer\":{\"id\":\"gala\"}}";
    kr_ops_status st = kr_ops_event(o, ev, strlen(ev), &out);
    tap_ok(st == KR_OPS_OK && strstr(out.data, "\"chains_entered\":[\"survey-chain\"]"),
           "the event enters the chain, and says so");
    const char *ev2 = "{\"id\":\"E2\",\"event\":\"survey-done\",\"time\":"
                      "\"2026-03-06T12:00:00+03:00\",\"customer\":{\"id\":\"gala\"}}";
    st = kr_ops_event(o, ev2, strlen(ev2), &out);
    tap_ok(st == KR_OPS_OK && !strstr(out.data, "chains_entered"),
           "a second event does not enter it again");
    tap_ok(jobs(o, "2026-03-07T20:00:00+03:00", "chain_points") == 0, "07.03: not due");
    tap_ok(jobs(o, "2026-03-08T20:00:00+03:00", "chain_points") == 50,
           "08.03 (05.03 + 3): 50 points");
    tap_ok(jobs(o, "2026-03-09T20:00:00+03:00", "chain_points") == 0 &&
               spendable(o, gala, "2026-03-09T21:00:00+03:00") == 50,
           "once");
    kr_ops_close(o);
}

int main(int argc, char **argv)
{
    if (argc < 2 || !ops_test_load(argv[1])) {
        printf("Bail out! usage: test-ops-chains PROGRAM.lua\n");
        return 1;
    }
    kr_buf_init(&out, 0);
    once_each();
    purchase_leaves();
    merge_keeps_further();
    event_starts();
    kr_buf_free(&out);
    free(ops_test_lua);
    return tap_done();
}
