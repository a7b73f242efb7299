// SPDX-License-Identifier: MIT
// kc-load.c: XML text -> typed tree, driven by the language table (kc-lang.c).
//
// Parsing is hardened: files over KC_MAX_FILE_SIZE and any DOCTYPE (hence any entity or DTD)
// are refused before libxml2 sees them; libxml2 runs with no network and no entity
// substitution; nesting deeper than KC_MAX_DEPTH is refused. libxml2 trees carry line numbers
// only, so a small scanner (scan_tags) records the line and column of every start tag and
// attribute in document order, and the tree walk zips the two.
#include "kc-private.h"

#include <errno.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <stdlib.h>
#include <string.h>

// ---- positions of tags and attributes --------------------------------------------------------
typedef struct tag_attr {
    const char *name;
    size_t name_len;
    unsigned line, col, vline, vcol;
} tag_attr;

typedef struct tag_pos {
    unsigned line, col;
    size_t first_attr, nattrs;
} tag_pos;

typedef struct scan {
    tag_pos *tags;
    size_t ntags, atags;
    tag_attr *attrs;
    size_t nattrs, aattrs;
    unsigned doctype_line, doctype_col; // 0 when the file has no DOCTYPE
} scan;

typedef struct cursor {
    const char *p, *end;
    unsigned line, col;
} cursor;

static void advance(cursor *c)
{
    unsigned char ch = (unsigned char)*c->p++;
    if (ch == '\n') {
        c->line++;
        c->col = 1;
    } else if ((ch & 0xC0) != 0x80) {
        c->col++;
    }
}

static bool starts(const cursor *c, const char *s)
{
    size_t n = strlen(s);
    return (size_t)(c->end - c->p) >= n && memcmp(c->p, s, n) == 0;
}

static void skip_past(cursor *c, const char *terminator)
{
    while (c->p < c->end && !starts(c, terminator))
        advance(c);
    for (size_t i = 0; i < strlen(terminator) && c->p < c->end; i++)
        advance(c);
}

static bool is_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

static bool grow(void **arr, size_t *alloc, size_t need, size_t elem)
{
    if (need <= *alloc)
        return true;
    size_t n = *alloc ? *alloc * 2 : 64;
    while (n < need)
        n *= 2;
    void *p = realloc(*arr, n * elem);
    if (!p)
        return false;
    *arr = p;
    *alloc = n;
    return true;
}

// Records the position of every start tag and its attributes, in document order.
static bool scan_tags(const char *buf, size_t len, scan *s)
{
    cursor c = {buf, buf + len, 1, 1};
    while (c.p < c.end) {
        if (*c.p != '<') {
            advance(&c);
            continue;
        }
        if (starts(&c, "<!--")) {
            skip_past(&c, "-->");
        } else if (starts(&c, "<![CDATA[")) {
            skip_past(&c, "]]>");
        } else if (starts(&c, "<?")) {
            skip_past(&c, "?>");
        } else if (starts(&c, "<!")) {
            if (!s->doctype_line) {
                s->doctype_line = c.line;
                s->doctype_col = c.col;
            }
            skip_past(&c, ">");
        } else if (starts(&c, "</")) {
            skip_past(&c, ">");
        } else {
            if (!grow((void **)&s->tags, &s->atags, s->ntags + 1, sizeof *s->tags))
                return false;
            tag_pos *t = &s->tags[s->ntags++];
            t->line = c.line;
            t->col = c.col;
            t->first_attr = s->nattrs;
            t->nattrs = 0;
            advance(&c);
            while (c.p < c.end && !is_space(*c.p) && *c.p != '>' && *c.p != '/')
                advance(&c);
            for (;;) {
                while (c.p < c.end && is_space(*c.p))
                    advance(&c);
                if (c.p >= c.end || *c.p == '>' || *c.p == '/')
                    break;
                if (!grow((void **)&s->attrs, &s->aattrs, s->nattrs + 1, sizeof *s->attrs))
                    return false;
                tag_attr *a = &s->attrs[s->nattrs++];
                t->nattrs++;
                a->name = c.p;
                a->line = c.line;
                a->col = c.col;
                while (c.p < c.end && !is_space(*c.p) && *c.p != '=' && *c.p != '>')
                    advance(&c);
                a->name_len = (size_t)(c.p - a->name);
                while (c.p < c.end && (is_space(*c.p) || *c.p == '='))
                    advance(&c);
                a->vline = c.line;
                a->vcol = c.col;
                if (c.p < c.end && (*c.p == '"' || *c.p == '\'')) {
                    char q = *c.p;
                    advance(&c);
                    a->vline = c.line;
                    a->vcol = c.col;
                    while (c.p < c.end && *c.p != q)
                        advance(&c);
                    if (c.p < c.end)
                        advance(&c);
                } else {
                    break; // not well-formed; libxml2 reports it
                }
            }
            skip_past(&c, ">");
        }
    }
    return true;
}

