// SPDX-License-Identifier: MIT
// kopilka-state.c: a scenario's (or simulate --state's) customers — created through
// kr_ops_customer_create, their starting points credited — and the translation of
// `"customer": "ivan"` in receipts into the customer's reference (kopilka.h).
#include "kopilka.h"

#include "kr-input.h"

#include <stdlib.h>
#include <string.h>

void kp_state_free(kp_state *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->items[i].key);
        free(s->items[i].ref_json);
    }
    free(s->items);
    memset(s, 0, sizeof *s);
}

const char *kp_state_ref(const kp_state *s, const char *key)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->items[i].key, key) == 0)
            return s->items[i].ref_json;
    return NULL;
}

// Prints an operation's error answer about element `path` of `source`:
// "SOURCE: PATH.FIELD: MESSAGE (code)".
static void print_refusal(const char *source, const char *path, const kr_buf *answer)
{
    json_t *root = json_loads(answer->data ? answer->data : "", 0, NULL);
    json_t *e = json_object_get(root, "error");
    const char *field = json_string_value(json_object_get(e, "field"));
    const char *message = json_string_value(json_object_get(e, "message"));
    const char *code = json_string_value(json_object_get(e, "code"));
    fprintf(stderr, "kopilka: %s: %s%s%s: %s (%s)\n", source, path, field && *field ? "." : "",
            field && *field ? field : "", message ? message : "refused", code ? code : "?");
    json_decref(root);
}

// Appends a CSV field in double quotes ("" for a quote); NULL and non-strings are empty.
static void csv_field(kr_buf *b, const json_t *v, bool last)
{
    const char *s = json_string_value(v);
    kr_buf_puts(b, "\"");
    for (; s && *s; s++) {
        if (*s == '"')
            kr_buf_puts(b, "\"\"");
        else
            kr_buf_append(b, s, 1);
    }
    kr_buf_puts(b, last ? "\"\n" : "\",");
}

