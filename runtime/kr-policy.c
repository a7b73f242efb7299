// SPDX-License-Identifier: MIT
// kr-policy.c: reads the data tables of a compiled program (kr-policy.h). Only raw accesses
// (no metamethods run), so reading cannot execute program code.
#include "kr-policy.h"

#include "kr-input.h"

#include <lauxlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const source_names[KR_SOURCE_COUNT] = {
    "accrual", "promotion", "birthday", "registration", "referral",
    "event",   "challenge", "manual",   "import",
};

const char *kr_source_name(kr_source s)
{
    return (unsigned)s < KR_SOURCE_COUNT ? source_names[s] : "?";
}

static int source_parse(const char *s)
{
    for (int i = 0; i < KR_SOURCE_COUNT; i++)
        if (strcmp(source_names[i], s) == 0)
            return i;
    return -1;
}

static const char *const window_names[] = {
    "",          "calendar-week", "calendar-month",         "calendar-quarter",
    "calendar-year", "previous-calendar-year", "rolling-days", "previous-calendar-quarter",
    "all-time",
};

kr_window kr_window_parse(const char *s)
{
    for (int i = 1; i < (int)(sizeof window_names / sizeof window_names[0]); i++)
        if (strcmp(window_names[i], s) == 0)
            return (kr_window)i;
    return KR_WINDOW_NONE;
}

const char *kr_window_name(kr_window w)
{
    return window_names[w];
}

void kr_window_range(kr_window w, int64_t days, int64_t day, int64_t *from, int64_t *to)
{
    int64_t y;
    unsigned m, d;
    kr_civil_from_days(day, &y, &m, &d);
    switch (w) {
    case KR_WINDOW_CALENDAR_WEEK: {
        int64_t wd = ((day % 7) + 7 + 3) % 7; // 1970-01-01 was a Thursday: Monday = 0
        *from = day - wd;
        *to = *from + 6;
        return;
    }
    case KR_WINDOW_CALENDAR_MONTH:
        *from = kr_days_from_civil(y, m, 1);
        *to = (m == 12 ? kr_days_from_civil(y + 1, 1, 1) : kr_days_from_civil(y, m + 1, 1)) - 1;
        return;
    case KR_WINDOW_CALENDAR_QUARTER: {
        unsigned q = (m - 1) / 3 * 3 + 1;
        *from = kr_days_from_civil(y, q, 1);
        *to = (q == 10 ? kr_days_from_civil(y + 1, 1, 1) : kr_days_from_civil(y, q + 3, 1)) - 1;
        return;
    }
    case KR_WINDOW_CALENDAR_YEAR:
        *from = kr_days_from_civil(y, 1, 1);
        *to = kr_days_from_civil(y + 1, 1, 1) - 1;
        return;
    case KR_WINDOW_PREVIOUS_CALENDAR_YEAR:
        *from = kr_days_from_civil(y - 1, 1, 1);
        *to = kr_days_from_civil(y, 1, 1) - 1;
        return;
    case KR_WINDOW_PREVIOUS_CALENDAR_QUARTER: {
        unsigned q = (m - 1) / 3 * 3 + 1;
        *to = kr_days_from_civil(y, q, 1) - 1;
        *from = q == 1 ? kr_days_from_civil(y - 1, 10, 1) : kr_days_from_civil(y, q - 3, 1);
        return;
    }
    case KR_WINDOW_ROLLING_DAYS:
        *from = day - (days > 0 ? days : 1) + 1;
        *to = day;
        return;
    case KR_WINDOW_ALL_TIME: // callers read the counters' "all" period instead
        *from = 0;
        *to = day;
        return;
    case KR_WINDOW_NONE:
        break;
    }
    *from = *to = day;
}

int64_t kr_window_next_start(kr_window w, int64_t day)
{
    int64_t from, to;
    if (w == KR_WINDOW_ROLLING_DAYS || w == KR_WINDOW_NONE || w == KR_WINDOW_ALL_TIME)
        return -1;
    if (kr_window_current_of(w) != KR_WINDOW_NONE)
        w = kr_window_current_of(w); // statuses recomputed when the current period ends
    kr_window_range(w, 0, day, &from, &to);
    return to + 1;
}