// ---- the loader ----------------------------------------------------------------------------
typedef struct loader {
    kc_program *prog;
    kc_diags *d;
    scan sc;
    size_t next_tag;  // index into sc.tags of the next element in document order
    unsigned doc_index;
    unsigned in_template; // > 0 while building a <template> and its body
} loader;

static tag_pos *next_pos(loader *L)
{
    return L->next_tag < L->sc.ntags ? &L->sc.tags[L->next_tag++] : NULL;
}

static const tag_attr *find_attr_pos(const loader *L, const tag_pos *t, const char *name)
{
    if (!t)
        return NULL;
    size_t n = strlen(name);
    for (size_t i = 0; i < t->nattrs; i++) {
        const tag_attr *a = &L->sc.attrs[t->first_attr + i];
        if (a->name_len == n && memcmp(a->name, name, n) == 0)
            return a;
    }
    return NULL;
}

// Consumes the positions of an element subtree that is not typed (unknown element).
static void skip_subtree(loader *L, xmlNode *x)
{
    for (xmlNode *c = x->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        next_pos(L);
        skip_subtree(L, c);
    }
}

static const char *file(const loader *L)
{
    return L->prog->file;
}

size_t kc__placeholder(const char *raw)
{
    size_t n = raw ? strlen(raw) : 0;
    if (n < 3 || raw[0] != '{' || raw[n - 1] != '}')
        return 0;
    if (!((raw[1] >= 'a' && raw[1] <= 'z') || (raw[1] >= 'A' && raw[1] <= 'Z')))
        return 0;
    for (size_t i = 2; i + 1 < n; i++) {
        char ch = raw[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '_'))
            return 0;
    }
    return n - 2;
}

// An attribute of `<promotion template="...">` that `<promotion>` does not have is a value
// of one of the template's parameters; kc-template.c checks its name against the template.
static bool keep_arg(loader *L, kc_node *n, xmlNode *x, const char *name, const tag_attr *ap,
                     unsigned line, unsigned col)
{
    if (n->spec->id != KC_E_PROMOTION || !xmlHasProp(x, (const xmlChar *)"template"))
        return false;
    if (!n->args) {
        unsigned count = 0;
        for (xmlAttr *xa = x->properties; xa; xa = xa->next)
            count++;
        n->args = kc__arena_alloc(&L->prog->arena, count * sizeof *n->args);
        if (!n->args)
            return true;
    }
    xmlChar *raw = xmlGetNoNsProp(x, (const xmlChar *)name);
    kc_arg *g = &n->args[n->nargs++];
    g->name = kc__arena_strndup(&L->prog->arena, name, strlen(name));
    g->raw = kc__arena_strndup(&L->prog->arena, raw ? (const char *)raw : "",
                               raw ? strlen((const char *)raw) : 0);
    xmlFree(raw);
    g->line = line;
    g->col = col;
    g->vline = ap ? ap->vline : line;
    g->vcol = ap ? ap->vcol : col;
    return true;
}

