// SPDX-License-Identifier: MIT
// kc-check-tables.c: decision tables — inputs, cells, outputs, unreachable rows, gaps and
// overlaps.
//
// A cell is a set of values of its input: numeric inputs (receipt-total, turnover,
// receipt-count) take half-open ranges `A..B` (A included, B excluded), `A..`, `..B` or `*`;
// the others take `*`, a list of words (`taps mixers`) or a negated list (`not taps`). A row
// is the product of its cells. Word sets are treated as open (a customer may have no tier,
// a line a category nobody listed), so the analysis never claims a list covers "everything":
// it can miss an unreachable row but never reports a reachable one.
#include "kc-check-private.h"

#include <stdlib.h>
#include <string.h>

typedef enum col_kind { COL_BAD, COL_MONEY, COL_COUNT, COL_ID, COL_WORDS } col_kind;

typedef struct column {
    col_kind kind;
    const char *source;  // the input's source name
    const char *ref;     // COL_ID: "segment" or "tier"
    const char *allowed; // "a|b|c" when the words are a closed list (channel), else NULL
} column;

typedef struct cell {
    bool any, neg;
    int64_t lo, hi; // numeric: [lo, hi); hi = INT64_MAX when open
    const char **words;
    size_t n;
} cell;

typedef struct row {
    const kc_node *n;
    const kc_attr *when;
    cell *cells;
    bool ok;          // every cell parsed and the count matches
    bool unreachable; // reported already
} row;

typedef struct table_ck {
    kc_ck *c;
    const kc_node *t;
    const char *id;
    column *cols;
    size_t ncols;
    row *rows;
    size_t nrows;
    bool hit_first;
} table_ck;

#define CHANNELS "store|web|phone|app|bot"

static bool is_numeric(const column *col)
{
    return col->kind == COL_MONEY || col->kind == COL_COUNT;
}

// ---- inputs --------------------------------------------------------------------------------
static column check_input(kc_ck *c, const kc_node *in)
{
    column col = {COL_BAD, NULL, NULL, NULL};
    const kc_attr *src = kc__attr(in, "source");
    if (!src->present)
        return col;
    const char *s = src->v.s;
    col.source = s;
    bool windowed = strcmp(s, "turnover") == 0 || strcmp(s, "receipt-count") == 0;
    bool attributed = strcmp(s, "line-attribute") == 0 || strcmp(s, "customer-attribute") == 0;
    if (strcmp(s, "receipt-total") == 0 || strcmp(s, "turnover") == 0)
        col.kind = COL_MONEY;
    else if (strcmp(s, "receipt-count") == 0)
        col.kind = COL_COUNT;
    else if (strcmp(s, "segment") == 0 || strcmp(s, "tier") == 0) {
        col.kind = COL_ID;
        col.ref = s;
    } else {
        col.kind = COL_WORDS;
        if (strcmp(s, "channel") == 0)
            col.allowed = CHANNELS;
    }
    const kc_attr *w = kc__attr(in, "window"), *days = kc__attr(in, "days");
    const kc_attr *attr = kc__attr(in, "attribute");
    if (windowed && !ck_written(in, "window"))
        ck_diag(c, KC_ERROR, "E-table-input", src->vline, src->vcol,
                "add `window=\"calendar-month\"` or another period",
                "input `%s` needs `window`: the period it is summed over", s);
    else if (!windowed && ck_written(in, "window"))
        ck_diag(c, KC_ERROR, "E-table-input", w->line, w->col, "remove `window`",
                "`window` only applies to `turnover` and `receipt-count` inputs, not `%s`", s);
    if (w->present)
        ck_window_days(c, in);
    else if (!ck_written(in, "window") && ck_written(in, "days"))
        ck_diag(c, KC_ERROR, "E-window-days", days->line, days->col,
                "remove `days`, or add `window=\"rolling-days\"`",
                "`days` only applies to `window=\"rolling-days\"`");
    if (attributed && !ck_written(in, "attribute"))
        ck_diag(c, KC_ERROR, "E-table-input", src->vline, src->vcol,
                "add `attribute=\"name\"`", "input `%s` needs `attribute`: which attribute?", s);
    else if (!attributed && ck_written(in, "attribute"))
        ck_diag(c, KC_ERROR, "E-table-input", attr->line, attr->col, "remove `attribute`",
                "`attribute` only applies to `line-attribute` and `customer-attribute` inputs, "
                "not `%s`",
                s);
    // A line selector narrows the receipt total to some lines; no other input sums lines.
    static const char *const sel[] = {"category",         "sku",         "brand",
                                      "exclude-category", "exclude-sku", "exclude-brand"};
    for (size_t k = 0; k < sizeof sel / sizeof sel[0]; k++) {
        const kc_attr *a = kc__attr(in, sel[k]);
        if (strcmp(s, "receipt-total") != 0 && ck_written(in, sel[k]))
            ck_diag(c, KC_ERROR, "E-table-input", a->line, a->col, "remove it",
                    "`%s` only applies to a `receipt-total` input, not `%s`: it says which "
                    "lines the total counts",
                    sel[k], s);
    }
    return col;
}

