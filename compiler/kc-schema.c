// SPDX-License-Identifier: MIT
// kc-schema.c: the RELAX NG schema of the language, written from the language table.
//
// compiler/schema/kopilka-1.rng is this output, committed; a test keeps the two equal and
// validates every example against it with xmllint. Children may come in any order (the
// canonical order is the formatter's business), so they form an <interleave>.
#include "kc-private.h"

#include <string.h>

#define ID_PATTERN "[A-Za-z0-9][A-Za-z0-9_.\\-]{0,63}"

static void pattern(kc_buf *out, const char *pat)
{
    kc_buf_printf(out, "<data type=\"string\"><param name=\"pattern\">%s</param></data>", pat);
}

static void choice_of(kc_buf *out, const char *values)
{
    kc_buf_puts(out, "<choice>");
    for (const char *p = values;;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        kc_buf_printf(out, "<value>%.*s</value>", (int)len, p);
        if (!bar)
            break;
        p = bar + 1;
    }
    kc_buf_puts(out, "</choice>");
}

static void type_pattern(kc_buf *out, const kc_attr_spec *a)
{
    switch (a->type) {
    case KC_V_TEXT:
    case KC_V_CELLS:
        kc_buf_puts(out, "<text/>");
        return;
    case KC_V_ID:
    case KC_V_REF:
        pattern(out, ID_PATTERN);
        return;
    case KC_V_REFS:
        kc_buf_puts(out, "<list><oneOrMore>");
        pattern(out, ID_PATTERN);
        kc_buf_puts(out, "</oneOrMore></list>");
        return;
    case KC_V_WORDS:
        kc_buf_puts(out, "<list><oneOrMore><data type=\"token\"/></oneOrMore></list>");
        return;
    case KC_V_INT:
        pattern(out, "[0-9]+");
        return;
    case KC_V_MONEY:
    case KC_V_FACTOR:
    case KC_V_AMOUNT:
        pattern(out, "[0-9]+(\\.[0-9]+)?");
        return;
    case KC_V_PERCENT:
        pattern(out, "[0-9]+(\\.[0-9]+)?%");
        return;
    case KC_V_PERCENT_REF:
        pattern(out, "[0-9]+(\\.[0-9]+)?%|@" ID_PATTERN);
        return;
    case KC_V_FACTOR_REF:
        pattern(out, "[0-9]+(\\.[0-9]+)?|@" ID_PATTERN);
        return;
    case KC_V_DATE:
        pattern(out, "[0-9]{4}-[0-9]{2}-[0-9]{2}");
        return;
    case KC_V_HOURS:
        pattern(out, "[0-9]{2}:[0-9]{2}-[0-9]{2}:[0-9]{2}");
        return;
    case KC_V_WEEKDAYS:
        kc_buf_puts(out, "<list><oneOrMore>");
        choice_of(out, "mon|tue|wed|thu|fri|sat|sun");
        kc_buf_puts(out, "</oneOrMore></list>");
        return;
    case KC_V_ENUM:
        choice_of(out, a->arg);
        return;
    case KC_V_ENUMS:
        kc_buf_puts(out, "<list><oneOrMore>");
        choice_of(out, a->arg);
        kc_buf_puts(out, "</oneOrMore></list>");
        return;
    case KC_V_BOOL:
        choice_of(out, "true|false");
        return;
    case KC_V_CURRENCY:
        pattern(out, "[A-Z]{3}");
        return;
    case KC_V_TIMEZONE:
        pattern(out, "[A-Za-z0-9/_+\\-]+");
        return;
    }
}

// In a template (`<template>` and the elements of its body, defined a second time with the
// prefix "t."), a value may also be a placeholder `{name}` for a parameter.
#define PLACEHOLDER_PATTERN "\\{[A-Za-z][A-Za-z0-9_\\-]*\\}"

