// SPDX-License-Identifier: MIT
// test-ops-outbox: the operations behind the messaging integration and QA's new scenario steps,
// against tests/runtime/ops/codes.xml — kr_ops_outbox_list/ack (cursor, one customer's,
// idempotent ack, refusals that name the field and change nothing), birthday codes that belong
// to their customer and live `valid-days` from issue, mailing codes cut by the batch's `to`,
// kr_ops_card_block, and the profile of kr_ops_customer_get (tiers, cards, codes).
#include "ops/ops-test.h"

#include "kr-ledger-codes.h"
#include "kr-ledger-private.h"

static kr_buf out;

// Runs a JSON-in operation and parses its answer (the caller json_decref's it).
typedef kr_ops_status (*json_op)(kr_ops *o, const char *json, size_t len, kr_buf *out);

static json_t *parsed(void)
{
    return json_loads(out.data ? out.data : "", 0, NULL);
}

static json_t *list(kr_ops *o, const char *req, kr_ops_status *st)
{
    *st = kr_ops_outbox_list(o, req, strlen(req), &out);
    return parsed();
}

static json_t *ack(kr_ops *o, const char *req, int64_t at, kr_ops_status *st)
{
    *st = kr_ops_outbox_ack(o, req, strlen(req), at, &out);
    return parsed();
}

// The error's field of an answer ("" when none).
static const char *err_field(const json_t *a)
{
    const char *f = json_string_value(json_object_get(json_object_get(a, "error"), "field"));
    return f ? f : "";
}

static size_t n_entries(const json_t *a)
{
    return json_array_size(json_object_get(a, "entries"));
}

static const char *str_at(const json_t *a, const char *k1, size_t i, const char *k2)
{
    const char *s = json_string_value(json_object_get(json_array_get(json_object_get(a, k1), i), k2));
    return s ? s : "";
}

// A receipt of one line of 1000.00 at `time`, for customer `who` (JSON, or NULL: anonymous),
// with `code`; calculate or confirm.
static json_t *receipt(kr_ops *o, bool confirm, const char *id, const char *time,
                       const char *who, const char *code, kr_ops_status *st)
{
    char req[512];
    snprintf(req, sizeof req,
             "{\"id\":\"%s\",\"time\":\"%s\"%s%s,\"codes\":[\"%s\"],\"lines\":[{\"id\":\"1\","
             "\"sku\":\"S\",\"qty\":1,\"price\":\"1000.00\"}]}",
             id, time, who ? ",\"customer\":" : "", who ? who : "", code);
    *st = confirm ? kr_ops_confirm(o, req, strlen(req), &out)
                  : kr_ops_calculate(o, req, strlen(req), &out);
    return parsed();
}

static const char *code_note(const json_t *a)
{
    return str_at(a, "codes", 0, "message");
}

static const char *discount(const json_t *a)
{
    const char *d = json_string_value(json_object_get(json_object_get(a, "totals"), "discount"));
    return d ? d : "";
}

// The first code issued to a customer, from the profile (into code, 32 bytes).
static void owned_code(kr_ops *o, const char *who, int64_t at, char code[32])
{
    code[0] = '\0';
    if (kr_ops_customer_get(o, who, at, &out) != KR_OPS_OK)
        return;
    json_t *a = parsed();
    snprintf(code, 32, "%s", str_at(a, "codes", 0, "code"));
    json_decref(a);
}

