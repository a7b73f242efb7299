// SPDX-License-Identifier: MIT
// kc-lang.c: the rule language as data — every element, its attributes and its children.
//
// Children are listed in canonical order; `rank` groups siblings whose relative order is
// meaningful (effects of a promotion, conditions of a group): the formatter sorts children by
// rank and keeps document order inside a rank. docs/rules-language.md explains each element.
#include "kc-private.h"

#include <string.h>

#define REQ KC_A_REQUIRED
#define DECL (KC_A_REQUIRED | KC_A_DECLARES)
#define END {0}

#define CHANNELS "store|web|phone|app|bot"
#define NOTIFY_CHANNELS "messenger|sms|email|push"
#define SOURCES "accrual|promotion|birthday|registration|referral|event|challenge|manual|import"
#define WINDOWS                                                                               \
    "calendar-month|calendar-quarter|calendar-year|previous-calendar-quarter|"               \
    "previous-calendar-year|rolling-days|all-time"

// A line selector: which receipt lines an effect, a condition or an exclusion is about.
// Absent attributes do not restrict; present ones must all hold.
#define SELECTOR_ATTRS                                                                         \
    {"category", KC_V_WORDS, 0, NULL, NULL, "line category is one of these"},                \
    {"sku", KC_V_WORDS, 0, NULL, NULL, "line SKU is one of these"},                          \
    {"brand", KC_V_WORDS, 0, NULL, NULL, "line brand is one of these"},                      \
    {"attribute", KC_V_TEXT, 0, NULL, NULL, "line attribute `name=value` (value may be a list)"}, \
    {"exclude-category", KC_V_WORDS, 0, NULL, NULL, "but not these categories"},             \
    {"exclude-sku", KC_V_WORDS, 0, NULL, NULL, "but not these SKUs"},                        \
    {"exclude-brand", KC_V_WORDS, 0, NULL, NULL, "but not these brands"}

static const kc_attr_spec program_attrs[] = {
    {"id", KC_V_ID, DECL, NULL, NULL, "stable identifier of the program"},
    {"name", KC_V_TEXT, REQ, NULL, NULL, "name shown to marketers"},
    {"version", KC_V_INT, REQ, NULL, NULL, "version number, raised on every published change"},
    {"currency", KC_V_CURRENCY, REQ, NULL, NULL, "ISO 4217 currency of all money amounts"},
    {"minor-unit", KC_V_INT, 0, NULL, "2", "decimal places of the currency (kopecks: 2)"},
    {"time-zone", KC_V_TIMEZONE, REQ, NULL, NULL, "IANA time zone of dates, days and hours"},
    {"money-rounding", KC_V_ENUM, 0, "half-up|half-even|down|up", "half-up",
     "rounding of computed money amounts"},
    {"points-rounding", KC_V_ENUM, 0, "down|half-up|up", "down", "rounding of computed points"},
    END};
static const kc_child_spec program_children[] = {
    {KC_E_DESCRIPTION, 0, 1, 1}, {KC_E_SEGMENTS, 0, 1, 2},   {KC_E_TIERS, 0, 1, 3},
    {KC_E_TABLES, 0, 1, 4},      {KC_E_ACCRUAL, 0, 1, 5},    {KC_E_REDEMPTION, 0, 1, 6},
    {KC_E_PROMOTIONS, 0, 1, 7},  {KC_E_PROMO_CODES, 0, 1, 8}, {KC_E_CERTIFICATES, 0, 1, 9},
    {KC_E_EXPIRY, 0, 1, 10},     {KC_E_TRIGGERS, 0, 1, 11},  {KC_E_AGREEMENTS, 0, 1, 12},
    {KC_E_EARLY_ACCESS, 0, 0, 13},
    END};

static const kc_attr_spec no_attrs[] = {END};
static const kc_child_spec no_children[] = {END};

static const kc_child_spec segments_children[] = {{KC_E_SEGMENT, 1, 0, 1}, END};
static const kc_attr_spec segment_attrs[] = {
    {"id", KC_V_ID, DECL, NULL, NULL, "segment id, as the ERP and the runtime name it"},
    {"name", KC_V_TEXT, REQ, NULL, NULL, "name shown to marketers"},
    {"default", KC_V_BOOL, 0, NULL, "false", "customers without a segment belong to this one"},
    {"join-sku", KC_V_WORDS, 0, NULL, NULL, "buying one of these SKUs joins the segment (paid club)"},
    {"membership-days", KC_V_INT, 0, NULL, NULL, "days a paid membership lasts"},
    {"join-receipt", KC_V_ENUM, 0, "member|guest", "member",
     "whether the receipt that sells a join SKU already gets the members' rules"},
    END};
static const kc_child_spec segment_children[] = {{KC_E_TRANSITION, 0, 0, 1}, END};
static const kc_attr_spec transition_attrs[] = {
    {"to", KC_V_REF, REQ, "segment", NULL, "segment the customer moves to"},
    {"after-days", KC_V_INT, REQ, NULL, NULL, "days after `since`"},
    {"since", KC_V_ENUM, 0, "registration|joined", "joined", "what the days count from"},
    END};

