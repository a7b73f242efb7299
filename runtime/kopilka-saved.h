// SPDX-License-Identifier: MIT
// kopilka-saved.h: values a scenario saves from one step's answer and uses in later steps
// (docs/formats.md "Scenario files", "Saved values"). Pure functions over JSON: nothing is read
// or written elsewhere, so they are unit-tested on their own (tests/runtime/test-saved.c).
//
//   "save": {"card": "cards[0]"}   after the step, the answer's cards[0] is saved as `card`
//   "${card}"                      in any string of a later step: the saved value
//
// A path is a chain of object keys and array indexes: `cards[0]`, `entries[1].payload.code`,
// `codes[-1]` (negative indexes count from the end: -1 is the last element). Keys are letters,
// digits, `_` and `-`. A string that is exactly "${name}" becomes the saved value itself (a
// number stays a number, an object an object); inside a longer string ("CARD-${n}") the value
// must be a string, a whole number or a boolean. Names are letters, digits, `_` and `-`.
#ifndef KOPILKA_SAVED_H
#define KOPILKA_SAVED_H

#include "kr-buf.h"

#include <jansson.h>
#include <stdbool.h>

// True when `name` can be saved under (1..64 characters of letters, digits, '_', '-').
bool kp_saved_name_ok(const char *name);

// The value at `path` in `root` (borrowed from root), or NULL with one line of why appended to
// `why` ("cards[3]: the array has 2 elements"). A malformed path is reported the same way.
const json_t *kp_saved_lookup(const json_t *root, const char *path, kr_buf *why);

// Checks the syntax of `path` alone; false with why appended.
bool kp_saved_path_ok(const char *path, kr_buf *why);

// A new copy of `v` (the caller owns it) with every ${name} in its strings replaced from
// `saved` (an object name -> value). On an unknown name, an unterminated "${" or a value that
// cannot stand inside text, returns NULL and appends "PATH: why" to `why`, PATH being the JSON
// path of the string below `path` (e.g. "steps[3].confirm.customer.card").
json_t *kp_saved_expand(const json_t *saved, const json_t *v, const char *path, kr_buf *why);

#endif
