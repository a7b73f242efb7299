// SPDX-License-Identifier: MIT
// kopilka-test.c: `kopilka test SCENARIO...` — QA's scenario runner. Each scenario runs on a
// throwaway ledger: customers are created, steps run in order with the clock the scenario sets,
// every answer is compared with the step's expectation as a subset, values a step saves from its
// answer stand for ${name} in later steps, and the ledger's invariants are checked after every
// step that writes and at the end (docs/formats.md "Scenario files").
#include "kopilka.h"

#include "kopilka-saved.h"
#include "kopilka-subset.h"
#include "kr-input.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SCENARIO_SUFFIX ".scenario.json"

typedef enum action {
    A_CONFIRM,
    A_CALCULATE,
    A_RETURN,
    A_CANCEL,
    A_JOBS,
    A_BALANCE,
    A_HISTORY,
    A_CHECK,
    A_CUSTOMER,
    A_MERGE,
    A_UPDATE,
    A_EVENT,
    A_GRANT,
    A_FLOOR,
    A_GET,
    A_CARDS,
    A_ATTACH,
    A_BLOCK,
    A_CODES,
    A_OUTBOX,
    A_ACK,
    A_CERTIFICATE,
    A_COUNT
} action;

static const char *const action_names[A_COUNT] = {
    "confirm", "calculate", "return", "cancel", "jobs",   "balance", "history",
    "check",   "customer",  "merge",  "update", "event",  "grant",   "floor",
    "get",     "cards",     "attach", "block",  "codes",  "outbox",  "ack",
    "certificate",
};

// One scenario being run.
typedef struct run {
    const kp_options *opt;
    const char *path; // the scenario file
    kr_ops *ops;
    kp_state state;
    int64_t now;        // the scenario's clock
    size_t steps, failed;
    bool stop;          // a malformed step or a clock going back: the rest is skipped
    kr_buf answer;      // the last operation's answer
    kr_buf report;      // what a failing step prints under its line
    json_t *saved;      // owned: name -> value saved by the steps' "save"
    int64_t outbox_seen; // the greatest outbox entry id an `"outbox": true` step listed
} run;

// ---- the list of scenario files -------------------------------------------------------------

typedef struct file_list {
    char **items;
    size_t n, alloc;
} file_list;

static bool list_add(file_list *l, char *path)
{
    if (!path)
        return false;
    if (l->n == l->alloc) {
        size_t a = l->alloc ? l->alloc * 2 : 16;
        char **p = realloc(l->items, a * sizeof *p);
        if (!p) {
            free(path);
            return false;
        }
        l->items = p;
        l->alloc = a;
    }
    l->items[l->n++] = path;
    return true;
}

static void list_free(file_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i]);
    free(l->items);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n > m && strcmp(s + n - m, suffix) == 0;
}

// Adds `arg`, or every *.scenario.json in it (sorted) when it is a directory.
static int collect(const char *arg, file_list *l)
{
    struct stat st;
    if (stat(arg, &st) != 0) {
        fprintf(stderr, "kopilka: %s: %s\n", arg, strerror(errno));
        return KP_EXIT_IO;
    }
    if (!S_ISDIR(st.st_mode))
        return list_add(l, strdup(arg)) ? KP_EXIT_OK : KP_EXIT_INTERNAL;
    DIR *d = opendir(arg);
    if (!d) {
        fprintf(stderr, "kopilka: %s: %s\n", arg, strerror(errno));
        return KP_EXIT_IO;
    }
    size_t first = l->n;
    struct dirent *e;
    int status = KP_EXIT_OK;
    while (status == KP_EXIT_OK && (e = readdir(d)) != NULL)
        if (e->d_name[0] != '.' && has_suffix(e->d_name, SCENARIO_SUFFIX))
            status = list_add(l, kp_path_join(arg, e->d_name)) ? KP_EXIT_OK : KP_EXIT_INTERNAL;
    closedir(d);
    if (status == KP_EXIT_OK && l->n == first)
        fprintf(stderr, "kopilka: %s: no *%s files\n", arg, SCENARIO_SUFFIX);
    qsort(l->items + first, l->n - first, sizeof *l->items, by_name);
    return status;
}

