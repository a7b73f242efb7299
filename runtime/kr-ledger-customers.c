// SPDX-License-Identifier: MIT
// kr-ledger-customers: customers, identities, cards, merging duplicates and bulk import.
#include "kr-identity.h"
#include "kr-ledger-private.h"

#include <stdlib.h>
#include <string.h>

// --- validation -----------------------------------------------------------------------------

static bool valid_birthday(const char *s)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return false;
    int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int m = (s[5] - '0') * 10 + (s[6] - '0');
    int d = (s[8] - '0') * 10 + (s[9] - '0');
    if (y < 1900 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
        return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return !(m == 2 && d == 29 && !leap);
}

// Segment ids follow the rule language's id rule: 1..64 ASCII letters, digits, '-', '_', '.',
// starting with a letter or digit.
static bool valid_segment(const char *s)
{
    if (!s)
        return false;
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (n >= KR_LEDGER_SEGMENT_MAX || !(alnum || (n > 0 && (c == '-' || c == '_' || c == '.'))))
            return false;
    }
    return n > 0;
}

static kr_ledger_status check_segment(kr_ledger *db, const char *segment)
{
    if (!segment)
        return kr_ledger_fail(db, KR_LEDGER_INVALID, "segment id is missing");
    if (!valid_segment(segment))
        return kr_ledger_fail(db, KR_LEDGER_INVALID,
                              "segment id '%.80s' is not 1..%d letters, digits, '-', '_', '.'"
                              " starting with a letter or digit",
                              segment, KR_LEDGER_SEGMENT_MAX);
    return KR_LEDGER_OK;
}

static kr_ledger_status check_profile(kr_ledger *db, const kr_ledger_customer_in *in)
{
    if (!in)
        return kr_ledger_fail(db, KR_LEDGER_INVALID, "no customer given");
    if (in->external_id) {
        kr_ledger_status s = kr_ledger_check_id(db, "external id", in->external_id);
        if (s != KR_LEDGER_OK)
            return s;
    }
    if (in->birthday && !valid_birthday(in->birthday))
        return kr_ledger_fail(db, KR_LEDGER_INVALID, "birthday '%s' is not a valid date YYYY-MM-DD",
                              in->birthday);
    if (in->n_segments && !in->segments)
        return kr_ledger_fail(db, KR_LEDGER_INVALID, "segments missing");
    for (size_t i = 0; i < in->n_segments; i++) {
        kr_ledger_status s = check_segment(db, in->segments[i]);
        if (s != KR_LEDGER_OK)
            return s;
    }
    if (in->n_attrs && !in->attrs)
        return kr_ledger_fail(db, KR_LEDGER_INVALID, "attributes missing");
    for (size_t i = 0; i < in->n_attrs; i++)
        if (!in->attrs[i].key || !in->attrs[i].key[0] || !in->attrs[i].value)
            return kr_ledger_fail(db, KR_LEDGER_INVALID, "attribute %zu has no key or value", i);
    return KR_LEDGER_OK;
}

static const char *kind_name(kr_ledger_identity_kind kind)
{
    return kind == KR_LEDGER_PHONE ? "phone" : "email";
}

// Normalises a phone or e-mail into buf (KR_IDENTITY_EMAIL_MAX bytes).
static kr_ledger_status normalize_identity(kr_ledger *db, kr_ledger_identity_kind kind,
                                           const char *value, char *buf, size_t len)
{
    char msg[256];
    kr_identity_status is;
    if (kind == KR_LEDGER_PHONE)
        is = kr_identity_phone_normalize(value, buf, len, msg, sizeof msg);
    else if (kind == KR_LEDGER_EMAIL)
        is = kr_identity_email_normalize(value, buf, len, msg, sizeof msg);
    else
        return kr_ledger_fail(db, KR_LEDGER_INVALID, "unknown identity kind %d", (int)kind);
    if (is != KR_IDENTITY_OK)
        return kr_ledger_fail(db, KR_LEDGER_INVALID, "%s", msg);
    return KR_LEDGER_OK;
}

static kr_ledger_status normalize_card(kr_ledger *db, const char *number, char *buf)
{
    char msg[256];
    if (kr_identity_card_normalize(number, false, buf, KR_IDENTITY_CARD_MAX, msg, sizeof msg) !=
        KR_IDENTITY_OK)
        return kr_ledger_fail(db, KR_LEDGER_INVALID, "%s", msg);
    return KR_LEDGER_OK;
}

// Owner of an identity value (already normalised); 0 if none.
static kr_ledger_status identity_owner(kr_ledger *db, const char *kind, const char *value,
                                       int64_t *owner)
{
    static const char sql[] = "SELECT customer_id FROM identity WHERE kind = ?1 AND value = ?2";
    sqlite3_stmt *st = kr_ledger_stmt(db, sql);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    kr_ledger_status s = kr_ledger_bind(db, st, "tt", kind, value);
    bool row = false;
    if (s == KR_LEDGER_OK)
        s = kr_ledger_step(db, st, &row);
    if (s != KR_LEDGER_OK)
        return s;
    *owner = row ? sqlite3_column_int64(st, 0) : 0;
    kr_ledger_done(st);
    return KR_LEDGER_OK;
}

// Inserts a normalised identity; EXISTS if the customer has it, CONFLICT if someone else does.
static kr_ledger_status identity_insert(kr_ledger *db, int64_t customer_id, const char *kind,
                                        const char *value)
{
    static const char sql[] = "INSERT INTO identity(kind, value, customer_id) VALUES (?1, ?2, ?3)";
    int64_t owner;
    kr_ledger_status s = identity_owner(db, kind, value, &owner);
    if (s != KR_LEDGER_OK)
        return s;
    if (owner == customer_id)
        return KR_LEDGER_EXISTS;
    if (owner)
        return kr_ledger_fail(db, KR_LEDGER_CONFLICT, "%s %s already belongs to customer %lld",
                              kind, value, (long long)owner);
    sqlite3_stmt *st = kr_ledger_stmt(db, sql);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "tti", kind, value, customer_id);
    if (s != KR_LEDGER_OK)
        return s;
    return kr_ledger_exec_done(db, st);
}

// Writes the attributes and joins the segments the customer is not in yet at `joined_at` (no
// end); memberships already stored are kept as they are.
static kr_ledger_status write_profile_sets(kr_ledger *db, int64_t id,
                                           const kr_ledger_customer_in *in, int64_t joined_at)
{
    static const char seg[] = "INSERT OR IGNORE INTO customer_segment(customer_id, segment_id,"
                              " joined_at) VALUES (?1, ?2, ?3)";
    static const char attr[] =
        "INSERT INTO customer_attr(customer_id, key, value) VALUES (?1, ?2, ?3)";
    kr_ledger_status s = KR_LEDGER_OK;
    for (size_t i = 0; i < in->n_segments && s == KR_LEDGER_OK; i++) {
        sqlite3_stmt *st = kr_ledger_stmt(db, seg);
        if (!st)
            return KR_LEDGER_DB_ERROR;
        s = kr_ledger_bind(db, st, "iti", id, in->segments[i], joined_at);
        if (s == KR_LEDGER_OK)
            s = kr_ledger_exec_done(db, st);
    }
    for (size_t i = 0; i < in->n_attrs && s == KR_LEDGER_OK; i++) {
        sqlite3_stmt *st = kr_ledger_stmt(db, attr);
        if (!st)
            return KR_LEDGER_DB_ERROR;
        s = kr_ledger_bind(db, st, "itt", id, in->attrs[i].key, in->attrs[i].value);
        if (s == KR_LEDGER_OK)
            s = kr_ledger_exec_done(db, st);
        if (s == KR_LEDGER_CONFLICT)
            s = kr_ledger_fail(db, KR_LEDGER_INVALID, "attribute '%s' given twice",
                               in->attrs[i].key);
    }
    return s;
}