static void outbox_list_and_ack(void)
{
    kr_ops *o = ops_test_open();
    int64_t reg = T("2026-06-01T10:00:00+03:00");
    ops_test_customer(o, "{\"id\":\"A\",\"name\":\"Anna\",\"phone\":\"+79160000001\","
                         "\"birthday\":\"1990-06-10\"}", reg);
    ops_test_customer(o, "{\"id\":\"B\",\"phone\":\"+79160000002\",\"birthday\":\"1991-06-10\"}",
                      reg);
    ops_test_customer(o, "{\"id\":\"C\",\"phone\":\"+79160000003\",\"birthday\":\"1992-06-11\"}",
                      reg);
    kr_ops_status st;
    json_t *a = list(o, "{}", &st);
    tap_ok(st == KR_OPS_OK && n_entries(a) == 0 && json_integer_value(json_object_get(a, "last")) == 0,
           "an empty outbox lists nothing, last 0 (%s)", out.data);
    json_decref(a);

    // Anna and Boris (ids 1, 2) have their birthday on the 10th: one greeting each, in
    // customer order.
    kr_ops_jobs_run(o, T("2026-06-10T09:00:00+03:00"), &out);
    a = list(o, "{}", &st);
    char code[32];
    owned_code(o, "{\"id\":\"A\"}", T("2026-06-10T09:00:00+03:00"), code);
    char want[80];
    // Issued on 10 June, 14 days: the last day is 23 June.
    snprintf(want, sizeof want, "Take 15%% off with %s until 2026-06-23.", code);
    json_t *e0 = json_array_get(json_object_get(a, "entries"), 0);
    json_t *to = json_object_get(e0, "to");
    json_t *ch = json_object_get(e0, "channels");
    tap_ok(st == KR_OPS_OK && n_entries(a) == 2 &&
               json_integer_value(json_object_get(a, "last")) == 2 &&
               json_integer_value(json_object_get(e0, "id")) == 1 &&
               strcmp(str_at(a, "entries", 0, "kind"), "birthday") == 0 &&
               strcmp(json_string_value(json_object_get(to, "id")), "A") == 0 &&
               strcmp(json_string_value(json_object_get(to, "name")), "Anna") == 0 &&
               strcmp(json_string_value(json_object_get(to, "phone")), "+79160000001") == 0 &&
               json_is_null(json_object_get(to, "email")) && json_array_size(ch) == 2 &&
               strcmp(json_string_value(json_array_get(ch, 0)), "messenger") == 0 &&
               strcmp(json_string_value(json_array_get(ch, 1)), "sms") == 0,
           "two greetings; the first is Anna's, to her phone, messenger then sms (%s)", out.data);
    tap_ok(strlen(code) == 13 && strcmp(str_at(a, "entries", 0, "message"), want) == 0 &&
               strcmp(json_string_value(json_object_get(json_object_get(e0, "payload"), "code")),
                      code) == 0,
           "its message has her code and its last day filled in (%s)", want);
    tap_ok(strcmp(json_string_value(json_object_get(json_object_get(e0, "payload"), "code_until")),
                  "2026-06-23") == 0,
           "the payload has the code's last day");
    json_decref(a);

    a = list(o, "{\"after\":1}", &st);
    tap_ok(st == KR_OPS_OK && n_entries(a) == 1 &&
               json_integer_value(json_object_get(json_array_get(json_object_get(a, "entries"), 0),
                                                  "id")) == 2,
           "after 1: only entry 2");
    json_decref(a);
    a = list(o, "{\"customer\":{\"phone\":\"+7 916 000-00-02\"}}", &st);
    tap_ok(st == KR_OPS_OK && n_entries(a) == 1 &&
               strcmp(json_string_value(json_object_get(
                          json_object_get(json_array_get(json_object_get(a, "entries"), 0), "to"),
                          "id")),
                      "B") == 0,
           "by Boris's phone: his one entry");
    json_decref(a);
    a = list(o, "{\"after\":2}", &st);
    tap_ok(st == KR_OPS_OK && n_entries(a) == 0 && json_integer_value(json_object_get(a, "last")) == 2,
           "after the last one: nothing, and the cursor stays");
    json_decref(a);

    static const struct {
        const char *req, *code, *field;
    } bad_lists[] = {
        {"{\"limit\":0}", "invalid", "limit"},
        {"{\"limit\":1001}", "invalid", "limit"},
        {"{\"after\":\"x\"}", "invalid", "after"},
        {"{\"colour\":1}", "invalid", "colour"},
        {"{\"customer\":{\"id\":\"nobody\"}}", "not_found", "customer.id"},
    };
    for (size_t i = 0; i < sizeof bad_lists / sizeof *bad_lists; i++) {
        a = list(o, bad_lists[i].req, &st);
        tap_ok(strcmp(kr_ops_status_name(st), bad_lists[i].code) == 0 &&
                   strcmp(err_field(a), bad_lists[i].field) == 0,
               "list %s: %s naming %s (%s)", bad_lists[i].req, bad_lists[i].code,
               bad_lists[i].field, out.data);
        json_decref(a);
    }

    // Acks: a refused one changes nothing.
    int64_t t = T("2026-06-10T09:05:00+03:00");
    static const struct {
        const char *req, *code, *field;
    } bad_acks[] = {
        {"{\"ids\":[1,99]}", "not_found", "ids[1]"},
        {"{\"ids\":[]}", "invalid", "ids"},
        {"{\"ids\":[\"1\"]}", "invalid", "ids[0]"},
        {"{\"ids\":[1,0]}", "invalid", "ids[1]"},
        {"{\"id\":[1]}", "invalid", "id"},
    };
    for (size_t i = 0; i < sizeof bad_acks / sizeof *bad_acks; i++) {
        a = ack(o, bad_acks[i].req, t, &st);
        tap_ok(strcmp(kr_ops_status_name(st), bad_acks[i].code) == 0 &&
                   strcmp(err_field(a), bad_acks[i].field) == 0,
               "ack %s: %s naming %s (%s)", bad_acks[i].req, bad_acks[i].code,
               bad_acks[i].field, out.data);
        json_decref(a);
    }
    a = list(o, "{}", &st);
    tap_ok(n_entries(a) == 2, "after the refused acks both entries are still waiting");
    json_decref(a);

    a = ack(o, "{\"ids\":[1]}", t, &st);
    tap_ok(st == KR_OPS_OK && strcmp(out.data, "{\"sent\":1,\"already\":0}") == 0,
           "ack 1: sent 1 (%s)", out.data);
    json_decref(a);
    a = ack(o, "{\"ids\":[1,2]}", t, &st);
    tap_ok(st == KR_OPS_OK && strcmp(out.data, "{\"sent\":1,\"already\":1}") == 0,
           "ack 1 and 2: 1 was sent already, 2 now (%s)", out.data);
    json_decref(a);
    kr_ledger_outbox_msg m;
    tap_ok(kr_ledger_outbox_get(o->db, 1, &m) == KR_LEDGER_OK &&
               m.state == KR_LEDGER_OUTBOX_SENT && m.attempts == 1,
           "entry 1 is sent, one attempt recorded (the repeat changed nothing)");
    free(m.payload);
    a = list(o, "{}", &st);
    tap_ok(n_entries(a) == 0, "nothing is waiting any more");
    json_decref(a);

    // A cancelled entry is refused by name.
    kr_ops_jobs_run(o, T("2026-06-11T09:00:00+03:00"), &out);
    kr_ledger_outbox_mark(o->db, 3, KR_LEDGER_OUTBOX_CANCELLED, T("2026-06-11T09:01:00+03:00"));
    a = ack(o, "{\"ids\":[3]}", t, &st);
    tap_ok(st == KR_OPS_REFUSED && strcmp(err_field(a), "ids[0]") == 0,
           "a cancelled entry cannot be acked (%s)", out.data);
    json_decref(a);
    tap_ok(ops_test_check(o), "check after the outbox");
    kr_ops_close(o);
}

