// SPDX-License-Identifier: MIT
// test-ops-reports: the reports of kr-reports.h over a ledger built through the real operations
// (customers, confirms with points and a code, a return, a cancel, expiry by the jobs, a grant),
// against figures worked out by hand from the fixture program ops/reports.xml: 10% points on the
// money paid, points pay up to half a receipt at 1.00 each and live 10 days, taps 10% off, 500.00
// off with a mailing code. Also: the migration that fills the sale facts of older ledgers.
#include "kr-ledger-private.h"
#include "kr-reports.h"
#include "ops/ops-test.h"

#include <jansson.h>
#include <unistd.h>

// The March 2026 of a small shop (Moscow time):
//   anna registers 20 Feb; boris (partner) 2 Mar.
//   R1 3 Mar  s1 store  anna   TAP-1 1000.00 (taps -10% -> 900.00) + PIPE-1 2 x 500.00:
//                              final 1900.00, earns 190 (lot expiring in 10 days)
//   R2 5 Mar  s1 store  -      PIPE-1 500.00 + HOSE-1 300.00: 800.00, anonymous
//   R3 10 Mar s2 web    boris  TAP-1 1000.00 -100.00 (taps) -500.00 (code): 400.00, earns 40
//   R4 12 Mar s1 store  anna   HOSE-1 300.00 paid with 100 points (of R1's lot): earns 10% of
//                              200.00 = 20
//   R5 15 Mar s2 store  boris  TAP-1 900.00, earns 90; cancelled 16 Mar (90 taken back)
//   jobs 16 Mar 00:30: R1's lot expires with its 90 points left
//   20 Mar: R1's PIPE-1 line (1000.00, 100 points) comes back: R1's lot is empty, so R4's 20
//           points are taken and 80 become debt
//   25 Mar: 50 points granted to anna pay 50 of the debt (30 left)
//   R6 2 Apr  s1 store  anna   PIPE-1 500.00 (April: outside the March reports)
static char code1[64];

static int64_t anna, boris;

static void must(kr_ops_status st, const kr_buf *out, const char *what)
{
    if (st != KR_OPS_OK) {
        printf("Bail out! %s: %s\n", what, out->data ? out->data : "");
        exit(1);
    }
}

static void confirm(kr_ops *o, const char *json)
{
    kr_buf out;
    kr_buf_init(&out, 0);
    must(kr_ops_confirm(o, json, strlen(json), &out), &out, json);
    kr_buf_free(&out);
}

