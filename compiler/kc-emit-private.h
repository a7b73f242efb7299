// SPDX-License-Identifier: MIT
// kc-emit-private.h: shared state and helpers of the Lua emitter (kc-emit*.c).
//
// The emitter writes one Lua 5.4 chunk (docs/internals/program-abi.md). Program-wide data
// goes straight to the output; everything that needs constants and helper functions (a
// decision table, the accrual, a promotion) is written as a `do ... end` block with three
// parts, so that a large program never reaches Lua's limit of 200 locals per function:
//   consts  `local SET_n = {...}` sets (deduplicated inside the block)
//   locals  selectors `sel_n`, condition helpers `cond_n`, totals of selected lines
//           `total_n`, table handles `tbl_n`
//   body    the block's main functions and the assignment into P
// Names (SET_n, sel_n, cond_n, total_n, tbl_n) are numbered across the whole chunk, so every name is
// unique and a reader can grep for it.
#ifndef KC_EMIT_PRIVATE_H
#define KC_EMIT_PRIVATE_H

#include "kc-private.h"

// Helpers the chunk defines at its top only when some block used them.
enum {
    KC_H_SCALE_BP = 1u << 0,    // scale_bp(bp, factor): percent times a factor, half-up
    KC_H_SCALE_MONEY = 1u << 1, // scale_money(amount, factor): money times a factor
    KC_H_NO_TABLE = 1u << 2,    // no_table(): stands in for a table the program lacks
    KC_H_NO_EFFECTS = 1u << 3,  // NO_EFFECTS: the empty array an `effects` gives nothing with
};

typedef struct kc_emit_memo {
    char *key;  // owned: the generated text (set contents or selector expression)
    unsigned id;
} kc_emit_memo;

typedef struct kc_emit {
    const kc_program *p;
    const char *src; // file name written into comments and `src` fields
    kc_buf *out;     // the chunk after the helper section
    unsigned helpers;
    unsigned next_id; // numbering of SET_n, sel_n, cond_n, tbl_n
    unsigned effect_sites; // places in the current `effects` that add an effect (KC_EFFECT_AT)
    bool effect_at_top;    // one of them is a statement of the function itself (a message)
    // the current block
    kc_buf consts, locals, body;
    kc_emit_memo *memo;
    size_t nmemo, amemo;
    bool failed; // out of memory somewhere
} kc_emit;

// ---- blocks --------------------------------------------------------------------------------
// The exclusive group an <agreements policy="best"> makes of the agreement and the line
// promotions without a group of their own.
#define KC_AGREEMENT_GROUP "agreement-or-program"

// In the body of an `effects` function an effect is added as `KC_EFFECT_AT { ... }
// KC_EFFECT_END` (KC_EFFECT_CONST_AT when the table is the same on every receipt); the
// promotion writer makes it `out[#out + 1] = { ... }`, or, when the function has one such
// place, `return { { ... } }` (no `out` table for the usual promotion of one effect), or for a
// constant one `return EFFECTS`, a block local made once. These bytes never occur in generated
// text (kc__lua_str escapes them).
#define KC_EFFECT_AT       "\x01"
#define KC_EFFECT_END      "\x02"
#define KC_EFFECT_CONST_AT "\x03"

void kc__emit_block_begin(kc_emit *e);
// Writes `-- <comment>\ndo\n<consts><locals><body>end\n\n` to e->out and resets the block.
void kc__emit_block_end(kc_emit *e, const char *comment);

// ---- Lua text ------------------------------------------------------------------------------
// A Lua string literal (double quotes; escapes quotes, backslashes and control bytes).
void kc__lua_str(kc_buf *b, const char *s);
// Text safe inside a `--` comment: control characters become spaces.
void kc__lua_comment(kc_buf *b, const char *s);
// `src = "file:line"`.
void kc__lua_src(kc_emit *e, kc_buf *b, unsigned line);
// `"file:line"` into a plain C buffer, for comments.
void kc__src_text(kc_emit *e, char *out, size_t outsz, unsigned line);
// A table key: `name` when it is a Lua identifier, else `["name"]`.
void kc__lua_key(kc_buf *b, const char *s);
// `{ "a", "b" }` from a list value.
void kc__lua_list(kc_buf *b, const kc_value *v);
// `{ ["a"] = true, ["b"] = true }` from a list value.
void kc__lua_set_literal(kc_buf *b, const kc_value *v);
// The Lua value of an attribute by its type (integers, strings, lists, booleans); NULL-safe:
// writes `nil` when the attribute is absent and has no default.
void kc__lua_attr_value(kc_emit *e, kc_buf *b, const kc_attr_spec *spec, const kc_attr *a);
// `name_with_underscores = value, ` for every present or defaulted attribute (skipping the
// names in `skip`, NULL-terminated).
void kc__lua_all_attrs(kc_emit *e, kc_buf *b, const kc_node *n, const char *const *skip);

// ---- attributes ------------------------------------------------------------------------------
// The attribute when it is written or has a default, else NULL.
const kc_attr *kc__emit_attr(const kc_node *n, const char *name);
// The attribute only when it is written in the file.
const kc_attr *kc__emit_written(const kc_node *n, const char *name);
const char *kc__emit_id(const kc_node *n); // the `id` attribute or "?"

