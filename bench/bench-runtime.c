// SPDX-License-Identifier: MIT
// bench-runtime.c: runtime benchmarks — receipts evaluated per second in process (one engine,
// one core), durable confirms per second into a ledger file, and a customer import.
//
//   bench-runtime engine PROGRAM.lua [N]        evaluate N generated receipts (default 200000)
//   bench-runtime compare A.lua B.lua           the same results from both on the receipt pool?
//   bench-runtime confirm PROGRAM.lua DB [N]    confirm N receipts (default 2000) into DB
//   bench-runtime import PROGRAM.lua DB [N]     import N customers from generated CSV (100000)
//
// Receipts are generated with a fixed seed: 1-8 lines from a catalogue of 10 categories and
// 2,000 SKUs, prices 50.00-15,000.00, a customer in one of three segments. Figures go into
// bench/README.md with the machine and the command.
#include "kr-engine.h"
#include "kr-ops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const categories[] = {"taps",  "mixers", "sinks",   "baths", "pipes",
                                         "tiles", "tools",  "heating", "pumps", "filters"};
static const char *const segments[] = {"retail", "partner", "vip"};

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) {
        buf[n] = '\0';
        *len = (size_t)n;
    }
    return buf;
}

enum { POOL = 4096, MAX_LINES = 8 };
static char skus[2000][16];

static kr_engine_line lines[POOL][MAX_LINES];
static kr_engine_receipt rcs[POOL];
static kr_engine_customer custs[POOL];
static const char *segv[POOL][1];
static char ids[POOL][24];

// The pool of generated receipts (the same on every run: the generator's seed is fixed).
static void make_pool(void)
{
    for (int i = 0; i < POOL; i++) {
        size_t nl = 1 + next() % MAX_LINES;
        for (size_t k = 0; k < nl; k++) {
            kr_engine_line *l = &lines[i][k];
            size_t s = next() % 2000;
            l->id = skus[s];
            l->sku = skus[s];
            l->category = categories[s % 10];
            l->qty = 1 + (int64_t)(next() % 3);
            l->price = 5000 + (int64_t)(next() % 1500000);
            l->amount = l->qty * l->price;
        }
        segv[i][0] = segments[next() % 3];
        custs[i] = (kr_engine_customer){.id = "c", .segments = segv[i], .n_segments = 1,
                                        .balance = (int64_t)(next() % 5000)};
        snprintf(ids[i], sizeof ids[i], "r%d", i);
        rcs[i] = (kr_engine_receipt){.id = ids[i], .time = 1780000000 + (int64_t)(next() % 30000000),
                                     .store = "s01", .region = "moscow", .channel = "store",
                                     .lines = lines[i], .n_lines = nl, .customer = &custs[i],
                                     .points_to_spend = (int64_t)(next() % 3) * 100};
    }
}

static kr_engine *open_engine(const char *lua, size_t len, const char *name)
{
    kr_engine *e = NULL;
    char err[512];
    if (kr_engine_open(lua, len, name, NULL, &e, err, sizeof err) != KR_ENGINE_OK) {
        fprintf(stderr, "bench: %s\n", err);
        return NULL;
    }
    return e;
}

static int bench_engine(const char *lua, size_t len, long n)
{
    kr_engine *e = open_engine(lua, len, "bench");
    if (!e)
        return 1;
    make_pool();
    kr_engine_result res;
    kr_engine_result_init(&res);
    for (int i = 0; i < POOL; i++) // warm up, and fail early on a broken program
        if (kr_engine_calculate(e, &rcs[i], &res) != KR_ENGINE_OK) {
            fprintf(stderr, "bench: receipt %d: %s\n", i, res.error);
            return 1;
        }
    long lines_total = 0;
    double t0 = now();
    for (long i = 0; i < n; i++) {
        kr_engine_calculate(e, &rcs[i % POOL], &res);
        lines_total += (long)rcs[i % POOL].n_lines;
    }
    double dt = now() - t0;
    printf("engine: %ld receipts (%.1f lines each) in %.3f s: %.0f receipts/s, %.2f us each, "
           "%zu promotions\n",
           n, (double)lines_total / (double)n, dt, (double)n / dt, dt / (double)n * 1e6,
           kr_engine_promotion_count(e));
    kr_engine_result_free(&res);
    kr_engine_close(e);
    return 0;
}