static void build(kr_ops *o)
{
    anna = ops_test_customer(o, "{\"id\": \"anna\", \"phone\": \"+79990000001\"}",
                             T("2026-02-20T10:00:00+03:00"));
    boris = ops_test_customer(
        o, "{\"id\": \"boris\", \"phone\": \"+79990000002\", \"segments\": [\"partner\"]}",
        T("2026-03-02T10:00:00+03:00"));
    kr_buf out;
    kr_buf_init(&out, 0);
    must(kr_ops_codes_generate(o, "gen-1", "mailing", 2, T("2026-03-01T09:00:00+03:00"), &out),
         &out, "codes");
    json_t *codes = json_loads(out.data, 0, NULL);
    snprintf(code1, sizeof code1, "%s",
             json_string_value(json_array_get(json_object_get(codes, "codes"), 0)));
    json_decref(codes);
    confirm(o, "{\"id\": \"R1\", \"time\": \"2026-03-03T12:00:00+03:00\", \"store\": \"s1\","
               " \"region\": \"msk\", \"channel\": \"store\", \"customer\": {\"id\": \"anna\"},"
               " \"lines\": [{\"id\": \"1\", \"sku\": \"TAP-1\", \"category\": \"taps\", \"qty\": 1,"
               " \"price\": \"1000.00\"}, {\"id\": \"2\", \"sku\": \"PIPE-1\", \"category\":"
               " \"pipes\", \"qty\": 2, \"price\": \"500.00\"}]}");
    confirm(o, "{\"id\": \"R2\", \"time\": \"2026-03-05T12:00:00+03:00\", \"store\": \"s1\","
               " \"region\": \"msk\", \"channel\": \"store\", \"lines\": [{\"id\": \"1\", \"sku\":"
               " \"PIPE-1\", \"category\": \"pipes\", \"qty\": 1, \"price\": \"500.00\"},"
               " {\"id\": \"2\", \"sku\": \"HOSE-1\", \"category\": \"pipes\", \"qty\": 1,"
               " \"price\": \"300.00\"}]}");
    char r3[512];
    snprintf(r3, sizeof r3,
             "{\"id\": \"R3\", \"time\": \"2026-03-10T12:00:00+03:00\", \"store\": \"s2\","
             " \"region\": \"spb\", \"channel\": \"web\", \"customer\": {\"id\": \"boris\"},"
             " \"codes\": [\"%s\"], \"lines\": [{\"id\": \"1\", \"sku\": \"TAP-1\", \"category\":"
             " \"taps\", \"qty\": 1, \"price\": \"1000.00\"}]}",
             code1);
    confirm(o, r3);
    confirm(o, "{\"id\": \"R4\", \"time\": \"2026-03-12T12:00:00+03:00\", \"store\": \"s1\","
               " \"region\": \"msk\", \"channel\": \"store\", \"customer\": {\"id\": \"anna\"},"
               " \"points\": 100, \"lines\": [{\"id\": \"1\", \"sku\": \"HOSE-1\", \"category\":"
               " \"pipes\", \"qty\": 1, \"price\": \"300.00\"}]}");
    confirm(o, "{\"id\": \"R5\", \"time\": \"2026-03-15T12:00:00+03:00\", \"store\": \"s2\","
               " \"region\": \"spb\", \"channel\": \"store\", \"customer\": {\"id\": \"boris\"},"
               " \"lines\": [{\"id\": \"1\", \"sku\": \"TAP-1\", \"category\": \"taps\", \"qty\": 1,"
               " \"price\": \"1000.00\"}]}");
    must(kr_ops_jobs_run(o, T("2026-03-16T00:30:00+03:00"), &out), &out, "jobs");
    must(kr_ops_cancel(o, "R5", T("2026-03-16T10:00:00+03:00"), &out), &out, "cancel R5");
    const char *ret = "{\"id\": \"RET1\", \"receipt\": \"R1\", \"time\": "
                      "\"2026-03-20T12:00:00+03:00\", \"lines\": [{\"id\": \"2\"}]}";
    must(kr_ops_return(o, ret, strlen(ret), &out), &out, "return R1 line 2");
    const char *grant = "{\"id\": \"G1\", \"time\": \"2026-03-25T12:00:00+03:00\", \"customer\":"
                        " {\"id\": \"anna\"}, \"points\": 50}";
    must(kr_ops_points_grant(o, grant, strlen(grant), &out), &out, "grant");
    confirm(o, "{\"id\": \"R6\", \"time\": \"2026-04-02T12:00:00+03:00\", \"store\": \"s1\","
               " \"region\": \"msk\", \"channel\": \"store\", \"customer\": {\"id\": \"anna\"},"
               " \"lines\": [{\"id\": \"1\", \"sku\": \"PIPE-1\", \"category\": \"pipes\","
               " \"qty\": 1, \"price\": \"500.00\"}]}");
    kr_buf_free(&out);
}

// ---- running reports ------------------------------------------------------------------------------
static const char *segment_filter; // the next report's --segment (NULL: none)

static json_t *report(kr_ops *o, const char *name, const char *from, const char *to,
                      const char *by, const char *store, const char *channel)
{
    kr_report_query q = {.from = from,
                         .to = to,
                         .by = by,
                         .store = store,
                         .channel = channel,
                         .segment = segment_filter};
    kr_buf out;
    kr_buf_init(&out, 0);
    kr_ops_status st = kr_ops_report(o, name, &q, &out);
    json_t *root = st == KR_OPS_OK ? json_loads(out.data, 0, NULL) : NULL;
    if (!root)
        tap_diag("report %s: %s", name, out.data ? out.data : "");
    kr_buf_free(&out);
    return root;
}

