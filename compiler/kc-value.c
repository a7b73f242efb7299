// SPDX-License-Identifier: MIT
// kc-value.c: typed attribute values — money, percents, dates, hours, ids and lists.
//
// Every parser takes the raw text and either fills a kc_value or explains, in one sentence,
// what was expected, with a hint when a near miss is recognisable (money where a percent is
// expected, a comma as decimal separator, a month that has no such day ...).
#include "kc-private.h"

#include <ctype.h>
#include <stdarg.h>
#include <string.h>

static bool fail(char *why, size_t whysz, char *hint, size_t hintsz, const char *h,
                 const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static bool fail(char *why, size_t whysz, char *hint, size_t hintsz, const char *h,
                 const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, whysz, fmt, ap);
    va_end(ap);
    if (h)
        snprintf(hint, hintsz, "%s", h);
    return false;
}

// Parses an unsigned decimal "123" or "123.45" with at most `maxdec` decimals into
// value * 10^maxdec. Returns false on syntax error, too many decimals or overflow.
// *decimals_seen tells how many decimals were written (for better messages).
static bool parse_decimal(const char *s, int maxdec, int64_t *out, int *decimals_seen)
{
    const int64_t limit = INT64_MAX / 100;
    int64_t v = 0;
    const char *p = s;
    if (!isdigit((unsigned char)*p))
        return false;
    while (isdigit((unsigned char)*p)) {
        v = v * 10 + (*p - '0');
        if (v > limit)
            return false;
        p++;
    }
    int dec = 0;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return false;
        while (isdigit((unsigned char)*p)) {
            if (dec == maxdec) {
                // Trailing zeros beyond the precision are harmless ("10.500").
                if (*p != '0') {
                    *decimals_seen = dec + 1;
                    return false;
                }
                p++;
                continue;
            }
            v = v * 10 + (*p - '0');
            if (v > limit)
                return false;
            dec++;
            p++;
        }
    }
    if (*p)
        return false;
    *decimals_seen = dec;
    for (; dec < maxdec; dec++)
        v *= 10;
    *out = v;
    return true;
}

static bool is_id_char(int c)
{
    return isalnum(c) || c == '-' || c == '_' || c == '.';
}

static bool valid_id(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64 || !isalnum((unsigned char)s[0]))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_id_char((unsigned char)s[i]))
            return false;
    return true;
}

// Splits `raw` on whitespace into an arena array.
static bool split_words(const char *raw, kc_arena *a, kc_value *out)
{
    size_t n = 0;
    for (const char *p = raw; *p;) {
        while (*p && isspace((unsigned char)*p))
            p++;
        if (!*p)
            break;
        n++;
        while (*p && !isspace((unsigned char)*p))
            p++;
    }
    out->list = kc__arena_alloc(a, (n ? n : 1) * sizeof *out->list);
    if (!out->list)
        return false;
    out->n = 0;
    for (const char *p = raw; *p;) {
        while (*p && isspace((unsigned char)*p))
            p++;
        if (!*p)
            break;
        const char *st = p;
        while (*p && !isspace((unsigned char)*p))
            p++;
        out->list[out->n++] = kc__arena_strndup(a, st, (size_t)(p - st));
    }
    return true;
}

// Index of `word` in "a|b|c", or -1.
static int enum_index(const char *values, const char *word)
{
    int i = 0;
    size_t wl = strlen(word);
    for (const char *p = values;; i++) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == wl && strncmp(p, word, len) == 0)
            return i;
        if (!bar)
            return -1;
        p = bar + 1;
    }
}

static void enum_hint(const char *values, const char *word, char *hint, size_t hintsz)
{
    const char *cands[32];
    char copy[512];
    snprintf(copy, sizeof copy, "%s", values);
    size_t n = 0;
    for (char *tok = strtok(copy, "|"); tok && n < 32; tok = strtok(NULL, "|"))
        cands[n++] = tok;
    const char *s = kc__suggest(word, cands, n);
    if (s)
        snprintf(hint, hintsz, "did you mean `%s`?", s);
    else {
        char list[512];
        snprintf(list, sizeof list, "%s", values);
        for (char *p = list; *p; p++)
            if (*p == '|')
                *p = ',';
        snprintf(hint, hintsz, "one of: %s", list);
    }
}