kr_ledger_status kr_ledger_customer_insert(kr_ledger *db, const kr_ledger_customer_in *in,
                                           bool anonymous, int64_t *out_id)
{
    static const char sql[] = "INSERT INTO customer(external_id, name, birthday, registered_at,"
                              " anonymous) VALUES (?1, ?2, ?3, ?4, ?5)";
    char phone[KR_IDENTITY_PHONE_MAX], email[KR_IDENTITY_EMAIL_MAX];
    kr_ledger_status s = check_profile(db, in);
    if (s == KR_LEDGER_OK && in->phone)
        s = normalize_identity(db, KR_LEDGER_PHONE, in->phone, phone, sizeof phone);
    if (s == KR_LEDGER_OK && in->email)
        s = normalize_identity(db, KR_LEDGER_EMAIL, in->email, email, sizeof email);
    if (s != KR_LEDGER_OK)
        return s;
    sqlite3_stmt *st = kr_ledger_stmt(db, sql);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "tttii", in->external_id, in->name, in->birthday, in->registered_at,
                       (int64_t)(anonymous ? 1 : 0));
    if (s == KR_LEDGER_OK)
        s = kr_ledger_exec_done(db, st);
    if (s == KR_LEDGER_CONFLICT)
        return kr_ledger_fail(db, KR_LEDGER_CONFLICT, "external id '%s' is already taken",
                              in->external_id ? in->external_id : "");
    if (s != KR_LEDGER_OK)
        return s;
    int64_t id = sqlite3_last_insert_rowid(db->sql);
    s = write_profile_sets(db, id, in, in->registered_at);
    if (s == KR_LEDGER_OK && in->phone)
        s = identity_insert(db, id, "phone", phone);
    if (s == KR_LEDGER_OK && in->email)
        s = identity_insert(db, id, "email", email);
    if (s != KR_LEDGER_OK)
        return s;
    *out_id = id;
    return KR_LEDGER_OK;
}

kr_ledger_status kr_ledger_customer_create(kr_ledger *db, const kr_ledger_customer_in *in,
                                           int64_t *out_id)
{
    int64_t id = 0;
    kr_ledger_status s = kr_ledger_sp_begin(db);
    if (s != KR_LEDGER_OK)
        return s;
    s = kr_ledger_sp_end(db, kr_ledger_customer_insert(db, in, false, &id));
    if (s != KR_LEDGER_OK)
        return s;
    if (out_id)
        *out_id = id;
    return KR_LEDGER_OK;
}

static bool listed(const kr_ledger_customer_in *in, const char *segment)
{
    for (size_t i = 0; i < in->n_segments; i++)
        if (strcmp(in->segments[i], segment) == 0)
            return true;
    return false;
}

// Leaves the segments the customer is in but `in` no longer lists.
static kr_ledger_status leave_unlisted(kr_ledger *db, int64_t id, const kr_ledger_customer_in *in)
{
    static const char q_seg[] = "SELECT segment_id FROM customer_segment WHERE customer_id = ?1";
    static const char del[] =
        "DELETE FROM customer_segment WHERE customer_id = ?1 AND segment_id = ?2";
    char **gone = NULL;
    size_t n = 0, cap = 0;
    sqlite3_stmt *st = kr_ledger_stmt(db, q_seg);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    kr_ledger_status s = kr_ledger_bind(db, st, "i", id);
    bool row = true;
    while (s == KR_LEDGER_OK && (s = kr_ledger_step(db, st, &row)) == KR_LEDGER_OK && row) {
        const char *seg = (const char *)sqlite3_column_text(st, 0);
        if (seg && listed(in, seg))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            char **p = realloc(gone, cap * sizeof *p);
            if (!p) {
                s = kr_ledger_fail(db, KR_LEDGER_NOMEM, "out of memory");
                break;
            }
            gone = p;
        }
        s = kr_ledger_col_dup(db, st, 0, &gone[n]);
        if (s == KR_LEDGER_OK)
            n++;
    }
    kr_ledger_done(st);
    for (size_t i = 0; i < n && s == KR_LEDGER_OK; i++) {
        st = kr_ledger_stmt(db, del);
        if (!st) {
            s = KR_LEDGER_DB_ERROR;
            break;
        }
        s = kr_ledger_bind(db, st, "it", id, gone[i]);
        if (s == KR_LEDGER_OK)
            s = kr_ledger_exec_done(db, st);
    }
    kr_ledger_strings_free(gone, n);
    return s;
}

static kr_ledger_status customer_update(kr_ledger *db, int64_t id, const kr_ledger_customer_in *in,
                                        int64_t at)
{
    static const char upd[] = "UPDATE customer SET external_id = ?2, name = ?3, birthday = ?4,"
                              " registered_at = ?5 WHERE id = ?1";
    static const char del_attr[] = "DELETE FROM customer_attr WHERE customer_id = ?1";
    kr_ledger_status s = kr_ledger_live_customer(db, id);
    if (s == KR_LEDGER_OK)
        s = check_profile(db, in);
    if (s != KR_LEDGER_OK)
        return s;
    sqlite3_stmt *st = kr_ledger_stmt(db, upd);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "ittti", id, in->external_id, in->name, in->birthday,
                       in->registered_at);
    if (s == KR_LEDGER_OK)
        s = kr_ledger_exec_done(db, st);
    if (s == KR_LEDGER_CONFLICT)
        return kr_ledger_fail(db, KR_LEDGER_CONFLICT, "external id '%s' is already taken",
                              in->external_id ? in->external_id : "");
    if (s == KR_LEDGER_OK) {
        st = kr_ledger_stmt(db, del_attr);
        if (!st)
            return KR_LEDGER_DB_ERROR;
        s = kr_ledger_bind(db, st, "i", id);
        if (s == KR_LEDGER_OK)
            s = kr_ledger_exec_done(db, st);
    }
    // Kept segments keep their membership; unlisted ones are left, new ones joined at `at`.
    if (s == KR_LEDGER_OK)
        s = leave_unlisted(db, id, in);
    if (s != KR_LEDGER_OK)
        return s;
    return write_profile_sets(db, id, in, at);
}