static json_t *row(json_t *rep, size_t i)
{
    return json_array_get(json_object_get(rep, "rows"), i);
}

static size_t n_rows(json_t *rep)
{
    return json_array_size(json_object_get(rep, "rows"));
}

// Compares a row against "col=value col=value ...": values of integer columns as numbers, the
// others as their strings.
static void expect_row(json_t *r, const char *what, const char *spec)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", spec);
    bool ok = r != NULL;
    for (char *save = NULL, *tok = strtok_r(buf, " ", &save); ok && tok;
         tok = strtok_r(NULL, " ", &save)) {
        char *eq = strchr(tok, '=');
        *eq = '\0';
        json_t *v = json_object_get(r, tok);
        char got[128] = "(absent)";
        if (json_is_integer(v))
            snprintf(got, sizeof got, "%lld", (long long)json_integer_value(v));
        else if (json_is_string(v))
            snprintf(got, sizeof got, "%s", json_string_value(v));
        else if (json_is_null(v))
            snprintf(got, sizeof got, "null");
        if (strcmp(got, eq + 1) != 0) {
            tap_diag("%s: %s is %s, expected %s", what, tok, got, eq + 1);
            ok = false;
        }
    }
    tap_ok(ok, "%s", what);
}

static void test_sales(kr_ops *o)
{
    json_t *r = report(o, "sales", "2026-03-01", "2026-04-01", NULL, NULL, NULL);
    // Kept: R1 (900.00 after its returned line), R2 800.00, R3 400.00, R4 300.00; R5 cancelled.
    // Discount: R1 100.00 on its kept line, R3 600.00. Members: R1, R3, R4 = 1600.00.
    // Shares: 3/4 = 75.00%, 1600/2400 = 66.666..% -> 66.67; checks 2400/4, 1600/3 = 533.33.
    tap_ok(n_rows(r) == 1, "sales: one row for the whole period");
    expect_row(row(r, 0), "sales: March, netted",
               "period=2026-03-01/2026-04-01 receipts=4 revenue=2400.00 discount=700.00"
               " returned=1000.00 member_receipts=3 member_revenue=1600.00 members=2"
               " member_receipt_share=75.00 member_revenue_share=66.67 average_check=600.00"
               " member_average_check=533.33");
    json_decref(r);

    r = report(o, "sales", "2026-03-01", "2026-04-01", "store", NULL, NULL);
    tap_ok(n_rows(r) == 2, "sales by store: s1 and s2");
    expect_row(row(r, 0), "sales by store: s1 = R1, R2, R4",
               "store=s1 receipts=3 revenue=2000.00 member_receipts=2 member_revenue=1200.00"
               " members=1 member_revenue_share=60.00");
    expect_row(row(r, 1), "sales by store: s2 = R3 (R5 cancelled)",
               "store=s2 receipts=1 revenue=400.00 member_receipts=1 members=1");
    json_decref(r);

    // 1 March 2026 is a Sunday: weeks start 1 (clipped), 2, 9, 16, 23 and 30 March.
    r = report(o, "sales", "2026-03-01", "2026-04-01", "week", NULL, NULL);
    tap_ok(n_rows(r) == 6, "sales by week: six weeks, empty ones too");
    expect_row(row(r, 0), "sales by week: 1 March, nothing", "period=2026-03-01 receipts=0"
                                                             " revenue=0.00 average_check=0.00");
    expect_row(row(r, 1), "sales by week: from 2 March, R1 and R2",
               "period=2026-03-02 receipts=2 revenue=1700.00");
    expect_row(row(r, 2), "sales by week: from 9 March, R3 and R4",
               "period=2026-03-09 receipts=2 revenue=700.00");
    expect_row(row(r, 5), "sales by week: the last, clipped at 1 April", "period=2026-03-30");
    json_decref(r);

    r = report(o, "sales", "2026-03-01", "2026-04-01", NULL, NULL, "web");
    expect_row(row(r, 0), "sales on the web: R3 only", "receipts=1 revenue=400.00");
    json_decref(r);
}