static void type_attrs(loader *L, kc_node *n, xmlNode *x, const tag_pos *t)
{
    const kc_elem_spec *e = n->spec;
    size_t na = kc__attr_count(e);
    for (xmlAttr *xa = x->properties; xa; xa = xa->next) {
        const char *name = (const char *)xa->name;
        const tag_attr *ap = find_attr_pos(L, t, name);
        unsigned line = ap ? ap->line : n->line, col = ap ? ap->col : n->col;
        if (xa->ns) {
            kc_diag_add(L->d, KC_ERROR, "E-attr-unknown", file(L), line, col, NULL,
                        "attribute `%s:%s` is not part of the language", xa->ns->prefix, name);
            continue;
        }
        size_t k = 0;
        while (k < na && strcmp(e->attrs[k].name, name) != 0)
            k++;
        if (k == na && !xa->ns && keep_arg(L, n, x, name, ap, line, col))
            continue;
        if (k == na) {
            const char *cands[64];
            size_t nc = 0;
            for (size_t i = 0; i < na && nc < 64; i++)
                cands[nc++] = e->attrs[i].name;
            const char *s = kc__suggest(name, cands, nc);
            char hint[160];
            snprintf(hint, sizeof hint, "did you mean `%s`?", s ? s : "");
            kc_diag_add(L->d, KC_ERROR, "E-attr-unknown", file(L), line, col, s ? hint : NULL,
                        "`%s` has no attribute `%s`", e->name, name);
            continue;
        }
        xmlChar *raw = xmlNodeListGetString(x->doc, xa->children, 1);
        kc_attr *a = &n->attrs[k];
        a->present = true;
        a->line = line;
        a->col = col;
        a->vline = ap ? ap->vline : line;
        a->vcol = ap ? ap->vcol : col;
        a->raw = kc__arena_strndup(&L->prog->arena, raw ? (const char *)raw : "",
                                   raw ? strlen((const char *)raw) : 0);
        xmlFree(raw);
        if (!a->raw)
            return;
        size_t pl = L->in_template && !(e->attrs[k].flags & KC_A_DECLARES) &&
                            strcmp(name, "params") != 0
                        ? kc__placeholder(a->raw)
                        : 0;
        if (pl) {
            // `{name}` in a template: the value comes from each promotion built from it.
            a->param = kc__arena_strndup(&L->prog->arena, a->raw + 1, pl);
            a->present = false;
            continue;
        }
        char why[256], hint[256];
        if (!kc__parse_value(&e->attrs[k], a->raw, L->prog->minor_unit, &L->prog->arena, &a->v,
                             why, sizeof why, hint, sizeof hint)) {
            kc_diag_add(L->d, KC_ERROR, "E-attr-value", file(L), a->vline, a->vcol,
                        hint[0] ? hint : NULL, "%s `%s`: %s", e->name, name, why);
            a->present = false; // a value that failed to type is treated as absent downstream
            a->raw = NULL;
        }
    }
    for (size_t k = 0; k < na; k++) {
        const kc_attr_spec *as = &e->attrs[k];
        kc_attr *a = &n->attrs[k];
        if (a->present)
            continue;
        if ((as->flags & KC_A_REQUIRED) && !find_attr_pos(L, t, as->name)) {
            kc_diag_add(L->d, KC_ERROR, "E-attr-missing", file(L), n->line, n->col, NULL,
                        "`%s` needs the attribute `%s` (%s)", e->name, as->name, as->doc);
        }
        if (as->def) {
            char why[256], hint[256];
            if (kc__parse_value(as, as->def, L->prog->minor_unit, &L->prog->arena, &a->v, why,
                                sizeof why, hint, sizeof hint))
                a->defaulted = true;
        }
    }
}