static const kc_child_spec tiers_children[] = {{KC_E_LADDER, 1, 0, 1}, END};
static const kc_attr_spec ladder_attrs[] = {
    {"id", KC_V_ID, DECL, NULL, NULL, "ladder id"},
    {"name", KC_V_TEXT, REQ, NULL, NULL, "name shown to marketers"},
    {"metric", KC_V_ENUM, REQ, "paid|receipts|points-earned", NULL, "what the thresholds count"},
    {"window", KC_V_ENUM, REQ, WINDOWS, NULL, "the period the metric is summed over"},
    {"days", KC_V_INT, 0, NULL, NULL, "length of a rolling-days window"},
    {"segments", KC_V_REFS, 0, "segment", NULL, "only customers of these segments climb it"},
    {"upgrade", KC_V_ENUM, 0, "immediate|period-end", "immediate", "when a customer moves up"},
    {"downgrade", KC_V_ENUM, 0, "period-end|never", "period-end", "when a customer moves down"},
    {"manual-floor", KC_V_BOOL, 0, NULL, "true",
     "an operator may set a minimum tier with its own expiry (partner contracts)"},
    {"progress-message", KC_V_TEXT, 0, NULL, NULL,
     "for the customer on a receipt: {tier} (the next tier's name), {left} and {date} (the "
     "period's last day) are filled in"},
    {"upgrade-message", KC_V_TEXT, 0, NULL, NULL,
     "for the customer on a receipt that moves him up: {tier} (the new tier's name)"},
    END};
// `<exclude>`: lines whose money (and receipts made only of them) the metric leaves out.
static const kc_child_spec ladder_children[] = {{KC_E_TIER, 1, 0, 1}, {KC_E_EXCLUDE, 0, 0, 2}, END};
static const kc_attr_spec tier_attrs[] = {
    {"id", KC_V_ID, DECL, NULL, NULL, "tier id"},
    {"name", KC_V_TEXT, REQ, NULL, NULL, "name shown to customers"},
    {"from", KC_V_AMOUNT, REQ, NULL, NULL, "threshold: money for `paid`, a count otherwise"},
    {"discount", KC_V_PERCENT_REF, 0, "table", NULL, "privilege: discount on every line"},
    {"points-rate", KC_V_PERCENT_REF, 0, "table", NULL, "privilege: accrual rate of the tier"},
    {"discount-exclude-category", KC_V_WORDS, 0, NULL, NULL,
     "the tier discount leaves out these categories"},
    {"discount-exclude-sku", KC_V_WORDS, 0, NULL, NULL, "the tier discount leaves out these SKUs"},
    {"discount-exclude-brand", KC_V_WORDS, 0, NULL, NULL,
     "the tier discount leaves out these brands"},
    END};

static const kc_child_spec tables_children[] = {{KC_E_TABLE, 1, 0, 1}, END};
static const kc_attr_spec table_attrs[] = {
    {"id", KC_V_ID, DECL, NULL, NULL, "table id, referenced as `@id`"},
    {"name", KC_V_TEXT, 0, NULL, NULL, "name shown to marketers"},
    {"hit", KC_V_ENUM, 0, "first|highest|lowest|sum", "first", "which matching rows count"},
    {"output", KC_V_ENUM, 0, "percent|money|factor|points", "percent", "type of `then`"},
    {"default", KC_V_TEXT, 0, NULL, NULL, "output when no row matches (else: no value)"},
    END};
static const kc_child_spec table_children[] = {
    {KC_E_INPUT, 1, 0, 1}, {KC_E_ROW, 1, 0, 2}, END};
static const kc_attr_spec input_attrs[] = {
    {"source", KC_V_ENUM, REQ,
     "segment|tier|region|store|channel|category|sku|brand|line-attribute|customer-attribute|"
     "receipt-total|turnover|receipt-count",
     NULL, "the fact this column tests"},
    {"window", KC_V_ENUM, 0, WINDOWS, NULL, "period of `turnover` and `receipt-count`"},
    {"days", KC_V_INT, 0, NULL, NULL, "length of a rolling-days window"},
    {"attribute", KC_V_TEXT, 0, NULL, NULL, "attribute name for *-attribute sources"},
    {"label", KC_V_TEXT, 0, NULL, NULL, "column title in the designer"},
    {"category", KC_V_WORDS, 0, NULL, NULL, "`receipt-total`: count only lines of these categories"},
    {"sku", KC_V_WORDS, 0, NULL, NULL, "`receipt-total`: count only these SKUs"},
    {"brand", KC_V_WORDS, 0, NULL, NULL, "`receipt-total`: count only these brands"},
    {"exclude-category", KC_V_WORDS, 0, NULL, NULL, "`receipt-total`: leave out these categories"},
    {"exclude-sku", KC_V_WORDS, 0, NULL, NULL, "`receipt-total`: leave out these SKUs"},
    {"exclude-brand", KC_V_WORDS, 0, NULL, NULL, "`receipt-total`: leave out these brands"},
    END};
