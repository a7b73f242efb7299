// SPDX-License-Identifier: MIT
// test-input.c: money/time/date parsing, JSON field errors and the CSV reader, as tables of
// inputs with their exact expected values or error texts.
#include "kr-input.h"

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

typedef struct money_case {
    const char *text;
    int minor;
    bool neg;
    bool ok;
    int64_t value;
    const char *why;
} money_case;

static const money_case money_cases[] = {
    {"1500", 2, false, true, 150000, NULL},
    {"1500.5", 2, false, true, 150050, NULL},
    {"1500.50", 2, false, true, 150050, NULL},
    {"0.01", 2, false, true, 1, NULL},
    {"1500.500", 2, false, true, 150050, NULL},
    {"1500.505", 2, false, false, 0, "\"1500.505\" has more than 2 decimals"},
    {"-5.00", 2, false, false, 0, "must not be negative, got \"-5.00\""},
    {"-5.00", 2, true, true, -500, NULL},
    {"1,50", 2, false, false, 0, "\"1,50\" is not an amount of money (write \"1500.00\")"},
    {"", 2, false, false, 0, "\"\" is not an amount of money (write \"1500.00\")"},
    {"12.", 2, false, false, 0, "\"12.\" is not an amount of money (write \"1500.00\")"},
    {"7", 0, false, true, 7, NULL},
    {"99999999999999999999", 2, false, false, 0, "\"99999999999999999999\" is too large"},
};

typedef struct time_case {
    const char *text;
    bool ok;
    int64_t value;
    const char *why;
} time_case;

static const time_case time_cases[] = {
    {"1970-01-01T00:00:00Z", true, 0, NULL},
    {"2026-11-22T14:05:00+03:00", true, 1795345500, NULL},
    {"2026-11-22T11:05:00.123Z", true, 1795345500, NULL},
    {"2026-11-22T14:05:00", false, 0,
     "\"2026-11-22T14:05:00\" has no UTC offset (add \"Z\" or \"+03:00\")"},
    {"2026-02-30T10:00:00Z", false, 0, "the date \"2026-02-30\" cannot happen"},
    {"2024-02-29T10:00:00Z", true, 1709200800, NULL},
    {"2026-11-22T25:00:00Z", false, 0, "\"2026-11-22T25:00:00Z\" has an impossible time of day"},
    {"yesterday", false, 0, "\"yesterday\" is not a time (write \"2026-11-22T14:05:00+03:00\")"},
};

typedef struct json_case {
    const char *name;
    const char *json;
    const char *error; // formatted with source "r.jsonl"; NULL when valid
} json_case;

// A receipt-like reader used only by this test: id, time, lines[] {sku, qty, price}.
static bool read_fixture(const json_t *v, kr_input_error *err)
{
    static const char *const top[] = {"id", "time", "lines", NULL};
    static const char *const line_keys[] = {"sku", "qty", "price", NULL};
    kr_json_obj o = {.obj = v, .err = err};
    const char *id = NULL;
    int64_t t = 0;
    const json_t *lines = NULL;
    if (!kr_json_expect_object(&o, top) || !kr_json_string(&o, "id", true, &id) ||
        !kr_json_time(&o, "time", true, &t) || !kr_json_array(&o, "lines", true, &lines))
        return false;
    for (size_t i = 0; i < json_array_size(lines); i++) {
        kr_json_obj l;
        bool present;
        int64_t qty = 0, price = 0;
        const char *sku = NULL;
        if (!kr_json_child(&o, "lines", lines, i, true, &l, &present) ||
            !kr_json_expect_object(&l, line_keys) || !kr_json_string(&l, "sku", true, &sku) ||
            !kr_json_int(&l, "qty", true, 1, 100000, &qty) ||
            !kr_json_money(&l, "price", true, 2, false, &price))
            return false;
    }
    return true;
}

static const json_case json_cases[] = {
    {"valid", "{\"id\":\"r1\",\"time\":\"2026-01-01T10:00:00Z\",\"lines\":[{\"sku\":\"a\",\"qty\":1,"
              "\"price\":\"10.00\"}]}",
     NULL},
    {"money as a number",
     "{\"id\":\"r1\",\"time\":\"2026-01-01T10:00:00Z\",\"lines\":[{\"sku\":\"a\",\"qty\":1,"
     "\"price\":10.5}]}",
     "r.jsonl:7: lines[0].price: money is written as a string such as \"1500.00\", so no "
     "floating point touches it"},
    {"unknown field with suggestion",
     "{\"id\":\"r1\",\"time\":\"2026-01-01T10:00:00Z\",\"lines\":[{\"sku\":\"a\",\"qty\":1,"
     "\"price\":\"1\"},{\"skus\":\"b\"}]}",
     "r.jsonl:7: lines[1].skus: unknown field (did you mean \"sku\"?)"},
    {"negative quantity",
     "{\"id\":\"r1\",\"time\":\"2026-01-01T10:00:00Z\",\"lines\":[{\"sku\":\"a\",\"qty\":-2,"
     "\"price\":\"1\"}]}",
     "r.jsonl:7: lines[0].qty: must be from 1 to 100000, got -2"},
    {"missing field", "{\"id\":\"r1\",\"lines\":[]}", "r.jsonl:7: time: is required"},
    {"malformed", "{\"id\":\"r1\",,}",
     "r.jsonl:7:12: malformed JSON: string or '}' expected near ','"},
    {"duplicate key", "{\"id\":\"r1\",\"id\":\"r2\"}",
     "r.jsonl:7:15: malformed JSON: duplicate object key near '\"id\"'"},
};