static const kc_child_spec *child_spec(const kc_elem_spec *parent, const char *name)
{
    for (const kc_child_spec *c = parent->children; c->elem; c++)
        if (strcmp(kc__elem_spec(c->elem)->name, name) == 0)
            return c;
    return NULL;
}

static void report_unknown_element(loader *L, const kc_elem_spec *parent, const char *name,
                                   unsigned line, unsigned col)
{
    const kc_elem_spec *known = kc__elem_by_name(name);
    char hint[200];
    const char *h = NULL;
    if (known) {
        // Name a parent that accepts it, for "`tier` belongs inside `ladder`".
        for (int i = KC_E_NONE + 1; i < KC_E_COUNT; i++) {
            const kc_elem_spec *p = kc__elem_spec((kc_elem_id)i);
            if (child_spec(p, name)) {
                snprintf(hint, sizeof hint, "`%s` belongs inside `%s`", name, p->name);
                h = hint;
                break;
            }
        }
        kc_diag_add(L->d, KC_ERROR, "E-element-misplaced", file(L), line, col, h,
                    "`%s` is not allowed inside `%s`", name, parent->name);
        return;
    }
    const char *cands[32];
    size_t nc = 0;
    for (const kc_child_spec *c = parent->children; c->elem && nc < 32; c++)
        cands[nc++] = kc__elem_spec(c->elem)->name;
    const char *s = kc__suggest(name, cands, nc);
    if (s) {
        snprintf(hint, sizeof hint, "did you mean `%s`?", s);
        h = hint;
    }
    kc_diag_add(L->d, KC_ERROR, "E-element-unknown", file(L), line, col, h,
                "unknown element `%s` inside `%s`", name, parent->name);
}

static int cmp_rank(const void *a, const void *b);

typedef struct ranked {
    kc_node *n;
    unsigned rank;
} ranked;

static int cmp_rank(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->rank != y->rank)
        return x->rank < y->rank ? -1 : 1;
    return x->n->doc_index < y->n->doc_index ? -1 : (x->n->doc_index > y->n->doc_index);
}

// Orders the children canonically: by rank of their kind, document order within a rank; a
// comment travels with the element that follows it.
static void sort_children(kc_node *n)
{
    size_t count = 0;
    for (kc_node *c = n->first; c; c = c->next)
        count++;
    if (count < 2)
        return;
    ranked *r = malloc(count * sizeof *r);
    if (!r)
        return;
    size_t i = 0;
    for (kc_node *c = n->first; c; c = c->next)
        r[i++].n = c;
    unsigned next_rank = 0xFFFFFFFFu;
    for (size_t k = count; k-- > 0;) {
        if (r[k].n->spec) {
            const kc_child_spec *cs = child_spec(n->spec, r[k].n->spec->name);
            next_rank = cs ? cs->rank : 0;
        }
        r[k].rank = next_rank;
    }
    // Comments take the rank of the next element but must stay just before it, so they
    // sort by the doc index of that element: give them its doc index minus a half.
    qsort(r, count, sizeof *r, cmp_rank);
    n->first = r[0].n;
    for (i = 0; i + 1 < count; i++)
        r[i].n->next = r[i + 1].n;
    r[count - 1].n->next = NULL;
    n->last = r[count - 1].n;
    free(r);
}

static void append_child(kc_node *parent, kc_node *c)
{
    c->parent = parent;
    if (parent->last)
        parent->last->next = c;
    else
        parent->first = c;
    parent->last = c;
}

static char *trimmed_text(loader *L, xmlNode *x)
{
    xmlChar *t = xmlNodeGetContent(x);
    if (!t)
        return NULL;
    const char *s = (const char *)t, *e = s + strlen(s);
    while (s < e && is_space(*s))
        s++;
    while (e > s && is_space(e[-1]))
        e--;
    char *r = kc__arena_strndup(&L->prog->arena, s, (size_t)(e - s));
    xmlFree(t);
    return r;
}