// Whether two results agree on everything money and points: line finals, points spent and
// earned, totals, the applied promotions with their discount and points, and the rejected
// promotions with their reason and, when both programs have condition texts (a hand-written
// one may leave them out), the failing condition. Promotions are compared by id.
static bool same_result(const kr_engine *ea, const kr_engine_result *a, const kr_engine *eb,
                        const kr_engine_result *b)
{
    if (a->n_lines != b->n_lines || a->total_discount != b->total_discount ||
        a->to_pay != b->to_pay || a->points_spent != b->points_spent ||
        a->points_earned != b->points_earned || a->max_points != b->max_points ||
        a->n_applied != b->n_applied || a->n_rejected != b->n_rejected)
        return false;
    for (size_t i = 0; i < a->n_lines; i++)
        if (a->lines[i].final != b->lines[i].final ||
            a->lines[i].points_earned != b->lines[i].points_earned ||
            a->lines[i].points_spent != b->lines[i].points_spent)
            return false;
    for (size_t k = 0; k < a->n_applied; k++)
        if (strcmp(kr_engine_promotion_id(ea, a->applied[k].promotion),
                   kr_engine_promotion_id(eb, b->applied[k].promotion)) != 0 ||
            a->applied[k].discount != b->applied[k].discount ||
            a->applied[k].points != b->applied[k].points)
            return false;
    for (size_t k = 0; k < a->n_rejected; k++)
        if (strcmp(kr_engine_promotion_id(ea, a->rejected[k].promotion),
                   kr_engine_promotion_id(eb, b->rejected[k].promotion)) != 0 ||
            a->rejected[k].reason != b->rejected[k].reason)
            return false;
    for (size_t k = 0; k < a->n_rejected; k++) { // the failing condition, when both name one
        const char *ca = a->rejected[k].condition, *cb = b->rejected[k].condition;
        if (ca && cb && strcmp(ca, "(unknown condition)") != 0 &&
            strcmp(cb, "(unknown condition)") != 0 && strcmp(ca, cb) != 0)
            return false;
    }
    return true;
}

// Evaluates every receipt of the pool with both programs and reports the first difference.
static int bench_compare(const char *lua_a, size_t len_a, const char *lua_b, size_t len_b)
{
    kr_engine *ea = open_engine(lua_a, len_a, "a");
    kr_engine *eb = ea ? open_engine(lua_b, len_b, "b") : NULL;
    if (!eb)
        return 1;
    make_pool();
    kr_engine_result ra, rb;
    kr_engine_result_init(&ra);
    kr_engine_result_init(&rb);
    int rc = 0;
    long applied = 0;
    for (int i = 0; i < POOL && rc == 0; i++) {
        if (kr_engine_calculate(ea, &rcs[i], &ra) != KR_ENGINE_OK ||
            kr_engine_calculate(eb, &rcs[i], &rb) != KR_ENGINE_OK) {
            fprintf(stderr, "compare: receipt %d: %s%s\n", i, ra.error, rb.error);
            rc = 1;
        } else if (!same_result(ea, &ra, eb, &rb)) {
            fprintf(stderr,
                    "compare: receipt %d differs (discount %lld / %lld, points %lld / %lld)\n", i,
                    (long long)ra.total_discount, (long long)rb.total_discount,
                    (long long)ra.points_earned, (long long)rb.points_earned);
            rc = 1;
        }
        applied += (long)ra.n_applied;
    }
    if (rc == 0)
        printf("compare: %d receipts, the same result from both programs (%.1f promotions "
               "applied per receipt)\n",
               POOL, (double)applied / POOL);
    kr_engine_result_free(&ra);
    kr_engine_result_free(&rb);
    kr_engine_close(ea);
    kr_engine_close(eb);
    return rc;
}

