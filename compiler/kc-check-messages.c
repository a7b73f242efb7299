// SPDX-License-Identifier: MIT
// kc-check-messages.c: the placeholders of a ladder's customer messages (docs/rules-language.md,
// 3.3 "Messages on the receipt"). The runtime fills the ones each attribute names and leaves
// any other `{word}` as written, so the customer would read `{lft}` on the slip: such a
// placeholder is an error here, at its own line and column.
//
// Diagnostic codes added here (docs/rules-language.md lists them all):
//   E-message-placeholder  a `{name}` the message's attribute does not fill (hint: the ones it
//                          does), or `{date}` on a ladder whose window never
//                          ends (all-time, rolling-days)
#include "kc-check-private.h"

#include <string.h>

// Length of a `{name}` placeholder at `p` (as the runtime reads one: a letter, then letters,
// digits, '-' or '_'), 0 when `p` does not start one.
static size_t placeholder_at(const char *p)
{
    if (p[0] != '{' || !((p[1] >= 'a' && p[1] <= 'z') || (p[1] >= 'A' && p[1] <= 'Z')))
        return 0;
    size_t i = 2;
    while ((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') ||
           (p[i] >= '0' && p[i] <= '9') || p[i] == '-' || p[i] == '_')
        i++;
    return p[i] == '}' ? i + 1 : 0;
}

static bool in_names(const char *const *names, const char *name, size_t len)
{
    for (size_t k = 0; names[k]; k++)
        if (strlen(names[k]) == len && strncmp(names[k], name, len) == 0)
            return true;
    return false;
}

// Checks the placeholders of attribute `attr` of `n` against `names` (NULL-terminated).
// `no_date` names why `{date}` cannot be filled (NULL: it can, when listed).
static void check_message(kc_ck *c, const kc_node *n, const char *attr,
                          const char *const *names, const char *no_date)
{
    if (!ck_present(n, attr))
        return;
    const kc_attr *a = kc__attr(n, attr);
    char known[96] = "";
    for (size_t k = 0; names[k]; k++)
        snprintf(known + strlen(known), sizeof known - strlen(known), "%s{%s}", k ? ", " : "",
                 names[k]);
    for (size_t i = 0; a->raw && a->raw[i]; i++) {
        size_t len = placeholder_at(a->raw + i);
        if (!len)
            continue;
        const char *name = a->raw + i + 1;
        size_t nlen = len - 2;
        unsigned line, col;
        ck_pos(c, a, i, &line, &col);
        if (!in_names(names, name, nlen)) {
            char hint[128];
            snprintf(hint, sizeof hint, "`%s` fills %s", attr, known);
            ck_diag(c, KC_ERROR, "E-message-placeholder", line, col, hint,
                    "`{%.*s}` is not filled in: the customer would read it as written",
                    (int)nlen, name);
        } else if (no_date && nlen == 4 && strncmp(name, "date", 4) == 0) {
            ck_diag(c, KC_ERROR, "E-message-placeholder", line, col,
                    "leave `{date}` out, or use a calendar window",
                    "`{date}` is the period's last day, and %s", no_date);
        }
        i += len - 1;
    }
}

void kc__check_ladder_messages(kc_ck *c, const kc_node *l)
{
    static const char *const progress[] = {"tier", "left", "date", NULL};
    static const char *const upgrade[] = {"tier", NULL};
    const char *w = ck_present(l, "window") ? kc__str(l, "window") : NULL;
    const char *no_date = NULL;
    if (w && strcmp(w, "all-time") == 0)
        no_date = "an all-time window never ends";
    else if (w && strcmp(w, "rolling-days") == 0)
        no_date = "a rolling-days window never ends";
    check_message(c, l, "progress-message", progress, no_date);
    check_message(c, l, "upgrade-message", upgrade, NULL);
}
