// SPDX-License-Identifier: MIT
// kopilka-simulate.c: `kopilka simulate PROGRAM.xml RECEIPTS.jsonl` — runs every receipt of a
// JSON Lines file through calculate (or confirm) on a throwaway ledger and prints one answer
// per line. The whole file is read and every line parsed before the first receipt runs, so a
// malformed line stops the run before anything is applied.
#include "kopilka.h"

#include "kr-input.h"

#include <stdlib.h>
#include <string.h>

typedef struct jsonl_line {
    unsigned number;  // 1-based line in the file
    json_t *value;    // owned
    const char *text; // the line as written (in the file's text)
    size_t len;
    bool translated; // a customer key was replaced: send the value, not the text
} jsonl_line;

static void lines_free(jsonl_line *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        json_decref(v[i].value);
    free(v);
}

static bool blank(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
            return false;
    return true;
}

// Splits and parses the JSON Lines text; blank lines are skipped. Prints the first bad line as
// "PATH:LINE[:COL]: FIELD: why" and returns KP_EXIT_FAILED.
static int parse_lines(const char *path, const char *text, size_t len, jsonl_line **out,
                       size_t *n_out)
{
    *out = NULL;
    *n_out = 0;
    size_t n = 0, alloc = 0;
    jsonl_line *v = NULL;
    unsigned number = 0;
    for (const char *p = text, *end = text + len; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
        number++;
        if (!blank(p, l)) {
            kr_input_error err = {0};
            json_t *value = kr_json_parse(p, l, number, &err);
            if (value && !json_is_object(value)) {
                json_decref(value);
                value = NULL;
                err.line = number;
                snprintf(err.message, sizeof err.message, "each line is one JSON object");
            }
            if (!value) {
                char msg[600];
                kr_input_error_format(&err, path, msg, sizeof msg);
                fprintf(stderr, "kopilka: %s\n", msg);
                lines_free(v, n);
                return KP_EXIT_FAILED;
            }
            if (n == alloc) {
                size_t a = alloc ? alloc * 2 : 64;
                jsonl_line *q = realloc(v, a * sizeof *q);
                if (!q) {
                    json_decref(value);
                    lines_free(v, n);
                    fprintf(stderr, "kopilka: out of memory\n");
                    return KP_EXIT_INTERNAL;
                }
                v = q;
                alloc = a;
            }
            v[n].number = number;
            v[n].value = value;
            v[n].text = p;
            v[n].len = l;
            v[n].translated = false;
            n++;
        }
        p += l + (nl ? 1 : 0);
    }
    *out = v;
    *n_out = n;
    return KP_EXIT_OK;
}

// Reads --state: {"customers": [...]} as in scenarios, creating them at o->at.
static int load_state(const kp_options *o, kr_ops *ops, kp_state *state)
{
    char *text = NULL;
    size_t len = 0;
    int status = kp_read_file(o->state, &text, &len);
    if (status != KP_EXIT_OK)
        return status;
    static const char *const keys[] = {"customers", "description", NULL};
    kr_input_error err = {0};
    json_t *root = kr_json_parse(text, len, 1, &err);
    free(text);
    kr_json_obj obj = {.obj = root, .err = &err};
    const json_t *customers = NULL;
    if (!root || !kr_json_expect_object(&obj, keys) ||
        !kr_json_array(&obj, "customers", true, &customers)) {
        char msg[600];
        kr_input_error_format(&err, o->state, msg, sizeof msg);
        fprintf(stderr, "kopilka: %s\n", msg);
        json_decref(root);
        return KP_EXIT_FAILED;
    }
    status = kp_state_load(ops, customers, o->state, "customers", o->at, state);
    json_decref(root);
    return status;
}

int kp_cmd_simulate(const kp_options *o)
{
    if (o->nargs != 2) {
        fprintf(stderr, "usage: kopilka simulate PROGRAM.xml RECEIPTS.jsonl [--state STATE.json] "
                        "[--at TIME] [--confirm]\n");
        return KP_EXIT_USAGE;
    }
    const char *receipts = o->args[1];
    kp_program prog;
    int status = kp_program_compile(o->args[0], o->color, &prog);
    if (status != KP_EXIT_OK)
        return status;
    char *text = NULL;
    size_t len = 0;
    status = kp_read_file(receipts, &text, &len);
    if (status != KP_EXIT_OK) {
        kp_program_free(&prog);
        return status;
    }
    const char *shown = strcmp(receipts, "-") == 0 ? "<stdin>" : receipts;
    jsonl_line *lines = NULL;
    size_t n = 0;
    status = parse_lines(shown, text, len, &lines, &n);
    kr_ops *ops = NULL;
    kp_state state = {0};
    if (status == KP_EXIT_OK)
        status = kp_ops_open(":memory:", &prog, o->at, &ops);
    if (status == KP_EXIT_OK && o->state)
        status = load_state(o, ops, &state);
    // Customer keys of the state ("customer": "ivan") are translated before anything runs.
    for (size_t i = 0; status == KP_EXIT_OK && i < n; i++) {
        char why[256];
        lines[i].translated = json_is_string(json_object_get(lines[i].value, "customer"));
        if (!kp_state_translate(&state, lines[i].value, why, sizeof why)) {
            fprintf(stderr, "kopilka: %s:%u: customer: %s\n", shown, lines[i].number, why);
            status = KP_EXIT_FAILED;
        }
    }
    kr_buf answer;
    kr_buf_init(&answer, 0);
    for (size_t i = 0; status == KP_EXIT_OK && i < n; i++) {
        // The line as written (so error columns match the file), unless it was translated.
        char *body = lines[i].translated ? json_dumps(lines[i].value, JSON_COMPACT) : NULL;
        if (lines[i].translated && !body) {
            status = KP_EXIT_INTERNAL;
            break;
        }
        const char *b = body ? body : lines[i].text;
        size_t bl = body ? strlen(body) : lines[i].len;
        kr_ops_set_source(ops, shown, lines[i].number);
        kr_ops_status st = o->confirm ? kr_ops_confirm(ops, b, bl, &answer)
                                      : kr_ops_calculate(ops, b, bl, &answer);
        free(body);
        status = kp_print_answer(st, &answer);
    }
    kr_buf_free(&answer);
    kp_state_free(&state);
    kr_ops_close(ops);
    lines_free(lines, n);
    free(text);
    kp_program_free(&prog);
    return status;
}
