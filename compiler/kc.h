// SPDX-License-Identifier: MIT
// kc.h: the public face of the Kopilka rule compiler (XML program -> diagnostics -> Lua).
//
// Table of contents
//   kc_buf      a growable byte buffer with a hard cap
//   kc_diag     one diagnostic, and kc_diags, the list a compilation collects
//   kc_program  a loaded program: the typed tree of one XML file
//   kc_load_*   parse and type-check an XML file (hardened: no network, no DTD)
//   kc_check    semantic checks (references, tiers, tables, dead promotions ...)
//   kc_emit_lua readable, deterministic Lua for the runtime (docs/internals/program-abi.md)
//   kc_format   the canonical form of a file (formatting twice changes nothing)
//   kc_dump_ast the typed tree as text, for humans and tests
//
// Ownership: every pointer a kc_ function returns is owned by the object it came from
// (a kc_program owns its tree and strings; a kc_diags owns its messages) unless the
// comment says otherwise. Nothing here keeps global state; distinct programs may be
// used from distinct threads.
#ifndef KC_H
#define KC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define KC_NAMESPACE "urn:kopilka:rules:1"
#define KC_LANGUAGE_VERSION 1
#define KC_MAX_FILE_SIZE (16u * 1024u * 1024u) // bytes; larger files are refused
#define KC_MAX_DEPTH 32                        // element nesting; deeper files are refused

typedef enum kc_status {
    KC_OK = 0,
    KC_ERR_NOMEM,   // allocation failed or a buffer cap was reached
    KC_ERR_IO,      // a file could not be read or written
    KC_ERR_INVALID, // the program has errors (see the diagnostics)
} kc_status;

// ---- kc_buf: growable buffer ------------------------------------------------------------
// A buffer never grows past `cap` bytes (0 means KC_MAX_FILE_SIZE * 8); appending past it
// fails with KC_ERR_NOMEM and leaves the buffer as it was. `data` is always NUL-terminated.
typedef struct kc_buf {
    char *data; // owned
    size_t len;
    size_t alloc;
    size_t cap;
    bool failed; // set once an append failed; later appends are ignored
} kc_buf;

void kc_buf_init(kc_buf *b, size_t cap);
void kc_buf_free(kc_buf *b);
kc_status kc_buf_append(kc_buf *b, const char *s, size_t n);
kc_status kc_buf_puts(kc_buf *b, const char *s);
kc_status kc_buf_printf(kc_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

// ---- diagnostics ---------------------------------------------------------------------------
typedef enum kc_severity { KC_NOTE, KC_WARNING, KC_ERROR } kc_severity;

// One problem in a user's file. Strings are owned by the kc_diags that holds the diagnostic.
typedef struct kc_diag {
    kc_severity severity;
    const char *code;    // stable, e.g. "E-ref-undefined"; listed in docs/rules-language.md
    const char *file;    // as given to the loader
    unsigned line, col;  // 1-based; col counts Unicode code points; 0 when unknown
    const char *message; // one sentence, no trailing period
    const char *hint;    // NULL or a suggestion ("did you mean `category`?")
} kc_diag;

typedef struct kc_diags {
    kc_diag *items; // owned
    size_t count, alloc;
    size_t errors, warnings;
    char **strings; // owned copies of every message, hint and file name
    size_t nstrings, astrings;
} kc_diags;

void kc_diags_init(kc_diags *d);
void kc_diags_free(kc_diags *d);
// Adds a diagnostic; message and hint are printf formats copied into the list.
void kc_diag_add(kc_diags *d, kc_severity sev, const char *code, const char *file, unsigned line,
                 unsigned col, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 8, 9)));
// Sorts by file, line, column, then severity (errors first) — the order the CLI prints.
void kc_diags_sort(kc_diags *d);
// Prints `file:line:col: error[code]: message`, the source line and a caret, then the hint.
// `source` is the file's text (may be NULL: no source line is printed).
void kc_diags_print(FILE *out, const kc_diags *d, const char *source, size_t source_len,
                    bool color);

// ---- loading ---------------------------------------------------------------------------------
typedef struct kc_program kc_program;

// Loads a program from memory. `name` is the file name diagnostics carry. Returns NULL only
// on out-of-memory; otherwise a program that owns a copy of the source and whose tree holds
// every element that could be typed (diagnostics say what could not; the tree is absent when
// the file is not well-formed XML). The caller checks `d->errors` and frees the program with
// kc_program_free.
kc_program *kc_load_memory(const char *name, const char *buf, size_t len, kc_diags *d);
// Reads the file (at most KC_MAX_FILE_SIZE bytes) and calls kc_load_memory; NULL (with an
// E-io diagnostic) when the file cannot be read.
kc_program *kc_load_file(const char *path, kc_diags *d);
void kc_program_free(kc_program *p);
// The source text the program was loaded from (owned by the program).
const char *kc_program_source(const kc_program *p, size_t *len);

// ---- checks and outputs ---------------------------------------------------------------------
// Semantic checks; appends diagnostics. Safe to call on a program with load errors.
void kc_check(kc_program *p, kc_diags *d);
// Emits the Lua program. The program must be free of errors. `path_for_comments` is the file
// name written into source comments (a repository-relative path keeps the output stable).
kc_status kc_emit_lua(const kc_program *p, const char *path_for_comments, kc_buf *out);
// Writes the canonical form of the program (see docs/rules-language.md, "Canonical form").
kc_status kc_format(const kc_program *p, kc_buf *out);
// Writes the typed tree, one node per line.
kc_status kc_dump_ast(const kc_program *p, kc_buf *out);
// Writes the RELAX NG schema of the language, derived from the same table the loader uses.
kc_status kc_write_schema(kc_buf *out);

// The SHA-256 of the program's canonical form, as 64 lowercase hex digits plus NUL.
void kc_program_hash(const kc_program *p, char out[65]);

#endif
