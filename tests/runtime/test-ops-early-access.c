// SPDX-License-Identifier: MIT
// test-ops-early-access: `<early-access>` at the till (kr-ops-early-access.c) against
// tests/runtime/ops/early-access.xml — lines whose attribute `collection` is `capsule-26` are
// sold from 1 to 14 June 2026 only to VIP customers (10,000.00 paid in all). calculate flags
// them with the default cashier text; confirm refuses them (field lines[i]) and records
// nothing; a VIP buys them; after the 14th anyone does.
#include "ops/ops-test.h"

static kr_buf out;

// A receipt at `time` for customer id `who` (NULL: anonymous) of one 12,000.00 line, with the
// capsule attribute when `capsule`; calculate or confirm.
static kr_ops_status receipt(kr_ops *o, bool confirm, const char *id, const char *time,
                             const char *who, bool capsule)
{
    char req[512];
    snprintf(req, sizeof req,
             "{\"id\":\"%s\",\"time\":\"%s\"%s%s%s,\"lines\":[{\"id\":\"1\",\"sku\":\"C1\","
             "\"qty\":1,\"price\":\"12000.00\"%s}]}",
             id, time, who ? ",\"customer\":{\"id\":\"" : "", who ? who : "", who ? "\"}" : "",
             capsule ? ",\"attrs\":{\"collection\":\"capsule-26\"}" : "");
    return confirm ? kr_ops_confirm(o, req, strlen(req), &out)
                   : kr_ops_calculate(o, req, strlen(req), &out);
}

static bool has(const char *s)
{
    return out.data && strstr(out.data, s) != NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2 || !ops_test_load(argv[1])) {
        printf("Bail out! usage: test-ops-early-access PROGRAM.lua\n");
        return 1;
    }
    kr_buf_init(&out, 0);
    kr_ops *o = ops_test_open();
    ops_test_customer(o, "{\"id\":\"gleb\",\"phone\":\"+79160000011\"}",
                      T("2026-05-01T10:00:00+03:00"));
    ops_test_customer(o, "{\"id\":\"vera\",\"phone\":\"+79160000012\"}",
                      T("2026-05-01T10:00:00+03:00"));

    // Vera becomes VIP in May: 12,000.00 paid (an ordinary line).
    tap_ok(receipt(o, true, "V0", "2026-05-20T12:00:00+03:00", "vera", false) == KR_OPS_OK,
           "Vera pays 12,000.00 in May");
    tap_ok(receipt(o, false, "G0", "2026-05-31T23:59:00+03:00", "gleb", true) == KR_OPS_OK &&
               !has("early_access"),
           "31 May 23:59: not members-only yet, no flag");

    kr_ops_status st = receipt(o, false, "G1", "2026-06-01T00:01:00+03:00", "gleb", true);
    tap_ok(st == KR_OPS_OK &&
               has("\"early_access\":[{\"index\":0,\"line\":\"1\",\"sku\":\"C1\","
                   "\"rule\":\"capsule\",\"until\":\"2026-06-14\","
                   "\"message\":\"Capsule: early access for members until 2026-06-14\"}]"),
           "1 June: Gleb (base tier) is told, with the default text");
    tap_ok(has("\"final\":\"12000.00\""), "the rest of the answer is the usual one");
    st = receipt(o, true, "G1", "2026-06-01T00:01:00+03:00", "gleb", true);
    tap_ok(st == KR_OPS_REFUSED && has("\"field\":\"lines[0]\"") &&
               has("not sold to this customer yet"),
           "confirm is refused, naming lines[0]");
    kr_ledger_receipt *rec = NULL;
    tap_ok(kr_ledger_receipt_get(o->db, "G1", &rec) == KR_LEDGER_NOT_FOUND, "and records nothing");
    kr_ledger_receipt_free(rec);
    st = receipt(o, true, "G1", "2026-06-01T00:02:00+03:00", "gleb", false);
    tap_ok(st == KR_OPS_OK, "the same id without the capsule line is confirmed");
    st = receipt(o, true, "A1", "2026-06-02T12:00:00+03:00", NULL, true);
    tap_ok(st == KR_OPS_REFUSED && has("anonymous receipt"), "an anonymous receipt is refused");
    st = receipt(o, true, "V1", "2026-06-14T23:59:00+03:00", "vera", true);
    tap_ok(st == KR_OPS_OK && !has("early_access"), "Vera (VIP) buys it on the last day");
    st = receipt(o, true, "A2", "2026-06-15T00:00:00+03:00", NULL, true);
    tap_ok(st == KR_OPS_OK, "15 June 00:00: open to all, anonymous receipts too");
    tap_ok(ops_test_check(o), "ledger invariants hold");
    kr_ops_close(o);
    kr_buf_free(&out);
    free(ops_test_lua);
    return tap_done();
}
