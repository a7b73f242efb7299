// SPDX-License-Identifier: MIT
// kr-input.c: JSON field readers, money/time/date parsing and the CSV reader (kr-input.h).
#include "kr-input.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool failf(char *why, size_t whysz, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool failf(char *why, size_t whysz, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, whysz, fmt, ap);
    va_end(ap);
    return false;
}

void kr_input_error_format(const kr_input_error *e, const char *source, char *out, size_t outsz)
{
    char where[64] = "";
    if (e->line && e->column)
        snprintf(where, sizeof where, ":%u:%u", e->line, e->column);
    else if (e->line)
        snprintf(where, sizeof where, ":%u", e->line);
    snprintf(out, outsz, "%s%s: %s%s%s", source ? source : "<input>", where, e->field,
             e->field[0] ? ": " : "", e->message);
}

// ---- text values ---------------------------------------------------------------------------
bool kr_parse_money(const char *s, int minor_unit, bool allow_negative, int64_t *out, char *why,
                    size_t whysz)
{
    const char *p = s;
    bool neg = false;
    if (*p == '-') {
        if (!allow_negative)
            return failf(why, whysz, "must not be negative, got \"%s\"", s);
        neg = true;
        p++;
    }
    if (!isdigit((unsigned char)*p))
        return failf(why, whysz, "\"%s\" is not an amount of money (write \"1500.00\")", s);
    int64_t v = 0;
    for (; isdigit((unsigned char)*p); p++) {
        if (v > (INT64_MAX / 10 - 9) / 10000)
            return failf(why, whysz, "\"%s\" is too large", s);
        v = v * 10 + (*p - '0');
    }
    int dec = 0;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return failf(why, whysz, "\"%s\" is not an amount of money (write \"1500.00\")", s);
        for (; isdigit((unsigned char)*p); p++) {
            if (dec == minor_unit) {
                if (*p != '0')
                    return failf(why, whysz, "\"%s\" has more than %d decimals", s, minor_unit);
                continue;
            }
            v = v * 10 + (*p - '0');
            dec++;
        }
    }
    if (*p)
        return failf(why, whysz, "\"%s\" is not an amount of money (write \"1500.00\")", s);
    for (; dec < minor_unit; dec++)
        v *= 10;
    *out = neg ? -v : v;
    return true;
}

int64_t kr_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void kr_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yy + (*m <= 2);
}

static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static bool civil_ok(int y, int m, int d)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1900 || y > 2999 || m < 1 || m > 12 || d < 1)
        return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return d <= mdays[m - 1] + (m == 2 && leap);
}

bool kr_parse_date(const char *s, int64_t *days, char *why, size_t whysz)
{
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return failf(why, whysz, "\"%s\" is not a date (write \"2026-03-01\")", s);
    int y = digits(s, 4), m = digits(s + 5, 2), d = digits(s + 8, 2);
    if (y < 0 || m < 0 || d < 0)
        return failf(why, whysz, "\"%s\" is not a date (write \"2026-03-01\")", s);
    if (!civil_ok(y, m, d))
        return failf(why, whysz, "the date \"%s\" cannot happen", s);
    *days = kr_days_from_civil(y, (unsigned)m, (unsigned)d);
    return true;
}

bool kr_parse_time(const char *s, int64_t *unix_seconds, char *why, size_t whysz)
{
    size_t n = strlen(s);
    int64_t days;
    char date[11];
    if (n < 19 || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || s[13] != ':' || s[16] != ':')
        return failf(why, whysz, "\"%s\" is not a time (write \"2026-11-22T14:05:00+03:00\")", s);
    memcpy(date, s, 10);
    date[10] = '\0';
    if (!kr_parse_date(date, &days, why, whysz))
        return false;
    int hh = digits(s + 11, 2), mm = digits(s + 14, 2), ss = digits(s + 17, 2);
    if (hh < 0 || mm < 0 || ss < 0 || hh > 23 || mm > 59 || ss > 60)
        return failf(why, whysz, "\"%s\" has an impossible time of day", s);
    const char *p = s + 19;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return failf(why, whysz, "\"%s\" is not a time", s);
        while (isdigit((unsigned char)*p))
            p++;
    }
    int offset = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh = digits(p + 1, 2), om = p[3] == ':' ? digits(p + 4, 2) : -1;
        if (oh < 0 || om < 0 || oh > 23 || om > 59)
            return failf(why, whysz, "\"%s\" has a bad UTC offset", s);
        offset = (oh * 60 + om) * 60 * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return failf(why, whysz, "\"%s\" has no UTC offset (add \"Z\" or \"+03:00\")", s);
    }
    if (*p)
        return failf(why, whysz, "\"%s\" is not a time", s);
    *unix_seconds = days * 86400 + hh * 3600 + mm * 60 + (ss > 59 ? 59 : ss) - offset;
    return true;
}

