// SPDX-License-Identifier: MIT
// kr-policy.h: the data part of a compiled program — segments, tier ladders, expiry,
// triggers, codes and certificates — read once from the program's Lua table into C structs
// for the operations and scheduled jobs (docs/internals/program-abi.md). The evaluation part
// (promotions, accrual, redemption) stays with the engine.
//
// Ownership: a kr_policy owns every string and array in it; kr_policy_free releases them.
#ifndef KR_POLICY_H
#define KR_POLICY_H

#include <lua.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

// Point sources, in the order of the language's lifetime `source` values.
typedef enum kr_source {
    KR_SOURCE_ACCRUAL,
    KR_SOURCE_PROMOTION,
    KR_SOURCE_BIRTHDAY,
    KR_SOURCE_REGISTRATION,
    KR_SOURCE_REFERRAL,
    KR_SOURCE_EVENT,
    KR_SOURCE_CHALLENGE,
    KR_SOURCE_MANUAL,
    KR_SOURCE_IMPORT,
    KR_SOURCE_COUNT
} kr_source;
const char *kr_source_name(kr_source s);

typedef enum kr_window {
    KR_WINDOW_NONE,
    KR_WINDOW_CALENDAR_WEEK,
    KR_WINDOW_CALENDAR_MONTH,
    KR_WINDOW_CALENDAR_QUARTER,
    KR_WINDOW_CALENDAR_YEAR,
    KR_WINDOW_PREVIOUS_CALENDAR_YEAR,
    KR_WINDOW_ROLLING_DAYS,
    KR_WINDOW_PREVIOUS_CALENDAR_QUARTER,
    KR_WINDOW_ALL_TIME, // every purchase ever: the counters' period "all"
} kr_window;
kr_window kr_window_parse(const char *s);
const char *kr_window_name(kr_window w);
// The local days [*from, *to] (inclusive) a window covers on local day `day` (days since
// 1970-01-01); rolling windows cover the `days` days ending on `day`.
void kr_window_range(kr_window w, int64_t days, int64_t day, int64_t *from, int64_t *to);
// The first local day after the window that contains `day` ends (the period end), or -1 for
// windows without an end (rolling-days, all-time). A previous-period window ends with the
// current period: that is when it moves on.
int64_t kr_window_next_start(kr_window w, int64_t day);
// For a window that counts the previous period (previous-calendar-quarter, -year): the window
// of the current period (calendar-quarter, -year), whose metric decides the next period's
// tier. KR_WINDOW_NONE for every other window.
kr_window kr_window_current_of(kr_window w);

typedef struct kr_lifetime {
    bool set;
    int64_t days;      // -1: forever
    int64_t hold_days;
} kr_lifetime;

typedef struct kr_tier {
    char *id, *name;
    int64_t from; // minor units (metric paid) or a count
} kr_tier;

typedef enum kr_metric { KR_METRIC_PAID, KR_METRIC_RECEIPTS, KR_METRIC_POINTS } kr_metric;
// The counter a metric is kept under: "paid", "receipts", "points".
const char *kr_metric_counter(kr_metric m);

// A line selector read as data (a ladder's <exclude>): absent lists do not restrict, present
// ones must all hold; `not_*` lists must not. Lists are sorted.
typedef struct kr_selector {
    char **category, **sku, **brand;
    size_t n_category, n_sku, n_brand;
    char *attr_name;    // NULL: no attribute test
    char **attr_values; // the attribute's value is one of these
    size_t n_attr_values;
    char **not_category, **not_sku, **not_brand;
    size_t n_not_category, n_not_sku, n_not_brand;
} kr_selector;
// True when a line with these fields matches; attr_value is the line's value of
// s->attr_name (NULL when the line has none).
bool kr_selector_match(const kr_selector *s, const char *sku, const char *category,
                       const char *brand, const char *attr_value);

typedef struct kr_ladder {
    char *id;
    kr_metric metric;
    kr_window window;
    int64_t days;
    char **segments; // NULL: everyone
    size_t n_segments;
    bool upgrade_immediate;
    bool downgrade_never;
    bool manual_floor; // an operator may set a floor (kr_ops_tier_floor)
    kr_tier *tiers; // ascending thresholds
    size_t n_tiers;
    kr_selector *exclude; // lines the metric leaves out (docs/internals/ops.md, "Tiers")
    size_t n_exclude;
    // Texts for the customer in a receipt's answer (NULL: none): progress to the next tier
    // ({tier}, {left}, {date}) and a move up ({tier}). docs/rules-language.md, 3.3.
    char *progress_message;
    char *upgrade_message;
} kr_ladder;

typedef struct kr_transition {
    char *to;
    int64_t after_days;
    bool since_registration; // else since joining the segment
} kr_transition;

typedef struct kr_segment {
    char *id;
    bool is_default;
    char **join_sku;
    size_t n_join_sku;
    int64_t membership_days; // 0: none
    bool join_receipt_guest; // the receipt selling a join SKU is not yet a member's
    kr_transition *transitions;
    size_t n_transitions;
} kr_segment;

