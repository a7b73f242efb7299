// SPDX-License-Identifier: MIT
// kr-ops-certificates.c: gift certificates at the till — sold on a receipt line, paying for
// receipts, voided or given back by returns — and `certificate show` (kr-ops.h).
//
// The rules (docs/formats.md "Gift certificates", docs/internals/ops.md):
//  - A confirmed line whose SKU is a certificate kind's `sku` issues one certificate per unit,
//    worth the kind's face value, valid `valid-days` from the receipt's local day. Its numbers
//    are the ones the line carries (pre-printed certificates, scanned), or generated.
//  - The certificates a receipt names pay after points, for every line but the ones that sell
//    a certificate; the engine spreads their money (stage 3). A certificate of a kind with
//    partial="false" is spent whole: what the receipt cannot take is forfeited.
//  - A return gives the certificate money of the returned units back to the certificates it
//    came from; when the whole receipt has come back (or is cancelled) the forfeited rest goes
//    back too. Validity is never extended. Returned units of a certificate line void their
//    certificates — the ones the return names, or every one still valid when all the units
//    left come back — which must be unused, or the whole return is refused.
#include "kr-ops-private.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

// Most certificates one receipt line may sell (each is a row and a number to print).
#define KR__OPS_MAX_CERTIFICATES_SOLD 1000

// The program's certificate kind sold as `sku`, or NULL.
static const kr_certificate *kind_of_sku(const kr_ops *o, const char *sku)
{
    for (size_t i = 0; i < o->policy.n_certificates; i++) {
        const kr_certificate *c = &o->policy.certificates[i];
        for (size_t k = 0; k < c->n_sku; k++)
            if (strcmp(c->sku[k], sku) == 0)
                return c;
    }
    return NULL;
}

static const kr_certificate *kind_by_id(const kr_ops *o, const char *id)
{
    for (size_t i = 0; i < o->policy.n_certificates; i++)
        if (strcmp(o->policy.certificates[i].id, id) == 0)
            return &o->policy.certificates[i];
    return NULL;
}

// Money (or, for `time`, an instant) as text for a message: "3000.00", "2027-04-01T00:00:00Z".
static void text_of(const kr_ops *o, int64_t v, bool time, char *buf, size_t n)
{
    kr_buf b;
    kr_buf_init(&b, 0);
    if (time)
        kr_buf_json_time(&b, v);
    else
        kr_buf_json_money(&b, v, o->minor_unit);
    const char *t = b.data ? b.data : "";
    size_t len = strlen(t);
    if (len >= 2 && t[0] == '"')
        snprintf(buf, n, "%.*s", (int)(len - 2), t + 1);
    else
        snprintf(buf, n, "%s", t);
    kr_buf_free(&b);
}

void kr__ops_certs_free(kr__ops_certs *c)
{
    free(c->line);
    free(c->kind);
    memset(c, 0, sizeof *c);
}

// The first instant a certificate sold at `at` is no longer valid.
static int64_t valid_until(const kr_ops *o, const kr_certificate *k, int64_t at)
{
    if (k->valid_days < 0)
        return KR_LEDGER_NEVER;
    return kr__ops_day_start(o, kr__ops_local_day(o, at) + k->valid_days);
}

