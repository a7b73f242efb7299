// SPDX-License-Identifier: MIT
// kr-ops-club.c: paid club memberships — segments with `join-sku` and `membership-days`.
//
// A membership has an end (`until`, the local midnight after its last day); the engine reads a
// customer as a member while the receipt's time is before it, so the club's discount stops at
// that midnight whether or not the jobs ran; the jobs then leave the segment and record the
// transition (kr-ops-jobs.c, job 2).
//
// - Buying: each line with a join SKU adds membership-days x qty days, counted from the
//   current end when the membership still runs (an early renewal loses nothing), else from
//   the day of the purchase. The confirm answer says what each line added:
//   "memberships": [{"segment", "line", "days", "last_day"}]; returns read it back.
// - Returning (or cancelling) units of a line that added days takes their days off the current
//   end (one card's days per unit; all the line's days once every unit is back); when that end is
//   not after the return, the membership ends at the return's time. The return's answer (stored as
//   the operation's record) says what it did: "memberships": [{"segment", "days", "last_day"} or
//   {"segment", "days", "ended": true}].
// - Joined by the ERP (customer create/update): a paid segment's membership without an end
//   gets membership-days from the day it was joined.
// - The receipt that sells the club card is evaluated as a member's (the segment is added to
//   the snapshot) unless the segment says join-receipt="guest".
#include "kr-ops-private.h"

#include <stdlib.h>
#include <string.h>

static bool is_paid(const kr_segment *seg)
{
    return seg->n_join_sku > 0 && seg->membership_days > 0;
}

static bool sells(const kr_segment *seg, const char *sku)
{
    for (size_t i = 0; sku && i < seg->n_join_sku; i++)
        if (strcmp(seg->join_sku[i], sku) == 0)
            return true;
    return false;
}

static const kr_segment *find_segment(const kr_ops *o, const char *id)
{
    for (size_t i = 0; i < o->policy.n_segments; i++)
        if (strcmp(o->policy.segments[i].id, id) == 0)
            return &o->policy.segments[i];
    return NULL;
}

static const kr_ledger_membership *find_membership(const kr_ledger_customer *c, const char *id)
{
    for (size_t i = 0; c && i < c->n_segments; i++)
        if (strcmp(c->segments[i].segment, id) == 0)
            return &c->segments[i];
    return NULL;
}

// Writes "last_day":"YYYY-MM-DD" for a membership ending at `until`.
static void last_day_json(const kr_ops *o, kr_buf *b, int64_t until)
{
    char key[11];
    kr__ops_day_key(kr__ops_local_day(o, until) - 1, key);
    kr_buf_printf(b, ",\"last_day\":\"%s\"", key);
}

void kr__ops_club_joining(const kr_ops *o, const kr_receipt *r, const kr_ledger_customer *lc,
                          int64_t at, const char **segments, size_t *n, size_t max)
{
    bool live = false; // the customer is in a segment of their own (not only the default)
    for (size_t i = 0; lc && i < lc->n_segments; i++)
        live |= lc->segments[i].until == KR_LEDGER_NEVER || lc->segments[i].until > at;
    for (size_t i = 0; i < o->policy.n_segments; i++) {
        const kr_segment *seg = &o->policy.segments[i];
        if (!is_paid(seg) || seg->join_receipt_guest)
            continue;
        bool sold = false;
        for (size_t k = 0; !sold && k < r->rc.n_lines; k++)
            sold = sells(seg, r->lines[k].sku);
        bool already = false;
        for (size_t k = 0; !already && k < *n; k++)
            already = strcmp(segments[k], seg->id) == 0;
        if (!sold || already)
            continue;
        if (!live) {
            *n = 0; // the default segments stand only for "no segment of one's own"
            live = true;
        }
        if (*n < max)
            segments[(*n)++] = seg->id;
    }
}

kr_ledger_status kr__ops_club_join(kr_ops *o, const kr_receipt *r, int64_t customer, kr_buf *answer)
{
    kr_ledger_customer *c = NULL;
    kr_ledger_status ls = KR_LEDGER_OK;
    bool first = true;
    int64_t at = r->rc.time;
    for (size_t i = 0; ls == KR_LEDGER_OK && i < o->policy.n_segments; i++) {
        const kr_segment *seg = &o->policy.segments[i];
        if (!is_paid(seg))
            continue;
        int64_t days = 0;
        for (size_t k = 0; k < r->rc.n_lines; k++)
            if (sells(seg, r->lines[k].sku))
                days += seg->membership_days * r->lines[k].qty;
        if (!days)
            continue;
        if (!c && (ls = kr_ledger_customer_get(o->db, customer, &c)) != KR_LEDGER_OK)
            break;
        const kr_ledger_membership *m = find_membership(c, seg->id);
        if (m && m->until == KR_LEDGER_NEVER)
            continue; // a membership without an end: nothing to add
        int64_t from_day =
            m && m->until > at ? kr__ops_local_day(o, m->until) : kr__ops_local_day(o, at);
        int64_t until = kr__ops_day_start(o, from_day + days);
        ls = m ? kr_ledger_segment_set_until(o->db, customer, seg->id, until)
               : kr_ledger_segment_join(o->db, customer, seg->id, at, until);
        for (size_t k = 0; ls == KR_LEDGER_OK && k < r->rc.n_lines; k++) {
            if (!sells(seg, r->lines[k].sku))
                continue;
            kr_buf_puts(answer, first ? ",\"memberships\":[{\"segment\":" : ",{\"segment\":");
            first = false;
            kr_buf_json_string(answer, seg->id);
            kr_buf_puts(answer, ",\"line\":");
            kr_buf_json_string(answer, r->lines[k].id);
            kr_buf_printf(answer, ",\"days\":%lld",
                          (long long)(seg->membership_days * r->lines[k].qty));
            last_day_json(o, answer, until);
            kr_buf_puts(answer, "}");
        }
    }
    if (!first)
        kr_buf_puts(answer, "]");
    kr_ledger_customer_free(c);
    return ls;
}