// ---- steps ----------------------------------------------------------------------------------

// The reference JSON a step names: a scenario customer's key, or a reference object as is.
// NULL (with why in r->report) when it names no one; the result is malloc'd.
static char *reference(run *r, const json_t *who, const char *field)
{
    if (json_is_string(who)) {
        const char *ref = kp_state_ref(&r->state, json_string_value(who));
        if (ref)
            return strdup(ref);
        kr_buf_printf(&r->report, "%s: no scenario customer \"%s\"\n", field,
                      json_string_value(who));
        return NULL;
    }
    if (json_is_object(who))
        return json_dumps(who, JSON_COMPACT);
    kr_buf_printf(&r->report, "%s: name a scenario customer by its key, or give a reference "
                              "such as {\"card\": \"...\"}\n",
                  field);
    return NULL;
}

// A receipt or return of a step: its text with the scenario's shorthands applied — the
// customer key translated, and "time" set to the step's time when the body has none.
// The body of an operation as JSON text, with scenario customer keys translated and, when
// `with_time`, the step's time added if the body has none.
static char *body_text_at(run *r, const json_t *body, const char *field, bool with_time)
{
    if (!json_is_object(body)) {
        kr_buf_printf(&r->report, "%s: must be an object\n", field);
        return NULL;
    }
    json_t *copy = json_deep_copy(body);
    if (!copy)
        return NULL;
    char why[256];
    if (!kp_state_translate(&r->state, copy, why, sizeof why)) {
        kr_buf_printf(&r->report, "%s.customer: %s\n", field, why);
        json_decref(copy);
        return NULL;
    }
    if (with_time && !json_object_get(copy, "time")) {
        char t[40];
        kp_format_time(r->now, t, sizeof t);
        json_object_set_new(copy, "time", json_string(t));
    }
    char *text = json_dumps(copy, JSON_COMPACT);
    json_decref(copy);
    return text;
}

static char *body_text(run *r, const json_t *body, const char *field)
{
    return body_text_at(r, body, field, true);
}

// Runs the invariant check; false (with the problems in r->report) when it finds any.
static bool ledger_ok(run *r, const char *when)
{
    kr_buf out;
    kr_buf_init(&out, 0);
    int64_t violations = 0;
    kr_ops_status st = kr_ops_check(r->ops, &out, &violations);
    bool ok = st == KR_OPS_OK && violations == 0;
    if (!ok) {
        kr_buf_printf(&r->report, "ledger check %s: %lld violation%s: %s\n", when,
                      (long long)violations, violations == 1 ? "" : "s",
                      out.data ? out.data : kr_ops_status_name(st));
    }
    kr_buf_free(&out);
    return ok;
}

// The expectation as compared: `"error": "invalid"` is short for {"error": {"code": ...}}.
static json_t *normalise_expect(const json_t *expect)
{
    json_t *e = json_deep_copy(expect);
    json_t *err = json_object_get(e, "error");
    if (json_is_string(err))
        json_object_set_new(e, "error", json_pack("{s:s}", "code", json_string_value(err)));
    return e;
}

// Compares the answer with the step's expectations; appends differences to r->report.
static bool judge(run *r, kr_ops_status st, const json_t *expect, const char *want_status)
{
    bool ok = true;
    bool refused = st != KR_OPS_OK && st != KR_OPS_REPLAY;
    const char *got_status = kr_ops_status_name(st);
    if (want_status && strcmp(want_status, got_status) != 0) {
        kr_buf_printf(&r->report, "status: expected \"%s\", got \"%s\"\n", want_status,
                      got_status);
        ok = false;
    }
    bool error_expected = (expect && json_object_get(expect, "error")) ||
                          (want_status && strcmp(want_status, "ok") != 0 &&
                           strcmp(want_status, "replay") != 0);
    if (refused && !error_expected) {
        char text[2048];
        if (!kp_error_text(r->answer.data ? r->answer.data : "", text, sizeof text))
            snprintf(text, sizeof text, "%s", got_status);
        kr_buf_printf(&r->report, "refused: %s\n", text);
        ok = false;
    }
    if (!expect)
        return ok;
    json_error_t je;
    json_t *actual = json_loads(r->answer.data ? r->answer.data : "", 0, &je);
    if (!actual) {
        kr_buf_printf(&r->report, "the answer is not JSON (%s): %.200s\n", je.text,
                      r->answer.data ? r->answer.data : "");
        return false;
    }
    json_t *e = normalise_expect(expect);
    if (kp_subset_diff(e, actual, NULL, &r->report) != 0)
        ok = false;
    json_decref(e);
    json_decref(actual);
    return ok;
}