kr_window kr_window_current_of(kr_window w)
{
    if (w == KR_WINDOW_PREVIOUS_CALENDAR_YEAR)
        return KR_WINDOW_CALENDAR_YEAR;
    if (w == KR_WINDOW_PREVIOUS_CALENDAR_QUARTER)
        return KR_WINDOW_CALENDAR_QUARTER;
    return KR_WINDOW_NONE;
}

const char *kr_metric_counter(kr_metric m)
{
    return m == KR_METRIC_PAID ? "paid" : m == KR_METRIC_RECEIPTS ? "receipts" : "points";
}

static bool in_sorted(char *const *v, size_t n, const char *s)
{
    if (!s)
        return false;
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(v[mid], s);
        if (c == 0)
            return true;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

bool kr_selector_match(const kr_selector *s, const char *sku, const char *category,
                       const char *brand, const char *attr_value)
{
    if (s->category && !in_sorted(s->category, s->n_category, category))
        return false;
    if (s->sku && !in_sorted(s->sku, s->n_sku, sku))
        return false;
    if (s->brand && !in_sorted(s->brand, s->n_brand, brand))
        return false;
    if (s->attr_name && !in_sorted(s->attr_values, s->n_attr_values, attr_value))
        return false;
    return !in_sorted(s->not_category, s->n_not_category, category) &&
           !in_sorted(s->not_sku, s->n_not_sku, sku) &&
           !in_sorted(s->not_brand, s->n_not_brand, brand);
}

// ---- reading ---------------------------------------------------------------------------------
typedef struct reader {
    lua_State *L;
    char *err;
    size_t errsz;
    bool failed;
} reader;

static bool fail(reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool fail(reader *r, const char *fmt, ...)
{
    if (!r->failed) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->err, r->errsz, fmt, ap);
        va_end(ap);
    }
    r->failed = true;
    return false;
}

// Pushes t[key] (raw) of the table at idx; returns its type.
static int field(lua_State *L, int idx, const char *key)
{
    idx = lua_absindex(L, idx);
    lua_pushstring(L, key);
    return lua_rawget(L, idx);
}

static char *dup_field(reader *r, int idx, const char *key, const char *path, bool required)
{
    char *s = NULL;
    int t = field(r->L, idx, key);
    if (t == LUA_TSTRING)
        s = strdup(lua_tostring(r->L, -1));
    else if (t != LUA_TNIL || required)
        fail(r, "%s.%s: %s", path, key, t == LUA_TNIL ? "missing" : "must be a string");
    lua_pop(r->L, 1);
    return s;
}

static int64_t int_field(reader *r, int idx, const char *key, const char *path, int64_t dflt)
{
    int64_t v = dflt;
    int t = field(r->L, idx, key);
    if (t == LUA_TNUMBER && lua_isinteger(r->L, -1))
        v = lua_tointeger(r->L, -1);
    else if (t != LUA_TNIL)
        fail(r, "%s.%s: must be an integer", path, key);
    lua_pop(r->L, 1);
    return v;
}

static bool bool_field(reader *r, int idx, const char *key, bool dflt)
{
    bool v = dflt;
    if (field(r->L, idx, key) == LUA_TBOOLEAN)
        v = lua_toboolean(r->L, -1);
    lua_pop(r->L, 1);
    return v;
}