// ---- generated names -------------------------------------------------------------------------
// A set constant of the current block for a list of words: returns its number (SET_n).
unsigned kc__emit_set(kc_emit *e, const char *const *words, size_t n);
// `<expr> == "w"` for one word, `SET_n[<expr>] ~= nil` for several.
void kc__emit_in(kc_emit *e, kc_buf *b, const char *expr, const kc_value *v, bool negate);
// The selector of an element with SELECTOR_ATTRS as a local function of the block: returns
// its number (sel_n), or 0 when the element selects every line.
unsigned kc__emit_selector(kc_emit *e, const kc_node *n);
// The selector of an element (its attributes named `prefix` + selector name) as a Lua
// expression over the line `l`, written into b for a loop to test inline (no call per line);
// false (nothing written) when it selects every line.
bool kc__emit_selector_inline(kc_emit *e, kc_buf *b, const kc_node *n, const char *prefix);
// The same for attributes named `prefix` + selector name: "discount-" gives a tier's
// `discount-exclude-*`; selector attributes the element lacks are skipped.
unsigned kc__emit_selector_prefixed(kc_emit *e, const kc_node *n, const char *prefix);
// A block-local `total_n(ctx)`: the sum of `field` ("amount" or "current") over the lines
// n's selector matches; returns n, or 0 when n selects every line (use ctx.total then).
unsigned kc__emit_total_helper(kc_emit *e, const kc_node *n, const char *field);
// Describes a selector in words ("category taps or mixers, not brand X"); empty: every line.
void kc__describe_selector(kc_buf *b, const kc_node *n);
void kc__describe_selector_prefixed(kc_buf *b, const kc_node *n, const char *prefix);
// A handle `tbl_n` on P.tables[id] in the current block (a stand-in when the table is
// missing); returns n.
unsigned kc__emit_table_ref(kc_emit *e, const char *id);
// The table element with this id, or NULL.
const kc_node *kc__find_table(const kc_program *p, const char *id);

// `    template_src = "file:line",` for a promotion built from a template (its `template`
// field, the template's id, is one of its attributes); nothing for any other promotion.
void kc__emit_template_src(kc_emit *e, kc_buf *b, const kc_node *n);

// `cu ~= nil and (cu.<field>["a"] ~= nil or ...)`: the customer's set holds one of the words.
void kc__emit_cu_set(kc_buf *b, const char *field, const kc_value *v);

// Whitespace-separated words of s[0..len) in an owned copy (free with kc__emit_words_free);
// false when out of memory (then n = 0).
typedef struct kc_emit_words {
    char *buf;
    char **list;
    size_t n;
} kc_emit_words;
bool kc__emit_split(const char *s, size_t len, kc_emit_words *w);
void kc__emit_words_free(kc_emit_words *w);

// ---- words -----------------------------------------------------------------------------------
// "a", "a or b", "a, b or c" (conj = "or" / "and").
void kc__words(kc_buf *b, const char *const *w, size_t n, const char *conj);

// ---- conditions (kc-emit-conditions.c) ---------------------------------------------------------
typedef enum cwhat {
    C_FROM, C_TO, C_DAYS, C_HOURS, C_CHANNELS, C_STORES, C_REGIONS, C_MEMBERS, C_SEGMENTS,
    C_TIERS, C_LISTS, C_FIRST, C_BIRTHDAY, C_REGISTERED, C_TOTAL, C_LINES, C_CODE, C_CUSTOMER,
    C_ALL, C_ANY, C_TIER_HAS,
} cwhat;

typedef struct cond {
    cwhat what;
    const kc_node *n;
    const kc_attr *a; // attribute-level conditions
    unsigned line;
    int parent; // index of the enclosing group, -1 at top level
    unsigned helper; // cond_n for `lines`, total_n for a `total` with a line selector
} cond;

typedef struct conds {
    cond *v;
    size_t n, alloc;
    bool failed;
} conds;

// Appends a condition; returns its index, or -1 (and sets cs->failed) when out of memory.
int kc__cond_add(conds *cs, cwhat w, const kc_node *n, const kc_attr *a, int parent);
// Collects the conditions of a promotion in their fixed order.
void kc__cond_collect(conds *cs, const kc_node *promotion);
// Writes the `lines` helpers (block locals) and `local function check(ctx)` (block body).
void kc__emit_check(kc_emit *e, conds *cs);
// Writes `conditions = { { src, text }, ... },` into b.
void kc__emit_conditions_list(kc_emit *e, kc_buf *b, const conds *cs);

// ---- sections --------------------------------------------------------------------------------
// Parses a table output value (`then`, `default`) by the table's output type.
bool kc__emit_parse_output(const kc_node *table, const char *s, int minor_unit, int64_t *out);
void kc__emit_data(kc_emit *e);       // kc-emit-data.c
void kc__emit_tables(kc_emit *e);     // kc-emit-tables.c
void kc__emit_accrual(kc_emit *e);    // kc-emit-tables.c
void kc__emit_redemption(kc_emit *e); // kc-emit-tables.c
void kc__emit_promotions(kc_emit *e); // kc-emit-promotions.c

// Percent times factor, rounded half-up (both non-negative): what scale_bp computes.
static inline int64_t kc__scale_bp(int64_t bp, int64_t f)
{
    return (bp * f + 5000) / 10000;
}

#endif
