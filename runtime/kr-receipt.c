// SPDX-License-Identifier: MIT
// kr-receipt.c: reads receipt and return JSON (docs/formats.md) into engine input.
#include "kr-receipt.h"

#include <stdlib.h>
#include <string.h>

#define KR_RECEIPT_MAX_LINES 10000

static const char *const receipt_keys[] = {"id",    "time",  "store",  "region", "channel",
                                           "customer", "lines", "codes", "points", "reward",
                                           "certificates", NULL};
static const char *const customer_keys[] = {"card", "phone", "email", "id", NULL};
static const char *const line_keys[] = {"id", "sku", "category", "brand", "qty", "price",
                                        "amount", "attrs", "certificates", NULL};
static const char *const pay_keys[] = {"number", "amount", NULL};
static const char *const reward_keys[] = {"promotion", "take", "points_percent", NULL};
static const char *const channels[] = {"store", "web", "phone", "app", "bot", NULL};

static bool one_of(const char *s, const char *const *set)
{
    for (; *set; set++)
        if (strcmp(*set, s) == 0)
            return true;
    return false;
}

static bool read_customer(kr_json_obj *o, kr_receipt *r)
{
    kr_json_obj c;
    bool present = false;
    if (!kr_json_child(o, "customer", NULL, 0, false, &c, &present))
        return false;
    if (!present)
        return true;
    if (!kr_json_expect_object(&c, customer_keys) ||
        !kr_json_string(&c, "card", false, &r->customer.card) ||
        !kr_json_string(&c, "phone", false, &r->customer.phone) ||
        !kr_json_string(&c, "email", false, &r->customer.email) ||
        !kr_json_string(&c, "id", false, &r->customer.id))
        return false;
    int n = !!r->customer.card + !!r->customer.phone + !!r->customer.email + !!r->customer.id;
    if (n != 1)
        return kr_json_fail(&c, NULL, "give exactly one of card, phone, email or id");
    return true;
}

static bool read_line(kr_json_obj *o, const json_t *lines, size_t i, int minor, kr_receipt *r,
                      size_t *kv_used)
{
    kr_json_obj l;
    bool present;
    kr_engine_line *ln = &r->lines[i];
    if (!kr_json_child(o, "lines", lines, i, true, &l, &present) ||
        !kr_json_expect_object(&l, line_keys) || !kr_json_string(&l, "id", true, &ln->id) ||
        !kr_json_string(&l, "sku", true, &ln->sku) ||
        !kr_json_string(&l, "category", false, &ln->category) ||
        !kr_json_string(&l, "brand", false, &ln->brand) ||
        !kr_json_int(&l, "qty", true, 1, 1000000, &ln->qty) ||
        !kr_json_money(&l, "price", true, minor, false, &ln->price))
        return false;
    if (__builtin_mul_overflow(ln->qty, ln->price, &ln->amount) || ln->amount > INT64_MAX / 10000)
        return kr_json_fail(&l, "qty", "qty × price is too large");
    if (!kr_json_money(&l, "amount", false, minor, false, &ln->amount))
        return false;
    for (size_t k = 0; k < i; k++)
        if (strcmp(r->lines[k].id, ln->id) == 0)
            return kr_json_fail(&l, "id", "line id \"%s\" appears twice in the receipt", ln->id);
    kr_json_obj a;
    if (!kr_json_child(&l, "attrs", NULL, 0, false, &a, &present))
        return false;
    if (present) {
        const char *key;
        json_t *val;
        ln->attrs = r->kv + *kv_used;
        json_object_foreach((json_t *)a.obj, key, val)
        {
            if (!json_is_string(val))
                return kr_json_fail(&a, key, "attribute values are strings");
            r->kv[*kv_used].key = key;
            r->kv[*kv_used].value = json_string_value(val);
            (*kv_used)++;
            ln->n_attrs++;
        }
    }
    return true;
}

