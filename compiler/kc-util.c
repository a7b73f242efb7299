// SPDX-License-Identifier: MIT
// kc-util.c: the arena, the capped buffer, suggestions and number formatting.
#include "kc-private.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

// ---- arena -------------------------------------------------------------------------------
struct kc_arena_block {
    kc_arena_block *next;
    size_t used, size;
    _Alignas(16) unsigned char data[];
};

#define KC_ARENA_BLOCK (64u * 1024u)

void *kc__arena_alloc(kc_arena *a, size_t n)
{
    n = (n + 15u) & ~(size_t)15u;
    kc_arena_block *b = a->head;
    if (!b || b->size - b->used < n) {
        size_t size = n > KC_ARENA_BLOCK ? n : KC_ARENA_BLOCK;
        b = malloc(sizeof *b + size);
        if (!b)
            return NULL;
        b->next = a->head;
        b->used = 0;
        b->size = size;
        a->head = b;
    }
    void *p = b->data + b->used;
    b->used += n;
    memset(p, 0, n);
    return p;
}

char *kc__arena_strndup(kc_arena *a, const char *s, size_t n)
{
    char *p = kc__arena_alloc(a, n + 1);
    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void kc__arena_free(kc_arena *a)
{
    kc_arena_block *b = a->head;
    while (b) {
        kc_arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
}

// ---- buffer ------------------------------------------------------------------------------
void kc_buf_init(kc_buf *b, size_t cap)
{
    memset(b, 0, sizeof *b);
    b->cap = cap ? cap : (size_t)KC_MAX_FILE_SIZE * 8u;
}

void kc_buf_free(kc_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

kc_status kc_buf_append(kc_buf *b, const char *s, size_t n)
{
    if (b->failed)
        return KC_ERR_NOMEM;
    if (n > b->cap || b->len > b->cap - n) {
        b->failed = true;
        return KC_ERR_NOMEM;
    }
    if (b->len + n + 1 > b->alloc) {
        size_t want = b->alloc ? b->alloc : 256;
        while (want < b->len + n + 1)
            want *= 2;
        char *p = realloc(b->data, want);
        if (!p) {
            b->failed = true;
            return KC_ERR_NOMEM;
        }
        b->data = p;
        b->alloc = want;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
    return KC_OK;
}

kc_status kc_buf_puts(kc_buf *b, const char *s)
{
    return kc_buf_append(b, s, strlen(s));
}

kc_status kc_buf_printf(kc_buf *b, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return KC_ERR_NOMEM;
    if ((size_t)n < sizeof small)
        return kc_buf_append(b, small, (size_t)n);
    char *big = malloc((size_t)n + 1);
    if (!big)
        return KC_ERR_NOMEM;
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    kc_status st = kc_buf_append(b, big, (size_t)n);
    free(big);
    return st;
}

// ---- suggestions -------------------------------------------------------------------------
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return (size_t)-1;
    size_t prev[65], cur[65];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            size_t best = prev[j - 1] + cost;
            if (prev[j] + 1 < best)
                best = prev[j] + 1;
            if (cur[j - 1] + 1 < best)
                best = cur[j - 1] + 1;
            cur[j] = best;
        }
        memcpy(prev, cur, (lb + 1) * sizeof prev[0]);
    }
    return prev[lb];
}

const char *kc__suggest(const char *word, const char *const *candidates, size_t n)
{
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    size_t len = strlen(word);
    size_t limit = len < 4 ? 1 : len / 3 + 1;
    for (size_t i = 0; i < n; i++) {
        size_t d = edit_distance(word, candidates[i]);
        if (d < best_d) {
            best_d = d;
            best = candidates[i];
        }
    }
    return best_d <= limit ? best : NULL;
}

// ---- formatting ----------------------------------------------------------------------------
void kc__fmt_money(char *out, size_t outsz, int64_t minor, int minor_unit)
{
    int64_t scale = 1;
    for (int i = 0; i < minor_unit; i++)
        scale *= 10;
    const char *sign = minor < 0 ? "-" : "";
    uint64_t m = minor < 0 ? (uint64_t)0 - (uint64_t)minor : (uint64_t)minor;
    if (minor_unit == 0)
        snprintf(out, outsz, "%s%llu", sign, (unsigned long long)m);
    else
        snprintf(out, outsz, "%s%llu.%0*llu", sign, (unsigned long long)(m / (uint64_t)scale),
                 minor_unit, (unsigned long long)(m % (uint64_t)scale));
}

static void fmt_scaled(char *out, size_t outsz, int64_t v, int decimals, const char *suffix)
{
    int64_t scale = 1;
    for (int i = 0; i < decimals; i++)
        scale *= 10;
    const char *sign = v < 0 ? "-" : "";
    uint64_t m = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    uint64_t whole = m / (uint64_t)scale, frac = m % (uint64_t)scale;
    if (frac == 0) {
        snprintf(out, outsz, "%s%llu%s", sign, (unsigned long long)whole, suffix);
        return;
    }
    int digits = decimals;
    while (frac % 10 == 0) {
        frac /= 10;
        digits--;
    }
    snprintf(out, outsz, "%s%llu.%0*llu%s", sign, (unsigned long long)whole, digits,
             (unsigned long long)frac, suffix);
}

void kc__fmt_percent(char *out, size_t outsz, int64_t bp)
{
    fmt_scaled(out, outsz, bp, 2, "%");
}

void kc__fmt_fixed4(char *out, size_t outsz, int64_t v)
{
    fmt_scaled(out, outsz, v, 4, "");
}

// Howard Hinnant's civil calendar algorithms (public domain descriptions).
int64_t kc__days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void kc__civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
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

void kc__fmt_date(char *out, size_t outsz, int64_t days)
{
    int64_t y;
    unsigned m, d;
    kc__civil_from_days(days, &y, &m, &d);
    snprintf(out, outsz, "%04lld-%02u-%02u", (long long)y, m, d);
}

void kc__sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, data, len);
    sodium_bin2hex(out, 65, h, sizeof h);
}
