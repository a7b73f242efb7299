// SPDX-License-Identifier: MIT
// test-ops.c: the operations end to end on tests/runtime/ops/shop.xml, as a table of steps:
// each sends JSON to an operation and states the status and the values expected at JSON
// paths of the answer, all worked out by hand (see the comments).
//
// shop.xml: 10% off taps; accrual 5% of the money paid, rounded down; 1 point = 1.00, at
// most 50% of a receipt paid with points; accrual points held 14 days, then live 365 days;
// a quarterly "paid" ladder base (0) / silver (10,000.00).
#include "kr-ops.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum op { CREATE, UPDATE, GET, CALCULATE, CONFIRM, RETURN, CANCEL, BALANCE, EVENT, CHECK } op;

typedef struct expect {
    const char *path; // "totals.final", "lines.0.points_earned", "error.field"
    const char *value; // compared with the JSON value printed compactly ("\"900.00\"", "70")
} expect;

typedef struct step {
    const char *name;
    op op;
    const char *at; // RFC 3339, for CREATE / CANCEL / BALANCE
    const char *json;
    kr_ops_status status;
    expect expects[8];
} step;

#define IVAN "{\"phone\":\"+79120000001\"}"
#define R1                                                                                     \
    "{\"id\":\"r1\",\"time\":\"2026-03-10T12:00:00+03:00\",\"customer\":{\"phone\":\"8 (912) "  \
    "000-00-01\"},\"lines\":[{\"id\":\"1\",\"sku\":\"T1\",\"category\":\"taps\",\"qty\":1,"     \
    "\"price\":\"1000.00\"},{\"id\":\"2\",\"sku\":\"P1\",\"category\":\"pipes\",\"qty\":2,"     \
    "\"price\":\"250.00\"}]}"
#define R2                                                                                     \
    "{\"id\":\"r2\",\"time\":\"2026-03-25T12:00:00+03:00\",\"customer\":" IVAN ",\"points\":50," \
    "\"lines\":[{\"id\":\"1\",\"sku\":\"T1\",\"category\":\"taps\",\"qty\":1,\"price\":"        \
    "\"1000.00\"}]}"