// ---- JSON ----------------------------------------------------------------------------------
static bool jfail(kr_json_obj *o, const char *key, const char *fmt, va_list ap)
{
    kr_input_error *e = o->err;
    if (!e || e->message[0])
        return false; // keep the first error
    if (key)
        snprintf(e->field, sizeof e->field, "%.60s%s%.60s", o->path, o->path[0] ? "." : "", key);
    else
        snprintf(e->field, sizeof e->field, "%s", o->path);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    return false;
}

bool kr_json_fail(kr_json_obj *o, const char *key, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    jfail(o, key, fmt, ap);
    va_end(ap);
    return false;
}

json_t *kr_json_parse(const char *text, size_t len, unsigned line_base, kr_input_error *err)
{
    json_error_t je;
    json_t *v = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!v) {
        err->line = line_base + (je.line > 0 ? (unsigned)je.line - 1 : 0);
        err->column = je.column > 0 ? (unsigned)je.column : 0;
        err->field[0] = '\0';
        snprintf(err->message, sizeof err->message, "malformed JSON: %s", je.text);
    }
    return v;
}

static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 40 || lb > 40)
        return 99;
    size_t prev[41], cur[41];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t best = prev[j - 1] + (a[i - 1] != b[j - 1]);
            if (prev[j] + 1 < best)
                best = prev[j] + 1;
            if (cur[j - 1] + 1 < best)
                best = cur[j - 1] + 1;
            cur[j] = best;
        }
        memcpy(prev, cur, sizeof cur);
    }
    return prev[lb];
}

bool kr_json_expect_object(kr_json_obj *o, const char *const *allowed)
{
    if (!json_is_object(o->obj))
        return kr_json_fail(o, NULL, "must be an object");
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)o->obj, key, val)
    {
        bool ok = false;
        for (const char *const *a = allowed; *a && !ok; a++)
            ok = strcmp(*a, key) == 0;
        if (ok)
            continue;
        // Only an unknown key pays for the suggestion (the last close one, as before).
        const char *near = NULL;
        for (const char *const *a = allowed; *a; a++)
            if (edit_distance(*a, key) <= 2)
                near = *a;
        if (near)
            return kr_json_fail(o, key, "unknown field (did you mean \"%s\"?)", near);
        return kr_json_fail(o, key, "unknown field");
    }
    return true;
}

static const json_t *get(kr_json_obj *o, const char *key, bool required, bool *missing)
{
    const json_t *v = json_object_get(o->obj, key);
    *missing = !v || json_is_null(v);
    if (*missing && required)
        kr_json_fail(o, key, "is required");
    return *missing ? NULL : v;
}

bool kr_json_string(kr_json_obj *o, const char *key, bool required, const char **out)
{
    bool missing;
    const json_t *v = get(o, key, required, &missing);
    if (missing)
        return !required;
    if (!json_is_string(v))
        return kr_json_fail(o, key, "must be a string");
    *out = json_string_value(v);
    return true;
}

bool kr_json_int(kr_json_obj *o, const char *key, bool required, int64_t min, int64_t max,
                 int64_t *out)
{
    bool missing;
    const json_t *v = get(o, key, required, &missing);
    if (missing)
        return !required;
    if (!json_is_integer(v))
        return kr_json_fail(o, key, "must be a whole number");
    json_int_t i = json_integer_value(v);
    if (i < min || i > max)
        return kr_json_fail(o, key, "must be from %lld to %lld, got %lld", (long long)min,
                            (long long)max, (long long)i);
    *out = i;
    return true;
}

bool kr_json_bool(kr_json_obj *o, const char *key, bool required, bool *out)
{
    bool missing;
    const json_t *v = get(o, key, required, &missing);
    if (missing)
        return !required;
    if (!json_is_boolean(v))
        return kr_json_fail(o, key, "must be true or false");
    *out = json_is_true(v);
    return true;
}

bool kr_json_money(kr_json_obj *o, const char *key, bool required, int minor_unit,
                   bool allow_negative, int64_t *out)
{
    bool missing;
    const json_t *v = get(o, key, required, &missing);
    if (missing)
        return !required;
    if (json_is_number(v))
        return kr_json_fail(o, key, "money is written as a string such as \"1500.00\", so no "
                                    "floating point touches it");
    if (!json_is_string(v))
        return kr_json_fail(o, key, "must be a string such as \"1500.00\"");
    char why[200];
    if (!kr_parse_money(json_string_value(v), minor_unit, allow_negative, out, why, sizeof why))
        return kr_json_fail(o, key, "%s", why);
    return true;
}

