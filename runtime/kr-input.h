// SPDX-License-Identifier: MIT
// kr-input.h: readers of outside input — JSON fields (over jansson) and CSV records — that
// turn bad input into one clear error naming the line, the column or the JSON field.
//
// Table of contents
//   kr_input_error   where and what: "receipts.jsonl:3: lines[1].price: money is ..."
//   kr_json_*        typed field access with a field path, unknown-field rejection
//   kr_parse_*       money, RFC 3339 times and dates from text
//   kr_csv_*         an RFC 4180 reader with a header, line and column numbers
//
// Nothing here allocates except the CSV reader's field buffer (owned by the reader) and
// jansson's own values (owned by the caller, as jansson documents).
#ifndef KR_INPUT_H
#define KR_INPUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum kr_input_status {
    KR_INPUT_OK = 0,
    KR_INPUT_END,     // no more records
    KR_INPUT_INVALID, // bad input; the error says where and why
    KR_INPUT_NOMEM,
} kr_input_status;

// The first problem found in a piece of input. `line`/`column` are 1-based (0: unknown);
// `field` is a JSON path such as "lines[1].price" or a CSV column name ("" if none).
typedef struct kr_input_error {
    unsigned line, column;
    char field[128];
    char message[256];
} kr_input_error;

// Writes "SOURCE:LINE:COL: FIELD: MESSAGE" (parts that are unknown are left out).
void kr_input_error_format(const kr_input_error *e, const char *source, char *out, size_t outsz);

// ---- text values ---------------------------------------------------------------------------
// Money as decimal text ("1500", "1500.5", "1500.50") with at most `minor_unit` decimals,
// into minor units. Negative amounts only when `allow_negative`. Returns false with a reason.
bool kr_parse_money(const char *s, int minor_unit, bool allow_negative, int64_t *out,
                    char *why, size_t whysz);
// RFC 3339 date-time ("2026-11-22T14:05:00+03:00", "...Z", fractional seconds ignored) into
// Unix seconds. A time without an offset is refused (ambiguous across time zones).
bool kr_parse_time(const char *s, int64_t *unix_seconds, char *why, size_t whysz);
// "YYYY-MM-DD" into days since 1970-01-01, refusing dates that cannot happen.
bool kr_parse_date(const char *s, int64_t *days, char *why, size_t whysz);
int64_t kr_days_from_civil(int64_t y, unsigned m, unsigned d);
void kr_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);

// ---- JSON ----------------------------------------------------------------------------------
// A cursor into a JSON object with the path that leads to it, for error messages.
typedef struct kr_json_obj {
    const json_t *obj;  // borrowed
    char path[128];     // "" for the top level, else "lines[2]" ...
    kr_input_error *err; // borrowed; receives the first error
} kr_json_obj;

// Parses one JSON text (one line of JSON Lines, or a whole file). On a syntax error fills
// `err` (line/column inside the text, offset by `line_base`) and returns NULL.
json_t *kr_json_parse(const char *text, size_t len, unsigned line_base, kr_input_error *err);
// Checks that the object is an object whose keys are all in `allowed` (NULL-terminated);
// names the first unknown key, with a suggestion when one is close.
bool kr_json_expect_object(kr_json_obj *o, const char *const *allowed);
// Typed getters. `required`: a missing key is an error; otherwise *out is left untouched and
// true is returned. Each failure names the field.
bool kr_json_string(kr_json_obj *o, const char *key, bool required, const char **out);
bool kr_json_int(kr_json_obj *o, const char *key, bool required, int64_t min, int64_t max,
                 int64_t *out);
bool kr_json_bool(kr_json_obj *o, const char *key, bool required, bool *out);
bool kr_json_money(kr_json_obj *o, const char *key, bool required, int minor_unit,
                   bool allow_negative, int64_t *out);
bool kr_json_time(kr_json_obj *o, const char *key, bool required, int64_t *out);
bool kr_json_date(kr_json_obj *o, const char *key, bool required, int64_t *out);
// The array at `key` (NULL and true when absent and not required).
bool kr_json_array(kr_json_obj *o, const char *key, bool required, const json_t **out);
// A cursor to the object at `key`; or, when `array` is not NULL, to element `index` of that
// array, which is the value of field `key` (named in the path as "key[index]").
bool kr_json_child(kr_json_obj *o, const char *key, const json_t *array, size_t index,
                   bool required, kr_json_obj *child, bool *present);
// Records an error about `key` of the object (for checks the getters cannot make).
bool kr_json_fail(kr_json_obj *o, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

// ---- CSV -----------------------------------------------------------------------------------
// Reads RFC 4180 CSV from memory: comma separated, fields optionally in double quotes with ""
// for a quote, CRLF or LF line ends, a UTF-8 BOM skipped, quoted fields may span lines. The
// first record is the header. Records with a different number of fields than the header are
// refused. A field is at most KR_CSV_MAX_FIELD bytes, a record at most KR_CSV_MAX_FIELDS.
#define KR_CSV_MAX_FIELD 4096
#define KR_CSV_MAX_FIELDS 64

typedef struct kr_csv {
    const char *p, *end; // borrowed input
    unsigned line;       // line of the next character
    unsigned col;
    size_t ncols;        // header width
    char *header[KR_CSV_MAX_FIELDS]; // owned copies
    char *fields[KR_CSV_MAX_FIELDS]; // point into buf after kr_csv_next
    size_t nfields;
    unsigned record_line; // line where the current record started
    char *buf;            // owned storage of the current record
    size_t buflen, bufcap;
} kr_csv;

// Reads the header. `required` (NULL-terminated) columns must be present; every header must be
// in `known` (NULL-terminated) unless `known` is NULL. Errors name the column.
kr_input_status kr_csv_open(kr_csv *c, const char *data, size_t len, const char *const *required,
                            const char *const *known, kr_input_error *err);
// Reads the next record into c->fields (c->nfields == c->ncols). KR_INPUT_END at the end.
kr_input_status kr_csv_next(kr_csv *c, kr_input_error *err);
// The field of the current record in column `name`, or NULL when the header has no such column.
const char *kr_csv_field(const kr_csv *c, const char *name);
void kr_csv_close(kr_csv *c);

#endif