kr_ledger_status kr_ledger_customer_update(kr_ledger *db, int64_t id,
                                           const kr_ledger_customer_in *in, int64_t at)
{
    kr_ledger_status s = kr_ledger_sp_begin(db);
    if (s != KR_LEDGER_OK)
        return s;
    return kr_ledger_sp_end(db, customer_update(db, id, in, at));
}

void kr_ledger_customer_free(kr_ledger_customer *c)
{
    if (!c)
        return;
    free(c->external_id);
    free(c->name);
    free(c->birthday);
    free(c->phone);
    free(c->email);
    for (size_t i = 0; i < c->n_segments; i++)
        free(c->segments[i].segment);
    free(c->segments);
    for (size_t i = 0; i < c->n_attrs; i++) {
        free((void *)c->attrs[i].key);
        free((void *)c->attrs[i].value);
    }
    free(c->attrs);
    free(c);
}

static kr_ledger_status first_identity(kr_ledger *db, int64_t id, const char *kind, char **out)
{
    static const char sql[] = "SELECT value FROM identity WHERE customer_id = ?1 AND kind = ?2"
                              " ORDER BY rowid LIMIT 1";
    sqlite3_stmt *st = kr_ledger_stmt(db, sql);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    kr_ledger_status s = kr_ledger_bind(db, st, "it", id, kind);
    bool row = false;
    if (s == KR_LEDGER_OK)
        s = kr_ledger_step(db, st, &row);
    if (s != KR_LEDGER_OK || !row)
        return s;
    s = kr_ledger_col_dup(db, st, 0, out);
    kr_ledger_done(st);
    return s;
}

static kr_ledger_status read_sets(kr_ledger *db, kr_ledger_customer *c)
{
    static const char seg[] = "SELECT segment_id, joined_at, until FROM customer_segment"
                              " WHERE customer_id = ?1 ORDER BY segment_id";
    static const char attr[] =
        "SELECT key, value FROM customer_attr WHERE customer_id = ?1 ORDER BY key";
    sqlite3_stmt *st = kr_ledger_stmt(db, seg);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    kr_ledger_status s = kr_ledger_bind(db, st, "i", c->id);
    size_t cap = 0;
    bool row = true;
    while (s == KR_LEDGER_OK && (s = kr_ledger_step(db, st, &row)) == KR_LEDGER_OK && row) {
        if (c->n_segments == cap) {
            cap = cap ? cap * 2 : 8;
            kr_ledger_membership *p = realloc(c->segments, cap * sizeof *p);
            if (!p) {
                kr_ledger_done(st);
                return kr_ledger_fail(db, KR_LEDGER_NOMEM, "out of memory");
            }
            c->segments = p;
        }
        kr_ledger_membership *m = &c->segments[c->n_segments];
        s = kr_ledger_col_dup(db, st, 0, &m->segment);
        if (s == KR_LEDGER_OK && !m->segment)
            s = kr_ledger_fail(db, KR_LEDGER_DB_ERROR, "segment id is NULL");
        if (s != KR_LEDGER_OK) {
            kr_ledger_done(st);
            return s;
        }
        m->joined_at = sqlite3_column_int64(st, 1);
        m->until = kr_ledger_col_expiry(st, 2);
        c->n_segments++;
    }
    if (s != KR_LEDGER_OK)
        return s;
    kr_ledger_done(st);
    st = kr_ledger_stmt(db, attr);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "i", c->id);
    cap = 0;
    while (s == KR_LEDGER_OK && (s = kr_ledger_step(db, st, &row)) == KR_LEDGER_OK && row) {
        if (c->n_attrs == cap) {
            cap = cap ? cap * 2 : 8;
            kr_ledger_attr *p = realloc(c->attrs, cap * sizeof *p);
            if (!p) {
                kr_ledger_done(st);
                return kr_ledger_fail(db, KR_LEDGER_NOMEM, "out of memory");
            }
            c->attrs = p;
        }
        char *k = NULL, *v = NULL;
        s = kr_ledger_col_dup(db, st, 0, &k);
        if (s == KR_LEDGER_OK)
            s = kr_ledger_col_dup(db, st, 1, &v);
        if (s != KR_LEDGER_OK) {
            free(k);
            kr_ledger_done(st);
            return s;
        }
        c->attrs[c->n_attrs].key = k;
        c->attrs[c->n_attrs].value = v;
        c->n_attrs++;
    }
    if (s != KR_LEDGER_OK)
        return s;
    kr_ledger_done(st);
    return KR_LEDGER_OK;
}

kr_ledger_status kr_ledger_customer_get(kr_ledger *db, int64_t id, kr_ledger_customer **out)
{
    static const char sql[] =
        "SELECT external_id, name, birthday, registered_at, anonymous, merged_into, balance, debt"
        " FROM customer WHERE id = ?1";
    *out = NULL;
    sqlite3_stmt *st = kr_ledger_stmt(db, sql);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    kr_ledger_status s = kr_ledger_bind(db, st, "i", id);
    bool row = false;
    if (s == KR_LEDGER_OK)
        s = kr_ledger_step(db, st, &row);
    if (s != KR_LEDGER_OK)
        return s;
    if (!row)
        return kr_ledger_fail(db, KR_LEDGER_NOT_FOUND, "customer %lld not found", (long long)id);
    kr_ledger_customer *c = calloc(1, sizeof *c);
    if (!c) {
        kr_ledger_done(st);
        return kr_ledger_fail(db, KR_LEDGER_NOMEM, "out of memory");
    }
    c->id = id;
    s = kr_ledger_col_dup(db, st, 0, &c->external_id);
    if (s == KR_LEDGER_OK)
        s = kr_ledger_col_dup(db, st, 1, &c->name);
    if (s == KR_LEDGER_OK)
        s = kr_ledger_col_dup(db, st, 2, &c->birthday);
    c->registered_at = sqlite3_column_int64(st, 3);
    c->anonymous = sqlite3_column_int64(st, 4) != 0;
    c->merged_into = sqlite3_column_int64(st, 5);
    c->balance = sqlite3_column_int64(st, 6);
    c->debt = sqlite3_column_int64(st, 7);
    kr_ledger_done(st);
    if (s == KR_LEDGER_OK)
        s = first_identity(db, id, "phone", &c->phone);
    if (s == KR_LEDGER_OK)
        s = first_identity(db, id, "email", &c->email);
    if (s == KR_LEDGER_OK)
        s = read_sets(db, c);
    if (s != KR_LEDGER_OK) {
        kr_ledger_customer_free(c);
        return s;
    }
    *out = c;
    return KR_LEDGER_OK;
}

kr_ledger_status kr_ledger_customer_survivor(kr_ledger *db, int64_t id, int64_t *out)
{
    static const char sql[] = "SELECT coalesce(merged_into, id) FROM customer WHERE id = ?1";
    sqlite3_stmt *st = kr_ledger_stmt(db, sql);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    kr_ledger_status s = kr_ledger_bind(db, st, "i", id);
    bool row = false;
    if (s == KR_LEDGER_OK)
        s = kr_ledger_step(db, st, &row);
    if (s != KR_LEDGER_OK)
        return s;
    if (!row)
        return kr_ledger_fail(db, KR_LEDGER_NOT_FOUND, "customer %lld not found", (long long)id);
    *out = sqlite3_column_int64(st, 0);
    kr_ledger_done(st);
    return KR_LEDGER_OK;
}

