// SPDX-License-Identifier: MIT
// kopilka.h: what the files of the `kopilka` command line share (kopilka*.c only): its one
// options struct, exit statuses, reading files, compiling a program, opening a ledger, and
// printing answers. See docs/cli.md.
//
//   kopilka.c           main, option parsing, the ledger subcommands
//   kopilka-util.c      files, times, the program, the ledger, answers
//   kopilka-state.c     scenario customers: creation and starting points (test and simulate)
//   kopilka-simulate.c  `kopilka simulate`
//   kopilka-test.c      `kopilka test`: the scenario runner
//   kopilka-report.c    `kopilka report`: the marketers' reports
//   kopilka-subset.c    the subset comparison behind expectations (pure, unit-tested)
//   kopilka-saved.c     saved values of scenarios: paths into answers, ${name} (pure, unit-tested)
#ifndef KOPILKA_H
#define KOPILKA_H

#include "kr-buf.h"
#include "kr-ops.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

// Exit statuses (docs/cli.md).
enum {
    KP_EXIT_OK = 0,
    KP_EXIT_FAILED = 1, // a scenario or check failed, or the input was refused
    KP_EXIT_USAGE = 2,
    KP_EXIT_IO = 3,       // a file could not be read or written, the ledger is busy
    KP_EXIT_INTERNAL = 4, // out of memory, storage error, a bug
};

#define KP_MAX_INPUT (64u * 1024u * 1024u) // bytes: larger inputs are refused
#define KP_HISTORY_LIMIT 1000              // rows per history page

// The CLI's options: the only state that outlives a function. Filled by main from argv.
typedef struct kp_options {
    const char *command;    // "simulate", "test", "confirm" ...
    const char *sub;        // "attach" of `card attach`; NULL for one-word commands
    const char *db;         // --db (default "kopilka.db")
    const char *program;    // --program, or simulate's first argument
    const char *at_text;    // --at as written
    int64_t at;             // --at, or the wall clock read once at start
    bool confirm;           // simulate --confirm
    const char *state;      // simulate --state
    const char *card, *phone, *email, *customer; // balance/history/merge references
    const char *from, *into; // merge
    const char *batch;      // cards issue
    long long count;        // cards issue
    const char *op_id;      // --id: merge's (and tier set's) operation id
    const char *ladder, *tier, *until; // tier set
    long long after;        // history and outbox list --after
    long long limit;        // outbox list --limit (0: the operation's default)
    const char *card_guard; // --card-guard N/MIN/MIN or off (calculate, confirm, balance)
    const char *source;     // balance --source: what unknown card numbers count against
    const char *to, *by, *format, *store, *region, *channel, *segment; // report (--from, --limit)
    bool verbose;           // test -v: the answer of every step
    bool color;             // diagnostics in color
    const char **args;      // positional arguments
    int nargs;
} kp_options;

// ---- files ---------------------------------------------------------------------------------
// Reads a whole file ("-" is standard input) of at most KP_MAX_INPUT bytes; refuses NUL bytes.
// On failure prints "kopilka: PATH: why" to stderr and returns KP_EXIT_IO (or KP_EXIT_FAILED
// for a NUL byte, KP_EXIT_INTERNAL out of memory). *data is malloc'd and NUL-terminated.
int kp_read_file(const char *path, char **data, size_t *len);

// The directory part of a path ("." when none), malloc'd; and dir + "/" + name, malloc'd
// (name as is when absolute). NULL when out of memory.
char *kp_dirname(const char *path);
char *kp_path_join(const char *dir, const char *name);

// ---- times ---------------------------------------------------------------------------------
// RFC 3339 into Unix seconds; false with the reason printed to stderr, naming `what`.
bool kp_parse_time_arg(const char *what, const char *text, int64_t *out);
// "2026-11-22T11:05:00Z" into out (at least 32 bytes).
void kp_format_time(int64_t t, char *out, size_t outsz);

// ---- the program and the ledger --------------------------------------------------------------
// A compiled program: kopilkac's diagnostics were printed; the Lua is ready for kr_ops_open.
typedef struct kp_program {
    char *path; // owned copy
    char *xml;
    size_t xml_len;
    char *lua;
    size_t lua_len;
} kp_program;

// Compiles the XML at `path`, printing diagnostics like kopilkac does. KP_EXIT_OK, or
// KP_EXIT_FAILED (the program has errors), KP_EXIT_IO, KP_EXIT_INTERNAL.
int kp_program_compile(const char *path, bool color, kp_program *out);
void kp_program_free(kp_program *p);

// Opens `db` (":memory:" for a throwaway ledger) with the program, deployed at `at`. Prints
// why on failure and returns the exit status.
int kp_ops_open(const char *db, const kp_program *p, int64_t at, kr_ops **out);

// For the ledger subcommands: compiles --program (or the ledger's deployed program) and opens
// --db with it.
int kp_open_ledger(const kp_options *o, kp_program *p, kr_ops **out);

// ---- answers -------------------------------------------------------------------------------
// The exit status for an operation's status (ok and replay: 0).
int kp_exit_for(kr_ops_status st);
// Formats an answer's {"error": {...}} as "SOURCE:LINE[:COL]: FIELD: MESSAGE (code)" into
// out. False when the answer is not an error answer.
bool kp_error_text(const char *answer, char *out, size_t outsz);
// Prints an operation's answer: the JSON on stdout (one line); on an error also the readable
// text on stderr. Returns kp_exit_for(st).
int kp_print_answer(kr_ops_status st, const kr_buf *answer);

// ---- scenario state (kopilka-state.c) ------------------------------------------------------
// A scenario's customers by key, with the reference each key stands for.
typedef struct kp_customer {
    char *key;
    char *ref_json; // {"id": "..."}: how operations name the customer
} kp_customer;

typedef struct kp_state {
    kp_customer *items;
    size_t n;
} kp_state;

void kp_state_free(kp_state *s);
// The reference JSON of customer `key`, or NULL when there is none.
const char *kp_state_ref(const kp_state *s, const char *key);

// Creates the customers of a `customers` array (scenario or state file) at `at` and credits
// their starting points. `source` names the file in errors; `path` is the JSON path of the
// array ("customers"). On a refused customer prints "SOURCE: customers[2].phone: why" and
// returns KP_EXIT_FAILED; nothing else is created after it.
int kp_state_load(kr_ops *ops, const json_t *customers, const char *source, const char *path,
                  int64_t at, kp_state *state);
// Creates one customer (the scenario step "customer"); as kp_state_load for one element.
int kp_state_add(kr_ops *ops, const json_t *customer, const char *source, const char *path,
                 int64_t at, kp_state *state);

// Rewrites `"customer": "ivan"` in a receipt object (in place) into the customer's reference
// object. False (with why) when the key is unknown.
bool kp_state_translate(const kp_state *s, json_t *receipt, char *why, size_t whysz);

// ---- subcommands ---------------------------------------------------------------------------
int kp_cmd_simulate(const kp_options *o);
int kp_cmd_test(const kp_options *o);
int kp_cmd_report(const kp_options *o); // kopilka-report.c

#endif