bool kr_json_time(kr_json_obj *o, const char *key, bool required, int64_t *out)
{
    const char *s = NULL;
    if (!kr_json_string(o, key, required, &s))
        return false;
    if (!s)
        return true;
    char why[200];
    if (!kr_parse_time(s, out, why, sizeof why))
        return kr_json_fail(o, key, "%s", why);
    return true;
}

bool kr_json_date(kr_json_obj *o, const char *key, bool required, int64_t *out)
{
    const char *s = NULL;
    if (!kr_json_string(o, key, required, &s))
        return false;
    if (!s)
        return true;
    char why[200];
    if (!kr_parse_date(s, out, why, sizeof why))
        return kr_json_fail(o, key, "%s", why);
    return true;
}

bool kr_json_array(kr_json_obj *o, const char *key, bool required, const json_t **out)
{
    bool missing;
    const json_t *v = get(o, key, required, &missing);
    *out = NULL;
    if (missing)
        return !required;
    if (!json_is_array(v))
        return kr_json_fail(o, key, "must be an array");
    *out = v;
    return true;
}

bool kr_json_child(kr_json_obj *o, const char *key, const json_t *array, size_t index,
                   bool required, kr_json_obj *child, bool *present)
{
    const json_t *v;
    const char *array_key = key;
    child->err = o->err;
    if (!array) {
        bool missing;
        v = get(o, key, required, &missing);
        *present = !missing;
        if (missing)
            return !required;
        snprintf(child->path, sizeof child->path, "%.60s%s%.60s", o->path, o->path[0] ? "." : "",
                 key);
    } else {
        v = json_array_get(array, index);
        *present = v != NULL;
        snprintf(child->path, sizeof child->path, "%.60s%s%.60s[%zu]", o->path,
                 o->path[0] && array_key ? "." : "", array_key ? array_key : "", index);
    }
    child->obj = v;
    if (!json_is_object(v)) {
        kr_json_obj tmp = *child;
        return kr_json_fail(&tmp, NULL, "must be an object");
    }
    return true;
}

// ---- CSV -----------------------------------------------------------------------------------
static void csv_error(kr_csv *c, kr_input_error *err, unsigned line, unsigned col, const char *field,
                      const char *msg)
{
    (void)c;
    err->line = line;
    err->column = col;
    snprintf(err->field, sizeof err->field, "%.127s", field ? field : "");
    snprintf(err->message, sizeof err->message, "%.255s", msg);
}

static bool buf_put(kr_csv *c, char ch)
{
    if (c->buflen + 1 >= c->bufcap) {
        size_t n = c->bufcap ? c->bufcap * 2 : 1024;
        char *p = realloc(c->buf, n);
        if (!p)
            return false;
        c->buf = p;
        c->bufcap = n;
    }
    c->buf[c->buflen++] = ch;
    return true;
}

static void step(kr_csv *c)
{
    if (*c->p == '\n') {
        c->line++;
        c->col = 1;
    } else if (((unsigned char)*c->p & 0xC0) != 0x80) {
        c->col++;
    }
    c->p++;
}

// Reads one record into buf as NUL-separated fields; offsets recorded in c->fields.
static kr_input_status read_record(kr_csv *c, kr_input_error *err)
{
    size_t offsets[KR_CSV_MAX_FIELDS];
    c->buflen = 0;
    c->nfields = 0;
    // Skip blank lines between records.
    while (c->p < c->end && (*c->p == '\n' || *c->p == '\r'))
        step(c);
    if (c->p >= c->end)
        return KR_INPUT_END;
    c->record_line = c->line;
    for (;;) {
        if (c->nfields == KR_CSV_MAX_FIELDS) {
            csv_error(c, err, c->line, c->col, NULL, "too many fields in the record");
            return KR_INPUT_INVALID;
        }
        offsets[c->nfields] = c->buflen;
        size_t start = c->buflen;
        unsigned fline = c->line, fcol = c->col;
        if (c->p < c->end && *c->p == '"') {
            step(c);
            for (;;) {
                if (c->p >= c->end) {
                    csv_error(c, err, fline, fcol, NULL, "a quoted field is not closed");
                    return KR_INPUT_INVALID;
                }
                if (*c->p == '"') {
                    if (c->p + 1 < c->end && c->p[1] == '"') {
                        step(c);
                        step(c);
                        if (!buf_put(c, '"'))
                            return KR_INPUT_NOMEM;
                        continue;
                    }
                    step(c);
                    break;
                }
                if (!buf_put(c, *c->p))
                    return KR_INPUT_NOMEM;
                step(c);
            }
            if (c->p < c->end && *c->p != ',' && *c->p != '\n' && *c->p != '\r') {
                csv_error(c, err, c->line, c->col, NULL,
                          "unexpected character after a closing quote");
                return KR_INPUT_INVALID;
            }
        } else {
            while (c->p < c->end && *c->p != ',' && *c->p != '\n' && *c->p != '\r') {
                if (*c->p == '"') {
                    csv_error(c, err, c->line, c->col, NULL,
                              "a quote inside an unquoted field (quote the whole field)");
                    return KR_INPUT_INVALID;
                }
                if (!buf_put(c, *c->p))
                    return KR_INPUT_NOMEM;
                step(c);
            }
        }
        if (c->buflen - start > KR_CSV_MAX_FIELD) {
            csv_error(c, err, fline, fcol, NULL, "a field is longer than 4096 bytes");
            return KR_INPUT_INVALID;
        }
        if (!buf_put(c, '\0'))
            return KR_INPUT_NOMEM;
        c->nfields++;
        if (c->p < c->end && *c->p == ',') {
            step(c);
            continue;
        }
        if (c->p < c->end && *c->p == '\r')
            step(c);
        if (c->p < c->end && *c->p == '\n')
            step(c);
        break;
    }
    for (size_t i = 0; i < c->nfields; i++)
        c->fields[i] = c->buf + offsets[i];
    return KR_INPUT_OK;
}