static const step steps[] = {
    {"create Ivan", CREATE, "2026-01-15T10:00:00+03:00",
     "{\"id\":\"erp-1\",\"name\":\"Ivan\",\"phone\":\"8 (912) 000-00-01\",\"birthday\":\"1985-03-14\"}",
     KR_OPS_OK, {{"customer", "1"}}},
    // 1000.00 taps -10% = 900.00, pipes 2 x 250.00 = 500.00: 1400.00; 5% = 70 points, held
    // until 2026-03-24 12:00 Moscow (09:00Z).
    {"confirm r1: discount and accrual", CONFIRM, NULL, R1, KR_OPS_OK,
     {{"totals.original", "\"1500.00\""},
      {"totals.final", "\"1400.00\""},
      {"lines.0.discounts.0.amount", "\"100.00\""},
      {"points.earned", "70"},
      {"lines.1.points_earned", "25"},
      {"points_spendable_from", "\"2026-03-24T09:00:00Z\""},
      {"balance_after", "0"}}},
    {"the same receipt again is a replay", CONFIRM, NULL, R1, KR_OPS_REPLAY,
     {{"totals.final", "\"1400.00\""}}},
    {"balance while held", BALANCE, "2026-03-20T12:00:00+03:00", IVAN, KR_OPS_OK,
     {{"spendable", "0"}, {"pending", "70"}, {"tiers.0.tier", "\"base\""},
      {"tiers.0.value", "\"1400.00\""}, {"tiers.0.next.left", "\"8600.00\""}}},
    // 900.00 after the taps discount; 50 points pay 50.00 (max 450 by share, 70 by balance);
    // 5% of the 850.00 paid = 42.5 -> 42 points.
    {"confirm r2 paying 50 points", CONFIRM, NULL, R2, KR_OPS_OK,
     {{"totals.to_pay", "\"850.00\""},
      {"points.spent", "50"},
      {"points.max_payable", "70"},
      {"points.earned", "42"},
      {"balance_before", "70"},
      {"balance_after", "20"},
      {"spent_from.0", "[1,50]"}}},
    {"r2 with another body is refused", CONFIRM, NULL,
     "{\"id\":\"r2\",\"time\":\"2026-03-25T12:00:00+03:00\",\"customer\":" IVAN
     ",\"lines\":[{\"id\":\"1\",\"sku\":\"T1\",\"qty\":1,\"price\":\"1.00\"}]}",
     KR_OPS_CONFLICT, {{"error.field", "\"id\""}}},
    {"return r2: accrual reversed, spent points back", RETURN, NULL,
     "{\"id\":\"ret1\",\"receipt\":\"r2\",\"time\":\"2026-03-26T12:00:00+03:00\","
     "\"lines\":[{\"id\":\"1\"}]}",
     KR_OPS_OK,
     {{"points_reversed", "42"}, {"points_returned", "50"}, {"money", "\"900.00\""},
      {"balance_after", "70"}}},
    {"the line cannot come back twice", RETURN, NULL,
     "{\"id\":\"ret2\",\"receipt\":\"r2\",\"time\":\"2026-03-27T12:00:00+03:00\","
     "\"lines\":[{\"id\":\"1\"}]}",
     KR_OPS_CONFLICT, {{"error.field", "\"lines[0].id\""}}},
    {"balance after the return", BALANCE, "2026-03-27T12:00:00+03:00", IVAN, KR_OPS_OK,
     {{"spendable", "70"}, {"pending", "0"}, {"tiers.0.value", "\"1400.00\""},
      {"expiring.0.valid_until", "\"2027-03-23\""}, {"expiring.0.points", "70"}}},
    {"money as a JSON number is refused", CALCULATE, NULL,
     "{\"id\":\"x\",\"time\":\"2026-03-27T12:00:00+03:00\",\"lines\":[{\"id\":\"1\",\"sku\":"
     "\"A\",\"qty\":1,\"price\":10.5}]}",
     KR_OPS_INVALID, {{"error.field", "\"lines[0].price\""}, {"error.line", "7"}}},
    {"an unknown card is named", CALCULATE, NULL,
     "{\"id\":\"x\",\"time\":\"2026-03-27T12:00:00+03:00\",\"customer\":{\"card\":"
     "\"4000001234567899\"},\"lines\":[{\"id\":\"1\",\"sku\":\"A\",\"qty\":1,\"price\":\"1\"}]}",
     KR_OPS_NOT_FOUND, {{"error.field", "\"customer.card\""}}},
    {"points on an anonymous receipt are refused", CALCULATE, NULL,
     "{\"id\":\"x\",\"time\":\"2026-03-27T12:00:00+03:00\",\"points\":10,\"lines\":[{\"id\":"
     "\"1\",\"sku\":\"A\",\"qty\":1,\"price\":\"1\"}]}",
     KR_OPS_INVALID, {{"error.field", "\"points\""}}},
    // Cancel r1: its 70 points come back out (they are spendable now: reversed from the lot).
    {"cancel r1", CANCEL, "2026-03-28T12:00:00+03:00", "r1", KR_OPS_OK,
     {{"points_reversed", "70"}, {"balance_after", "0"}, {"money", "\"1400.00\""}}},
    {"balance after the cancel", BALANCE, "2026-03-28T12:00:00+03:00", IVAN, KR_OPS_OK,
     {{"spendable", "0"}, {"tiers.0.value", "\"0.00\""}}},
    // shop.xml's event trigger "app" gives 30 points (no lifetime: they never expire).
    {"an ERP event gives its points", EVENT, NULL,
     "{\"id\":\"ev1\",\"event\":\"app.installed\",\"time\":\"2026-03-28T13:00:00+03:00\","
     "\"customer\":" IVAN "}",
     KR_OPS_OK, {{"rewards.0.points", "30"}, {"rewards.0.trigger", "\"app\""}}},
    {"the same event again is a replay", EVENT, NULL,
     "{\"id\":\"ev1\",\"event\":\"app.installed\",\"time\":\"2026-03-28T13:00:00+03:00\","
     "\"customer\":" IVAN "}",
     KR_OPS_REPLAY, {{"rewards.0.points", "30"}}},
    {"balance after the event", BALANCE, "2026-03-28T14:00:00+03:00", IVAN, KR_OPS_OK,
     {{"spendable", "30"}, {"never_expiring", "30"}}},
    {"update: an attribute added, another phone", UPDATE, "2026-03-28T14:00:00+03:00",
     "{\"customer\":" IVAN ",\"attrs\":{\"lists\":\"vip-2026\"},\"email\":\"Ivan@Example.COM\"}",
     KR_OPS_OK, {{"updated", "true"}}},
    {"the update is there, the rest unchanged", GET, NULL, "{\"email\":\"ivan@example.com\"}",
     KR_OPS_OK,
     {{"attrs.lists", "\"vip-2026\""}, {"name", "\"Ivan\""}, {"birthday", "\"1985-03-14\""},
      {"phone", "\"+79120000001\""}}},
    {"update of an unknown segment is refused", UPDATE, "2026-03-28T14:00:00+03:00",
     "{\"customer\":" IVAN ",\"segments\":[\"vip\"]}", KR_OPS_INVALID,
     {{"error.field", "\"segments[0]\""}}},
    {"invariants hold", CHECK, NULL, NULL, KR_OPS_OK, {{"violations", "0"}}},
};

