// SPDX-License-Identifier: MIT
// kr-engine-explain.c: the result's growable arrays and the JSON writer.
//
// A result is reused across receipts: arrays grow to the largest receipt seen and are only
// reset (n = 0) by kr_engine_calculate, so a warm engine does not allocate for its result.
#include "kr-engine-private.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void kr_engine_result_init(kr_engine_result *r)
{
    memset(r, 0, sizeof *r);
}

void kr_engine_result_free(kr_engine_result *r)
{
    free(r->lines);
    free(r->discounts);
    free(r->applied);
    free(r->rejected);
    free(r->messages);
    free(r->text);
    free(r->certificate_split);
    kr_engine_result_init(r);
}

// Grows *arr (of `size`-byte elements, capacity *cap) to hold `need`.
static bool grow(void *arr, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return true;
    size_t n = *cap ? *cap : 16;
    while (n < need)
        n *= 2;
    void *p = realloc(*(void **)arr, n * size);
    if (!p)
        return false;
    *(void **)arr = p;
    *cap = n;
    return true;
}

bool kr__result_reserve(kr_engine_result *r, size_t n_lines)
{
    if (!grow(&r->lines, &r->cap_lines, n_lines, sizeof *r->lines))
        return false;
    r->n_lines = n_lines;
    memset(r->lines, 0, n_lines * sizeof *r->lines);
    r->n_discounts = r->n_applied = r->n_rejected = r->n_messages = 0;
    r->text_len = 0;
    r->error[0] = '\0';
    r->total_original = r->total_discount = r->total_final = 0;
    r->max_points = r->points_spent = r->points_money = r->to_pay = 0;
    r->points_earned = r->accrual_points = 0;
    r->certificate_money = 0;
    r->n_certificates = 0;
    return true;
}

bool kr__result_certificates(kr_engine_result *r, size_t n_certificates)
{
    size_t need = r->n_lines * n_certificates;
    if (!grow(&r->certificate_split, &r->cap_split, need, sizeof *r->certificate_split))
        return false;
    if (need)
        memset(r->certificate_split, 0, need * sizeof *r->certificate_split);
    r->n_certificates = n_certificates;
    for (size_t k = 0; k < n_certificates; k++)
        r->certificate_pays[k] = r->certificate_forfeited[k] = 0;
    return true;
}

bool kr__result_discount(kr_engine_result *r, size_t line, size_t promo, int64_t amount)
{
    if (!grow(&r->discounts, &r->cap_discounts, r->n_discounts + 1, sizeof *r->discounts))
        return false;
    r->discounts[r->n_discounts++] = (kr_engine_discount){line, promo, amount};
    return true;
}

bool kr__result_applied(kr_engine_result *r, size_t promo, int64_t discount, int64_t points)
{
    if (!grow(&r->applied, &r->cap_applied, r->n_applied + 1, sizeof *r->applied))
        return false;
    r->applied[r->n_applied++] = (kr_engine_applied){promo, discount, points};
    return true;
}

bool kr__result_rejected(kr_engine_result *r, size_t promo, kr_engine_reason why,
                         const char *cond, const char *src, size_t other)
{
    if (!grow(&r->rejected, &r->cap_rejected, r->n_rejected + 1, sizeof *r->rejected))
        return false;
    r->rejected[r->n_rejected++] = (kr_engine_rejected){promo, why, cond, src, other};
    return true;
}

// Message texts live in one buffer; `text` pointers are fixed up once the buffer stops
// moving, so they are stored as offsets until then (see kr__result_finish_messages).
bool kr__result_message(kr_engine_result *r, size_t promo, bool to_customer, const char *text,
                        size_t len)
{
    if (!grow(&r->messages, &r->cap_messages, r->n_messages + 1, sizeof *r->messages) ||
        !grow(&r->text, &r->text_cap, r->text_len + len + 1, 1))
        return false;
    memcpy(r->text + r->text_len, text, len);
    r->text[r->text_len + len] = '\0';
    r->messages[r->n_messages++] =
        (kr_engine_message){promo, to_customer, (const char *)(uintptr_t)r->text_len};
    r->text_len += len + 1;
    return true;
}

void kr__result_finish_messages(kr_engine_result *r)
{
    for (size_t i = 0; i < r->n_messages; i++)
        r->messages[i].text = r->text + (uintptr_t)r->messages[i].text;
}

// ---- JSON --------------------------------------------------------------------------------------
typedef struct jw {
    char *buf;
    size_t cap, len; // len counts everything, even past cap
} jw;

static void jw_raw(jw *w, const char *s, size_t n)
{
    if (w->len < w->cap) {
        size_t room = w->cap - w->len;
        memcpy(w->buf + w->len, s, n < room ? n : room);
    }
    w->len += n;
}

static void jw_puts(jw *w, const char *s)
{
    jw_raw(w, s, strlen(s));
}

static void jw_int(jw *w, int64_t v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof tmp, "%" PRId64, v);
    jw_raw(w, tmp, (size_t)n);
}

