// SPDX-License-Identifier: MIT
// kc-diag.c: diagnostics as data — collected in a list, sorted, printed with a caret.
#include "kc-private.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void kc_diags_init(kc_diags *d)
{
    memset(d, 0, sizeof *d);
}

void kc_diags_free(kc_diags *d)
{
    for (size_t i = 0; i < d->nstrings; i++)
        free(d->strings[i]);
    free(d->strings);
    free(d->items);
    memset(d, 0, sizeof *d);
}

// Keeps an owned copy of `s` in the list; returns it, or NULL on out-of-memory.
static const char *keep(kc_diags *d, char *s)
{
    if (!s)
        return NULL;
    if (d->nstrings == d->astrings) {
        size_t n = d->astrings ? d->astrings * 2 : 32;
        char **p = realloc(d->strings, n * sizeof *p);
        if (!p) {
            free(s);
            return NULL;
        }
        d->strings = p;
        d->astrings = n;
    }
    d->strings[d->nstrings++] = s;
    return s;
}

void kc_diag_add(kc_diags *d, kc_severity sev, const char *code, const char *file, unsigned line,
                 unsigned col, const char *hint, const char *fmt, ...)
{
    if (d->count == d->alloc) {
        size_t n = d->alloc ? d->alloc * 2 : 16;
        kc_diag *p = realloc(d->items, n * sizeof *p);
        if (!p)
            return;
        d->items = p;
        d->alloc = n;
    }
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    kc_diag *g = &d->items[d->count];
    g->severity = sev;
    g->code = code;
    g->file = keep(d, strdup(file ? file : "<input>"));
    g->line = line;
    g->col = col;
    g->message = keep(d, strdup(msg));
    g->hint = hint ? keep(d, strdup(hint)) : NULL;
    if (!g->file || !g->message)
        return;
    d->count++;
    if (sev == KC_ERROR)
        d->errors++;
    else if (sev == KC_WARNING)
        d->warnings++;
}

static int cmp_diag(const void *a, const void *b)
{
    const kc_diag *x = a, *y = b;
    int c = strcmp(x->file, y->file);
    if (c)
        return c;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    if (x->col != y->col)
        return x->col < y->col ? -1 : 1;
    if (x->severity != y->severity)
        return x->severity > y->severity ? -1 : 1;
    c = strcmp(x->code, y->code);
    if (c)
        return c;
    return strcmp(x->message, y->message);
}

void kc_diags_sort(kc_diags *d)
{
    if (d->count > 1)
        qsort(d->items, d->count, sizeof d->items[0], cmp_diag);
}

static const char *severity_name(kc_severity s)
{
    switch (s) {
    case KC_ERROR:
        return "error";
    case KC_WARNING:
        return "warning";
    case KC_NOTE:
        return "note";
    }
    return "?";
}

// Finds line `line` (1-based) of `src`; returns its start and sets *len (without newline).
static const char *find_line(const char *src, size_t srclen, unsigned line, size_t *len)
{
    const char *p = src, *end = src + srclen;
    for (unsigned l = 1; l < line; l++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            return NULL;
        p = nl + 1;
    }
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    *len = (size_t)((nl ? nl : end) - p);
    if (*len && p[*len - 1] == '\r')
        (*len)--;
    return p;
}

void kc_diags_print(FILE *out, const kc_diags *d, const char *source, size_t source_len,
                    bool color)
{
    const char *bold = color ? "\033[1m" : "", *reset = color ? "\033[0m" : "";
    for (size_t i = 0; i < d->count; i++) {
        const kc_diag *g = &d->items[i];
        const char *sc = !color                       ? ""
                         : g->severity == KC_ERROR   ? "\033[1;31m"
                         : g->severity == KC_WARNING ? "\033[1;35m"
                                                     : "\033[1;36m";
        // Unknown positions are left out rather than printed as zeros.
        char where[32] = "";
        if (g->line && g->col)
            snprintf(where, sizeof where, ":%u:%u", g->line, g->col);
        else if (g->line)
            snprintf(where, sizeof where, ":%u", g->line);
        fprintf(out, "%s%s%s:%s %s%s[%s]:%s %s\n", bold, g->file, where, reset, sc,
                severity_name(g->severity), g->code, reset, g->message);
        size_t len = 0;
        const char *l =
            source && g->line && g->col ? find_line(source, source_len, g->line, &len) : NULL;
        if (l) {
            // Long lines are shown as a window of about 100 code points around the column.
            unsigned skip = g->col > 60 ? g->col - 40 : 0, cp = 1;
            size_t start = 0;
            while (start < len && cp <= skip) {
                if (((unsigned char)l[++start] & 0xC0) != 0x80)
                    cp++;
            }
            size_t stop = start;
            for (unsigned w = 0; stop < len && w < 100; stop++)
                if (((unsigned char)l[stop] & 0xC0) != 0x80)
                    w++;
            while (stop < len && ((unsigned char)l[stop] & 0xC0) == 0x80)
                stop++;
            const char *pre = start ? "..." : "", *post = stop < len ? "..." : "";
            fprintf(out, " %5u | %s%.*s%s\n       | %s", g->line, pre, (int)(stop - start),
                    l + start, post, start ? "   " : "");
            // The caret sits under column `col`, counted in code points; tabs are kept.
            cp = skip + 1;
            for (size_t k = start; k < len && cp < g->col; k++) {
                unsigned char c = (unsigned char)l[k];
                if ((c & 0xC0) == 0x80)
                    continue;
                fputc(c == '\t' ? '\t' : ' ', out);
                cp++;
            }
            fprintf(out, "%s^%s\n", sc, reset);
        }
        if (g->hint)
            fprintf(out, "       = hint: %s\n", g->hint);
    }
}
