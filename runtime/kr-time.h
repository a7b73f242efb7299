// SPDX-License-Identifier: MIT
// kr-time.h: Unix seconds -> local day, weekday and minute in an IANA time zone, thread-safe.
//
// A zone is read once from the system's compiled tz database (TZif files under
// /usr/share/zoneinfo, or $TZDIR) into an immutable table of offsets; lookups are a binary
// search and touch no global state (no TZ, no tzset, no localtime), so any number of threads
// may share one zone. Times after the file's last transition use the footer's rule when it is
// a fixed offset (Europe/Moscow: "MSK-3"), else the last transition's offset (Debian's "fat"
// files list transitions up to 2037).
#ifndef KR_TIME_H
#define KR_TIME_H

#include <stddef.h>
#include <stdint.h>

typedef struct kr_time_zone kr_time_zone;

// Loads zone `name` ("Europe/Moscow", "UTC"). NULL on failure, with a reason in `err`.
kr_time_zone *kr_time_zone_load(const char *name, char *err, size_t errsz);
// Parses TZif bytes (versions 2 and later; the 64-bit block is used). NULL with a reason when
// the bytes are not a well-formed TZif file. Exposed for tests and fuzzing.
kr_time_zone *kr_time_zone_parse(const unsigned char *data, size_t len, char *err, size_t errsz);
void kr_time_zone_free(kr_time_zone *z); // NULL is fine

// Offset from UTC in seconds at `t`.
int32_t kr_time_offset(const kr_time_zone *z, int64_t t);
// Local calendar facts at `t`: days since 1970-01-01 (local), weekday 1=Mon..7=Sun, minute of
// the day 0..1439.
void kr_time_local(const kr_time_zone *z, int64_t t, int64_t *days, int *weekday, int *minute);

#endif