static kc_node *build(loader *L, xmlNode *x, const kc_elem_spec *spec, const tag_pos *t,
                      unsigned depth);

static void build_children(loader *L, kc_node *n, xmlNode *x, unsigned depth)
{
    const kc_elem_spec *e = n->spec;
    unsigned counts[KC_E_COUNT] = {0};
    for (xmlNode *c = x->children; c; c = c->next) {
        if (c->type == XML_COMMENT_NODE) {
            kc_node *cm = kc__arena_alloc(&L->prog->arena, sizeof *cm);
            if (!cm)
                return;
            cm->line = (unsigned)xmlGetLineNo(c);
            cm->doc_index = L->doc_index++;
            cm->text = trimmed_text(L, c);
            append_child(n, cm);
            continue;
        }
        if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
            if (e->text)
                continue;
            const xmlChar *s = c->content;
            bool blank = true;
            for (; s && *s; s++)
                if (!is_space((char)*s))
                    blank = false;
            if (!blank)
                kc_diag_add(L->d, KC_ERROR, "E-text", file(L), (unsigned)xmlGetLineNo(c), 0,
                            "put text in a `name` or `message` attribute",
                            "text is not allowed inside `%s`", e->name);
            continue;
        }
        if (c->type != XML_ELEMENT_NODE)
            continue;
        const tag_pos *ct = next_pos(L);
        unsigned line = ct ? ct->line : (unsigned)xmlGetLineNo(c), col = ct ? ct->col : 0;
        const char *name = (const char *)c->name;
        if (!c->ns || strcmp((const char *)c->ns->href, KC_NAMESPACE) != 0) {
            kc_diag_add(L->d, KC_ERROR, "E-namespace", file(L), line, col,
                        "elements of a program are in xmlns=\"" KC_NAMESPACE "\"",
                        "element `%s` is not in the Kopilka namespace", name);
            skip_subtree(L, c);
            continue;
        }
        const kc_child_spec *cs = child_spec(e, name);
        if (!cs) {
            report_unknown_element(L, e, name, line, col);
            skip_subtree(L, c);
            continue;
        }
        kc_node *cn = build(L, c, kc__elem_spec(cs->elem), ct, depth + 1);
        if (!cn)
            continue;
        if (++counts[cs->elem] == cs->max + 1 && cs->max)
            kc_diag_add(L->d, KC_ERROR, "E-child-count", file(L), cn->line, cn->col,
                        cs->max == 1 ? "merge the two into one" : NULL,
                        "`%s` may contain at most %u `%s`", e->name, cs->max, name);
        append_child(n, cn);
    }
    for (const kc_child_spec *cs = e->children; cs->elem; cs++)
        if (counts[cs->elem] < cs->min)
            kc_diag_add(L->d, KC_ERROR, "E-child-count", file(L), n->line, n->col, NULL,
                        "`%s` needs at least %u `%s`", e->name, cs->min,
                        kc__elem_spec(cs->elem)->name);
    sort_children(n);
}

static kc_node *build(loader *L, xmlNode *x, const kc_elem_spec *spec, const tag_pos *t,
                      unsigned depth)
{
    kc_node *n = kc__arena_alloc(&L->prog->arena, sizeof *n);
    if (!n)
        return NULL;
    n->spec = spec;
    n->line = t ? t->line : (unsigned)xmlGetLineNo(x);
    n->col = t ? t->col : 0;
    n->doc_index = L->doc_index++;
    if (depth > KC_MAX_DEPTH) {
        kc_diag_add(L->d, KC_ERROR, "E-depth", file(L), n->line, n->col, NULL,
                    "elements are nested deeper than %d levels", KC_MAX_DEPTH);
        skip_subtree(L, x);
        return NULL;
    }
    n->attrs = kc__arena_alloc(&L->prog->arena, (kc__attr_count(spec) + 1) * sizeof *n->attrs);
    if (!n->attrs)
        return NULL;
    bool tmpl = spec->id == KC_E_TEMPLATE;
    L->in_template += tmpl;
    type_attrs(L, n, x, t);
    if (spec->text)
        n->text = trimmed_text(L, x);
    build_children(L, n, x, depth);
    L->in_template -= tmpl;
    return n;
}