static bool read_reward(kr_json_obj *o, kr_receipt *r)
{
    kr_json_obj w;
    bool present;
    if (!kr_json_child(o, "reward", NULL, 0, false, &w, &present))
        return false;
    if (!present)
        return true;
    const char *take = NULL;
    int64_t pct = 0;
    if (!kr_json_expect_object(&w, reward_keys) ||
        !kr_json_string(&w, "promotion", false, &r->rc.reward_promotion) ||
        !kr_json_string(&w, "take", true, &take) ||
        !kr_json_int(&w, "points_percent", false, 0, 100, &pct))
        return false;
    if (strcmp(take, "discount") == 0)
        r->rc.reward = KR_ENGINE_REWARD_DISCOUNT;
    else if (strcmp(take, "points") == 0)
        r->rc.reward = KR_ENGINE_REWARD_POINTS;
    else if (strcmp(take, "split") == 0) {
        r->rc.reward = KR_ENGINE_REWARD_SPLIT;
        if (!json_object_get(w.obj, "points_percent"))
            return kr_json_fail(&w, "points_percent", "is required when take is \"split\"");
        r->rc.points_bp = (uint32_t)(pct * 100);
    } else
        return kr_json_fail(&w, "take", "must be \"discount\", \"points\" or \"split\"");
    return true;
}

// A certificate number: 1..KR_RECEIPT_CERTIFICATE_MAX printable ASCII characters, no spaces.
static bool certificate_number_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > KR_RECEIPT_CERTIFICATE_MAX)
        return false;
    for (; *s; s++)
        if (*s <= ' ' || *s > '~')
            return false;
    return true;
}

// Allocates r->sold, r->sold_first, r->sold_n for the numbers the lines carry and r->pay for
// the certificates paying; false when out of memory.
static bool alloc_certificates(const json_t *root, const json_t *lines, kr_receipt *r)
{
    size_t n = json_array_size(lines), total = 0;
    for (size_t i = 0; i < n; i++) {
        const json_t *a = json_object_get(json_array_get(lines, i), "certificates");
        total += json_is_array(a) ? json_array_size(a) : 0;
    }
    const json_t *pay = json_object_get(root, "certificates");
    size_t np = json_is_array(pay) ? json_array_size(pay) : 0;
    r->sold = calloc(total ? total : 1, sizeof *r->sold);
    r->sold_first = calloc(n ? n : 1, sizeof *r->sold_first);
    r->sold_n = calloc(n ? n : 1, sizeof *r->sold_n);
    r->pay = calloc(np ? np : 1, sizeof *r->pay);
    return r->sold && r->sold_first && r->sold_n && r->pay;
}

// Reads the certificate numbers every line carries into r->sold (after the lines were read).
static bool read_sold(kr_json_obj *o, const json_t *lines, kr_receipt *r)
{
    size_t n = r->rc.n_lines, used = 0;
    for (size_t i = 0; i < n; i++) {
        kr_json_obj l;
        bool present;
        const json_t *a = NULL;
        r->sold_first[i] = used;
        if (!kr_json_child(o, "lines", lines, i, true, &l, &present) ||
            !kr_json_array(&l, "certificates", false, &a))
            return false;
        for (size_t k = 0; a && k < json_array_size(a); k++) {
            const char *num = json_string_value(json_array_get(a, k));
            char key[40];
            snprintf(key, sizeof key, "certificates[%zu]", k);
            if (!num || !certificate_number_ok(num))
                return kr_json_fail(&l, key, "a certificate number is 1 to %d printable "
                                             "characters without spaces",
                                    KR_RECEIPT_CERTIFICATE_MAX);
            for (size_t j = 0; j < used; j++)
                if (strcmp(r->sold[j], num) == 0)
                    return kr_json_fail(&l, key, "certificate %s appears twice in the receipt",
                                        num);
            r->sold[used++] = num;
        }
        r->sold_n[i] = used - r->sold_first[i];
    }
    return true;
}