// ---- cells ---------------------------------------------------------------------------------
static char *dup_range(kc_ck *c, const char *s, size_t n)
{
    return kc__arena_strndup(&c->p->arena, s, n);
}

static bool parse_bound(table_ck *T, const column *col, const char *text, int64_t *out,
                        unsigned line, unsigned col_no, const char *cell_text)
{
    kc_attr_spec spec = {"cell", col->kind == COL_MONEY ? KC_V_MONEY : KC_V_INT, 0, NULL, NULL,
                         NULL};
    kc_value v;
    char why[256], hint[256];
    if (!kc__parse_value(&spec, text, T->c->p->minor_unit, &T->c->p->arena, &v, why,
                         sizeof why, hint, sizeof hint)) {
        ck_diag(T->c, KC_ERROR, "E-table-cell", line, col_no, hint[0] ? hint : NULL,
                "cell `%s` of input `%s`: %s", cell_text, col->source, why);
        return false;
    }
    *out = v.i;
    return true;
}

static const char *bound_str(const table_ck *T, const column *col, int64_t v, char buf[48])
{
    if (col->kind == COL_MONEY)
        return ck_money(T->c, v, buf);
    snprintf(buf, 48, "%lld", (long long)v);
    return buf;
}

static bool parse_numeric_cell(table_ck *T, const column *col, const char *text, cell *out,
                               unsigned line, unsigned col_no)
{
    const char *dots = strstr(text, "..");
    const char *range_hint = "write `A..B` (from A, below B), `A..`, `..B` or `*`";
    if (!dots) {
        ck_diag(T->c, KC_ERROR, "E-table-cell", line, col_no, range_hint,
                "cell `%s` of input `%s` is not a range", text, col->source);
        return false;
    }
    char *a = dup_range(T->c, text, (size_t)(dots - text));
    char *b = dup_range(T->c, dots + 2, strlen(dots + 2));
    if (!a || !b)
        return false;
    // trim spaces around the bounds
    for (char *s = a + strlen(a); s > a && s[-1] == ' '; *--s = '\0')
        ;
    while (*b == ' ')
        b++;
    if (!*a && !*b) {
        ck_diag(T->c, KC_ERROR, "E-table-cell", line, col_no, "write `*` for any value",
                "the range `..` has no bounds");
        return false;
    }
    out->lo = 0;
    out->hi = INT64_MAX;
    if (*a && !parse_bound(T, col, a, &out->lo, line, col_no, text))
        return false;
    if (*b && !parse_bound(T, col, b, &out->hi, line, col_no, text))
        return false;
    if (out->lo >= out->hi) {
        ck_diag(T->c, KC_ERROR, "E-table-cell", line, col_no,
                "`A..B` includes A and excludes B, so B must be above A",
                "the range `%s` is empty", text);
        return false;
    }
    return true;
}

static bool in_enum(const char *values, const char *word)
{
    size_t wl = strlen(word);
    for (const char *p = values;;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == wl && strncmp(p, word, len) == 0)
            return true;
        if (!bar)
            return false;
        p = bar + 1;
    }
}