static kr_ledger_status by_identity(kr_ledger *db, kr_ledger_identity_kind kind, const char *value,
                                    int64_t *out_id)
{
    char buf[KR_IDENTITY_EMAIL_MAX];
    kr_ledger_status s = normalize_identity(db, kind, value, buf, sizeof buf);
    if (s != KR_LEDGER_OK)
        return s;
    int64_t owner;
    s = identity_owner(db, kind_name(kind), buf, &owner);
    if (s != KR_LEDGER_OK)
        return s;
    if (!owner)
        return kr_ledger_fail(db, KR_LEDGER_NOT_FOUND, "no customer has %s %s", kind_name(kind),
                              buf);
    *out_id = owner;
    return KR_LEDGER_OK;
}

kr_ledger_status kr_ledger_customer_by_phone(kr_ledger *db, const char *phone, int64_t *out_id)
{
    return by_identity(db, KR_LEDGER_PHONE, phone, out_id);
}

kr_ledger_status kr_ledger_customer_by_email(kr_ledger *db, const char *email, int64_t *out_id)
{
    return by_identity(db, KR_LEDGER_EMAIL, email, out_id);
}

kr_ledger_status kr_ledger_customer_by_external_id(kr_ledger *db, const char *external_id,
                                                   int64_t *out_id)
{
    static const char sql[] =
        "SELECT coalesce(merged_into, id) FROM customer WHERE external_id = ?1";
    kr_ledger_status s = kr_ledger_check_id(db, "external id", external_id);
    if (s != KR_LEDGER_OK)
        return s;
    sqlite3_stmt *st = kr_ledger_stmt(db, sql);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "t", external_id);
    bool row = false;
    if (s == KR_LEDGER_OK)
        s = kr_ledger_step(db, st, &row);
    if (s != KR_LEDGER_OK)
        return s;
    if (!row)
        return kr_ledger_fail(db, KR_LEDGER_NOT_FOUND, "no customer with external id '%s'",
                              external_id);
    *out_id = sqlite3_column_int64(st, 0);
    kr_ledger_done(st);
    return KR_LEDGER_OK;
}

static kr_ledger_status identity_add(kr_ledger *db, int64_t customer_id,
                                     kr_ledger_identity_kind kind, const char *value)
{
    char buf[KR_IDENTITY_EMAIL_MAX];
    kr_ledger_status s = normalize_identity(db, kind, value, buf, sizeof buf);
    if (s == KR_LEDGER_OK)
        s = kr_ledger_live_customer(db, customer_id);
    if (s != KR_LEDGER_OK)
        return s;
    return identity_insert(db, customer_id, kind_name(kind), buf);
}

kr_ledger_status kr_ledger_identity_add(kr_ledger *db, int64_t customer_id,
                                        kr_ledger_identity_kind kind, const char *value)
{
    kr_ledger_status s = kr_ledger_sp_begin(db);
    if (s != KR_LEDGER_OK)
        return s;
    s = identity_add(db, customer_id, kind, value);
    // EXISTS changed nothing: release the savepoint and report it.
    kr_ledger_status e = kr_ledger_sp_end(db, s == KR_LEDGER_EXISTS ? KR_LEDGER_OK : s);
    return e == KR_LEDGER_OK ? s : e;
}

kr_ledger_status kr_ledger_identity_remove(kr_ledger *db, kr_ledger_identity_kind kind,
                                           const char *value)
{
    static const char sql[] = "DELETE FROM identity WHERE kind = ?1 AND value = ?2";
    char buf[KR_IDENTITY_EMAIL_MAX];
    kr_ledger_status s = normalize_identity(db, kind, value, buf, sizeof buf);
    if (s != KR_LEDGER_OK)
        return s;
    sqlite3_stmt *st = kr_ledger_stmt(db, sql);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "tt", kind_name(kind), buf);
    if (s == KR_LEDGER_OK)
        s = kr_ledger_exec_done(db, st);
    if (s != KR_LEDGER_OK)
        return s;
    if (sqlite3_changes(db->sql) == 0)
        return kr_ledger_fail(db, KR_LEDGER_NOT_FOUND, "nobody has %s %s", kind_name(kind), buf);
    return KR_LEDGER_OK;
}

// --- segment memberships --------------------------------------------------------------------

static kr_ledger_status segment_join(kr_ledger *db, int64_t customer_id, const char *segment,
                                     int64_t at, int64_t until)
{
    static const char q_mem[] =
        "SELECT until FROM customer_segment WHERE customer_id = ?1 AND segment_id = ?2";
    static const char ins[] = "INSERT INTO customer_segment(customer_id, segment_id, joined_at,"
                              " until) VALUES (?1, ?2, ?3, ?4)";
    static const char extend[] =
        "UPDATE customer_segment SET until = ?3 WHERE customer_id = ?1 AND segment_id = ?2";
    kr_ledger_status s = check_segment(db, segment);
    if (s != KR_LEDGER_OK)
        return s;
    if (until <= at)
        return kr_ledger_fail(db, KR_LEDGER_INVALID,
                              "membership of segment '%s' would end (%lld) before it starts (%lld)",
                              segment, (long long)until, (long long)at);
    s = kr_ledger_live_customer(db, customer_id);
    if (s != KR_LEDGER_OK)
        return s;
    sqlite3_stmt *st = kr_ledger_stmt(db, q_mem);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "it", customer_id, segment);
    bool row = false;
    if (s == KR_LEDGER_OK)
        s = kr_ledger_step(db, st, &row);
    if (s != KR_LEDGER_OK)
        return s;
    int64_t stored = row ? kr_ledger_col_expiry(st, 0) : 0;
    kr_ledger_done(st);
    if (row && stored >= until)
        return KR_LEDGER_EXISTS; // already a member at least that long
    st = kr_ledger_stmt(db, row ? extend : ins);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = row ? kr_ledger_bind(db, st, "ite", customer_id, segment, until)
            : kr_ledger_bind(db, st, "itie", customer_id, segment, at, until);
    if (s == KR_LEDGER_OK)
        s = kr_ledger_exec_done(db, st);
    return s;
}

kr_ledger_status kr_ledger_segment_join(kr_ledger *db, int64_t customer_id, const char *segment,
                                        int64_t at, int64_t until)
{
    kr_ledger_status s = kr_ledger_sp_begin(db);
    if (s != KR_LEDGER_OK)
        return s;
    s = segment_join(db, customer_id, segment, at, until);
    kr_ledger_status e = kr_ledger_sp_end(db, s == KR_LEDGER_EXISTS ? KR_LEDGER_OK : s);
    return e == KR_LEDGER_OK ? s : e;
}