// Reads "certificates": the certificates that pay for the receipt.
static bool read_pay(kr_json_obj *o, int minor, kr_receipt *r)
{
    const json_t *a = NULL;
    if (!kr_json_array(o, "certificates", false, &a))
        return false;
    if (!a)
        return true;
    r->n_pay = json_array_size(a);
    if (r->n_pay > KR_ENGINE_MAX_CERTIFICATES)
        return kr_json_fail(o, "certificates", "a receipt is paid with at most %d certificates",
                            KR_ENGINE_MAX_CERTIFICATES);
    for (size_t i = 0; i < r->n_pay; i++) {
        kr_json_obj c;
        bool present;
        r->pay[i].amount = -1;
        if (!kr_json_child(o, "certificates", a, i, true, &c, &present) ||
            !kr_json_expect_object(&c, pay_keys) ||
            !kr_json_string(&c, "number", true, &r->pay[i].number) ||
            !kr_json_money(&c, "amount", false, minor, false, &r->pay[i].amount))
            return false;
        if (!certificate_number_ok(r->pay[i].number))
            return kr_json_fail(&c, "number", "a certificate number is 1 to %d printable "
                                              "characters without spaces",
                                KR_RECEIPT_CERTIFICATE_MAX);
        if (r->pay[i].amount == 0)
            return kr_json_fail(&c, "amount", "must be more than 0 (leave it out to pay as much "
                                              "as the certificate can)");
        for (size_t k = 0; k < i; k++)
            if (strcmp(r->pay[k].number, r->pay[i].number) == 0)
                return kr_json_fail(&c, "number", "certificate %s is named twice",
                                    r->pay[i].number);
    }
    return true;
}

kr_input_status kr_receipt_parse(const char *text, size_t len, unsigned line, int minor_unit,
                                 kr_receipt *out, kr_input_error *err)
{
    memset(out, 0, sizeof *out);
    memset(err, 0, sizeof *err);
    json_t *root = kr_json_parse(text, len, line, err);
    if (!root)
        return KR_INPUT_INVALID;
    kr_receipt r = {.root = root};
    kr_json_obj o = {.obj = root, .err = err};
    const json_t *lines = NULL, *codes = NULL;
    if (!kr_json_expect_object(&o, receipt_keys) || !kr_json_string(&o, "id", true, &r.rc.id) ||
        !kr_json_time(&o, "time", true, &r.rc.time) ||
        !kr_json_string(&o, "store", false, &r.rc.store) ||
        !kr_json_string(&o, "region", false, &r.rc.region) ||
        !kr_json_string(&o, "channel", false, &r.rc.channel) || !read_customer(&o, &r) ||
        !kr_json_array(&o, "lines", true, &lines) || !kr_json_array(&o, "codes", false, &codes) ||
        !kr_json_int(&o, "points", false, 0, INT64_MAX / 4, &r.rc.points_to_spend) ||
        !read_reward(&o, &r))
        goto invalid;
    if (r.rc.id[0] == '\0' || strlen(r.rc.id) > 120) {
        kr_json_fail(&o, "id", "must be 1 to 120 characters");
        goto invalid;
    }
    if (r.rc.channel && !one_of(r.rc.channel, channels)) {
        kr_json_fail(&o, "channel", "must be store, web, phone, app or bot");
        goto invalid;
    }
    r.has_region = r.rc.region != NULL;
    r.has_channel = r.rc.channel != NULL;
    size_t n = json_array_size(lines);
    if (n == 0 || n > KR_RECEIPT_MAX_LINES) {
        kr_json_fail(&o, "lines", "a receipt has 1 to %d lines", KR_RECEIPT_MAX_LINES);
        goto invalid;
    }
    size_t n_kv = 0;
    for (size_t i = 0; i < n; i++) {
        const json_t *attrs = json_object_get(json_array_get(lines, i), "attrs");
        n_kv += json_is_object(attrs) ? json_object_size(attrs) : 0;
    }
    r.lines = calloc(n, sizeof *r.lines);
    r.kv = calloc(n_kv ? n_kv : 1, sizeof *r.kv);
    if (!r.lines || !r.kv) {
        kr_receipt_free(&r);
        return KR_INPUT_NOMEM;
    }
    size_t kv_used = 0;
    for (size_t i = 0; i < n; i++)
        if (!read_line(&o, lines, i, minor_unit, &r, &kv_used))
            goto invalid;
    r.rc.lines = r.lines;
    r.rc.n_lines = n;
    if (!alloc_certificates(root, lines, &r)) {
        kr_receipt_free(&r);
        return KR_INPUT_NOMEM;
    }
    if (!read_sold(&o, lines, &r) || !read_pay(&o, minor_unit, &r))
        goto invalid;
    if (codes) {
        r.n_codes = json_array_size(codes);
        r.codes = calloc(r.n_codes ? r.n_codes : 1, sizeof *r.codes);
        if (!r.codes) {
            kr_receipt_free(&r);
            return KR_INPUT_NOMEM;
        }
        for (size_t i = 0; i < r.n_codes; i++) {
            const json_t *c = json_array_get(codes, i);
            if (!json_is_string(c) || json_string_length(c) == 0) {
                char key[32];
                snprintf(key, sizeof key, "codes[%zu]", i);
                kr_json_fail(&o, key, "a promo code is a non-empty string");
                goto invalid;
            }
            r.codes[i] = json_string_value(c);
        }
    }
    *out = r;
    return KR_INPUT_OK;

invalid:
    if (!err->line)
        err->line = line;
    kr_receipt_free(&r);
    return KR_INPUT_INVALID;
}

