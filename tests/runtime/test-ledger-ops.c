// SPDX-License-Identifier: MIT
// test-ledger-ops: operation tests of the ledger against ":memory:" and a temporary file.
#include "kr-identity.h"
#include "kr-ledger-private.h"
#include "kr-ledger.h"
#include "ledger/ledger-tap.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define T0  1767225600 // 2026-01-01T00:00:00Z
#define DAY 86400

// ST: asserts a status, printing the ledger message when it differs.
#define ST(db, expr, want, ...)                                                                    \
    do {                                                                                           \
        kr_ledger_status st_ = (expr);                                                             \
        if (!tap_ok(st_ == (want), __VA_ARGS__))                                                   \
            tap_diag("got %s, want %s: %s", kr_ledger_status_name(st_),                            \
                     kr_ledger_status_name(want), kr_ledger_errmsg(db));                           \
    } while (0)

static kr_ledger *open_mem(void)
{
    kr_ledger *db = NULL;
    char err[256];
    if (kr_ledger_open(":memory:", &db, err, sizeof err) != KR_LEDGER_OK) {
        printf("Bail out! cannot open :memory: ledger: %s\n", err);
        exit(1);
    }
    return db;
}

static int64_t customer(kr_ledger *db, const char *phone)
{
    kr_ledger_customer_in in = {.name = "Test", .registered_at = T0, .phone = phone};
    int64_t id = 0;
    if (kr_ledger_customer_create(db, &in, &id) != KR_LEDGER_OK)
        tap_diag("customer create failed: %s", kr_ledger_errmsg(db));
    return id;
}

static int64_t lot(kr_ledger *db, int64_t cust, int64_t amount, int64_t earned, int64_t from,
                   int64_t expires, const char *op)
{
    kr_ledger_lot_in in = {cust, KR_LEDGER_SRC_ACCRUAL, amount, earned, from, expires, op};
    int64_t id = 0;
    if (kr_ledger_lot_add(db, &in, &id) != KR_LEDGER_OK)
        tap_diag("lot add failed: %s", kr_ledger_errmsg(db));
    return id;
}

static int64_t remaining(kr_ledger *db, int64_t lot_id)
{
    kr_ledger_lot l;
    if (kr_ledger_lot_get(db, lot_id, &l) != KR_LEDGER_OK)
        return -999;
    return l.remaining;
}

static int64_t spendable(kr_ledger *db, int64_t cust, int64_t at)
{
    kr_ledger_balance b;
    if (kr_ledger_balance_get(db, cust, at, &b) != KR_LEDGER_OK)
        return -999;
    int64_t v = b.spendable;
    kr_ledger_balance_free(&b);
    return v;
}