static int n_test, n_failed;

static const json_t *at_path(const json_t *v, const char *path)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *tok = strtok(buf, "."); tok && v; tok = strtok(NULL, ".")) {
        if (json_is_array(v))
            v = json_array_get(v, (size_t)atoi(tok));
        else
            v = json_object_get(v, tok);
    }
    return v;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    static char buf[1 << 20];
    *len = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[*len] = '\0';
    return buf;
}

int main(int argc, char **argv)
{
    size_t len = 0;
    char *lua = argc > 1 ? read_file(argv[1], &len) : NULL;
    if (!lua) {
        fprintf(stderr, "usage: test-ops SHOP.lua\n");
        return 2;
    }
    kr_ops *o = NULL;
    char err[512];
    kr_ops_program prog = {.lua = lua, .lua_len = len, .name = "shop.xml"};
    if (kr_ops_open(":memory:", &prog, &o, err, sizeof err) != KR_OPS_OK) {
        printf("not ok 1 - open: %s\n1..1\n", err);
        return 1;
    }
    kr_buf out;
    kr_buf_init(&out, 0);
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        const step *s = &steps[i];
        int64_t at = 0, violations = 0;
        if (s->at) {
            // The few fixed instants the steps use, as Unix seconds.
            static const struct {
                const char *text;
                int64_t t;
            } times[] = {{"2026-01-15T10:00:00+03:00", 1768460400},
                         {"2026-03-20T12:00:00+03:00", 1773997200},
                         {"2026-03-27T12:00:00+03:00", 1774602000},
                         {"2026-03-28T12:00:00+03:00", 1774688400},
                         {"2026-03-28T14:00:00+03:00", 1774695600}};
            for (size_t k = 0; k < sizeof times / sizeof times[0]; k++)
                if (strcmp(times[k].text, s->at) == 0)
                    at = times[k].t;
        }
        kr_ops_set_source(o, "steps", 7);
        kr_ops_status st = KR_OPS_FAILED;
        size_t jl = s->json ? strlen(s->json) : 0;
        switch (s->op) {
        case CREATE:
            st = kr_ops_customer_create(o, s->json, jl, at, &out);
            break;
        case UPDATE:
            st = kr_ops_customer_update(o, s->json, jl, at, &out);
            break;
        case GET:
            st = kr_ops_customer_get(o, s->json, at, &out);
            break;
        case CALCULATE:
            st = kr_ops_calculate(o, s->json, jl, &out);
            break;
        case CONFIRM:
            st = kr_ops_confirm(o, s->json, jl, &out);
            break;
        case RETURN:
            st = kr_ops_return(o, s->json, jl, &out);
            break;
        case CANCEL:
            st = kr_ops_cancel(o, s->json, at, &out);
            break;
        case BALANCE:
            st = kr_ops_balance(o, s->json, at, &out);
            break;
        case EVENT:
            st = kr_ops_event(o, s->json, jl, &out);
            break;
        case CHECK:
            st = kr_ops_check(o, &out, &violations);
            break;
        }
        json_t *answer = json_loads(out.data ? out.data : "", 0, NULL);
        bool ok = st == s->status && answer;
        char why[1024] = "";
        if (st != s->status)
            snprintf(why, sizeof why, "status %s, expected %s", kr_ops_status_name(st),
                     kr_ops_status_name(s->status));
        for (size_t k = 0; ok && k < 8 && s->expects[k].path; k++) {
            const json_t *v = at_path(answer, s->expects[k].path);
            char *got = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : strdup("(missing)");
            if (!got || strcmp(got, s->expects[k].value) != 0) {
                ok = false;
                snprintf(why, sizeof why, "%s: expected %s, got %s", s->expects[k].path,
                         s->expects[k].value, got ? got : "?");
            }
            free(got);
        }
        n_test++;
        printf("%s %d - %s\n", ok ? "ok" : "not ok", n_test, s->name);
        if (!ok) {
            n_failed++;
            printf("# %s\n# answer: %.600s\n", why, out.data ? out.data : "");
        }
        json_decref(answer);
    }
    kr_buf_free(&out);
    kr_ops_close(o);
    printf("1..%d\n", n_test);
    return n_failed ? 1 : 0;
}
