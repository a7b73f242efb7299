// SPDX-License-Identifier: MIT
// kr-ops-early-access.c: `<early-access>` rules at the till — a new line sold only to an
// audience (paid club members, a tier) until a day (docs/internals/ops.md, "Early access").
//
// The loyalty runtime cannot hide goods; it tells the till. `calculate` answers every line
// that the customer may not buy yet in "early_access" (a flag with a message for the
// cashier), so the cashier can take it off the receipt or ask for the member's card before
// payment; `confirm` refuses such a receipt ("refused", field `lines[i]`) and changes nothing.
// The rules are data read by kr-policy.c; the Lua engine never sees them.
#include "kr-ops-private.h"

#include <string.h>

// True when the customer (NULL: anonymous) is in the rule's audience: one of its segments, or
// one of its tiers.
static bool in_audience(const kr_early_access *a, const kr_engine_customer *c)
{
    if (!c)
        return false;
    for (size_t i = 0; i < c->n_segments; i++)
        if (kr__ops_listed(a->segments, a->n_segments, c->segments[i]))
            return true;
    for (size_t i = 0; i < c->n_tiers; i++)
        if (kr__ops_listed(a->tiers, a->n_tiers, c->tiers[i]))
            return true;
    return false;
}

static const char *line_attr(const kr_engine_line *l, const char *name)
{
    for (size_t i = 0; name && i < l->n_attrs; i++)
        if (strcmp(l->attrs[i].key, name) == 0)
            return l->attrs[i].value;
    return NULL;
}

// The first rule that closes line `l` to customer `c` on local day `day`, or NULL.
static const kr_early_access *closing_rule(const kr_policy *p, const kr_engine_line *l,
                                           const kr_engine_customer *c, int64_t day)
{
    for (size_t i = 0; i < p->n_early_access; i++) {
        const kr_early_access *a = &p->early_access[i];
        if ((a->from >= 0 && day < a->from) || day > a->until)
            continue;
        if (!kr_selector_match(&a->lines, l->sku, l->category, l->brand,
                               line_attr(l, a->lines.attr_name)))
            continue;
        if (!in_audience(a, c))
            return a;
    }
    return NULL;
}

// The cashier's text: the rule's message with {name} and {until} filled in, or the default.
static void cashier_text(const kr_early_access *a, kr_buf *b)
{
    char until[11];
    kr__ops_day_key(a->until, until);
    const char *tmpl = a->message ? a->message : "{name}: early access for members until {until}";
    for (const char *q = tmpl; *q;) {
        if (strncmp(q, "{name}", 6) == 0) {
            kr_buf_puts(b, a->name ? a->name : a->id);
            q += 6;
        } else if (strncmp(q, "{until}", 7) == 0) {
            kr_buf_puts(b, until);
            q += 7;
        } else {
            kr_buf_append(b, q++, 1);
        }
    }
}

int64_t kr__ops_early_access(kr_ops *o, const kr_engine_receipt *rc,
                             const kr_engine_customer *customer, kr_buf *out)
{
    if (!o->policy.n_early_access)
        return -1;
    int64_t day = kr__ops_local_day(o, rc->time);
    int64_t first = -1;
    kr_buf msg;
    kr_buf_init(&msg, 0);
    for (size_t i = 0; i < rc->n_lines; i++) {
        const kr_early_access *a = closing_rule(&o->policy, &rc->lines[i], customer, day);
        if (!a)
            continue;
        char until[11];
        kr__ops_day_key(a->until, until);
        kr_buf_reset(&msg);
        cashier_text(a, &msg);
        kr_buf_puts(out, first < 0 ? ",\"early_access\":[" : ",");
        kr_buf_printf(out, "{\"index\":%zu,\"line\":", i);
        kr_buf_json_string(out, rc->lines[i].id ? rc->lines[i].id : "");
        kr_buf_puts(out, ",\"sku\":");
        kr_buf_json_string(out, rc->lines[i].sku);
        kr_buf_puts(out, ",\"rule\":");
        kr_buf_json_string(out, a->id);
        kr_buf_printf(out, ",\"until\":\"%s\",\"message\":", until);
        kr_buf_json_string(out, msg.data ? msg.data : "");
        kr_buf_puts(out, "}");
        if (first < 0)
            first = (int64_t)i;
    }
    if (first >= 0)
        kr_buf_puts(out, "]");
    kr_buf_free(&msg);
    return first;
}

kr_ops_status kr__ops_early_access_refuse(kr_ops *o, const kr_engine_receipt *rc,
                                          const kr_engine_customer *customer, kr_buf *out)
{
    if (!o->policy.n_early_access)
        return KR_OPS_OK;
    int64_t day = kr__ops_local_day(o, rc->time);
    for (size_t i = 0; i < rc->n_lines; i++) {
        const kr_early_access *a = closing_rule(&o->policy, &rc->lines[i], customer, day);
        if (!a)
            continue;
        kr_buf msg;
        kr_buf_init(&msg, 0);
        cashier_text(a, &msg);
        char field[32];
        snprintf(field, sizeof field, "lines[%zu]", i);
        kr_ops_status st = kr__ops_fail(
            o, out, KR_OPS_REFUSED, field,
            "line %zu (SKU %s) is early access `%s`, not sold to this %s yet: %s; take it off "
            "the receipt or identify a member",
            i, rc->lines[i].sku, a->id, customer ? "customer" : "anonymous receipt",
            msg.data ? msg.data : "");
        kr_buf_free(&msg);
        return st;
    }
    return KR_OPS_OK;
}