kr_ledger_status kr_ledger_segment_set_until(kr_ledger *db, int64_t customer_id,
                                             const char *segment, int64_t until)
{
    static const char upd[] = "UPDATE customer_segment SET until = ?3"
                              " WHERE customer_id = ?1 AND segment_id = ?2 AND joined_at < ?3";
    kr_ledger_status s = check_segment(db, segment);
    if (s == KR_LEDGER_OK && until == KR_LEDGER_NEVER)
        s = kr_ledger_fail(db, KR_LEDGER_INVALID, "a membership's end must be a time");
    if (s == KR_LEDGER_OK)
        s = kr_ledger_live_customer(db, customer_id);
    if (s != KR_LEDGER_OK)
        return s;
    sqlite3_stmt *st = kr_ledger_stmt(db, upd);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "iti", customer_id, segment, until);
    if (s == KR_LEDGER_OK)
        s = kr_ledger_exec_done(db, st);
    if (s != KR_LEDGER_OK)
        return s;
    if (sqlite3_changes(db->sql) == 0)
        return kr_ledger_fail(db, KR_LEDGER_NOT_FOUND,
                              "customer %lld has no membership of '%s' that started before %lld",
                              (long long)customer_id, segment, (long long)until);
    return KR_LEDGER_OK;
}

kr_ledger_status kr_ledger_segment_open_ended(kr_ledger *db, const char *segment,
                                              int64_t after_customer_id, size_t limit,
                                              kr_ledger_segment_member *out, size_t *n)
{
    static const char sql[] = "SELECT customer_id, joined_at, segment_id FROM customer_segment"
                              " WHERE segment_id = ?1 AND customer_id > ?2 AND until IS NULL"
                              " ORDER BY customer_id LIMIT ?3";
    *n = 0;
    kr_ledger_status s = check_segment(db, segment);
    if (s == KR_LEDGER_OK && (limit == 0 || limit > 10000))
        s = kr_ledger_fail(db, KR_LEDGER_INVALID, "limit must be 1..10000");
    if (s != KR_LEDGER_OK)
        return s;
    sqlite3_stmt *st = kr_ledger_stmt(db, sql);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "tii", segment, after_customer_id, (int64_t)limit);
    bool row = true;
    while (s == KR_LEDGER_OK && (s = kr_ledger_step(db, st, &row)) == KR_LEDGER_OK && row) {
        kr_ledger_segment_member *m = &out[(*n)++];
        m->customer_id = sqlite3_column_int64(st, 0);
        kr_ledger_col_copy(st, 2, m->segment, sizeof m->segment);
        m->joined_at = sqlite3_column_int64(st, 1);
        m->until = KR_LEDGER_NEVER;
    }
    if (s != KR_LEDGER_OK) {
        *n = 0;
        return s;
    }
    kr_ledger_done(st);
    return KR_LEDGER_OK;
}

static kr_ledger_status segment_leave(kr_ledger *db, int64_t customer_id, const char *segment)
{
    static const char del[] =
        "DELETE FROM customer_segment WHERE customer_id = ?1 AND segment_id = ?2";
    kr_ledger_status s = check_segment(db, segment);
    if (s == KR_LEDGER_OK)
        s = kr_ledger_live_customer(db, customer_id);
    if (s != KR_LEDGER_OK)
        return s;
    sqlite3_stmt *st = kr_ledger_stmt(db, del);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "it", customer_id, segment);
    if (s == KR_LEDGER_OK)
        s = kr_ledger_exec_done(db, st);
    if (s != KR_LEDGER_OK)
        return s;
    if (sqlite3_changes(db->sql) == 0)
        return kr_ledger_fail(db, KR_LEDGER_NOT_FOUND, "customer %lld is not in segment '%s'",
                              (long long)customer_id, segment);
    return KR_LEDGER_OK;
}

kr_ledger_status kr_ledger_segment_leave(kr_ledger *db, int64_t customer_id, const char *segment,
                                         int64_t at)
{
    (void)at; // no membership history is kept (yet): leaving deletes the membership
    kr_ledger_status s = kr_ledger_sp_begin(db);
    if (s != KR_LEDGER_OK)
        return s;
    return kr_ledger_sp_end(db, segment_leave(db, customer_id, segment));
}

static kr_ledger_status check_page(kr_ledger *db, size_t limit, const void *out)
{
    if (limit == 0 || limit > 10000)
        return kr_ledger_fail(db, KR_LEDGER_INVALID, "page size must be 1..10000");
    if (!out)
        return kr_ledger_fail(db, KR_LEDGER_INVALID, "no output array given");
    return KR_LEDGER_OK;
}

kr_ledger_status kr_ledger_segment_members_due(kr_ledger *db, const char *segment,
                                               int64_t joined_before, int64_t after_id,
                                               size_t limit, int64_t *ids, size_t *n)
{
    static const char sql[] =
        "SELECT customer_id FROM customer_segment WHERE segment_id = ?1 AND customer_id > ?2"
        " AND joined_at <= ?3 ORDER BY customer_id LIMIT ?4";
    *n = 0;
    kr_ledger_status s = check_segment(db, segment);
    if (s == KR_LEDGER_OK)
        s = check_page(db, limit, ids);
    if (s != KR_LEDGER_OK)
        return s;
    sqlite3_stmt *st = kr_ledger_stmt(db, sql);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "tiii", segment, after_id, joined_before, (int64_t)limit);
    bool row = true;
    while (s == KR_LEDGER_OK && (s = kr_ledger_step(db, st, &row)) == KR_LEDGER_OK && row)
        ids[(*n)++] = sqlite3_column_int64(st, 0);
    if (s != KR_LEDGER_OK) {
        *n = 0;
        return s;
    }
    kr_ledger_done(st);
    return KR_LEDGER_OK;
}

kr_ledger_status kr_ledger_segment_expired(kr_ledger *db, int64_t at, int64_t after_customer_id,
                                           const char *after_segment, size_t limit,
                                           kr_ledger_segment_member *out, size_t *n)
{
    // The cursor is the (customer_id, segment_id) of the last row of the previous page; ''
    // sorts before every segment id. The until index bounds the work by the memberships that
    // ended and were not left yet (few), where the primary key would walk every membership.
    static const char sql[] =
        "SELECT customer_id, segment_id, joined_at, until FROM customer_segment"
        " INDEXED BY customer_segment_until WHERE until IS NOT NULL AND until <= ?1"
        " AND (customer_id, segment_id) > (?2, ?3)"
        " ORDER BY customer_id, segment_id LIMIT ?4";
    *n = 0;
    kr_ledger_status s = check_page(db, limit, out);
    if (s == KR_LEDGER_OK && after_segment && after_segment[0])
        s = check_segment(db, after_segment);
    if (s != KR_LEDGER_OK)
        return s;
    sqlite3_stmt *st = kr_ledger_stmt(db, sql);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "iiti", at, after_customer_id, after_segment ? after_segment : "",
                       (int64_t)limit);
    bool row = true;
    while (s == KR_LEDGER_OK && (s = kr_ledger_step(db, st, &row)) == KR_LEDGER_OK && row) {
        kr_ledger_segment_member *m = &out[(*n)++];
        m->customer_id = sqlite3_column_int64(st, 0);
        kr_ledger_col_copy(st, 1, m->segment, sizeof m->segment);
        m->joined_at = sqlite3_column_int64(st, 2);
        m->until = kr_ledger_col_expiry(st, 3);
    }
    if (s != KR_LEDGER_OK) {
        *n = 0;
        return s;
    }
    kr_ledger_done(st);
    return KR_LEDGER_OK;
}

