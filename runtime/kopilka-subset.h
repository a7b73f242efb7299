// SPDX-License-Identifier: MIT
// kopilka-subset.h: compares an expected JSON value with an actual one as a SUBSET — the rule
// behind every `"expect"` of a scenario (docs/formats.md "Scenario files").
//
// Rules (a pure function of the two values; nothing is read or written elsewhere):
//   - an object expects an object holding at least its keys, each compared by these rules;
//     keys the expectation does not name are ignored;
//   - an array expects an array of the same length, compared element by element (write {}
//     for an element whose content does not matter);
//   - null expects the key to be absent or null;
//   - strings, booleans and integers must be equal (money is a string: "1500.00" is not
//     "1500"); a real number equals any number of the same value.
#ifndef KOPILKA_SUBSET_H
#define KOPILKA_SUBSET_H

#include "kr-buf.h"

#include <jansson.h>
#include <stddef.h>

// At most this many differences are written out; the count returned includes the rest.
#define KP_SUBSET_MAX_LINES 50

// Compares `expected` with `actual` (NULL: absent). Appends one line per difference to `out`,
// "PATH: expected X, got Y\n" with PATH a JSON path below `path` ("" or NULL for the top:
// `lines[1].final`, `result.total_final`, `(top)` for the value itself) and X, Y compact JSON
// (long values shortened, "nothing" for an absent key). Returns how many differences there
// were: 0 means `actual` satisfies `expected`.
size_t kp_subset_diff(const json_t *expected, const json_t *actual, const char *path,
                      kr_buf *out);

#endif