// The days of the entry for line `line` that the returning units take back (0: not returning).
static int64_t days_back(const kr__ops_line_back *v, size_t n, const char *line, int64_t days)
{
    for (size_t i = 0; line && i < n; i++)
        if (strcmp(v[i].id, line) == 0 && v[i].qty > 0)
            return days * v[i].after / v[i].qty - days * v[i].before / v[i].qty;
    return 0;
}

kr_ledger_status kr__ops_club_return(kr_ops *o, int64_t customer, const json_t *answer,
                                     const kr__ops_line_back *lines, size_t n_lines, int64_t at,
                                     kr_buf *json)
{
    json_t *ms = json_object_get(answer, "memberships");
    kr_ledger_customer *c = NULL;
    kr_ledger_status ls = KR_LEDGER_OK;
    bool first = true;
    for (size_t i = 0; ls == KR_LEDGER_OK && i < json_array_size(ms); i++) {
        const char *segment = json_string_value(json_object_get(json_array_get(ms, i), "segment"));
        if (!segment)
            continue;
        // The days of every returning line for this segment, summed once (at its first entry).
        bool seen = false;
        for (size_t k = 0; !seen && k < i; k++) {
            const char *prev = json_string_value(json_object_get(json_array_get(ms, k), "segment"));
            seen = prev && strcmp(prev, segment) == 0;
        }
        if (seen)
            continue;
        int64_t days = 0;
        for (size_t k = i; k < json_array_size(ms); k++) {
            json_t *e = json_array_get(ms, k);
            const char *seg = json_string_value(json_object_get(e, "segment"));
            if (seg && strcmp(seg, segment) == 0)
                days += days_back(lines, n_lines, json_string_value(json_object_get(e, "line")),
                                  json_integer_value(json_object_get(e, "days")));
        }
        if (days <= 0)
            continue;
        if (!c && (ls = kr_ledger_customer_get(o->db, customer, &c)) != KR_LEDGER_OK)
            break;
        const kr_ledger_membership *m = find_membership(c, segment);
        if (!m || m->until == KR_LEDGER_NEVER || m->until <= at)
            continue; // ended already (or made endless by an operator): nothing to take off
        int64_t until = kr__ops_day_start(o, kr__ops_local_day(o, m->until) - days);
        bool ended = until <= at;
        if (ended)
            until = at > m->joined_at ? at : m->joined_at + 1;
        ls = kr_ledger_segment_set_until(o->db, customer, segment, until);
        if (ls != KR_LEDGER_OK)
            break;
        kr_buf_puts(json, first ? ",\"memberships\":[{\"segment\":" : ",{\"segment\":");
        first = false;
        kr_buf_json_string(json, segment);
        kr_buf_printf(json, ",\"days\":%lld", (long long)days);
        if (ended)
            kr_buf_puts(json, ",\"ended\":true");
        else
            last_day_json(o, json, until);
        kr_buf_puts(json, "}");
    }
    if (!first)
        kr_buf_puts(json, "]");
    kr_ledger_customer_free(c);
    return ls;
}

kr_ledger_status kr__ops_club_terms(kr_ops *o, int64_t customer)
{
    kr_ledger_customer *c = NULL;
    kr_ledger_status ls = kr_ledger_customer_get(o->db, customer, &c);
    for (size_t i = 0; ls == KR_LEDGER_OK && i < c->n_segments; i++) {
        const kr_ledger_membership *m = &c->segments[i];
        const kr_segment *seg = find_segment(o, m->segment);
        if (!seg || !is_paid(seg) || m->until != KR_LEDGER_NEVER)
            continue;
        int64_t until =
            kr__ops_day_start(o, kr__ops_local_day(o, m->joined_at) + seg->membership_days);
        ls = kr_ledger_segment_set_until(o->db, customer, m->segment, until);
    }
    kr_ledger_customer_free(c);
    return ls;
}

kr_ledger_status kr__ops_club_terms_all(kr_ops *o)
{
    enum { PAGE = 500 };
    kr_ledger_segment_member *page = calloc(PAGE, sizeof *page);
    if (!page)
        return KR_LEDGER_NOMEM;
    kr_ledger_status ls = KR_LEDGER_OK;
    for (size_t i = 0; ls == KR_LEDGER_OK && i < o->policy.n_segments; i++) {
        const kr_segment *seg = &o->policy.segments[i];
        if (!is_paid(seg))
            continue;
        // Each page's rows get an end, so the next page starts after the last id.
        int64_t after = 0;
        size_t n = PAGE;
        while (ls == KR_LEDGER_OK && n == PAGE) {
            ls = kr_ledger_segment_open_ended(o->db, seg->id, after, PAGE, page, &n);
            for (size_t k = 0; ls == KR_LEDGER_OK && k < n; k++) {
                int64_t until = kr__ops_day_start(o, kr__ops_local_day(o, page[k].joined_at) +
                                                         seg->membership_days);
                ls = kr_ledger_segment_set_until(o->db, page[k].customer_id, seg->id, until);
                after = page[k].customer_id;
            }
        }
    }
    free(page);
    return ls;
}