kr_ops_status kr__ops_certs_prepare(kr_ops *o, kr_receipt *r, kr__ops_certs *c, kr_buf *out)
{
    memset(c, 0, sizeof *c);
    size_t n = r->rc.n_lines;
    c->line = calloc(n, sizeof *c->line);
    c->kind = calloc(n, sizeof *c->kind);
    if (!c->line || !c->kind)
        return kr__ops_fail(o, out, KR_OPS_FAILED, NULL, "out of memory");
    char field[96];
    // Lines that sell certificates, and the numbers they carry.
    for (size_t i = 0; i < n; i++) {
        const kr_certificate *k = kind_of_sku(o, r->lines[i].sku);
        size_t carried = r->sold_n[i];
        snprintf(field, sizeof field, "lines[%zu].certificates", i);
        if (!k && carried)
            return kr__ops_fail(o, out, KR_OPS_INVALID, field,
                                "sku %s is not a gift certificate of the program, so the line "
                                "cannot carry certificate numbers",
                                r->lines[i].sku);
        if (!k)
            continue;
        c->line[i] = 1;
        c->kind[i] = k;
        if (r->lines[i].qty > KR__OPS_MAX_CERTIFICATES_SOLD) {
            snprintf(field, sizeof field, "lines[%zu].qty", i);
            return kr__ops_fail(o, out, KR_OPS_INVALID, field,
                                "a line sells at most %d certificates",
                                KR__OPS_MAX_CERTIFICATES_SOLD);
        }
        if (carried && (int64_t)carried != r->lines[i].qty)
            return kr__ops_fail(o, out, KR_OPS_INVALID, field,
                                "the line sells %lld certificates and carries %zu numbers: give "
                                "one number per unit, or none to have them generated",
                                (long long)r->lines[i].qty, carried);
        if (r->lines[i].amount != k->face_value * r->lines[i].qty) {
            snprintf(field, sizeof field, "lines[%zu].price", i);
            char face[40];
            text_of(o, k->face_value, false, face, sizeof face);
            return kr__ops_fail(o, out, KR_OPS_INVALID, field,
                                "certificate %s is sold at its face value %s a unit", k->id, face);
        }
        for (size_t j = 0; j < carried; j++) {
            const char *num = r->sold[r->sold_first[i] + j];
            int64_t face = 0;
            kr_ledger_status ls = kr_ledger_certificate_get(o->db, num, &face, NULL, NULL);
            snprintf(field, sizeof field, "lines[%zu].certificates[%zu]", i, j);
            if (ls == KR_LEDGER_OK)
                return kr__ops_fail(o, out, KR_OPS_CONFLICT, field,
                                    "certificate %s was already sold", num);
            if (ls != KR_LEDGER_NOT_FOUND)
                return kr__ops_ledger_error(o, out, ls, field);
        }
    }
    // Certificates paying for the receipt.
    for (size_t k = 0; k < r->n_pay; k++) {
        const kr_receipt_certificate *p = &r->pay[k];
        kr_ledger_certificate lc;
        snprintf(field, sizeof field, "certificates[%zu].number", k);
        kr_ledger_status ls = kr_ledger_certificate_read(o->db, p->number, &lc);
        if (ls == KR_LEDGER_NOT_FOUND)
            return kr__ops_fail(o, out, KR_OPS_NOT_FOUND, field, "no certificate %s", p->number);
        if (ls != KR_LEDGER_OK)
            return kr__ops_ledger_error(o, out, ls, field);
        char money[40], date[40];
        if (lc.voided_at)
            return kr__ops_fail(o, out, KR_OPS_REFUSED, field,
                                "certificate %s was returned to the shop and is void", p->number);
        if (lc.valid_until != KR_LEDGER_NEVER && r->rc.time >= lc.valid_until) {
            text_of(o, lc.valid_until, true, date, sizeof date);
            return kr__ops_fail(o, out, KR_OPS_REFUSED, field,
                                "certificate %s expired: it was valid until %s", p->number, date);
        }
        if (lc.remaining == 0)
            return kr__ops_fail(o, out, KR_OPS_REFUSED, field, "certificate %s has nothing left",
                                p->number);
        text_of(o, lc.remaining, false, money, sizeof money);
        snprintf(field, sizeof field, "certificates[%zu].amount", k);
        if (p->amount > lc.remaining)
            return kr__ops_fail(o, out, KR_OPS_REFUSED, field, "certificate %s has %s left",
                                p->number, money);
        if (!lc.partial && p->amount >= 0 && p->amount != lc.remaining)
            return kr__ops_fail(o, out, KR_OPS_INVALID, field,
                                "certificate %s is spent whole (%s); leave the amount out",
                                p->number, money);
        c->pay[k] = (kr_engine_certificate){.number = p->number,
                                            .available = p->amount >= 0 ? p->amount : lc.remaining,
                                            .whole = !lc.partial};
    }
    r->rc.certificates = c->pay;
    r->rc.n_certificates = r->n_pay;
    r->rc.certificate_line = c->line;
    return KR_OPS_OK;
}

