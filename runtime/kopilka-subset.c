// SPDX-License-Identifier: MIT
// kopilka-subset.c: the subset comparison of an expected and an actual JSON value, with a
// readable difference per JSON path (kopilka-subset.h).
#include "kopilka-subset.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define VALUE_SHOWN 120 // bytes of a value shown in a difference before it is shortened

typedef struct diff {
    kr_buf *out;
    size_t count;
    char path[1024];
    size_t path_len;
} diff;

// Appends a compact rendering of v ("nothing" for NULL), shortened on a UTF-8 boundary.
static void put_value(kr_buf *out, const json_t *v)
{
    if (!v) {
        kr_buf_puts(out, "nothing");
        return;
    }
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!s) {
        kr_buf_puts(out, "(unprintable)");
        return;
    }
    size_t n = strlen(s);
    if (n > VALUE_SHOWN) {
        n = VALUE_SHOWN;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
        kr_buf_append(out, s, n);
        kr_buf_puts(out, "…");
    } else {
        kr_buf_append(out, s, n);
    }
    free(s);
}

static void report(diff *d, const char *fmt_expected, const json_t *expected,
                   const json_t *actual)
{
    d->count++;
    if (d->count > KP_SUBSET_MAX_LINES)
        return;
    kr_buf_puts(d->out, d->path_len ? d->path : "(top)");
    kr_buf_puts(d->out, ": expected ");
    if (fmt_expected)
        kr_buf_puts(d->out, fmt_expected);
    else
        put_value(d->out, expected);
    kr_buf_puts(d->out, ", got ");
    put_value(d->out, actual);
    kr_buf_puts(d->out, "\n");
}

static bool plain_key(const char *k)
{
    if (!*k)
        return false;
    for (const char *p = k; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '$'))
            return false;
    }
    return true;
}

// Pushes ".key" (or "key" at the top, or ["key"] for unusual keys) or "[i]" onto the path;
// returns the previous length for pop. A path too long to hold is cut, never overflowed.
static size_t push_key(diff *d, const char *key)
{
    size_t old = d->path_len;
    size_t room = sizeof d->path - old;
    int n;
    if (plain_key(key))
        n = snprintf(d->path + old, room, "%s%s", old ? "." : "", key);
    else
        n = snprintf(d->path + old, room, "[\"%s\"]", key);
    d->path_len = n < 0 ? old : (size_t)n >= room ? sizeof d->path - 1 : old + (size_t)n;
    return old;
}

static size_t push_index(diff *d, size_t i)
{
    size_t old = d->path_len;
    size_t room = sizeof d->path - old;
    int n = snprintf(d->path + old, room, "[%zu]", i);
    d->path_len = n < 0 ? old : (size_t)n >= room ? sizeof d->path - 1 : old + (size_t)n;
    return old;
}

static void pop(diff *d, size_t old)
{
    d->path_len = old;
    d->path[old] = '\0';
}

static void compare(diff *d, const json_t *e, const json_t *a)
{
    switch (json_typeof(e)) {
    case JSON_NULL:
        if (a && !json_is_null(a))
            report(d, "nothing", NULL, a);
        return;
    case JSON_OBJECT: {
        if (!json_is_object(a)) {
            report(d, "an object", NULL, a);
            return;
        }
        const char *key;
        json_t *ev;
        json_object_foreach((json_t *)e, key, ev)
        {
            size_t old = push_key(d, key);
            compare(d, ev, json_object_get(a, key));
            pop(d, old);
        }
        return;
    }
    case JSON_ARRAY: {
        if (!json_is_array(a)) {
            report(d, "an array", NULL, a);
            return;
        }
        size_t ne = json_array_size(e), na = json_array_size(a);
        if (ne != na) {
            char what[64];
            snprintf(what, sizeof what, "%zu element%s", ne, ne == 1 ? "" : "s");
            d->count++;
            if (d->count <= KP_SUBSET_MAX_LINES) {
                kr_buf_puts(d->out, d->path_len ? d->path : "(top)");
                kr_buf_printf(d->out, ": expected %s, got %zu: ", what, na);
                put_value(d->out, a);
                kr_buf_puts(d->out, "\n");
            }
        }
        for (size_t i = 0; i < ne && i < na; i++) {
            size_t old = push_index(d, i);
            compare(d, json_array_get(e, i), json_array_get(a, i));
            pop(d, old);
        }
        return;
    }
    case JSON_STRING:
        if (!json_is_string(a) || json_string_length(a) != json_string_length(e) ||
            memcmp(json_string_value(a), json_string_value(e), json_string_length(e)) != 0)
            report(d, NULL, e, a);
        return;
    case JSON_INTEGER:
        if (json_is_integer(a)) {
            if (json_integer_value(a) != json_integer_value(e))
                report(d, NULL, e, a);
        } else if (!json_is_real(a) || json_real_value(a) != (double)json_integer_value(e)) {
            report(d, NULL, e, a);
        }
        return;
    case JSON_REAL:
        if (!json_is_number(a) || json_number_value(a) != json_real_value(e))
            report(d, NULL, e, a);
        return;
    case JSON_TRUE:
    case JSON_FALSE:
        if (!a || json_typeof(a) != json_typeof(e))
            report(d, NULL, e, a);
        return;
    }
}

size_t kp_subset_diff(const json_t *expected, const json_t *actual, const char *path,
                      kr_buf *out)
{
    diff d = {.out = out};
    if (path && *path) {
        snprintf(d.path, sizeof d.path, "%s", path);
        d.path_len = strlen(d.path);
    }
    if (!expected)
        return 0;
    compare(&d, expected, actual);
    if (d.count > KP_SUBSET_MAX_LINES)
        kr_buf_printf(out, "... and %zu more difference%s\n", d.count - KP_SUBSET_MAX_LINES,
                      d.count - KP_SUBSET_MAX_LINES == 1 ? "" : "s");
    return d.count;
}