static const kc_attr_spec row_attrs[] = {
    {"when", KC_V_CELLS, REQ, NULL, NULL, "one cell per input, separated by `|`"},
    {"then", KC_V_TEXT, REQ, NULL, NULL, "the output value"},
    {"label", KC_V_TEXT, 0, NULL, NULL, "a note shown beside the row"},
    END};

static const kc_attr_spec accrual_attrs[] = {
    {"percent", KC_V_PERCENT_REF, REQ, "table", NULL, "base rate: points per money paid"},
    {"basis", KC_V_ENUM, 0, "paid|total", "paid",
     "`paid`: money paid after discounts and points; `total`: before discounts"},
    END};
static const kc_child_spec accrual_children[] = {
    {KC_E_RATE, 0, 0, 1}, {KC_E_EXCLUDE, 0, 0, 2}, END};
static const kc_attr_spec rate_attrs[] = {
    {"percent", KC_V_PERCENT_REF, REQ, "table", NULL, "rate for matching customers and lines"},
    {"segments", KC_V_REFS, 0, "segment", NULL, "customer is in one of these segments"},
    {"tiers", KC_V_REFS, 0, "tier", NULL, "customer has one of these tiers"},
    {"lists", KC_V_WORDS, 0, NULL, NULL, "customer is on one of these lists (co-brand cards)"},
    SELECTOR_ATTRS,
    END};
static const kc_attr_spec exclude_attrs[] = {SELECTOR_ATTRS, END};

static const kc_attr_spec redemption_attrs[] = {
    {"point-value", KC_V_MONEY, REQ, NULL, NULL, "money one point pays"},
    {"max-share", KC_V_PERCENT, 0, NULL, "100%", "largest share of the receipt paid with points"},
    {"min-balance", KC_V_INT, 0, NULL, "0", "points needed before any can be spent"},
    {"step", KC_V_INT, 0, NULL, "1", "points are spent in multiples of this"},
    {"min-receipt", KC_V_MONEY, 0, NULL, NULL, "smallest receipt points may pay for"},
    END};
static const kc_child_spec redemption_children[] = {{KC_E_EXCLUDE, 0, 0, 1}, END};

static const kc_child_spec promotions_children[] = {
    {KC_E_GROUP, 0, 0, 1}, {KC_E_PROMOTION, 0, 0, 2}, {KC_E_TEMPLATE, 0, 0, 2}, END};
static const kc_attr_spec group_attrs[] = {
    {"id", KC_V_ID, DECL, NULL, NULL, "exclusive group id"},
    {"name", KC_V_TEXT, 0, NULL, NULL, "name shown to marketers"},
    {"policy", KC_V_ENUM, REQ, "best|priority", NULL,
     "`best`: the member that gives the customer most; `priority`: the first by priority"},
    END};
static const kc_attr_spec promotion_attrs[] = {
    {"id", KC_V_ID, DECL, NULL, NULL, "promotion id, named in explanations and reports"},
    {"name", KC_V_TEXT, REQ, NULL, NULL, "name shown to marketers and cashiers"},
    {"stage", KC_V_ENUM, 0, "line|receipt", "line",
     "`line`: discounts on lines; `receipt`: discounts on the whole receipt, after line ones"},
    {"priority", KC_V_INT, 0, NULL, "0", "higher runs first inside its stage"},
    {"group", KC_V_REF, 0, "group", NULL, "exclusive group: at most one member applies"},
    {"stop", KC_V_BOOL, 0, NULL, "false", "when it applies, later promotions of the stage do not"},
    {"reward", KC_V_ENUM, 0, "discount|points|choice", "discount",
     "how a discount is given: as money off, as points, or as the customer chooses"},
    {"enabled", KC_V_BOOL, 0, NULL, "true", "a disabled promotion is kept but never applies"},
    {"template", KC_V_REF, 0, "template", NULL,
     "built from this template; its other attributes set the template's parameters"},
    END};
// A promotion template: the body of a promotion, with `{name}` placeholders for parameters.
static const kc_attr_spec template_attrs[] = {
    {"id", KC_V_ID, DECL, NULL, NULL, "template id, named by `template` on promotions"},
    {"name", KC_V_TEXT, 0, NULL, NULL, "name shown to marketers (each promotion has its own)"},
    {"params", KC_V_WORDS, 0, NULL, NULL, "parameter names; `{name}` in the body is the value"},
    {"stage", KC_V_ENUM, 0, "line|receipt", NULL, "stage of its promotions, unless they set one"},
    {"priority", KC_V_INT, 0, NULL, NULL, "priority of its promotions, unless they set one"},
    {"group", KC_V_REF, 0, "group", NULL, "exclusive group of its promotions, unless they set one"},
    {"stop", KC_V_BOOL, 0, NULL, NULL, "`stop` of its promotions, unless they set it"},
    {"reward", KC_V_ENUM, 0, "discount|points|choice", NULL,
     "`reward` of its promotions, unless they set it"},
    {"enabled", KC_V_BOOL, 0, NULL, NULL, "`enabled` of its promotions, unless they set it"},
    END};
