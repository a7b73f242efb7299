// SPDX-License-Identifier: MIT
// kc-check-private.h: what the semantic checks (kc-check*.c) share — the id table, positions
// inside attribute values, reference resolution and the diagnostic helper.
#ifndef KC_CHECK_PRIVATE_H
#define KC_CHECK_PRIVATE_H

#include "kc-private.h"

// One declared id: the element that declares it and its kind ("segment", "tier" ...).
typedef struct ck_sym {
    const char *id;
    const char *kind;
    const kc_node *node;
    const kc_attr *attr; // the declaring attribute
} ck_sym;

typedef struct kc_ck {
    kc_program *p;
    kc_diags *d;
    ck_sym *syms; // first declaration of every id, in document order (owned)
    size_t nsyms;
    const kc_node **nodes; // every element, in document order (owned)
    size_t nnodes;
    unsigned *table_uses; // per symbol: references as `@table`
} kc_ck;

void ck_diag(kc_ck *c, kc_severity sev, const char *code, unsigned line, unsigned col,
             const char *hint, const char *fmt, ...) __attribute__((format(printf, 7, 8)));

// The attribute was written in the file (even if its value failed to parse).
bool ck_written(const kc_node *n, const char *name);
// The attribute has a usable value (present, not a failed parse).
bool ck_present(const kc_node *n, const char *name);
// Source position of byte `off` of the attribute's raw (decoded) value.
void ck_pos(const kc_ck *c, const kc_attr *a, size_t off, unsigned *line, unsigned *col);
// Byte offset in `a->raw` of the `k`-th whitespace-separated word (0 when not found).
size_t ck_word_off(const kc_attr *a, size_t k);

// A load diagnostic with one of `codes` (NULL-terminated) lies within n's lines: a check
// about something missing would only repeat it (a misspelt attribute, an unknown element).
bool ck_load_error_in(const kc_ck *c, const kc_node *n, const char *const *codes);

const ck_sym *ck_find(const kc_ck *c, const char *id);
// Resolves a reference to an id of `kind`, reporting E-ref-undefined / E-ref-kind at
// (line, col). Returns the symbol when it is of the right kind.
const ck_sym *ck_ref(kc_ck *c, const char *id, const char *kind, unsigned line, unsigned col);
// A hint naming ids of `kind` close to `word` (or listing them); written to `out`.
void ck_kind_hint(const kc_ck *c, const char *word, const char *kind, char *out, size_t outsz);

// Formats a percent / money / date into a small buffer (for messages).
const char *ck_money(const kc_ck *c, int64_t minor, char buf[48]);
const char *ck_date(int64_t days, char buf[16]);

// `window="rolling-days"` needs `days`, and `days` needs it (ladder, input, challenge).
void ck_window_days(kc_ck *c, const kc_node *n);

// Audience-like elements (audience, rate, triggers): every tier named belongs to a ladder
// limited to segments none of which is named. The hint names such a ladder.
bool kc__audience_excludes(const kc_ck *c, const kc_node *n);
void kc__audience_hint(const kc_ck *c, const kc_node *n, char *out, size_t outsz);

// The placeholders of a ladder's progress-message and upgrade-message (kc-check-messages.c).
void kc__check_ladder_messages(kc_ck *c, const kc_node *l);
void kc__check_tables(kc_ck *c);
void kc__check_promotions(kc_ck *c);
// `<early-access>` rules (kc-check-early-access.c).
void kc__check_early_access(kc_ck *c);
// `<chain>` trigger chains (kc-check-chains.c).
void kc__check_chains(kc_ck *c);

#endif
