// SPDX-License-Identifier: MIT
// test-ops-import: kr_ops_import_csv — a 5-row file with every column, files refused as a
// whole (a bad phone on row 4, an unknown column, an unknown segment, a phone given twice),
// and 70,000 rows into a file ledger, timed.
#include "kr-ledger-query.h"
#include "ops/ops-test.h"

#include <time.h>
#include <unistd.h>

static kr_buf answer;

static kr_ops_status import(kr_ops *o, const char *csv, const char *name, int64_t at)
{
    return kr_ops_import_csv(o, csv, strlen(csv), name, at, &answer);
}

static bool same(const char *got, const char *want)
{
    if (got && strcmp(got, want) == 0)
        return true;
    tap_diag("got:  %s", got ? got : "(null)");
    tap_diag("want: %s", want);
    return false;
}

static size_t customers(kr_ops *o)
{
    int64_t ids[100];
    size_t n = 0;
    kr_ledger_customers_page(o->db, 0, 100, ids, &n);
    return n;
}

static void five_rows(void)
{
    static const char csv[] =
        "external_id,name,phone,email,card,birthday,registered,segments,points,points_expire,"
        "attr_city\n"
        "1C-001,Ivan Petrov,8 (916) 123-45-67,Ivan@Example.RU,7700000000001,1985-04-12,"
        "2024-05-01,partner,1500,2026-12-31,Moscow\n"
        "1C-002,\"Smirnova, Anna\",+7 916 000-00-02,,,1990-02-28,2025-01-10T10:00:00+03:00,"
        "retail,0,,\n"
        "1C-003,Oleg,9160000003,,7700000000003,,,homeowner retail,250,,Tver\n"
        "1C-004,,,,7700000000004,,,,,,\n"
        "1C-005,Maria,+79160000005,maria@example.ru,,,,,100,2027-01-31,\n";
    kr_ops *o = ops_test_open();
    int64_t at = T("2026-06-01T12:00:00+03:00");
    char hash[65], want[160];
    kr_ledger_sha256_hex(csv, strlen(csv), hash);
    snprintf(want, sizeof want, "{\"imported\":5,\"points\":1850,\"operation\":\"import:%.16s\"}",
             hash);
    kr_ops_status st = import(o, csv, "customers.csv", at);
    tap_ok(st == KR_OPS_OK && same(answer.data, want), "five rows imported");

    int64_t id = 0;
    kr_ledger_customer *c = NULL;
    tap_ok(kr_ledger_customer_by_phone(o->db, "+79161234567", &id) == KR_LEDGER_OK &&
               kr_ledger_customer_get(o->db, id, &c) == KR_LEDGER_OK,
           "row 1 found by its normalised phone");
    if (c) {
        tap_ok(strcmp(c->external_id, "1C-001") == 0 && strcmp(c->name, "Ivan Petrov") == 0 &&
                   strcmp(c->birthday, "1985-04-12") == 0 &&
                   strcmp(c->email, "ivan@example.ru") == 0,
               "row 1: id, name, birthday, e-mail (lower-cased)");
        tap_ok(c->registered_at == T("2024-05-01T00:00:00+03:00"),
               "row 1: registered at the start of its local day");
        tap_ok(c->n_segments == 1 && strcmp(c->segments[0].segment, "partner") == 0 &&
                   c->segments[0].joined_at == c->registered_at,
               "row 1: partner since registration");
        tap_ok(c->n_attrs == 1 && strcmp(c->attrs[0].key, "city") == 0 &&
                   strcmp(c->attrs[0].value, "Moscow") == 0,
               "row 1: attr_city");
        tap_ok(c->balance == 1500, "row 1: 1500 points");
        kr_ledger_balance b;
        if (kr_ledger_balance_get(o->db, id, at, &b) == KR_LEDGER_OK) {
            tap_ok(b.spendable == 1500 && b.n_buckets == 1 &&
                       b.buckets[0].expires_at == T("2027-01-01T00:00:00+03:00"),
                   "row 1: spendable now, expiring after 2026-12-31");
            kr_ledger_balance_free(&b);
        }
        kr_ledger_customer_free(c);
        c = NULL;
    }
    int64_t by_card = 0;
    tap_ok(kr_ledger_customer_by_card(o->db, "7700000000001", &by_card) == KR_LEDGER_OK &&
               by_card == id,
           "row 1's ERP card is active");
    tap_ok(kr_ledger_customer_by_external_id(o->db, "1C-003", &id) == KR_LEDGER_OK &&
               kr_ledger_customer_get(o->db, id, &c) == KR_LEDGER_OK && c->n_segments == 2 &&
               c->balance == 250 && c->registered_at == at,
           "row 3: two segments, 250 points, registered at the import");
    kr_ledger_customer_free(c);
    c = NULL;
    tap_ok(kr_ledger_customer_by_external_id(o->db, "1C-002", &id) == KR_LEDGER_OK &&
               kr_ledger_customer_get(o->db, id, &c) == KR_LEDGER_OK &&
               strcmp(c->name, "Smirnova, Anna") == 0 && c->balance == 0 &&
               c->registered_at == T("2025-01-10T10:00:00+03:00"),
           "row 2: a quoted name with a comma, no points, registered at a time");
    kr_ledger_customer_free(c);
    tap_ok(kr_ledger_customer_by_card(o->db, "7700000000004", &id) == KR_LEDGER_OK,
           "row 4: a card only");
    tap_ok(customers(o) == 5, "five customers");
    tap_ok(ops_test_check(o), "check after the import");

    // The same file again: the ids are taken now; refused whole.
    st = import(o, csv, "customers.csv", at);
    tap_ok(st == KR_OPS_CONFLICT && strstr(answer.data, "\"line\":2") &&
               strstr(answer.data, "nothing was imported"),
           "the same file twice is refused at its first row (%s)", answer.data);
    tap_ok(customers(o) == 5, "still five customers");
    kr_ops_close(o);
}