static void test_members_repeat(kr_ops *o)
{
    json_t *r = report(o, "members", "2026-03-01", "2026-04-01", NULL, NULL, NULL);
    // boris registered in March (anna in February); first purchases: anna R1, boris R3.
    expect_row(row(r, 0), "members: registered and first purchases",
               "registered=1 first_purchases=2");
    json_decref(r);
    r = report(o, "members", "2026-03-01", "2026-04-01", NULL, "s2", NULL);
    expect_row(row(r, 0), "members at s2: boris's first purchase (R3)", "first_purchases=1");
    json_decref(r);

    r = report(o, "repeat", "2026-03-01", "2026-05-01", "month", NULL, NULL);
    // March: anna R1 + R4, boris R3 (R5 cancelled). April: anna again, who bought before.
    tap_ok(n_rows(r) == 2, "repeat by month: March and April");
    expect_row(row(r, 0), "repeat: March",
               "period=2026-03 customers=2 one_receipt=1 two_receipts=1 three_or_more=0"
               " repeat_customers=1 returning=0 repeat_share=50.00 returning_share=0.00");
    expect_row(row(r, 1), "repeat: April, anna comes back",
               "period=2026-04 customers=1 one_receipt=1 returning=1 returning_share=100.00");
    json_decref(r);
}

static void test_points(kr_ops *o)
{
    json_t *r = report(o, "points", "2026-03-01", "2026-04-01", NULL, NULL, NULL);
    // earned 190 + 40 + 20 + 90 = 340; granted 50; spent 100 (R4); expired 90 (R1's lot);
    // taken back 90 (R5) + 20 (R4's lot for the return); debt repaid 50 by the grant.
    // closing 340 + 50 - 100 - 90 - 110 - 50 = 40 (boris's R3 lot), worth 40.00; debt 80 - 50.
    expect_row(row(r, 0), "points: March",
               "earned=340 granted=50 imported=0 given_back=0 spent=100 expired=90 burned=0"
               " taken_back=110 debt_repaid=50 opening=0 closing=40 closing_value=40.00 debt=30");
    json_decref(r);
    r = report(o, "points", "2026-03-01", "2026-05-01", "month", NULL, NULL);
    // April: R6 earns 50, which pays the 30 of debt first: the April lot keeps 20.
    expect_row(row(r, 1), "points: April opens where March closed",
               "period=2026-04 opening=40 earned=50 debt_repaid=30 closing=60 debt=0");
    json_decref(r);
}

static void test_promotions_codes(kr_ops *o)
{
    json_t *r = report(o, "promotions", "2026-03-01", "2026-04-01", NULL, NULL, NULL);
    // taps-10 on R1 (100.00) and R3 (100.00): receipts worth 900.00 + 400.00; rejected on R2,
    // R4. mail-500 on R3; rejected on R1, R2 and R4 for want of a code.
    expect_row(row(r, 0), "promotions: taps-10",
               "promotion=taps-10 receipts=2 discount=200.00 points=0 revenue=1300.00"
               " rejected=2");
    expect_row(row(r, 1), "promotions: mail-500 and why it was refused",
               "promotion=mail-500 receipts=1 discount=500.00 revenue=400.00 rejected=3"
               " top_rejection_receipts=3");
    const char *why = json_string_value(json_object_get(row(r, 1), "top_rejection"));
    tap_ok(why && strcmp(why, "condition: a code of batch mailing is on the receipt") == 0,
           "promotions: the top rejection names the condition (%s)", why ? why : "null");
    json_decref(r);

    r = report(o, "codes", "2026-03-01", "2026-04-01", NULL, NULL, NULL);
    // 2 codes issued, 1 used on R3 (400.00); without a code R1, R2, R4: 2000.00 / 3.
    expect_row(row(r, 0), "codes: the mailing batch",
               "batch=mailing issued=2 used=1 receipts=1 revenue=400.00 receipts_without_code=3"
               " revenue_without_code=2000.00 conversion=50.00 average_check=400.00"
               " average_check_without_code=666.67");
    json_decref(r);
}

