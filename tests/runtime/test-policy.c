// SPDX-License-Identifier: MIT
// test-policy: the windows of tier ladders and table counters (kr_window_range,
// kr_window_next_start, kr_window_current_of) on dates worked out by hand, and the line
// selector of a ladder's <exclude> (kr_selector_match).
#include "kr-input.h"
#include "kr-policy.h"
#include "ledger/ledger-tap.h"

#include <string.h>

static int64_t d(int64_t y, unsigned m, unsigned day)
{
    return kr_days_from_civil(y, m, day);
}

static void range_is(kr_window w, int64_t days, int64_t day, int64_t from, int64_t to,
                     const char *what)
{
    int64_t f = 0, t = 0;
    kr_window_range(w, days, day, &f, &t);
    if (!tap_ok(f == from && t == to, "%s", what))
        tap_diag("got [%lld, %lld], want [%lld, %lld]", (long long)f, (long long)t,
                 (long long)from, (long long)to);
}

static void windows(void)
{
    tap_ok(kr_window_parse("previous-calendar-quarter") == KR_WINDOW_PREVIOUS_CALENDAR_QUARTER &&
               kr_window_parse("all-time") == KR_WINDOW_ALL_TIME &&
               strcmp(kr_window_name(KR_WINDOW_ALL_TIME), "all-time") == 0 &&
               strcmp(kr_window_name(KR_WINDOW_PREVIOUS_CALENDAR_QUARTER),
                      "previous-calendar-quarter") == 0,
           "the new windows parse and print by their language names");
    // 15 August 2026 is in Q3: the previous quarter is April–June.
    range_is(KR_WINDOW_PREVIOUS_CALENDAR_QUARTER, 0, d(2026, 8, 15), d(2026, 4, 1), d(2026, 6, 30),
             "previous quarter of 15 Aug 2026 is 1 Apr .. 30 Jun 2026");
    // 1 January 2027 is in Q1: the previous quarter is October–December of the year before.
    range_is(KR_WINDOW_PREVIOUS_CALENDAR_QUARTER, 0, d(2027, 1, 1), d(2026, 10, 1),
             d(2026, 12, 31), "previous quarter of 1 Jan 2027 is 1 Oct .. 31 Dec 2026");
    // 31 March 2026: still Q1, previous is Q4 2025.
    range_is(KR_WINDOW_PREVIOUS_CALENDAR_QUARTER, 0, d(2026, 3, 31), d(2025, 10, 1),
             d(2025, 12, 31), "previous quarter of 31 Mar 2026 is Q4 2025");
    // 1 April 2026: Q2, previous is Q1 (a leap-free February: 90 days).
    range_is(KR_WINDOW_PREVIOUS_CALENDAR_QUARTER, 0, d(2026, 4, 1), d(2026, 1, 1), d(2026, 3, 31),
             "previous quarter of 1 Apr 2026 is Q1 2026");
    range_is(KR_WINDOW_ALL_TIME, 0, d(2026, 4, 1), 0, d(2026, 4, 1),
             "all-time covers 1970-01-01 .. the day (the runtime reads the counter `all`)");

    // The period a previous-quarter ladder is recomputed at: when the current quarter ends.
    tap_ok(kr_window_next_start(KR_WINDOW_PREVIOUS_CALENDAR_QUARTER, d(2026, 8, 15)) ==
               d(2026, 10, 1),
           "a previous-quarter window moves on on 1 Oct when it is 15 Aug");
    tap_ok(kr_window_next_start(KR_WINDOW_PREVIOUS_CALENDAR_QUARTER, d(2026, 12, 31)) ==
               d(2027, 1, 1),
           "... and on 1 Jan of the next year in December");
    tap_ok(kr_window_next_start(KR_WINDOW_ALL_TIME, d(2026, 8, 15)) == -1,
           "all-time never ends");
    tap_ok(kr_window_current_of(KR_WINDOW_PREVIOUS_CALENDAR_QUARTER) ==
                   KR_WINDOW_CALENDAR_QUARTER &&
               kr_window_current_of(KR_WINDOW_PREVIOUS_CALENDAR_YEAR) == KR_WINDOW_CALENDAR_YEAR &&
               kr_window_current_of(KR_WINDOW_CALENDAR_QUARTER) == KR_WINDOW_NONE &&
               kr_window_current_of(KR_WINDOW_ALL_TIME) == KR_WINDOW_NONE,
           "only previous-period windows have a current period");
}

static void selectors(void)
{
    // <exclude category="gift-cards certificates" exclude-sku="GIFT-PROMO"/>, lists sorted.
    char *cats[] = {"certificates", "gift-cards"};
    char *not_sku[] = {"GIFT-PROMO"};
    kr_selector gift = {.category = cats, .n_category = 2, .not_sku = not_sku,
                        .n_not_sku = 1};
    tap_ok(kr_selector_match(&gift, "GIFT-5000", "gift-cards", NULL, NULL),
           "a gift-card line matches the category list");
    tap_ok(kr_selector_match(&gift, "CERT-1", "certificates", "x", NULL),
           "the second category of the list matches too");
    tap_ok(!kr_selector_match(&gift, "GIFT-PROMO", "gift-cards", NULL, NULL),
           "exclude-sku takes a line out of the selection");
    tap_ok(!kr_selector_match(&gift, "DRESS-1", "dresses", NULL, NULL),
           "another category does not match");
    tap_ok(!kr_selector_match(&gift, "X", NULL, NULL, NULL), "a line without category does not");

    // <exclude sku="DELIVERY" attribute="kind=deposit service"/>: both must hold.
    char *sku[] = {"DELIVERY"};
    char *vals[] = {"deposit", "service"};
    kr_selector deliv = {.sku = sku, .n_sku = 1, .attr_name = "kind", .attr_values = vals,
                         .n_attr_values = 2};
    tap_ok(kr_selector_match(&deliv, "DELIVERY", NULL, NULL, "service"),
           "SKU and attribute value both hold");
    tap_ok(!kr_selector_match(&deliv, "DELIVERY", NULL, NULL, "goods"),
           "an attribute value not listed does not match");
    tap_ok(!kr_selector_match(&deliv, "DELIVERY", NULL, NULL, NULL),
           "a line without the attribute does not match");
    kr_selector any = {0};
    tap_ok(kr_selector_match(&any, "ANY", NULL, NULL, NULL),
           "a selector without attributes matches every line");
}

int main(void)
{
    windows();
    selectors();
    return tap_done();
}
