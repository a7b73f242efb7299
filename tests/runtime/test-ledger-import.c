// SPDX-License-Identifier: MIT
// test-ledger-import: moving 70,000 customers from an ERP in one transaction into a file ledger.
#include "kr-ledger.h"
#include "ledger/ledger-tap.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define T0  1767225600
#define DAY 86400
#define N   70000

static size_t rejected;

static void on_reject(void *ud, size_t index, kr_ledger_status st, const char *msg)
{
    (void)ud;
    if (rejected++ < 3)
        tap_diag("rejected %zu (%s): %s", index, kr_ledger_status_name(st), msg);
}

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(void)
{
    char path[] = "/tmp/kr-ledger-import-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    unlink(path);
    kr_ledger *db = NULL;
    char err[256];
    if (kr_ledger_open(path, &db, err, sizeof err) != KR_LEDGER_OK) {
        printf("Bail out! %s\n", err);
        return 1;
    }
    enum { W = 40 };
    char(*phones)[W] = calloc(N, W), (*mails)[W] = calloc(N, W), (*cards)[W] = calloc(N, W),
    (*ext)[W] = calloc(N, W);
    kr_ledger_import_row *rows = calloc(N, sizeof *rows);
    if (!phones || !mails || !cards || !ext || !rows) {
        printf("Bail out! out of memory\n");
        return 1;
    }
    static const char *const seg_retail[] = {"retail"}, *const seg_home[] = {"homeowner"},
                             *const seg_both[] = {"homeowner", "retail", "homeowner"},
                             *const seg_bad[] = {"retail", "bad segment"};
    int64_t expected_points = 0, expected_due = 0;
    for (size_t i = 0; i < N; i++) {
        snprintf(phones[i], W, "8 (9%02zu) %03zu-%02zu-%02zu", i / 10000000 % 100 + 10,
                 i / 10000 % 1000, i / 100 % 100, i % 100);
        snprintf(mails[i], W, "Client%zu@Shop.RU", i);
        snprintf(cards[i], W, "77%010zu", i);
        snprintf(ext[i], W, "1C-%06zu", i);
        rows[i].customer = (kr_ledger_customer_in){
            .external_id = ext[i],
            .name = "Imported",
            .registered_at = T0 - (int64_t)(i % 1000) * DAY,
            .phone = phones[i],
            .email = i % 3 ? mails[i] : NULL,
            // Every 5th is a homeowner (joined at registration), every 2nd retail.
            .segments = i % 5 == 0 ? (i % 2 ? seg_both : seg_home) : (i % 2 ? seg_retail : NULL),
            .n_segments = i % 5 == 0 ? (i % 2 ? 3 : 1) : (i % 2 ? 1 : 0),
        };
        // Due for the "365 days after joining" transition at T0.
        expected_due += i % 5 == 0 && i % 1000 >= 365;
        rows[i].card_number = i % 2 ? cards[i] : NULL;
        rows[i].opening_balance = (int64_t)(i % 7) * 100;
        rows[i].opening_expires_at = i % 4 ? T0 + (int64_t)(i % 365 + 1) * DAY : KR_LEDGER_NEVER;
        expected_points += rows[i].opening_balance;
    }
    // Three bad rows: a duplicate phone, a bad e-mail, a bad segment id (N - 3 is no homeowner).
    rows[N - 1].customer.phone = phones[0];
    rows[N - 2].customer.email = "broken";
    rows[N - 3].customer.segments = seg_bad;
    rows[N - 3].customer.n_segments = 2;
    expected_points -=
        rows[N - 1].opening_balance + rows[N - 2].opening_balance + rows[N - 3].opening_balance;

    double t = seconds();
    size_t ok = 0;
    kr_ledger_status st = kr_ledger_begin(db);
    if (st == KR_LEDGER_OK)
        st = kr_ledger_import(db, rows, N, "import-erp", T0, on_reject, NULL, &ok);
    if (st == KR_LEDGER_OK)
        st = kr_ledger_commit(db);
    double took = seconds() - t;
    tap_ok(st == KR_LEDGER_OK, "import of %d rows in one transaction (%s)", N,
           st == KR_LEDGER_OK ? "ok" : kr_ledger_errmsg(db));
    tap_diag("imported %zu rows in %.2f s (%.0f rows/s)", ok, took, (double)ok / took);
    tap_ok(ok == N - 3 && rejected == 3, "%zu imported, %zu rejected", ok, rejected);
    tap_ok(took < 120.0, "import finished in %.1f s", took);

    int64_t id = 0, id2 = 0;
    tap_ok(kr_ledger_customer_by_phone(db, "+79100012345", &id) == KR_LEDGER_OK &&
               kr_ledger_customer_by_external_id(db, "1C-012345", &id2) == KR_LEDGER_OK &&
               id == id2,
           "phone and external id find the same imported customer");
    int64_t id3 = 0;
    tap_ok(kr_ledger_customer_by_email(db, "client12346@shop.ru", &id2) == KR_LEDGER_OK &&
               kr_ledger_customer_by_external_id(db, "1C-012346", &id3) == KR_LEDGER_OK &&
               id3 == id2,
           "e-mail was normalised on import");
    tap_ok(kr_ledger_customer_by_card(db, "770000012345", &id2) == KR_LEDGER_OK && id == id2,
           "ERP card is active and attached");
    kr_ledger_balance b;
    tap_ok(kr_ledger_balance_get(db, id, T0, &b) == KR_LEDGER_OK && b.spendable == 12345 % 7 * 100,
           "opening balance is spendable");
    kr_ledger_balance_free(&b);
    kr_ledger_customer *cu = NULL;
    tap_ok(kr_ledger_customer_get(db, id, &cu) == KR_LEDGER_OK && cu && cu->n_segments == 2 &&
               strcmp(cu->segments[0].segment, "homeowner") == 0 &&
               strcmp(cu->segments[1].segment, "retail") == 0 &&
               cu->segments[0].joined_at == T0 - 345 * DAY &&
               cu->segments[0].until == KR_LEDGER_NEVER,
           "imported segments: a set, joined at registration");
    kr_ledger_customer_free(cu);
    int64_t page[1000], after = 0, due = 0;
    size_t n = 0;
    t = seconds();
    do {
        st = kr_ledger_segment_members_due(db, "homeowner", T0 - 365 * DAY, after, 1000, page, &n);
        due += (int64_t)n;
        if (n)
            after = page[n - 1];
    } while (st == KR_LEDGER_OK && n == 1000);
    took = seconds() - t;
    tap_ok(st == KR_LEDGER_OK && due == expected_due,
           "members_due pages find the %lld homeowners of a year or more (%lld, %.3f s)",
           (long long)expected_due, (long long)due, took);

    // The totals survive closing and reopening the file.
    kr_ledger_close(db);
    db = NULL;
    tap_ok(kr_ledger_open(path, &db, err, sizeof err) == KR_LEDGER_OK, "reopen");
    int64_t total = 0;
    for (int64_t c = 1; c <= (int64_t)ok; c++) {
        kr_ledger_balance bb;
        if (kr_ledger_balance_get(db, c, T0, &bb) == KR_LEDGER_OK) {
            total += bb.spendable + bb.pending;
            kr_ledger_balance_free(&bb);
        }
    }
    tap_ok(total == expected_points, "all %lld opening points present", (long long)total);
    int64_t v = -1;
    t = seconds();
    st = kr_ledger_check(db, NULL, NULL, &v);
    took = seconds() - t;
    tap_ok(st == KR_LEDGER_OK && v == 0, "check: 0 violations (%.2f s)", took);
    kr_ledger_close(db);
    free(phones);
    free(mails);
    free(cards);
    free(ext);
    free(rows);
    char side[300];
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
    return tap_done();
}