// ---- libxml2 errors -------------------------------------------------------------------------
typedef struct xml_errors {
    loader *L;
    bool any;
} xml_errors;

static void on_xml_error(void *ctx, xmlErrorPtr err)
{
    xml_errors *xe = ctx;
    if (!err || err->level == XML_ERR_WARNING || xe->any)
        return; // the first fatal error is the one worth reading; the rest follow from it
    xe->any = true;
    char msg[512];
    snprintf(msg, sizeof msg, "%s", err->message ? err->message : "malformed XML");
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        msg[--n] = '\0';
    kc_diag_add(xe->L->d, KC_ERROR, "E-xml", file(xe->L), (unsigned)err->line,
                (unsigned)(err->int2 > 0 ? err->int2 : 0), NULL, "the file is not well-formed XML: %s",
                msg);
}

static void ignore_generic(void *ctx, const char *msg, ...)
{
    (void)ctx;
    (void)msg;
}

kc_program *kc_load_memory(const char *name, const char *buf, size_t len, kc_diags *d)
{
    kc_program *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->minor_unit = 2;
    p->file = kc__arena_strndup(&p->arena, name, strlen(name));
    p->source = malloc(len + 1);
    if (!p->file || !p->source) {
        kc_program_free(p);
        return NULL;
    }
    memcpy(p->source, buf, len);
    p->source[len] = '\0';
    p->source_len = len;

    loader L = {.prog = p, .d = d};
    if (len > KC_MAX_FILE_SIZE) {
        kc_diag_add(d, KC_ERROR, "E-size", name, 1, 1, NULL,
                    "the file is larger than %u bytes", KC_MAX_FILE_SIZE);
        goto fail;
    }
    if (memchr(buf, '\0', len)) {
        kc_diag_add(d, KC_ERROR, "E-xml", name, 1, 1, NULL, "the file contains a NUL byte");
        goto fail;
    }
    if (!scan_tags(buf, len, &L.sc)) {
        free(L.sc.tags);
        free(L.sc.attrs);
        kc_program_free(p);
        return NULL;
    }
    if (L.sc.doctype_line) {
        kc_diag_add(d, KC_ERROR, "E-doctype", name, L.sc.doctype_line, L.sc.doctype_col,
                    "remove the DOCTYPE; programs need no DTD",
                    "DOCTYPE and entity declarations are not allowed");
        goto fail;
    }

    xml_errors xe = {.L = &L};
    xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
    if (!ctxt) {
        kc_program_free(p);
        return NULL;
    }
    xmlSetStructuredErrorFunc(&xe, on_xml_error);
    xmlSetGenericErrorFunc(NULL, ignore_generic);
    // No network, no entity substitution, no DTD loading or validation; bounded by libxml2's
    // default (non-HUGE) limits on names, text and depth.
    xmlDocPtr doc = xmlCtxtReadMemory(ctxt, buf, (int)len, name, NULL,
                                      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    xmlSetStructuredErrorFunc(NULL, NULL);
    xmlSetGenericErrorFunc(NULL, NULL);
    xmlFreeParserCtxt(ctxt);
    if (!doc || xe.any) {
        if (!xe.any)
            kc_diag_add(d, KC_ERROR, "E-xml", name, 1, 1, NULL, "the file is not well-formed XML");
        xmlFreeDoc(doc);
        goto fail;
    }
    xmlNode *root = xmlDocGetRootElement(doc);
    const tag_pos *rt = next_pos(&L);
    unsigned rl = rt ? rt->line : 1, rc = rt ? rt->col : 1;
    if (!root || strcmp((const char *)root->name, "program") != 0) {
        kc_diag_add(d, KC_ERROR, "E-element-unknown", name, rl, rc,
                    "a program file starts with <program xmlns=\"" KC_NAMESPACE "\" ...>",
                    "the root element is `%s`, not `program`", root ? (const char *)root->name : "");
    } else if (!root->ns || strcmp((const char *)root->ns->href, KC_NAMESPACE) != 0) {
        kc_diag_add(d, KC_ERROR, "E-namespace", name, rl, rc,
                    "add xmlns=\"" KC_NAMESPACE "\" to <program>",
                    "`program` is not in the Kopilka namespace");
    } else {
        xmlChar *mu = xmlGetNoNsProp(root, (const xmlChar *)"minor-unit");
        if (mu) {
            char *end;
            errno = 0;
            long v = strtol((const char *)mu, &end, 10);
            if (!errno && !*end && v >= 0 && v <= 4)
                p->minor_unit = (int)v;
            else
                kc_diag_add(d, KC_ERROR, "E-attr-value", name, rl, rc, "0 to 4",
                            "`minor-unit` must be a number of decimal places from 0 to 4");
            xmlFree(mu);
        }
        p->root = build(&L, root, kc__elem_spec(KC_E_PROGRAM), rt, 1);
        if (p->root)
            kc__expand_templates(p, d);
    }
    xmlFreeDoc(doc);
    free(L.sc.tags);
    free(L.sc.attrs);
    return p;

fail:
    // The program is kept without a tree, so callers can still print the source lines.
    free(L.sc.tags);
    free(L.sc.attrs);
    return p;
}

kc_program *kc_load_file(const char *path, kc_diags *d)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        kc_diag_add(d, KC_ERROR, "E-io", path, 0, 0, NULL, "cannot open: %s", strerror(errno));
        return NULL;
    }
    size_t cap = (size_t)KC_MAX_FILE_SIZE + 1, len = 0;
    char *buf = malloc(cap);
    if (!buf) {
        fclose(f);
        return NULL;
    }
    len = fread(buf, 1, cap, f);
    bool err = ferror(f);
    fclose(f);
    if (err) {
        kc_diag_add(d, KC_ERROR, "E-io", path, 0, 0, NULL, "cannot read the file");
        free(buf);
        return NULL;
    }
    kc_program *p = kc_load_memory(path, buf, len, d);
    free(buf);
    return p;
}