static const kc_child_spec promotion_children[] = {
    {KC_E_VALID, 0, 1, 1},       {KC_E_WHERE, 0, 1, 2},   {KC_E_AUDIENCE, 0, 1, 3},
    {KC_E_WHEN, 0, 1, 4},        {KC_E_DISCOUNT, 0, 0, 5}, {KC_E_FIXED_PRICE, 0, 0, 5},
    {KC_E_CHEAPEST, 0, 0, 5},    {KC_E_BUY_GET, 0, 0, 5}, {KC_E_POINTS, 0, 0, 5},
    {KC_E_MESSAGE, 0, 0, 5},     {KC_E_CAP, 0, 1, 6},     {KC_E_LIMIT, 0, 1, 7},
    END};
static const kc_attr_spec valid_attrs[] = {
    {"from", KC_V_DATE, 0, NULL, NULL, "first day (inclusive)"},
    {"to", KC_V_DATE, 0, NULL, NULL, "last day (inclusive)"},
    {"days", KC_V_WEEKDAYS, 0, NULL, NULL, "weekdays: mon tue wed thu fri sat sun"},
    {"hours", KC_V_HOURS, 0, NULL, NULL, "time of day, `10:00-14:00`"},
    END};
static const kc_attr_spec where_attrs[] = {
    {"channels", KC_V_ENUMS, 0, CHANNELS, NULL, "sales channels"},
    {"stores", KC_V_WORDS, 0, NULL, NULL, "store ids"},
    {"regions", KC_V_WORDS, 0, NULL, NULL, "region ids"},
    END};
static const kc_attr_spec audience_attrs[] = {
    {"segments", KC_V_REFS, 0, "segment", NULL, "customer is in one of these segments"},
    {"tiers", KC_V_REFS, 0, "tier", NULL, "customer has one of these tiers"},
    {"lists", KC_V_WORDS, 0, NULL, NULL, "customer is on one of these lists (personal offers)"},
    {"first-purchase", KC_V_BOOL, 0, NULL, NULL, "only the customer's first receipt"},
    {"birthday-within", KC_V_INT, 0, NULL, NULL, "days either side of the customer's birthday"},
    {"registered-within", KC_V_INT, 0, NULL, NULL, "days since registration at most"},
    {"members", KC_V_BOOL, 0, NULL, NULL, "false: also anonymous receipts (default: members)"},
    END};
static const kc_attr_spec when_attrs[] = {
    {"match", KC_V_ENUM, 0, "all|any", "all", "all conditions hold, or any one"},
    END};
static const kc_child_spec cond_children[] = {
    {KC_E_TOTAL, 0, 0, 1}, {KC_E_LINES, 0, 0, 1}, {KC_E_CODE, 0, 0, 1},
    {KC_E_CUSTOMER, 0, 0, 1}, {KC_E_ALL, 0, 0, 1}, {KC_E_ANY, 0, 0, 1}, END};
static const kc_attr_spec total_attrs[] = {
    {"min", KC_V_MONEY, 0, NULL, NULL, "receipt total is at least this"},
    {"max", KC_V_MONEY, 0, NULL, NULL, "receipt total is below this"},
    {"basis", KC_V_ENUM, 0, "before|after", "before",
     "`before`: amounts before any discount; `after`: after earlier stages"},
    SELECTOR_ATTRS,
    END};
static const kc_attr_spec lines_attrs[] = {
    SELECTOR_ATTRS,
    {"min-quantity", KC_V_INT, 0, NULL, NULL, "matching units are at least this many"},
    {"min-amount", KC_V_MONEY, 0, NULL, NULL, "matching lines amount to at least this"},
    {"basis", KC_V_ENUM, 0, "before|after", "before", "amounts before or after earlier stages"},
    END};
static const kc_attr_spec code_attrs[] = {
    {"batch", KC_V_REF, REQ, "batch", NULL, "a code of this batch is on the receipt"},
    END};
static const kc_attr_spec customer_attrs[] = {
    {"attribute", KC_V_TEXT, REQ, NULL, NULL, "customer attribute name"},
    {"equals", KC_V_WORDS, REQ, NULL, NULL, "its value is one of these"},
    END};

static const kc_attr_spec discount_attrs[] = {
    {"percent", KC_V_PERCENT_REF, 0, "table", NULL, "percent off (or `@table`)"},
    {"amount", KC_V_MONEY, 0, NULL, NULL, "money off"},
    {"per", KC_V_ENUM, 0, "line|unit|receipt", "line",
     "`amount` is per matching line, per unit, or once for the receipt (spread over lines)"},
    {"factor", KC_V_FACTOR_REF, 0, "table", NULL, "multiplies the discount (regional coefficient)"},
    SELECTOR_ATTRS,
    END};