static bool parse_words_cell(table_ck *T, const column *col, const row *r, size_t cell_off,
                             const char *text, cell *out)
{
    kc_ck *c = T->c;
    size_t cap = 1;
    for (const char *p = text; *p; p++)
        if (*p == ' ')
            cap++;
    out->words = kc__arena_alloc(&c->p->arena, cap * sizeof *out->words);
    size_t *offs = kc__arena_alloc(&c->p->arena, cap * sizeof *offs);
    if (!out->words || !offs)
        return false;
    for (size_t i = 0; text[i];) {
        while (text[i] == ' ')
            i++;
        if (!text[i])
            break;
        size_t st = i;
        while (text[i] && text[i] != ' ')
            i++;
        offs[out->n] = st;
        out->words[out->n++] = dup_range(c, text + st, i - st);
        if (!out->words[out->n - 1])
            return false;
    }
    unsigned line, cl;
    size_t first = 0;
    if (out->n && strcmp(out->words[0], "not") == 0) {
        out->neg = true;
        first = 1;
        if (out->n == 1) {
            ck_pos(c, r->when, cell_off, &line, &cl);
            ck_diag(c, KC_ERROR, "E-table-cell", line, cl, "like `not taps mixers`",
                    "`not` needs the values it excludes");
            return false;
        }
    }
    bool ok = true;
    for (size_t i = first; i < out->n; i++) {
        const char *w = out->words[i];
        ck_pos(c, r->when, cell_off + offs[i], &line, &cl);
        if (strcmp(w, "*") == 0 || strcmp(w, "not") == 0) {
            ck_diag(c, KC_ERROR, "E-table-cell", line, cl,
                    strcmp(w, "*") == 0 ? "`*` stands alone in its cell"
                                        : "`not` comes first in its cell",
                    "`%s` cannot be part of a list", w);
            ok = false;
        } else if (col->kind == COL_ID) {
            if (!ck_ref(c, w, col->ref, line, cl))
                ok = false;
        } else if (col->allowed && !in_enum(col->allowed, w)) {
            const char *cands[8] = {"store", "web", "phone", "app", "bot"};
            const char *s = kc__suggest(w, cands, 5);
            char hint[120];
            if (s)
                snprintf(hint, sizeof hint, "did you mean `%s`?", s);
            else
                snprintf(hint, sizeof hint, "one of: store, web, phone, app, bot");
            ck_diag(c, KC_ERROR, "E-table-cell", line, cl, hint, "`%s` is not a %s", w,
                    col->source);
            ok = false;
        }
    }
    if (first) { // drop the `not`
        out->words++;
        out->n--;
    }
    return ok;
}

static void parse_row(table_ck *T, row *r)
{
    kc_ck *c = T->c;
    r->when = kc__attr(r->n, "when");
    r->ok = false;
    if (!r->when->present)
        return;
    const char *raw = r->when->raw;
    size_t ncells = 1;
    for (const char *p = raw; *p; p++)
        if (*p == '|')
            ncells++;
    if (ncells != T->ncols) {
        ck_diag(c, KC_ERROR, "E-table-cells", r->when->vline, r->when->vcol,
                "separate cells with `|`; write `*` for any value",
                "the row has %zu cell%s but table `%s` has %zu input%s", ncells,
                ncells == 1 ? "" : "s", T->id, T->ncols, T->ncols == 1 ? "" : "s");
        return;
    }
    r->cells = kc__arena_alloc(&c->p->arena, ncells * sizeof *r->cells);
    if (!r->cells)
        return;
    bool ok = true;
    size_t start = 0;
    for (size_t k = 0; k < ncells; k++) {
        size_t end = start;
        while (raw[end] && raw[end] != '|')
            end++;
        size_t s = start, e = end;
        while (s < e && (raw[s] == ' ' || raw[s] == '\t' || raw[s] == '\n' || raw[s] == '\r'))
            s++;
        while (e > s && (raw[e - 1] == ' ' || raw[e - 1] == '\t' || raw[e - 1] == '\n' ||
                         raw[e - 1] == '\r'))
            e--;
        char *text = dup_range(c, raw + s, e - s);
        if (!text)
            return;
        for (char *q = text; *q; q++)
            if (*q == '\t' || *q == '\n' || *q == '\r')
                *q = ' ';
        unsigned line, cl;
        ck_pos(c, r->when, s, &line, &cl);
        cell *cc = &r->cells[k];
        const column *col = &T->cols[k];
        if (!*text) {
            ck_pos(c, r->when, start, &line, &cl);
            ck_diag(c, KC_ERROR, "E-table-cell", line, cl, "write `*` for any value",
                    "cell %zu of the row is empty", k + 1);
            ok = false;
        } else if (strcmp(text, "*") == 0) {
            cc->any = true;
            cc->lo = 0;
            cc->hi = INT64_MAX;
        } else if (col->kind == COL_BAD) {
            ok = false;
        } else if (is_numeric(col)) {
            ok = parse_numeric_cell(T, col, text, cc, line, cl) && ok;
        } else {
            ok = parse_words_cell(T, col, r, s, text, cc) && ok;
        }
        start = raw[end] ? end + 1 : end;
    }
    r->ok = ok;
}

