// SPDX-License-Identifier: MIT
// test-subset.c: the subset comparison behind scenario expectations (kopilka-subset.h), as a
// table of expected/actual JSON pairs with the exact difference text each must produce.
#include "kopilka-subset.h"

#include <stdio.h>
#include <string.h>

static int n_test, n_failed;

static void check(bool ok, const char *name, const char *detail)
{
    n_test++;
    printf("%s %d - %s\n", ok ? "ok" : "not ok", n_test, name);
    if (!ok) {
        n_failed++;
        printf("# %s\n", detail);
    }
}

typedef struct subset_case {
    const char *name;
    const char *expected, *actual; // JSON texts (actual NULL: absent)
    size_t differences;
    const char *text; // the exact report
} subset_case;

static const subset_case cases[] = {
    {"equal scalars", "\"4750.00\"", "\"4750.00\"", 0, ""},
    {"money differs", "{\"lines\":[{},{\"final\":\"4750.00\"}]}",
     "{\"lines\":[{\"final\":\"1.00\"},{\"final\":\"4800.00\",\"original\":\"5000.00\"}]}", 1,
     "lines[1].final: expected \"4750.00\", got \"4800.00\"\n"},
    {"money is compared as written", "{\"total\":\"1500\"}", "{\"total\":\"1500.00\"}", 1,
     "total: expected \"1500\", got \"1500.00\"\n"},
    {"extra keys are ignored", "{\"a\":1}", "{\"a\":1,\"b\":2,\"c\":{\"d\":[1,2]}}", 0, ""},
    {"missing key", "{\"result\":{\"points_earned\":95}}", "{\"result\":{}}", 1,
     "result.points_earned: expected 95, got nothing\n"},
    {"nested objects", "{\"result\":{\"applied\":[{\"promotion\":\"retail-discount\"}]}}",
     "{\"result\":{\"applied\":[{\"promotion\":\"partner-discount\",\"discount\":\"10.00\"}]}}",
     1, "result.applied[0].promotion: expected \"retail-discount\", got \"partner-discount\"\n"},
    {"array length", "{\"codes\":[]}", "{\"codes\":[{\"code\":\"X\"}]}", 1,
     "codes: expected 0 elements, got 1: [{\"code\":\"X\"}]\n"},
    {"array length and elements", "{\"v\":[1,5]}", "{\"v\":[1,2,3]}", 2,
     "v: expected 2 elements, got 3: [1,2,3]\nv[1]: expected 5, got 2\n"},
    {"null means absent", "{\"error\":null}", "{\"receipt\":\"R1\"}", 0, ""},
    {"null and present", "{\"error\":null}", "{\"error\":{\"code\":\"invalid\"}}", 1,
     "error: expected nothing, got {\"code\":\"invalid\"}\n"},
    {"error subset", "{\"error\":{\"code\":\"invalid\",\"field\":\"lines[0].price\"}}",
     "{\"error\":{\"code\":\"invalid\",\"source\":\"s.json\",\"field\":\"lines[0].price\","
     "\"message\":\"money is written as a string\"}}",
     0, ""},
    {"expected error, got answer", "{\"error\":{\"code\":\"refused\"}}", "{\"receipt\":\"R1\"}",
     1, "error: expected an object, got nothing\n"},
    {"type mismatch", "{\"a\":\"1\"}", "{\"a\":1}", 1, "a: expected \"1\", got 1\n"},
    {"integer and real", "{\"a\":2}", "{\"a\":2.0}", 0, ""},
    {"booleans", "{\"a\":true,\"b\":false}", "{\"a\":false,\"b\":false}", 1,
     "a: expected true, got false\n"},
    {"top level", "[1]", "{}", 1, "(top): expected an array, got {}\n"},
    {"unusual key", "{\"a b\":{\"c\":1}}", "{\"a b\":{\"c\":2}}", 1,
     "[\"a b\"].c: expected 1, got 2\n"},
    {"several differences keep order", "{\"b\":1,\"a\":2}", "{\"a\":3,\"b\":4}", 2,
     "b: expected 1, got 4\na: expected 2, got 3\n"},
    {"absent actual", "{\"a\":1}", NULL, 1, "(top): expected an object, got nothing\n"},
};

static void run_case(const subset_case *c)
{
    json_error_t je;
    json_t *e = json_loads(c->expected, JSON_DECODE_ANY, &je);
    json_t *a = c->actual ? json_loads(c->actual, JSON_DECODE_ANY, &je) : NULL;
    if (!e || (c->actual && !a)) {
        check(false, c->name, "test data is not JSON");
        json_decref(e);
        json_decref(a);
        return;
    }
    kr_buf out;
    kr_buf_init(&out, 0);
    size_t n = kp_subset_diff(e, a, NULL, &out);
    const char *got = out.data ? out.data : "";
    char detail[1024];
    snprintf(detail, sizeof detail, "differences %zu (want %zu), report:\n# %s# want:\n# %s", n,
             c->differences, got, c->text);
    check(n == c->differences && strcmp(got, c->text) == 0, c->name, detail);
    kr_buf_free(&out);
    json_decref(e);
    json_decref(a);
}

// A long value is shortened, and a report past KP_SUBSET_MAX_LINES says how many more.
static void limits(void)
{
    json_t *e = json_array(), *a = json_array();
    for (int i = 0; i < KP_SUBSET_MAX_LINES + 7; i++) {
        json_array_append_new(e, json_integer(i));
        json_array_append_new(a, json_integer(-i - 1));
    }
    kr_buf out;
    kr_buf_init(&out, 0);
    size_t n = kp_subset_diff(e, a, "v", &out);
    check(n == KP_SUBSET_MAX_LINES + 7 && strstr(out.data, "... and 7 more differences\n") &&
              strncmp(out.data, "v[0]: expected 0, got -1\n", 25) == 0,
          "many differences are capped", out.data ? out.data : "");
    kr_buf_free(&out);
    json_decref(e);
    json_decref(a);

    char big[400];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    e = json_string("y");
    a = json_string(big);
    kr_buf_init(&out, 0);
    kp_subset_diff(e, a, "name", &out);
    check(out.len < 200 && strstr(out.data, "…\n") != NULL, "long values are shortened",
          out.data ? out.data : "");
    kr_buf_free(&out);
    json_decref(e);
    json_decref(a);
}

int main(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        run_case(&cases[i]);
    limits();
    printf("1..%d\n", n_test);
    return n_failed ? 1 : 0;
}