void kc_program_free(kc_program *p)
{
    if (!p)
        return;
    free(p->source);
    kc__arena_free(&p->arena);
    free(p);
}

const char *kc_program_source(const kc_program *p, size_t *len)
{
    if (len)
        *len = p->source_len;
    return p->source;
}

// ---- tree access ---------------------------------------------------------------------------
static size_t attr_index(const kc_node *n, const char *name)
{
    for (size_t k = 0; n->spec->attrs[k].name; k++)
        if (strcmp(n->spec->attrs[k].name, name) == 0)
            return k;
    fprintf(stderr, "kopilka internal error: `%s` has no attribute `%s`\n", n->spec->name, name);
    abort();
}

const kc_attr *kc__attr(const kc_node *n, const char *name)
{
    return &n->attrs[attr_index(n, name)];
}

bool kc__has(const kc_node *n, const char *name)
{
    const kc_attr *a = kc__attr(n, name);
    return a->present;
}

int64_t kc__int(const kc_node *n, const char *name)
{
    const kc_attr *a = kc__attr(n, name);
    return a->present || a->defaulted ? a->v.i : 0;
}

const char *kc__str(const kc_node *n, const char *name)
{
    const kc_attr *a = kc__attr(n, name);
    return a->present || a->defaulted ? a->v.s : NULL;
}

kc_node *kc__child(const kc_node *n, kc_elem_id id, const kc_node *after)
{
    kc_node *c = after ? after->next : n->first;
    for (; c; c = c->next)
        if (kc__is(c, id))
            return c;
    return NULL;
}