// Checks that `text` is a value of the table's output type.
static void check_output_value(table_ck *T, const kc_node *n, const char *attr)
{
    const kc_attr *a = kc__attr(n, attr);
    const char *out = kc__str(T->t, "output");
    if (!a->present || !out)
        return;
    kc_vtype ty = strcmp(out, "percent") == 0 ? KC_V_PERCENT
                  : strcmp(out, "money") == 0 ? KC_V_MONEY
                  : strcmp(out, "factor") == 0 ? KC_V_FACTOR
                                               : KC_V_INT;
    kc_attr_spec spec = {attr, ty, 0, NULL, NULL, NULL};
    kc_value v;
    char why[256], hint[256];
    if (!kc__parse_value(&spec, a->raw, T->c->p->minor_unit, &T->c->p->arena, &v, why,
                         sizeof why, hint, sizeof hint)) {
        char h[300];
        if (!hint[0])
            snprintf(h, sizeof h, "table `%s` has output=\"%s\"", T->id, out);
        ck_diag(T->c, KC_ERROR, "E-table-value", a->vline, a->vcol, hint[0] ? hint : h,
                "%s `%s`: %s", n->spec->name, attr, why);
    }
}

// ---- set algebra over cells ----------------------------------------------------------------
static bool has_word(const cell *c, const char *w)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->words[i], w) == 0)
            return true;
    return false;
}

// b is a subset of a.
static bool contains(const column *col, const cell *a, const cell *b)
{
    if (is_numeric(col))
        return a->lo <= b->lo && b->hi <= a->hi;
    if (a->any)
        return true;
    if (b->any)
        return false;
    if (!a->neg && !b->neg) {
        for (size_t i = 0; i < b->n; i++)
            if (!has_word(a, b->words[i]))
                return false;
        return true;
    }
    if (a->neg && !b->neg) {
        for (size_t i = 0; i < b->n; i++)
            if (has_word(a, b->words[i]))
                return false;
        return true;
    }
    if (a->neg && b->neg) {
        for (size_t i = 0; i < a->n; i++)
            if (!has_word(b, a->words[i]))
                return false;
        return true;
    }
    return false; // a positive list never holds a negated (open) one
}

static bool intersects(const column *col, const cell *a, const cell *b)
{
    if (is_numeric(col))
        return (a->lo > b->lo ? a->lo : b->lo) < (a->hi < b->hi ? a->hi : b->hi);
    if (a->any || b->any || (a->neg && b->neg))
        return true;
    if (a->neg || b->neg) {
        const cell *pos = a->neg ? b : a, *neg = a->neg ? a : b;
        for (size_t i = 0; i < pos->n; i++)
            if (!has_word(neg, pos->words[i]))
                return true;
        return false;
    }
    for (size_t i = 0; i < a->n; i++)
        if (has_word(b, a->words[i]))
            return true;
    return false;
}

static bool equal_cells(const column *col, const cell *a, const cell *b)
{
    return contains(col, a, b) && contains(col, b, a);
}

typedef struct span {
    int64_t lo, hi;
    size_t row;
} span;

static int cmp_span(const void *x, const void *y)
{
    const span *a = x, *b = y;
    if (a->lo != b->lo)
        return a->lo < b->lo ? -1 : 1;
    return a->row < b->row ? -1 : a->row > b->row;
}

// ---- unreachable rows, overlaps, gaps -----------------------------------------------------
static void row_lines(const table_ck *T, const size_t *idx, size_t n, char *out, size_t outsz)
{
    size_t len = (size_t)snprintf(out, outsz, "%s ", n == 1 ? "line" : "lines");
    for (size_t i = 0; i < n && len < outsz; i++)
        len += (size_t)snprintf(out + len, outsz - len, "%s%u", i ? ", " : "",
                                T->rows[idx[i]].n->line);
}

static void report_unreachable(table_ck *T, row *r, const size_t *by, size_t nby)
{
    char lines[200];
    row_lines(T, by, nby, lines, sizeof lines);
    r->unreachable = true;
    ck_diag(T->c, KC_ERROR, "E-table-unreachable", r->when->vline, r->when->vcol,
            "with hit=\"first\" the first matching row wins; move this row up or remove it",
            "this row can never match: the row%s on %s before it cover%s all its cases",
            nby == 1 ? "" : "s", lines, nby == 1 ? "s" : "");
}