// --- cards ----------------------------------------------------------------------------------

static kr_ledger_status card_read(kr_ledger *db, const char *number, kr_ledger_card *out)
{
    static const char sql[] = "SELECT batch_id, state, customer_id, issued_at, activated_at,"
                              " blocked_at FROM card WHERE number = ?1";
    memset(out, 0, sizeof *out);
    kr_ledger_status s = normalize_card(db, number, out->number);
    if (s != KR_LEDGER_OK)
        return s;
    sqlite3_stmt *st = kr_ledger_stmt(db, sql);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "t", out->number);
    bool row = false;
    if (s == KR_LEDGER_OK)
        s = kr_ledger_step(db, st, &row);
    if (s != KR_LEDGER_OK)
        return s;
    if (!row)
        return kr_ledger_fail(db, KR_LEDGER_NOT_FOUND, "card %s not found", out->number);
    kr_ledger_col_copy(st, 0, out->batch_id, sizeof out->batch_id);
    const char *state = (const char *)sqlite3_column_text(st, 1);
    out->state = !state                         ? KR_LEDGER_CARD_BLOCKED
                 : strcmp(state, "issued") == 0 ? KR_LEDGER_CARD_ISSUED
                 : strcmp(state, "active") == 0 ? KR_LEDGER_CARD_ACTIVE
                                                : KR_LEDGER_CARD_BLOCKED;
    out->customer_id = sqlite3_column_int64(st, 2);
    out->issued_at = sqlite3_column_int64(st, 3);
    out->activated_at = sqlite3_column_int64(st, 4);
    out->blocked_at = sqlite3_column_int64(st, 5);
    kr_ledger_done(st);
    return KR_LEDGER_OK;
}

kr_ledger_status kr_ledger_card_get(kr_ledger *db, const char *number, kr_ledger_card *out)
{
    return card_read(db, number, out);
}

static kr_ledger_status cards_issue(kr_ledger *db, const char *batch_id, size_t count, int64_t at,
                                    kr_ledger_card_number *out)
{
    static const char sql[] = "INSERT INTO card(number, batch_id, state, issued_at)"
                              " VALUES (?1, ?2, 'issued', ?3) ON CONFLICT(number) DO NOTHING";
    for (size_t i = 0; i < count; i++) {
        char number[KR_IDENTITY_CARD_MAX];
        bool stored = false;
        for (int attempt = 0; attempt < 100 && !stored; attempt++) {
            if (kr_identity_card_generate(number, sizeof number) != KR_IDENTITY_OK)
                return kr_ledger_fail(db, KR_LEDGER_DB_ERROR, "no random source for cards");
            sqlite3_stmt *st = kr_ledger_stmt(db, sql);
            if (!st)
                return KR_LEDGER_DB_ERROR;
            kr_ledger_status s = kr_ledger_bind(db, st, "tti", number, batch_id, at);
            if (s == KR_LEDGER_OK)
                s = kr_ledger_exec_done(db, st);
            if (s != KR_LEDGER_OK)
                return s;
            stored = sqlite3_changes(db->sql) == 1;
        }
        if (!stored)
            return kr_ledger_fail(db, KR_LEDGER_DB_ERROR, "no unused card number after 100 tries");
        if (out)
            memcpy(out[i].digits, number, sizeof out[i].digits);
    }
    return KR_LEDGER_OK;
}

kr_ledger_status kr_ledger_cards_issue(kr_ledger *db, const char *batch_id, size_t count,
                                       int64_t at, kr_ledger_card_number *out)
{
    kr_ledger_status s = kr_ledger_check_id(db, "batch id", batch_id);
    if (s != KR_LEDGER_OK)
        return s;
    if (count == 0 || count > 1000000)
        return kr_ledger_fail(db, KR_LEDGER_INVALID, "card count %zu is not in 1..1000000", count);
    s = kr_ledger_sp_begin(db);
    if (s != KR_LEDGER_OK)
        return s;
    return kr_ledger_sp_end(db, cards_issue(db, batch_id, count, at, out));
}

static kr_ledger_status card_refuse(kr_ledger *db, const kr_ledger_card *c)
{
    if (c->state == KR_LEDGER_CARD_BLOCKED)
        return kr_ledger_fail(db, KR_LEDGER_BLOCKED, "card %s is blocked", c->number);
    if (c->state == KR_LEDGER_CARD_ISSUED)
        return kr_ledger_fail(db, KR_LEDGER_STATE, "card %s is not activated yet", c->number);
    return KR_LEDGER_OK;
}

static kr_ledger_status card_activate(kr_ledger *db, const char *number, int64_t customer_id,
                                      int64_t at, int64_t *out_customer_id)
{
    static const char sql[] = "UPDATE card SET state = 'active', customer_id = ?2,"
                              " activated_at = ?3 WHERE number = ?1 AND state = 'issued'";
    kr_ledger_card c;
    kr_ledger_status s = card_read(db, number, &c);
    if (s != KR_LEDGER_OK)
        return s;
    if (c.state == KR_LEDGER_CARD_ACTIVE)
        return kr_ledger_fail(db, KR_LEDGER_STATE, "card %s is already active", c.number);
    if (c.state == KR_LEDGER_CARD_BLOCKED)
        return kr_ledger_fail(db, KR_LEDGER_BLOCKED, "card %s is blocked", c.number);
    if (customer_id) {
        s = kr_ledger_live_customer(db, customer_id);
    } else {
        kr_ledger_customer_in anon = {.registered_at = at};
        s = kr_ledger_customer_insert(db, &anon, true, &customer_id);
    }
    if (s != KR_LEDGER_OK)
        return s;
    sqlite3_stmt *st = kr_ledger_stmt(db, sql);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "tii", c.number, customer_id, at);
    if (s == KR_LEDGER_OK)
        s = kr_ledger_exec_done(db, st);
    if (s != KR_LEDGER_OK)
        return s;
    if (out_customer_id)
        *out_customer_id = customer_id;
    return KR_LEDGER_OK;
}

kr_ledger_status kr_ledger_card_activate(kr_ledger *db, const char *number, int64_t customer_id,
                                         int64_t at, int64_t *out_customer_id)
{
    kr_ledger_status s = kr_ledger_sp_begin(db);
    if (s != KR_LEDGER_OK)
        return s;
    return kr_ledger_sp_end(db, card_activate(db, number, customer_id, at, out_customer_id));
}