// The {"batch": B, "count": N} of a cards or codes step; false with why in r->report.
// {"batch", "count", "id" (the operation id; default: the step's field, e.g. "steps[3].cards",
// so that each step is its own operation and a step that repeats an "id" is a repeat)}.
static bool batch_count(run *r, const json_t *arg, const char *field, const char **batch,
                        size_t *count, const char **op_id)
{
    const json_t *b = json_object_get(arg, "batch"), *n = json_object_get(arg, "count");
    const json_t *id = json_object_get(arg, "id");
    if (!json_is_object(arg) || !json_is_string(b) || !json_is_integer(n) ||
        (id && !json_is_string(id)) || json_object_size(arg) != 2u + (id != NULL) ||
        json_integer_value(n) < 1 || json_integer_value(n) > 1000) {
        kr_buf_printf(&r->report,
                      "%s: write {\"batch\": ID, \"count\": 1..1000, \"id\": OP (optional)}\n",
                      field);
        return false;
    }
    *op_id = id ? json_string_value(id) : field;
    *batch = json_string_value(b);
    *count = (size_t)json_integer_value(n);
    return true;
}

// Checks a step's "save" ({name: path}) before the step runs; false with the error in err.
static bool save_ok(kr_json_obj *obj, const json_t *save)
{
    if (!save)
        return true;
    if (!json_is_object(save) || json_object_size(save) == 0)
        return kr_json_fail(obj, "save", "write {\"NAME\": \"PATH\"}, e.g. "
                                         "{\"card\": \"cards[0]\"}");
    const char *name;
    const json_t *path;
    json_object_foreach((json_t *)save, name, path)
    {
        kr_buf why;
        kr_buf_init(&why, 0);
        bool ok = kp_saved_name_ok(name) && json_is_string(path) &&
                  kp_saved_path_ok(json_string_value(path), &why);
        if (why.len && why.data[why.len - 1] == '\n')
            why.data[--why.len] = '\0'; // one line in the report
        if (!ok) {
            char field[120];
            snprintf(field, sizeof field, "save.%.60s", name);
            kr_json_fail(obj, field, "%s",
                         !kp_saved_name_ok(name) ? "a name is letters, digits, '_' and '-'"
                         : !json_is_string(path) ? "the path into the answer is a string"
                                                 : (why.data ? why.data : "a bad path"));
        }
        kr_buf_free(&why);
        if (!ok)
            return false;
    }
    return true;
}

// Saves the values a step's "save" names from its answer; false (with why in r->report) when
// the answer has no such value.
static bool save_values(run *r, const json_t *save, const char *field)
{
    json_t *answer = json_loads(r->answer.data ? r->answer.data : "", 0, NULL);
    bool ok = answer != NULL;
    if (!answer)
        kr_buf_printf(&r->report, "%s.save: the answer is not JSON\n", field);
    const char *name;
    const json_t *path;
    json_object_foreach((json_t *)save, name, path)
    {
        if (!answer)
            break;
        kr_buf why;
        kr_buf_init(&why, 0);
        const json_t *v = kp_saved_lookup(answer, json_string_value(path), &why);
        if (v) {
            json_object_set(r->saved, name, (json_t *)v);
        } else {
            kr_buf_printf(&r->report, "save.%s: %s", name, why.data ? why.data : "not found\n");
            ok = false;
        }
        kr_buf_free(&why);
    }
    json_decref(answer);
    return ok;
}