typedef struct csv_case {
    const char *name;
    const char *text;
    const char *expect; // records as "a|b;c|d" or the formatted error
} csv_case;

static const char *const csv_required[] = {"phone", NULL};
static const char *const csv_known[] = {"phone", "name", "points", NULL};

static const csv_case csv_cases[] = {
    {"plain", "phone,name\n+79120000001,Ann\n+79120000002,Bob\n", "+79120000001|Ann;+79120000002|Bob;"},
    {"crlf, bom, quotes", "\xEF\xBB\xBFphone,name\r\n\"+7912\",\"Smith, \"\"J\"\"\"\r\n",
     "+7912|Smith, \"J\";"},
    {"quoted newline", "phone,name\n1,\"two\nlines\"\n2,x\n", "1|two\nlines;2|x;"},
    {"unclosed quote", "phone,name\n1,\"two\n", "c.csv:2:3: a quoted field is not closed"},
    {"field count", "phone,name\n1,a,b\n", "c.csv:2: the record has 3 fields, the header has 2"},
    {"unknown column", "phone,nmae\n", "c.csv:1: nmae: unknown column (did you mean \"name\"?)"},
    {"missing column", "name\nAnn\n", "c.csv:1: phone: a required column is missing"},
    {"quote inside", "phone,name\n1,a\"b\n", "c.csv:2:4: a quote inside an unquoted field (quote the whole field)"},
    {"empty", "", "c.csv:1:1: the file is empty (a header line is expected)"},
};

int main(void)
{
    char name[160], detail[512];
    for (size_t i = 0; i < sizeof money_cases / sizeof money_cases[0]; i++) {
        const money_case *c = &money_cases[i];
        int64_t v = 0;
        char why[200] = "";
        bool ok = kr_parse_money(c->text, c->minor, c->neg, &v, why, sizeof why);
        snprintf(name, sizeof name, "money \"%s\"", c->text);
        snprintf(detail, sizeof detail, "got ok=%d value=%lld why=%s", ok, (long long)v, why);
        check(ok == c->ok && (ok ? v == c->value : strcmp(why, c->why) == 0), name, detail);
    }
    for (size_t i = 0; i < sizeof time_cases / sizeof time_cases[0]; i++) {
        const time_case *c = &time_cases[i];
        int64_t v = 0;
        char why[200] = "";
        bool ok = kr_parse_time(c->text, &v, why, sizeof why);
        snprintf(name, sizeof name, "time \"%s\"", c->text);
        snprintf(detail, sizeof detail, "got ok=%d value=%lld why=%s", ok, (long long)v, why);
        check(ok == c->ok && (ok ? v == c->value : strcmp(why, c->why) == 0), name, detail);
    }
    for (size_t i = 0; i < sizeof json_cases / sizeof json_cases[0]; i++) {
        const json_case *c = &json_cases[i];
        kr_input_error err = {0};
        json_t *v = kr_json_parse(c->json, strlen(c->json), 7, &err);
        bool ok = v && read_fixture(v, &err);
        if (ok)
            err.line = 0;
        else if (!err.line)
            err.line = 7;
        char got[512] = "";
        if (!ok)
            kr_input_error_format(&err, "r.jsonl", got, sizeof got);
        snprintf(name, sizeof name, "json %s", c->name);
        snprintf(detail, sizeof detail, "got: %s", ok ? "(valid)" : got);
        check(c->error ? !ok && strcmp(got, c->error) == 0 : ok, name, detail);
        json_decref(v);
    }
    for (size_t i = 0; i < sizeof csv_cases / sizeof csv_cases[0]; i++) {
        const csv_case *c = &csv_cases[i];
        kr_csv csv;
        kr_input_error err = {0};
        char got[512] = "";
        size_t glen = 0;
        kr_input_status st = kr_csv_open(&csv, c->text, strlen(c->text), csv_required,
                                         csv_known, &err);
        while (st == KR_INPUT_OK) {
            st = kr_csv_next(&csv, &err);
            if (st != KR_INPUT_OK)
                break;
            for (size_t f = 0; f < csv.nfields; f++)
                glen += (size_t)snprintf(got + glen, sizeof got - glen, "%s%s", f ? "|" : "",
                                         csv.fields[f]);
            glen += (size_t)snprintf(got + glen, sizeof got - glen, ";");
        }
        if (st == KR_INPUT_INVALID)
            kr_input_error_format(&err, "c.csv", got, sizeof got);
        kr_csv_close(&csv);
        snprintf(name, sizeof name, "csv %s", c->name);
        snprintf(detail, sizeof detail, "got: %s", got);
        check(strcmp(got, c->expect) == 0, name, detail);
    }
    printf("1..%d\n", n_test);
    return n_failed ? 1 : 0;
}