static kr_ledger_status card_attach(kr_ledger *db, const char *number, int64_t customer_id,
                                    const char *op_id, int64_t at)
{
    static const char q_anon[] = "SELECT anonymous FROM customer WHERE id = ?1";
    kr_ledger_card c;
    kr_ledger_status s = kr_ledger_check_id(db, "operation id", op_id);
    if (s == KR_LEDGER_OK)
        s = card_read(db, number, &c);
    if (s == KR_LEDGER_OK)
        s = card_refuse(db, &c);
    if (s == KR_LEDGER_OK)
        s = kr_ledger_live_customer(db, customer_id);
    if (s != KR_LEDGER_OK)
        return s;
    if (c.customer_id == customer_id)
        return KR_LEDGER_EXISTS;
    sqlite3_stmt *st = kr_ledger_stmt(db, q_anon);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "i", c.customer_id);
    bool row = false;
    if (s == KR_LEDGER_OK)
        s = kr_ledger_step(db, st, &row);
    if (s != KR_LEDGER_OK)
        return s;
    bool anonymous = row && sqlite3_column_int64(st, 0) != 0;
    kr_ledger_done(st);
    if (!anonymous)
        return kr_ledger_fail(db, KR_LEDGER_CONFLICT, "card %s belongs to customer %lld", c.number,
                              (long long)c.customer_id);
    // The placeholder's points, history and the card itself move to the customer.
    return kr_ledger_merge_into(db, c.customer_id, customer_id, op_id, at);
}

kr_ledger_status kr_ledger_card_attach(kr_ledger *db, const char *number, int64_t customer_id,
                                       const char *op_id, int64_t at)
{
    kr_ledger_status s = kr_ledger_sp_begin(db);
    if (s != KR_LEDGER_OK)
        return s;
    s = card_attach(db, number, customer_id, op_id, at);
    kr_ledger_status e = kr_ledger_sp_end(db, s == KR_LEDGER_EXISTS ? KR_LEDGER_OK : s);
    return e == KR_LEDGER_OK ? s : e;
}

kr_ledger_status kr_ledger_card_block(kr_ledger *db, const char *number, int64_t at)
{
    static const char sql[] =
        "UPDATE card SET state = 'blocked', blocked_at = ?2 WHERE number = ?1";
    kr_ledger_card c;
    kr_ledger_status s = card_read(db, number, &c);
    if (s != KR_LEDGER_OK)
        return s;
    if (c.state == KR_LEDGER_CARD_BLOCKED)
        return kr_ledger_fail(db, KR_LEDGER_BLOCKED, "card %s is already blocked", c.number);
    sqlite3_stmt *st = kr_ledger_stmt(db, sql);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "ti", c.number, at);
    if (s == KR_LEDGER_OK)
        s = kr_ledger_exec_done(db, st);
    return s;
}

kr_ledger_status kr_ledger_customer_by_card(kr_ledger *db, const char *number, int64_t *out_id)
{
    kr_ledger_card c;
    kr_ledger_status s = card_read(db, number, &c);
    if (s != KR_LEDGER_OK)
        return s;
    *out_id = c.customer_id;
    return card_refuse(db, &c);
}

// --- merge ----------------------------------------------------------------------------------

typedef struct lot_rem {
    int64_t id, remaining;
} lot_rem;

kr_ledger_status kr_ledger_merge_into(kr_ledger *db, int64_t from, int64_t into, const char *op_id,
                                      int64_t at)
{
    static const char q_lots[] = "SELECT id, remaining FROM lot WHERE customer_id = ?1 ORDER BY id";
    static const char q_debt[] = "SELECT debt FROM customer WHERE id = ?1";
    // Each statement takes ?1 = from, ?2 = into.
    static const char *const moves[] = {
        "UPDATE lot SET customer_id = ?2 WHERE customer_id = ?1",
        "UPDATE customer SET balance = balance + (SELECT balance FROM customer WHERE id = ?1),"
        " debt = debt + (SELECT debt FROM customer WHERE id = ?1) WHERE id = ?2",
        "UPDATE customer SET balance = 0, debt = 0, merged_into = ?2 WHERE id = ?1",
        "UPDATE customer SET merged_into = ?2 WHERE merged_into = ?1",
        "UPDATE customer SET name = coalesce(name, (SELECT name FROM customer WHERE id = ?1)),"
        " birthday = coalesce(birthday, (SELECT birthday FROM customer WHERE id = ?1))"
        " WHERE id = ?2",
        "UPDATE receipt SET customer_id = ?2 WHERE customer_id = ?1",
        "INSERT INTO counter(customer_id, metric, period, value)"
        " SELECT ?2, metric, period, value FROM counter WHERE customer_id = ?1 AND true"
        " ON CONFLICT(customer_id, metric, period) DO UPDATE SET value = value + excluded.value",
        "DELETE FROM counter WHERE customer_id = ?1",
        "UPDATE identity SET customer_id = ?2 WHERE customer_id = ?1",
        "UPDATE card SET customer_id = ?2 WHERE customer_id = ?1",
        "UPDATE promo_use SET customer_id = ?2 WHERE customer_id = ?1",
        "UPDATE promo_code SET owner_id = ?2 WHERE owner_id = ?1",
        "UPDATE outbox SET customer_id = ?2 WHERE customer_id = ?1 AND state = 'pending'",
        // Memberships move; one in both keeps the earliest joined_at and the latest until.
        "INSERT INTO customer_segment(customer_id, segment_id, joined_at, until)"
        " SELECT ?2, segment_id, joined_at, until FROM customer_segment WHERE customer_id = ?1"
        " AND true ON CONFLICT(customer_id, segment_id) DO UPDATE SET"
        " joined_at = min(joined_at, excluded.joined_at),"
        " until = CASE WHEN until IS NULL OR excluded.until IS NULL THEN NULL"
        " ELSE max(until, excluded.until) END",
        "DELETE FROM customer_segment WHERE customer_id = ?1",
        "INSERT OR IGNORE INTO customer_attr(customer_id, key, value)"
        " SELECT ?2, key, value FROM customer_attr WHERE customer_id = ?1",
        // Chains (docs/internals/ledger.md, "Trigger chains"): a chain only the duplicate was
        // in moves; one both were in keeps the earlier start, the further step and the
        // stronger end (left over done over running), so no step is given twice.
        "INSERT INTO chain_position(customer_id, chain_id, entered_day, done_days, state,"
        " updated_at) SELECT ?2, chain_id, entered_day, done_days, state, updated_at"
        " FROM chain_position WHERE customer_id = ?1 AND true"
        " ON CONFLICT(customer_id, chain_id) DO UPDATE SET"
        " entered_day = min(entered_day, excluded.entered_day),"
        " done_days = max(done_days, excluded.done_days),"
        " state = CASE WHEN 'left' IN (state, excluded.state) THEN 'left'"
        " WHEN 'done' IN (state, excluded.state) THEN 'done' ELSE 'running' END,"
        " updated_at = max(updated_at, excluded.updated_at)",
        "DELETE FROM chain_position WHERE customer_id = ?1",
        "INSERT OR IGNORE INTO chain_step(customer_id, chain_id, step_id, at, points, code)"
        " SELECT ?2, chain_id, step_id, at, points, code FROM chain_step WHERE customer_id = ?1",
        "DELETE FROM chain_step WHERE customer_id = ?1",
    };
    lot_rem *lots = NULL;
    size_t n = 0, cap = 0;
    sqlite3_stmt *st = kr_ledger_stmt(db, q_lots);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    kr_ledger_status s = kr_ledger_bind(db, st, "i", from);
    bool row = true;
    while (s == KR_LEDGER_OK && (s = kr_ledger_step(db, st, &row)) == KR_LEDGER_OK && row) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            lot_rem *p = realloc(lots, cap * sizeof *p);
            if (!p) {
                kr_ledger_done(st);
                free(lots);
                return kr_ledger_fail(db, KR_LEDGER_NOMEM, "out of memory");
            }
            lots = p;
        }
        lots[n].id = sqlite3_column_int64(st, 0);
        lots[n].remaining = sqlite3_column_int64(st, 1);
        n++;
    }
    if (s == KR_LEDGER_OK)
        kr_ledger_done(st);
    for (size_t i = 0; i < n && s == KR_LEDGER_OK; i++) {
        s = kr_ledger_journal_add(db, op_id, "merge-out", lots[i].id, from, -lots[i].remaining, at,
                                  NULL, into);
        if (s == KR_LEDGER_OK)
            s = kr_ledger_journal_add(db, op_id, "merge-in", lots[i].id, into, lots[i].remaining,
                                      at, NULL, from);
    }
    free(lots);
    if (s != KR_LEDGER_OK)
        return s;

    st = kr_ledger_stmt(db, q_debt);
    if (!st)
        return KR_LEDGER_DB_ERROR;
    s = kr_ledger_bind(db, st, "i", from);
    if (s == KR_LEDGER_OK)
        s = kr_ledger_step(db, st, &row);
    if (s != KR_LEDGER_OK)
        return s;
    int64_t debt = row ? sqlite3_column_int64(st, 0) : 0;
    kr_ledger_done(st);
    if (debt > 0) {
        s = kr_ledger_journal_add(db, op_id, "merge-out", 0, from, -debt, at, NULL, into);
        if (s == KR_LEDGER_OK)
            s = kr_ledger_journal_add(db, op_id, "merge-in", 0, into, debt, at, NULL, from);
        if (s != KR_LEDGER_OK)
            return s;
    }
    for (size_t i = 0; i < sizeof moves / sizeof moves[0]; i++) {
        st = kr_ledger_stmt(db, moves[i]);
        if (!st)
            return KR_LEDGER_DB_ERROR;
        // Some statements use only ?1 or only ?2 (then both are counted).
        s = sqlite3_bind_parameter_count(st) == 1 ? kr_ledger_bind(db, st, "i", from)
                                                  : kr_ledger_bind(db, st, "ii", from, into);
        if (s == KR_LEDGER_OK)
            s = kr_ledger_exec_done(db, st);
        if (s != KR_LEDGER_OK)
            return s;
    }
    return KR_LEDGER_OK;
}

