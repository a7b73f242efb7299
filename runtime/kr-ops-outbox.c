// SPDX-License-Identifier: MIT
// kr-ops-outbox.c: the notification outbox as the messaging integration sees it (kr-ops.h):
// list the entries waiting to be sent, with their texts and where to send them, and
// acknowledge them as sent.
//
// The entries are written by the jobs (warnings, birthdays, inactivity, tier reminders) and by
// the triggers of receipts, registrations and events (kr-ops-jobs.c, kr-ops-triggers.c), with
// their message already filled in. The integration polls `list` (with `after` as a cursor),
// delivers each entry by the first channel that works, and calls `ack`; an entry acked stays
// in the ledger in state "sent" and is not listed again.
#include "kr-ops-private.h"

#include <stdlib.h>
#include <string.h>

#define OUTBOX_LIST_DEFAULT 100
#define OUTBOX_LIST_MAX 1000
#define OUTBOX_ACK_MAX 1000

// Appends one entry: {"id", "kind", "customer", "to": {"id", "name", "phone", "email"},
// "channels": [...], "created", "message", "payload": {...}}.
static kr_ledger_status write_entry(kr_ops *o, const kr_ledger_outbox_msg *m, kr_buf *out)
{
    kr_ledger_customer *c = NULL;
    kr_ledger_status ls = kr_ledger_customer_get(o->db, m->customer_id, &c);
    if (ls != KR_LEDGER_OK)
        return ls;
    kr_buf_printf(out, "{\"id\":%lld,\"kind\":", (long long)m->id);
    kr_buf_json_string(out, m->kind);
    kr_buf_printf(out, ",\"customer\":%lld,\"to\":{", (long long)m->customer_id);
    kr__ops_contacts_json(out, c);
    kr_buf_puts(out, "},\"channels\":[");
    // Stored comma-separated, in the program's order of preference.
    const char *p = m->channels;
    for (bool first = true; *p; first = false) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        char ch[KR_LEDGER_ID_MAX];
        snprintf(ch, sizeof ch, "%.*s", (int)n, p);
        kr_buf_puts(out, first ? "" : ",");
        kr_buf_json_string(out, ch);
        p += n + (comma ? 1 : 0);
    }
    kr_buf_puts(out, "],\"created\":");
    kr_buf_json_time(out, m->created_at);
    // The payload is the ledger's own JSON; its "message" is the text to send.
    json_t *payload = json_loads(m->payload ? m->payload : "null", JSON_DECODE_ANY, NULL);
    const char *message = json_string_value(json_object_get(payload, "message"));
    kr_buf_puts(out, ",\"message\":");
    kr_buf_json_string_or_null(out, message);
    kr_buf_puts(out, ",\"payload\":");
    kr_buf_puts(out, payload && m->payload ? m->payload : "null");
    kr_buf_puts(out, "}");
    json_decref(payload);
    kr_ledger_customer_free(c);
    return KR_LEDGER_OK;
}

kr_ops_status kr_ops_outbox_list(kr_ops *o, const char *json, size_t len, kr_buf *out)
{
    static const char *const keys[] = {"customer", "after", "limit", NULL};
    kr_input_error err = {0};
    json_t *root = kr_json_parse(json, len, o->line, &err);
    if (!root)
        return kr__ops_input_error(o, out, &err);
    kr_json_obj obj = {.obj = root, .err = &err};
    int64_t after = 0, limit = OUTBOX_LIST_DEFAULT;
    kr_customer_ref ref = {0};
    bool by_customer = json_object_get(root, "customer") != NULL;
    if (!kr_json_expect_object(&obj, keys) ||
        (by_customer && !kr__ops_read_ref(&obj, "customer", &ref)) ||
        !kr_json_int(&obj, "after", false, 0, INT64_MAX, &after) ||
        !kr_json_int(&obj, "limit", false, 1, OUTBOX_LIST_MAX, &limit)) {
        json_decref(root);
        return kr__ops_input_error(o, out, &err);
    }
    int64_t customer = 0;
    kr_ops_status st = KR_OPS_OK;
    if (by_customer) {
        st = kr__ops_resolve(o, &ref, 0, false, &customer, out);
        if (st == KR_OPS_OK && customer <= 0)
            st = kr__ops_fail(o, out, KR_OPS_NOT_FOUND, "customer",
                              "the card has no customer yet");
    }
    json_decref(root);
    if (st != KR_OPS_OK)
        return st;
    kr_ledger_outbox_msg *v = NULL;
    size_t n = 0;
    kr_ledger_status ls = kr_ledger_outbox_pending(o->db, customer, after, (size_t)limit, &v, &n);
    if (ls != KR_LEDGER_OK)
        return kr__ops_ledger_error(o, out, ls, NULL);
    kr_buf_reset(out);
    kr_buf_puts(out, "{\"entries\":[");
    for (size_t i = 0; i < n && ls == KR_LEDGER_OK; i++) {
        kr_buf_puts(out, i ? "," : "");
        ls = write_entry(o, &v[i], out);
    }
    // "last": the cursor for the next call's "after" (the request's own when nothing is new).
    kr_buf_printf(out, "],\"last\":%lld}", (long long)(n ? v[n - 1].id : after));
    kr_ledger_outbox_free(v, n);
    if (ls != KR_LEDGER_OK)
        return kr__ops_ledger_error(o, out, ls, NULL);
    return out->failed ? KR_OPS_FAILED : KR_OPS_OK;
}

