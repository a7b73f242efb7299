// SPDX-License-Identifier: MIT
// test-ledger-identity: phone/e-mail normalisation tables, Luhn digits, card number generation.
#include "kr-identity.h"
#include "ledger/ledger-tap.h"

#include <stdlib.h>
#include <string.h>

static void phone_table(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!tap_ok(f != NULL, "open phone table %s", path))
        return;
    char line[512];
    int rows = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (line[0] == '#' || line[0] == '\0')
            continue;
        char *tab = strchr(line, '\t');
        if (!tab) {
            tap_ok(0, "phone table line without a tab: '%s'", line);
            continue;
        }
        *tab = '\0';
        const char *in = line, *want = tab + 1;
        char out[KR_IDENTITY_PHONE_MAX], err[256] = "";
        kr_identity_status st = kr_identity_phone_normalize(in, out, sizeof out, err, sizeof err);
        if (want[0] == '!') {
            tap_ok(st == KR_IDENTITY_INVALID && strstr(err, want + 1) != NULL,
                   "phone '%s' refused naming '%s' (got: %s)", in, want + 1,
                   st == KR_IDENTITY_OK ? out : err);
        } else {
            tap_ok(st == KR_IDENTITY_OK && strcmp(out, want) == 0, "phone '%s' -> %s (got %s)", in,
                   want, st == KR_IDENTITY_OK ? out : err);
        }
        rows++;
    }
    fclose(f);
    tap_ok(rows >= 20, "phone table has %d rows", rows);
}

static void email_table(void)
{
    static const struct {
        const char *in, *want; // want NULL = refused
    } cases[] = {
        {"Ivan.Petrov@Example.RU", "ivan.petrov@example.ru"},
        {"  anna@mail.ru\t\n", "anna@mail.ru"},
        {"a+tag@sub.domain.org", "a+tag@sub.domain.org"},
        {"", NULL},
        {"   ", NULL},
        {"no-at-sign.ru", NULL},
        {"two@@at.ru", NULL},
        {"a@b@c.ru", NULL},
        {"@example.ru", NULL},
        {"user@", NULL},
        {"user@localhost", NULL},
        {"user@.example.ru", NULL},
        {"user@example.ru.", NULL},
        {"user@example..ru", NULL},
        {"us er@example.ru", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[KR_IDENTITY_EMAIL_MAX], err[256] = "";
        kr_identity_status st =
            kr_identity_email_normalize(cases[i].in, out, sizeof out, err, sizeof err);
        if (cases[i].want)
            tap_ok(st == KR_IDENTITY_OK && strcmp(out, cases[i].want) == 0,
                   "e-mail case %zu -> '%s'", i, cases[i].want);
        else
            tap_ok(st == KR_IDENTITY_INVALID && err[0] != '\0', "e-mail case %zu refused (%s)", i,
                   err);
    }
    char longmail[300];
    memset(longmail, 'a', 250);
    memcpy(longmail + 250, "@x.ru", 6);
    char out[KR_IDENTITY_EMAIL_MAX];
    tap_ok(kr_identity_email_normalize(longmail, out, sizeof out, NULL, 0) == KR_IDENTITY_INVALID,
           "e-mail over 254 characters refused");
    tap_ok(kr_identity_email_normalize("a@b.ru", out, 10, NULL, 0) == KR_IDENTITY_NOSPACE,
           "small output buffer reported");
}

static void luhn(void)
{
    tap_ok(kr_identity_luhn_digit("7992739871") == '3', "Luhn digit of 7992739871 is 3");
    tap_ok(kr_identity_luhn_digit("411111111111111") == '1', "Luhn digit of 411111111111111 is 1");
    tap_ok(kr_identity_luhn_digit("0") == '0', "Luhn digit of 0 is 0");
    tap_ok(kr_identity_luhn_digit("") == -1 && kr_identity_luhn_digit("12a") == -1,
           "Luhn digit refuses empty and non-digit input");
    tap_ok(kr_identity_luhn_valid("79927398713"), "79927398713 is valid");
    tap_ok(kr_identity_luhn_valid("4111111111111111"), "4111111111111111 is valid");
    tap_ok(!kr_identity_luhn_valid("4111111111111112"), "4111111111111112 is not");
    tap_ok(!kr_identity_luhn_valid("79927398731"), "swapped digits are caught");
    tap_ok(!kr_identity_luhn_valid("7") && !kr_identity_luhn_valid(NULL), "too short is not");

    char out[KR_IDENTITY_CARD_MAX], err[128];
    tap_ok(kr_identity_card_normalize("4111 1111-1111 1111", true, out, sizeof out, err,
                                      sizeof err) == KR_IDENTITY_OK &&
               strcmp(out, "4111111111111111") == 0,
           "card number with spaces and dashes normalised");
    tap_ok(kr_identity_card_normalize("4111111111111112", true, out, sizeof out, err, sizeof err) ==
                   KR_IDENTITY_INVALID &&
               strstr(err, "check digit"),
           "mistyped card refused naming the check digit");
    tap_ok(kr_identity_card_normalize("12345678", true, out, sizeof out, err, sizeof err) ==
               KR_IDENTITY_INVALID,
           "strict mode wants 16 digits");
    tap_ok(kr_identity_card_normalize("12345678", false, out, sizeof out, err, sizeof err) ==
               KR_IDENTITY_OK,
           "ERP numbers of other lengths accepted when not strict");
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

static void generate(void)
{
    enum { N = 2000 };
    static char cards[N][KR_IDENTITY_CARD_MAX];
    int good = 1;
    long counts[10] = {0};
    for (int i = 0; i < N; i++) {
        if (kr_identity_card_generate(cards[i], sizeof cards[i]) != KR_IDENTITY_OK ||
            strlen(cards[i]) != 16 || cards[i][0] == '0' || !kr_identity_luhn_valid(cards[i]))
            good = 0;
        for (int k = 1; k < 15; k++)
            counts[cards[i][k] - '0']++;
    }
    tap_ok(good, "%d generated cards: 16 digits, no leading zero, valid Luhn", N);
    qsort(cards, N, sizeof cards[0], cmp_str);
    int dup = 0;
    for (int i = 1; i < N; i++)
        dup |= strcmp(cards[i - 1], cards[i]) == 0;
    tap_ok(!dup, "generated cards are distinct");
    // 28,000 random digits: each value should appear about 2,800 times.
    int spread = 1;
    for (int d = 0; d < 10; d++)
        spread &= counts[d] > 2300 && counts[d] < 3300;
    tap_ok(spread, "random digits are spread evenly (0:%ld 5:%ld 9:%ld)", counts[0], counts[5],
           counts[9]);
}

int main(int argc, char **argv)
{
    phone_table(argc > 1 ? argv[1] : "phones.tsv");
    email_table();
    luhn();
    generate();
    return tap_done();
}
