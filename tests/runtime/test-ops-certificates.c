// SPDX-License-Identifier: MIT
// test-ops-certificates.c: gift certificates through the operations on
// tests/runtime/ops/certificates.xml — sale (generated and pre-printed numbers), payment over
// two receipts, a certificate spent whole, expiry, returns, cancel, replay, conflicts — with
// every figure worked out by hand in the comments. The steps run in order on one ledger, and a
// step may read numbers an earlier step generated.
//
// certificates.xml: gift-1000 (1000.00, 30 days, partial) sold as GIFT-1000; card-500 (500.00,
// no expiry, spent whole) sold as CARD-500; accrual 5% of the money paid, not on certificates.
#include "kr-input.h"
#include "kr-ops.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int n_test, n_failed;
static kr_ops *o;
static kr_buf out;
static json_t *answer; // the last answer, parsed

static bool ok(bool cond, const char *name)
{
    n_test++;
    printf("%s %d - %s\n", cond ? "ok" : "not ok", n_test, name);
    if (!cond) {
        n_failed++;
        printf("# answer: %.800s\n", out.data ? out.data : "");
    }
    return cond;
}

static const json_t *at_path(const char *path)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", path);
    const json_t *v = answer;
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
        printf("# %s: expected %s, got %s\n", path, want, got ? got : "(missing)");
    free(got);
    return same;
}

typedef enum op { CONFIRM, CALCULATE, RETURN } op;

