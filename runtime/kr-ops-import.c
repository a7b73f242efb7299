// SPDX-License-Identifier: MIT
// kr-ops-import.c: customers, cards and opening balances from the ERP as CSV, all or nothing
// (kr_ops_import_csv; the format is docs/formats.md "Import").
//
// Two passes over the text. The first validates every row (columns, phones, e-mails, cards,
// dates, points, segments) and stops at the first bad one with an error naming the source,
// line, column number and column name; nothing is written. The second parses the rows again
// into batches of IMPORT_BATCH and hands them to kr_ledger_import inside ONE transaction; a
// row the ledger refuses (a phone, card or external id already taken, in the ledger or
// earlier in the file) rolls the whole transaction back and is reported with its line. So a
// file goes in whole or not at all.
//
// Memory: a batch's strings live in an arena of copied CSV records (the reader reuses its
// record buffer), freed after the batch; the CSV text itself is only borrowed.
#include "kr-ops-private.h"

#include "kr-identity.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// Rows per kr_ledger_import call.
#define IMPORT_BATCH 1000
// Largest opening balance a row may carry.
#define IMPORT_MAX_POINTS 1000000000000LL

static const char *const known_columns[] = {
    "external_id", "name",     "phone",  "email",         "card", "birthday",
    "registered",  "segments", "points", "points_expire", NULL,
};

// ---- arena -------------------------------------------------------------------------------------

typedef struct arena_block {
    struct arena_block *next;
    size_t used, cap;
    char data[];
} arena_block;

typedef struct arena {
    arena_block *head; // owned
} arena;

static void *arena_alloc(arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (!a->head || a->head->cap - a->head->used < n) {
        size_t cap = n > (256u << 10) ? n : (256u << 10);
        arena_block *b = malloc(sizeof *b + cap);
        if (!b)
            return NULL;
        b->next = a->head;
        b->used = 0;
        b->cap = cap;
        a->head = b;
    }
    void *p = a->head->data + a->head->used;
    a->head->used += n;
    return p;
}

static void arena_free(arena *a)
{
    while (a->head) {
        arena_block *next = a->head->next;
        free(a->head);
        a->head = next;
    }
}

// ---- values seen earlier in the file
// ------------------------------------------------------------- The validation pass remembers every
// external id, phone, e-mail and card (normalised) with its line, so that a value given twice is
// reported as "also on line N" rather than as a conflict with a customer the rolled-back import
// never kept.

typedef struct seen_entry {
    uint64_t hash;
    char *key; // owned: kind letter + value
    unsigned line;
} seen_entry;

typedef struct seen_set {
    seen_entry *v; // owned
    size_t cap, n;
} seen_set;

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

// Adds key; *prev is the line it was first seen on (0 when new). False when out of memory.
static bool seen_put(seen_set *s, char kind, const char *value, unsigned line, unsigned *prev)
{
    *prev = 0;
    if (s->n * 2 >= s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 1024;
        seen_entry *v = calloc(cap, sizeof *v);
        if (!v)
            return false;
        for (size_t i = 0; i < s->cap; i++) {
            if (!s->v[i].key)
                continue;
            size_t j = s->v[i].hash & (cap - 1);
            while (v[j].key)
                j = (j + 1) & (cap - 1);
            v[j] = s->v[i];
        }
        free(s->v);
        s->v = v;
        s->cap = cap;
    }
    size_t len = strlen(value);
    char *key = malloc(len + 2);
    if (!key)
        return false;
    key[0] = kind;
    memcpy(key + 1, value, len + 1);
    uint64_t h = fnv1a(key);
    size_t j = h & (s->cap - 1);
    for (; s->v[j].key; j = (j + 1) & (s->cap - 1)) {
        if (s->v[j].hash == h && strcmp(s->v[j].key, key) == 0) {
            *prev = s->v[j].line;
            free(key);
            return true;
        }
    }
    s->v[j] = (seen_entry){h, key, line};
    s->n++;
    return true;
}

static void seen_free(seen_set *s)
{
    for (size_t i = 0; i < s->cap; i++)
        free(s->v[i].key);
    free(s->v);
    memset(s, 0, sizeof *s);
}

// ---- rows --------------------------------------------------------------------------------------