static kr_ledger_status merge(kr_ledger *db, int64_t from, int64_t into, const char *op_id,
                              int64_t at)
{
    kr_ledger_status s = kr_ledger_check_id(db, "operation id", op_id);
    if (s != KR_LEDGER_OK)
        return s;
    if (from == into)
        return kr_ledger_fail(db, KR_LEDGER_INVALID, "cannot merge customer %lld into itself",
                              (long long)from);
    s = kr_ledger_live_customer(db, from);
    if (s == KR_LEDGER_OK)
        s = kr_ledger_live_customer(db, into);
    if (s != KR_LEDGER_OK)
        return s;
    return kr_ledger_merge_into(db, from, into, op_id, at);
}

kr_ledger_status kr_ledger_merge(kr_ledger *db, int64_t from, int64_t into, const char *op_id,
                                 int64_t at)
{
    kr_ledger_status s = kr_ledger_sp_begin(db);
    if (s != KR_LEDGER_OK)
        return s;
    return kr_ledger_sp_end(db, merge(db, from, into, op_id, at));
}

// --- import ---------------------------------------------------------------------------------

static kr_ledger_status import_row(kr_ledger *db, const kr_ledger_import_row *r, const char *op_id,
                                   int64_t at)
{
    static const char ins_card[] =
        "INSERT INTO card(number, batch_id, state, customer_id, issued_at, activated_at)"
        " VALUES (?1, 'import', 'active', ?2, ?3, ?3)";
    int64_t id;
    if (r->opening_balance < 0)
        return kr_ledger_fail(db, KR_LEDGER_INVALID, "negative opening balance");
    if (r->opening_balance > 0 && r->opening_expires_at <= at)
        return kr_ledger_fail(db, KR_LEDGER_INVALID, "opening balance expires before the import");
    char number[KR_IDENTITY_CARD_MAX];
    kr_ledger_status s = KR_LEDGER_OK;
    if (r->card_number)
        s = normalize_card(db, r->card_number, number);
    if (s == KR_LEDGER_OK)
        s = kr_ledger_customer_insert(db, &r->customer, false, &id);
    if (s != KR_LEDGER_OK)
        return s;
    if (r->card_number) {
        sqlite3_stmt *st = kr_ledger_stmt(db, ins_card);
        if (!st)
            return KR_LEDGER_DB_ERROR;
        s = kr_ledger_bind(db, st, "tii", number, id, at);
        if (s == KR_LEDGER_OK)
            s = kr_ledger_exec_done(db, st);
        if (s == KR_LEDGER_CONFLICT)
            return kr_ledger_fail(db, KR_LEDGER_CONFLICT, "card %s already exists", number);
        if (s != KR_LEDGER_OK)
            return s;
    }
    if (r->opening_balance > 0) {
        kr_ledger_lot_in lot = {
            .customer_id = id,
            .source = KR_LEDGER_SRC_IMPORT,
            .amount = r->opening_balance,
            .earned_at = at,
            .spendable_from = at,
            .expires_at = r->opening_expires_at,
            .op_id = op_id,
        };
        s = kr_ledger_lot_create(db, &lot, "import", NULL);
    }
    return s;
}

kr_ledger_status kr_ledger_import(kr_ledger *db, const kr_ledger_import_row *rows, size_t n,
                                  const char *op_id, int64_t at, kr_ledger_import_reject_fn reject,
                                  void *ud, size_t *out_ok)
{
    size_t ok = 0;
    kr_ledger_status s = kr_ledger_check_id(db, "operation id", op_id);
    if (s != KR_LEDGER_OK)
        return s;
    if (n && !rows)
        return kr_ledger_fail(db, KR_LEDGER_INVALID, "no rows given");
    for (size_t i = 0; i < n; i++) {
        s = kr_ledger_sp_begin(db);
        if (s != KR_LEDGER_OK)
            break;
        s = kr_ledger_sp_end(db, import_row(db, &rows[i], op_id, at));
        if (s == KR_LEDGER_OK) {
            ok++;
            continue;
        }
        if (s != KR_LEDGER_INVALID && s != KR_LEDGER_CONFLICT)
            break;
        if (reject)
            reject(ud, i, s, db->err);
        s = KR_LEDGER_OK;
    }
    if (out_ok)
        *out_ok = ok;
    return s;
}