static const kc_attr_spec fixed_price_attrs[] = {
    {"price", KC_V_MONEY, REQ, NULL, NULL, "unit price of matching lines"}, SELECTOR_ATTRS, END};
static const kc_attr_spec cheapest_attrs[] = {
    {"percent", KC_V_PERCENT, 0, NULL, "100%", "discount on the cheapest units"},
    {"count", KC_V_INT, 0, NULL, "1", "how many of the cheapest units"},
    SELECTOR_ATTRS,
    END};
static const kc_attr_spec buy_get_attrs[] = {
    {"buy", KC_V_INT, REQ, NULL, NULL, "units paid in full"},
    {"get", KC_V_INT, REQ, NULL, NULL, "units discounted for every `buy` units"},
    {"percent", KC_V_PERCENT, 0, NULL, "100%", "discount on the `get` units (cheapest first)"},
    SELECTOR_ATTRS,
    END};
static const kc_attr_spec points_attrs[] = {
    {"amount", KC_V_INT, 0, NULL, NULL, "fixed points for the receipt"},
    {"percent", KC_V_PERCENT_REF, 0, "table", NULL, "points as a percent of the money paid"},
    {"multiplier", KC_V_FACTOR, 0, NULL, NULL, "multiplies the base accrual of matching lines"},
    SELECTOR_ATTRS,
    END};
static const kc_attr_spec message_attrs[] = {
    {"to", KC_V_ENUM, 0, "cashier|customer", "cashier", "who sees the message"}, END};
static const kc_attr_spec cap_attrs[] = {
    {"max-discount", KC_V_MONEY, 0, NULL, NULL, "most money off per receipt"},
    {"max-line-share", KC_V_PERCENT, 0, NULL, NULL, "most of one line's amount"},
    {"price-floor", KC_V_MONEY, 0, NULL, NULL, "no unit price goes below this"},
    END};
static const kc_attr_spec limit_attrs[] = {
    {"per-customer", KC_V_INT, 0, NULL, NULL, "uses per customer"},
    {"uses", KC_V_INT, 0, NULL, NULL, "uses in all"},
    {"budget", KC_V_MONEY, 0, NULL, NULL, "total money off across all receipts"},
    END};

static const kc_child_spec promo_codes_children[] = {{KC_E_BATCH, 1, 0, 1}, END};
static const kc_attr_spec batch_attrs[] = {
    {"id", KC_V_ID, DECL, NULL, NULL, "batch id"},
    {"name", KC_V_TEXT, 0, NULL, NULL, "name shown to marketers"},
    {"kind", KC_V_ENUM, REQ, "single|multi", NULL,
     "`single`: generated codes used once each; `multi`: one public code"},
    {"code", KC_V_ID, 0, NULL, NULL, "the public code of a `multi` batch"},
    {"count", KC_V_INT, 0, NULL, NULL, "codes to generate for a `single` batch"},
    {"prefix", KC_V_ID, 0, NULL, NULL, "generated codes start with this"},
    {"uses", KC_V_INT, 0, NULL, NULL, "uses in all (multi)"},
    {"per-customer", KC_V_INT, 0, NULL, "1", "uses per customer"},
    {"from", KC_V_DATE, 0, NULL, NULL, "first valid day"},
    {"to", KC_V_DATE, 0, NULL, NULL, "last valid day"},
    {"valid-days", KC_V_INT, 0, NULL, NULL,
     "each generated code is valid this many days from its issue (the day of issue included)"},
    END};

static const kc_child_spec certificates_children[] = {{KC_E_CERTIFICATE, 1, 0, 1}, END};
static const kc_attr_spec certificate_attrs[] = {
    {"id", KC_V_ID, DECL, NULL, NULL, "certificate kind id"},
    {"name", KC_V_TEXT, 0, NULL, NULL, "name shown to customers"},
    {"face-value", KC_V_MONEY, REQ, NULL, NULL, "money the certificate pays"},
    {"valid-days", KC_V_INT, 0, NULL, NULL, "days from issue"},
    {"partial", KC_V_BOOL, 0, NULL, "true", "may be spent over several receipts"},
    {"sku", KC_V_WORDS, 0, NULL, NULL, "selling this SKU issues a certificate"},
    END};

static const kc_child_spec expiry_children[] = {
    {KC_E_LIFETIME, 0, 0, 1}, {KC_E_WARN, 0, 0, 2}, {KC_E_BURN, 0, 0, 3}, END};
static const kc_attr_spec lifetime_attrs[] = {
    {"source", KC_V_ENUM, REQ, SOURCES, NULL, "where the points came from"},
    {"days", KC_V_INT, 0, NULL, NULL, "days points live once spendable (absent: forever)"},
    {"hold-days", KC_V_INT, 0, NULL, "0", "days before points become spendable (return window)"},
    END};
static const kc_attr_spec warn_attrs[] = {
    {"days-before", KC_V_INT, REQ, NULL, NULL, "days before points expire"},
    {"channels", KC_V_ENUMS, REQ, NOTIFY_CHANNELS, NULL, "channels in order of preference"},
    {"message", KC_V_TEXT, 0, NULL, NULL, "text; {points} and {date} are filled in"},
    END};