static bool parse_percent(const char *raw, int64_t *bp, char *why, size_t whysz, char *hint,
                          size_t hintsz)
{
    size_t n = strlen(raw);
    int dec = 0;
    if (n == 0 || raw[n - 1] != '%') {
        int64_t tmp;
        if (parse_decimal(raw, 4, &tmp, &dec))
            return fail(why, whysz, hint, hintsz, "write a percent with a `%` sign, like `5%`",
                        "expected a percent, got the number `%s`", raw);
        return fail(why, whysz, hint, hintsz, "write a percent like `5%` or `12.5%`",
                    "expected a percent, got `%s`", raw);
    }
    char num[64];
    if (n - 1 >= sizeof num)
        return fail(why, whysz, hint, hintsz, NULL, "percent `%s` is too long", raw);
    memcpy(num, raw, n - 1);
    num[n - 1] = '\0';
    for (char *c = num; *c; c++)
        if (*c == ',')
            return fail(why, whysz, hint, hintsz, "use a dot as the decimal separator",
                        "`%s` is not a percent", raw);
    if (!parse_decimal(num, 2, bp, &dec))
        return fail(why, whysz, hint, hintsz, dec > 2 ? "at most two decimals, like `12.25%`"
                                                      : "write a percent like `5%` or `12.5%`",
                    "`%s` is not a percent", raw);
    return true;
}

static bool parse_money(const char *raw, int minor_unit, int64_t *out, char *why, size_t whysz,
                        char *hint, size_t hintsz)
{
    int dec = 0;
    size_t n = strlen(raw);
    if (n && raw[n - 1] == '%')
        return fail(why, whysz, hint, hintsz, "write money like `500.00`",
                    "expected an amount of money, got the percent `%s`", raw);
    if (strchr(raw, ','))
        return fail(why, whysz, hint, hintsz, "use a dot as the decimal separator",
                    "`%s` is not an amount of money", raw);
    if (raw[0] == '-')
        return fail(why, whysz, hint, hintsz, NULL, "amount `%s` must not be negative", raw);
    if (!parse_decimal(raw, minor_unit, out, &dec)) {
        if (dec > minor_unit) {
            char h[96];
            snprintf(h, sizeof h, "the currency has %d decimal place%s", minor_unit,
                     minor_unit == 1 ? "" : "s");
            return fail(why, whysz, hint, hintsz, h, "`%s` has more decimals than money can have",
                        raw);
        }
        return fail(why, whysz, hint, hintsz, "write money like `500` or `499.90`",
                    "`%s` is not an amount of money", raw);
    }
    return true;
}

static bool parse_date(const char *raw, int64_t *days, char *why, size_t whysz, char *hint,
                       size_t hintsz)
{
    unsigned y, m, d;
    char tail;
    if (strlen(raw) != 10 || sscanf(raw, "%4u-%2u-%2u%c", &y, &m, &d, &tail) != 3 ||
        raw[4] != '-' || raw[7] != '-')
        return fail(why, whysz, hint, hintsz, "write dates as YYYY-MM-DD, like `2026-03-01`",
                    "`%s` is not a date", raw);
    static const unsigned mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (y < 1900 || y > 2999)
        return fail(why, whysz, hint, hintsz, NULL, "year %u of `%s` is out of range", y, raw);
    if (m < 1 || m > 12)
        return fail(why, whysz, hint, hintsz, NULL, "month %u of `%s` does not exist", m, raw);
    unsigned maxd = mdays[m - 1] + (m == 2 && leap ? 1 : 0);
    if (d < 1 || d > maxd) {
        char h[96];
        snprintf(h, sizeof h, "this month has %u days", maxd);
        return fail(why, whysz, hint, hintsz, h, "the date `%s` cannot happen", raw);
    }
    *days = kc__days_from_civil((int64_t)y, m, d);
    return true;
}

