// SPDX-License-Identifier: MIT
// kr-identity: normalisation of customer identities (phones, e-mails) and card numbers.
#ifndef KR_IDENTITY_H
#define KR_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>

// Outcome of an identity function. INVALID comes with a human message in the caller's buffer.
typedef enum kr_identity_status {
    KR_IDENTITY_OK = 0,
    KR_IDENTITY_INVALID, // the input is not a valid phone / e-mail / card number
    KR_IDENTITY_NOSPACE, // the output buffer is too small
    KR_IDENTITY_RANDOM,  // libsodium could not be initialised (no entropy source)
} kr_identity_status;

// "+" and at most 15 digits (E.164) and the terminating NUL.
#define KR_IDENTITY_PHONE_MAX 17
// RFC 5321 limits an address to 254 characters.
#define KR_IDENTITY_EMAIL_MAX 255
// Cards issued by Kopilka: 15 random digits and a Luhn check digit.
#define KR_IDENTITY_CARD_DIGITS 16
// Any card number we store (imported ERP numbers may be longer) and the NUL.
#define KR_IDENTITY_CARD_MAX 33

// kr_identity_phone_normalize: writes the E.164 form ("+79123456789") of a phone as typed.
//   Accepts digits, one leading '+', and the separators space, '(', ')', '-', '.'.
//   Russian rules: 11 digits starting with 8 -> +7 and the last 10 digits; 10 digits starting
//   with 9 -> +7 and the 10 digits; otherwise a leading '+' is required. Numbers under +7 must
//   have exactly 10 national digits; other countries 7..15 digits in total, first digit not 0.
//   out: at least KR_IDENTITY_PHONE_MAX bytes. err/errlen: optional message buffer.
//   Returns OK, or INVALID with a message naming the problem.
kr_identity_status kr_identity_phone_normalize(const char *in, char *out, size_t outlen, char *err,
                                               size_t errlen);

// kr_identity_email_normalize: trims surrounding white space and lower-cases ASCII letters.
//   Minimal validity: one '@', a non-empty local part, a domain with a dot that neither starts
//   nor ends the domain, no empty labels, no spaces or control characters, at most 254 chars.
//   out: at least KR_IDENTITY_EMAIL_MAX bytes. Returns OK or INVALID (with message).
kr_identity_status kr_identity_email_normalize(const char *in, char *out, size_t outlen, char *err,
                                               size_t errlen);

// kr_identity_luhn_digit: the Luhn check digit ('0'..'9') for a string of decimal digits, or
//   -1 when the string is empty or holds a non-digit.
int kr_identity_luhn_digit(const char *digits);

// kr_identity_luhn_valid: true when `number` is all digits (at least 2) and its last digit is
//   the Luhn check digit of the rest.
bool kr_identity_luhn_valid(const char *number);

// kr_identity_card_normalize: removes spaces and dashes from a card number as typed and checks
//   it: 16 digits with a valid Luhn digit when `strict`, otherwise 6..32 digits (ERP imports).
//   out: at least KR_IDENTITY_CARD_MAX bytes. Returns OK or INVALID (with message).
kr_identity_status kr_identity_card_normalize(const char *in, bool strict, char *out, size_t outlen,
                                              char *err, size_t errlen);

// kr_identity_card_generate: a new unguessable card number: first digit 1..9, 14 further
//   digits from libsodium randombytes_uniform, then the Luhn digit. out: KR_IDENTITY_CARD_MAX
//   bytes. Returns OK, or RANDOM when libsodium cannot be initialised.
kr_identity_status kr_identity_card_generate(char *out, size_t outlen);

#endif