// A paid club membership from the ERP (club: join-sku CLUB-30, membership-days 30) gets its
// end like a purchase: 30 local days from the day joined (registration), ending at midnight.
static void paid_club_import(void)
{
    static const char csv[] = "external_id,name,registered,segments\n"
                              "1C-101,Club member,2026-05-20,club\n"
                              "1C-102,Partner,2026-05-20,partner\n";
    kr_ops *o = ops_test_open();
    kr_ops_status st = import(o, csv, "club.csv", T("2026-06-01T12:00:00+03:00"));
    tap_ok(st == KR_OPS_OK, "club members imported (%s)", answer.data);
    int64_t id = 0;
    kr_ledger_customer *c = NULL;
    tap_ok(kr_ledger_customer_by_external_id(o->db, "1C-101", &id) == KR_LEDGER_OK &&
               kr_ledger_customer_get(o->db, id, &c) == KR_LEDGER_OK && c->n_segments == 1 &&
               c->segments[0].until == T("2026-06-19T00:00:00+03:00"),
           "the club membership ends at the midnight 30 days after 2026-05-20 (last day 18 June)");
    kr_ledger_customer_free(c);
    c = NULL;
    tap_ok(kr_ledger_customer_by_external_id(o->db, "1C-102", &id) == KR_LEDGER_OK &&
               kr_ledger_customer_get(o->db, id, &c) == KR_LEDGER_OK && c->n_segments == 1 &&
               c->segments[0].until == KR_LEDGER_NEVER,
           "a segment that is not paid keeps no end");
    kr_ledger_customer_free(c);
    tap_ok(ops_test_check(o), "check after the club import");
    kr_ops_close(o);
}