static void jw_str(jw *w, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    jw_raw(w, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p == '"' || *p == '\\') {
            char esc[2] = {'\\', (char)*p};
            jw_raw(w, esc, 2);
        } else if (*p < 0x20) {
            char esc[6] = {'\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 15]};
            jw_raw(w, esc, 6);
        } else {
            jw_raw(w, (const char *)p, 1);
        }
    }
    jw_raw(w, "\"", 1);
}

static void jw_key_int(jw *w, const char *k, int64_t v)
{
    jw_str(w, k);
    jw_raw(w, ":", 1);
    jw_int(w, v);
}

// Money as a JSON string with the currency's decimals ("1490.00"): the API never carries an
// amount as a JSON number, in either direction.
static void jw_key_money(jw *w, const char *k, int64_t v, int minor_unit)
{
    char tmp[40];
    int64_t scale = 1;
    for (int i = 0; i < minor_unit; i++)
        scale *= 10;
    uint64_t m = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    int n;
    if (minor_unit == 0)
        n = snprintf(tmp, sizeof tmp, "\"%s%" PRIu64 "\"", v < 0 ? "-" : "", m);
    else
        n = snprintf(tmp, sizeof tmp, "\"%s%" PRIu64 ".%0*" PRIu64 "\"", v < 0 ? "-" : "",
                     m / (uint64_t)scale, minor_unit, m % (uint64_t)scale);
    jw_str(w, k);
    jw_raw(w, ":", 1);
    jw_raw(w, tmp, (size_t)n);
}

const char *kr_engine_reason_name(kr_engine_reason r)
{
    switch (r) {
    case KR_ENGINE_REASON_DISABLED: return "disabled";
    case KR_ENGINE_REASON_CONDITION: return "condition";
    case KR_ENGINE_REASON_GROUP: return "not in group winner";
    case KR_ENGINE_REASON_STOPPED: return "stopped";
    case KR_ENGINE_REASON_LIMIT: return "limit reached";
    case KR_ENGINE_REASON_NOTHING: return "nothing to discount";
    }
    return "unknown";
}

