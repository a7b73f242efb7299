// SPDX-License-Identifier: MIT
// kr-identity: phone (E.164) and e-mail normalisation, Luhn check digits, card number generation.
#include "kr-identity.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#if defined(__GNUC__)
#define KR_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define KR_PRINTF(a, b)
#endif

static kr_identity_status fail(char *err, size_t errlen, const char *fmt, ...) KR_PRINTF(3, 4);

static kr_identity_status fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return KR_IDENTITY_INVALID;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

kr_identity_status kr_identity_phone_normalize(const char *in, char *out, size_t outlen, char *err,
                                               size_t errlen)
{
    char digits[32];
    size_t nd = 0;
    bool plus = false;
    bool seen_digit = false;

    if (!in)
        return fail(err, errlen, "phone is missing");
    if (!out || outlen < KR_IDENTITY_PHONE_MAX)
        return KR_IDENTITY_NOSPACE;
    for (size_t i = 0; in[i]; i++) {
        char c = in[i];
        if (is_digit(c)) {
            if (nd == sizeof digits - 1)
                return fail(err, errlen, "phone '%s' has too many digits", in);
            digits[nd++] = c;
            seen_digit = true;
        } else if (c == '+') {
            if (plus || seen_digit)
                return fail(err, errlen, "phone '%s': '+' is only allowed once, at the start", in);
            plus = true;
        } else if (c == ' ' || c == '(' || c == ')' || c == '-' || c == '.' || c == '\t') {
            continue;
        } else {
            return fail(err, errlen, "phone '%s': unexpected character '%c' at position %zu", in, c,
                        i + 1);
        }
    }
    digits[nd] = '\0';
    if (nd == 0)
        return fail(err, errlen, "phone '%s' has no digits", in);

    if (!plus) {
        if (nd == 11 && digits[0] == '8') {
            snprintf(out, outlen, "+7%s", digits + 1);
            return KR_IDENTITY_OK;
        }
        if (nd == 10 && digits[0] == '9') {
            snprintf(out, outlen, "+7%s", digits);
            return KR_IDENTITY_OK;
        }
        return fail(err, errlen,
                    "phone '%s' has no country code: write it with a leading '+' "
                    "(Russian numbers may start with 8 and have 11 digits)",
                    in);
    }
    if (digits[0] == '0')
        return fail(err, errlen, "phone '%s': a country code cannot start with 0", in);
    if (digits[0] == '7' && nd != 11)
        return fail(err, errlen, "phone '%s': a +7 number needs 10 digits after +7, not %zu", in,
                    nd - 1);
    if (nd < 7)
        return fail(err, errlen, "phone '%s' is too short for an international number", in);
    if (nd > 15)
        return fail(err, errlen, "phone '%s' is longer than 15 digits (E.164 limit)", in);
    snprintf(out, outlen, "+%s", digits);
    return KR_IDENTITY_OK;
}

kr_identity_status kr_identity_email_normalize(const char *in, char *out, size_t outlen, char *err,
                                               size_t errlen)
{
    if (!in)
        return fail(err, errlen, "e-mail is missing");
    if (!out || outlen < KR_IDENTITY_EMAIL_MAX)
        return KR_IDENTITY_NOSPACE;
    size_t b = 0, e = strlen(in);
    while (b < e && is_space(in[b]))
        b++;
    while (e > b && is_space(in[e - 1]))
        e--;
    size_t n = e - b;
    if (n == 0)
        return fail(err, errlen, "e-mail is empty");
    if (n > 254)
        return fail(err, errlen, "e-mail is longer than 254 characters");

    size_t at = n;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)in[b + i];
        if (c <= 0x20 || c == 0x7f)
            return fail(err, errlen, "e-mail '%.*s' contains a space or control character", (int)n,
                        in + b);
        if (c == '@') {
            if (at != n)
                return fail(err, errlen, "e-mail '%.*s' has more than one '@'", (int)n, in + b);
            at = i;
        }
        out[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : (char)c;
    }
    out[n] = '\0';
    if (at == n)
        return fail(err, errlen, "e-mail '%s' has no '@'", out);
    if (at == 0)
        return fail(err, errlen, "e-mail '%s' has an empty local part", out);
    const char *dom = out + at + 1;
    size_t dn = n - at - 1;
    if (dn == 0)
        return fail(err, errlen, "e-mail '%s' has an empty domain", out);
    if (!strchr(dom, '.'))
        return fail(err, errlen, "e-mail '%s': the domain has no dot", out);
    if (dom[0] == '.' || dom[dn - 1] == '.' || strstr(dom, ".."))
        return fail(err, errlen, "e-mail '%s': the domain has an empty label", out);
    return KR_IDENTITY_OK;
}

