// SPDX-License-Identifier: MIT
// kr-buf.h: a growable text buffer with a hard cap, for JSON answers and reports.
#ifndef KR_BUF_H
#define KR_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KR_BUF_DEFAULT_CAP (64u * 1024u * 1024u)

// `data` is always NUL-terminated once anything was appended. Appending past `cap` (0 means
// KR_BUF_DEFAULT_CAP) fails, sets `failed` and leaves the content as it was; later appends
// are ignored, so a caller may append freely and check `failed` once at the end.
typedef struct kr_buf {
    char *data; // owned
    size_t len, alloc, cap;
    bool failed;
} kr_buf;

void kr_buf_init(kr_buf *b, size_t cap);
void kr_buf_free(kr_buf *b);
void kr_buf_reset(kr_buf *b); // len 0, keeps the memory
bool kr_buf_append(kr_buf *b, const char *s, size_t n);
// Makes room for at least `n` bytes of content (plus the NUL) without changing the content.
bool kr_buf_reserve(kr_buf *b, size_t n);
bool kr_buf_puts(kr_buf *b, const char *s);
bool kr_buf_printf(kr_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
// Appends `s` as a JSON string literal (quotes, escapes; invalid UTF-8 bytes become U+FFFD).
bool kr_buf_json_string(kr_buf *b, const char *s);
// As kr_buf_json_string, or `null` when `s` is NULL.
bool kr_buf_json_string_or_null(kr_buf *b, const char *s);
// Appends money in minor units as a JSON string "1234.50".
bool kr_buf_json_money(kr_buf *b, int64_t minor, int minor_unit);
// Appends a Unix time as an RFC 3339 UTC string "2026-11-22T11:05:00Z".
bool kr_buf_json_time(kr_buf *b, int64_t t);

#endif