kr_input_status kr_csv_open(kr_csv *c, const char *data, size_t len, const char *const *required,
                            const char *const *known, kr_input_error *err)
{
    memset(c, 0, sizeof *c);
    c->p = data;
    c->end = data + len;
    c->line = 1;
    c->col = 1;
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
        c->p += 3;
    if (memchr(data, '\0', len)) {
        csv_error(c, err, 0, 0, NULL, "the file contains a NUL byte");
        return KR_INPUT_INVALID;
    }
    kr_input_status st = read_record(c, err);
    if (st == KR_INPUT_END) {
        csv_error(c, err, 1, 1, NULL, "the file is empty (a header line is expected)");
        return KR_INPUT_INVALID;
    }
    if (st != KR_INPUT_OK)
        return st;
    c->ncols = c->nfields;
    for (size_t i = 0; i < c->ncols; i++) {
        c->header[i] = strdup(c->fields[i]);
        if (!c->header[i])
            return KR_INPUT_NOMEM;
        for (size_t j = 0; j < i; j++)
            if (strcmp(c->header[j], c->header[i]) == 0) {
                csv_error(c, err, c->record_line, 0, c->header[i], "the column appears twice");
                return KR_INPUT_INVALID;
            }
        if (known) {
            bool ok = false;
            const char *near = NULL;
            for (const char *const *k = known; *k; k++) {
                if (strcmp(*k, c->header[i]) == 0)
                    ok = true;
                else if (edit_distance(*k, c->header[i]) <= 2)
                    near = *k;
            }
            if (!ok) {
                char msg[160];
                snprintf(msg, sizeof msg, "unknown column%s%s%s", near ? " (did you mean \"" : "",
                         near ? near : "", near ? "\"?)" : "");
                csv_error(c, err, c->record_line, 0, c->header[i], msg);
                return KR_INPUT_INVALID;
            }
        }
    }
    for (const char *const *r = required; r && *r; r++) {
        bool found = false;
        for (size_t i = 0; i < c->ncols; i++)
            found |= strcmp(c->header[i], *r) == 0;
        if (!found) {
            csv_error(c, err, c->record_line, 0, *r, "a required column is missing");
            return KR_INPUT_INVALID;
        }
    }
    return KR_INPUT_OK;
}

kr_input_status kr_csv_next(kr_csv *c, kr_input_error *err)
{
    kr_input_status st = read_record(c, err);
    if (st != KR_INPUT_OK)
        return st;
    if (c->nfields != c->ncols) {
        char msg[160];
        snprintf(msg, sizeof msg, "the record has %zu fields, the header has %zu", c->nfields,
                 c->ncols);
        csv_error(c, err, c->record_line, 0, NULL, msg);
        return KR_INPUT_INVALID;
    }
    return KR_INPUT_OK;
}

const char *kr_csv_field(const kr_csv *c, const char *name)
{
    for (size_t i = 0; i < c->ncols; i++)
        if (c->header[i] && strcmp(c->header[i], name) == 0)
            return i < c->nfields && c->nfields == c->ncols ? c->fields[i] : NULL;
    return NULL;
}

void kr_csv_close(kr_csv *c)
{
    for (size_t i = 0; i < c->ncols; i++)
        free(c->header[i]);
    free(c->buf);
    memset(c, 0, sizeof *c);
}
