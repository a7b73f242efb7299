// SPDX-License-Identifier: MIT
// kr-buf.c: the capped growable buffer and its JSON helpers (kr-buf.h).
#include "kr-buf.h"

#include "kr-input.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void kr_buf_init(kr_buf *b, size_t cap)
{
    memset(b, 0, sizeof *b);
    b->cap = cap ? cap : KR_BUF_DEFAULT_CAP;
}

void kr_buf_free(kr_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

void kr_buf_reset(kr_buf *b)
{
    b->len = 0;
    b->failed = false;
    if (b->data)
        b->data[0] = '\0';
}

bool kr_buf_reserve(kr_buf *b, size_t n)
{
    if (b->failed)
        return false;
    if (n > b->cap) {
        b->failed = true;
        return false;
    }
    if (n + 1 > b->alloc) {
        size_t want = b->alloc ? b->alloc : 256;
        while (want < n + 1)
            want *= 2;
        char *p = realloc(b->data, want);
        if (!p) {
            b->failed = true;
            return false;
        }
        if (!b->data)
            p[0] = '\0';
        b->data = p;
        b->alloc = want;
    }
    return true;
}

bool kr_buf_append(kr_buf *b, const char *s, size_t n)
{
    if (b->failed)
        return false;
    if (n > b->cap || b->len > b->cap - n) {
        b->failed = true;
        return false;
    }
    if (!kr_buf_reserve(b, b->len + n))
        return false;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
    return true;
}

bool kr_buf_puts(kr_buf *b, const char *s)
{
    return kr_buf_append(b, s, strlen(s));
}

bool kr_buf_printf(kr_buf *b, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return false;
    if ((size_t)n < sizeof small)
        return kr_buf_append(b, small, (size_t)n);
    char *big = malloc((size_t)n + 1);
    if (!big) {
        b->failed = true;
        return false;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    bool ok = kr_buf_append(b, big, (size_t)n);
    free(big);
    return ok;
}

// Length of the valid UTF-8 sequence at s (1..4), or 0 when it is not valid.
static size_t utf8_len(const unsigned char *s)
{
    if (s[0] < 0x80)
        return 1;
    size_t n = (s[0] & 0xE0) == 0xC0 ? 2 : (s[0] & 0xF0) == 0xE0 ? 3 : (s[0] & 0xF8) == 0xF0 ? 4 : 0;
    if (n == 0 || (n == 2 && s[0] < 0xC2))
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    return n;
}

bool kr_buf_json_string_or_null(kr_buf *b, const char *s)
{
    return s ? kr_buf_json_string(b, s) : kr_buf_puts(b, "null");
}

bool kr_buf_json_string(kr_buf *b, const char *s)
{
    kr_buf_append(b, "\"", 1);
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    while (*p) {
        unsigned char c = *p;
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            kr_buf_append(b, esc, 2);
            p++;
        } else if (c < 0x20) {
            kr_buf_printf(b, "\\u%04x", c);
            p++;
        } else {
            size_t n = utf8_len(p);
            if (n == 0) {
                kr_buf_puts(b, "\xEF\xBF\xBD");
                p++;
            } else {
                kr_buf_append(b, (const char *)p, n);
                p += n;
            }
        }
    }
    return kr_buf_append(b, "\"", 1);
}

bool kr_buf_json_money(kr_buf *b, int64_t minor, int minor_unit)
{
    int64_t scale = 1;
    for (int i = 0; i < minor_unit; i++)
        scale *= 10;
    const char *sign = minor < 0 ? "-" : "";
    uint64_t m = minor < 0 ? (uint64_t)0 - (uint64_t)minor : (uint64_t)minor;
    if (minor_unit == 0)
        return kr_buf_printf(b, "\"%s%llu\"", sign, (unsigned long long)m);
    return kr_buf_printf(b, "\"%s%llu.%0*llu\"", sign, (unsigned long long)(m / (uint64_t)scale),
                         minor_unit, (unsigned long long)(m % (uint64_t)scale));
}

bool kr_buf_json_time(kr_buf *b, int64_t t)
{
    int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
    int64_t secs = t - days * 86400;
    int64_t y;
    unsigned m, d;
    kr_civil_from_days(days, &y, &m, &d);
    return kr_buf_printf(b, "\"%04lld-%02u-%02uT%02d:%02d:%02dZ\"", (long long)y, m, d,
                         (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60));
}