kr_ops_status kr_ops_outbox_ack(kr_ops *o, const char *json, size_t len, int64_t at, kr_buf *out)
{
    static const char *const keys[] = {"ids", NULL};
    kr_input_error err = {0};
    json_t *root = kr_json_parse(json, len, o->line, &err);
    if (!root)
        return kr__ops_input_error(o, out, &err);
    kr_json_obj obj = {.obj = root, .err = &err};
    const json_t *ids = NULL;
    if (!kr_json_expect_object(&obj, keys) || !kr_json_array(&obj, "ids", true, &ids) ||
        ((json_array_size(ids) == 0 || json_array_size(ids) > OUTBOX_ACK_MAX) &&
         !kr_json_fail(&obj, "ids", "acknowledge 1 to %d entries at a time", OUTBOX_ACK_MAX))) {
        json_decref(root);
        return kr__ops_input_error(o, out, &err);
    }
    // Every id is checked before anything is written: one unknown or cancelled entry refuses
    // the whole request.
    size_t n = json_array_size(ids);
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(ids, i);
        if (!json_is_integer(v) || json_integer_value(v) < 1) {
            char field[32];
            snprintf(field, sizeof field, "ids[%zu]", i);
            json_decref(root);
            return kr__ops_fail(o, out, KR_OPS_INVALID, field,
                                "an outbox entry id is a whole number from `outbox list`");
        }
    }
    kr_ledger_status ls = kr_ledger_begin(o->db);
    if (ls != KR_LEDGER_OK) {
        json_decref(root);
        return kr__ops_ledger_error(o, out, ls, NULL);
    }
    int64_t sent = 0, already = 0;
    kr_ops_status st = KR_OPS_OK;
    for (size_t i = 0; i < n && st == KR_OPS_OK; i++) {
        int64_t id = json_integer_value(json_array_get(ids, i));
        char field[32];
        snprintf(field, sizeof field, "ids[%zu]", i);
        kr_ledger_outbox_msg m;
        ls = kr_ledger_outbox_get(o->db, id, &m);
        if (ls != KR_LEDGER_OK) {
            st = kr__ops_ledger_error(o, out, ls, field);
            break;
        }
        free(m.payload);
        if (m.state == KR_LEDGER_OUTBOX_SENT) {
            already++; // a repeated acknowledgement: nothing to do
            continue;
        }
        if (m.state == KR_LEDGER_OUTBOX_CANCELLED) {
            st = kr__ops_fail(o, out, KR_OPS_REFUSED, field,
                              "outbox entry %lld was cancelled and must not be sent",
                              (long long)id);
            break;
        }
        ls = kr_ledger_outbox_mark(o->db, id, KR_LEDGER_OUTBOX_SENT, at);
        if (ls != KR_LEDGER_OK) {
            st = kr__ops_ledger_error(o, out, ls, field);
            break;
        }
        sent++;
    }
    json_decref(root);
    if (st == KR_OPS_OK && (ls = kr_ledger_commit(o->db)) != KR_LEDGER_OK)
        st = kr__ops_ledger_error(o, out, ls, NULL);
    if (st != KR_OPS_OK) {
        kr_ledger_rollback(o->db);
        return st;
    }
    kr_buf_reset(out);
    kr_buf_printf(out, "{\"sent\":%lld,\"already\":%lld}", (long long)sent, (long long)already);
    return out->failed ? KR_OPS_FAILED : KR_OPS_OK;
}