static const kc_attr_spec burn_attrs[] = {
    {"period", KC_V_ENUM, REQ, "calendar-month|calendar-quarter|calendar-year", NULL,
     "all points of `sources` expire at the end of each period"},
    {"sources", KC_V_ENUMS, 0, SOURCES, NULL, "which points burn (absent: all)"},
    END};

#define TRIGGER_COMMON                                                                         \
    {"id", KC_V_ID, DECL, NULL, NULL, "trigger id"},                                           \
    {"segments", KC_V_REFS, 0, "segment", NULL, "only customers of these segments"},          \
    {"tiers", KC_V_REFS, 0, "tier", NULL, "only customers with these tiers"}
#define TRIGGER_REWARD                                                                         \
    {"points", KC_V_INT, 0, NULL, NULL, "points given"},                                       \
    {"batch", KC_V_REF, 0, "batch", NULL, "a promo code of this batch is given"},             \
    {"channels", KC_V_ENUMS, 0, NOTIFY_CHANNELS, NULL, "notification channels in order"},     \
    {"message", KC_V_TEXT, 0, NULL, NULL, "notification text"}

static const kc_child_spec triggers_children[] = {
    {KC_E_BIRTHDAY, 0, 0, 1},    {KC_E_REGISTRATION, 0, 0, 1}, {KC_E_REFERRAL, 0, 0, 1},
    {KC_E_TIER_REMINDER, 0, 0, 1}, {KC_E_INACTIVITY, 0, 0, 1}, {KC_E_EVENT, 0, 0, 1},
    {KC_E_CHALLENGE, 0, 0, 1},   {KC_E_CHAIN, 0, 0, 2},       END};
static const kc_attr_spec birthday_attrs[] = {
    TRIGGER_COMMON,
    {"days-before", KC_V_INT, 0, NULL, "0", "days before the birthday"},
    TRIGGER_REWARD,
    END};
static const kc_attr_spec registration_attrs[] = {TRIGGER_COMMON, TRIGGER_REWARD, END};
static const kc_attr_spec referral_attrs[] = {
    TRIGGER_COMMON,
    {"percent", KC_V_PERCENT, REQ, NULL, NULL, "referrer earns this share of what referred pay"},
    {"days", KC_V_INT, REQ, NULL, NULL, "for this many days after the referral"},
    END};
static const kc_attr_spec tier_reminder_attrs[] = {
    TRIGGER_COMMON,
    {"ladder", KC_V_REF, REQ, "ladder", NULL, "the ladder whose period ends"},
    {"days-before", KC_V_INT, REQ, NULL, NULL, "days before the period ends"},
    {"within", KC_V_PERCENT, REQ, NULL, NULL, "customers this close to the next threshold"},
    {"channels", KC_V_ENUMS, 0, NOTIFY_CHANNELS, NULL, "notification channels in order"},
    {"message", KC_V_TEXT, 0, NULL, NULL, "text; {left} and {tier} are filled in"},
    END};
static const kc_attr_spec inactivity_attrs[] = {
    TRIGGER_COMMON,
    {"days", KC_V_INT, REQ, NULL, NULL, "days without a purchase"},
    TRIGGER_REWARD,
    END};
static const kc_attr_spec event_attrs[] = {
    TRIGGER_COMMON,
    {"name", KC_V_ID, REQ, NULL, NULL, "event name the ERP sends"},
    TRIGGER_REWARD,
    END};
static const kc_attr_spec challenge_attrs[] = {
    TRIGGER_COMMON,
    {"receipts", KC_V_INT, REQ, NULL, NULL, "receipts needed"},
    {"window", KC_V_ENUM, REQ, "calendar-week|calendar-month|rolling-days", NULL, "within"},
    {"days", KC_V_INT, 0, NULL, NULL, "length of a rolling-days window"},
    {"min-amount", KC_V_MONEY, 0, NULL, NULL, "only receipts of at least this count"},
    TRIGGER_REWARD,
    {"remind-days-before", KC_V_INT, 0, NULL, NULL,
     "remind customers short of the goal this many days before the window ends"},
    {"remind-left", KC_V_INT, 0, NULL, NULL,
     "remind those at most this many receipts short (absent: 1)"},
    {"remind-channels", KC_V_ENUMS, 0, NOTIFY_CHANNELS, NULL,
     "reminder channels in order (absent: `channels`)"},
    {"remind-message", KC_V_TEXT, 0, NULL, NULL,
     "reminder text; {left}, {points} and {date} are filled in"},
    END};

// `<chain>`: steps after an entry event, each once per customer (docs/rules-language.md,
// "Chains"; run by the jobs, kr-ops-chains.c).
static const kc_attr_spec chain_attrs[] = {
    TRIGGER_COMMON,
    {"start", KC_V_ENUM, REQ, "registration|segment|event", NULL,
     "what starts it: the customer's registration, joining `segment`, or the ERP event `event`"},
    {"segment", KC_V_REF, 0, "segment", NULL, "start=\"segment\": the segment whose joining starts it"},
    {"event", KC_V_ID, 0, NULL, NULL, "start=\"event\": the name of the ERP event that starts it"},
    END};