// A new certificate number: "C" and 16 characters of Crockford's base32 in groups of four
// (80 random bits from libsodium), e.g. "C-7KQ2-M9XD-0HVA-33TR".
static void generate_number(char out[24])
{
    static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    size_t p = 0;
    out[p++] = 'C';
    for (int g = 0; g < 4; g++) {
        out[p++] = '-';
        for (int k = 0; k < 4; k++)
            out[p++] = alphabet[randombytes_uniform(32)];
    }
    out[p] = '\0';
}

kr_ops_status kr__ops_certs_confirm(kr_ops *o, const kr_receipt *r, const kr__ops_certs *c,
                                    kr_buf *issued, kr_buf *out)
{
    const kr_engine_result *res = &o->result;
    const char *rid = r->rc.id;
    int64_t at = r->rc.time;
    char field[96];
    for (size_t k = 0; k < res->n_certificates; k++) {
        int64_t take = res->certificate_pays[k] + res->certificate_forfeited[k];
        if (take <= 0)
            continue;
        snprintf(field, sizeof field, "certificates[%zu].number", k);
        kr_ledger_status ls = kr_ledger_certificate_use(o->db, r->pay[k].number, take, rid, at);
        if (ls != KR_LEDGER_OK && ls != KR_LEDGER_EXISTS)
            return kr__ops_ledger_error(o, out, ls, field);
    }
    bool first = true;
    for (size_t i = 0; i < r->rc.n_lines; i++) {
        const kr_certificate *k = c->kind[i];
        if (!k)
            continue;
        if (first && sodium_init() < 0)
            return kr__ops_fail(o, out, KR_OPS_FAILED, NULL, "libsodium could not start");
        int64_t until = valid_until(o, k, at);
        for (int64_t u = 0; u < r->lines[i].qty; u++) {
            char gen[24];
            const char *num = NULL;
            kr_ledger_certificate_in in = {.kind = k->id,
                                           .face_value = k->face_value,
                                           .partial = k->partial,
                                           .valid_until = until,
                                           .issued_at = at,
                                           .receipt = rid,
                                           .line = r->lines[i].id};
            kr_ledger_status ls = KR_LEDGER_CONFLICT;
            if (r->sold_n[i]) {
                num = in.number = r->sold[r->sold_first[i] + (size_t)u];
                ls = kr_ledger_certificate_sell(o->db, &in);
            } else {
                // 80 random bits: a clash is all but impossible; retry a few times anyway.
                for (int tries = 0; tries < 5 && ls == KR_LEDGER_CONFLICT; tries++) {
                    generate_number(gen);
                    num = in.number = gen;
                    ls = kr_ledger_certificate_sell(o->db, &in);
                }
            }
            snprintf(field, sizeof field, "lines[%zu].certificates[%lld]", i, (long long)u);
            if (ls != KR_LEDGER_OK)
                return kr__ops_ledger_error(o, out, ls, field);
            kr_buf_puts(issued, first ? ",\"certificates_issued\":[{\"number\":" : ",{\"number\":");
            first = false;
            kr_buf_json_string(issued, num);
            kr_buf_puts(issued, ",\"kind\":");
            kr_buf_json_string(issued, k->id);
            kr_buf_puts(issued, ",\"line\":");
            kr_buf_json_string(issued, r->lines[i].id);
            kr_buf_puts(issued, ",\"face_value\":");
            kr_buf_json_money(issued, k->face_value, o->minor_unit);
            kr_buf_printf(issued,
                          ",\"partial\":%s,\"valid_until\":", k->partial ? "true" : "false");
            if (until == KR_LEDGER_NEVER)
                kr_buf_puts(issued, "null");
            else
                kr_buf_json_time(issued, until);
            kr_buf_puts(issued, "}");
        }
    }
    if (!first)
        kr_buf_puts(issued, "]");
    return issued->failed ? kr__ops_fail(o, out, KR_OPS_FAILED, NULL, "out of memory") : KR_OPS_OK;
}