static void test_turnover_products(kr_ops *o)
{
    json_t *r = report(o, "turnover", "2026-03-01", "2026-04-01", "segment", NULL, NULL);
    // anna is retail (the default segment): R1 900.00 + R4 300.00, 190 + 20 points earned, 100
    // spent; boris is a partner: R3 400.00, 40 points.
    tap_ok(n_rows(r) == 2, "turnover by segment: retail and partner");
    expect_row(row(r, 0), "turnover: retail",
               "group=retail customers=1 receipts=2 revenue=1200.00 points_earned=210"
               " points_spent=100 average_check=600.00 revenue_per_customer=1200.00");
    expect_row(row(r, 1), "turnover: partner",
               "group=partner customers=1 receipts=1 revenue=400.00 points_earned=40");
    json_decref(r);

    r = report(o, "turnover", "2026-03-01", "2026-04-01", "tier", NULL, NULL);
    // Silver from 1,000.00 at once: anna at R1 (1900.00); boris's R3 (400.00) gave him base,
    // R5 made 1300.00 and silver, its cancel does not take it back (downgrade at period end).
    expect_row(row(r, 0), "turnover by tier: silver at the time of R1 and R4",
               "group=level:silver customers=1 receipts=2 revenue=1200.00");
    expect_row(row(r, 1), "turnover by tier: boris was base at R3",
               "group=level:base customers=1 receipts=1 revenue=400.00");
    json_decref(r);

    r = report(o, "tiers", "2026-03-01", "2026-04-01", NULL, NULL, NULL);
    expect_row(row(r, 0), "tiers: boris entered base and left it",
               "tier=level:base entered=1 entered_by_operator=0 left=1 holders=0");
    expect_row(row(r, 1), "tiers: both hold silver at the end",
               "tier=level:silver entered=2 left=0 holders=2");
    json_decref(r);

    r = report(o, "products", "2026-03-01", "2026-04-01", NULL, NULL, NULL);
    // TAP-1: R1 900.00 + R3 400.00 (700.00 off); HOSE-1: R2 + R4; PIPE-1: R2, and R1's two
    // units came back.
    tap_ok(n_rows(r) == 3, "products: three SKUs");
    expect_row(row(r, 0), "products: TAP-1",
               "sku=TAP-1 units=2 receipts=2 revenue=1300.00 discount=700.00 returned_units=0");
    expect_row(row(r, 1), "products: HOSE-1", "sku=HOSE-1 units=2 receipts=2 revenue=600.00");
    expect_row(row(r, 2), "products: PIPE-1 with its returned units",
               "sku=PIPE-1 units=1 receipts=1 revenue=500.00 returned_units=2");
    json_decref(r);

    r = report(o, "pairs", "2026-03-01", "2026-04-01", NULL, NULL, NULL);
    // Only R2 holds two kept SKUs (R1's PIPE-1 came back).
    tap_ok(n_rows(r) == 1, "pairs: one pair");
    expect_row(row(r, 0), "pairs: HOSE-1 and PIPE-1",
               "sku_a=HOSE-1 sku_b=PIPE-1 receipts=1 receipts_a=2 receipts_b=1 share_of_a=50.00"
               " share_of_b=100.00");
    json_decref(r);
}

