// SPDX-License-Identifier: MIT
// kc-private.h: the compiler's internal types — the language table, the typed tree, the arena.
//
// The language is data: kc-lang.c describes every element (its attributes with their types,
// its children with their counts and canonical order). The loader, the formatter, the AST
// dump and the RELAX NG schema are all driven by that one table; the checker and the Lua
// emitter walk the typed tree it produces.
#ifndef KC_PRIVATE_H
#define KC_PRIVATE_H

#include "kc.h"

// ---- arena: every node and string of a program lives in one arena, freed at once ----------
typedef struct kc_arena_block kc_arena_block;
typedef struct kc_arena {
    kc_arena_block *head; // owned list of blocks
} kc_arena;

void *kc__arena_alloc(kc_arena *a, size_t n); // zeroed; NULL on out-of-memory
char *kc__arena_strndup(kc_arena *a, const char *s, size_t n);
void kc__arena_free(kc_arena *a);

// ---- value types -------------------------------------------------------------------------------
typedef enum kc_vtype {
    KC_V_TEXT,        // any text
    KC_V_ID,          // identifier: letters, digits, '-', '_', '.'; starts with a letter/digit
    KC_V_REF,         // one id of kind spec->arg (e.g. "segment")
    KC_V_REFS,        // space-separated ids of kind spec->arg
    KC_V_WORDS,       // space-separated free tokens (categories, SKUs, stores, regions ...)
    KC_V_INT,         // non-negative integer -> i
    KC_V_MONEY,       // "1234.50" with at most minor-unit decimals -> i (minor units)
    KC_V_PERCENT,     // "12.5%" with at most 2 decimals -> i (basis points: 1% = 100)
    KC_V_PERCENT_REF, // a percent, or "@table" -> i or s
    KC_V_FACTOR,      // "1.15" with at most 4 decimals -> i (x 10000)
    KC_V_FACTOR_REF,  // a factor, or "@table" -> i or s
    KC_V_AMOUNT,      // a number with at most 4 decimals -> i (x 10000); meaning from context
    KC_V_DATE,        // "2026-03-01" -> i (days since 1970-01-01)
    KC_V_HOURS,       // "10:00-14:00" -> i (start minute), j (end minute; may wrap midnight)
    KC_V_WEEKDAYS,    // "mon tue ..." -> i (bit 0 = Monday)
    KC_V_ENUM,        // one of spec->arg ("a|b|c") -> i (index), s
    KC_V_ENUMS,       // space-separated list of spec->arg values -> list, i (bit mask)
    KC_V_BOOL,        // "true" | "false" -> i
    KC_V_CURRENCY,    // ISO 4217 code, three capital letters
    KC_V_TIMEZONE,    // an IANA name such as "Europe/Moscow"
    KC_V_CELLS,       // decision-table row cells, "a | b..c | *" (parsed by the checker)
} kc_vtype;

enum {
    KC_A_REQUIRED = 1u << 0, // the attribute must be present
    KC_A_DECLARES = 1u << 1, // the attribute declares the element's id (in namespace elem->kind)
};

typedef struct kc_attr_spec {
    const char *name;
    kc_vtype type;
    unsigned flags;
    const char *arg; // enum values "a|b|c", or the kind a reference points at
    const char *def; // default value as written in XML, or NULL
    const char *doc; // one line for the reference documentation
} kc_attr_spec;

typedef enum kc_elem_id {
    KC_E_NONE = 0,
#define KC_ELEM(id, name) id,
#include "kc-elements.def"
#undef KC_ELEM
    KC_E_COUNT
} kc_elem_id;

typedef struct kc_child_spec {
    kc_elem_id elem;
    unsigned min, max; // max 0 = unbounded
    unsigned rank;     // canonical order: children sort by rank, ties keep document order
} kc_child_spec;

typedef struct kc_elem_spec {
    kc_elem_id id;
    const char *name;
    const char *kind;              // id namespace this element declares (NULL: none)
    const kc_attr_spec *attrs;     // terminated by {0}
    const kc_child_spec *children; // terminated by {0}
    bool text;                     // text content allowed
    const char *doc;
} kc_elem_spec;

const kc_elem_spec *kc__elem_spec(kc_elem_id id);
const kc_elem_spec *kc__elem_by_name(const char *name); // any element of the language
size_t kc__attr_count(const kc_elem_spec *e);

// ---- the typed tree -------------------------------------------------------------------------
typedef struct kc_value {
    int64_t i, j;
    const char *s;      // text, id, ref, enum name, "@table" target (without '@')
    const char **list;  // words/refs/enums
    size_t n;           // list length
    bool is_ref;        // for *_REF types: the value is "@table"
} kc_value;

