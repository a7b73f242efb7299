// SPDX-License-Identifier: MIT
// test-crash.c: nothing confirmed is lost or applied twice across a crash.
//
// A child process confirms a stream of receipts into a ledger file and reports each id on a
// pipe only after kr_ops_confirm returned OK (the commit is durable: synchronous=FULL). The
// parent kills it with SIGKILL at a random moment, reopens the ledger and checks: every
// reported receipt is there; re-sending every receipt of the stream (the reported ones and the
// one in flight) answers "replay" for those that were committed and confirms the others once;
// the invariant check finds nothing; the customer's points equal the sum over the receipts
// confirmed exactly once. Several rounds, each continuing the same stream.
#include "kr-ops.h"

#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ROUNDS 6
#define STREAM 400 // receipts per round at most

static int n_test, n_failed;
static void check(bool ok, const char *name)
{
    n_test++;
    printf("%s %d - %s\n", ok ? "ok" : "not ok", n_test, name);
    if (!ok)
        n_failed++;
}

static char lua[1 << 20];
static size_t lua_len;

static kr_ops *open_ops(const char *db)
{
    kr_ops *o = NULL;
    char err[512];
    kr_ops_program p = {.lua = lua, .lua_len = lua_len, .name = "shop.xml"};
    if (kr_ops_open(db, &p, &o, err, sizeof err) != KR_OPS_OK) {
        fprintf(stderr, "open: %s\n", err);
        return NULL;
    }
    return o;
}

// Receipt `i`: one line of (i % 7 + 1) x 100.00 pipes, 5% accrual => (i % 7 + 1) * 5 points.
static void receipt(int i, char *buf, size_t sz)
{
    snprintf(buf, sz,
             "{\"id\":\"crash-%d\",\"time\":\"2026-05-01T10:00:00+03:00\",\"customer\":"
             "{\"phone\":\"+79120000009\"},\"lines\":[{\"id\":\"1\",\"sku\":\"P\",\"category\":"
             "\"pipes\",\"qty\":%d,\"price\":\"100.00\"}]}",
             i, i % 7 + 1);
}

static void child(const char *db, int from, int fd)
{
    kr_ops *o = open_ops(db);
    if (!o)
        _exit(3);
    kr_buf out;
    kr_buf_init(&out, 0);
    char json[512];
    for (int i = from; i < from + STREAM; i++) {
        receipt(i, json, sizeof json);
        kr_ops_status st = kr_ops_confirm(o, json, strlen(json), &out);
        if (st != KR_OPS_OK && st != KR_OPS_REPLAY)
            _exit(4);
        if (write(fd, &i, sizeof i) != (ssize_t)sizeof i)
            _exit(5);
    }
    _exit(0);
}

int main(int argc, char **argv)
{
    FILE *f = argc > 1 ? fopen(argv[1], "rb") : NULL;
    if (!f) {
        fprintf(stderr, "usage: test-crash SHOP.lua\n");
        return 2;
    }
    lua_len = fread(lua, 1, sizeof lua - 1, f);
    fclose(f);
    char dir[] = "/tmp/kopilka-crash-XXXXXX";
    if (!mkdtemp(dir))
        return 3;
    char db[256];
    snprintf(db, sizeof db, "%s/ledger.db", dir);

    kr_ops *o = open_ops(db);
    kr_buf out;
    kr_buf_init(&out, 0);
    const char *cust = "{\"phone\":\"+79120000009\"}";
    check(o && kr_ops_customer_create(o, cust, strlen(cust), 1777000000, &out) == KR_OPS_OK,
          "customer created");
    kr_ops_close(o);

    srand((unsigned)time(NULL));
    int next = 0;
    int64_t expected_points = 0;
    for (int round = 0; round < ROUNDS; round++) {
        int fds[2];
        if (pipe(fds) != 0)
            return 3;
        pid_t pid = fork();
        if (pid == 0) {
            close(fds[0]);
            child(db, next, fds[1]);
        }
        close(fds[1]);
        // Let it run 5..60 ms, then pull the plug.
        struct timespec ts = {0, (long)(5 + rand() % 55) * 1000000L};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int reported = next - 1, v;
        while (read(fds[0], &v, sizeof v) == (ssize_t)sizeof v)
            reported = v;
        close(fds[0]);
        int status;
        waitpid(pid, &status, 0);

        o = open_ops(db);
        if (!o) {
            check(false, "ledger reopens after the crash");
            break;
        }
        // Every receipt the child reported must replay; the one in flight (reported + 1) may
        // or may not have committed; anything later must be new. Re-send all of them.
        bool all_ok = true;
        char json[512];
        for (int i = next; i <= reported + 1; i++) {
            receipt(i, json, sizeof json);
            kr_ops_status st = kr_ops_confirm(o, json, strlen(json), &out);
            if (i <= reported && st != KR_OPS_REPLAY)
                all_ok = false;
            if (i == reported + 1 && st != KR_OPS_REPLAY && st != KR_OPS_OK)
                all_ok = false;
            expected_points += (i % 7 + 1) * 5;
        }
        char name[160];
        snprintf(name, sizeof name,
                 "round %d: %d receipts reported before SIGKILL are there exactly once", round,
                 reported - next + 1);
        check(all_ok, name);
        next = reported + 2;
        int64_t violations = -1;
        kr_ops_check(o, &out, &violations);
        snprintf(name, sizeof name, "round %d: invariants hold after the crash", round);
        check(violations == 0, name);
        // All points are held 14 days: look at the balance a month later.
        kr_ops_balance(o, cust, 1780000000, &out);
        json_t *b = json_loads(out.data, 0, NULL);
        int64_t spendable = json_integer_value(json_object_get(b, "spendable"));
        json_decref(b);
        snprintf(name, sizeof name, "round %d: points %lld = the sum over confirmed receipts %lld",
                 round, (long long)spendable, (long long)expected_points);
        check(spendable == expected_points, name);
        kr_ops_close(o);
    }
    kr_buf_free(&out);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    printf("1..%d\n", n_test);
    return n_failed ? 1 : 0;
}