// Where each known column is in the header (-1: absent), and the attr_* columns.
typedef struct columns {
    int at[10]; // by index into known_columns
    int attr[KR_CSV_MAX_FIELDS];
    size_t n_attr;
} columns;

enum {
    C_EXTERNAL_ID,
    C_NAME,
    C_PHONE,
    C_EMAIL,
    C_CARD,
    C_BIRTHDAY,
    C_REGISTERED,
    C_SEGMENTS,
    C_POINTS,
    C_POINTS_EXPIRE
};

typedef struct import_ctx {
    kr_ops *o;  // borrowed
    kr_csv csv; // owned while open
    columns cols;
    int64_t at, today;
    kr_input_error err;
    seen_set seen;   // validation pass: values given so far
    bool check_seen; // validation pass
    // The first row the ledger refused (insert pass).
    bool refused;
    size_t refused_index;
    kr_ledger_status refused_status;
    char refused_message[512];
} import_ctx;

static bool row_fail(import_ctx *x, int col, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool row_fail(import_ctx *x, int col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    memset(&x->err, 0, sizeof x->err);
    x->err.line = x->csv.record_line;
    if (col >= 0) {
        x->err.column = (unsigned)col + 1;
        snprintf(x->err.field, sizeof x->err.field, "%s", x->csv.header[col]);
    }
    vsnprintf(x->err.message, sizeof x->err.message, fmt, ap);
    va_end(ap);
    return false;
}

// False (with the error) when `value` of column `col` was given on an earlier line.
static bool once(import_ctx *x, int col, char kind, const char *what, const char *value)
{
    if (!x->check_seen)
        return true;
    unsigned prev = 0;
    if (!seen_put(&x->seen, kind, value, x->csv.record_line, &prev))
        return row_fail(x, -1, "out of memory");
    if (prev)
        return row_fail(x, col, "%s %s is also on line %u", what, value, prev);
    return true;
}

// The field in column `col` of the current record (copied into `rec`), or NULL when the
// column is absent or the field is empty.
static char *field_at(const import_ctx *x, char *rec, int col)
{
    if (col < 0)
        return NULL;
    char *f = rec + (x->csv.fields[col] - x->csv.buf);
    return *f ? f : NULL;
}

// Parses the current record into *row (strings in the arena). False with x->err on a bad row.
static bool parse_row(import_ctx *x, arena *a, kr_ledger_import_row *row)
{
    kr_ops *o = x->o;
    const int *at = x->cols.at;
    memset(row, 0, sizeof *row);
    char *rec = arena_alloc(a, x->csv.buflen ? x->csv.buflen : 1);
    if (!rec)
        return row_fail(x, -1, "out of memory");
    memcpy(rec, x->csv.buf, x->csv.buflen);
    kr_ledger_customer_in *in = &row->customer;
    char why[256];

    in->external_id = field_at(x, rec, at[C_EXTERNAL_ID]);
    in->name = field_at(x, rec, at[C_NAME]);
    in->phone = field_at(x, rec, at[C_PHONE]);
    in->email = field_at(x, rec, at[C_EMAIL]);
    row->card_number = field_at(x, rec, at[C_CARD]);
    if (!in->external_id && !in->phone && !in->email && !row->card_number)
        return row_fail(x, -1, "the row names nobody: give external_id, phone, email or card");
    if (in->external_id && strlen(in->external_id) >= KR_LEDGER_ID_MAX)
        return row_fail(x, at[C_EXTERNAL_ID], "longer than %d characters", KR_LEDGER_ID_MAX - 1);
    if (in->external_id && !once(x, at[C_EXTERNAL_ID], 'x', "external id", in->external_id))
        return false;
    if (in->phone) {
        char norm[KR_IDENTITY_PHONE_MAX];
        if (kr_identity_phone_normalize(in->phone, norm, sizeof norm, why, sizeof why) !=
            KR_IDENTITY_OK)
            return row_fail(x, at[C_PHONE], "%s", why);
        if (!once(x, at[C_PHONE], 'p', "phone", norm))
            return false;
    }
    if (in->email) {
        char norm[KR_IDENTITY_EMAIL_MAX];
        if (kr_identity_email_normalize(in->email, norm, sizeof norm, why, sizeof why) !=
            KR_IDENTITY_OK)
            return row_fail(x, at[C_EMAIL], "%s", why);
        if (!once(x, at[C_EMAIL], 'e', "e-mail", norm))
            return false;
    }
    if (row->card_number) {
        char norm[KR_IDENTITY_CARD_MAX];
        if (kr_identity_card_normalize(row->card_number, false, norm, sizeof norm, why,
                                       sizeof why) != KR_IDENTITY_OK)
            return row_fail(x, at[C_CARD], "%s", why);
        if (!once(x, at[C_CARD], 'c', "card", norm))
            return false;
    }

    const char *bday = field_at(x, rec, at[C_BIRTHDAY]);
    if (bday) {
        int64_t day;
        if (!kr_parse_date(bday, &day, why, sizeof why))
            return row_fail(x, at[C_BIRTHDAY], "%s", why);
        if (day > x->today)
            return row_fail(x, at[C_BIRTHDAY], "the date is in the future");
        in->birthday = bday;
    }

    in->registered_at = x->at;
    const char *reg = field_at(x, rec, at[C_REGISTERED]);
    if (reg) {
        int64_t t, day;
        if (strlen(reg) == 10) {
            if (!kr_parse_date(reg, &day, why, sizeof why))
                return row_fail(x, at[C_REGISTERED], "%s", why);
            t = kr__ops_day_start(o, day);
        } else if (!kr_parse_time(reg, &t, why, sizeof why)) {
            return row_fail(x, at[C_REGISTERED], "%s", why);
        }
        if (t > x->at)
            return row_fail(x, at[C_REGISTERED], "the date is after the import");
        in->registered_at = t;
    }

    char *segs = field_at(x, rec, at[C_SEGMENTS]);
    if (segs) {
        size_t n = 0;
        for (const char *p = segs; *p; p++)
            n += *p != ' ' && (p == segs || p[-1] == ' ');
        const char **v = arena_alloc(a, (n ? n : 1) * sizeof *v);
        if (!v)
            return row_fail(x, -1, "out of memory");
        for (char *tok = segs; *tok;) {
            // Split in place on spaces (strtok is not thread-safe).
            if (*tok == ' ') {
                tok++;
                continue;
            }
            char *end = tok;
            while (*end && *end != ' ')
                end++;
            bool last = *end == '\0';
            *end = '\0';
            bool known = false;
            for (size_t k = 0; k < o->policy.n_segments && !known; k++)
                known = strcmp(o->policy.segments[k].id, tok) == 0;
            if (!known)
                return row_fail(x, at[C_SEGMENTS], "the program has no segment \"%s\"", tok);
            v[in->n_segments++] = tok;
            tok = last ? end : end + 1;
        }
        in->segments = v;
    }

    const char *pts = field_at(x, rec, at[C_POINTS]);
    if (pts) {
        int64_t v = 0;
        for (const char *p = pts; *p; p++) {
            if (*p < '0' || *p > '9' || v > IMPORT_MAX_POINTS)
                return row_fail(x, at[C_POINTS], "points are a whole number such as 1500");
            v = v * 10 + (*p - '0');
        }
        if (v > IMPORT_MAX_POINTS)
            return row_fail(x, at[C_POINTS], "more than %lld points", IMPORT_MAX_POINTS);
        row->opening_balance = v;
    }
    row->opening_expires_at = KR_LEDGER_NEVER;
    const char *exp = field_at(x, rec, at[C_POINTS_EXPIRE]);
    if (exp) {
        int64_t day;
        if (!kr_parse_date(exp, &day, why, sizeof why))
            return row_fail(x, at[C_POINTS_EXPIRE], "%s", why);
        if (row->opening_balance <= 0)
            return row_fail(x, at[C_POINTS_EXPIRE], "an expiry date without points");
        // The date is the last day the points can be spent.
        if (day < x->today)
            return row_fail(x, at[C_POINTS_EXPIRE], "the date has passed");
        row->opening_expires_at = kr__ops_day_start(o, day + 1);
    } else if (row->opening_balance > 0) {
        const kr_lifetime *lt = &o->policy.lifetimes[KR_SOURCE_IMPORT];
        if (lt->set && lt->days >= 0)
            row->opening_expires_at = kr__ops_day_start(o, x->today + (lt->days ? lt->days : 1));
    }

    if (x->cols.n_attr) {
        kr_ledger_attr *v = arena_alloc(a, x->cols.n_attr * sizeof *v);
        if (!v)
            return row_fail(x, -1, "out of memory");
        for (size_t i = 0; i < x->cols.n_attr; i++) {
            const char *val = field_at(x, rec, x->cols.attr[i]);
            if (!val)
                continue;
            v[in->n_attrs].key = x->csv.header[x->cols.attr[i]] + 5;
            v[in->n_attrs].value = val;
            in->n_attrs++;
        }
        in->attrs = v;
    }
    return true;
}

// Opens the CSV: every column must be a known one or attr_<key>.
static bool open_csv(import_ctx *x, const char *csv, size_t len)
{
    // First read the header to learn its attr_ columns, then open again with them added to
    // the known list, so that a typo gets the reader's "did you mean" suggestion.
    kr_input_status st = kr_csv_open(&x->csv, csv, len, NULL, NULL, &x->err);
    if (st != KR_INPUT_OK) {
        if (st == KR_INPUT_NOMEM)
            snprintf(x->err.message, sizeof x->err.message, "out of memory");
        return false;
    }
    const char *known[KR_CSV_MAX_FIELDS + 16];
    size_t n = 0;
    for (const char *const *k = known_columns; *k; k++)
        known[n++] = *k;
    char *attrs[KR_CSV_MAX_FIELDS];
    size_t n_attrs = 0;
    for (size_t i = 0; i < x->csv.ncols; i++)
        if (strncmp(x->csv.header[i], "attr_", 5) == 0 && x->csv.header[i][5])
            attrs[n_attrs++] = strdup(x->csv.header[i]);
    for (size_t i = 0; i < n_attrs; i++)
        known[n++] = attrs[i] ? attrs[i] : "attr_";
    known[n] = NULL;
    kr_csv_close(&x->csv);
    st = kr_csv_open(&x->csv, csv, len, NULL, known, &x->err);
    for (size_t i = 0; i < n_attrs; i++)
        free(attrs[i]);
    if (st != KR_INPUT_OK) {
        if (st == KR_INPUT_NOMEM)
            snprintf(x->err.message, sizeof x->err.message, "out of memory");
        return false;
    }
    for (size_t k = 0; known_columns[k]; k++) {
        x->cols.at[k] = -1;
        for (size_t i = 0; i < x->csv.ncols; i++)
            if (strcmp(x->csv.header[i], known_columns[k]) == 0)
                x->cols.at[k] = (int)i;
    }
    x->cols.n_attr = 0;
    for (size_t i = 0; i < x->csv.ncols; i++)
        if (strncmp(x->csv.header[i], "attr_", 5) == 0)
            x->cols.attr[x->cols.n_attr++] = (int)i;
    return true;
}

// Pass 1: every row valid? *rows: how many.
static bool validate(import_ctx *x, size_t *rows)
{
    arena a = {0};
    bool ok = true;
    *rows = 0;
    x->check_seen = true;
    for (;;) {
        kr_input_status st = kr_csv_next(&x->csv, &x->err);
        if (st == KR_INPUT_END)
            break;
        if (st != KR_INPUT_OK) {
            ok = false;
            break;
        }
        kr_ledger_import_row row;
        if (!parse_row(x, &a, &row)) {
            ok = false;
            break;
        }
        (*rows)++;
        if (*rows % IMPORT_BATCH == 0)
            arena_free(&a);
    }
    arena_free(&a);
    seen_free(&x->seen);
    x->check_seen = false;
    return ok;
}

static void on_reject(void *ud, size_t index, kr_ledger_status st, const char *message)
{
    import_ctx *x = ud;
    if (x->refused)
        return;
    x->refused = true;
    x->refused_index = index;
    x->refused_status = st;
    snprintf(x->refused_message, sizeof x->refused_message, "%s", message ? message : "");
}

// Pass 2 (inside the caller's transaction): every row into the ledger. *line: the line of the
// row the ledger refused, if one was.
static kr_ledger_status insert(import_ctx *x, const char *op, int64_t *imported, int64_t *points,
                               unsigned *line)
{
    kr_ledger_import_row *rows = calloc(IMPORT_BATCH, sizeof *rows);
    unsigned *lines = calloc(IMPORT_BATCH, sizeof *lines);
    arena a = {0};
    kr_ledger_status s = rows && lines ? KR_LEDGER_OK : KR_LEDGER_NOMEM;
    bool end = false;
    while (s == KR_LEDGER_OK && !end) {
        size_t n = 0;
        while (n < IMPORT_BATCH) {
            kr_input_status st = kr_csv_next(&x->csv, &x->err);
            if (st == KR_INPUT_END) {
                end = true;
                break;
            }
            if (st != KR_INPUT_OK || !parse_row(x, &a, &rows[n])) {
                s = KR_LEDGER_INVALID; // validated already: only out of memory gets here
                break;
            }
            lines[n] = x->csv.record_line;
            *points += rows[n].opening_balance;
            n++;
        }
        if (s != KR_LEDGER_OK || n == 0)
            break;
        size_t ok = 0;
        s = kr_ledger_import(x->o->db, rows, n, op, x->at, on_reject, x, &ok);
        *imported += (int64_t)ok;
        if (s == KR_LEDGER_OK && x->refused) {
            *line = lines[x->refused_index];
            s = x->refused_status;
        }
        arena_free(&a);
    }
    arena_free(&a);
    free(rows);
    free(lines);
    return s;
}

kr_ops_status kr_ops_import_csv(kr_ops *o, const char *csv, size_t len, const char *source_name,
                                int64_t at, kr_buf *out)
{
    // Errors name the file; the caller's source and line are restored afterwards.
    char saved_source[sizeof o->source];
    unsigned saved_line = o->line;
    memcpy(saved_source, o->source, sizeof saved_source);
    kr_ops_set_source(o, source_name, 0);

    import_ctx *x = calloc(1, sizeof *x);
    kr_ops_status st = KR_OPS_OK;
    if (!x) {
        st = kr__ops_fail(o, out, KR_OPS_FAILED, NULL, "out of memory");
        goto out;
    }
    x->o = o;
    x->at = at;
    x->today = kr__ops_local_day(o, at);

    size_t n_rows = 0;
    if (!open_csv(x, csv, len) || !validate(x, &n_rows)) {
        st = kr__ops_input_error(o, out, &x->err);
        goto out;
    }
    kr_csv_close(&x->csv);

    // The operation id names the file's content, so the journal tells imports apart.
    char hash[65], op[KR_LEDGER_ID_MAX];
    kr_ledger_sha256_hex(csv, len, hash);
    snprintf(op, sizeof op, "import:%.16s", hash);

    int64_t imported = 0, points = 0;
    unsigned line = 0;
    kr_ledger_status ls = KR_LEDGER_OK;
    if (!open_csv(x, csv, len))
        ls = KR_LEDGER_NOMEM;
    if (ls == KR_LEDGER_OK)
        ls = kr_ledger_begin(o->db);
    if (ls == KR_LEDGER_OK) {
        ls = insert(x, op, &imported, &points, &line);
        if (ls == KR_LEDGER_OK)
            ls = kr__ops_club_terms_all(o); // paid club memberships get their end
        if (ls == KR_LEDGER_OK)
            ls = kr_ledger_commit(o->db);
        if (ls != KR_LEDGER_OK)
            kr_ledger_rollback(o->db);
    }
    if (ls != KR_LEDGER_OK) {
        if (x->refused) {
            o->line = line;
            st = kr__ops_fail(o, out, ls == KR_LEDGER_CONFLICT ? KR_OPS_CONFLICT : KR_OPS_INVALID,
                              NULL, "%s; nothing was imported", x->refused_message);
        } else {
            st = kr__ops_ledger_error(o, out, ls, NULL);
        }
        goto out;
    }
    kr_buf_reset(out);
    kr_buf_printf(out, "{\"imported\":%lld,\"points\":%lld,\"operation\":", (long long)imported,
                  (long long)points);
    kr_buf_json_string(out, op);
    kr_buf_puts(out, "}");
    if (out->failed)
        st = KR_OPS_FAILED;
out:
    if (x) {
        kr_csv_close(&x->csv);
        seen_free(&x->seen);
    }
    free(x);
    memcpy(o->source, saved_source, sizeof saved_source);
    o->line = saved_line;
    return st;
}