// "Which segments buy a product" (seed 001): the sale reports keep the receipts of one segment.
static void test_segment_filter(kr_ops *o)
{
    segment_filter = "partner";
    json_t *r = report(o, "sales", "2026-03-01", "2026-04-01", NULL, NULL, NULL);
    expect_row(row(r, 0), "sales of partners: boris's R3", "receipts=1 revenue=400.00"
                                                          " member_receipts=1");
    json_decref(r);
    r = report(o, "products", "2026-03-01", "2026-04-01", NULL, NULL, NULL);
    tap_ok(n_rows(r) == 1, "products partners buy: one SKU");
    expect_row(row(r, 0), "products partners buy: TAP-1", "sku=TAP-1 units=1 revenue=400.00");
    json_decref(r);
    r = report(o, "members", "2026-03-01", "2026-04-01", NULL, NULL, NULL);
    expect_row(row(r, 0), "members: a partner's first purchase", "registered=0 first_purchases=1");
    json_decref(r);
    // anna has no membership: she is in the program's default segment, as receipts see her.
    segment_filter = "retail";
    r = report(o, "sales", "2026-03-01", "2026-04-01", NULL, NULL, NULL);
    expect_row(row(r, 0), "sales of the default segment: anna's R1 and R4",
               "receipts=2 revenue=1200.00 member_receipts=2");
    json_decref(r);
    segment_filter = NULL;
}

static void expect_invalid(kr_ops *o, const char *name, kr_report_query q, const char *field,
                           const char *what)
{
    kr_buf out;
    kr_buf_init(&out, 0);
    kr_ops_status st = kr_ops_report(o, name, &q, &out);
    json_t *root = json_loads(out.data ? out.data : "", 0, NULL);
    const char *f =
        json_string_value(json_object_get(json_object_get(root, "error"), "field"));
    tap_ok(st == KR_OPS_INVALID && f && strcmp(f, field) == 0, "refused: %s (field %s)", what,
           f ? f : "none");
    json_decref(root);
    kr_buf_free(&out);
}

static void test_refusals_and_csv(kr_ops *o)
{
    kr_report_query march = {.from = "2026-03-01", .to = "2026-04-01"};
    expect_invalid(o, "sale", march, "name", "an unknown report");
    kr_report_query q = march;
    q.from = "2026-02-30";
    expect_invalid(o, "sales", q, "from", "a day that does not exist");
    q = march;
    q.to = "2026-03-01";
    expect_invalid(o, "sales", q, "to", "an empty period");
    q = march;
    q.by = "segment";
    expect_invalid(o, "sales", q, "by", "a grouping the report does not have");
    q = march;
    q.store = "s1";
    expect_invalid(o, "points", q, "store", "a store filter on the points report");
    q = march;
    q.segment = "partner";
    expect_invalid(o, "tiers", q, "segment", "a segment filter on the tiers report");

    q = march;
    q.format = KR_REPORT_CSV;
    q.by = "store";
    kr_buf out;
    kr_buf_init(&out, 0);
    kr_ops_status st = kr_ops_report(o, "sales", &q, &out);
    const char *want =
        "store,receipts,revenue,discount,returned,member_receipts,member_revenue,members,"
        "member_receipt_share,member_revenue_share,average_check,member_average_check\r\n"
        "s1,3,2000.00,100.00,1000.00,2,1200.00,1,66.67,60.00,666.67,600.00\r\n"
        "s2,1,400.00,600.00,0.00,1,400.00,1,100.00,100.00,400.00,400.00\r\n";
    tap_ok(st == KR_OPS_OK && out.data && strcmp(out.data, want) == 0,
           "csv: a header and a line per store");
    if (out.data && strcmp(out.data, want) != 0)
        for (char *save = NULL, *l = strtok_r(out.data, "\n", &save); l;
             l = strtok_r(NULL, "\n", &save))
            tap_diag("got: %s", l);
    kr_buf_free(&out);
}