void kr_receipt_free(kr_receipt *r)
{
    free(r->lines);
    free(r->kv);
    free(r->codes);
    free(r->pay);
    free(r->sold);
    free(r->sold_first);
    free(r->sold_n);
    json_decref(r->root);
    memset(r, 0, sizeof *r);
}

static const char *const return_keys[] = {"id", "receipt", "time", "lines", NULL};
static const char *const return_line_keys[] = {"id", "qty", "certificates", NULL};

kr_input_status kr_return_parse(const char *text, size_t len, unsigned line, kr_return *out,
                                kr_input_error *err)
{
    memset(out, 0, sizeof *out);
    memset(err, 0, sizeof *err);
    json_t *root = kr_json_parse(text, len, line, err);
    if (!root)
        return KR_INPUT_INVALID;
    kr_return r = {.root = root};
    kr_json_obj o = {.obj = root, .err = err};
    const json_t *lines = NULL;
    if (!kr_json_expect_object(&o, return_keys) || !kr_json_string(&o, "id", true, &r.id) ||
        !kr_json_string(&o, "receipt", true, &r.receipt) ||
        !kr_json_time(&o, "time", true, &r.time) || !kr_json_array(&o, "lines", true, &lines))
        goto invalid;
    r.n_lines = json_array_size(lines);
    if (r.n_lines == 0) {
        kr_json_fail(&o, "lines", "a return names at least one line");
        goto invalid;
    }
    r.lines = calloc(r.n_lines, sizeof *r.lines);
    if (!r.lines) {
        kr_return_free(&r);
        return KR_INPUT_NOMEM;
    }
    for (size_t i = 0; i < r.n_lines; i++) {
        kr_json_obj l;
        bool present;
        if (!kr_json_child(&o, "lines", lines, i, true, &l, &present) ||
            !kr_json_expect_object(&l, return_line_keys) ||
            !kr_json_string(&l, "id", true, &r.lines[i].id) ||
            !kr_json_int(&l, "qty", false, 1, 1000000, &r.lines[i].qty) ||
            !kr_json_array(&l, "certificates", false, &r.lines[i].certificates))
            goto invalid;
        const json_t *cs = r.lines[i].certificates;
        for (size_t k = 0; cs && k < json_array_size(cs); k++) {
            const char *num = json_string_value(json_array_get(cs, k));
            char key[40];
            snprintf(key, sizeof key, "certificates[%zu]", k);
            bool twice = false;
            for (size_t j = 0; num && !twice && j < k; j++)
                twice = strcmp(json_string_value(json_array_get(cs, j)), num) == 0;
            if (twice) {
                kr_json_fail(&l, key, "certificate %s is named twice", num);
                goto invalid;
            }
            if (!num || !certificate_number_ok(num)) {
                kr_json_fail(&l, key,
                             "a certificate number is 1 to %d printable characters "
                             "without spaces",
                             KR_RECEIPT_CERTIFICATE_MAX);
                goto invalid;
            }
        }
        for (size_t k = 0; k < i; k++)
            if (strcmp(r.lines[k].id, r.lines[i].id) == 0) {
                kr_json_fail(&l, "id", "line \"%s\" is named twice", r.lines[i].id);
                goto invalid;
            }
    }
    *out = r;
    return KR_INPUT_OK;

invalid:
    if (!err->line)
        err->line = line;
    kr_return_free(&r);
    return KR_INPUT_INVALID;
}

void kr_return_free(kr_return *r)
{
    free(r->lines);
    json_decref(r->root);
    memset(r, 0, sizeof *r);
}