typedef enum kr_trigger_kind {
    KR_TRIGGER_BIRTHDAY,
    KR_TRIGGER_REGISTRATION,
    KR_TRIGGER_REFERRAL,
    KR_TRIGGER_TIER_REMINDER,
    KR_TRIGGER_INACTIVITY,
    KR_TRIGGER_EVENT,
    KR_TRIGGER_CHALLENGE,
} kr_trigger_kind;

typedef struct kr_trigger {
    kr_trigger_kind kind;
    char *id;
    char **segments, **tiers; // NULL: no restriction
    size_t n_segments, n_tiers;
    int64_t points;      // 0: none
    char *batch;         // NULL: no code
    char **channels;
    size_t n_channels;
    char *message;       // NULL: none
    int64_t days_before; // birthday, tier-reminder
    int64_t percent;     // referral (bp)
    int64_t days;        // referral period, inactivity, challenge rolling window
    char *ladder;        // tier-reminder
    int64_t within;      // tier-reminder (bp)
    char *event;         // event name
    int64_t receipts;    // challenge
    kr_window window;    // challenge
    int64_t min_amount;  // challenge
    // Challenge reminders (0 days: none): remind_days_before days before the window ends,
    // customers at most remind_left receipts short, by remind_channels (else channels).
    int64_t remind_days_before, remind_left;
    char **remind_channels;
    size_t n_remind_channels;
    char *remind_message; // NULL: none
} kr_trigger;

typedef struct kr_warning {
    int64_t days_before;
    char **channels;
    size_t n_channels;
    char *message;
} kr_warning;

typedef struct kr_burn {
    kr_window period;
    unsigned sources; // bit mask of kr_source; all when 0
} kr_burn;

typedef struct kr_batch {
    char *id;
    bool single;
    char *code, *prefix;
    int64_t count, uses, per_customer;
    int64_t from, to; // local days, -1: open
    int64_t valid_days; // a generated code's days of validity from its issue; 0: up to `to`
} kr_batch;

typedef struct kr_certificate {
    char *id;
    int64_t face_value, valid_days; // valid_days -1: forever
    bool partial;
    char **sku;
    size_t n_sku;
} kr_certificate;

// An `<early-access>` rule: lines matching `lines` are sold on local days [from, until] only to
// customers of `segments` or with `tiers` (kr-ops-early-access.c).
typedef struct kr_early_access {
    char *id, *name;
    char *message; // NULL: the default text
    int64_t from, until; // local days; from -1: from the start
    char **segments, **tiers; // NULL: none of that kind
    size_t n_segments, n_tiers;
    kr_selector lines;
} kr_early_access;

// A step of a `<chain>`: what it gives, `after_days` after the chain's start day.
typedef struct kr_chain_step {
    char *id;
    int64_t after_days;
    bool unless_purchase; // a purchase on a day after the start leaves the chain here
    int64_t points;       // 0: none
    int64_t points_days;  // days the points can be spent; -1: the `event` lifetime
    char *batch;          // NULL: no code
    char **channels;
    size_t n_channels;
    char *message; // NULL: none
} kr_chain_step;

// A `<chain>` (kr-ops-chains.c): started by registration (start_segment and start_event NULL),
// by joining start_segment or by the ERP event start_event; steps in document order with
// rising after_days.
typedef struct kr_chain {
    char *id;
    char *start_segment;
    char *start_event; // started by this ERP event (kr_ops_event); NULL: not
    char **segments, **tiers; // audience at the start; NULL: no restriction
    size_t n_segments, n_tiers;
    kr_chain_step *steps;
    size_t n_steps;
} kr_chain;

// What the operations need to know of a promotion (index = the engine's promotion index).
typedef struct kr_promo_info {
    char *id;
    char **batches; // code batches its conditions ask for
    size_t n_batches;
} kr_promo_info;

typedef struct kr_policy {
    char *id, *time_zone;
    int64_t version;
    int minor_unit;
    int64_t point_value; // money per point (minor units); 0 without redemption
    kr_lifetime lifetimes[KR_SOURCE_COUNT];
    kr_segment *segments;
    size_t n_segments;
    kr_ladder *ladders;
    size_t n_ladders;
    kr_trigger *triggers;
    size_t n_triggers;
    kr_warning *warnings;
    size_t n_warnings;
    kr_burn *burns;
    size_t n_burns;
    kr_batch *batches;
    size_t n_batches;
    kr_certificate *certificates;
    size_t n_certificates;
    kr_promo_info *promotions; // in P.promotions order
    size_t n_promotions;
    kr_early_access *early_access; // in document order
    size_t n_early_access;
    kr_chain *chains; // in document order
    size_t n_chains;
} kr_policy;

// Reads the program table at stack index `idx` of L (not modified; the stack is left as it
// was). Returns false with a message naming the field when the table does not follow the ABI.
bool kr_policy_read(lua_State *L, int idx, kr_policy *out, char *err, size_t errsz);
void kr_policy_free(kr_policy *p);

const kr_ladder *kr_policy_ladder(const kr_policy *p, const char *id);
const kr_batch *kr_policy_batch(const kr_policy *p, const char *id);

#endif