static int64_t count_rows(kr_ledger *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int64_t n = -1;
    if (sqlite3_prepare_v2(db->sql, sql, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

static int64_t violations(kr_ledger *db)
{
    int64_t v = -1;
    if (kr_ledger_check(db, NULL, NULL, &v) != KR_LEDGER_OK)
        return -1;
    return v;
}

// --- open, transactions ---------------------------------------------------------------------

static void test_open_file(void)
{
    char path[] = "/tmp/kr-ledger-test-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    unlink(path);
    kr_ledger *db = NULL;
    char err[256];
    ST(db, kr_ledger_open(path, &db, err, sizeof err), KR_LEDGER_OK, "open a new file");
    if (!db)
        return;
    tap_ok(count_rows(db, "SELECT max(version) FROM schema_version") == kr_ledger_schema_version(),
           "new file migrated to version %d", kr_ledger_schema_version());
    sqlite3_stmt *st = NULL;
    char mode[16] = "";
    if (sqlite3_prepare_v2(db->sql, "PRAGMA journal_mode", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        snprintf(mode, sizeof mode, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    tap_ok(strcmp(mode, "wal") == 0, "file is in WAL mode (%s)", mode);
    tap_ok(count_rows(db, "PRAGMA synchronous") == 2, "synchronous = FULL");
    tap_ok(count_rows(db, "PRAGMA foreign_keys") == 1, "foreign keys on");

    int64_t c = customer(db, "+79000000001");
    ST(db, kr_ledger_begin(db), KR_LEDGER_OK, "begin");
    ST(db, kr_ledger_begin(db), KR_LEDGER_STATE, "begin inside a transaction is refused");
    lot(db, c, 100, T0, T0, KR_LEDGER_NEVER, "r1");
    ST(db, kr_ledger_rollback(db), KR_LEDGER_OK, "rollback");
    tap_ok(spendable(db, c, T0) == 0, "rollback undid the lot");
    ST(db, kr_ledger_commit(db), KR_LEDGER_STATE, "commit without a transaction is refused");
    ST(db, kr_ledger_begin(db), KR_LEDGER_OK, "begin again");
    lot(db, c, 100, T0, T0, KR_LEDGER_NEVER, "r2");
    ST(db, kr_ledger_commit(db), KR_LEDGER_OK, "commit");

    // A second connection waits for the write lock, then reports BUSY.
    kr_ledger *other = NULL;
    ST(db, kr_ledger_open(path, &other, err, sizeof err), KR_LEDGER_OK, "second connection");
    if (other) {
        sqlite3_busy_timeout(other->sql, 50);
        ST(db, kr_ledger_begin(db), KR_LEDGER_OK, "first connection takes the write lock");
        ST(other, kr_ledger_begin(other), KR_LEDGER_BUSY, "second connection gets BUSY");
        tap_ok(spendable(other, c, T0) == 100, "readers still see committed data");
        ST(db, kr_ledger_commit(db), KR_LEDGER_OK, "commit releases the lock");
        ST(other, kr_ledger_begin(other), KR_LEDGER_OK, "second connection can write now");
        ST(other, kr_ledger_rollback(other), KR_LEDGER_OK, "and roll back");
        kr_ledger_close(other);
    }
    kr_ledger_close(db);

    db = NULL;
    ST(db, kr_ledger_open(path, &db, err, sizeof err), KR_LEDGER_OK, "reopen the file");
    tap_ok(db && spendable(db, c, T0) == 100, "committed lot survived reopening");
    kr_ledger_close(db);
    char side[300];
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
}

static void test_migrations(void)
{
    char path[] = "/tmp/kr-ledger-mig-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    unlink(path);
    kr_ledger *db = NULL;
    char err[256] = "";
    ST(db, kr_ledger_open_version(path, 1, &db, err, sizeof err), KR_LEDGER_OK,
       "open migrating only to version 1");
    if (!db)
        return;
    tap_ok(count_rows(db, "SELECT max(version) FROM schema_version") == 1, "file at version 1");
    tap_ok(count_rows(db, "SELECT count(*) FROM sqlite_master WHERE name = 'receipt'") == 0,
           "version 1 has no receipt table");
    kr_ledger_close(db);
    db = NULL;
    ST(db, kr_ledger_open(path, &db, err, sizeof err), KR_LEDGER_OK, "reopen with current code");
    if (!db)
        return;
    tap_ok(count_rows(db, "SELECT count(*) FROM schema_version") == kr_ledger_schema_version(),
           "every later migration applied and recorded");
    tap_ok(count_rows(db, "SELECT count(*) FROM pragma_table_info('promo_code')"
                          " WHERE name = 'owner_id'") == 1,
           "version 3: promo codes have an owner");
    tap_ok(count_rows(db, "SELECT count(*) FROM sqlite_master WHERE name = 'certificate_back'") ==
               1,
           "version 4: certificate give-backs");
    tap_ok(count_rows(db, "SELECT count(*) FROM sqlite_master WHERE name = 'card_guard'") == 1,
           "version 5: attempt counters for unknown card numbers");
    tap_ok(count_rows(db, "SELECT count(*) FROM sqlite_master WHERE name = 'receipt'") == 1,
           "receipt table now exists");
    // Pretend a newer program wrote the file.
    sqlite3_exec(db->sql,
                 "INSERT INTO schema_version(version, description, applied_at)"
                 " VALUES (99, 'from the future', 0)",
                 NULL, NULL, NULL);
    kr_ledger_close(db);
    db = NULL;
    err[0] = '\0';
    ST(db, kr_ledger_open(path, &db, err, sizeof err), KR_LEDGER_SCHEMA_TOO_NEW,
       "a newer schema version is refused");
    tap_ok(db == NULL && strstr(err, "99") && strstr(err, "newer"),
           "the refusal names the version: %s", err);
    kr_ledger_close(db);
    char side[300];
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
}

// --- customers, identities, cards -----------------------------------------------------------

static void test_customers(void)
{
    kr_ledger *db = open_mem();
    const char *segs[] = {"retail", "partner", "retail"};
    kr_ledger_attr attrs[] = {{"city", "Perm"}, {"channel", "till"}};
    kr_ledger_customer_in in = {
        .external_id = "ERP-001",
        .name = "Ivan Petrov",
        .birthday = "1990-02-28",
        .registered_at = T0,
        .segments = segs,
        .n_segments = 3,
        .attrs = attrs,
        .n_attrs = 2,
        .phone = "8 (912) 345-67-89",
        .email = "  Ivan@Example.RU ",
    };
    int64_t id = 0, got = 0;
    ST(db, kr_ledger_customer_create(db, &in, &id), KR_LEDGER_OK, "create a customer");
    kr_ledger_customer *c = NULL;
    ST(db, kr_ledger_customer_get(db, id, &c), KR_LEDGER_OK, "get it back");
    if (c) {
        tap_ok(strcmp(c->name, "Ivan Petrov") == 0 && strcmp(c->birthday, "1990-02-28") == 0 &&
                   strcmp(c->external_id, "ERP-001") == 0 && c->registered_at == T0,
               "profile fields stored");
        tap_ok(c->phone && strcmp(c->phone, "+79123456789") == 0, "phone stored as E.164");
        tap_ok(c->email && strcmp(c->email, "ivan@example.ru") == 0, "e-mail trimmed, lowered");
        tap_ok(c->n_segments == 2 && strcmp(c->segments[0].segment, "partner") == 0 &&
                   strcmp(c->segments[1].segment, "retail") == 0,
               "segments are a set, by id");
        tap_ok(c->n_segments == 2 && c->segments[0].joined_at == T0 &&
                   c->segments[0].until == KR_LEDGER_NEVER && c->segments[1].joined_at == T0,
               "created memberships start at registration, no end");
        tap_ok(c->n_attrs == 2 && strcmp(c->attrs[0].key, "channel") == 0 &&
                   strcmp(c->attrs[1].value, "Perm") == 0,
               "attributes stored");
        tap_ok(!c->anonymous && c->merged_into == 0, "not anonymous, not merged");
    }
    kr_ledger_customer_free(c);

    const char *forms[] = {"8 (912) 345-67-89", "+7 912 345 67 89", "89123456789", "+79123456789",
                           "9123456789"};
    int all = 1;
    for (size_t i = 0; i < 5; i++) {
        got = 0;
        all &= kr_ledger_customer_by_phone(db, forms[i], &got) == KR_LEDGER_OK && got == id;
    }
    tap_ok(all, "all spellings of the phone find the customer");
    ST(db, kr_ledger_customer_by_email(db, "IVAN@example.ru", &got), KR_LEDGER_OK,
       "look-up by e-mail");
    tap_ok(got == id, "e-mail look-up finds the customer");
    ST(db, kr_ledger_customer_by_external_id(db, "ERP-001", &got), KR_LEDGER_OK,
       "look-up by external id");
    ST(db, kr_ledger_customer_by_phone(db, "+79990000000", &got), KR_LEDGER_NOT_FOUND,
       "unknown phone: NOT_FOUND");
    ST(db, kr_ledger_customer_by_phone(db, "12345", &got), KR_LEDGER_INVALID,
       "bad phone look-up: INVALID");

    kr_ledger_customer_in dup = {.name = "Other", .registered_at = T0, .phone = "+7 912 3456789"};
    ST(db, kr_ledger_customer_create(db, &dup, &got), KR_LEDGER_CONFLICT,
       "same phone for another customer: CONFLICT");
    tap_ok(strstr(kr_ledger_errmsg(db), "+79123456789") != NULL, "message names the phone: %s",
           kr_ledger_errmsg(db));
    tap_ok(count_rows(db, "SELECT count(*) FROM customer") == 1,
           "the refused customer left no row");
    kr_ledger_customer_in bad = {.name = "Bad", .registered_at = T0, .phone = "912-34"};
    ST(db, kr_ledger_customer_create(db, &bad, &got), KR_LEDGER_INVALID, "bad phone: INVALID");
    tap_ok(strstr(kr_ledger_errmsg(db), "912-34") != NULL, "message names the input: %s",
           kr_ledger_errmsg(db));
    kr_ledger_customer_in badd = {.name = "Bad", .registered_at = T0, .birthday = "2001-02-29"};
    ST(db, kr_ledger_customer_create(db, &badd, &got), KR_LEDGER_INVALID,
       "29 February of a common year: INVALID");
    kr_ledger_customer_in badm = {.registered_at = T0, .email = "nobody"};
    ST(db, kr_ledger_customer_create(db, &badm, &got), KR_LEDGER_INVALID, "bad e-mail: INVALID");
    kr_ledger_customer_in dupx = {.external_id = "ERP-001", .registered_at = T0};
    ST(db, kr_ledger_customer_create(db, &dupx, &got), KR_LEDGER_CONFLICT,
       "duplicate external id: CONFLICT");

    const char *segs2[] = {"retail", "club"};
    kr_ledger_customer_in upd = {.external_id = "ERP-001",
                                 .name = "Ivan P.",
                                 .registered_at = T0,
                                 .segments = segs2,
                                 .n_segments = 2};
    ST(db, kr_ledger_customer_update(db, id, &upd, T0 + 5 * DAY), KR_LEDGER_OK,
       "update the profile");
    c = NULL;
    kr_ledger_customer_get(db, id, &c);
    tap_ok(c && strcmp(c->name, "Ivan P.") == 0 && c->birthday == NULL && c->n_segments == 2 &&
               c->n_attrs == 0 && c->phone != NULL,
           "update replaced profile and sets, kept the phone");
    tap_ok(c && c->n_segments == 2 && strcmp(c->segments[0].segment, "club") == 0 &&
               c->segments[0].joined_at == T0 + 5 * DAY &&
               strcmp(c->segments[1].segment, "retail") == 0 && c->segments[1].joined_at == T0,
           "update: a new segment joins at the update, a kept one keeps its joined_at");
    kr_ledger_customer_free(c);
    ST(db, kr_ledger_customer_update(db, 12345, &upd, T0), KR_LEDGER_NOT_FOUND,
       "update of an unknown customer");
    const char *badseg[] = {"retail", "no spaces"};
    kr_ledger_customer_in upd_bad = {.registered_at = T0, .segments = badseg, .n_segments = 2};
    ST(db, kr_ledger_customer_update(db, id, &upd_bad, T0 + 6 * DAY), KR_LEDGER_INVALID,
       "update with a bad segment id: INVALID");
    tap_ok(strstr(kr_ledger_errmsg(db), "no spaces") != NULL, "message names the id: %s",
           kr_ledger_errmsg(db));
    c = NULL;
    kr_ledger_customer_get(db, id, &c);
    tap_ok(c && c->n_segments == 2 && strcmp(c->name, "Ivan P.") == 0,
           "the refused update changed nothing");
    kr_ledger_customer_free(c);

    int64_t other = customer(db, "+79000000002");
    ST(db, kr_ledger_identity_add(db, other, KR_LEDGER_PHONE, "89123456789"), KR_LEDGER_CONFLICT,
       "identity_add of a taken phone: CONFLICT");
    ST(db, kr_ledger_identity_add(db, other, KR_LEDGER_PHONE, "+79000000002"), KR_LEDGER_EXISTS,
       "identity_add of own phone: EXISTS");
    ST(db, kr_ledger_identity_add(db, other, KR_LEDGER_EMAIL, "second@mail.ru"), KR_LEDGER_OK,
       "identity_add of a new e-mail");
    ST(db, kr_ledger_identity_remove(db, KR_LEDGER_PHONE, "+7 912 345-67-89"), KR_LEDGER_OK,
       "identity_remove");
    ST(db, kr_ledger_customer_by_phone(db, "89123456789", &got), KR_LEDGER_NOT_FOUND,
       "removed phone is not found");
    ST(db, kr_ledger_identity_add(db, other, KR_LEDGER_PHONE, "89123456789"), KR_LEDGER_OK,
       "a freed phone can be given to another customer");
    kr_ledger_close(db);
}

static void test_cards(void)
{
    kr_ledger *db = open_mem();
    kr_ledger_card_number nums[5];
    ST(db, kr_ledger_cards_issue(db, "B1", 5, T0, nums), KR_LEDGER_OK, "issue a batch of 5");
    int good = 1;
    for (int i = 0; i < 5; i++)
        good &= strlen(nums[i].digits) == 16 && kr_identity_luhn_valid(nums[i].digits);
    tap_ok(good, "issued numbers are 16 digits with a Luhn digit");
    ST(db, kr_ledger_cards_issue(db, "B1", 0, T0, NULL), KR_LEDGER_INVALID, "count 0 refused");
    kr_ledger_card card;
    ST(db, kr_ledger_card_get(db, nums[0].digits, &card), KR_LEDGER_OK, "get an issued card");
    tap_ok(card.state == KR_LEDGER_CARD_ISSUED && card.customer_id == 0 &&
               strcmp(card.batch_id, "B1") == 0,
           "issued card has no customer");
    int64_t who = -1;
    ST(db, kr_ledger_customer_by_card(db, nums[0].digits, &who), KR_LEDGER_STATE,
       "an issued card cannot be used yet");
    ST(db, kr_ledger_customer_by_card(db, "1234567812345670", &who), KR_LEDGER_NOT_FOUND,
       "unknown card");
    ST(db, kr_ledger_customer_by_card(db, "12ab", &who), KR_LEDGER_INVALID, "garbage card");

    int64_t anon = 0;
    ST(db, kr_ledger_card_activate(db, nums[0].digits, 0, T0 + 10, &anon), KR_LEDGER_OK,
       "activate anonymously at the till");
    kr_ledger_customer *c = NULL;
    kr_ledger_customer_get(db, anon, &c);
    tap_ok(c && c->anonymous, "a placeholder customer holds the card");
    kr_ledger_customer_free(c);
    ST(db, kr_ledger_card_activate(db, nums[0].digits, 0, T0 + 11, NULL), KR_LEDGER_STATE,
       "activating twice: STATE");
    ST(db, kr_ledger_customer_by_card(db, nums[0].digits, &who), KR_LEDGER_OK,
       "active card resolves");
    tap_ok(who == anon, "to the placeholder");
    int64_t l1 = lot(db, anon, 40, T0 + 20, T0 + 20, KR_LEDGER_NEVER, "r-anon");
    tap_ok(l1 > 0 && spendable(db, anon, T0 + 30) == 40, "points accrue to an anonymous card");

    int64_t person = customer(db, "+79000000003");
    lot(db, person, 10, T0, T0, KR_LEDGER_NEVER, "r-person");
    ST(db, kr_ledger_card_attach(db, nums[0].digits, person, "attach-1", T0 + 40), KR_LEDGER_OK,
       "attach the card to a person");
    ST(db, kr_ledger_customer_by_card(db, nums[0].digits, &who), KR_LEDGER_OK,
       "card resolves after attach");
    tap_ok(who == person, "to the person");
    tap_ok(spendable(db, person, T0 + 50) == 50, "the card's points moved to the person");
    ST(db, kr_ledger_balance_get(db, anon, T0, &(kr_ledger_balance){0}), KR_LEDGER_MERGED,
       "the placeholder is merged");
    ST(db, kr_ledger_card_attach(db, nums[0].digits, person, "attach-1", T0 + 41), KR_LEDGER_EXISTS,
       "attaching again to the same person: EXISTS");
    int64_t stranger = customer(db, "+79000000004");
    ST(db, kr_ledger_card_attach(db, nums[0].digits, stranger, "attach-2", T0 + 42),
       KR_LEDGER_CONFLICT, "attaching someone else's card: CONFLICT");
    ST(db, kr_ledger_card_attach(db, nums[1].digits, stranger, "attach-3", T0 + 42),
       KR_LEDGER_STATE, "attaching an issued card: STATE");
    ST(db, kr_ledger_card_activate(db, nums[1].digits, stranger, T0 + 43, &who), KR_LEDGER_OK,
       "activate straight onto a customer");
    tap_ok(who == stranger, "card belongs to that customer");

    ST(db, kr_ledger_card_block(db, nums[0].digits, T0 + 50), KR_LEDGER_OK, "block a card");
    who = 0;
    ST(db, kr_ledger_customer_by_card(db, nums[0].digits, &who), KR_LEDGER_BLOCKED,
       "blocked card refused");
    tap_ok(who == person && strstr(kr_ledger_errmsg(db), "blocked"),
           "still says whose card it was: %s", kr_ledger_errmsg(db));
    ST(db, kr_ledger_card_block(db, nums[0].digits, T0 + 51), KR_LEDGER_BLOCKED,
       "blocking twice: BLOCKED");
    ST(db, kr_ledger_card_attach(db, nums[0].digits, stranger, "attach-4", T0 + 52),
       KR_LEDGER_BLOCKED, "attach a blocked card: BLOCKED");
    ST(db, kr_ledger_card_block(db, nums[2].digits, T0 + 53), KR_LEDGER_OK,
       "an issued card can be blocked");
    ST(db, kr_ledger_card_activate(db, nums[2].digits, 0, T0 + 54, NULL), KR_LEDGER_BLOCKED,
       "a blocked card cannot be activated");
    tap_ok(violations(db) == 0, "check: no violations");
    kr_ledger_close(db);
}

// --- lots -----------------------------------------------------------------------------------

static void test_spend_order(void)
{
    kr_ledger *db = open_mem();
    int64_t c = customer(db, "+79000000010");
    int64_t never = lot(db, c, 50, T0, T0, KR_LEDGER_NEVER, "a");
    int64_t late = lot(db, c, 30, T0, T0, T0 + 300 * DAY, "b");
    int64_t soon_new = lot(db, c, 20, T0 + 5, T0 + 5, T0 + 100 * DAY, "c");
    int64_t soon_old = lot(db, c, 10, T0, T0, T0 + 100 * DAY, "d");
    int64_t held = lot(db, c, 1000, T0, T0 + 14 * DAY, T0 + 50 * DAY, "e");
    int64_t gone = lot(db, c, 500, T0, T0, T0 + DAY, "f");
    int64_t at = T0 + 2 * DAY;
    tap_ok(spendable(db, c, at) == 110, "spendable excludes held and expired lots");

    kr_ledger_take *t = NULL;
    size_t n = 0;
    ST(db, kr_ledger_spend(db, c, 65, at, "spend-1", &t, &n), KR_LEDGER_OK, "spend 65");
    tap_ok(n == 4 && t[0].lot_id == soon_old && t[0].amount == 10 && t[1].lot_id == soon_new &&
               t[1].amount == 20 && t[2].lot_id == late && t[2].amount == 30 &&
               t[3].lot_id == never && t[3].amount == 5,
           "taken by expiry, then earned_at, never-expiring last");
    free(t);
    tap_ok(remaining(db, never) == 45 && remaining(db, held) == 1000 && remaining(db, gone) == 500,
           "other lots untouched");

    int64_t journal = count_rows(db, "SELECT count(*) FROM journal");
    ST(db, kr_ledger_spend(db, c, 46, at, "spend-2", &t, &n), KR_LEDGER_INSUFFICIENT,
       "spending more than spendable: INSUFFICIENT");
    tap_ok(strstr(kr_ledger_errmsg(db), "45") != NULL, "message gives the balance: %s",
           kr_ledger_errmsg(db));
    tap_ok(t == NULL && n == 0, "no takes returned");
    tap_ok(remaining(db, never) == 45 && count_rows(db, "SELECT count(*) FROM journal") == journal,
           "nothing changed");

    // Inside a caller's transaction the failure leaves earlier work in place.
    ST(db, kr_ledger_begin(db), KR_LEDGER_OK, "begin a receipt");
    int64_t fresh = lot(db, c, 5, at, at, KR_LEDGER_NEVER, "receipt-9");
    ST(db, kr_ledger_spend(db, c, 1000, at, "receipt-9", &t, &n), KR_LEDGER_INSUFFICIENT,
       "insufficient inside a transaction");
    ST(db, kr_ledger_commit(db), KR_LEDGER_OK, "commit the rest");
    tap_ok(remaining(db, fresh) == 5 && spendable(db, c, at) == 50,
           "the accrual of the transaction survived, the spend left no trace");
    ST(db, kr_ledger_spend(db, c, 0, at, "x", &t, &n), KR_LEDGER_INVALID, "spend 0: INVALID");
    ST(db, kr_ledger_spend(db, 999, 1, at, "x", &t, &n), KR_LEDGER_NOT_FOUND,
       "spend for unknown customer");
    tap_ok(spendable(db, c, T0 + 20 * DAY) == 1050, "held lot becomes spendable after its hold");

    // The hot path reuses cached statements: no new prepared statement after warm-up.
    int64_t tiny = lot(db, c, 1000, at, at, KR_LEDGER_NEVER, "warm");
    kr_ledger_spend(db, c, 1, at, "warm-1", &t, &n);
    free(t);
    int before = 0, after = 0;
    sqlite3_stmt *spend_st = NULL;
    for (sqlite3_stmt *p = sqlite3_next_stmt(db->sql, NULL); p; p = sqlite3_next_stmt(db->sql, p)) {
        before++;
        if (strstr(sqlite3_sql(p), "spendable_from <= ?2 AND"))
            spend_st = p;
    }
    int runs = spend_st ? sqlite3_stmt_status(spend_st, SQLITE_STMTSTATUS_RUN, 0) : 0;
    for (int i = 0; i < 50; i++) {
        char op[32];
        snprintf(op, sizeof op, "hot-%d", i);
        lot(db, c, 3, at, at, KR_LEDGER_NEVER, op);
        kr_ledger_spend(db, c, 2, at, op, &t, &n);
        free(t);
    }
    for (sqlite3_stmt *p = sqlite3_next_stmt(db->sql, NULL); p; p = sqlite3_next_stmt(db->sql, p))
        after++;
    tap_ok(tiny > 0 && before == after && before > 5,
           "no statements prepared on the hot path (%d before, %d after)", before, after);
    int runs2 = spend_st ? sqlite3_stmt_status(spend_st, SQLITE_STMTSTATUS_RUN, 0) : 0;
    tap_ok(spend_st && runs2 - runs == 50, "the one spend statement ran 50 more times (%d)",
           runs2 - runs);
    tap_ok(violations(db) == 0, "check: no violations");
    kr_ledger_close(db);
}

static void test_return(void)
{
    kr_ledger *db = open_mem();
    int64_t c = customer(db, "+79000000020");
    int64_t a = lot(db, c, 100, T0, T0, T0 + 10 * DAY, "a");
    int64_t b = lot(db, c, 100, T0, T0, T0 + 60 * DAY, "b");
    kr_ledger_take *t = NULL;
    size_t n = 0;
    ST(db, kr_ledger_spend(db, c, 150, T0 + DAY, "s1", &t, &n), KR_LEDGER_OK, "spend 150");
    tap_ok(n == 2 && remaining(db, a) == 0 && remaining(db, b) == 50, "spent across two lots");
    free(t);

    // Partial return while both lots are live: back into the original lots.
    kr_ledger_take part[] = {{a, 40}, {b, 10}};
    kr_ledger_return_result r;
    ST(db, kr_ledger_return(db, part, 2, T0 + 2 * DAY, "ret-1", KR_LEDGER_EXPIRED_DROP, 0, &r),
       KR_LEDGER_OK, "return 50 of it");
    tap_ok(r.restored == 50 && r.dropped == 0 && r.renewed == 0 && r.new_lot_id == 0,
           "all restored");
    tap_ok(remaining(db, a) == 40 && remaining(db, b) == 60, "into the original lots");
    kr_ledger_lot la;
    kr_ledger_lot_get(db, a, &la);
    tap_ok(la.expires_at == T0 + 10 * DAY, "with their original expiry");

    kr_ledger_take too_much[] = {{b, 41}};
    ST(db, kr_ledger_return(db, too_much, 1, T0 + 2 * DAY, "ret-x", KR_LEDGER_EXPIRED_DROP, 0, &r),
       KR_LEDGER_INVALID, "returning more than was spent from a lot: INVALID");
    kr_ledger_take unknown[] = {{9999, 1}};
    ST(db, kr_ledger_return(db, unknown, 1, T0, "ret-y", KR_LEDGER_EXPIRED_DROP, 0, &r),
       KR_LEDGER_NOT_FOUND, "unknown lot: NOT_FOUND");

    // After lot a expired: DROP policy.
    kr_ledger_take late_a[] = {{a, 30}, {b, 10}};
    int64_t at = T0 + 20 * DAY;
    ST(db, kr_ledger_return(db, late_a, 2, at, "ret-2", KR_LEDGER_EXPIRED_DROP, 0, &r),
       KR_LEDGER_OK, "return after lot a expired (drop)");
    tap_ok(r.dropped == 30 && r.restored == 10 && r.new_lot_id == 0, "30 dropped, 10 restored");
    tap_ok(remaining(db, a) == 40 && remaining(db, b) == 70,
           "expired lot did not grow; live lot did");
    tap_ok(count_rows(db, "SELECT count(*) FROM journal WHERE op_id = 'ret-2' AND kind = 'expire'"
                          " AND delta = -30") == 1,
           "the drop is journalled");

    // NEW_LOT policy: the last 30 of lot a go into a fresh lot.
    kr_ledger_take last_a[] = {{a, 30}};
    ST(db, kr_ledger_return(db, last_a, 1, at, "ret-3", KR_LEDGER_EXPIRED_NEW_LOT, 30 * DAY, &r),
       KR_LEDGER_OK, "return after expiry (new lot)");
    tap_ok(r.renewed == 30 && r.new_lot_id > 0, "30 renewed into a new lot");
    kr_ledger_lot nl;
    ST(db, kr_ledger_lot_get(db, r.new_lot_id, &nl), KR_LEDGER_OK, "read the new lot");
    tap_ok(nl.amount == 30 && nl.remaining == 30 && nl.source == KR_LEDGER_SRC_RETURN &&
               nl.expires_at == at + 30 * DAY && nl.spendable_from == at &&
               strcmp(nl.op_id, "ret-3") == 0,
           "new lot: source return, lifetime from the return");
    ST(db, kr_ledger_return(db, last_a, 1, at, "ret-4", KR_LEDGER_EXPIRED_NEW_LOT, 30 * DAY, &r),
       KR_LEDGER_INVALID, "lot a has nothing more to give back");
    tap_ok(violations(db) == 0, "check: no violations");
    kr_ledger_close(db);
}

static void test_expire(void)
{
    kr_ledger *db = open_mem();
    int64_t c = customer(db, "+79000000030");
    int64_t a = lot(db, c, 100, T0, T0, T0 + 10 * DAY, "a");
    int64_t b = lot(db, c, 70, T0, T0, T0 + 20 * DAY, "b");
    int64_t z = lot(db, c, 5, T0, T0, KR_LEDGER_NEVER, "z");
    kr_ledger_take *t = NULL;
    size_t n = 0;
    kr_ledger_spend(db, c, 60, T0 + DAY, "s", &t, &n);
    free(t);
    int64_t lots = -1, pts = -1;
    ST(db, kr_ledger_expire(db, T0 + 10 * DAY - 1, NULL, &lots, &pts), KR_LEDGER_OK,
       "expire just before the expiry");
    tap_ok(lots == 0 && pts == 0, "nothing expires early");
    ST(db, kr_ledger_expire(db, T0 + 10 * DAY, NULL, &lots, &pts), KR_LEDGER_OK,
       "expire at the instant (expires_at <= t)");
    tap_ok(lots == 1 && pts == 40 && remaining(db, a) == 0 && remaining(db, b) == 70,
           "lot a's 40 remaining expired");
    int64_t journal = count_rows(db, "SELECT count(*) FROM journal");
    ST(db, kr_ledger_expire(db, T0 + 10 * DAY, NULL, &lots, &pts), KR_LEDGER_OK, "run again");
    tap_ok(lots == 0 && pts == 0 && count_rows(db, "SELECT count(*) FROM journal") == journal,
           "second run changes nothing");
    ST(db, kr_ledger_expire(db, T0 + 400 * DAY, "nightly-1", &lots, &pts), KR_LEDGER_OK,
       "expire far later");
    tap_ok(lots == 1 && pts == 70 && remaining(db, z) == 5, "never-expiring lot kept");
    tap_ok(count_rows(db, "SELECT count(*) FROM journal WHERE op_id = 'nightly-1'") == 1 &&
               count_rows(db, "SELECT count(*) FROM journal WHERE op_id = 'expire@1768089600'") ==
                   1,
           "expiry rows carry the operation id");
    kr_ledger_customer *cu = NULL;
    kr_ledger_customer_get(db, c, &cu);
    tap_ok(cu && cu->balance == 5, "cached balance follows expiry");
    kr_ledger_customer_free(cu);
    tap_ok(violations(db) == 0, "check: no violations");
    kr_ledger_close(db);
}

static void test_balance(void)
{
    kr_ledger *db = open_mem();
    int64_t c = customer(db, "+79000000040");
    int64_t d1 = T0 + 30 * DAY, d2 = T0 + 60 * DAY;
    lot(db, c, 10, T0, T0, d1, "a");
    lot(db, c, 15, T0, T0, d1, "b");
    lot(db, c, 7, T0, T0 + 10 * DAY, d2, "c"); // held
    lot(db, c, 3, T0, T0, KR_LEDGER_NEVER, "d");
    lot(db, c, 100, T0, T0, T0 + DAY, "e"); // expired at the time asked
    kr_ledger_balance b;
    ST(db, kr_ledger_balance_get(db, c, T0 + 5 * DAY, &b), KR_LEDGER_OK, "balance");
    tap_ok(b.spendable == 28 && b.pending == 7 && b.never_expiring == 3 && b.debt == 0,
           "spendable 28, pending 7, never-expiring 3 (got %lld/%lld/%lld)", (long long)b.spendable,
           (long long)b.pending, (long long)b.never_expiring);
    tap_ok(b.n_buckets == 2 && b.buckets[0].expires_at == d1 && b.buckets[0].points == 25 &&
               b.buckets[1].expires_at == d2 && b.buckets[1].points == 7,
           "expiry buckets: 25 on d1, 7 on d2");
    kr_ledger_balance_free(&b);
    ST(db, kr_ledger_balance_get(db, c, T0 + 45 * DAY, &b), KR_LEDGER_OK, "balance later");
    tap_ok(b.spendable == 10 && b.pending == 0 && b.n_buckets == 1, "after d1 only 10 live");
    kr_ledger_balance_free(&b);

    kr_ledger_journal_row *rows = NULL;
    size_t n = 0;
    ST(db, kr_ledger_history(db, c, 0, 3, &rows, &n), KR_LEDGER_OK, "history page 1");
    tap_ok(n == 3 && rows[0].id < rows[1].id && strcmp(rows[0].kind, "create") == 0 &&
               rows[0].delta == 10 && strcmp(rows[0].op_id, "a") == 0,
           "first page: 3 creation rows in order");
    int64_t last = n ? rows[n - 1].id : 0;
    free(rows);
    ST(db, kr_ledger_history(db, c, last, 3, &rows, &n), KR_LEDGER_OK, "history page 2");
    tap_ok(n == 2 && rows[0].id > last, "second page continues after the last id");
    free(rows);
    ST(db, kr_ledger_history(db, c, 0, 0, &rows, &n), KR_LEDGER_INVALID, "limit 0 refused");
    kr_ledger_close(db);
}

static void test_reverse(void)
{
    kr_ledger *db = open_mem();
    int64_t c = customer(db, "+79000000050");
    int64_t acc = lot(db, c, 100, T0, T0, T0 + 100 * DAY, "receipt-1");
    int64_t other = lot(db, c, 30, T0, T0, T0 + 200 * DAY, "receipt-0");
    kr_ledger_reverse_result r;
    ST(db, kr_ledger_reverse_accrual(db, c, "receipt-1", 40, T0 + DAY, "ret-1", &r), KR_LEDGER_OK,
       "reverse 40 of an unspent accrual");
    tap_ok(r.from_own_lots == 40 && r.debt == 0 && remaining(db, acc) == 60,
           "taken from the accrual's own lot");
    kr_ledger_take *t = NULL;
    size_t n = 0;
    ST(db, kr_ledger_spend(db, c, 80, T0 + DAY, "s", &t, &n), KR_LEDGER_OK, "spend 80");
    free(t);
    tap_ok(remaining(db, acc) == 0 && remaining(db, other) == 10, "accrual lot fully spent");
    ST(db, kr_ledger_reverse_accrual(db, c, "receipt-1", 50, T0 + 2 * DAY, "ret-2", &r),
       KR_LEDGER_OK, "reverse 50 more after it was spent");
    tap_ok(r.from_own_lots == 0 && r.from_other_lots == 10 && r.debt == 40,
           "10 from other lots, 40 become debt");
    kr_ledger_balance b;
    kr_ledger_balance_get(db, c, T0 + 2 * DAY, &b);
    tap_ok(b.spendable == 0 && b.debt == 40, "balance shows the debt");
    kr_ledger_balance_free(&b);
    ST(db, kr_ledger_reverse_accrual(db, c, "receipt-1", 11, T0 + 2 * DAY, "ret-3", &r),
       KR_LEDGER_INVALID, "cannot reverse more than was credited");
    ST(db, kr_ledger_reverse_accrual(db, c, "nope", 1, T0, "ret-4", &r), KR_LEDGER_NOT_FOUND,
       "unknown accrual");
    int64_t pay1 = lot(db, c, 25, T0 + 3 * DAY, T0 + 3 * DAY, KR_LEDGER_NEVER, "receipt-2");
    tap_ok(remaining(db, pay1) == 0, "next accrual pays the debt first");
    int64_t pay2 = lot(db, c, 25, T0 + 4 * DAY, T0 + 4 * DAY, KR_LEDGER_NEVER, "receipt-3");
    tap_ok(remaining(db, pay2) == 10, "debt of 15 paid, 10 left");
    kr_ledger_balance_get(db, c, T0 + 4 * DAY, &b);
    tap_ok(b.spendable == 10 && b.debt == 0, "debt is cleared");
    kr_ledger_balance_free(&b);
    tap_ok(count_rows(db, "SELECT count(*) FROM journal WHERE kind = 'debt-pay'") == 4,
           "each payment journalled on the lot and on the debt");
    tap_ok(violations(db) == 0, "check: no violations");
    kr_ledger_close(db);
}

// --- receipts, counters, merge --------------------------------------------------------------

static void test_receipts(void)
{
    kr_ledger *db = open_mem();
    int64_t c = customer(db, "+79000000060");
    const char body[] = "{\"id\":\"R-1\",\"lines\":[]}";
    char hash[65], hash2[65];
    kr_ledger_sha256_hex(body, strlen(body), hash);
    kr_ledger_sha256_hex("other", 5, hash2);
    tap_ok(strlen(hash) == 64, "sha256 hex has 64 digits");
    kr_ledger_sha256_hex("abc", 3, hash2);
    tap_ok(strcmp(hash2, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0,
           "sha256(abc) is the standard vector");
    kr_ledger_receipt_in in = {"R-1", hash, c, "{\"points\":10}", T0};
    kr_ledger_receipt *stored = NULL;
    ST(db, kr_ledger_receipt_put(db, &in, &stored), KR_LEDGER_OK, "first confirm");
    tap_ok(stored == NULL, "no stored record on first confirm");
    kr_ledger_receipt_in again = {"R-1", hash, c, "{\"points\":999}", T0 + 5};
    ST(db, kr_ledger_receipt_put(db, &again, &stored), KR_LEDGER_EXISTS,
       "same id, same hash: EXISTS");
    tap_ok(stored && strcmp(stored->result, "{\"points\":10}") == 0 && stored->created_at == T0,
           "the stored result comes back");
    kr_ledger_receipt_free(stored);
    kr_ledger_receipt_in changed = {"R-1", hash2, c, "{}", T0 + 6};
    ST(db, kr_ledger_receipt_put(db, &changed, &stored), KR_LEDGER_CONFLICT,
       "same id, other hash: CONFLICT");
    kr_ledger_receipt_free(stored);
    kr_ledger_receipt_in badhash = {"R-2", "xyz", c, "{}", T0};
    ST(db, kr_ledger_receipt_put(db, &badhash, NULL), KR_LEDGER_INVALID, "bad hash refused");

    kr_ledger_receipt *r = NULL;
    ST(db, kr_ledger_receipt_get(db, "R-1", &r), KR_LEDGER_OK, "get the receipt");
    tap_ok(r && r->state == KR_LEDGER_RECEIPT_CONFIRMED && r->customer_id == c &&
               strcmp(r->body_hash, hash) == 0,
           "confirmed, with customer and hash");
    kr_ledger_receipt_free(r);
    ST(db, kr_ledger_receipt_get(db, "R-404", &r), KR_LEDGER_NOT_FOUND, "unknown receipt");

    ST(db, kr_ledger_receipt_line_return(db, "R-1", "line-2", "ret-1", T0 + 10), KR_LEDGER_OK,
       "return line 2");
    ST(db, kr_ledger_receipt_line_return(db, "R-1", "line-2", "ret-1", T0 + 10), KR_LEDGER_EXISTS,
       "same return op again: EXISTS");
    ST(db, kr_ledger_receipt_line_return(db, "R-1", "line-2", "ret-2", T0 + 11), KR_LEDGER_CONFLICT,
       "line 2 cannot be returned twice");
    ST(db, kr_ledger_receipt_line_return(db, "R-1", "line-1", "ret-2", T0 + 11), KR_LEDGER_OK,
       "return line 1");
    ST(db, kr_ledger_receipt_line_return(db, "R-404", "line-1", "ret-2", T0), KR_LEDGER_NOT_FOUND,
       "line of an unknown receipt");
    char **lines = NULL;
    size_t n = 0;
    ST(db, kr_ledger_receipt_returned_lines(db, "R-1", &lines, &n), KR_LEDGER_OK, "returned lines");
    tap_ok(n == 2 && strcmp(lines[0], "line-1") == 0 && strcmp(lines[1], "line-2") == 0,
           "both lines listed");
    kr_ledger_strings_free(lines, n);
    ST(db, kr_ledger_receipt_set_state(db, "R-1", KR_LEDGER_RECEIPT_PARTIALLY_RETURNED, T0 + 11),
       KR_LEDGER_OK, "mark partially returned");
    kr_ledger_receipt_get(db, "R-1", &r);
    tap_ok(r && r->state == KR_LEDGER_RECEIPT_PARTIALLY_RETURNED && r->updated_at == T0 + 11,
           "state stored");
    kr_ledger_receipt_free(r);
    kr_ledger_close(db);
}

static void test_merge(void)
{
    kr_ledger *db = open_mem();
    int64_t a = customer(db, "+79000000070");
    int64_t b = customer(db, "+79000000071");
    kr_ledger_identity_add(db, a, KR_LEDGER_EMAIL, "dup@mail.ru");
    int64_t la = lot(db, a, 100, T0, T0, T0 + 100 * DAY, "ra");
    int64_t lb = lot(db, b, 40, T0, T0, KR_LEDGER_NEVER, "rb");
    kr_ledger_card_number num[1];
    kr_ledger_cards_issue(db, "B", 1, T0, num);
    kr_ledger_card_activate(db, num[0].digits, a, T0, NULL);
    int64_t v;
    kr_ledger_counter_add(db, a, "paid", "2026-Q1", 1500, NULL);
    kr_ledger_counter_add(db, a, "receipts", "2026", 2, NULL);
    kr_ledger_counter_add(db, b, "paid", "2026-Q1", 700, &v);
    tap_ok(v == 700, "counter_add returns the new value");
    ST(db, kr_ledger_counter_add(db, b, "paid", "2026-Q1", 300, &v), KR_LEDGER_OK,
       "counter add again");
    tap_ok(v == 1000, "counters accumulate");
    kr_ledger_receipt_in rin = {
        "R-a", "0000000000000000000000000000000000000000000000000000000000000000", a, "{}", T0};
    kr_ledger_receipt_put(db, &rin, NULL);
    kr_ledger_promo_add(db, "SPRING", "P1", 0, 1, KR_LEDGER_NEVER);
    kr_ledger_promo_use(db, "SPRING", a, "op-promo", T0);
    kr_ledger_reverse_result rr;
    kr_ledger_take *t = NULL;
    size_t n = 0;
    kr_ledger_spend(db, a, 100, T0, "sa", &t, &n);
    free(t);
    kr_ledger_reverse_accrual(db, a, "ra", 30, T0, "ret-a", &rr);
    tap_ok(rr.debt == 30, "customer a owes 30 before the merge");

    ST(db, kr_ledger_merge(db, a, b, "merge-1", T0 + DAY), KR_LEDGER_OK, "merge a into b");
    kr_ledger_counter_get(db, b, "paid", "2026-Q1", &v);
    tap_ok(v == 2500, "same period counters add up (1500 + 1000)");
    kr_ledger_counter_get(db, b, "receipts", "2026", &v);
    tap_ok(v == 2, "other counters move");
    kr_ledger_counter_get(db, a, "paid", "2026-Q1", &v);
    tap_ok(v == 0, "nothing left on the merged customer");
    kr_ledger_lot l;
    kr_ledger_lot_get(db, la, &l);
    tap_ok(l.customer_id == b, "lots move to the survivor");
    tap_ok(count_rows(db, "SELECT count(*) FROM journal WHERE op_id = 'merge-1'"
                          " AND kind IN ('merge-out', 'merge-in')") == 4,
           "journal has merge-out/merge-in rows for the lot and the debt");
    kr_ledger_balance bal;
    kr_ledger_balance_get(db, b, T0 + DAY, &bal);
    tap_ok(bal.spendable == 40 && bal.debt == 30, "survivor: 40 spendable, 30 debt moved");
    kr_ledger_balance_free(&bal);
    int64_t who = 0;
    kr_ledger_customer_by_phone(db, "+79000000070", &who);
    tap_ok(who == b, "the merged customer's phone now finds the survivor");
    kr_ledger_customer_by_email(db, "dup@mail.ru", &who);
    tap_ok(who == b, "and the e-mail");
    kr_ledger_customer_by_card(db, num[0].digits, &who);
    tap_ok(who == b, "and the card");
    kr_ledger_receipt *r = NULL;
    kr_ledger_receipt_get(db, "R-a", &r);
    tap_ok(r && r->customer_id == b, "receipts move");
    kr_ledger_receipt_free(r);
    int64_t total = 0, mine = 0;
    kr_ledger_promo_uses(db, "SPRING", b, &total, &mine);
    tap_ok(total == 1 && mine == 1, "promo uses move (per-customer limits follow the person)");
    ST(db, kr_ledger_promo_use(db, "SPRING", b, "op-promo-2", T0), KR_LEDGER_LIMIT,
       "so the survivor cannot use a once-per-customer code again");

    ST(db, kr_ledger_spend(db, a, 1, T0 + DAY, "late", &t, &n), KR_LEDGER_MERGED,
       "operations on the merged customer: MERGED");
    char want[64];
    snprintf(want, sizeof want, "merged into customer %lld", (long long)b);
    tap_ok(strstr(kr_ledger_errmsg(db), want) != NULL, "message points at the survivor: %s",
           kr_ledger_errmsg(db));
    ST(db,
       kr_ledger_lot_add(
           db, &(kr_ledger_lot_in){a, KR_LEDGER_SRC_MANUAL, 5, T0, T0, KR_LEDGER_NEVER, "m"}, NULL),
       KR_LEDGER_MERGED, "accrual to the merged customer: MERGED");
    ST(db, kr_ledger_merge(db, a, b, "merge-2", T0), KR_LEDGER_MERGED, "merging again: MERGED");
    ST(db, kr_ledger_merge(db, b, b, "merge-3", T0), KR_LEDGER_INVALID, "merge into itself");
    int64_t s = 0;
    kr_ledger_customer_survivor(db, a, &s);
    tap_ok(s == b, "survivor of a is b");
    kr_ledger_customer *cu = NULL;
    kr_ledger_customer_get(db, a, &cu);
    tap_ok(cu && cu->merged_into == b && cu->balance == 0, "a is marked merged_into b");
    kr_ledger_customer_free(cu);

    // Chains: b merged into c makes a point at c as well.
    int64_t c = customer(db, "+79000000072");
    ST(db, kr_ledger_merge(db, b, c, "merge-4", T0 + 2 * DAY), KR_LEDGER_OK, "merge b into c");
    kr_ledger_customer_survivor(db, a, &s);
    tap_ok(s == c, "a's survivor follows to c");
    kr_ledger_journal_row *rows = NULL;
    size_t nr = 0;
    kr_ledger_history(db, c, 0, 1000, &rows, &nr);
    int saw_a = 0;
    for (size_t i = 0; i < nr; i++)
        saw_a |= rows[i].customer_id == a;
    tap_ok(saw_a, "the survivor's history includes the merged customers' rows");
    free(rows);
    int64_t lot_b_rem = remaining(db, lb);
    tap_ok(lot_b_rem == 40, "lot amounts untouched by merges");
    tap_ok(violations(db) == 0, "check: no violations after merges");
    kr_ledger_close(db);
}

// --- segment memberships --------------------------------------------------------------------

// The membership of customer c in seg: 1 and its times, or 0 when not a member.
static int membership(kr_ledger *db, int64_t c, const char *seg, int64_t *joined, int64_t *until)
{
    kr_ledger_customer *cu = NULL;
    int found = 0;
    if (kr_ledger_customer_get(db, c, &cu) != KR_LEDGER_OK || !cu)
        return -1;
    for (size_t i = 0; i < cu->n_segments; i++)
        if (strcmp(cu->segments[i].segment, seg) == 0) {
            found = 1;
            if (joined)
                *joined = cu->segments[i].joined_at;
            if (until)
                *until = cu->segments[i].until;
        }
    kr_ledger_customer_free(cu);
    return found;
}

static void test_segments(void)
{
    kr_ledger *db = open_mem();
    int64_t a = customer(db, "+79000000075");
    int64_t j = 0, u = 0;
    int64_t journal = count_rows(db, "SELECT count(*) FROM journal");

    ST(db, kr_ledger_segment_join(db, a, "homeowner", T0 + DAY, KR_LEDGER_NEVER), KR_LEDGER_OK,
       "join a segment");
    tap_ok(membership(db, a, "homeowner", &j, &u) == 1 && j == T0 + DAY && u == KR_LEDGER_NEVER,
           "joined at the given instant, no end");
    ST(db, kr_ledger_segment_join(db, a, "homeowner", T0 + 2 * DAY, KR_LEDGER_NEVER),
       KR_LEDGER_EXISTS, "joining again: EXISTS");
    ST(db, kr_ledger_segment_join(db, a, "homeowner", T0 + 2 * DAY, T0 + 30 * DAY),
       KR_LEDGER_EXISTS, "a finite until does not shorten an open membership: EXISTS");
    tap_ok(membership(db, a, "homeowner", &j, &u) == 1 && j == T0 + DAY && u == KR_LEDGER_NEVER,
           "membership unchanged");

    // Paid club: 30 days, extended by a second payment, not shortened by an older one.
    ST(db, kr_ledger_segment_join(db, a, "club", T0, T0 + 30 * DAY), KR_LEDGER_OK,
       "join the club for 30 days");
    ST(db, kr_ledger_segment_join(db, a, "club", T0 + 20 * DAY, T0 + 60 * DAY), KR_LEDGER_OK,
       "pay again: extends");
    tap_ok(membership(db, a, "club", &j, &u) == 1 && j == T0 && u == T0 + 60 * DAY,
           "extension keeps joined_at, moves until");
    ST(db, kr_ledger_segment_join(db, a, "club", T0 + 21 * DAY, T0 + 50 * DAY), KR_LEDGER_EXISTS,
       "an earlier until: EXISTS");
    ST(db, kr_ledger_segment_join(db, a, "club", T0 + 21 * DAY, T0 + 60 * DAY), KR_LEDGER_EXISTS,
       "the same until: EXISTS");
    tap_ok(membership(db, a, "club", &j, &u) == 1 && u == T0 + 60 * DAY, "until still 60 days");
    ST(db, kr_ledger_segment_join(db, a, "club", T0 + 21 * DAY, KR_LEDGER_NEVER), KR_LEDGER_OK,
       "a lifetime membership extends to never");
    tap_ok(membership(db, a, "club", &j, &u) == 1 && j == T0 && u == KR_LEDGER_NEVER,
           "until is never now");

    ST(db, kr_ledger_segment_join(db, a, "retail", T0 + DAY, T0 + DAY), KR_LEDGER_INVALID,
       "until not after the join: INVALID");
    ST(db, kr_ledger_segment_join(db, a, "", T0, KR_LEDGER_NEVER), KR_LEDGER_INVALID,
       "empty segment id: INVALID");
    ST(db, kr_ledger_segment_join(db, a, NULL, T0, KR_LEDGER_NEVER), KR_LEDGER_INVALID,
       "no segment id: INVALID");
    ST(db, kr_ledger_segment_join(db, a, "_x", T0, KR_LEDGER_NEVER), KR_LEDGER_INVALID,
       "segment id not starting with a letter or digit: INVALID");
    ST(db, kr_ledger_segment_join(db, a, "club/vip", T0, KR_LEDGER_NEVER), KR_LEDGER_INVALID,
       "segment id with '/': INVALID");
    char longid[KR_LEDGER_SEGMENT_MAX + 2];
    memset(longid, 'a', sizeof longid - 1);
    longid[sizeof longid - 1] = '\0';
    ST(db, kr_ledger_segment_join(db, a, longid, T0, KR_LEDGER_NEVER), KR_LEDGER_INVALID,
       "65-character segment id: INVALID");
    longid[KR_LEDGER_SEGMENT_MAX] = '\0';
    ST(db, kr_ledger_segment_join(db, a, longid, T0, KR_LEDGER_NEVER), KR_LEDGER_OK,
       "64-character segment id: OK");
    ST(db, kr_ledger_segment_join(db, a, "Gold-2026_v1.0", T0, KR_LEDGER_NEVER), KR_LEDGER_OK,
       "letters, digits, '-', '_', '.': OK");
    ST(db, kr_ledger_segment_join(db, 9999, "retail", T0, KR_LEDGER_NEVER), KR_LEDGER_NOT_FOUND,
       "join of an unknown customer: NOT_FOUND");

    ST(db, kr_ledger_segment_leave(db, a, longid, T0 + DAY), KR_LEDGER_OK, "leave a segment");
    tap_ok(membership(db, a, longid, NULL, NULL) == 0, "no longer a member");
    ST(db, kr_ledger_segment_leave(db, a, longid, T0 + DAY), KR_LEDGER_NOT_FOUND,
       "leave again: NOT_FOUND");
    ST(db, kr_ledger_segment_leave(db, a, "partner", T0 + DAY), KR_LEDGER_NOT_FOUND,
       "leave a segment never joined: NOT_FOUND");
    ST(db, kr_ledger_segment_leave(db, a, "bad id", T0 + DAY), KR_LEDGER_INVALID,
       "leave with a bad id: INVALID");
    ST(db, kr_ledger_segment_leave(db, 9999, "club", T0), KR_LEDGER_NOT_FOUND,
       "leave of an unknown customer: NOT_FOUND");
    ST(db, kr_ledger_segment_join(db, a, longid, T0 + 3 * DAY, KR_LEDGER_NEVER), KR_LEDGER_OK,
       "join after leaving");
    tap_ok(membership(db, a, longid, &j, NULL) == 1 && j == T0 + 3 * DAY,
           "a rejoin starts a new membership");

    // Atomic inside the caller's transaction: a refused call leaves earlier work intact.
    ST(db, kr_ledger_begin(db), KR_LEDGER_OK, "begin");
    ST(db, kr_ledger_segment_join(db, a, "partner", T0 + 4 * DAY, KR_LEDGER_NEVER), KR_LEDGER_OK,
       "join inside a transaction");
    ST(db, kr_ledger_segment_leave(db, a, "retail", T0 + 4 * DAY), KR_LEDGER_NOT_FOUND,
       "a refused leave in the same transaction");
    ST(db, kr_ledger_commit(db), KR_LEDGER_OK, "commit");
    tap_ok(membership(db, a, "partner", NULL, NULL) == 1, "the earlier join was kept");
    tap_ok(count_rows(db, "SELECT count(*) FROM journal") == journal,
           "memberships write no journal rows");

    // members_due: the scheduled "365 days after joining" transition, in pages.
    int64_t ids[64], n_all = 0, want_due = 0;
    for (int i = 0; i < 25; i++) {
        char phone[32];
        snprintf(phone, sizeof phone, "+7901000%04d", i);
        int64_t c = customer(db, phone);
        int64_t joined = T0 + i * 30 * DAY; // one a month
        kr_ledger_segment_join(db, c, "homeowner", joined, KR_LEDGER_NEVER);
        if (i % 5 == 4)
            kr_ledger_segment_join(db, c, "retail", T0, KR_LEDGER_NEVER); // other segment
        want_due += joined <= T0 + 365 * DAY;
        ids[n_all++] = c;
    }
    want_due += 1; // customer a joined homeowner at T0 + DAY
    int64_t got[8], after = 0, total = 0, prev = 0, sorted = 1, pages = 0;
    size_t n = 0;
    do {
        ST(db, kr_ledger_segment_members_due(db, "homeowner", T0 + 365 * DAY, after, 4, got, &n),
           KR_LEDGER_OK, "members_due page %lld", (long long)pages);
        for (size_t i = 0; i < n; i++) {
            sorted &= got[i] > prev;
            prev = got[i];
            int64_t jj = 0;
            sorted &= membership(db, got[i], "homeowner", &jj, NULL) == 1 && jj <= T0 + 365 * DAY;
        }
        total += (int64_t)n;
        pages++;
        if (n)
            after = got[n - 1];
    } while (n == 4 && pages < 50);
    tap_ok(total == want_due && sorted,
           "members_due pages list exactly the members who joined by the instant (%lld/%lld)",
           (long long)total, (long long)want_due);
    tap_ok(pages == (want_due + 3) / 4 + (want_due % 4 == 0), "in pages of at most 4 (%lld)",
           (long long)pages);
    // A job moves the first page while paging: the rest is still found.
    after = 0;
    total = 0;
    for (int guard = 0; guard < 50; guard++) {
        if (kr_ledger_segment_members_due(db, "homeowner", T0 + 365 * DAY, after, 3, got, &n) !=
                KR_LEDGER_OK ||
            n == 0)
            break;
        for (size_t i = 0; i < n; i++) {
            kr_ledger_segment_leave(db, got[i], "homeowner", T0 + 400 * DAY);
            kr_ledger_segment_join(db, got[i], "retail", T0 + 400 * DAY, KR_LEDGER_NEVER);
        }
        total += (int64_t)n;
        after = got[n - 1];
    }
    tap_ok(total == want_due, "leaving while paging skips nobody (%lld)", (long long)total);
    ST(db, kr_ledger_segment_members_due(db, "homeowner", T0 + 365 * DAY, 0, 10, got, &n),
       KR_LEDGER_OK, "members_due after the transition");
    tap_ok(n == 0, "nobody due any more");
    ST(db, kr_ledger_segment_members_due(db, "homeowner", T0 + 1000 * DAY, 0, 64, ids, &n),
       KR_LEDGER_OK, "members_due later");
    tap_ok((int64_t)n == n_all + 1 - want_due, "the later joiners are due later (%zu)", n);
    ST(db, kr_ledger_segment_members_due(db, "homeowner", T0, 0, 0, got, &n), KR_LEDGER_INVALID,
       "page size 0: INVALID");
    ST(db, kr_ledger_segment_members_due(db, "home owner", T0, 0, 4, got, &n), KR_LEDGER_INVALID,
       "bad segment id: INVALID");

    // Expired memberships: paid club ends.
    int64_t b = customer(db, "+79000000076"), c = customer(db, "+79000000077");
    kr_ledger_segment_join(db, b, "club", T0, T0 + 30 * DAY);
    kr_ledger_segment_join(db, b, "vip", T0, T0 + 10 * DAY);
    kr_ledger_segment_join(db, c, "club", T0, T0 + 40 * DAY);
    kr_ledger_segment_member em[8];
    ST(db, kr_ledger_segment_expired(db, T0 + 10 * DAY - 1, 0, NULL, 8, em, &n), KR_LEDGER_OK,
       "expired before any end");
    tap_ok(n == 0, "nothing has ended yet");
    ST(db, kr_ledger_segment_expired(db, T0 + 30 * DAY, 0, NULL, 8, em, &n), KR_LEDGER_OK,
       "expired at day 30 (until <= at)");
    tap_ok(n == 2 && em[0].customer_id == b && strcmp(em[0].segment, "club") == 0 &&
               em[0].joined_at == T0 && em[0].until == T0 + 30 * DAY && em[1].customer_id == b &&
               strcmp(em[1].segment, "vip") == 0,
           "b's club and vip memberships have ended, by customer then segment");
    ST(db, kr_ledger_segment_expired(db, T0 + 30 * DAY, 0, NULL, 1, em, &n), KR_LEDGER_OK,
       "expired, first page of 1");
    int64_t cur_c = em[0].customer_id;
    char cur_s[KR_LEDGER_SEGMENT_MAX + 1];
    snprintf(cur_s, sizeof cur_s, "%s", em[0].segment);
    ST(db, kr_ledger_segment_expired(db, T0 + 30 * DAY, cur_c, cur_s, 1, em, &n), KR_LEDGER_OK,
       "expired, second page");
    tap_ok(n == 1 && em[0].customer_id == b && strcmp(em[0].segment, "vip") == 0,
           "the cursor continues after (customer, segment)");
    ST(db, kr_ledger_segment_expired(db, T0 + 30 * DAY, b, "vip", 1, em, &n), KR_LEDGER_OK,
       "expired, third page");
    tap_ok(n == 0, "and ends");
    ST(db, kr_ledger_segment_expired(db, T0 + 30 * DAY, 0, NULL, 0, em, &n), KR_LEDGER_INVALID,
       "expired with page size 0: INVALID");
    ST(db, kr_ledger_segment_leave(db, b, "club", T0 + 30 * DAY), KR_LEDGER_OK,
       "the job leaves the ended club");
    ST(db, kr_ledger_segment_expired(db, T0 + 30 * DAY, 0, NULL, 8, em, &n), KR_LEDGER_OK,
       "expired again");
    tap_ok(n == 1 && strcmp(em[0].segment, "vip") == 0, "only vip is left to handle");
    ST(db, kr_ledger_segment_join(db, b, "vip", T0 + 31 * DAY, T0 + 60 * DAY), KR_LEDGER_OK,
       "an ended but not yet left membership is renewed");
    tap_ok(membership(db, b, "vip", &j, &u) == 1 && j == T0 && u == T0 + 60 * DAY,
           "renewed in place: joined_at kept");
    ST(db, kr_ledger_segment_expired(db, T0 + 30 * DAY, 0, NULL, 8, em, &n), KR_LEDGER_OK,
       "expired after the renewal");
    tap_ok(n == 0, "nothing ended");
    tap_ok(violations(db) == 0, "check: no violations");
    kr_ledger_close(db);
}

static void test_segment_merge(void)
{
    kr_ledger *db = open_mem();
    const char *sa[] = {"homeowner", "club"};
    kr_ledger_customer_in ina = {
        .registered_at = T0 + 10 * DAY, .segments = sa, .n_segments = 2, .phone = "+79000000078"};
    int64_t a = 0, b = 0, j = 0, u = 0;
    ST(db, kr_ledger_customer_create(db, &ina, &a), KR_LEDGER_OK, "customer a");
    const char *sb[] = {"homeowner"};
    kr_ledger_customer_in inb = {
        .registered_at = T0 + 20 * DAY, .segments = sb, .n_segments = 1, .phone = "+79000000079"};
    ST(db, kr_ledger_customer_create(db, &inb, &b), KR_LEDGER_OK, "customer b");
    // a: homeowner since day 10 (open), club day 10..; b: homeowner since day 20, club
    // day 25..90, partner day 30..40.
    ST(db, kr_ledger_segment_join(db, a, "club", T0 + 10 * DAY, T0 + 50 * DAY), KR_LEDGER_EXISTS,
       "a's club from the profile is open-ended already");
    ST(db, kr_ledger_segment_leave(db, a, "club", T0 + 11 * DAY), KR_LEDGER_OK, "a leaves club");
    kr_ledger_segment_join(db, a, "club", T0 + 12 * DAY, T0 + 50 * DAY);
    kr_ledger_segment_join(db, b, "club", T0 + 25 * DAY, T0 + 90 * DAY);
    kr_ledger_segment_join(db, b, "partner", T0 + 30 * DAY, T0 + 40 * DAY);
    ST(db, kr_ledger_merge(db, b, a, "merge-seg", T0 + 60 * DAY), KR_LEDGER_OK, "merge b into a");
    tap_ok(membership(db, a, "homeowner", &j, &u) == 1 && j == T0 + 10 * DAY &&
               u == KR_LEDGER_NEVER,
           "homeowner: earliest joined_at (a's), open end");
    tap_ok(membership(db, a, "club", &j, &u) == 1 && j == T0 + 12 * DAY && u == T0 + 90 * DAY,
           "club: earliest joined_at (a's), latest until (b's)");
    tap_ok(membership(db, a, "partner", &j, &u) == 1 && j == T0 + 30 * DAY && u == T0 + 40 * DAY,
           "partner: moved as it was");
    kr_ledger_customer *cu = NULL;
    kr_ledger_customer_get(db, b, &cu);
    tap_ok(cu && cu->n_segments == 0 && cu->merged_into == a,
           "the merged customer keeps no memberships");
    kr_ledger_customer_free(cu);
    ST(db, kr_ledger_segment_join(db, b, "retail", T0 + 61 * DAY, KR_LEDGER_NEVER),
       KR_LEDGER_MERGED, "join on the merged customer: MERGED");
    ST(db, kr_ledger_segment_leave(db, b, "club", T0 + 61 * DAY), KR_LEDGER_MERGED,
       "leave on the merged customer: MERGED");
    int64_t ids[8];
    size_t n = 0;
    ST(db, kr_ledger_segment_members_due(db, "homeowner", T0 + 365 * DAY, 0, 8, ids, &n),
       KR_LEDGER_OK, "members_due after the merge");
    tap_ok(n == 1 && ids[0] == a, "lists the survivor once");

    // The other direction: a merge into a customer with a later joined_at and an earlier end.
    int64_t c = customer(db, "+79000000080");
    kr_ledger_segment_join(db, c, "club", T0 + 70 * DAY, T0 + 80 * DAY);
    ST(db, kr_ledger_merge(db, a, c, "merge-seg-2", T0 + 75 * DAY), KR_LEDGER_OK, "merge a into c");
    tap_ok(membership(db, c, "club", &j, &u) == 1 && j == T0 + 12 * DAY && u == T0 + 90 * DAY,
           "club on c: a's earlier joined_at and later until");
    tap_ok(membership(db, c, "homeowner", &j, &u) == 1 && j == T0 + 10 * DAY,
           "homeowner moved to c");
    tap_ok(violations(db) == 0, "check: no violations after merges");

    // The check notices a membership left on a merged customer.
    char sql[160];
    snprintf(sql, sizeof sql,
             "INSERT INTO customer_segment(customer_id, segment_id, joined_at) VALUES (%lld,"
             " 'retail', %lld)",
             (long long)b, (long long)T0);
    tap_ok(sqlite3_exec(db->sql, sql, NULL, NULL, NULL) == SQLITE_OK,
           "behind the API: a membership on a merged customer");
    tap_ok(violations(db) == 1, "check reports it (%lld)", (long long)violations(db));
    kr_ledger_close(db);
}

// --- records --------------------------------------------------------------------------------

static void test_records(void)
{
    kr_ledger *db = open_mem();
    int64_t c = customer(db, "+79000000080");
    kr_ledger_tier t1 = {"main", "silver", T0, KR_LEDGER_TIER_COMPUTED, KR_LEDGER_NEVER};
    kr_ledger_tier t2 = {"main", "gold", T0 + 10 * DAY, KR_LEDGER_TIER_MANUAL, T0 + 100 * DAY};
    ST(db, kr_ledger_tier_set(db, c, &t1), KR_LEDGER_OK, "tier silver");
    ST(db, kr_ledger_tier_set(db, c, &t2), KR_LEDGER_OK, "tier gold (manual floor)");
    kr_ledger_tier cur;
    ST(db, kr_ledger_tier_current(db, c, "main", T0 + DAY, &cur), KR_LEDGER_OK, "tier at day 1");
    tap_ok(strcmp(cur.tier_id, "silver") == 0, "silver on day 1");
    kr_ledger_tier_current(db, c, "main", T0 + 20 * DAY, &cur);
    tap_ok(strcmp(cur.tier_id, "gold") == 0 && cur.reason == KR_LEDGER_TIER_MANUAL &&
               cur.floor_until == T0 + 100 * DAY,
           "gold floor on day 20 with its expiry");
    ST(db, kr_ledger_tier_current(db, c, "main", T0 - 1, &cur), KR_LEDGER_NOT_FOUND,
       "no tier before the first");

    char h1[65], h2[65];
    kr_ledger_sha256_hex("v1", 2, h1);
    kr_ledger_sha256_hex("v2", 2, h2);
    kr_ledger_program p1 = {"prog", 1, "", "<program/>", "return 1", T0, "alice"};
    memcpy(p1.hash, h1, 65);
    kr_ledger_program p2 = {"prog", 2, "", "<program v='2'/>", "return 2", T0 + DAY, "bob"};
    memcpy(p2.hash, h2, 65);
    ST(db, kr_ledger_program_put(db, &p1), KR_LEDGER_OK, "deploy v1");
    ST(db, kr_ledger_program_put(db, &p2), KR_LEDGER_OK, "deploy v2");
    ST(db, kr_ledger_program_put(db, &p1), KR_LEDGER_EXISTS, "v1 again: EXISTS");
    memcpy(p1.hash, h2, 65);
    ST(db, kr_ledger_program_put(db, &p1), KR_LEDGER_CONFLICT, "v1 with another hash: CONFLICT");
    kr_ledger_program *cp = NULL;
    ST(db, kr_ledger_program_current(db, "prog", &cp), KR_LEDGER_OK, "current program");
    tap_ok(cp && cp->version == 2 && strcmp(cp->deployed_by, "bob") == 0 &&
               strcmp(cp->xml, "<program v='2'/>") == 0,
           "current is v2");
    kr_ledger_program_free(cp);

    const char *ch[] = {"push", "sms"};
    kr_ledger_outbox_in m = {"exp:1:2026-03", c, "expiry-warning", ch, 2, "{\"n\":5}", T0 + 5, T0};
    int64_t id1 = 0, id2 = 0;
    ST(db, kr_ledger_outbox_enqueue(db, &m, &id1), KR_LEDGER_OK, "enqueue");
    ST(db, kr_ledger_outbox_enqueue(db, &m, &id2), KR_LEDGER_EXISTS, "enqueue twice: EXISTS");
    tap_ok(id1 == id2 && id1 > 0 && count_rows(db, "SELECT count(*) FROM outbox") == 1,
           "only one message, same id");
    kr_ledger_outbox_msg *due = NULL;
    size_t nd = 0;
    kr_ledger_outbox_due(db, T0, 10, &due, &nd);
    tap_ok(nd == 0, "not due yet");
    kr_ledger_outbox_free(due, nd);
    kr_ledger_outbox_due(db, T0 + 5, 10, &due, &nd);
    tap_ok(nd == 1 && strcmp(due[0].channels, "push,sms") == 0 &&
               strcmp(due[0].payload, "{\"n\":5}") == 0,
           "due message with channels in order");
    kr_ledger_outbox_free(due, nd);
    ST(db, kr_ledger_outbox_mark(db, id1, KR_LEDGER_OUTBOX_SENT, T0 + 6), KR_LEDGER_OK,
       "mark sent");
    kr_ledger_outbox_due(db, T0 + 100, 10, &due, &nd);
    tap_ok(nd == 0, "sent message is no longer due");
    kr_ledger_outbox_free(due, nd);

    ST(db, kr_ledger_promo_add(db, "WELCOME", "W", 2, 1, T0 + 10 * DAY), KR_LEDGER_OK, "promo");
    ST(db, kr_ledger_promo_add(db, "welcome", "W", 2, 1, T0), KR_LEDGER_CONFLICT,
       "codes are case-insensitive");
    int64_t c2 = customer(db, "+79000000081"), c3 = customer(db, "+79000000082");
    ST(db, kr_ledger_promo_use(db, "welcome", c, "op-1", T0), KR_LEDGER_OK, "use 1");
    ST(db, kr_ledger_promo_use(db, "WELCOME", c, "op-1", T0), KR_LEDGER_EXISTS,
       "same op again: EXISTS");
    ST(db, kr_ledger_promo_use(db, "WELCOME", c, "op-2", T0), KR_LEDGER_LIMIT,
       "per-customer limit");
    ST(db, kr_ledger_promo_use(db, "WELCOME", c2, "op-3", T0 + 20 * DAY), KR_LEDGER_EXPIRED,
       "expired code");
    ST(db, kr_ledger_promo_use(db, "WELCOME", c2, "op-3", T0), KR_LEDGER_OK, "use 2");
    ST(db, kr_ledger_promo_use(db, "WELCOME", c3, "op-4", T0), KR_LEDGER_LIMIT, "total limit");
    int64_t tot = 0;
    kr_ledger_promo_uses(db, "WELCOME", c, &tot, NULL);
    tap_ok(tot == 2, "two uses recorded");

    ST(db, kr_ledger_certificate_add(db, "CERT-1", 500000, T0 + 30 * DAY, T0), KR_LEDGER_OK,
       "certificate of 5000.00");
    ST(db, kr_ledger_certificate_use(db, "CERT-1", 120000, "op-c1", T0), KR_LEDGER_OK, "use 1200");
    ST(db, kr_ledger_certificate_use(db, "CERT-1", 120000, "op-c1", T0), KR_LEDGER_EXISTS,
       "same op again: EXISTS");
    ST(db, kr_ledger_certificate_use(db, "CERT-1", 1, "op-c1", T0), KR_LEDGER_CONFLICT,
       "same op, other amount: CONFLICT");
    ST(db, kr_ledger_certificate_use(db, "CERT-1", 400000, "op-c2", T0), KR_LEDGER_INSUFFICIENT,
       "more than remains: INSUFFICIENT");
    ST(db, kr_ledger_certificate_use(db, "CERT-1", 100, "op-c3", T0 + 31 * DAY), KR_LEDGER_EXPIRED,
       "after validity: EXPIRED");
    int64_t rem = 0;
    kr_ledger_certificate_get(db, "CERT-1", NULL, &rem, NULL);
    tap_ok(rem == 380000, "remaining 3800.00");

    // A certificate sold by receipt "sale-1" line "1": 3000.00, valid 10 days.
    kr_ledger_certificate_in in = {.number = "GC-1", .kind = "gift-3000", .face_value = 300000,
                                   .partial = true, .valid_until = T0 + 10 * DAY,
                                   .issued_at = T0, .receipt = "sale-1", .line = "1"};
    ST(db, kr_ledger_certificate_sell(db, &in), KR_LEDGER_OK, "certificate sold");
    ST(db, kr_ledger_certificate_sell(db, &in), KR_LEDGER_CONFLICT, "the same number twice");
    char **sold = NULL;
    size_t n_sold = 0;
    ST(db, kr_ledger_certificates_sold(db, "sale-1", "1", &sold, &n_sold), KR_LEDGER_OK,
       "certificates of a line");
    tap_ok(n_sold == 1 && strcmp(sold[0], "GC-1") == 0, "the line sold GC-1");
    kr_ledger_strings_free(sold, n_sold);
    // Receipt "pay-1" takes 1000.00; 600.00 of it comes back; 400.00 more cannot.
    ST(db, kr_ledger_certificate_use(db, "GC-1", 100000, "pay-1", T0 + DAY), KR_LEDGER_OK,
       "use 1000.00");
    ST(db, kr_ledger_certificate_void(db, "GC-1", "return:sale-1", T0 + DAY), KR_LEDGER_STATE,
       "a used certificate cannot be voided");
    ST(db, kr_ledger_certificate_give_back(db, "GC-1", "pay-1", 60000, "return:r1", T0 + DAY),
       KR_LEDGER_OK, "600.00 back");
    ST(db, kr_ledger_certificate_give_back(db, "GC-1", "pay-1", 60000, "return:r1", T0 + DAY),
       KR_LEDGER_EXISTS, "the same give-back again: EXISTS");
    ST(db, kr_ledger_certificate_give_back(db, "GC-1", "pay-1", 50000, "return:r2", T0 + DAY),
       KR_LEDGER_INVALID, "more back than pay-1 took (1000.00 - 600.00 = 400.00 left)");
    int64_t took = 0, back = 0;
    ST(db, kr_ledger_certificate_used_by(db, "GC-1", "pay-1", &took, &back), KR_LEDGER_OK,
       "used by pay-1");
    tap_ok(took == 100000 && back == 60000, "pay-1 took 1000.00, 600.00 went back");
    ST(db, kr_ledger_certificate_give_back(db, "GC-1", "pay-1", 40000, "cancel:pay-1", T0 + DAY),
       KR_LEDGER_OK, "the rest back");
    kr_ledger_certificate gc;
    ST(db, kr_ledger_certificate_read(db, "GC-1", &gc), KR_LEDGER_OK, "read");
    tap_ok(gc.remaining == 300000 && gc.valid_until == T0 + 10 * DAY &&
               strcmp(gc.sold_receipt, "sale-1") == 0,
           "whole again (3000.00 - 1000.00 + 600.00 + 400.00), validity unchanged");
    kr_ledger_certificate_event *ev = NULL;
    size_t n_ev = 0;
    ST(db, kr_ledger_certificate_history(db, "GC-1", 10, &ev, &n_ev), KR_LEDGER_OK, "history");
    tap_ok(n_ev == 3 && strcmp(ev[0].kind, "use") == 0 && strcmp(ev[2].op_id, "return:r1") != 0 &&
               ev[1].amount == 60000,
           "history: the use, then the two give-backs");
    free(ev);
    ST(db, kr_ledger_certificate_void(db, "GC-1", "return:sale-1", T0 + 2 * DAY), KR_LEDGER_OK,
       "whole again: it may be voided");
    ST(db, kr_ledger_certificate_void(db, "GC-1", "return:sale-1", T0 + 2 * DAY),
       KR_LEDGER_EXISTS, "the same void again: EXISTS");
    ST(db, kr_ledger_certificate_use(db, "GC-1", 100, "pay-2", T0 + 3 * DAY), KR_LEDGER_STATE,
       "a void certificate pays nothing");
    int64_t violations = -1;
    ST(db, kr_ledger_check(db, NULL, NULL, &violations), KR_LEDGER_OK, "check");
    tap_ok(violations == 0, "certificates add up");
    sqlite3_exec(db->sql, "UPDATE certificate SET remaining = remaining - 1 WHERE number = 'GC-1'",
                 NULL, NULL, NULL);
    ST(db, kr_ledger_check(db, NULL, NULL, &violations), KR_LEDGER_OK, "check again");
    tap_ok(violations == 1, "a remaining that the uses do not explain is reported");
    kr_ledger_close(db);
}

// --- import and check -----------------------------------------------------------------------

static int rejects;
static size_t reject_index[8];

static void on_reject(void *ud, size_t index, kr_ledger_status st, const char *msg)
{
    (void)ud;
    tap_diag("rejected row %zu (%s): %s", index, kr_ledger_status_name(st), msg);
    if (rejects < 8)
        reject_index[rejects] = index;
    rejects++;
}

static void test_import_small(void)
{
    kr_ledger *db = open_mem();
    const char *segs[] = {"homeowner"}, *bad_segs[] = {"homeowner", ""};
    kr_ledger_import_row rows[] = {
        {{.external_id = "E1",
          .name = "A",
          .registered_at = T0 - 30 * DAY,
          .segments = segs,
          .n_segments = 1,
          .phone = "89120000001"},
         "2000000000017",
         300,
         T0 + 365 * DAY},
        {{.external_id = "E2", .name = "B", .registered_at = T0, .phone = "not a phone"},
         NULL,
         10,
         KR_LEDGER_NEVER},
        {{.external_id = "E3", .name = "C", .registered_at = T0, .phone = "+7 912 000 00 01"},
         NULL,
         0,
         KR_LEDGER_NEVER},
        {{.external_id = "E4", .name = "D", .registered_at = T0, .email = "d@x.ru"},
         "2000000000017",
         0,
         KR_LEDGER_NEVER},
        {{.external_id = "E5", .name = "E", .registered_at = T0, .email = "e@x.ru"},
         NULL,
         50,
         KR_LEDGER_NEVER},
        {{.external_id = "E6",
          .name = "F",
          .registered_at = T0,
          .segments = bad_segs,
          .n_segments = 2,
          .email = "f@x.ru"},
         NULL,
         0,
         KR_LEDGER_NEVER},
    };
    size_t ok = 0;
    ST(db, kr_ledger_begin(db), KR_LEDGER_OK, "begin import");
    ST(db, kr_ledger_import(db, rows, 6, "import-1", T0, on_reject, NULL, &ok), KR_LEDGER_OK,
       "import 6 rows");
    ST(db, kr_ledger_commit(db), KR_LEDGER_OK, "commit import");
    tap_ok(ok == 2 && rejects == 4 && reject_index[0] == 1 && reject_index[1] == 2 &&
               reject_index[2] == 3 && reject_index[3] == 5,
           "2 imported; bad phone, duplicate phone, duplicate card, bad segment rejected");
    tap_ok(count_rows(db, "SELECT count(*) FROM customer") == 2,
           "rejected rows left nothing behind");
    int64_t id = 0;
    kr_ledger_customer_by_card(db, "2000000000017", &id);
    int64_t e1 = 0;
    kr_ledger_customer_by_external_id(db, "E1", &e1);
    tap_ok(id == e1 && id > 0, "imported card is active and attached");
    kr_ledger_balance b;
    kr_ledger_balance_get(db, e1, T0, &b);
    tap_ok(b.spendable == 300 && b.n_buckets == 1 && b.buckets[0].expires_at == T0 + 365 * DAY,
           "opening balance with its expiry");
    kr_ledger_balance_free(&b);
    tap_ok(count_rows(db, "SELECT count(*) FROM journal WHERE kind = 'import'") == 2,
           "opening lots journalled as import");
    int64_t j = 0, u = 0;
    tap_ok(membership(db, e1, "homeowner", &j, &u) == 1 && j == T0 - 30 * DAY &&
               u == KR_LEDGER_NEVER,
           "imported membership joined at registration");
    tap_ok(count_rows(db, "SELECT count(*) FROM customer_segment") == 1,
           "the rejected row left no membership");
    tap_ok(violations(db) == 0, "check: no violations");
    kr_ledger_close(db);
}

static int reports;
static int reported_lot;
static int64_t corrupt_lot;

static void on_report(void *ud, const char *msg)
{
    (void)ud;
    tap_diag("violation: %s", msg);
    reports++;
    char needle[64];
    snprintf(needle, sizeof needle, "lot=%lld", (long long)corrupt_lot);
    if (strstr(msg, needle))
        reported_lot = 1;
}

static void test_check(void)
{
    kr_ledger *db = open_mem();
    int64_t c = customer(db, "+79000000090");
    lot(db, c, 100, T0, T0, KR_LEDGER_NEVER, "a");
    corrupt_lot = lot(db, c, 50, T0, T0, KR_LEDGER_NEVER, "b");
    kr_ledger_take *t = NULL;
    size_t n = 0;
    kr_ledger_spend(db, c, 120, T0, "s", &t, &n);
    free(t);
    int64_t v = -1;
    ST(db, kr_ledger_check(db, on_report, NULL, &v), KR_LEDGER_OK, "check a healthy ledger");
    tap_ok(v == 0 && reports == 0, "no violations");

    // Behind the API's back: take 7 points off a lot without a journal row.
    char sql[128];
    snprintf(sql, sizeof sql, "UPDATE lot SET remaining = remaining - 7 WHERE id = %lld",
             (long long)corrupt_lot);
    tap_ok(sqlite3_exec(db->sql, sql, NULL, NULL, NULL) == SQLITE_OK, "corrupt a lot");
    ST(db, kr_ledger_check(db, on_report, NULL, &v), KR_LEDGER_OK, "check again");
    tap_ok(v == 2 && reports == 2, "two violations: lot vs journal, balance vs lots (%lld)",
           (long long)v);
    tap_ok(reported_lot, "the report names the lot");

    // The journal cannot be edited to hide it.
    tap_ok(sqlite3_exec(db->sql, "UPDATE journal SET delta = delta - 7 WHERE id = 1", NULL, NULL,
                        NULL) != SQLITE_OK,
           "journal rows cannot be updated");
    tap_ok(sqlite3_exec(db->sql, "DELETE FROM journal", NULL, NULL, NULL) != SQLITE_OK,
           "journal rows cannot be deleted");

    // Constraints stop negative lots; with them off, check still notices.
    sqlite3_exec(db->sql, "PRAGMA ignore_check_constraints = ON", NULL, NULL, NULL);
    sqlite3_exec(db->sql, "UPDATE lot SET remaining = -1 WHERE id = 1", NULL, NULL, NULL);
    reports = 0;
    ST(db, kr_ledger_check(db, on_report, NULL, &v), KR_LEDGER_OK, "check a negative lot");
    tap_ok(v >= 3, "negative remaining reported too (%lld)", (long long)v);
    kr_ledger_close(db);
}

int main(void)
{
    test_open_file();
    test_migrations();
    test_customers();
    test_cards();
    test_spend_order();
    test_return();
    test_expire();
    test_balance();
    test_reverse();
    test_receipts();
    test_merge();
    test_segments();
    test_segment_merge();
    test_records();
    test_import_small();
    test_check();
    return tap_done();
}