static void refused(const char *what, const char *csv, kr_ops_status want_st, const char *want)
{
    kr_ops *o = ops_test_open();
    kr_ops_status st = import(o, csv, "customers.csv", T("2026-06-01T12:00:00+03:00"));
    tap_ok(st == want_st && same(answer.data, want), "%s", what);
    tap_ok(customers(o) == 0, "%s: nothing imported", what);
    tap_ok(ops_test_check(o), "%s: check", what);
    kr_ops_close(o);
}

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void seventy_thousand(void)
{
    enum { N = 70000 };
    kr_buf csv;
    kr_buf_init(&csv, 0);
    kr_buf_puts(&csv, "external_id,name,phone,email,card,birthday,registered,segments,points,"
                      "points_expire,attr_region\n");
    int64_t points = 0;
    for (int i = 0; i < N; i++) {
        int p = i % 3 ? 100 + i % 1000 : 0;
        points += p;
        kr_buf_printf(&csv,
                      "1C-%06d,Customer %d,8 (9%02d) %03d-%02d-%02d,client%d@shop.ru,77%010d,"
                      "19%02d-%02d-%02d,2024-%02d-01,%s,%d,%s,r%d\n",
                      i, i, i / 1000000 % 90 + 10, i / 10000 % 100 * 10, i / 100 % 100, i % 100, i,
                      i, 50 + i % 50, i % 12 + 1, i % 28 + 1, i % 12 + 1,
                      i % 10 ? "retail" : "partner", p, p && i % 2 ? "2027-06-30" : "", i % 7);
    }
    char path[] = "/tmp/kr-ops-import-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    unlink(path);
    kr_ops_program prog = {.lua = ops_test_lua, .lua_len = ops_test_lua_len, .name = "fixture"};
    kr_ops *o = NULL;
    char err[256];
    if (csv.failed || kr_ops_open(path, &prog, &o, err, sizeof err) != KR_OPS_OK) {
        tap_ok(0, "70,000 rows: open %s", err);
        kr_buf_free(&csv);
        return;
    }
    double t0 = seconds();
    kr_ops_status st =
        kr_ops_import_csv(o, csv.data, csv.len, "big.csv", T("2026-06-01T12:00:00+03:00"), &answer);
    double dt = seconds() - t0;
    char want[64];
    snprintf(want, sizeof want, "{\"imported\":%d,\"points\":%lld,", N, (long long)points);
    tap_ok(st == KR_OPS_OK && strncmp(answer.data, want, strlen(want)) == 0,
           "70,000 rows imported (%s)", answer.data);
    tap_diag("70,000 rows (%zu bytes) imported in %.2f s", csv.len, dt);
    tap_ok(dt < 60.0, "in well under a minute even with sanitizers");
    tap_ok(ops_test_check(o), "check after 70,000 rows");
    // The scheduled jobs over all of them (the daily run of a chain this size).
    t0 = seconds();
    st = kr_ops_jobs_run(o, T("2026-07-05T03:00:00+03:00"), &answer);
    dt = seconds() - t0;
    tap_ok(st == KR_OPS_OK, "jobs over 70,000 customers (%s)", answer.data);
    tap_diag("jobs over 70,000 customers in %.2f s", dt);
    t0 = seconds();
    st = kr_ops_jobs_run(o, T("2026-07-05T03:00:00+03:00"), &answer);
    tap_ok(st == KR_OPS_OK && strstr(answer.data, "\"notifications\":0}"),
           "a second run does nothing (%s)", answer.data);
    tap_diag("the second run in %.2f s", seconds() - t0);
    kr_ops_close(o);
    kr_buf_free(&csv);
    char side[sizeof path + 8];
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
}

int main(int argc, char **argv)
{
    if (argc < 2 || !ops_test_load(argv[1])) {
        printf("Bail out! usage: test-ops-import PROGRAM.lua\n");
        return 1;
    }
    kr_buf_init(&answer, 0);
    five_rows();
    paid_club_import();
    refused("a bad phone on row 4 refuses the whole file",
            "external_id,name,phone\n"
            "X1,A,+79160000011\n"
            "X2,B,+79160000012\n"
            "X3,C,+79160000013\n"
            "X4,D,12345\n"
            "X5,E,+79160000015\n",
            KR_OPS_INVALID,
            "{\"error\":{\"code\":\"invalid\",\"source\":\"customers.csv\",\"line\":5,"
            "\"column\":3,\"field\":\"phone\",\"message\":\"phone '12345' has no country "
            "code: write it with a leading '+' (Russian numbers may start with 8 and have 11 "
            "digits)\"}}");
    refused("an unknown column is named, with a suggestion", "external_id,phnoe\nX1,+79160000011\n",
            KR_OPS_INVALID,
            "{\"error\":{\"code\":\"invalid\",\"source\":\"customers.csv\",\"line\":1,"
            "\"field\":\"phnoe\",\"message\":\"unknown column (did you mean \\\"phone\\\"?)\"}}");
    refused("an unknown segment", "external_id,segments\nX1,retail\nX2,retail vip\n",
            KR_OPS_INVALID,
            "{\"error\":{\"code\":\"invalid\",\"source\":\"customers.csv\",\"line\":3,"
            "\"column\":2,\"field\":\"segments\",\"message\":\"the program has no segment "
            "\\\"vip\\\"\"}}");
    refused("points that are not a whole number", "external_id,points\nX1,10\nX2,12.5\n",
            KR_OPS_INVALID,
            "{\"error\":{\"code\":\"invalid\",\"source\":\"customers.csv\",\"line\":3,"
            "\"column\":2,\"field\":\"points\",\"message\":\"points are a whole number such as "
            "1500\"}}");
    refused("a phone given twice refuses the whole file",
            "external_id,phone\nX1,+79160000011\nX2,+79160000012\nX3,8 916 000-00-11\n",
            KR_OPS_INVALID,
            "{\"error\":{\"code\":\"invalid\",\"source\":\"customers.csv\",\"line\":4,"
            "\"column\":2,\"field\":\"phone\",\"message\":\"phone +79160000011 is also on "
            "line 2\"}}");
    seventy_thousand();
    kr_buf_free(&answer);
    free(ops_test_lua);
    return tap_done();
}
