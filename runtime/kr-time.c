// SPDX-License-Identifier: MIT
// kr-time.c: a TZif reader (RFC 8536) and local-time lookups over its transition table.
#include "kr-time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct kr_time_zone {
    int64_t *at;      // transition times, ascending
    int32_t *offset;  // offset in force from at[i]
    size_t n;
    int32_t before;   // offset before the first transition
    int32_t after;    // offset after the last one (footer or last transition)
};

enum { TZ_MAX_FILE = 1 << 20 };

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static int64_t be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

// A footer "STD[+-]h[:mm[:ss]]" without a DST part: its offset (POSIX signs are reversed).
static int footer_fixed(const char *s, const char *end, int32_t *off)
{
    if (s < end && *s == '<') {
        while (s < end && *s != '>')
            s++;
        if (s == end)
            return 0;
        s++;
    } else {
        while (s < end && ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z')))
            s++;
    }
    int sign = 1;
    if (s < end && (*s == '+' || *s == '-'))
        sign = *s++ == '-' ? -1 : 1;
    int32_t parts[3] = {0, 0, 0};
    int np = 0;
    while (np < 3 && s < end && *s >= '0' && *s <= '9') {
        int32_t v = 0;
        int digits = 0;
        while (s < end && *s >= '0' && *s <= '9' && digits < 3) {
            v = v * 10 + (*s++ - '0');
            digits++;
        }
        parts[np++] = v;
        if (s < end && *s == ':')
            s++;
        else
            break;
    }
    if (np == 0 || s != end || parts[0] > 24 || parts[1] > 59 || parts[2] > 59)
        return 0; // a DST rule follows, or something this reader does not know
    *off = -sign * (parts[0] * 3600 + parts[1] * 60 + parts[2]);
    return 1;
}

#define FAIL(...)                                                                              \
    do {                                                                                       \
        snprintf(err, errsz, __VA_ARGS__);                                                     \
        goto fail;                                                                             \
    } while (0)

kr_time_zone *kr_time_zone_parse(const unsigned char *d, size_t len, char *err, size_t errsz)
{
    kr_time_zone *z = calloc(1, sizeof *z);
    if (!z) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    if (len < 44 || memcmp(d, "TZif", 4) != 0)
        FAIL("not a TZif file");
    if (d[4] < '2')
        FAIL("TZif version 1 is not supported");
    // Skip the version 1 block (32-bit times).
    size_t c[6];
    for (int i = 0; i < 6; i++)
        c[i] = be32(d + 20 + 4 * i); // isut, isstd, leap, time, type, char
    size_t v1 = c[3] * 5 + c[4] * 6 + c[5] + c[2] * 8 + c[1] + c[0];
    if (v1 > len - 44 || len - 44 - v1 < 44)
        FAIL("TZif file is truncated");
    const unsigned char *h = d + 44 + v1;
    if (memcmp(h, "TZif", 4) != 0)
        FAIL("TZif second header is missing");
    for (int i = 0; i < 6; i++)
        c[i] = be32(h + 20 + 4 * i);
    size_t timecnt = c[3], typecnt = c[4];
    if (typecnt == 0 || typecnt > 256 || timecnt > 100000 || c[5] > 100000 || c[2] > 100000 ||
        (c[1] != 0 && c[1] != typecnt) || (c[0] != 0 && c[0] != typecnt))
        FAIL("TZif counts are out of range");
    size_t v2 = timecnt * 9 + typecnt * 6 + c[5] + c[2] * 12 + c[1] + c[0];
    const unsigned char *p = h + 44;
    if (v2 > (size_t)(d + len - p))
        FAIL("TZif 64-bit block is truncated");
    const unsigned char *times = p, *idx = p + timecnt * 8, *types = idx + timecnt;
    z->n = timecnt;
    z->at = malloc((timecnt ? timecnt : 1) * sizeof *z->at);
    z->offset = malloc((timecnt ? timecnt : 1) * sizeof *z->offset);
    if (!z->at || !z->offset)
        FAIL("out of memory");
    for (size_t i = 0; i < timecnt; i++) {
        z->at[i] = be64(times + 8 * i);
        if (i > 0 && z->at[i] <= z->at[i - 1])
            FAIL("TZif transitions are not ascending");
        if (idx[i] >= typecnt)
            FAIL("TZif transition names a missing type");
        int32_t off = (int32_t)be32(types + 6 * idx[i]);
        if (off < -26 * 3600 || off > 26 * 3600)
            FAIL("TZif offset is out of range");
        z->offset[i] = off;
    }
    z->before = (int32_t)be32(types);
    if (z->before < -26 * 3600 || z->before > 26 * 3600)
        FAIL("TZif offset is out of range");
    z->after = timecnt ? z->offset[timecnt - 1] : z->before;
    // Footer: "\nTZ\n" after the block.
    const char *f = (const char *)(p + v2), *fend = (const char *)(d + len);
    if (f < fend && *f == '\n') {
        const char *nl = memchr(f + 1, '\n', (size_t)(fend - f - 1));
        int32_t off;
        if (nl && footer_fixed(f + 1, nl, &off))
            z->after = off;
    }
    return z;
fail:
    kr_time_zone_free(z);
    return NULL;
}

kr_time_zone *kr_time_zone_load(const char *name, char *err, size_t errsz)
{
    if (!name || !*name || name[0] == '/' || strstr(name, "..") || strlen(name) > 200) {
        snprintf(err, errsz, "time zone \"%s\" is not an IANA name", name ? name : "");
        return NULL;
    }
    for (const char *s = name; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '/' || *s == '_' || *s == '-' || *s == '+')) {
            snprintf(err, errsz, "time zone \"%s\" is not an IANA name", name);
            return NULL;
        }
    const char *dir = getenv("TZDIR");
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", name);
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        snprintf(err, errsz, "time zone \"%s\": cannot read %s", name, path);
        return NULL;
    }
    unsigned char *buf = malloc(TZ_MAX_FILE);
    size_t len = buf ? fread(buf, 1, TZ_MAX_FILE, fp) : 0;
    fclose(fp);
    if (!buf) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    char why[200];
    kr_time_zone *z = kr_time_zone_parse(buf, len, why, sizeof why);
    free(buf);
    if (!z)
        snprintf(err, errsz, "time zone \"%s\": %s", name, why);
    return z;
}

void kr_time_zone_free(kr_time_zone *z)
{
    if (!z)
        return;
    free(z->at);
    free(z->offset);
    free(z);
}

int32_t kr_time_offset(const kr_time_zone *z, int64_t t)
{
    if (z->n == 0 || t < z->at[0])
        return z->n == 0 ? z->after : z->before;
    if (t >= z->at[z->n - 1])
        return z->after;
    size_t lo = 0, hi = z->n - 1; // at[lo] <= t < at[hi]
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (z->at[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    return z->offset[lo];
}

void kr_time_local(const kr_time_zone *z, int64_t t, int64_t *days, int *weekday, int *minute)
{
    int64_t local = t + kr_time_offset(z, t);
    int64_t d = local / 86400;
    if (local % 86400 < 0)
        d--;
    *days = d;
    *minute = (int)((local - d * 86400) / 60);
    *weekday = (int)(((d % 7) + 7 + 3) % 7) + 1; // 1970-01-01 was a Thursday
}