static void owned_codes(void)
{
    kr_ops *o = ops_test_open();
    int64_t reg = T("2026-06-01T10:00:00+03:00");
    ops_test_customer(o, "{\"id\":\"A\",\"birthday\":\"1990-06-10\"}", reg);
    int64_t b = ops_test_customer(o, "{\"id\":\"B\",\"birthday\":\"1991-06-10\"}", reg);
    ops_test_customer(o, "{\"id\":\"D\"}", reg);
    kr_ops_jobs_run(o, T("2026-06-10T09:00:00+03:00"), &out);
    char ca[32], cb[32];
    owned_code(o, "{\"id\":\"A\"}", T("2026-06-10T09:00:00+03:00"), ca);
    owned_code(o, "{\"id\":\"B\"}", T("2026-06-10T09:00:00+03:00"), cb);
    json_t *a = parsed();
    // Issued on 10 June, valid 14 days: 10..23 June.
    tap_ok(strcmp(str_at(a, "codes", 0, "valid_until"), "2026-06-23") == 0 &&
               json_is_false(json_object_get(json_array_get(json_object_get(a, "codes"), 0),
                                             "used")),
           "Boris's code is valid until 23 June, unused (%s)", out.data);
    json_decref(a);

    kr_ops_status st;
    a = receipt(o, false, "x1", "2026-06-12T12:00:00+03:00", "{\"id\":\"B\"}", ca, &st);
    tap_ok(st == KR_OPS_OK && strcmp(code_note(a), "issued to another customer") == 0 &&
               strcmp(discount(a), "0.00") == 0,
           "Anna's code on Boris's receipt: refused, no discount (%s)", code_note(a));
    json_decref(a);
    a = receipt(o, false, "x2", "2026-06-12T12:00:00+03:00", NULL, ca, &st);
    tap_ok(st == KR_OPS_OK &&
               strcmp(code_note(a), "issued to a customer: identify the customer first") == 0,
           "on an anonymous receipt: refused (%s)", code_note(a));
    json_decref(a);
    tap_ok(kr_ledger_promo_use(o->db, ca, b, "op-x", T("2026-06-12T12:00:00+03:00")) ==
               KR_LEDGER_CONFLICT,
           "the ledger refuses the use too (%s)", kr_ledger_errmsg(o->db));
    // 15% of 1000.00 = 150.00.
    a = receipt(o, true, "a1", "2026-06-12T12:00:00+03:00", "{\"id\":\"A\"}", ca, &st);
    tap_ok(st == KR_OPS_OK && strcmp(discount(a), "150.00") == 0,
           "Anna uses her own code: 150.00 off (%s)", discount(a));
    json_decref(a);
    owned_code(o, "{\"id\":\"A\"}", T("2026-06-12T12:00:00+03:00"), ca);
    a = parsed();
    tap_ok(json_is_true(json_object_get(json_array_get(json_object_get(a, "codes"), 0), "used")),
           "her profile shows the code used");
    json_decref(a);

    // Boris's code, on the last minute of its 14th day and the first of the 15th.
    a = receipt(o, false, "b1", "2026-06-23T23:59:00+03:00", "{\"id\":\"B\"}", cb, &st);
    tap_ok(st == KR_OPS_OK && strcmp(discount(a), "150.00") == 0, "23 June 23:59: 150.00 off");
    json_decref(a);
    a = receipt(o, false, "b2", "2026-06-24T00:00:00+03:00", "{\"id\":\"B\"}", cb, &st);
    tap_ok(st == KR_OPS_OK && strcmp(code_note(a), "not valid at this time") == 0,
           "24 June 00:00: not valid any more (%s)", code_note(a));
    json_decref(a);

    // Boris is a duplicate of D: the code goes with the merge.
    kr_ops_customer_merge(o, "{\"id\":\"B\"}", "{\"id\":\"D\"}", "merge-1",
                          T("2026-06-13T10:00:00+03:00"), &out);
    a = receipt(o, false, "d1", "2026-06-13T12:00:00+03:00", "{\"id\":\"D\"}", cb, &st);
    tap_ok(st == KR_OPS_OK && strcmp(discount(a), "150.00") == 0,
           "after the merge the survivor may use Boris's code (%s)", out.data);
    json_decref(a);
    tap_ok(ops_test_check(o), "check after owned codes");
    kr_ops_close(o);
}