// Adds `amount` for `number` to the give-back list (numbers[k], amounts[k]).
static bool add_back(const char **numbers, int64_t *amounts, size_t *n, const char *number,
                     int64_t amount)
{
    for (size_t k = 0; k < *n; k++)
        if (strcmp(numbers[k], number) == 0) {
            amounts[k] += amount;
            return true;
        }
    if (*n >= KR_ENGINE_MAX_CERTIFICATES)
        return false;
    numbers[*n] = number;
    amounts[(*n)++] = amount;
    return true;
}

kr_ops_status kr__ops_certs_returning(kr_ops *o, const char *receipt, const char *line,
                                      int64_t units, const json_t *named, const char *field,
                                      char ***voids, size_t *n_voids, kr_buf *out)
{
    char **sold = NULL;
    size_t n_sold = 0;
    kr_ledger_status ls = kr_ledger_certificates_sold(o->db, receipt, line, &sold, &n_sold);
    if (ls != KR_LEDGER_OK)
        return kr__ops_ledger_error(o, out, ls, field);
    // The certificates of the line still valid, i.e. not voided by an earlier return.
    size_t n_live = 0;
    for (size_t k = 0; k < n_sold && ls == KR_LEDGER_OK; k++) {
        kr_ledger_certificate lc;
        ls = kr_ledger_certificate_read(o->db, sold[k], &lc);
        if (ls == KR_LEDGER_OK && !lc.voided_at) {
            char *keep = sold[k];
            sold[k] = sold[n_live];
            sold[n_live++] = keep;
        }
    }
    kr_ops_status st = KR_OPS_OK;
    if (ls != KR_LEDGER_OK)
        st = kr__ops_ledger_error(o, out, ls, field);
    else if (named && !n_sold)
        st = kr__ops_fail(o, out, KR_OPS_INVALID, field, "line %s of %s sold no gift certificates",
                          line, receipt);
    else if (named && json_array_size(named) != (size_t)units)
        st = kr__ops_fail(o, out, KR_OPS_INVALID, field,
                          "%lld unit%s of line %s come back: name %lld certificate%s, not %zu",
                          (long long)units, units == 1 ? "" : "s", line, (long long)units,
                          units == 1 ? "" : "s", json_array_size(named));
    else if (!named && n_sold && (size_t)units < n_live)
        st = kr__ops_fail(o, out, KR_OPS_INVALID, field,
                          "line %s of %s sold %zu certificates still valid and %lld come back: "
                          "name the certificates the customer brings",
                          line, receipt, n_live, (long long)units);
    size_t want = named ? json_array_size(named) : n_sold ? (size_t)units : 0;
    char **v = st == KR_OPS_OK && want ? realloc(*voids, (*n_voids + want) * sizeof *v) : NULL;
    if (st == KR_OPS_OK && want && !v)
        st = kr__ops_fail(o, out, KR_OPS_FAILED, NULL, "out of memory");
    if (v)
        *voids = v;
    for (size_t k = 0; st == KR_OPS_OK && k < want; k++) {
        const char *num = named ? json_string_value(json_array_get(named, k)) : sold[k];
        size_t j = 0;
        while (j < n_sold && strcmp(sold[j], num) != 0)
            j++;
        if (j == n_sold)
            st = kr__ops_fail(o, out, KR_OPS_INVALID, field,
                              "certificate %s was not sold on line %s of %s", num, line, receipt);
        else if (j >= n_live)
            st = kr__ops_fail(o, out, KR_OPS_CONFLICT, field,
                              "certificate %s of line %s was already returned", num, line);
        else if (!((*voids)[*n_voids] = strdup(num)))
            st = kr__ops_fail(o, out, KR_OPS_FAILED, NULL, "out of memory");
        else
            (*n_voids)++;
    }
    kr_ledger_strings_free(sold, n_sold);
    return st;
}