static bool parse_clock(const char *s, size_t n, int64_t *minute)
{
    unsigned h, m;
    char buf[8];
    if (n != 5 || s[2] != ':')
        return false;
    memcpy(buf, s, 5);
    buf[5] = '\0';
    if (!isdigit((unsigned char)buf[0]) || !isdigit((unsigned char)buf[1]) ||
        !isdigit((unsigned char)buf[3]) || !isdigit((unsigned char)buf[4]))
        return false;
    if (sscanf(buf, "%2u:%2u", &h, &m) != 2 || m > 59 || h > 24 || (h == 24 && m != 0))
        return false;
    *minute = (int64_t)(h * 60 + m);
    return true;
}

static const char *const weekday_names[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

bool kc__parse_value(const kc_attr_spec *spec, const char *raw, int minor_unit, kc_arena *a,
                     kc_value *out, char *why, size_t whysz, char *hint, size_t hintsz)
{
    memset(out, 0, sizeof *out);
    why[0] = hint[0] = '\0';
    out->s = raw;
    switch (spec->type) {
    case KC_V_TEXT:
    case KC_V_CELLS:
        if (spec->type == KC_V_CELLS && !*raw)
            return fail(why, whysz, hint, hintsz, NULL, "a row needs its cells");
        return true;
    case KC_V_ID:
    case KC_V_REF:
        if (!valid_id(raw))
            return fail(why, whysz, hint, hintsz,
                        "ids use letters, digits, `-`, `_` and `.`, start with a letter or digit, "
                        "at most 64 characters",
                        "`%s` is not a valid id", raw);
        return true;
    case KC_V_REFS:
    case KC_V_WORDS:
        if (!split_words(raw, a, out))
            return fail(why, whysz, hint, hintsz, NULL, "out of memory");
        if (out->n == 0)
            return fail(why, whysz, hint, hintsz, "leave the attribute out instead",
                        "the list is empty");
        for (size_t i = 0; i < out->n; i++) {
            if (strchr(out->list[i], ',') && strlen(out->list[i]) > 1)
                return fail(why, whysz, hint, hintsz, "separate list items with spaces",
                            "`%s` contains a comma", out->list[i]);
            if (spec->type == KC_V_REFS && !valid_id(out->list[i]))
                return fail(why, whysz, hint, hintsz, NULL, "`%s` is not a valid id",
                            out->list[i]);
        }
        return true;
    case KC_V_INT: {
        int dec = 0;
        if (raw[0] == '-')
            return fail(why, whysz, hint, hintsz, NULL, "`%s` must not be negative", raw);
        if (!parse_decimal(raw, 0, &out->i, &dec) || out->i > 1000000000000LL)
            return fail(why, whysz, hint, hintsz, "write a whole number like `30`",
                        "`%s` is not a whole number", raw);
        return true;
    }
    case KC_V_MONEY:
        return parse_money(raw, minor_unit, &out->i, why, whysz, hint, hintsz);
    case KC_V_PERCENT:
        return parse_percent(raw, &out->i, why, whysz, hint, hintsz);
    case KC_V_PERCENT_REF:
    case KC_V_FACTOR_REF:
        if (raw[0] == '@') {
            if (!valid_id(raw + 1))
                return fail(why, whysz, hint, hintsz, NULL, "`%s` does not name a table", raw);
            out->is_ref = true;
            out->s = raw + 1;
            return true;
        }
        if (spec->type == KC_V_PERCENT_REF)
            return parse_percent(raw, &out->i, why, whysz, hint, hintsz);
        /* fall through */
    case KC_V_FACTOR:
    case KC_V_AMOUNT: {
        int dec = 0;
        size_t n = strlen(raw);
        if (n && raw[n - 1] == '%' && spec->type != KC_V_AMOUNT)
            return fail(why, whysz, hint, hintsz, "a factor is a plain number like `1.15`",
                        "expected a factor, got the percent `%s`", raw);
        if (!parse_decimal(raw, 4, &out->i, &dec))
            return fail(why, whysz, hint, hintsz, "a number with at most 4 decimals, like `1.15`",
                        "`%s` is not a number", raw);
        return true;
    }
    case KC_V_DATE:
        return parse_date(raw, &out->i, why, whysz, hint, hintsz);
    case KC_V_HOURS: {
        const char *dash = strchr(raw, '-');
        if (!dash || !parse_clock(raw, (size_t)(dash - raw), &out->i) ||
            !parse_clock(dash + 1, strlen(dash + 1), &out->j))
            return fail(why, whysz, hint, hintsz, "write hours like `10:00-14:00`",
                        "`%s` is not a range of hours", raw);
        if (out->i == out->j)
            return fail(why, whysz, hint, hintsz, "the end must differ from the start",
                        "the hours `%s` are empty", raw);
        return true;
    }
    case KC_V_WEEKDAYS:
    case KC_V_ENUMS:
        if (!split_words(raw, a, out))
            return fail(why, whysz, hint, hintsz, NULL, "out of memory");
        if (out->n == 0)
            return fail(why, whysz, hint, hintsz, "leave the attribute out instead",
                        "the list is empty");
        for (size_t i = 0; i < out->n; i++) {
            int idx;
            if (spec->type == KC_V_WEEKDAYS) {
                idx = -1;
                for (int k = 0; k < 7; k++)
                    if (strcmp(out->list[i], weekday_names[k]) == 0)
                        idx = k;
                if (idx < 0) {
                    enum_hint("mon|tue|wed|thu|fri|sat|sun", out->list[i], hint, hintsz);
                    return fail(why, whysz, NULL, 0, NULL, "`%s` is not a weekday",
                                out->list[i]);
                }
            } else {
                idx = enum_index(spec->arg, out->list[i]);
                if (idx < 0) {
                    enum_hint(spec->arg, out->list[i], hint, hintsz);
                    return fail(why, whysz, NULL, 0, NULL, "`%s` is not allowed here",
                                out->list[i]);
                }
            }
            if (out->i & (INT64_C(1) << idx))
                return fail(why, whysz, hint, hintsz, NULL, "`%s` is listed twice", out->list[i]);
            out->i |= INT64_C(1) << idx;
        }
        return true;
    case KC_V_ENUM: {
        int idx = enum_index(spec->arg, raw);
        if (idx < 0) {
            enum_hint(spec->arg, raw, hint, hintsz);
            return fail(why, whysz, NULL, 0, NULL, "`%s` is not allowed here", raw);
        }
        out->i = idx;
        return true;
    }
    case KC_V_BOOL:
        if (strcmp(raw, "true") == 0)
            out->i = 1;
        else if (strcmp(raw, "false") == 0)
            out->i = 0;
        else
            return fail(why, whysz, hint, hintsz, "write `true` or `false`",
                        "`%s` is not true or false", raw);
        return true;
    case KC_V_CURRENCY:
        if (strlen(raw) != 3 || !isupper((unsigned char)raw[0]) ||
            !isupper((unsigned char)raw[1]) || !isupper((unsigned char)raw[2]))
            return fail(why, whysz, hint, hintsz, "an ISO 4217 code such as `RUB`",
                        "`%s` is not a currency code", raw);
        return true;
    case KC_V_TIMEZONE: {
        bool ok = strlen(raw) > 0 && strlen(raw) < 64 && (strchr(raw, '/') || !strcmp(raw, "UTC"));
        for (const char *p = raw; ok && *p; p++)
            ok = isalnum((unsigned char)*p) || strchr("/_-+", *p);
        if (!ok)
            return fail(why, whysz, hint, hintsz, "an IANA name such as `Europe/Moscow`",
                        "`%s` is not a time zone", raw);
        return true;
    }
    }
    return fail(why, whysz, hint, hintsz, NULL, "unknown value type");
}