static void mailing_codes(void)
{
    kr_ops *o = ops_test_open();
    kr_ops_status st =
        kr_ops_codes_generate(o, "gen-1", "mailing", 2, T("2026-06-20T12:00:00+03:00"), &out);
    json_t *a = parsed();
    char c1[32];
    snprintf(c1, sizeof c1, "%s", json_string_value(json_array_get(json_object_get(a, "codes"), 0)));
    tap_ok(st == KR_OPS_OK && strncmp(c1, "MAIL-", 5) == 0 &&
               json_array_size(json_object_get(a, "codes")) == 2,
           "two mailing codes (%s)", out.data);
    json_decref(a);
    // valid-days 3 from 20 June: 20, 21, 22 June.
    a = receipt(o, false, "m1", "2026-06-22T23:59:00+03:00", NULL, c1, &st);
    tap_ok(strcmp(discount(a), "500.00") == 0, "anyone's: 500.00 off on 22 June (%s)", out.data);
    json_decref(a);
    a = receipt(o, false, "m2", "2026-06-23T00:00:00+03:00", NULL, c1, &st);
    tap_ok(strcmp(code_note(a), "not valid at this time") == 0, "not on 23 June");
    json_decref(a);
    // Generated on 29 June: 3 days would reach 1 July, the batch ends on 30 June.
    kr_ops_codes_generate(o, "gen-2", "mailing", 1, T("2026-06-29T12:00:00+03:00"), &out);
    a = parsed();
    char c2[32];
    snprintf(c2, sizeof c2, "%s", json_string_value(json_array_get(json_object_get(a, "codes"), 0)));
    json_decref(a);
    kr_ledger_promo p;
    tap_ok(kr_ledger_promo_get(o->db, c2, 0, &p) == KR_LEDGER_OK &&
               p.valid_until == T("2026-07-01T00:00:00+03:00") && p.owner_id == 0,
           "a code of 29 June ends with the batch, at the start of 1 July, and has no owner");
    a = receipt(o, false, "m3", "2026-06-30T23:59:00+03:00", NULL, c2, &st);
    tap_ok(strcmp(discount(a), "500.00") == 0, "30 June 23:59: 500.00 off");
    json_decref(a);
    kr_ops_close(o);
}

