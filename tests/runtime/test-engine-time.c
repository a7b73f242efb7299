// SPDX-License-Identifier: MIT
// test-engine-time.c: kr-time — local date, weekday and minute in IANA zones, and the TZif
// reader refusing bad input with a reason.
#include "kr-time.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int n_test, n_failed;

static void check(bool ok, const char *name)
{
    n_test++;
    printf("%s %d - %s\n", ok ? "ok" : "not ok", n_test, name);
    if (!ok)
        n_failed++;
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    unsigned char *buf = malloc(1 << 16);
    *len = buf ? fread(buf, 1, 1 << 16, f) : 0;
    fclose(f);
    return buf;
}

int main(void)
{
    char err[256];
    kr_time_zone *msk = kr_time_zone_load("Europe/Moscow", err, sizeof err);
    kr_time_zone *ber = kr_time_zone_load("Europe/Berlin", err, sizeof err);
    if (!msk || !ber) {
        printf("Bail out! %s\n", err);
        return 1;
    }
    int64_t days;
    int wd, minute;
    // 2026-04-15T09:00:00Z = 12:00 in Moscow, a Wednesday; 20558 days since 1970-01-01.
    kr_time_local(msk, INT64_C(1776243600), &days, &wd, &minute);
    check(days == 20558 && wd == 3 && minute == 720, "Moscow: 2026-04-15 Wed 12:00");
    // 2026-04-15T22:30:00Z = 01:30 the next day in Moscow (Thursday).
    kr_time_local(msk, INT64_C(1776292200), &days, &wd, &minute);
    check(days == 20559 && wd == 4 && minute == 90, "Moscow: past midnight is the next day");
    // Moscow was +4 in 2012 (before the 2014 change).
    check(kr_time_offset(msk, INT64_C(1341100800)) == 4 * 3600, "Moscow: +4 in July 2012");
    check(kr_time_offset(msk, INT64_C(4102444800)) == 3 * 3600, "Moscow: +3 in 2100 (footer)");
    // Berlin: +2 in July, +1 in January.
    check(kr_time_offset(ber, INT64_C(1783296000)) == 7200, "Berlin: summer time in July 2026");
    check(kr_time_offset(ber, INT64_C(1767225600)) == 3600, "Berlin: winter time in January 2026");
    // Before 1970: days are negative, weekday still right (1969-12-31 was a Wednesday).
    kr_time_local(msk, -INT64_C(86400) + 12 * 3600, &days, &wd, &minute);
    check(days == -1 && wd == 3, "Moscow: 1969-12-31 is day -1, a Wednesday");

    check(!kr_time_zone_load("../etc/passwd", err, sizeof err) && strstr(err, "not an IANA"),
          "a path is not a zone name");
    check(!kr_time_zone_load("Mars/Olympus", err, sizeof err) && strstr(err, "cannot read"),
          "an unknown zone names the file it could not read");
    size_t len;
    unsigned char *raw = slurp("/usr/share/zoneinfo/Europe/Berlin", &len);
    if (raw) {
        check(!kr_time_zone_parse(raw, 30, err, sizeof err), "a truncated header is refused");
        check(!kr_time_zone_parse(raw, len / 2, err, sizeof err) && strstr(err, "truncated"),
              "a truncated file is refused");
        raw[0] = 'X';
        check(!kr_time_zone_parse(raw, len, err, sizeof err) && strstr(err, "not a TZif"),
              "bad magic is refused");
        raw[0] = 'T';
        raw[4] = 0;
        check(!kr_time_zone_parse(raw, len, err, sizeof err) && strstr(err, "version 1"),
              "version 1 is refused");
        raw[4] = '2';
        kr_time_zone *z = kr_time_zone_parse(raw, len, err, sizeof err);
        check(z != NULL, "the intact file parses");
        kr_time_zone_free(z);
        // Every single-byte corruption either parses or is refused; none crashes (ASan).
        for (size_t i = 0; i < len; i += 7) {
            unsigned char keep = raw[i];
            raw[i] = (unsigned char)(keep ^ 0xA5);
            kr_time_zone_free(kr_time_zone_parse(raw, len, err, sizeof err));
            raw[i] = keep;
        }
        check(true, "corrupted files never crash the reader");
        free(raw);
    }
    kr_time_zone_free(msk);
    kr_time_zone_free(ber);
    printf("1..%d\n", n_test);
    return n_failed ? 1 : 0;
}
