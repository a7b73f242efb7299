// SPDX-License-Identifier: MIT
// ops-test.h: helpers shared by the ops jobs and import tests — a throwaway ledger with a
// compiled fixture program, instants from RFC 3339 text, customers, the outbox, the check.
#ifndef OPS_TEST_H
#define OPS_TEST_H

#include "kr-ops-private.h"
#include "ledger/ledger-tap.h"

#include <stdlib.h>
#include <string.h>

static char *ops_test_lua;
static size_t ops_test_lua_len;

// Reads the compiled program (argv[1]); false when it cannot.
static inline bool ops_test_load(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    ops_test_lua = malloc((size_t)n + 1);
    if (!ops_test_lua || fread(ops_test_lua, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        return false;
    }
    fclose(f);
    ops_test_lua[n] = '\0';
    ops_test_lua_len = (size_t)n;
    return true;
}

// A new in-memory ledger with the program; exits on failure.
static inline kr_ops *ops_test_open(void)
{
    kr_ops_program p = {.lua = ops_test_lua, .lua_len = ops_test_lua_len, .name = "fixture"};
    kr_ops *o = NULL;
    char err[512];
    if (kr_ops_open(":memory:", &p, &o, err, sizeof err) != KR_OPS_OK) {
        printf("Bail out! kr_ops_open: %s\n", err);
        exit(1);
    }
    return o;
}

// Unix seconds of an RFC 3339 time; exits on a typo in the test.
static inline int64_t T(const char *s)
{
    int64_t t;
    char why[128];
    if (!kr_parse_time(s, &t, why, sizeof why)) {
        printf("Bail out! bad time in the test: %s: %s\n", s, why);
        exit(1);
    }
    return t;
}

// Creates a customer from JSON at `at`; returns the ledger id (0 on failure, reported).
static inline int64_t ops_test_customer(kr_ops *o, const char *json, int64_t at)
{
    kr_buf out;
    kr_buf_init(&out, 0);
    kr_ops_status st = kr_ops_customer_create(o, json, strlen(json), at, &out);
    long long id = 0;
    if (st != KR_OPS_OK || sscanf(out.data, "{\"customer\":%lld}", &id) != 1)
        tap_diag("customer_create failed: %s", out.data ? out.data : "");
    kr_buf_free(&out);
    return id;
}

// True when kr_ops_check finds no violation.
static inline bool ops_test_check(kr_ops *o)
{
    kr_buf out;
    kr_buf_init(&out, 0);
    int64_t v = -1;
    kr_ops_status st = kr_ops_check(o, &out, &v);
    if (st != KR_OPS_OK || v != 0)
        tap_diag("check: %s", out.data ? out.data : "");
    kr_buf_free(&out);
    return st == KR_OPS_OK && v == 0;
}

#endif