// A ledger written before the sale facts existed gets them from its stored answers.
static void test_backfill(void)
{
    char path[] = "/tmp/kr-reports-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    unlink(path);
    kr_ledger *db = NULL;
    char err[256];
    if (kr_ledger_open_version(path, 5, &db, err, sizeof err) != KR_LEDGER_OK) {
        tap_ok(0, "open at version 5: %s", err);
        return;
    }
    const char *answer =
        "{\"receipt\":\"OLD1\",\"totals\":{\"original\":\"1000.00\",\"discount\":\"100.00\","
        "\"final\":\"900.00\",\"points_money\":\"0.00\",\"to_pay\":\"900.00\"},"
        "\"points\":{\"max_payable\":0,\"spent\":0,\"earned\":90,\"accrual\":90},"
        "\"lines\":[{\"id\":\"1\",\"sku\":\"TAP-1\",\"qty\":1,\"original\":\"1000.00\","
        "\"final\":\"900.00\"}],\"applied\":[{\"promotion\":\"taps-10\",\"discount\":\"100.00\","
        "\"points\":0}],\"rejected\":[{\"promotion\":\"mail-500\",\"reason\":\"condition\","
        "\"condition\":\"a code of batch mailing is on the receipt\",\"src\":\"x.xml:9\"}]}";
    kr_ledger_receipt_in rec = {.id = "OLD1",
                                .body_hash = "0000000000000000000000000000000000000000000000000000"
                                             "000000000000",
                                .result = answer,
                                .at = T("2026-03-03T12:00:00+03:00")};
    kr_ledger_receipt_in ret = {.id = "return:X",
                                .body_hash = rec.body_hash,
                                .result = "{\"operation\":\"return:X\",\"receipt\":\"OLD1\"}",
                                .at = rec.at};
    bool put = kr_ledger_receipt_put(db, &rec, NULL) == KR_LEDGER_OK &&
               kr_ledger_receipt_put(db, &ret, NULL) == KR_LEDGER_OK;
    kr_ledger_close(db);
    db = NULL;
    tap_ok(put && kr_ledger_open(path, &db, err, sizeof err) == KR_LEDGER_OK,
           "an old ledger opens with the current schema");
    if (db) {
        sqlite3_stmt *st = NULL;
        sqlite3_prepare_v2(db->sql,
                           "SELECT (SELECT count(*) FROM sale), s.original, s.final,"
                           " s.points_earned, l.sku, l.final, p.promotion, p.discount"
                           " FROM sale s JOIN sale_line l ON l.receipt_id = s.receipt_id"
                           " JOIN sale_promotion p ON p.receipt_id = s.receipt_id",
                           -1, &st, NULL);
        bool ok = st && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int64(st, 0) == 1 &&
                  sqlite3_column_int64(st, 1) == 100000 && sqlite3_column_int64(st, 2) == 90000 &&
                  sqlite3_column_int64(st, 3) == 90 &&
                  strcmp((const char *)sqlite3_column_text(st, 4), "TAP-1") == 0 &&
                  sqlite3_column_int64(st, 5) == 90000 &&
                  strcmp((const char *)sqlite3_column_text(st, 6), "taps-10") == 0 &&
                  sqlite3_column_int64(st, 7) == 10000;
        sqlite3_finalize(st);
        tap_ok(ok, "the receipt became a sale with its line and promotion, the return did not");
        st = NULL;
        sqlite3_prepare_v2(db->sql, "SELECT rejected FROM sale", -1, &st, NULL);
        const char *rej = st && sqlite3_step(st) == SQLITE_ROW
                              ? (const char *)sqlite3_column_text(st, 0)
                              : NULL;
        tap_ok(rej && strcmp(rej, "[[\"mail-500\",\"condition\",\"a code of batch mailing is on"
                                  " the receipt\"]]") == 0,
               "its rejected promotion is listed with the condition (%s)",
               rej ? rej : "null");
        sqlite3_finalize(st);
        kr_ledger_close(db);
    }
    unlink(path);
}

int main(int argc, char **argv)
{
    if (argc < 2 || !ops_test_load(argv[1])) {
        printf("Bail out! usage: test-ops-reports PROGRAM.lua\n");
        return 1;
    }
    kr_ops *o = ops_test_open();
    build(o);
    tap_ok(anna && boris, "customers created");
    test_sales(o);
    test_members_repeat(o);
    test_points(o);
    test_promotions_codes(o);
    test_turnover_products(o);
    test_segment_filter(o);
    test_refusals_and_csv(o);
    tap_ok(ops_test_check(o), "the ledger's invariants hold");
    kr_ops_close(o);
    test_backfill();
    free(ops_test_lua);
    return tap_done();
}
