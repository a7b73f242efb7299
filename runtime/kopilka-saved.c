// SPDX-License-Identifier: MIT
// kopilka-saved.c: saved values of a scenario: paths into answers and ${name} in later steps
// (kopilka-saved.h).
#include "kopilka-saved.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool name_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '-';
}

bool kp_saved_name_ok(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!name_char(name[i]))
            return false;
    return true;
}

// Walks `path` over `root` (with check_only, the syntax alone), setting *out to the value.
// False with why.
static bool walk(const json_t *root, const char *path, bool check_only, const json_t **out,
                 kr_buf *why)
{
    const json_t *v = root;
    const char *p = path;
    if (!*p) {
        kr_buf_printf(why, "an empty path: write a key such as \"cards[0]\"\n");
        return false;
    }
    while (*p) {
        size_t done = (size_t)(p - path);
        if (*p == '[') {
            char *end = NULL;
            long long i = strtoll(p + 1, &end, 10);
            if (end == p + 1 || *end != ']') {
                kr_buf_printf(why, "%s: an index is written [N] or [-N]\n", path);
                return false;
            }
            p = end + 1;
            if (check_only)
                continue;
            if (!json_is_array(v)) {
                kr_buf_printf(why, "%.*s: not an array, so it has no [%lld]\n", (int)done, path,
                              i);
                return false;
            }
            long long n = (long long)json_array_size(v);
            long long k = i < 0 ? n + i : i;
            if (k < 0 || k >= n) {
                kr_buf_printf(why, "%.*s: the array has %lld element%s, so there is no [%lld]\n",
                              (int)done, done ? path : "(top)", n, n == 1 ? "" : "s", i);
                return false;
            }
            v = json_array_get(v, (size_t)k);
            continue;
        }
        if (*p == '.') {
            if (p == path || !p[1] || p[1] == '.' || p[1] == '[') {
                kr_buf_printf(why, "%s: a '.' stands between two keys\n", path);
                return false;
            }
            p++;
        }
        const char *k = p;
        while (name_char(*p))
            p++;
        if (p == k || (*p && *p != '.' && *p != '[')) {
            kr_buf_printf(why, "%s: keys are letters, digits, '_' and '-', joined by '.'\n",
                          path);
            return false;
        }
        if (check_only)
            continue;
        char key[128];
        snprintf(key, sizeof key, "%.*s", (int)(p - k), k);
        const json_t *next = json_is_object(v) ? json_object_get(v, key) : NULL;
        if (!next) {
            kr_buf_printf(why, "%s: the answer has no %.*s\n", path, (int)(p - path), path);
            return false;
        }
        v = next;
    }
    *out = v;
    return true;
}

bool kp_saved_path_ok(const char *path, kr_buf *why)
{
    const json_t *unused = NULL;
    return walk(NULL, path, true, &unused, why);
}

const json_t *kp_saved_lookup(const json_t *root, const char *path, kr_buf *why)
{
    const json_t *v = NULL;
    return walk(root, path, false, &v, why) ? v : NULL;
}

// A scalar as it stands inside text; false for null, objects and arrays.
static bool as_text(const json_t *v, kr_buf *out)
{
    if (json_is_string(v))
        kr_buf_puts(out, json_string_value(v));
    else if (json_is_integer(v))
        kr_buf_printf(out, "%lld", (long long)json_integer_value(v));
    else if (json_is_boolean(v))
        kr_buf_puts(out, json_is_true(v) ? "true" : "false");
    else
        return false;
    return true;
}

static json_t *expand_string(const json_t *saved, const char *s, const char *path, kr_buf *why)
{
    if (!strstr(s, "${"))
        return json_string(s);
    // Exactly "${name}": the saved value itself, of whatever type.
    size_t n = strlen(s);
    if (s[0] == '$' && s[1] == '{' && s[n - 1] == '}' && !memchr(s + 2, '}', n - 3)) {
        char name[80];
        snprintf(name, sizeof name, "%.*s", (int)(n - 3), s + 2);
        const json_t *v = json_object_get(saved, name);
        if (v)
            return json_deep_copy(v);
    }
    kr_buf out;
    kr_buf_init(&out, 0);
    const char *p = s;
    while (*p) {
        const char *at = strstr(p, "${");
        if (!at) {
            kr_buf_puts(&out, p);
            break;
        }
        kr_buf_append(&out, p, (size_t)(at - p));
        const char *end = strchr(at + 2, '}');
        if (!end) {
            kr_buf_printf(why, "%s: \"${\" without a closing \"}\"\n", path);
            kr_buf_free(&out);
            return NULL;
        }
        char name[80];
        snprintf(name, sizeof name, "%.*s", (int)(end - at - 2), at + 2);
        const json_t *v = json_object_get(saved, name);
        if (!v) {
            kr_buf_printf(why, "%s: no saved value \"%s\" (a step's \"save\" names it first", path,
                          name);
            const char *k;
            const json_t *x;
            size_t i = 0;
            json_object_foreach((json_t *)saved, k, x)
            {
                (void)x;
                kr_buf_printf(why, "%s%s", i++ ? ", " : "; saved so far: ", k);
            }
            kr_buf_puts(why, ")\n");
            kr_buf_free(&out);
            return NULL;
        }
        if (!as_text(v, &out)) {
            kr_buf_printf(why, "%s: saved value \"%s\" is not a string or number, so it can only "
                               "stand alone as \"${%s}\"\n",
                          path, name, name);
            kr_buf_free(&out);
            return NULL;
        }
        p = end + 1;
    }
    json_t *r = out.failed ? NULL : json_string(out.data ? out.data : "");
    kr_buf_free(&out);
    return r;
}

json_t *kp_saved_expand(const json_t *saved, const json_t *v, const char *path, kr_buf *why)
{
    char sub[512];
    if (json_is_string(v))
        return expand_string(saved, json_string_value(v), path && *path ? path : "(top)", why);
    if (json_is_object(v)) {
        json_t *copy = json_object();
        const char *k;
        const json_t *x;
        json_object_foreach((json_t *)v, k, x)
        {
            snprintf(sub, sizeof sub, "%s%s%s", path ? path : "", path && *path ? "." : "", k);
            json_t *e = kp_saved_expand(saved, x, sub, why);
            if (!e || json_object_set_new(copy, k, e) != 0) {
                json_decref(copy);
                return NULL;
            }
        }
        return copy;
    }
    if (json_is_array(v)) {
        json_t *copy = json_array();
        for (size_t i = 0; i < json_array_size(v); i++) {
            snprintf(sub, sizeof sub, "%s[%zu]", path ? path : "", i);
            json_t *e = kp_saved_expand(saved, json_array_get(v, i), sub, why);
            if (!e || json_array_append_new(copy, e) != 0) {
                json_decref(copy);
                return NULL;
            }
        }
        return copy;
    }
    return json_incref((json_t *)v);
}