static const kc_child_spec chain_children[] = {{KC_E_STEP, 1, 0, 1}, END};
static const kc_attr_spec step_attrs[] = {
    {"id", KC_V_ID, DECL, NULL, NULL, "step id, named in the outbox and the ledger"},
    {"after-days", KC_V_INT, REQ, NULL, NULL, "days after the chain's start (0: the start day)"},
    {"unless", KC_V_ENUM, 0, "purchase", NULL,
     "`purchase`: when the customer bought on a day after the start, leave the chain instead"},
    TRIGGER_REWARD,
    {"points-days", KC_V_INT, 0, NULL, NULL,
     "the step's points can be spent this many days (absent: the `event` lifetime)"},
    END};

static const kc_attr_spec agreements_attrs[] = {
    {"policy", KC_V_ENUM, REQ, "best|agreement|add", NULL,
     "`best`: the better of the agreement and the line promotions without a group; "
     "`agreement`: the agreement replaces program line discounts; `add`: both"},
    {"max", KC_V_PERCENT, 0, NULL, NULL, "the highest agreement percent honoured"},
    END};

// `<early-access>`: a new line sold only to an audience until a day; the till is told
// (docs/rules-language.md, "Early access"). Checked in C by the operations, not by the engine.
static const kc_attr_spec early_access_attrs[] = {
    {"id", KC_V_ID, DECL, NULL, NULL, "rule id, named in the till's answer"},
    {"name", KC_V_TEXT, REQ, NULL, NULL, "name of the line, shown to cashiers"},
    {"from", KC_V_DATE, 0, NULL, NULL, "first members-only day (absent: from now on)"},
    {"until", KC_V_DATE, REQ, NULL, NULL, "last members-only day (inclusive); then open to all"},
    {"segments", KC_V_REFS, 0, "segment", NULL, "customers of these segments may buy it"},
    {"tiers", KC_V_REFS, 0, "tier", NULL, "customers with these tiers may buy it"},
    {"message", KC_V_TEXT, 0, NULL, NULL,
     "text for the cashier; {name} and {until} are filled in"},
    SELECTOR_ATTRS,
    END};