static void find_unreachable(table_ck *T)
{
    size_t *by = malloc((T->nrows ? T->nrows : 1) * sizeof *by);
    span *sp = malloc((T->nrows ? T->nrows : 1) * sizeof *sp);
    if (!by || !sp)
        goto out;
    for (size_t i = 0; i < T->nrows; i++) {
        row *r = &T->rows[i];
        bool done = false;
        for (size_t q = 0; q < i && !done; q++) {
            bool all = true;
            for (size_t k = 0; k < T->ncols && all; k++)
                all = contains(&T->cols[k], &T->rows[q].cells[k], &r->cells[k]);
            if (all) {
                by[0] = q;
                report_unreachable(T, r, by, 1);
                done = true;
            }
        }
        // Several earlier rows that hold this row in every other column may together cover
        // its range of one numeric column.
        for (size_t k = 0; k < T->ncols && !done; k++) {
            if (!is_numeric(&T->cols[k]))
                continue;
            size_t ns = 0;
            for (size_t q = 0; q < i; q++) {
                bool others = true;
                for (size_t j = 0; j < T->ncols && others; j++)
                    others = j == k || contains(&T->cols[j], &T->rows[q].cells[j], &r->cells[j]);
                const cell *qc = &T->rows[q].cells[k];
                if (others && intersects(&T->cols[k], qc, &r->cells[k]))
                    sp[ns++] = (span){qc->lo, qc->hi, q};
            }
            qsort(sp, ns, sizeof *sp, cmp_span);
            int64_t cur = r->cells[k].lo;
            size_t nby = 0;
            for (size_t s = 0; s < ns && cur < r->cells[k].hi; s++) {
                if (sp[s].lo > cur)
                    break;
                if (sp[s].hi > cur) {
                    cur = sp[s].hi;
                    by[nby++] = sp[s].row;
                }
            }
            if (cur >= r->cells[k].hi && nby) {
                // list the rows in document order
                for (size_t a = 1; a < nby; a++)
                    for (size_t b = a; b > 0 && by[b - 1] > by[b]; b--) {
                        size_t t = by[b];
                        by[b] = by[b - 1];
                        by[b - 1] = t;
                    }
                report_unreachable(T, r, by, nby);
                done = true;
            }
        }
    }
out:
    free(by);
    free(sp);
}

// The rows differ at most in column k.
static bool same_but(const table_ck *T, const row *a, const row *b, size_t k)
{
    for (size_t j = 0; j < T->ncols; j++)
        if (j != k && !equal_cells(&T->cols[j], &a->cells[j], &b->cells[j]))
            return false;
    return true;
}

static void find_overlaps(table_ck *T)
{
    for (size_t k = 0; k < T->ncols; k++) {
        const column *col = &T->cols[k];
        if (!is_numeric(col))
            continue;
        for (size_t i = 0; i < T->nrows; i++) {
            row *r = &T->rows[i];
            if (r->unreachable)
                continue;
            for (size_t q = 0; q < i; q++) {
                const row *e = &T->rows[q];
                const cell *a = &e->cells[k], *b = &r->cells[k];
                if (e->unreachable || !same_but(T, e, r, k) || !intersects(col, a, b) ||
                    contains(col, a, b) || contains(col, b, a))
                    continue;
                int64_t lo = a->lo > b->lo ? a->lo : b->lo, hi = a->hi < b->hi ? a->hi : b->hi;
                char l[48], h[48], msg[160];
                if (hi == INT64_MAX)
                    snprintf(msg, sizeof msg, "from %s up", bound_str(T, col, lo, l));
                else
                    snprintf(msg, sizeof msg, "from %s to %s", bound_str(T, col, lo, l),
                             bound_str(T, col, hi, h));
                ck_diag(T->c, KC_WARNING, "W-table-overlap", r->when->vline, r->when->vcol,
                        "`A..B` includes A and excludes B: let one range end where the next "
                        "begins",
                        "the rows on lines %u and %u both match %s %s; the first one wins",
                        e->n->line, r->n->line, col->source, msg);
                break;
            }
        }
    }
}