static void cards_and_profile(void)
{
    kr_ops *o = ops_test_open();
    int64_t reg = T("2026-06-01T10:00:00+03:00");
    ops_test_customer(o, "{\"id\":\"A\",\"phone\":\"+79160000001\",\"segments\":[]}", reg);
    kr_ops_cards_issue(o, "iss-1", "till", 2, reg, &out);
    json_t *a = parsed();
    char c1[40], c2[40];
    snprintf(c1, sizeof c1, "%s", json_string_value(json_array_get(json_object_get(a, "cards"), 0)));
    snprintf(c2, sizeof c2, "%s", json_string_value(json_array_get(json_object_get(a, "cards"), 1)));
    json_decref(a);

    kr_ops_status st = kr_ops_card_block(o, c1, T("2026-06-02T10:00:00+03:00"), &out);
    char want[200];
    snprintf(want, sizeof want,
             "{\"card\":\"%s\",\"state\":\"blocked\",\"blocked_at\":\"2026-06-02T07:00:00Z\","
             "\"customer\":0}",
             c1);
    tap_ok(st == KR_OPS_OK && strcmp(out.data, want) == 0, "block an issued card (%s)", out.data);
    st = kr_ops_card_block(o, c1, T("2026-06-03T10:00:00+03:00"), &out);
    tap_ok(st == KR_OPS_OK && strcmp(out.data, want) == 0,
           "blocking it again answers the same, with the first block's time");
    st = kr_ops_card_block(o, "4000000000000002", T("2026-06-03T10:00:00+03:00"), &out);
    a = parsed();
    tap_ok(st == KR_OPS_NOT_FOUND && strcmp(err_field(a), "card") == 0,
           "an unknown card: not_found naming card (%s)", out.data);
    json_decref(a);
    st = kr_ops_card_block(o, "12", T("2026-06-03T10:00:00+03:00"), &out);
    a = parsed();
    tap_ok(st == KR_OPS_INVALID && strcmp(err_field(a), "card") == 0,
           "not a card number: invalid naming card (%s)", out.data);
    json_decref(a);
    char who[80];
    snprintf(who, sizeof who, "{\"card\":\"%s\"}", c1);
    a = receipt(o, true, "k1", "2026-06-03T12:00:00+03:00", who, "NONE", &st);
    tap_ok(st != KR_OPS_OK, "a receipt with the blocked card is refused (%s)", out.data);
    json_decref(a);

    // The second card: activated by an anonymous purchase of 1000.00, then given to Anna.
    snprintf(who, sizeof who, "{\"card\":\"%s\"}", c2);
    a = receipt(o, true, "k2", "2026-06-03T12:00:00+03:00", who, "NONE", &st);
    json_decref(a);
    st = kr_ops_card_attach(o, c2, "{\"id\":\"A\"}", T("2026-06-04T10:00:00+03:00"), &out);
    tap_ok(st == KR_OPS_OK, "the activated card is attached to Anna (%s)", out.data);
    st = kr_ops_customer_get(o, "{\"id\":\"A\"}", T("2026-06-04T10:00:00+03:00"), &out);
    a = parsed();
    json_t *card = json_array_get(json_object_get(a, "cards"), 0);
    tap_ok(st == KR_OPS_OK && json_array_size(json_object_get(a, "cards")) == 1 &&
               strcmp(json_string_value(json_object_get(card, "number")), c2) == 0 &&
               strcmp(json_string_value(json_object_get(card, "state")), "active") == 0 &&
               strcmp(json_string_value(json_object_get(card, "batch")), "till") == 0,
           "her profile lists the card, active, of batch till (%s)", out.data);
    // The card's purchase of 1000.00 is hers: the level ladder (from 0) gives base.
    tap_ok(strcmp(json_string_value(json_object_get(json_object_get(a, "tiers"), "level")),
                  "base") == 0 &&
               json_array_size(json_object_get(a, "codes")) == 0,
           "tier base on ladder level, no codes issued to her");
    json_decref(a);
    st = kr_ops_customer_get(o, "{\"id\":\"nobody\"}", T("2026-06-04T10:00:00+03:00"), &out);
    a = parsed();
    tap_ok(st == KR_OPS_NOT_FOUND && strcmp(err_field(a), "customer.id") == 0,
           "an unknown customer: not_found naming customer.id (%s)", out.data);
    json_decref(a);
    tap_ok(ops_test_check(o), "check after cards");
    kr_ops_close(o);
}