// Runs a receipt operation on the JSON printf makes of fmt and parses its answer.
static kr_ops_status run(op what, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static kr_ops_status run(op what, const char *fmt, ...)
{
    char json[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(json, sizeof json, fmt, ap);
    va_end(ap);
    json_decref(answer);
    size_t n = strlen(json);
    kr_ops_status st = what == CONFIRM     ? kr_ops_confirm(o, json, n, &out)
                       : what == CALCULATE ? kr_ops_calculate(o, json, n, &out)
                                           : kr_ops_return(o, json, n, &out);
    answer = json_loads(out.data ? out.data : "", 0, NULL);
    return st;
}

static kr_ops_status show(const char *number, const char *at)
{
    int64_t t = 0;
    char why[64];
    kr_parse_time(at, &t, why, sizeof why);
    json_decref(answer);
    kr_ops_status st = kr_ops_certificate_show(o, number, t, &out);
    answer = json_loads(out.data ? out.data : "", 0, NULL);
    return st;
}

// "C-XXXX-XXXX-XXXX-XXXX" in Crockford's alphabet.
static bool generated_form(const char *s)
{
    if (!s || strlen(s) != 21 || s[0] != 'C')
        return false;
    for (size_t i = 1; i < 21; i++) {
        if (i % 5 == 1) {
            if (s[i] != '-')
                return false;
        } else if (!strchr("0123456789ABCDEFGHJKMNPQRSTVWXYZ", s[i])) {
            return false;
        }
    }
    return true;
}

// Opens a throwaway ledger with the compiled program at `path`.
static bool open_ops(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    static char lua[1 << 20];
    size_t len = fread(lua, 1, sizeof lua - 1, f);
    fclose(f);
    lua[len] = '\0';
    kr_ops_program prog = {.lua = lua, .lua_len = len, .name = "certificates.xml"};
    char err[512];
    if (kr_ops_open(":memory:", &prog, &o, err, sizeof err) != KR_OPS_OK) {
        printf("Bail out! %s\n", err);
        return false;
    }
    return true;
}

#define TIME     "\"time\":\"%s\""
#define CUSTOMER "\"customer\":{\"phone\":\"+79120000051\"}"

int main(int argc, char **argv)
{
    if (argc < 2 || !open_ops(argv[1])) {
        fprintf(stderr, "usage: test-ops-certificates CERTIFICATES.lua\n");
        return 2;
    }
    kr_buf_init(&out, 0);
    const char *cust = "{\"id\":\"erp-51\",\"phone\":\"+79120000051\"}";
    int64_t t0 = 0;
    char why[64];
    kr_parse_time("2026-04-01T10:00:00+03:00", &t0, why, sizeof why);
    ok(kr_ops_customer_create(o, cust, strlen(cust), t0, &out) == KR_OPS_OK, "customer");

    // --- sale ---
    // Two gift-1000 on an anonymous receipt, no numbers: two generated numbers, each 1000.00,
    // valid 30 days from 10 April (Moscow): until 10 May 00:00 MSK = 2026-05-09T21:00:00Z.
    ok(run(CONFIRM,
           "{\"id\":\"s1\"," TIME ",\"lines\":[{\"id\":\"1\",\"sku\":\"GIFT-1000\","
           "\"category\":\"certificates\",\"qty\":2,\"price\":\"1000.00\"}]}",
           "2026-04-10T12:00:00+03:00") == KR_OPS_OK &&
           json_array_size(at_path("certificates_issued")) == 2 &&
           is("certificates_issued.0.face_value", "\"1000.00\"") &&
           is("certificates_issued.1.valid_until", "\"2026-05-09T21:00:00Z\"") &&
           is("totals.to_pay", "\"2000.00\""),
       "sale: two certificates issued, valid 30 days");
    char g1[32] = "", g2[32] = "";
    snprintf(g1, sizeof g1, "%s", json_string_value(at_path("certificates_issued.0.number")));
    snprintf(g2, sizeof g2, "%s", json_string_value(at_path("certificates_issued.1.number")));
    ok(generated_form(g1) && generated_form(g2) && strcmp(g1, g2) != 0,
       "sale: generated numbers are C-XXXX-XXXX-XXXX-XXXX and differ");
    ok(show(g1, "2026-04-10T12:00:00+03:00") == KR_OPS_OK && is("remaining", "\"1000.00\"") &&
           is("state", "\"valid\"") && is("sold_by.receipt", "\"s1\""),
       "sale: certificate show");

    // A pre-printed card-500 with its number; a second sale of the same number is refused.
    ok(run(CONFIRM,
           "{\"id\":\"s2\"," TIME ",\"lines\":[{\"id\":\"1\",\"sku\":\"CARD-500\","
           "\"qty\":1,\"price\":\"500.00\",\"certificates\":[\"W-1\"]}]}",
           "2026-04-10T12:05:00+03:00") == KR_OPS_OK &&
           is("certificates_issued.0.number", "\"W-1\"") &&
           is("certificates_issued.0.partial", "false") &&
           is("certificates_issued.0.valid_until", "null"),
       "sale: a scanned number, no expiry, spent whole");
    ok(run(CONFIRM,
           "{\"id\":\"s3\"," TIME ",\"lines\":[{\"id\":\"1\",\"sku\":\"CARD-500\","
           "\"qty\":1,\"price\":\"500.00\",\"certificates\":[\"W-1\"]}]}",
           "2026-04-10T12:06:00+03:00") == KR_OPS_CONFLICT &&
           is("error.field", "\"lines[0].certificates[0]\""),
       "sale: a number sold before is refused, naming it");
    ok(run(CONFIRM,
           "{\"id\":\"s4\"," TIME ",\"lines\":[{\"id\":\"1\",\"sku\":\"CARD-500\","
           "\"qty\":2,\"price\":\"500.00\",\"certificates\":[\"W-2\"]}]}",
           "2026-04-10T12:06:00+03:00") == KR_OPS_INVALID &&
           is("error.field", "\"lines[0].certificates\""),
       "sale: one number per unit");
    ok(run(CONFIRM,
           "{\"id\":\"s5\"," TIME ",\"lines\":[{\"id\":\"1\",\"sku\":\"TAP\","
           "\"qty\":1,\"price\":\"500.00\",\"certificates\":[\"W-3\"]}]}",
           "2026-04-10T12:06:00+03:00") == KR_OPS_INVALID &&
           is("error.field", "\"lines[0].certificates\""),
       "sale: a line that is no certificate carries no numbers");
    ok(run(CONFIRM,
           "{\"id\":\"s6\"," TIME ",\"lines\":[{\"id\":\"1\",\"sku\":\"GIFT-1000\","
           "\"qty\":1,\"price\":\"900.00\"}]}",
           "2026-04-10T12:06:00+03:00") == KR_OPS_INVALID &&
           is("error.field", "\"lines[0].price\""),
       "sale: a certificate is sold at its face value");
    ok(show("W-3", "2026-04-10T12:06:00+03:00") == KR_OPS_NOT_FOUND &&
           show("W-2", "2026-04-10T12:06:00+03:00") == KR_OPS_NOT_FOUND,
       "sale: refused receipts issued nothing");

    // --- a certificate spent whole ---
    ok(run(CONFIRM,
           "{\"id\":\"p0\"," TIME "," CUSTOMER ",\"lines\":[{\"id\":\"1\",\"sku\":"
           "\"TAP\",\"qty\":1,\"price\":\"300.00\"}],\"certificates\":[{\"number\":"
           "\"W-1\",\"amount\":\"300.00\"}]}",
           "2026-04-11T12:00:00+03:00") == KR_OPS_INVALID &&
           is("error.field", "\"certificates[0].amount\""),
       "whole: no amount may be named");
    // 300.00 receipt, the 500.00 card is spent whole: it pays 300.00, 200.00 forfeited; nothing
    // paid in money, so no points.
    ok(run(CONFIRM,
           "{\"id\":\"p1\"," TIME "," CUSTOMER ",\"lines\":[{\"id\":\"1\",\"sku\":"
           "\"TAP\",\"qty\":1,\"price\":\"300.00\"}],\"certificates\":[{\"number\":"
           "\"W-1\"}]}",
           "2026-04-11T12:00:00+03:00") == KR_OPS_OK &&
           is("certificates.0.pays", "\"300.00\"") &&
           is("certificates.0.forfeited", "\"200.00\"") && is("totals.to_pay", "\"0.00\"") &&
           is("points.earned", "0"),
       "whole: 300.00 paid, 200.00 forfeited, no points");
    ok(show("W-1", "2026-04-11T12:00:00+03:00") == KR_OPS_OK && is("remaining", "\"0.00\"") &&
           is("history.0.amount", "\"-500.00\""),
       "whole: the card has nothing left");
    // Cancel gives back everything p1 took, the forfeited part too: 500.00.
    int64_t tc = 0;
    kr_parse_time("2026-04-11T13:00:00+03:00", &tc, why, sizeof why);
    json_decref(answer);
    ok(kr_ops_cancel(o, "p1", tc, &out) == KR_OPS_OK && (answer = json_loads(out.data, 0, NULL)) &&
           is("certificates_returned.0.amount", "\"500.00\"") &&
           is("certificates_returned.0.remaining", "\"500.00\""),
       "whole: cancel restores the whole 500.00");

    // --- partial over two receipts ---
    // p2: 600.00, no amount: g1 pays 600.00 of 1000.00; nothing in money, no points.
    char p2_json[512];
    snprintf(p2_json, sizeof p2_json,
             "{\"id\":\"p2\",\"time\":\"2026-04-12T12:00:00+03:00\"," CUSTOMER
             ",\"lines\":[{\"id\":\"1\",\"sku\":\"PIPE\",\"qty\":3,\"price\":"
             "\"200.00\"}],\"certificates\":[{\"number\":\"%s\"}]}",
             g1);
    ok(run(CONFIRM, "%s", p2_json) == KR_OPS_OK && is("certificates.0.pays", "\"600.00\"") &&
           is("totals.to_pay", "\"0.00\""),
       "partial: the first receipt takes 600.00");
    ok(run(CONFIRM, "%s", p2_json) == KR_OPS_REPLAY && is("certificates.0.pays", "\"600.00\""),
       "partial: the till repeats the receipt: a replay");
    ok(show(g1, "2026-04-12T12:00:00+03:00") == KR_OPS_OK && is("remaining", "\"400.00\"") &&
           json_array_size(at_path("history")) == 1,
       "partial: 1000.00 - 600.00 = 400.00, taken once");
    // p3: 1000.00; g1 pays its 400.00, 600.00 in money -> 5% = 30 points.
    char p3[512];
    snprintf(p3, sizeof p3,
             "{\"id\":\"p3\",\"time\":\"2026-04-13T12:00:00+03:00\"," CUSTOMER ",\"lines\":[{"
             "\"id\":\"1\",\"sku\":\"BATH\",\"qty\":1,\"price\":\"1000.00\"}],\"certificates\":"
             "[{\"number\":\"%s\"}]}",
             g1);
    ok(run(CONFIRM, "%s", p3) == KR_OPS_OK && is("certificates.0.pays", "\"400.00\"") &&
           is("totals.to_pay", "\"600.00\"") && is("points.earned", "30"),
       "partial: the second receipt takes the 400.00 left; 30 points on 600.00 paid");
    ok(run(CALCULATE, "%s", p3) == KR_OPS_REFUSED &&
           is("error.field", "\"certificates[0].number\""),
       "partial: nothing left now");

    // --- returns ---
    // s1's line sold g1 (used) and g2: the whole return is refused and g2 stays valid.
    ok(run(RETURN, "{\"id\":\"rs1\",\"receipt\":\"s1\"," TIME ",\"lines\":[{\"id\":\"1\"}]}",
           "2026-04-14T12:00:00+03:00") == KR_OPS_REFUSED &&
           is("error.field", "\"lines\""),
       "return: a used certificate cannot come back");
    ok(show(g2, "2026-04-14T12:00:00+03:00") == KR_OPS_OK && is("state", "\"valid\""),
       "return: nothing changed by the refused return");
    // p3 comes back: its 400.00 goes back to g1; 30 points reversed.
    ok(run(RETURN, "{\"id\":\"rp3\",\"receipt\":\"p3\"," TIME ",\"lines\":[{\"id\":\"1\"}]}",
           "2026-04-14T12:00:00+03:00") == KR_OPS_OK &&
           is("certificates_returned.0.amount", "\"400.00\"") &&
           is("certificates_returned.0.remaining", "\"400.00\"") && is("points_reversed", "30"),
       "return: 400.00 back to the certificate");
    // Expired: g1 was valid until 10 May 00:00 MSK.
    char p4[512];
    snprintf(p4, sizeof p4,
             "{\"id\":\"p4\",\"time\":\"2026-05-10T00:00:00+03:00\",\"lines\":[{\"id\":\"1\","
             "\"sku\":\"PIPE\",\"qty\":1,\"price\":\"100.00\"}],\"certificates\":[{\"number\":"
             "\"%s\"}]}",
             g1);
    ok(run(CONFIRM, "%s", p4) == KR_OPS_REFUSED &&
           is("error.field", "\"certificates[0].number\"") &&
           strstr(json_string_value(at_path("error.message")), "expired"),
       "expiry: refused on the first day after");
    ok(show(g1, "2026-05-10T00:00:00+03:00") == KR_OPS_OK && is("state", "\"expired\"") &&
           is("remaining", "\"400.00\""),
       "expiry: the certificate shows it, nothing taken");
    // p2 comes back too: g1 is whole again (400.00 + 600.00) and s1 may now be returned.
    ok(run(RETURN, "{\"id\":\"rp2\",\"receipt\":\"p2\"," TIME ",\"lines\":[{\"id\":\"1\"}]}",
           "2026-05-10T10:00:00+03:00") == KR_OPS_OK &&
           is("certificates_returned.0.remaining", "\"1000.00\"") &&
           is("certificates_returned.0.expired", "true"),
       "return: money goes back to an expired certificate; validity is not extended");
    ok(run(RETURN, "{\"id\":\"rs1b\",\"receipt\":\"s1\"," TIME ",\"lines\":[{\"id\":\"1\"}]}",
           "2026-05-10T11:00:00+03:00") == KR_OPS_OK &&
           json_array_size(at_path("certificates_voided")) == 2,
       "return: both unused certificates of s1 are voided");
    ok(run(CALCULATE,
           "{\"id\":\"p5\",\"time\":\"2026-05-10T12:00:00+03:00\",\"lines\":[{"
           "\"id\":\"1\",\"sku\":\"PIPE\",\"qty\":1,\"price\":\"100.00\"}],"
           "\"certificates\":[{\"number\":\"W-1\"},{\"number\":\"W-1\"}]}") == KR_OPS_INVALID &&
           is("error.field", "\"certificates[1].number\""),
       "a certificate named twice is refused");
    ok(run(CALCULATE, "{\"id\":\"p6\",\"time\":\"2026-05-10T12:00:00+03:00\",\"lines\":[{"
                      "\"id\":\"1\",\"sku\":\"PIPE\",\"qty\":1,\"price\":\"100.00\"}],"
                      "\"certificates\":[{\"number\":\"GC 1\"}]}") == KR_OPS_INVALID &&
           is("error.field", "\"certificates[0].number\""),
       "a number with a space is refused");
    ok(run(CALCULATE,
           "{\"id\":\"p7\",\"time\":\"2026-05-10T12:00:00+03:00\",\"lines\":[{"
           "\"id\":\"1\",\"sku\":\"PIPE\",\"qty\":1,\"price\":\"100.00\"}],"
           "\"certificates\":[{\"number\":\"W-1\",\"amount\":\"0\"}]}") == KR_OPS_INVALID &&
           is("error.field", "\"certificates[0].amount\""),
       "an amount of 0 is refused");
    ok(run(CALCULATE, "{\"id\":\"p8\",\"time\":\"2026-05-10T12:00:00+03:00\",\"lines\":[{"
                      "\"id\":\"1\",\"sku\":\"PIPE\",\"qty\":1,\"price\":\"100.00\"}],"
                      "\"certificates\":[{\"number\":\"W-1\",\"amount\":1}]}") == KR_OPS_INVALID &&
           is("error.field", "\"certificates[0].amount\""),
       "an amount as a JSON number is refused");
    // Cancels of sales: s2's W-1 is whole again (p1 was cancelled), so it is voided; W-9 sold
    // by s7 and spent in part by p9 refuses the cancel of s7, which changes nothing.
    int64_t tx = 0;
    kr_parse_time("2026-05-11T10:00:00+03:00", &tx, why, sizeof why);
    json_decref(answer);
    ok(kr_ops_cancel(o, "s2", tx, &out) == KR_OPS_OK && (answer = json_loads(out.data, 0, NULL)) &&
           is("certificates_voided.0", "\"W-1\""),
       "cancel: an unused certificate of the cancelled sale is voided");
    ok(run(CONFIRM,
           "{\"id\":\"s7\"," TIME ",\"lines\":[{\"id\":\"1\",\"sku\":\"GIFT-1000\","
           "\"qty\":1,\"price\":\"1000.00\",\"certificates\":[\"W-9\"]}]}",
           "2026-05-11T10:05:00+03:00") == KR_OPS_OK &&
           run(CONFIRM,
               "{\"id\":\"p9\"," TIME ",\"lines\":[{\"id\":\"1\",\"sku\":\"PIPE\","
               "\"qty\":1,\"price\":\"100.00\"}],\"certificates\":[{\"number\":\"W-9\"}]}",
               "2026-05-11T10:10:00+03:00") == KR_OPS_OK &&
           is("certificates.0.pays", "\"100.00\""),
       "cancel: W-9 sold and 100.00 of it spent");
    kr_parse_time("2026-05-11T10:15:00+03:00", &tx, why, sizeof why);
    json_decref(answer);
    answer = NULL;
    ok(kr_ops_cancel(o, "s7", tx, &out) == KR_OPS_REFUSED &&
           (answer = json_loads(out.data, 0, NULL)) && is("error.field", "\"lines\"") &&
           show("W-9", "2026-05-11T10:15:00+03:00") == KR_OPS_OK && is("state", "\"valid\"") &&
           is("remaining", "\"900.00\""),
       "cancel: a sale whose certificate was used cannot be cancelled; nothing changed");
    int64_t v = -1;
    json_decref(answer);
    answer = NULL;
    ok(kr_ops_check(o, &out, &v) == KR_OPS_OK && v == 0, "the ledger's invariants hold");

    json_decref(answer);
    kr_buf_free(&out);
    kr_ops_close(o);
    printf("1..%d\n", n_test);
    return n_failed ? 1 : 0;
}