static void find_gaps(table_ck *T)
{
    span *sp = malloc((T->nrows ? T->nrows : 1) * sizeof *sp);
    bool *grouped = calloc(T->nrows ? T->nrows : 1, sizeof *grouped);
    if (!sp || !grouped)
        goto out;
    for (size_t k = 0; k < T->ncols; k++) {
        const column *col = &T->cols[k];
        if (!is_numeric(col))
            continue;
        memset(grouped, 0, T->nrows * sizeof *grouped);
        for (size_t i = 0; i < T->nrows; i++) {
            if (grouped[i])
                continue;
            const row *lead = &T->rows[i];
            size_t members = 0;
            int64_t lo = INT64_MAX, hi = 0;
            for (size_t q = i; q < T->nrows; q++)
                if (!grouped[q] && same_but(T, lead, &T->rows[q], k)) {
                    grouped[q] = true;
                    members++;
                    if (T->rows[q].cells[k].lo < lo)
                        lo = T->rows[q].cells[k].lo;
                    if (T->rows[q].cells[k].hi > hi)
                        hi = T->rows[q].cells[k].hi;
                }
            if (members < 2)
                continue;
            // Every row that may match some of the group's cases covers its range.
            size_t ns = 0;
            for (size_t q = 0; q < T->nrows; q++) {
                bool meets = true;
                for (size_t j = 0; j < T->ncols && meets; j++)
                    meets = j == k ||
                            intersects(&T->cols[j], &lead->cells[j], &T->rows[q].cells[j]);
                if (meets)
                    sp[ns++] = (span){T->rows[q].cells[k].lo, T->rows[q].cells[k].hi, q};
            }
            qsort(sp, ns, sizeof *sp, cmp_span);
            int64_t cur = lo;
            for (size_t s = 0; s < ns && cur < hi; s++) {
                if (sp[s].lo > cur) {
                    char a[48], b[48];
                    const row *after = &T->rows[sp[s].row];
                    ck_diag(T->c, KC_WARNING, "W-table-gap", after->when->vline,
                            after->when->vcol,
                            "extend a range (`A..B` excludes B), or give the table a `default`",
                            "no row matches %s from %s to %s", col->source,
                            bound_str(T, col, cur, a), bound_str(T, col, sp[s].lo, b));
                }
                if (sp[s].hi > cur)
                    cur = sp[s].hi;
            }
        }
    }
out:
    free(sp);
    free(grouped);
}

// ---- one table -----------------------------------------------------------------------------
static void check_table(kc_ck *c, const kc_node *t)
{
    table_ck T = {.c = c, .t = t, .id = kc__has(t, "id") ? kc__str(t, "id") : "?"};
    const char *hit = kc__str(t, "hit");
    T.hit_first = hit && strcmp(hit, "first") == 0;
    for (kc_node *in = kc__child(t, KC_E_INPUT, NULL); in; in = kc__child(t, KC_E_INPUT, in))
        T.ncols++;
    for (kc_node *r = kc__child(t, KC_E_ROW, NULL); r; r = kc__child(t, KC_E_ROW, r))
        T.nrows++;
    T.cols = kc__arena_alloc(&c->p->arena, (T.ncols + 1) * sizeof *T.cols);
    T.rows = kc__arena_alloc(&c->p->arena, (T.nrows + 1) * sizeof *T.rows);
    if (!T.cols || !T.rows)
        return;
    bool cols_ok = true;
    size_t k = 0;
    for (kc_node *in = kc__child(t, KC_E_INPUT, NULL); in; in = kc__child(t, KC_E_INPUT, in)) {
        T.cols[k] = check_input(c, in);
        cols_ok = cols_ok && T.cols[k].kind != COL_BAD;
        k++;
    }
    check_output_value(&T, t, "default");
    bool rows_ok = true;
    size_t i = 0;
    for (kc_node *r = kc__child(t, KC_E_ROW, NULL); r; r = kc__child(t, KC_E_ROW, r)) {
        T.rows[i].n = r;
        if (T.ncols)
            parse_row(&T, &T.rows[i]);
        check_output_value(&T, r, "then");
        rows_ok = rows_ok && T.rows[i].ok;
        i++;
    }
    // Coverage is only analysed on a table without errors: a broken row could hide or fill
    // anything.
    if (!cols_ok || !rows_ok || T.ncols == 0)
        return;
    if (T.hit_first) {
        find_unreachable(&T);
        find_overlaps(&T);
    }
    if (!kc__has(t, "default"))
        find_gaps(&T);
}

void kc__check_tables(kc_ck *c)
{
    for (size_t i = 0; i < c->nnodes; i++) {
        const kc_node *t = c->nodes[i];
        if (!kc__is(t, KC_E_TABLE))
            continue;
        check_table(c, t);
        const kc_attr *id = kc__attr(t, "id");
        const ck_sym *s = id->present ? ck_find(c, id->v.s) : NULL;
        if (s && s->node == t && c->table_uses[s - c->syms] == 0)
            ck_diag(c, KC_WARNING, "W-table-unused", id->vline, id->vcol,
                    "refer to it as `@id` from a percent or factor, or remove it",
                    "table `%s` is never used", id->v.s);
    }
}