// Parses and runs step `i`. Prints its line and, on failure, the report under it.
static void run_step(run *r, const json_t *raw, size_t i)
{
    static const char *const keys[] = {
        "at",      "note",   "expect", "status", "save",   "confirm", "calculate", "return",
        "cancel",  "jobs",   "balance", "history", "check", "customer", "merge",   "update",
        "event",   "grant",  "floor",  "get",    "cards",  "attach",  "block",     "codes",
        "outbox",  "ack",    "certificate", NULL};
    kr_input_error err = {0};
    char where[32];
    snprintf(where, sizeof where, "steps[%zu]", i);
    kr_buf_reset(&r->report);
    kr_buf_reset(&r->answer);
    r->steps++;
    // Saved values first: the step is read as if "${card}" had been written as the value.
    // "save" itself holds paths, not values, and is left as written; "expect" is expanded
    // after the step ran, so it may use what this very step saves.
    json_t *save = json_incref(json_object_get(raw, "save"));
    json_t *raw_expect = json_object_get(raw, "expect");
    json_t *bare = json_deep_copy(raw);
    json_object_del(bare, "save");
    json_object_del(bare, "expect");
    json_t *step = bare ? kp_saved_expand(r->saved, bare, where, &r->report) : NULL;
    json_decref(bare);
    if (!step) {
        const char *name = "?";
        for (int a = 0; a < A_COUNT; a++)
            if (json_object_get(raw, action_names[a]))
                name = action_names[a];
        printf("  FAIL  %zu  %s\n        %s", i + 1, name,
               r->report.data ? r->report.data : "out of memory\n");
        r->failed++;
        r->stop = true;
        json_decref(save);
        return;
    }
    if (save)
        json_object_set(step, "save", save);
    if (raw_expect)
        json_object_set(step, "expect", raw_expect);
    kr_json_obj obj = {.obj = step, .err = &err};
    snprintf(obj.path, sizeof obj.path, "%s", where);
    const char *note = NULL, *want_status = NULL;
    int64_t at = r->now;
    const json_t *expect = raw_expect;

    bool ok = kr_json_expect_object(&obj, keys) && kr_json_string(&obj, "note", false, &note) &&
              kr_json_string(&obj, "status", false, &want_status) &&
              kr_json_time(&obj, "at", false, &at);
    action act = A_COUNT;
    const json_t *arg = NULL;
    for (int a = 0; ok && a < A_COUNT; a++) {
        const json_t *v = json_object_get(step, action_names[a]);
        if (!v)
            continue;
        if (act != A_COUNT)
            ok = kr_json_fail(&obj, action_names[a], "a step does one thing; this one also "
                                                     "has \"%s\"",
                              action_names[act]);
        act = (action)a;
        arg = v;
    }
    if (ok && act == A_COUNT)
        ok = kr_json_fail(&obj, NULL, "a step needs one of confirm, calculate, return, cancel, "
                                      "jobs, balance, history, check, customer, merge, update, "
                                      "event, grant, floor, get, cards, attach, block, codes, "
                                      "outbox, ack, certificate");
    if (ok)
        ok = save_ok(&obj, save);
    if (ok && expect && !json_is_object(expect))
        ok = kr_json_fail(&obj, "expect", "must be an object (compared as a subset of the "
                                          "answer)");
    bool has_at = json_object_get(step, "at") != NULL;
    if (ok && !has_at && (act == A_CONFIRM || act == A_CALCULATE || act == A_RETURN) &&
        json_is_object(arg)) {
        // No "at": the body's own time moves the clock.
        kr_json_obj body = {.obj = arg, .err = &err};
        snprintf(body.path, sizeof body.path, "steps[%zu].%s", i, action_names[act]);
        ok = kr_json_time(&body, "time", false, &at);
    }
    if (ok && at < r->now) {
        char a[40], b[40];
        kp_format_time(at, a, sizeof a);
        kp_format_time(r->now, b, sizeof b);
        ok = kr_json_fail(&obj, has_at ? "at" : NULL,
                          "time only moves forward: %s is before the previous step's %s", a, b);
    }
    if (!ok) {
        printf("  FAIL  %zu  %s\n        %s: %s\n", i + 1, act < A_COUNT ? action_names[act] : "?",
               err.field[0] ? err.field : obj.path, err.message);
        r->failed++;
        r->stop = true;
        json_decref(save);
        json_decref(step);
        return;
    }
    r->now = at;

    // Run the action.
    char what[160];
    snprintf(what, sizeof what, "%s", action_names[act]);
    char field[64];
    snprintf(field, sizeof field, "steps[%zu].%s", i, action_names[act]);
    kr_ops_set_source(r->ops, r->path, 0);
    kr_ops_status st = KR_OPS_OK;
    bool ran = true, writes = false;
    char *text = NULL, *text2 = NULL;
    switch (act) {
    case A_CONFIRM:
    case A_CALCULATE:
    case A_RETURN: {
        const char *id = json_string_value(json_object_get(arg, "id"));
        if (id)
            snprintf(what, sizeof what, "%s %s", action_names[act], id);
        text = body_text(r, arg, field);
        if (!text) {
            ran = false;
            break;
        }
        size_t n = strlen(text);
        st = act == A_CONFIRM     ? kr_ops_confirm(r->ops, text, n, &r->answer)
             : act == A_CALCULATE ? kr_ops_calculate(r->ops, text, n, &r->answer)
                                  : kr_ops_return(r->ops, text, n, &r->answer);
        writes = act != A_CALCULATE;
        break;
    }
    case A_CANCEL:
        if (!json_is_string(arg)) {
            kr_buf_printf(&r->report, "%s: the id of a confirmed receipt\n", field);
            ran = false;
            break;
        }
        snprintf(what, sizeof what, "cancel %s", json_string_value(arg));
        st = kr_ops_cancel(r->ops, json_string_value(arg), r->now, &r->answer);
        writes = true;
        break;
    case A_JOBS:
        if (!json_is_true(arg)) {
            kr_buf_printf(&r->report, "%s: write \"jobs\": true\n", field);
            ran = false;
            break;
        }
        st = kr_ops_jobs_run(r->ops, r->now, &r->answer);
        writes = true;
        break;
    case A_BALANCE:
    case A_HISTORY:
        text = reference(r, arg, field);
        if (!text) {
            ran = false;
            break;
        }
        if (json_is_string(arg))
            snprintf(what, sizeof what, "%s %s", action_names[act], json_string_value(arg));
        st = act == A_BALANCE
                 ? kr_ops_balance(r->ops, text, r->now, &r->answer)
                 : kr_ops_history(r->ops, text, 0, KP_HISTORY_LIMIT, &r->answer);
        break;
    case A_CHECK: {
        if (!json_is_true(arg)) {
            kr_buf_printf(&r->report, "%s: write \"check\": true\n", field);
            ran = false;
            break;
        }
        int64_t violations = 0;
        st = kr_ops_check(r->ops, &r->answer, &violations);
        if (st == KR_OPS_OK && violations && !(expect && json_object_get(expect, "violations"))) {
            kr_buf_printf(&r->report, "ledger check: %lld violation%s\n", (long long)violations,
                          violations == 1 ? "" : "s");
            ran = false; // reported as a failure below, with the answer
        }
        break;
    }
    case A_CUSTOMER: {
        const char *key = json_string_value(json_object_get(arg, "key"));
        if (key)
            snprintf(what, sizeof what, "customer %s", key);
        // kp_state_add prints its own refusal on stderr; keep it in the report's order.
        fflush(stdout);
        int s = kp_state_add(r->ops, arg, r->path, field, r->now, &r->state);
        if (s != KP_EXIT_OK) {
            kr_buf_printf(&r->report, "%s: the customer was refused (see above)\n", field);
            ran = false;
        } else {
            kr_buf_puts(&r->answer, "{}");
        }
        writes = true;
        break;
    }
    case A_MERGE: {
        if (!json_is_object(arg)) {
            kr_buf_printf(&r->report, "%s: write {\"from\": KEY, \"into\": KEY}\n", field);
            ran = false;
            break;
        }
        char f1[80], f2[80];
        snprintf(f1, sizeof f1, "%s.from", field);
        snprintf(f2, sizeof f2, "%s.into", field);
        text = reference(r, json_object_get(arg, "from"), f1);
        text2 = text ? reference(r, json_object_get(arg, "into"), f2) : NULL;
        if (!text || !text2) {
            ran = false;
            break;
        }
        char op_id[64];
        snprintf(op_id, sizeof op_id, "scenario-merge-%zu", i + 1);
        st = kr_ops_customer_merge(r->ops, text, text2, op_id, r->now, &r->answer);
        writes = true;
        break;
    }
    case A_UPDATE:
    case A_EVENT:
    case A_GRANT:
    case A_FLOOR: {
        text = body_text_at(r, arg, field, act != A_UPDATE);
        if (!text) {
            ran = false;
            break;
        }
        size_t n = strlen(text);
        st = act == A_UPDATE  ? kr_ops_customer_update(r->ops, text, n, r->now, &r->answer)
             : act == A_EVENT ? kr_ops_event(r->ops, text, n, &r->answer)
             : act == A_FLOOR ? kr_ops_tier_floor(r->ops, text, n, &r->answer)
                              : kr_ops_points_grant(r->ops, text, n, &r->answer);
        writes = true;
        break;
    }
    case A_GET:
        text = reference(r, arg, field);
        if (!text) {
            ran = false;
            break;
        }
        if (json_is_string(arg))
            snprintf(what, sizeof what, "get %s", json_string_value(arg));
        st = kr_ops_customer_get(r->ops, text, r->now, &r->answer);
        break;
    case A_CARDS:
    case A_CODES: {
        const char *batch = NULL, *op_id = NULL;
        size_t count = 0;
        if (!batch_count(r, arg, field, &batch, &count, &op_id)) {
            ran = false;
            break;
        }
        snprintf(what, sizeof what, "%s %zu of %s", action_names[act], count, batch);
        st = act == A_CARDS
                 ? kr_ops_cards_issue(r->ops, op_id, batch, count, r->now, &r->answer)
                 : kr_ops_codes_generate(r->ops, op_id, batch, count, r->now, &r->answer);
        writes = true;
        break;
    }
    case A_ATTACH: {
        const json_t *card = json_object_get(arg, "card");
        char f[80];
        snprintf(f, sizeof f, "%s.customer", field);
        if (!json_is_object(arg) || !json_is_string(card) || json_object_size(arg) != 2) {
            kr_buf_printf(&r->report, "%s: write {\"card\": NUMBER, \"customer\": KEY}\n",
                          field);
            ran = false;
            break;
        }
        text = reference(r, json_object_get(arg, "customer"), f);
        if (!text) {
            ran = false;
            break;
        }
        snprintf(what, sizeof what, "attach %s", json_string_value(card));
        st = kr_ops_card_attach(r->ops, json_string_value(card), text, r->now, &r->answer);
        writes = true;
        break;
    }
    case A_BLOCK:
        if (!json_is_string(arg)) {
            kr_buf_printf(&r->report, "%s: the card number\n", field);
            ran = false;
            break;
        }
        snprintf(what, sizeof what, "block %s", json_string_value(arg));
        st = kr_ops_card_block(r->ops, json_string_value(arg), r->now, &r->answer);
        writes = true;
        break;
    case A_OUTBOX: {
        // true: the entries added since the previous `"outbox": true` step; a customer: every
        // pending entry of theirs.
        json_t *req = NULL;
        if (json_is_true(arg)) {
            req = json_pack("{s:I,s:i}", "after", (json_int_t)r->outbox_seen, "limit", 1000);
        } else if (json_is_string(arg) || json_is_object(arg)) {
            text = reference(r, arg, field);
            if (text)
                req = json_pack("{s:o,s:i}", "customer", json_loads(text, 0, NULL), "limit",
                                1000);
            if (json_is_string(arg))
                snprintf(what, sizeof what, "outbox of %s", json_string_value(arg));
        } else {
            kr_buf_printf(&r->report, "%s: write true (what is new since the last look) or a "
                                      "customer key\n",
                          field);
        }
        free(text);
        text = req ? json_dumps(req, JSON_COMPACT) : NULL;
        json_decref(req);
        if (!text) {
            ran = false;
            break;
        }
        st = kr_ops_outbox_list(r->ops, text, strlen(text), &r->answer);
        if (st == KR_OPS_OK && json_is_true(arg)) {
            json_t *a = json_loads(r->answer.data ? r->answer.data : "", 0, NULL);
            json_int_t last = json_integer_value(json_object_get(a, "last"));
            if (last > r->outbox_seen)
                r->outbox_seen = (int64_t)last;
            json_decref(a);
        }
        break;
    }
    case A_ACK: {
        json_t *req = json_is_array(arg) ? json_pack("{s:O}", "ids", arg) : NULL;
        text = req ? json_dumps(req, JSON_COMPACT) : NULL;
        json_decref(req);
        if (!text) {
            kr_buf_printf(&r->report, "%s: write the outbox entry ids, e.g. [\"${warning}\"]\n",
                          field);
            ran = false;
            break;
        }
        st = kr_ops_outbox_ack(r->ops, text, strlen(text), r->now, &r->answer);
        writes = true;
        break;
    }
    case A_CERTIFICATE:
        // A gift certificate as the till sees it at the step's time.
        if (!json_is_string(arg)) {
            kr_buf_printf(&r->report, "%s: the certificate's number\n", field);
            ran = false;
            break;
        }
        snprintf(what, sizeof what, "certificate %s", json_string_value(arg));
        st = kr_ops_certificate_show(r->ops, json_string_value(arg), r->now, &r->answer);
        break;
    case A_COUNT:
        break;
    }
    free(text);
    free(text2);

    bool saved = !ran || !save || save_values(r, save, field);
    json_t *expanded = NULL;
    if (ran && expect) {
        char path[48];
        snprintf(path, sizeof path, "%s.expect", where);
        expanded = kp_saved_expand(r->saved, expect, path, &r->report);
        if (!expanded) {
            ran = false; // the report says which name is unknown: a malformed step
            r->stop = true;
        }
    }
    ok = ran && judge(r, st, expanded, want_status) && saved;
    json_decref(expanded);
    if (ran && writes && st != KR_OPS_FAILED && !ledger_ok(r, "after this step"))
        ok = false;
    char t[40];
    kp_format_time(r->now, t, sizeof t);
    printf("  %-4s  %zu  %s at %s%s%s\n", ok ? "ok" : "FAIL", i + 1, what, t, note ? ": " : "",
           note ? note : "");
    if (!ok) {
        r->failed++;
        // The report, indented under the step.
        const char *p = r->report.data ? r->report.data : "";
        while (*p) {
            const char *nl = strchr(p, '\n');
            size_t n = nl ? (size_t)(nl - p) : strlen(p);
            printf("        %.*s\n", (int)n, p);
            p += n + (nl ? 1 : 0);
        }
    }
    if (r->opt->verbose || (!ok && r->answer.len && r->answer.len < 4000 && ran))
        printf("        answer: %s\n", r->answer.data);
    json_decref(save);
    json_decref(step);
}

