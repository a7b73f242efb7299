// SPDX-License-Identifier: MIT
// kr-ledger-guard.h: attempt counters for unknown card numbers, per source (a store, a sales
// channel), with a lockout — so card numbers cannot be enumerated through the till or the web.
// Table card_guard (migration 3): one row per source that ever tried an unknown number.
#ifndef KR_LEDGER_GUARD_H
#define KR_LEDGER_GUARD_H

#include "kr-ledger.h"

// Sources are 1..KR_LEDGER_GUARD_SOURCE_MAX bytes of text (e.g. "store:s1", "channel:web").
#define KR_LEDGER_GUARD_SOURCE_MAX 96

// kr_ledger_guard_locked: *until = the end of the lockout of `source` when it runs at `at`,
//   else 0. INVALID (bad source).
kr_ledger_status kr_ledger_guard_locked(kr_ledger *db, const char *source, int64_t at,
                                        int64_t *until);

// kr_ledger_guard_miss: counts one unknown card number tried from `source` at `at`. Misses are
//   counted in windows of `window` seconds starting with the first miss; the `limit`-th miss
//   of a window locks the source until at + lockout (*locked_until, else 0) and starts a new
//   window. One savepoint. INVALID (bad source, limit < 1, window or lockout < 1).
kr_ledger_status kr_ledger_guard_miss(kr_ledger *db, const char *source, int64_t at, int64_t limit,
                                      int64_t window, int64_t lockout, int64_t *locked_until);

#endif