typedef struct kc_attr {
    bool present;       // false: absent (a default, when the spec has one, is in v)
    bool defaulted;     // v holds the spec's default
    unsigned line, col; // of the attribute name
    unsigned vline, vcol; // of the value's first character
    const char *raw;    // as written (entity-decoded)
    kc_value v;
    // Templates (kc-template.c). In a template's body, a value written `{name}` is a
    // placeholder: `param` is "name" and the attribute is absent (not typed). In a promotion
    // expanded from a template, `param` names the parameter whose value it holds (the
    // positions are then those of the value in the instance).
    const char *param;
    bool inherited; // an instance's attribute taken from its template (not written there)
} kc_attr;

// One parameter value of a template instance: an attribute of `<promotion template=...>`
// that is not an attribute of `<promotion>`.
typedef struct kc_arg {
    const char *name, *raw;       // arena strings
    unsigned line, col, vline, vcol;
    const kc_attr_spec *spec;     // the type of its first use that it fits (NULL: none yet)
    kc_value v;                   // its value as that type (the formatter's canonical spelling)
} kc_arg;

typedef struct kc_node kc_node;
struct kc_node {
    const kc_elem_spec *spec; // NULL for a comment
    unsigned line, col;       // of '<'
    kc_attr *attrs;           // spec attribute count entries, indexed like spec->attrs
    kc_node *parent;
    kc_node *first, *last; // children (elements and comments) in canonical order
    kc_node *next;
    const char *text;      // text content, trimmed; or the comment's text
    unsigned doc_index;    // position in document order (stable sorting)
    // Templates (kc-template.c). A promotion with `template` is an instance: after loading,
    // first..last is its expansion (copies of the template's body with the parameters filled
    // in, and its own children in place of the template's of the same element), which the
    // checks and the emitter see; `written` is the list of children as written, which the
    // formatter prints. `args` are its parameter values, `tmpl` the template (borrowed).
    kc_arg *args;
    unsigned nargs;
    kc_node *written;
    const kc_node *tmpl;
    const kc_node *copy_of; // a node of an expansion: the template's node it copies
};

struct kc_program {
    kc_arena arena;
    const char *file;   // owned by the arena
    char *source;       // owned copy of the text
    size_t source_len;
    kc_node *root;      // NULL when the root could not be typed
    int minor_unit;     // from the root's minor-unit attribute (default 2)
};

// Attribute access by name (asserts the name exists in the element's spec).
const kc_attr *kc__attr(const kc_node *n, const char *name);
bool kc__has(const kc_node *n, const char *name);
int64_t kc__int(const kc_node *n, const char *name); // 0 when absent without default
const char *kc__str(const kc_node *n, const char *name); // NULL when absent without default
// Children iteration: first child of element kind `id` after `after` (NULL: from start).
kc_node *kc__child(const kc_node *n, kc_elem_id id, const kc_node *after);
static inline bool kc__is(const kc_node *n, kc_elem_id id)
{
    return n && n->spec && n->spec->id == id;
}

// ---- helpers shared by stages --------------------------------------------------------------
// Levenshtein-based suggestion among `candidates` (NULL-terminated); NULL if nothing is close.
const char *kc__suggest(const char *word, const char *const *candidates, size_t n);
// Formats money in minor units with the program's minor unit ("1234.50").
void kc__fmt_money(char *out, size_t outsz, int64_t minor, int minor_unit);
// Formats basis points as a percent ("12.5%").
void kc__fmt_percent(char *out, size_t outsz, int64_t bp);
// Formats a x10000 fixed-point number ("1.15").
void kc__fmt_fixed4(char *out, size_t outsz, int64_t v);
// Formats days since 1970-01-01 as YYYY-MM-DD.
void kc__fmt_date(char *out, size_t outsz, int64_t days);
int64_t kc__days_from_civil(int64_t y, unsigned m, unsigned d);
void kc__civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);
// Parses one attribute value; on failure returns false and writes an explanation and hint.
bool kc__parse_value(const kc_attr_spec *spec, const char *raw, int minor_unit, kc_arena *a,
                     kc_value *out, char *why, size_t whysz, char *hint, size_t hintsz);

// Expands every template instance of the loaded tree (kc-template.c): fills in parameter
// values, reports unknown, unset and mistyped parameters. Called once by the loader.
void kc__expand_templates(kc_program *p, kc_diags *d);
// A template placeholder `{name}`: the name's length (0 when `raw` is not a placeholder).
size_t kc__placeholder(const char *raw);

// SHA-256 of a buffer as lowercase hex.
void kc__sha256_hex(const void *data, size_t len, char out[65]);

#endif