kr_ops_status kr__ops_certs_undo(kr_ops *o, const char *receipt, json_t *answer, char *const *voids,
                                 size_t n_voids, const kr__ops_cert_back *backs, size_t n_backs,
                                 bool whole, const char *op, int64_t at, kr_buf *note, kr_buf *out)
{
    // Certificates the returned units sold: void them (each must be unused).
    for (size_t k = 0; k < n_voids; k++) {
        kr_ledger_status ls = kr_ledger_certificate_void(o->db, voids[k], op, at);
        if (ls == KR_LEDGER_STATE) {
            kr_ledger_certificate lc = {0};
            char left[40] = "", face[40] = "";
            if (kr_ledger_certificate_read(o->db, voids[k], &lc) == KR_LEDGER_OK) {
                text_of(o, lc.remaining, false, left, sizeof left);
                text_of(o, lc.face_value, false, face, sizeof face);
            }
            return kr__ops_fail(o, out, KR_OPS_REFUSED, "lines",
                                "line %s sold certificate %s, which was used (%s of %s left), so "
                                "it cannot be returned; nothing was returned",
                                lc.sold_line, voids[k], left, face);
        }
        if (ls != KR_LEDGER_OK && ls != KR_LEDGER_EXISTS)
            return kr__ops_ledger_error(o, out, ls, "lines");
        kr_buf_puts(note, k ? "," : ",\"certificates_voided\":[");
        kr_buf_json_string(note, voids[k]);
    }
    if (n_voids)
        kr_buf_puts(note, "]");

    // Certificate money of the returned units goes back to the certificates it came from.
    const char *numbers[KR_ENGINE_MAX_CERTIFICATES];
    int64_t amounts[KR_ENGINE_MAX_CERTIFICATES];
    size_t nb = 0;
    for (size_t k = 0; k < n_backs; k++)
        if (!add_back(numbers, amounts, &nb, backs[k].number, backs[k].amount))
            return kr__ops_fail(o, out, KR_OPS_FAILED, "receipt",
                                "the stored answer of receipt %s cannot be read", receipt);
    // A receipt back whole (or cancelled): also the rest a certificate spent whole forfeited.
    json_t *used = json_object_get(answer, "certificates");
    for (size_t k = 0; whole && k < json_array_size(used); k++) {
        const char *num = json_string_value(json_object_get(json_array_get(used, k), "number"));
        if (!num || !add_back(numbers, amounts, &nb, num, 0))
            return kr__ops_fail(o, out, KR_OPS_FAILED, "receipt",
                                "the stored answer of receipt %s cannot be read", receipt);
    }
    bool first = true;
    for (size_t k = 0; k < nb; k++) {
        int64_t took = 0, back = 0;
        kr_ledger_status ls =
            kr_ledger_certificate_used_by(o->db, numbers[k], receipt, &took, &back);
        if (ls != KR_LEDGER_OK)
            return kr__ops_ledger_error(o, out, ls, "receipt");
        int64_t give = whole ? took - back : amounts[k];
        if (give > took - back)
            give = took - back;
        if (give <= 0)
            continue;
        ls = kr_ledger_certificate_give_back(o->db, numbers[k], receipt, give, op, at);
        kr_ledger_certificate lc;
        if (ls == KR_LEDGER_OK || ls == KR_LEDGER_EXISTS)
            ls = kr_ledger_certificate_read(o->db, numbers[k], &lc);
        if (ls != KR_LEDGER_OK)
            return kr__ops_ledger_error(o, out, ls, "receipt");
        kr_buf_puts(note, first ? ",\"certificates_returned\":[{\"number\":" : ",{\"number\":");
        first = false;
        kr_buf_json_string(note, numbers[k]);
        kr_buf_puts(note, ",\"amount\":");
        kr_buf_json_money(note, give, o->minor_unit);
        kr_buf_puts(note, ",\"remaining\":");
        kr_buf_json_money(note, lc.remaining, o->minor_unit);
        kr_buf_puts(note, ",\"valid_until\":");
        if (lc.valid_until == KR_LEDGER_NEVER)
            kr_buf_puts(note, "null");
        else
            kr_buf_json_time(note, lc.valid_until);
        kr_buf_printf(note, ",\"expired\":%s}",
                      lc.valid_until != KR_LEDGER_NEVER && at >= lc.valid_until ? "true" : "false");
    }
    if (!first)
        kr_buf_puts(note, "]");
    return note->failed ? kr__ops_fail(o, out, KR_OPS_FAILED, NULL, "out of memory") : KR_OPS_OK;
}