// ---- one scenario -----------------------------------------------------------------------------

// A compiled program kept across the scenarios of a run (a directory shares its program.xml).
typedef struct program_cache {
    kp_program prog;
    bool loaded;
    int status; // of compiling prog.path
} program_cache;

static int get_program(const kp_options *o, program_cache *c, const char *path,
                       const kp_program **out)
{
    if (c->prog.path && strcmp(c->prog.path, path) == 0) {
        *out = &c->prog;
        return c->status;
    }
    kp_program_free(&c->prog);
    c->status = kp_program_compile(path, o->color, &c->prog);
    if (!c->prog.path)
        c->prog.path = strdup(path); // remember failures too: compiled (and printed) once
    *out = &c->prog;
    return c->status;
}

// Runs one scenario file. Returns KP_EXIT_OK when every step passed.
static int run_scenario(const kp_options *o, const char *path, program_cache *cache)
{
    char *text = NULL;
    size_t len = 0;
    int status = kp_read_file(path, &text, &len);
    if (status != KP_EXIT_OK) {
        printf("FAIL %s: cannot be read\n", path);
        return status;
    }
    kr_input_error err = {0};
    json_t *root = kr_json_parse(text, len, 1, &err);
    free(text);
    static const char *const keys[] = {"name", "description", "program", "start",
                                       "customers", "steps", NULL};
    kr_json_obj obj = {.obj = root, .err = &err};
    const char *name = NULL, *description = NULL, *program = NULL;
    int64_t start = 0;
    const json_t *steps = NULL;
    if (!root || !kr_json_expect_object(&obj, keys) ||
        !kr_json_string(&obj, "name", false, &name) ||
        !kr_json_string(&obj, "description", false, &description) ||
        !kr_json_string(&obj, "program", false, &program) ||
        !kr_json_time(&obj, "start", true, &start) ||
        !kr_json_array(&obj, "steps", true, &steps)) {
        char msg[600];
        kr_input_error_format(&err, path, msg, sizeof msg);
        printf("FAIL %s\n  %s\n", path, msg);
        json_decref(root);
        return KP_EXIT_FAILED;
    }
    char *dir = kp_dirname(path);
    char *prog_path = dir ? kp_path_join(dir, program ? program : "program.xml") : NULL;
    free(dir);
    if (!prog_path) {
        json_decref(root);
        return KP_EXIT_INTERNAL;
    }
    printf("%s%s%s\n", path, name ? ": " : "", name ? name : "");
    fflush(stdout);
    const kp_program *prog = NULL;
    status = get_program(o, cache, prog_path, &prog);
    free(prog_path);
    run r = {.opt = o, .path = path, .now = start, .saved = json_object()};
    kr_buf_init(&r.answer, 0);
    kr_buf_init(&r.report, 0);
    if (status == KP_EXIT_OK)
        status = kp_ops_open(":memory:", prog, start, &r.ops);
    if (status == KP_EXIT_OK) {
        fflush(stdout);
        status = kp_state_load(r.ops, json_object_get(root, "customers"), path, "customers",
                               start, &r.state);
    }
    if (status == KP_EXIT_OK) {
        for (size_t i = 0; i < json_array_size(steps) && !r.stop; i++) {
            run_step(&r, json_array_get(steps, i), i);
            fflush(stdout);
        }
        kr_buf_reset(&r.report);
        if (!r.stop && !ledger_ok(&r, "at the end")) {
            printf("  FAIL  end  %s", r.report.data);
            r.failed++;
        }
        size_t n = json_array_size(steps);
        if (r.failed)
            printf("FAIL %s: %zu of %zu step%s failed%s\n", name ? name : path, r.failed, n,
                   n == 1 ? "" : "s", r.stop ? " (the rest was not run)" : "");
        else
            printf("ok   %s: %zu step%s\n", name ? name : path, n, n == 1 ? "" : "s");
        status = r.failed ? KP_EXIT_FAILED : KP_EXIT_OK;
    } else {
        printf("FAIL %s: not run\n", name ? name : path);
    }
    kp_state_free(&r.state);
    json_decref(r.saved);
    kr_ops_close(r.ops);
    kr_buf_free(&r.answer);
    kr_buf_free(&r.report);
    json_decref(root);
    return status;
}

int kp_cmd_test(const kp_options *o)
{
    if (o->nargs < 1) {
        fprintf(stderr, "usage: kopilka test [-v] SCENARIO.scenario.json|DIR...\n");
        return KP_EXIT_USAGE;
    }
    file_list files = {0};
    int status = KP_EXIT_OK;
    for (int i = 0; i < o->nargs; i++) {
        int s = collect(o->args[i], &files);
        if (s > status)
            status = s;
    }
    program_cache cache = {0};
    size_t passed = 0;
    for (size_t i = 0; i < files.n; i++) {
        int s = run_scenario(o, files.items[i], &cache);
        passed += s == KP_EXIT_OK;
        if (s > status)
            status = s;
        fflush(stdout);
    }
    kp_program_free(&cache.prog);
    printf("%zu scenario%s: %zu passed, %zu failed\n", files.n, files.n == 1 ? "" : "s", passed,
           files.n - passed);
    if (files.n == 0 && status == KP_EXIT_OK)
        status = KP_EXIT_FAILED; // nothing was proven
    list_free(&files);
    return status;
}