kr_engine_status kr_engine_result_json(const kr_engine *e, const kr_engine_result *r,
                                       const kr_engine_receipt *rc, char *buf, size_t bufsz,
                                       size_t *needed)
{
    jw w = {buf, bufsz, 0};
    jw_puts(&w, "{\"receipt\":");
    jw_str(&w, rc ? rc->id : NULL);
    jw_puts(&w, ",\"program\":");
    jw_str(&w, e->program_id);
    jw_puts(&w, ",");
    jw_key_int(&w, "version", e->version);
    jw_puts(&w, ",\"totals\":{");
    jw_key_money(&w, "original", r->total_original, e->minor_unit);
    jw_puts(&w, ",");
    jw_key_money(&w, "discount", r->total_discount, e->minor_unit);
    jw_puts(&w, ",");
    jw_key_money(&w, "final", r->total_final, e->minor_unit);
    jw_puts(&w, ",");
    jw_key_money(&w, "points_money", r->points_money, e->minor_unit);
    jw_puts(&w, ",");
    jw_key_money(&w, "certificate_money", r->certificate_money, e->minor_unit);
    jw_puts(&w, ",");
    jw_key_money(&w, "to_pay", r->to_pay, e->minor_unit);
    jw_puts(&w, "},\"points\":{");
    jw_key_int(&w, "max_payable", r->max_points);
    jw_puts(&w, ",");
    jw_key_int(&w, "spent", r->points_spent);
    jw_puts(&w, ",");
    jw_key_int(&w, "earned", r->points_earned);
    jw_puts(&w, ",");
    jw_key_int(&w, "accrual", r->accrual_points);
    jw_puts(&w, "},\"lines\":[");
    for (size_t i = 0; i < r->n_lines; i++) {
        const kr_engine_line_result *l = &r->lines[i];
        jw_puts(&w, i ? ",{\"id\":" : "{\"id\":");
        jw_str(&w, rc && i < rc->n_lines ? rc->lines[i].id : NULL);
        jw_puts(&w, ",\"sku\":");
        jw_str(&w, rc && i < rc->n_lines ? rc->lines[i].sku : NULL);
        jw_puts(&w, ",");
        jw_key_int(&w, "qty", rc && i < rc->n_lines ? rc->lines[i].qty : 0);
        jw_puts(&w, ",");
        jw_key_money(&w, "original", l->original, e->minor_unit);
        jw_puts(&w, ",\"discounts\":[");
        for (size_t k = 0; k < l->n_discounts; k++) {
            const kr_engine_discount *d = &r->discounts[l->first_discount + k];
            jw_puts(&w, k ? ",{\"promotion\":" : "{\"promotion\":");
            jw_str(&w, e->promos[d->promotion].id);
            jw_puts(&w, ",\"src\":");
            jw_str(&w, e->promos[d->promotion].src);
            jw_puts(&w, ",");
            jw_key_money(&w, "amount", d->amount, e->minor_unit);
            jw_puts(&w, "}");
        }
        jw_puts(&w, "],");
        jw_key_money(&w, "final", l->final, e->minor_unit);
        jw_puts(&w, ",");
        jw_key_int(&w, "max_points", l->max_points);
        jw_puts(&w, ",");
        jw_key_int(&w, "points_spent", l->points_spent);
        jw_puts(&w, ",");
        jw_key_money(&w, "paid_points_money", l->paid_points_money, e->minor_unit);
        jw_puts(&w, ",");
        jw_key_money(&w, "paid_certificates", l->paid_certificates, e->minor_unit);
        jw_puts(&w, ",\"certificates\":[");
        for (size_t k = 0, m = 0; rc && k < r->n_certificates; k++) {
            int64_t a = r->certificate_split[i * r->n_certificates + k];
            if (!a)
                continue;
            jw_puts(&w, m++ ? ",{\"number\":" : "{\"number\":");
            jw_str(&w, rc->certificates[k].number);
            jw_puts(&w, ",");
            jw_key_money(&w, "amount", a, e->minor_unit);
            jw_puts(&w, "}");
        }
        jw_puts(&w, "],");
        jw_key_money(&w, "paid_money", l->paid_money, e->minor_unit);
        jw_puts(&w, ",");
        jw_key_int(&w, "points_earned", l->points_earned);
        jw_puts(&w, ",\"fiscal\":[");
        for (size_t k = 0; k < l->n_fiscal; k++) {
            jw_puts(&w, k ? ",{" : "{");
            jw_key_int(&w, "qty", l->fiscal[k].qty);
            jw_puts(&w, ",");
            jw_key_money(&w, "price", l->fiscal[k].price, e->minor_unit);
            jw_puts(&w, "}");
        }
        jw_puts(&w, "]}");
    }
    jw_puts(&w, "],\"certificates\":[");
    for (size_t k = 0; rc && k < r->n_certificates; k++) {
        jw_puts(&w, k ? ",{\"number\":" : "{\"number\":");
        jw_str(&w, rc->certificates[k].number);
        jw_puts(&w, ",");
        jw_key_money(&w, "pays", r->certificate_pays[k], e->minor_unit);
        jw_puts(&w, ",");
        jw_key_money(&w, "forfeited", r->certificate_forfeited[k], e->minor_unit);
        jw_puts(&w, "}");
    }
    jw_puts(&w, "],\"applied\":[");
    for (size_t i = 0; i < r->n_applied; i++) {
        const kr_engine_applied *a = &r->applied[i];
        jw_puts(&w, i ? ",{\"promotion\":" : "{\"promotion\":");
        jw_str(&w, e->promos[a->promotion].id);
        jw_puts(&w, ",\"src\":");
        jw_str(&w, e->promos[a->promotion].src);
        jw_puts(&w, ",");
        jw_key_money(&w, "discount", a->discount, e->minor_unit);
        jw_puts(&w, ",");
        jw_key_int(&w, "points", a->points);
        jw_puts(&w, "}");
    }
    jw_puts(&w, "],\"rejected\":[");
    for (size_t i = 0; i < r->n_rejected; i++) {
        const kr_engine_rejected *x = &r->rejected[i];
        jw_puts(&w, i ? ",{\"promotion\":" : "{\"promotion\":");
        jw_str(&w, e->promos[x->promotion].id);
        jw_puts(&w, ",\"reason\":");
        jw_str(&w, kr_engine_reason_name(x->reason));
        if (x->reason == KR_ENGINE_REASON_CONDITION) {
            jw_puts(&w, ",\"condition\":");
            jw_str(&w, x->condition);
            jw_puts(&w, ",\"src\":");
            jw_str(&w, x->src);
        } else if (x->reason == KR_ENGINE_REASON_GROUP ||
                   x->reason == KR_ENGINE_REASON_STOPPED) {
            jw_puts(&w, ",\"by\":");
            jw_str(&w, e->promos[x->other].id);
        }
        jw_puts(&w, "}");
    }
    jw_puts(&w, "],\"messages\":[");
    for (size_t i = 0; i < r->n_messages; i++) {
        const kr_engine_message *m = &r->messages[i];
        jw_puts(&w, i ? ",{\"promotion\":" : "{\"promotion\":");
        jw_str(&w, e->promos[m->promotion].id);
        jw_puts(&w, m->to_customer ? ",\"to\":\"customer\",\"text\":" : ",\"to\":\"cashier\",\"text\":");
        jw_str(&w, m->text);
        jw_puts(&w, "}");
    }
    jw_puts(&w, "]}");
    if (needed)
        *needed = w.len + 1;
    if (w.len >= bufsz) {
        if (bufsz)
            buf[0] = '\0';
        return KR_ENGINE_NOSPACE;
    }
    buf[w.len] = '\0';
    return KR_ENGINE_OK;
}