static int bench_confirm(const char *lua, size_t len, const char *db, long n)
{
    kr_ops *o = NULL;
    char err[512];
    kr_ops_program prog = {.lua = lua, .lua_len = len, .name = "bench"};
    if (kr_ops_open(db, &prog, &o, err, sizeof err) != KR_OPS_OK) {
        fprintf(stderr, "bench: %s\n", err);
        return 1;
    }
    kr_buf out, json;
    kr_buf_init(&out, 0);
    kr_buf_init(&json, 0);
    long customers = 200;
    for (long c = 0; c < customers; c++) {
        kr_buf_reset(&json);
        kr_buf_printf(&json, "{\"id\":\"c%ld\",\"phone\":\"+7912%07ld\",\"segments\":[\"%s\"]}",
                      c, c, segments[c % 3]);
        if (kr_ops_customer_create(o, json.data, json.len, 1780000000, &out) != KR_OPS_OK) {
            fprintf(stderr, "bench: %s\n", out.data);
            return 1;
        }
    }
    double t0 = now();
    for (long i = 0; i < n; i++) {
        kr_buf_reset(&json);
        kr_buf_printf(&json,
                      "{\"id\":\"bench-%ld-%ld\",\"time\":\"2026-06-01T12:00:00+03:00\","
                      "\"customer\":{\"id\":\"c%ld\"},\"lines\":[",
                      (long)time(NULL), i, i % customers);
        size_t nl = 1 + next() % 4;
        for (size_t k = 0; k < nl; k++)
            kr_buf_printf(&json, "%s{\"id\":\"%zu\",\"sku\":\"%s\",\"category\":\"%s\",\"qty\":1,"
                                 "\"price\":\"%d.00\"}",
                          k ? "," : "", k, skus[next() % 2000], categories[next() % 10],
                          100 + (int)(next() % 9000));
        kr_buf_puts(&json, "]}");
        kr_ops_status st = kr_ops_confirm(o, json.data, json.len, &out);
        if (st != KR_OPS_OK) {
            fprintf(stderr, "bench: confirm %ld: %s\n", i, out.data);
            return 1;
        }
    }
    double dt = now() - t0;
    printf("confirm: %ld durable confirms (synchronous=FULL, WAL) in %.3f s: %.0f confirms/s\n", n,
           dt, (double)n / dt);
    kr_buf_free(&out);
    kr_buf_free(&json);
    kr_ops_close(o);
    return 0;
}

static int bench_import(const char *lua, size_t len, const char *db, long n)
{
    kr_ops *o = NULL;
    char err[512];
    kr_ops_program prog = {.lua = lua, .lua_len = len, .name = "bench"};
    if (kr_ops_open(db, &prog, &o, err, sizeof err) != KR_OPS_OK) {
        fprintf(stderr, "bench: %s\n", err);
        return 1;
    }
    kr_buf csv, out;
    kr_buf_init(&csv, 0);
    kr_buf_init(&out, 0);
    kr_buf_puts(&csv, "external_id,name,phone,email,birthday,segments,points,points_expire\n");
    for (long i = 0; i < n; i++) {
        kr_buf_printf(&csv, "erp-%ld,Customer %ld,+7913%07ld,c%ld@example.com,19%02ld-%02ld-%02ld,%s,",
                      i, i, i, i, 50 + i % 50, 1 + i % 12, 1 + i % 28, segments[i % 3]);
        if (i % 1000) // most customers bring an opening balance with its expiry
            kr_buf_printf(&csv, "%ld,2027-12-31\n", i % 1000);
        else
            kr_buf_puts(&csv, ",\n");
    }
    double t0 = now();
    kr_ops_status st = kr_ops_import_csv(o, csv.data, csv.len, "bench.csv", 1780000000, &out);
    double dt = now() - t0;
    if (st != KR_OPS_OK) {
        fprintf(stderr, "bench: import: %s\n", out.data);
        return 1;
    }
    printf("import: %ld customers with phone, e-mail, birthday, segment and an opening balance in "
           "%.2f s: %.0f rows/s\n",
           n, dt, (double)n / dt);
    kr_buf_free(&csv);
    kr_buf_free(&out);
    kr_ops_close(o);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr,
                "usage: bench-runtime engine|compare|confirm|import PROGRAM.lua [DB] [N]\n");
        return 2;
    }
    for (int i = 0; i < 2000; i++)
        snprintf(skus[i], sizeof skus[i], "SKU%d", i);
    size_t len = 0;
    char *lua = read_file(argv[2], &len);
    if (!lua) {
        fprintf(stderr, "bench: cannot read %s\n", argv[2]);
        return 3;
    }
    int rc;
    if (strcmp(argv[1], "engine") == 0)
        rc = bench_engine(lua, len, argc > 3 ? atol(argv[3]) : 200000);
    else if (strcmp(argv[1], "compare") == 0 && argc > 3) {
        size_t len_b = 0;
        char *lua_b = read_file(argv[3], &len_b);
        rc = lua_b ? bench_compare(lua, len, lua_b, len_b) : 3;
        if (!lua_b)
            fprintf(stderr, "bench: cannot read %s\n", argv[3]);
        free(lua_b);
    } else if (strcmp(argv[1], "confirm") == 0 && argc > 3)
        rc = bench_confirm(lua, len, argv[3], argc > 4 ? atol(argv[4]) : 2000);
    else if (strcmp(argv[1], "import") == 0 && argc > 3)
        rc = bench_import(lua, len, argv[3], argc > 4 ? atol(argv[4]) : 100000);
    else {
        fprintf(stderr,
                "usage: bench-runtime engine|compare|confirm|import PROGRAM.lua [DB] [N]\n");
        rc = 2;
    }
    free(lua);
    return rc;
}