// Reads an array of strings at t[key]; NULL (n 0) when absent.
static char **strings_field(reader *r, int idx, const char *key, const char *path, size_t *n)
{
    *n = 0;
    int t = field(r->L, idx, key);
    if (t == LUA_TNIL) {
        lua_pop(r->L, 1);
        return NULL;
    }
    if (t != LUA_TTABLE) {
        fail(r, "%s.%s: must be a list", path, key);
        lua_pop(r->L, 1);
        return NULL;
    }
    size_t len = (size_t)lua_rawlen(r->L, -1);
    char **v = calloc(len + 1, sizeof *v);
    if (!v) {
        fail(r, "out of memory");
        lua_pop(r->L, 1);
        return NULL;
    }
    for (size_t i = 0; i < len; i++) {
        if (lua_rawgeti(r->L, -1, (lua_Integer)i + 1) != LUA_TSTRING)
            fail(r, "%s.%s[%zu]: must be a string", path, key, i + 1);
        else
            v[(*n)++] = strdup(lua_tostring(r->L, -1));
        lua_pop(r->L, 1);
    }
    lua_pop(r->L, 1);
    return v;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

// Reads a set of strings at t[key]: a table { name = true, ... } (the ABI's sets), or a list;
// sorted, so that what is read does not depend on the table's iteration order.
static char **set_field(reader *r, int idx, const char *key, const char *path, size_t *n)
{
    *n = 0;
    int t = field(r->L, idx, key);
    if (t != LUA_TTABLE) {
        if (t != LUA_TNIL)
            fail(r, "%s.%s: must be a set", path, key);
        lua_pop(r->L, 1);
        return NULL;
    }
    size_t cap = 0;
    lua_pushnil(r->L);
    while (lua_next(r->L, -2)) {
        cap++;
        lua_pop(r->L, 1);
    }
    char **v = calloc(cap + 1, sizeof *v);
    if (!v) {
        fail(r, "out of memory");
        lua_pop(r->L, 1);
        return NULL;
    }
    lua_pushnil(r->L);
    while (lua_next(r->L, -2)) {
        const char *s = NULL;
        if (lua_type(r->L, -2) == LUA_TSTRING && lua_toboolean(r->L, -1))
            s = lua_tostring(r->L, -2);
        else if (lua_type(r->L, -1) == LUA_TSTRING)
            s = lua_tostring(r->L, -1);
        if (s && *n < cap)
            v[(*n)++] = strdup(s);
        lua_pop(r->L, 1);
    }
    lua_pop(r->L, 1);
    qsort(v, *n, sizeof *v, cmp_str);
    return v;
}

static void free_strings(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

// Calls fn for each element of the array t[key] (pushed on the stack during the call).
static bool each(reader *r, int idx, const char *key, const char *path, size_t *count,
                 void **arr, size_t elem, bool (*fn)(reader *, void *, const char *))
{
    *count = 0;
    *arr = NULL;
    int t = field(r->L, idx, key);
    if (t == LUA_TNIL) {
        lua_pop(r->L, 1);
        return true;
    }
    if (t != LUA_TTABLE) {
        lua_pop(r->L, 1);
        return fail(r, "%s.%s: must be a table", path, key);
    }
    size_t len = (size_t)lua_rawlen(r->L, -1);
    *arr = calloc(len ? len : 1, elem);
    if (!*arr) {
        lua_pop(r->L, 1);
        return fail(r, "out of memory");
    }
    for (size_t i = 0; i < len && !r->failed; i++) {
        char p[96];
        snprintf(p, sizeof p, "%s.%s[%zu]", path, key, i + 1);
        if (lua_rawgeti(r->L, -1, (lua_Integer)i + 1) != LUA_TTABLE)
            fail(r, "%s: must be a table", p);
        else if (fn(r, (char *)*arr + i * elem, p))
            (*count)++;
        lua_pop(r->L, 1);
    }
    lua_pop(r->L, 1);
    return !r->failed;
}

static bool read_tier(reader *r, void *dst, const char *path)
{
    kr_tier *t = dst;
    t->id = dup_field(r, -1, "id", path, true);
    t->name = dup_field(r, -1, "name", path, false);
    t->from = int_field(r, -1, "from", path, 0);
    return !r->failed;
}

// Splits `name=v1 v2` (a selector's attribute) into name and a sorted list of values.
static void split_attribute(reader *r, const char *text, kr_selector *x, const char *path)
{
    const char *eq = strchr(text, '=');
    if (!eq || eq == text) {
        fail(r, "%s.attribute: `%s` is not `name=value`", path, text);
        return;
    }
    x->attr_name = strndup(text, (size_t)(eq - text));
    size_t cap = strlen(eq) + 1, n = 0;
    x->attr_values = calloc(cap, sizeof *x->attr_values);
    if (!x->attr_name || !x->attr_values) {
        fail(r, "out of memory");
        return;
    }
    for (const char *p = eq + 1; *p;) {
        while (*p == ' ' || *p == '\t' || *p == '\n')
            p++;
        const char *q = p;
        while (*q && *q != ' ' && *q != '\t' && *q != '\n')
            q++;
        if (q > p)
            x->attr_values[n++] = strndup(p, (size_t)(q - p));
        p = q;
    }
    x->n_attr_values = n;
    qsort(x->attr_values, n, sizeof *x->attr_values, cmp_str);
}

static char **sorted_strings(reader *r, int idx, const char *key, const char *path, size_t *n)
{
    char **v = strings_field(r, idx, key, path, n);
    if (v)
        qsort(v, *n, sizeof *v, cmp_str);
    return v;
}

static bool read_selector(reader *r, void *dst, const char *path)
{
    kr_selector *x = dst;
    x->category = sorted_strings(r, -1, "category", path, &x->n_category);
    x->sku = sorted_strings(r, -1, "sku", path, &x->n_sku);
    x->brand = sorted_strings(r, -1, "brand", path, &x->n_brand);
    x->not_category = sorted_strings(r, -1, "exclude_category", path, &x->n_not_category);
    x->not_sku = sorted_strings(r, -1, "exclude_sku", path, &x->n_not_sku);
    x->not_brand = sorted_strings(r, -1, "exclude_brand", path, &x->n_not_brand);
    char *attr = dup_field(r, -1, "attribute", path, false);
    if (attr)
        split_attribute(r, attr, x, path);
    free(attr);
    return !r->failed;
}

static void free_selector(kr_selector *x)
{
    free_strings(x->category, x->n_category);
    free_strings(x->sku, x->n_sku);
    free_strings(x->brand, x->n_brand);
    free(x->attr_name);
    free_strings(x->attr_values, x->n_attr_values);
    free_strings(x->not_category, x->n_not_category);
    free_strings(x->not_sku, x->n_not_sku);
    free_strings(x->not_brand, x->n_not_brand);
}

static bool read_ladder(reader *r, void *dst, const char *path)
{
    kr_ladder *l = dst;
    l->id = dup_field(r, -1, "id", path, true);
    char *metric = dup_field(r, -1, "metric", path, true);
    char *window = dup_field(r, -1, "window", path, true);
    l->metric = metric && !strcmp(metric, "receipts")        ? KR_METRIC_RECEIPTS
                : metric && !strcmp(metric, "points-earned") ? KR_METRIC_POINTS
                                                             : KR_METRIC_PAID;
    l->window = window ? kr_window_parse(window) : KR_WINDOW_NONE;
    if (window && l->window == KR_WINDOW_NONE)
        fail(r, "%s.window: unknown window `%s`", path, window);
    free(metric);
    free(window);
    l->days = int_field(r, -1, "days", path, 0);
    l->segments = strings_field(r, -1, "segments", path, &l->n_segments);
    char *up = dup_field(r, -1, "upgrade", path, false);
    char *down = dup_field(r, -1, "downgrade", path, false);
    l->upgrade_immediate = !up || strcmp(up, "period-end") != 0;
    l->downgrade_never = down && strcmp(down, "never") == 0;
    free(up);
    free(down);
    l->manual_floor = bool_field(r, -1, "manual_floor", true);
    l->progress_message = dup_field(r, -1, "progress_message", path, false);
    l->upgrade_message = dup_field(r, -1, "upgrade_message", path, false);
    void *tiers, *exclude;
    each(r, -1, "tiers", path, &l->n_tiers, &tiers, sizeof(kr_tier), read_tier);
    l->tiers = tiers;
    each(r, -1, "exclude", path, &l->n_exclude, &exclude, sizeof(kr_selector), read_selector);
    l->exclude = exclude;
    return !r->failed;
}

static bool read_transition(reader *r, void *dst, const char *path)
{
    kr_transition *t = dst;
    t->to = dup_field(r, -1, "to", path, true);
    t->after_days = int_field(r, -1, "after_days", path, 0);
    char *since = dup_field(r, -1, "since", path, false);
    t->since_registration = since && strcmp(since, "registration") == 0;
    free(since);
    return !r->failed;
}

static bool read_segment(reader *r, void *dst, const char *path)
{
    kr_segment *s = dst;
    s->id = dup_field(r, -1, "id", path, true);
    s->is_default = bool_field(r, -1, "default", false);
    s->join_sku = set_field(r, -1, "join_sku", path, &s->n_join_sku);
    s->membership_days = int_field(r, -1, "membership_days", path, 0);
    char *jr = dup_field(r, -1, "join_receipt", path, false);
    s->join_receipt_guest = jr && strcmp(jr, "guest") == 0;
    free(jr);
    void *tr;
    each(r, -1, "transitions", path, &s->n_transitions, &tr, sizeof(kr_transition),
         read_transition);
    s->transitions = tr;
    return !r->failed;
}

static bool read_trigger(reader *r, void *dst, const char *path)
{
    static const char *const kinds[] = {"birthday",   "registration", "referral", "tier-reminder",
                                        "inactivity", "event",        "challenge"};
    kr_trigger *t = dst;
    char *kind = dup_field(r, -1, "kind", path, true);
    int k = -1;
    for (int i = 0; kind && i < 7; i++)
        if (strcmp(kinds[i], kind) == 0)
            k = i;
    if (kind && k < 0)
        fail(r, "%s.kind: unknown trigger `%s`", path, kind);
    free(kind);
    t->kind = (kr_trigger_kind)(k < 0 ? 0 : k);
    t->id = dup_field(r, -1, "id", path, true);
    t->segments = strings_field(r, -1, "segments", path, &t->n_segments);
    t->tiers = strings_field(r, -1, "tiers", path, &t->n_tiers);
    t->points = int_field(r, -1, "points", path, 0);
    t->batch = dup_field(r, -1, "batch", path, false);
    t->channels = strings_field(r, -1, "channels", path, &t->n_channels);
    t->message = dup_field(r, -1, "message", path, false);
    t->days_before = int_field(r, -1, "days_before", path, 0);
    t->percent = int_field(r, -1, "percent", path, 0);
    t->days = int_field(r, -1, "days", path, 0);
    t->ladder = dup_field(r, -1, "ladder", path, false);
    t->within = int_field(r, -1, "within", path, 0);
    t->event = t->kind == KR_TRIGGER_EVENT ? dup_field(r, -1, "name", path, true) : NULL;
    t->receipts = int_field(r, -1, "receipts", path, 0);
    char *window = dup_field(r, -1, "window", path, false);
    t->window = window ? kr_window_parse(window) : KR_WINDOW_NONE;
    free(window);
    t->min_amount = int_field(r, -1, "min_amount", path, 0);
    t->remind_days_before = int_field(r, -1, "remind_days_before", path, 0);
    t->remind_left = int_field(r, -1, "remind_left", path, 1);
    t->remind_channels = strings_field(r, -1, "remind_channels", path, &t->n_remind_channels);
    t->remind_message = dup_field(r, -1, "remind_message", path, false);
    return !r->failed;
}

static bool read_warning(reader *r, void *dst, const char *path)
{
    kr_warning *w = dst;
    w->days_before = int_field(r, -1, "days_before", path, 0);
    w->channels = strings_field(r, -1, "channels", path, &w->n_channels);
    w->message = dup_field(r, -1, "message", path, false);
    return !r->failed;
}

static bool read_burn(reader *r, void *dst, const char *path)
{
    kr_burn *b = dst;
    char *period = dup_field(r, -1, "period", path, true);
    b->period = period ? kr_window_parse(period) : KR_WINDOW_NONE;
    free(period);
    size_t n;
    char **src = strings_field(r, -1, "sources", path, &n);
    for (size_t i = 0; i < n; i++) {
        int s = source_parse(src[i]);
        if (s >= 0)
            b->sources |= 1u << s;
    }
    free_strings(src, n);
    return !r->failed;
}

// Reads a map id -> table (P.batches, P.certificates) into an array sorted by id.
static bool each_map(reader *r, int idx, const char *key, size_t *count, void **arr, size_t elem,
                     bool (*fn)(reader *, void *, const char *, const char *))
{
    *count = 0;
    *arr = NULL;
    int t = field(r->L, idx, key);
    if (t != LUA_TTABLE) {
        lua_pop(r->L, 1);
        return t == LUA_TNIL ? true : fail(r, "P.%s: must be a table", key);
    }
    size_t n = 0;
    lua_pushnil(r->L);
    while (lua_next(r->L, -2)) {
        n++;
        lua_pop(r->L, 1);
    }
    *arr = calloc(n ? n : 1, elem);
    if (!*arr) {
        lua_pop(r->L, 1);
        return fail(r, "out of memory");
    }
    lua_pushnil(r->L);
    while (lua_next(r->L, -2)) {
        if (lua_type(r->L, -2) == LUA_TSTRING && lua_type(r->L, -1) == LUA_TTABLE && !r->failed) {
            char p[96];
            snprintf(p, sizeof p, "P.%s[%s]", key, lua_tostring(r->L, -2));
            if (fn(r, (char *)*arr + *count * elem, lua_tostring(r->L, -2), p))
                (*count)++;
        }
        lua_pop(r->L, 1);
    }
    lua_pop(r->L, 1);
    return !r->failed;
}

static bool read_batch(reader *r, void *dst, const char *id, const char *path)
{
    kr_batch *b = dst;
    b->id = strdup(id);
    char *kind = dup_field(r, -1, "kind", path, true);
    b->single = kind && strcmp(kind, "single") == 0;
    free(kind);
    b->code = dup_field(r, -1, "code", path, false);
    b->prefix = dup_field(r, -1, "prefix", path, false);
    b->count = int_field(r, -1, "count", path, 0);
    b->uses = int_field(r, -1, "uses", path, 0);
    b->per_customer = int_field(r, -1, "per_customer", path, 0);
    b->from = int_field(r, -1, "from", path, -1);
    b->to = int_field(r, -1, "to", path, -1);
    b->valid_days = int_field(r, -1, "valid_days", path, 0);
    return !r->failed;
}

static bool read_certificate(reader *r, void *dst, const char *id, const char *path)
{
    kr_certificate *c = dst;
    c->id = strdup(id);
    c->face_value = int_field(r, -1, "face_value", path, 0);
    c->valid_days = int_field(r, -1, "valid_days", path, -1);
    c->partial = bool_field(r, -1, "partial", true);
    c->sku = set_field(r, -1, "sku", path, &c->n_sku);
    return !r->failed;
}

static bool read_promo(reader *r, void *dst, const char *path)
{
    kr_promo_info *p = dst;
    p->id = dup_field(r, -1, "id", path, true);
    p->batches = strings_field(r, -1, "batches", path, &p->n_batches);
    return !r->failed;
}

static bool read_early_access(reader *r, void *dst, const char *path)
{
    kr_early_access *a = dst;
    a->id = dup_field(r, -1, "id", path, true);
    a->name = dup_field(r, -1, "name", path, true);
    a->message = dup_field(r, -1, "message", path, false);
    a->from = int_field(r, -1, "from", path, -1);
    a->until = int_field(r, -1, "until", path, 0);
    a->segments = strings_field(r, -1, "segments", path, &a->n_segments);
    a->tiers = strings_field(r, -1, "tiers", path, &a->n_tiers);
    read_selector(r, &a->lines, path);
    return !r->failed;
}

static bool read_chain_step(reader *r, void *dst, const char *path)
{
    kr_chain_step *st = dst;
    st->id = dup_field(r, -1, "id", path, true);
    st->after_days = int_field(r, -1, "after_days", path, 0);
    char *unless = dup_field(r, -1, "unless", path, false);
    st->unless_purchase = unless && strcmp(unless, "purchase") == 0;
    free(unless);
    st->points = int_field(r, -1, "points", path, 0);
    st->points_days = int_field(r, -1, "points_days", path, -1);
    st->batch = dup_field(r, -1, "batch", path, false);
    st->channels = strings_field(r, -1, "channels", path, &st->n_channels);
    st->message = dup_field(r, -1, "message", path, false);
    return !r->failed;
}

static bool read_chain(reader *r, void *dst, const char *path)
{
    kr_chain *ch = dst;
    ch->id = dup_field(r, -1, "id", path, true);
    char *start = dup_field(r, -1, "start", path, true);
    if (start && strcmp(start, "segment") == 0)
        ch->start_segment = dup_field(r, -1, "segment", path, true);
    else if (start && strcmp(start, "event") == 0)
        ch->start_event = dup_field(r, -1, "event", path, true);
    else if (start && strcmp(start, "registration") != 0)
        fail(r, "%s.start: unknown start `%s`", path, start);
    free(start);
    ch->segments = strings_field(r, -1, "segments", path, &ch->n_segments);
    ch->tiers = strings_field(r, -1, "tiers", path, &ch->n_tiers);
    void *steps;
    each(r, -1, "steps", path, &ch->n_steps, &steps, sizeof(kr_chain_step), read_chain_step);
    ch->steps = steps;
    return !r->failed;
}

static int cmp_batch(const void *a, const void *b)
{
    return strcmp(((const kr_batch *)a)->id, ((const kr_batch *)b)->id);
}

static int cmp_cert(const void *a, const void *b)
{
    return strcmp(((const kr_certificate *)a)->id, ((const kr_certificate *)b)->id);
}

bool kr_policy_read(lua_State *L, int idx, kr_policy *out, char *err, size_t errsz)
{
    memset(out, 0, sizeof *out);
    reader r = {.L = L, .err = err, .errsz = errsz};
    int top = lua_gettop(L);
    idx = lua_absindex(L, idx);
    if (lua_type(L, idx) != LUA_TTABLE) {
        snprintf(err, errsz, "the program did not return a table");
        return false;
    }
    out->id = dup_field(&r, idx, "id", "P", true);
    out->time_zone = dup_field(&r, idx, "time_zone", "P", true);
    out->version = int_field(&r, idx, "version", "P", 0);
    out->minor_unit = (int)int_field(&r, idx, "minor_unit", "P", 2);
    if (field(L, idx, "redemption") == LUA_TTABLE)
        out->point_value = int_field(&r, -1, "point_value", "P.redemption", 0);
    lua_pop(L, 1);
    if (field(L, idx, "expiry") == LUA_TTABLE) {
        if (field(L, -1, "lifetimes") == LUA_TTABLE) {
            for (int s = 0; s < KR_SOURCE_COUNT; s++) {
                if (field(L, -1, source_names[s]) == LUA_TTABLE) {
                    char p[64];
                    snprintf(p, sizeof p, "P.expiry.lifetimes.%s", source_names[s]);
                    out->lifetimes[s].set = true;
                    out->lifetimes[s].days = int_field(&r, -1, "days", p, -1);
                    out->lifetimes[s].hold_days = int_field(&r, -1, "hold_days", p, 0);
                }
                lua_pop(L, 1);
            }
        }
        lua_pop(L, 1);
        void *w, *b;
        each(&r, -1, "warnings", "P.expiry", &out->n_warnings, &w, sizeof(kr_warning),
             read_warning);
        out->warnings = w;
        each(&r, -1, "burns", "P.expiry", &out->n_burns, &b, sizeof(kr_burn), read_burn);
        out->burns = b;
    }
    lua_pop(L, 1);
    void *segs, *ladders, *triggers, *batches, *certs;
    each(&r, idx, "segments", "P", &out->n_segments, &segs, sizeof(kr_segment), read_segment);
    out->segments = segs;
    each(&r, idx, "ladders", "P", &out->n_ladders, &ladders, sizeof(kr_ladder), read_ladder);
    out->ladders = ladders;
    each(&r, idx, "triggers", "P", &out->n_triggers, &triggers, sizeof(kr_trigger),
         read_trigger);
    out->triggers = triggers;
    void *promos;
    each(&r, idx, "promotions", "P", &out->n_promotions, &promos, sizeof(kr_promo_info),
         read_promo);
    out->promotions = promos;
    void *early;
    each(&r, idx, "early_access", "P", &out->n_early_access, &early, sizeof(kr_early_access),
         read_early_access);
    out->early_access = early;
    void *chains;
    each(&r, idx, "chains", "P", &out->n_chains, &chains, sizeof(kr_chain), read_chain);
    out->chains = chains;
    each_map(&r, idx, "batches", &out->n_batches, &batches, sizeof(kr_batch), read_batch);
    out->batches = batches;
    each_map(&r, idx, "certificates", &out->n_certificates, &certs, sizeof(kr_certificate),
             read_certificate);
    out->certificates = certs;
    if (out->batches)
        qsort(out->batches, out->n_batches, sizeof *out->batches, cmp_batch);
    if (out->certificates)
        qsort(out->certificates, out->n_certificates, sizeof *out->certificates, cmp_cert);
    lua_settop(L, top);
    if (r.failed) {
        kr_policy_free(out);
        return false;
    }
    return true;
}

void kr_policy_free(kr_policy *p)
{
    free(p->id);
    free(p->time_zone);
    for (size_t i = 0; i < p->n_segments; i++) {
        kr_segment *s = &p->segments[i];
        free(s->id);
        free_strings(s->join_sku, s->n_join_sku);
        for (size_t k = 0; k < s->n_transitions; k++)
            free(s->transitions[k].to);
        free(s->transitions);
    }
    free(p->segments);
    for (size_t i = 0; i < p->n_ladders; i++) {
        kr_ladder *l = &p->ladders[i];
        free(l->id);
        free_strings(l->segments, l->n_segments);
        for (size_t k = 0; k < l->n_tiers; k++) {
            free(l->tiers[k].id);
            free(l->tiers[k].name);
        }
        free(l->tiers);
        for (size_t k = 0; k < l->n_exclude; k++)
            free_selector(&l->exclude[k]);
        free(l->exclude);
        free(l->progress_message);
        free(l->upgrade_message);
    }
    free(p->ladders);
    for (size_t i = 0; i < p->n_triggers; i++) {
        kr_trigger *t = &p->triggers[i];
        free(t->id);
        free_strings(t->segments, t->n_segments);
        free_strings(t->tiers, t->n_tiers);
        free(t->batch);
        free_strings(t->channels, t->n_channels);
        free(t->message);
        free(t->ladder);
        free(t->event);
        free_strings(t->remind_channels, t->n_remind_channels);
        free(t->remind_message);
    }
    free(p->triggers);
    for (size_t i = 0; i < p->n_warnings; i++) {
        free_strings(p->warnings[i].channels, p->warnings[i].n_channels);
        free(p->warnings[i].message);
    }
    free(p->warnings);
    free(p->burns);
    for (size_t i = 0; i < p->n_batches; i++) {
        free(p->batches[i].id);
        free(p->batches[i].code);
        free(p->batches[i].prefix);
    }
    free(p->batches);
    for (size_t i = 0; i < p->n_certificates; i++) {
        free(p->certificates[i].id);
        free_strings(p->certificates[i].sku, p->certificates[i].n_sku);
    }
    free(p->certificates);
    for (size_t i = 0; i < p->n_promotions; i++) {
        free(p->promotions[i].id);
        free_strings(p->promotions[i].batches, p->promotions[i].n_batches);
    }
    free(p->promotions);
    for (size_t i = 0; i < p->n_early_access; i++) {
        kr_early_access *a = &p->early_access[i];
        free(a->id);
        free(a->name);
        free(a->message);
        free_strings(a->segments, a->n_segments);
        free_strings(a->tiers, a->n_tiers);
        free_selector(&a->lines);
    }
    free(p->early_access);
    for (size_t i = 0; i < p->n_chains; i++) {
        kr_chain *ch = &p->chains[i];
        free(ch->id);
        free(ch->start_segment);
        free(ch->start_event);
        free_strings(ch->segments, ch->n_segments);
        free_strings(ch->tiers, ch->n_tiers);
        for (size_t k = 0; k < ch->n_steps; k++) {
            free(ch->steps[k].id);
            free(ch->steps[k].batch);
            free_strings(ch->steps[k].channels, ch->steps[k].n_channels);
            free(ch->steps[k].message);
        }
        free(ch->steps);
    }
    free(p->chains);
    memset(p, 0, sizeof *p);
}

const kr_ladder *kr_policy_ladder(const kr_policy *p, const char *id)
{
    for (size_t i = 0; i < p->n_ladders; i++)
        if (strcmp(p->ladders[i].id, id) == 0)
            return &p->ladders[i];
    return NULL;
}

const kr_batch *kr_policy_batch(const kr_policy *p, const char *id)
{
    for (size_t i = 0; i < p->n_batches; i++)
        if (strcmp(p->batches[i].id, id) == 0)
            return &p->batches[i];
    return NULL;
}