static void define_element(kc_buf *out, const kc_elem_spec *e, const char *prefix)
{
    bool in_template = *prefix || e->id == KC_E_TEMPLATE;
    kc_buf_printf(out, "  <define name=\"%s%s\">\n    <element name=\"%s\">\n", prefix, e->name,
                  e->name);
    for (const kc_attr_spec *a = e->attrs; a->name; a++) {
        bool req = a->flags & KC_A_REQUIRED;
        bool param = in_template && !(a->flags & KC_A_DECLARES) && strcmp(a->name, "params");
        kc_buf_printf(out, "      %s<attribute name=\"%s\">", req ? "" : "<optional>", a->name);
        if (param)
            kc_buf_puts(out, "<choice>");
        type_pattern(out, a);
        if (param) {
            pattern(out, PLACEHOLDER_PATTERN);
            kc_buf_puts(out, "</choice>");
        }
        kc_buf_printf(out, "</attribute>%s\n", req ? "" : "</optional>");
    }
    if (e->id == KC_E_PROMOTION) {
        // A promotion built from a template sets the template's parameters as attributes.
        kc_buf_puts(out, "      <zeroOrMore><attribute><nsName ns=\"\"><except>");
        for (const kc_attr_spec *a = e->attrs; a->name; a++)
            kc_buf_printf(out, "<name ns=\"\">%s</name>", a->name);
        kc_buf_puts(out, "</except></nsName><text/></attribute></zeroOrMore>\n");
    }
    if (e->text)
        kc_buf_puts(out, "      <text/>\n");
    if (e->children[0].elem) {
        kc_buf_puts(out, "      <interleave>\n");
        for (const kc_child_spec *c = e->children; c->elem; c++) {
            const char *name = kc__elem_spec(c->elem)->name;
            const char *wrap = c->max == 1 ? (c->min ? "group" : "optional")
                                           : (c->min ? "oneOrMore" : "zeroOrMore");
            kc_buf_printf(out, "        <%s><ref name=\"%s%s\"/></%s>\n", wrap,
                          in_template ? "t." : "", name, wrap);
        }
        kc_buf_puts(out, "      </interleave>\n");
    } else if (!e->text) {
        kc_buf_puts(out, "      <empty/>\n");
    }
    kc_buf_puts(out, "    </element>\n  </define>\n");
}

kc_status kc_write_schema(kc_buf *out)
{
    kc_buf_puts(out,
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                "<!-- SPDX-License-Identifier: MIT -->\n"
                "<!-- The Kopilka rule language, version 1, as RELAX NG. Generated by\n"
                "     kopilkac with the print-schema option from compiler/kc-lang.c: do not edit by hand. -->\n"
                "<grammar xmlns=\"http://relaxng.org/ns/structure/1.0\"\n"
                "         ns=\"" KC_NAMESPACE "\"\n"
                "         datatypeLibrary=\"http://www.w3.org/2001/XMLSchema-datatypes\">\n"
                "  <start><ref name=\"program\"/></start>\n");
    for (int i = KC_E_NONE + 1; i < KC_E_COUNT; i++)
        define_element(out, kc__elem_spec((kc_elem_id)i), "");
    // The elements a template's body may hold, again, accepting placeholders.
    bool in_body[KC_E_COUNT] = {false};
    kc_elem_id stack[KC_E_COUNT];
    size_t depth = 0;
    stack[depth++] = KC_E_TEMPLATE;
    while (depth) {
        const kc_elem_spec *e = kc__elem_spec(stack[--depth]);
        for (const kc_child_spec *c = e->children; c->elem; c++)
            if (!in_body[c->elem]) {
                in_body[c->elem] = true;
                stack[depth++] = c->elem;
            }
    }
    for (int i = KC_E_NONE + 1; i < KC_E_COUNT; i++)
        if (in_body[i])
            define_element(out, kc__elem_spec((kc_elem_id)i), "t.");
    kc_buf_puts(out, "</grammar>\n");
    return out->failed ? KC_ERR_NOMEM : KC_OK;
}
