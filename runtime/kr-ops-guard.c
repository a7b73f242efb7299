// SPDX-License-Identifier: MIT
// kr-ops-guard.c: guessing protection for card numbers. Cards imported from an ERP often have
// sequential numbers; without a limit anyone at a till or on the web could walk through them
// with calculate or balance and read members' prices and balances. Every unknown card number
// tried is counted against the request's source (a store, a sales channel); too many within
// a window lock card lookups from that source for a while. Phone, e-mail and ERP-id lookups,
// anonymous receipts and other sources go on working. The counters live in the ledger
// (kr-ledger-guard.h), so every process serving the same ledger sees the same lockout.
#include "kr-ops-private.h"

#include "kr-ledger-guard.h"

#include <stdio.h>
#include <string.h>

void kr_ops_set_card_guard(kr_ops *o, int64_t limit, int64_t window_seconds,
                           int64_t lockout_seconds)
{
    o->guard_limit = limit > 0 && window_seconds > 0 && lockout_seconds > 0 ? limit : 0;
    o->guard_window = window_seconds;
    o->guard_lockout = lockout_seconds;
}

void kr__ops_guard_source(kr_ops *o, const char *store, const char *channel, const char *fallback)
{
    if (store && store[0])
        snprintf(o->guard_source, sizeof o->guard_source, "store:%.80s", store);
    else if (channel && channel[0])
        snprintf(o->guard_source, sizeof o->guard_source, "channel:%.80s", channel);
    else
        snprintf(o->guard_source, sizeof o->guard_source, "%.90s",
                 fallback && fallback[0] ? fallback : "any");
    o->guard_missed = false;
}

// "store s1", "channel web", or the source as given.
static void source_text(const kr_ops *o, char *out, size_t n)
{
    const char *colon = strchr(o->guard_source, ':');
    if (colon && (strncmp(o->guard_source, "store:", 6) == 0 ||
                  strncmp(o->guard_source, "channel:", 8) == 0))
        snprintf(out, n, "%.*s %s", (int)(colon - o->guard_source), o->guard_source, colon + 1);
    else
        snprintf(out, n, "source %s", o->guard_source);
}

kr_ops_status kr__ops_guard_check(kr_ops *o, int64_t at, kr_buf *out)
{
    if (!o->guard_limit || !o->guard_source[0])
        return KR_OPS_OK; // off, or a request that does not take part (ERP and admin ones)
    int64_t until = 0;
    kr_ledger_status ls = kr_ledger_guard_locked(o->db, o->guard_source, at, &until);
    if (ls != KR_LEDGER_OK)
        return kr__ops_ledger_error(o, out, ls, "customer.card");
    if (!until)
        return KR_OPS_OK;
    char when[40] = "", who[128];
    kr_buf t; // kr_buf_json_time writes a JSON string: the text between its quotes
    kr_buf_init(&t, 64);
    kr_buf_json_time(&t, until);
    if (t.data && t.len >= 2)
        snprintf(when, sizeof when, "%.*s", (int)(t.len - 2), t.data + 1);
    kr_buf_free(&t);
    source_text(o, who, sizeof who);
    return kr__ops_fail(o, out, KR_OPS_REFUSED, "customer.card",
                        "too many unknown card numbers from %s: card numbers from it are not "
                        "looked up until %s (a phone, an e-mail or an ERP id still works)",
                        who, when);
}

void kr__ops_guard_missed(kr_ops *o, int64_t at)
{
    if (!o->guard_limit || !o->guard_source[0])
        return;
    o->guard_missed = true;
    o->guard_missed_at = at;
}

kr_ops_status kr__ops_guard_flush(kr_ops *o, kr_ops_status st, kr_buf *out)
{
    bool missed = o->guard_missed && o->guard_source[0];
    o->guard_missed = false;
    if (!missed) {
        o->guard_source[0] = 0;
        return st;
    }
    int64_t locked = 0;
    kr_ledger_status ls =
        kr_ledger_guard_miss(o->db, o->guard_source, o->guard_missed_at, o->guard_limit,
                             o->guard_window, o->guard_lockout, &locked);
    o->guard_source[0] = 0;
    if (ls != KR_LEDGER_OK)
        return kr__ops_ledger_error(o, out, ls, "customer.card");
    return st;
}