kr_ops_status kr_ops_certificate_show(kr_ops *o, const char *number, int64_t at, kr_buf *out)
{
    kr_ledger_certificate lc;
    kr_ledger_status ls = kr_ledger_certificate_read(o->db, number, &lc);
    if (ls == KR_LEDGER_NOT_FOUND || ls == KR_LEDGER_INVALID)
        return kr__ops_fail(o, out, KR_OPS_NOT_FOUND, "number", "no certificate %s", number);
    if (ls != KR_LEDGER_OK)
        return kr__ops_ledger_error(o, out, ls, "number");
    kr_ledger_certificate_event *ev = NULL;
    size_t n = 0;
    ls = kr_ledger_certificate_history(o->db, number, 1000, &ev, &n);
    if (ls != KR_LEDGER_OK)
        return kr__ops_ledger_error(o, out, ls, "number");
    bool expired = lc.valid_until != KR_LEDGER_NEVER && at >= lc.valid_until;
    const char *state = lc.voided_at        ? "void"
                        : expired           ? "expired"
                        : lc.remaining == 0 ? "used up"
                                            : "valid";
    kr_buf_reset(out);
    kr_buf_puts(out, "{\"number\":");
    kr_buf_json_string(out, lc.number);
    kr_buf_puts(out, ",\"kind\":");
    if (lc.kind[0])
        kr_buf_json_string(out, lc.kind);
    else
        kr_buf_puts(out, "null");
    const kr_certificate *k = lc.kind[0] ? kind_by_id(o, lc.kind) : NULL;
    if (k && k->n_sku) {
        kr_buf_puts(out, ",\"sku\":");
        kr_buf_json_string(out, k->sku[0]);
    }
    kr_buf_puts(out, ",\"face_value\":");
    kr_buf_json_money(out, lc.face_value, o->minor_unit);
    kr_buf_puts(out, ",\"remaining\":");
    kr_buf_json_money(out, lc.remaining, o->minor_unit);
    kr_buf_printf(
        out, ",\"partial\":%s,\"state\":\"%s\",\"issued\":", lc.partial ? "true" : "false", state);
    kr_buf_json_time(out, lc.issued_at);
    kr_buf_puts(out, ",\"valid_until\":");
    if (lc.valid_until == KR_LEDGER_NEVER)
        kr_buf_puts(out, "null");
    else
        kr_buf_json_time(out, lc.valid_until);
    kr_buf_puts(out, ",\"sold_by\":");
    if (lc.sold_receipt[0]) {
        kr_buf_puts(out, "{\"receipt\":");
        kr_buf_json_string(out, lc.sold_receipt);
        kr_buf_puts(out, ",\"line\":");
        kr_buf_json_string(out, lc.sold_line);
        kr_buf_puts(out, "}");
    } else {
        kr_buf_puts(out, "null");
    }
    if (lc.voided_at) {
        kr_buf_puts(out, ",\"voided\":{\"operation\":");
        kr_buf_json_string(out, lc.void_op);
        kr_buf_puts(out, ",\"at\":");
        kr_buf_json_time(out, lc.voided_at);
        kr_buf_puts(out, "}");
    }
    kr_buf_puts(out, ",\"history\":[");
    for (size_t i = 0; i < n; i++) {
        bool use = strcmp(ev[i].kind, "use") == 0;
        kr_buf_puts(out, i ? ",{\"kind\":" : "{\"kind\":");
        kr_buf_json_string(out, ev[i].kind);
        kr_buf_puts(out, ",\"operation\":");
        kr_buf_json_string(out, ev[i].op_id);
        kr_buf_puts(out, ",\"receipt\":");
        kr_buf_json_string(out, ev[i].receipt);
        kr_buf_puts(out, ",\"amount\":");
        kr_buf_json_money(out, use ? -ev[i].amount : ev[i].amount, o->minor_unit);
        kr_buf_puts(out, ",\"at\":");
        kr_buf_json_time(out, ev[i].at);
        kr_buf_puts(out, "}");
    }
    kr_buf_puts(out, "]}");
    free(ev);
    return out->failed ? KR_OPS_FAILED : KR_OPS_OK;
}