#define E(ID, NAME, KIND, ATTRS, CHILDREN, TEXT, DOC) [ID] = {ID, NAME, KIND, ATTRS, CHILDREN, TEXT, DOC}
static const kc_elem_spec elems[KC_E_COUNT] = {
    E(KC_E_PROGRAM, "program", "program", program_attrs, program_children, false,
      "a loyalty program"),
    E(KC_E_DESCRIPTION, "description", NULL, no_attrs, no_children, true, "free text"),
    E(KC_E_SEGMENTS, "segments", NULL, no_attrs, segments_children, false, "customer segments"),
    E(KC_E_SEGMENT, "segment", "segment", segment_attrs, segment_children, false, "a segment"),
    E(KC_E_TRANSITION, "transition", NULL, transition_attrs, no_children, false,
      "automatic move to another segment"),
    E(KC_E_TIERS, "tiers", NULL, no_attrs, tiers_children, false, "tier ladders"),
    E(KC_E_LADDER, "ladder", "ladder", ladder_attrs, ladder_children, false, "a tier ladder"),
    E(KC_E_TIER, "tier", "tier", tier_attrs, no_children, false, "a tier"),
    E(KC_E_TABLES, "tables", NULL, no_attrs, tables_children, false, "decision tables"),
    E(KC_E_TABLE, "table", "table", table_attrs, table_children, false, "a decision table"),
    E(KC_E_INPUT, "input", NULL, input_attrs, no_children, false, "a column of a table"),
    E(KC_E_ROW, "row", NULL, row_attrs, no_children, false, "a row of a table"),
    E(KC_E_ACCRUAL, "accrual", NULL, accrual_attrs, accrual_children, false, "earning points"),
    E(KC_E_RATE, "rate", NULL, rate_attrs, no_children, false, "an accrual rate override"),
    E(KC_E_EXCLUDE, "exclude", NULL, exclude_attrs, no_children, false, "excluded lines"),
    E(KC_E_REDEMPTION, "redemption", NULL, redemption_attrs, redemption_children, false,
      "paying with points"),
    E(KC_E_PROMOTIONS, "promotions", NULL, no_attrs, promotions_children, false, "promotions"),
    E(KC_E_GROUP, "group", "group", group_attrs, no_children, false, "an exclusive group"),
    E(KC_E_PROMOTION, "promotion", "promotion", promotion_attrs, promotion_children, false,
      "a promotion"),
    E(KC_E_VALID, "valid", NULL, valid_attrs, no_children, false, "when a promotion runs"),
    E(KC_E_WHERE, "where", NULL, where_attrs, no_children, false, "where a promotion runs"),
    E(KC_E_AUDIENCE, "audience", NULL, audience_attrs, no_children, false, "who gets it"),
    E(KC_E_WHEN, "when", NULL, when_attrs, cond_children, false, "receipt conditions"),
    E(KC_E_ALL, "all", NULL, no_attrs, cond_children, false, "all of these hold"),
    E(KC_E_ANY, "any", NULL, no_attrs, cond_children, false, "any of these holds"),
    E(KC_E_TOTAL, "total", NULL, total_attrs, no_children, false, "receipt total"),
    E(KC_E_LINES, "lines", NULL, lines_attrs, no_children, false, "matching lines"),
    E(KC_E_CODE, "code", NULL, code_attrs, no_children, false, "a promo code"),
    E(KC_E_CUSTOMER, "customer", NULL, customer_attrs, no_children, false,
      "a customer attribute"),
    E(KC_E_DISCOUNT, "discount", NULL, discount_attrs, no_children, false, "money off"),
    E(KC_E_FIXED_PRICE, "fixed-price", NULL, fixed_price_attrs, no_children, false,
      "a fixed unit price"),
    E(KC_E_CHEAPEST, "cheapest", NULL, cheapest_attrs, no_children, false,
      "cheapest units free or discounted"),
    E(KC_E_BUY_GET, "buy-get", NULL, buy_get_attrs, no_children, false, "buy X get Y"),
    E(KC_E_POINTS, "points", NULL, points_attrs, no_children, false, "extra points"),
    E(KC_E_MESSAGE, "message", NULL, message_attrs, no_children, true, "a message"),
    E(KC_E_CAP, "cap", NULL, cap_attrs, no_children, false, "caps on the discount"),
    E(KC_E_LIMIT, "limit", NULL, limit_attrs, no_children, false, "limits on uses"),
    E(KC_E_PROMO_CODES, "promo-codes", NULL, no_attrs, promo_codes_children, false,
      "promo codes"),
    E(KC_E_BATCH, "batch", "batch", batch_attrs, no_children, false, "a batch of promo codes"),
    E(KC_E_CERTIFICATES, "certificates", NULL, no_attrs, certificates_children, false,
      "gift certificates"),
    E(KC_E_CERTIFICATE, "certificate", "certificate", certificate_attrs, no_children, false,
      "a kind of gift certificate"),
    E(KC_E_EXPIRY, "expiry", NULL, no_attrs, expiry_children, false, "expiry of points"),
    E(KC_E_LIFETIME, "lifetime", NULL, lifetime_attrs, no_children, false,
      "lifetime of points by source"),
    E(KC_E_WARN, "warn", NULL, warn_attrs, no_children, false, "a warning before expiry"),
    E(KC_E_BURN, "burn", NULL, burn_attrs, no_children, false, "end-of-period burn"),
    E(KC_E_TRIGGERS, "triggers", NULL, no_attrs, triggers_children, false, "triggers"),
    E(KC_E_BIRTHDAY, "birthday", "trigger", birthday_attrs, no_children, false, "birthday"),
    E(KC_E_REGISTRATION, "registration", "trigger", registration_attrs, no_children, false,
      "welcome"),
    E(KC_E_REFERRAL, "referral", "trigger", referral_attrs, no_children, false, "referral"),
    E(KC_E_TIER_REMINDER, "tier-reminder", "trigger", tier_reminder_attrs, no_children, false,
      "reminder before a tier period ends"),
    E(KC_E_INACTIVITY, "inactivity", "trigger", inactivity_attrs, no_children, false,
      "no purchase for N days"),
    E(KC_E_EVENT, "event", "trigger", event_attrs, no_children, false, "a custom ERP event"),
    E(KC_E_CHALLENGE, "challenge", "trigger", challenge_attrs, no_children, false,
      "a gamified challenge"),
    E(KC_E_AGREEMENTS, "agreements", NULL, agreements_attrs, no_children, false,
      "individual agreements from the ERP"),
    E(KC_E_TEMPLATE, "template", "template", template_attrs, promotion_children, false,
      "a promotion template"),
    E(KC_E_CHAIN, "chain", "chain", chain_attrs, chain_children, false,
      "a chain of steps after an entry event"),
    E(KC_E_STEP, "step", "step", step_attrs, no_children, false, "a step of a chain"),
    E(KC_E_EARLY_ACCESS, "early-access", "early-access", early_access_attrs, no_children, false,
      "a new line only for an audience until a day"),
};

const kc_elem_spec *kc__elem_spec(kc_elem_id id)
{
    if (id <= KC_E_NONE || id >= KC_E_COUNT)
        return NULL;
    return &elems[id];
}

const kc_elem_spec *kc__elem_by_name(const char *name)
{
    for (int i = KC_E_NONE + 1; i < KC_E_COUNT; i++)
        if (strcmp(elems[i].name, name) == 0)
            return &elems[i];
    return NULL;
}

size_t kc__attr_count(const kc_elem_spec *e)
{
    size_t n = 0;
    while (e->attrs[n].name)
        n++;
    return n;
}