int kr_identity_luhn_digit(const char *digits)
{
    if (!digits || !digits[0])
        return -1;
    size_t n = strlen(digits);
    unsigned sum = 0;
    // Walking from the right, the digit next to the (future) check digit is doubled.
    for (size_t k = 0; k < n; k++) {
        char c = digits[n - 1 - k];
        if (!is_digit(c))
            return -1;
        unsigned d = (unsigned)(c - '0');
        if (k % 2 == 0) {
            d *= 2;
            if (d > 9)
                d -= 9;
        }
        sum += d;
    }
    return '0' + (int)((10 - sum % 10) % 10);
}

bool kr_identity_luhn_valid(const char *number)
{
    if (!number)
        return false;
    size_t n = strlen(number);
    if (n < 2 || n > 64)
        return false;
    char body[65];
    memcpy(body, number, n - 1);
    body[n - 1] = '\0';
    int want = kr_identity_luhn_digit(body);
    return want >= 0 && is_digit(number[n - 1]) && number[n - 1] == (char)want;
}

kr_identity_status kr_identity_card_normalize(const char *in, bool strict, char *out, size_t outlen,
                                              char *err, size_t errlen)
{
    if (!in)
        return fail(err, errlen, "card number is missing");
    if (!out || outlen < KR_IDENTITY_CARD_MAX)
        return KR_IDENTITY_NOSPACE;
    size_t n = 0;
    for (size_t i = 0; in[i]; i++) {
        char c = in[i];
        if (c == ' ' || c == '-')
            continue;
        if (!is_digit(c))
            return fail(err, errlen, "card number '%s': unexpected character '%c'", in, c);
        if (n == KR_IDENTITY_CARD_MAX - 1)
            return fail(err, errlen, "card number '%s' is too long", in);
        out[n++] = c;
    }
    out[n] = '\0';
    if (strict) {
        if (n != KR_IDENTITY_CARD_DIGITS)
            return fail(err, errlen, "card number '%s' must have %d digits, not %zu", in,
                        KR_IDENTITY_CARD_DIGITS, n);
        if (!kr_identity_luhn_valid(out))
            return fail(err, errlen, "card number '%s' fails its check digit (mistyped?)", in);
    } else if (n < 6) {
        return fail(err, errlen, "card number '%s' is shorter than 6 digits", in);
    }
    return KR_IDENTITY_OK;
}

kr_identity_status kr_identity_card_generate(char *out, size_t outlen)
{
    if (!out || outlen < KR_IDENTITY_CARD_MAX)
        return KR_IDENTITY_NOSPACE;
    if (sodium_init() < 0)
        return KR_IDENTITY_RANDOM;
    out[0] = (char)('1' + randombytes_uniform(9));
    for (int i = 1; i < KR_IDENTITY_CARD_DIGITS - 1; i++)
        out[i] = (char)('0' + randombytes_uniform(10));
    out[KR_IDENTITY_CARD_DIGITS - 1] = '\0';
    int check = kr_identity_luhn_digit(out);
    out[KR_IDENTITY_CARD_DIGITS - 1] = (char)check;
    out[KR_IDENTITY_CARD_DIGITS] = '\0';
    return KR_IDENTITY_OK;
}