// Creates a customer with a card and/or starting points through kr_ops_import_csv, the one
// operation that takes both: a one-row CSV file (docs/formats.md "Import"); `attrs` become
// attr_<key> columns. kr-ops.h has no operation that adds a lot to an existing customer, so a
// customer gets at most one starting lot, of source "import", whose "expires" is the last day
// it can be spent; anything else is refused here with a message that says so (docs/cli.md
// "Limits").
static int create_by_import(kr_ops *ops, const json_t *body, const json_t *points,
                            const char *source, const char *path, int64_t at)
{
    const json_t *lot = json_array_get(points, 0);
    const char *src = json_string_value(json_object_get(lot, "source"));
    if (json_array_size(points) > 1 || (src && strcmp(src, "import") != 0) ||
        json_object_get(lot, "earned")) {
        fprintf(stderr,
                "kopilka: %s: %s: not supported yet: starting points are one lot of source "
                "\"import\" (kr-ops.h has no operation that adds a lot to an existing "
                "customer)\n",
                source, path);
        return KP_EXIT_FAILED;
    }
    // Attributes: an object of strings, each a column attr_<key> (keys as the import takes them).
    const json_t *attrs = json_object_get(body, "attrs");
    const char *ak;
    const json_t *av;
    if (attrs && !json_is_object(attrs)) {
        fprintf(stderr, "kopilka: %s: %s.attrs: must be an object of strings\n", source, path);
        return KP_EXIT_FAILED;
    }
    json_object_foreach((json_t *)attrs, ak, av)
    {
        bool key_ok = *ak != '\0';
        for (const char *c = ak; *c; c++)
            key_ok &= *c != ',' && *c != '"' && *c != '\n' && *c != '\r';
        if (!json_is_string(av) || !key_ok) {
            fprintf(stderr, "kopilka: %s: %s.attrs.%s: %s\n", source, path, ak,
                    key_ok ? "an attribute is a string" : "not a usable attribute name");
            return KP_EXIT_FAILED;
        }
    }
    static const char *const columns[] = {"external_id", "name",     "phone",  "email",
                                          "card",        "birthday", "registered", "segments",
                                          "points",      "points_expire"};
    static const char *const keys[] = {"id",       "name",       "phone",    "email",
                                       "card",     "birthday",   "registered", "segments",
                                       NULL, NULL};
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)body, k, v)
    {
        bool known = strcmp(k, "attrs") == 0;
        for (size_t i = 0; i < 8 && !known; i++)
            known = strcmp(k, keys[i]) == 0;
        if (!known) {
            fprintf(stderr, "kopilka: %s: %s.%s: unknown field of a customer\n", source, path,
                    k);
            return KP_EXIT_FAILED;
        }
    }
    kr_buf csv;
    kr_buf_init(&csv, 0);
    size_t n_attrs = json_object_size(attrs), a = 0;
    for (size_t i = 0; i < 10; i++)
        kr_buf_printf(&csv, "%s%s", columns[i], i < 9 || n_attrs ? "," : "\n");
    json_object_foreach((json_t *)attrs, ak, av)
        kr_buf_printf(&csv, "attr_%s%s", ak, ++a < n_attrs ? "," : "\n");
    for (size_t i = 0; i < 8; i++) {
        v = json_object_get(body, keys[i]);
        json_t *joined = NULL;
        if (json_is_array(v)) { // segments: space-separated
            kr_buf seg;
            kr_buf_init(&seg, 0);
            for (size_t j = 0; j < json_array_size(v); j++) {
                const char *id = json_string_value(json_array_get(v, j));
                kr_buf_printf(&seg, "%s%s", j ? " " : "", id ? id : "");
            }
            joined = json_string(seg.data ? seg.data : "");
            kr_buf_free(&seg);
            v = joined;
        }
        csv_field(&csv, v, false);
        json_decref(joined);
    }
    json_t *amount = NULL;
    if (lot)
        amount = json_sprintf("%lld", (long long)json_integer_value(json_object_get(lot, "amount")));
    csv_field(&csv, amount, false);
    json_decref(amount);
    csv_field(&csv, lot ? json_object_get(lot, "expires") : NULL, n_attrs == 0);
    a = 0;
    json_object_foreach((json_t *)attrs, ak, av)
        csv_field(&csv, av, ++a == n_attrs);
    if (csv.failed) {
        kr_buf_free(&csv);
        return KP_EXIT_INTERNAL;
    }
    kr_buf answer;
    kr_buf_init(&answer, 0);
    kr_ops_set_source(ops, source, 0);
    kr_ops_status st = kr_ops_import_csv(ops, csv.data, csv.len, source, at, &answer);
    if (st != KR_OPS_OK)
        print_refusal(source, path, &answer);
    kr_buf_free(&answer);
    kr_buf_free(&csv);
    return kp_exit_for(st);
}

// Checks one element of `points` ({"amount": whole number > 0, "expires": time, "source":
// one of the program's sources}) before anything is written.
static bool check_points(const json_t *points, const char *source, const char *path)
{
    static const char *const keys[] = {"amount", "expires", "source", "earned", NULL};
    int64_t day = 0;
    if (!json_is_array(points)) {
        fprintf(stderr, "kopilka: %s: %s.points: must be an array of lots\n", source, path);
        return false;
    }
    for (size_t i = 0; i < json_array_size(points); i++) {
        kr_input_error err = {0};
        kr_json_obj lot = {.obj = json_array_get(points, i), .err = &err};
        snprintf(lot.path, sizeof lot.path, "%s.points[%zu]", path, i);
        int64_t amount = 0, t = 0;
        const char *src = NULL;
        if (!kr_json_expect_object(&lot, keys) ||
            !kr_json_int(&lot, "amount", true, 1, INT64_MAX / 4, &amount) ||
            !kr_json_date(&lot, "expires", false, &day) ||
            !kr_json_time(&lot, "earned", false, &t) ||
            !kr_json_string(&lot, "source", false, &src)) {
            fprintf(stderr, "kopilka: %s: %s: %s\n", source, err.field, err.message);
            return false;
        }
    }
    return true;
}