static int64_t rows(kr_ops *o, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int64_t n = -1;
    if (sqlite3_prepare_v2(o->db->sql, sql, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

// `cards issue` and `codes generate` repeated with the same operation id (an admin whose
// terminal dropped, an ERP retrying after a timeout): the first answer again, byte for byte,
// and no new row; the same id with another count or batch: a conflict naming the field, no new
// row. (A crash between the check and the commit is covered by the one transaction: the check
// reads the rows the op id stamped in that transaction, so either no row and no id survive and
// the retry issues afresh, or all of them do and the retry reads them back.)
static void issue_repeated(void)
{
    kr_ops *o = ops_test_open();
    int64_t at = T("2026-06-20T12:00:00+03:00");
    tap_ok(kr_ops_cards_issue(o, "iss-7", "till", 3, at, &out) == KR_OPS_OK, "3 cards (%s)",
           out.data);
    char *first = strdup(out.data);
    tap_ok(kr_ops_cards_issue(o, "iss-7", "till", 3, at + 60, &out) == KR_OPS_OK &&
               strcmp(out.data, first) == 0,
           "the repeat answers the same 3 numbers (%s)", out.data);
    tap_ok(rows(o, "SELECT count(*) FROM card") == 3, "and 3 cards stay in the ledger");
    json_t *a = NULL;
    tap_ok(kr_ops_cards_issue(o, "iss-7", "till", 4, at, &out) == KR_OPS_CONFLICT &&
               strcmp(err_field(a = parsed()), "count") == 0,
           "the same id for 4 cards: conflict naming count (%s)", out.data);
    json_decref(a);
    tap_ok(kr_ops_cards_issue(o, "iss-7", "shop", 3, at, &out) == KR_OPS_CONFLICT &&
               strcmp(err_field(a = parsed()), "batch") == 0,
           "the same id for another batch: conflict naming batch (%s)", out.data);
    json_decref(a);
    tap_ok(rows(o, "SELECT count(*) FROM card") == 3, "the conflicts added no card");
    tap_ok(kr_ops_cards_issue(o, "", "till", 1, at, &out) == KR_OPS_INVALID &&
               strcmp(err_field(a = parsed()), "id") == 0,
           "no operation id: invalid, naming id");
    json_decref(a);
    tap_ok(kr_ops_cards_issue(o, "iss-8", "till", 1, at, &out) == KR_OPS_OK &&
               strstr(first, json_string_value(json_array_get(
                                  json_object_get(a = parsed(), "cards"), 0))) == NULL &&
               rows(o, "SELECT count(*) FROM card") == 4,
           "another id issues a new card");
    json_decref(a);
    free(first);

    // Codes: the mailing batch generates single-use codes.
    int64_t before = rows(o, "SELECT count(*) FROM promo_code");
    tap_ok(kr_ops_codes_generate(o, "gen-7", "mailing", 2, at, &out) == KR_OPS_OK, "2 codes (%s)",
           out.data);
    first = strdup(out.data);
    tap_ok(kr_ops_codes_generate(o, "gen-7", "mailing", 2, at + 60, &out) == KR_OPS_OK &&
               strcmp(out.data, first) == 0,
           "the repeat answers the same 2 codes (%s)", out.data);
    tap_ok(kr_ops_codes_generate(o, "gen-7", "mailing", 5, at, &out) == KR_OPS_CONFLICT &&
               strcmp(err_field(a = parsed()), "count") == 0,
           "the same id for 5 codes: conflict naming count (%s)", out.data);
    json_decref(a);
    tap_ok(rows(o, "SELECT count(*) FROM promo_code") == before + 2,
           "2 codes in all after the repeat and the conflict");
    free(first);
    tap_ok(ops_test_check(o), "check after the repeats");
    kr_ops_close(o);
}

int main(int argc, char **argv)
{
    if (argc < 2 || !ops_test_load(argv[1])) {
        printf("Bail out! usage: test-ops-outbox PROGRAM.lua\n");
        return 1;
    }
    kr_buf_init(&out, 0);
    outbox_list_and_ack();
    owned_codes();
    mailing_codes();
    cards_and_profile();
    issue_repeated();
    kr_buf_free(&out);
    free(ops_test_lua);
    return tap_done();
}