int kp_state_add(kr_ops *ops, const json_t *customer, const char *source, const char *path,
                 int64_t at, kp_state *state)
{
    if (!json_is_object(customer)) {
        fprintf(stderr, "kopilka: %s: %s: a customer is an object with a \"key\"\n", source,
                path);
        return KP_EXIT_FAILED;
    }
    const char *key = json_string_value(json_object_get(customer, "key"));
    if (!key || !*key) {
        fprintf(stderr, "kopilka: %s: %s.key: required: the name steps use for the customer\n",
                source, path);
        return KP_EXIT_FAILED;
    }
    if (kp_state_ref(state, key)) {
        fprintf(stderr, "kopilka: %s: %s.key: \"%s\" is already a customer of this scenario\n",
                source, path, key);
        return KP_EXIT_FAILED;
    }
    const json_t *points = json_object_get(customer, "points");
    if (points && !check_points(points, source, path))
        return KP_EXIT_FAILED;

    // The customer as kr_ops_customer_create reads it: without "key" and "points", with the
    // ERP id defaulting to the key (it is how steps name the customer).
    json_t *body = json_deep_copy(customer);
    if (!body)
        return KP_EXIT_INTERNAL;
    json_object_del(body, "key");
    json_object_del(body, "points");
    if (!json_object_get(body, "id"))
        json_object_set_new(body, "id", json_string(key));
    const char *ext = json_string_value(json_object_get(body, "id"));
    json_t *ref = json_pack("{s:s?}", "id", ext);
    char *body_text = json_dumps(body, JSON_COMPACT);
    char *ref_text = ref ? json_dumps(ref, JSON_COMPACT) : NULL;
    json_decref(ref);
    if (!body_text || !ref_text || !ext) {
        free(body_text);
        free(ref_text);
        json_decref(body);
        if (!ext) {
            fprintf(stderr, "kopilka: %s: %s.id: must be a string\n", source, path);
            return KP_EXIT_FAILED;
        }
        return KP_EXIT_INTERNAL;
    }

    int status;
    if (json_array_size(points) > 0 || json_object_get(body, "card")) {
        // A card of the ERP or starting points: the import makes the card active and credits
        // the points in the same all-or-nothing operation.
        status = create_by_import(ops, body, points, source, path, at);
    } else {
        kr_buf answer;
        kr_buf_init(&answer, 0);
        kr_ops_set_source(ops, source, 0);
        kr_ops_status st =
            kr_ops_customer_create(ops, body_text, strlen(body_text), at, &answer);
        status = kp_exit_for(st);
        if (st != KR_OPS_OK)
            print_refusal(source, path, &answer);
        kr_buf_free(&answer);
    }
    free(body_text);
    json_decref(body);
    if (status != KP_EXIT_OK) {
        free(ref_text);
        return status;
    }
    kp_customer *items = realloc(state->items, (state->n + 1) * sizeof *items);
    char *key_copy = strdup(key);
    if (!items || !key_copy) {
        if (items)
            state->items = items;
        free(key_copy);
        free(ref_text);
        return KP_EXIT_INTERNAL;
    }
    state->items = items;
    items[state->n].key = key_copy;
    items[state->n].ref_json = ref_text;
    state->n++;
    return KP_EXIT_OK;
}

int kp_state_load(kr_ops *ops, const json_t *customers, const char *source, const char *path,
                  int64_t at, kp_state *state)
{
    if (!customers)
        return KP_EXIT_OK;
    if (!json_is_array(customers)) {
        fprintf(stderr, "kopilka: %s: %s: must be an array of customers\n", source, path);
        return KP_EXIT_FAILED;
    }
    for (size_t i = 0; i < json_array_size(customers); i++) {
        char p[160];
        snprintf(p, sizeof p, "%s[%zu]", path, i);
        int status = kp_state_add(ops, json_array_get(customers, i), source, p, at, state);
        if (status != KP_EXIT_OK)
            return status;
    }
    return KP_EXIT_OK;
}

bool kp_state_translate(const kp_state *s, json_t *receipt, char *why, size_t whysz)
{
    json_t *c = json_object_get(receipt, "customer");
    if (!json_is_string(c))
        return true; // a reference object, or anonymous: left as the till would send it
    const char *ref = kp_state_ref(s, json_string_value(c));
    if (!ref) {
        snprintf(why, whysz, "no scenario customer \"%s\"", json_string_value(c));
        return false;
    }
    json_t *obj = json_loads(ref, 0, NULL);
    if (!obj || json_object_set_new(receipt, "customer", obj) != 0) {
        snprintf(why, whysz, "out of memory");
        return false;
    }
    return true;
}
