// SPDX-License-Identifier: MIT
// test-ledger-model: 20,000 random operations against the ledger and a simple in-memory model.
#include "kr-ledger.h"
#include "ledger/ledger-tap.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define T0           1767225600
#define DAY          86400
#define N_OPS        20000
#define MAX_CUST     400
#define MAX_LOTS     20000
#define MAX_SPENDS   8000
#define MAX_ACCRUALS 8000
#define NEVER        INT64_MAX

// --- deterministic PRNG (splitmix64) --------------------------------------------------------

static uint64_t rng_state;

static uint64_t rng(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// Uniform in [lo, hi].
static int64_t rnd(int64_t lo, int64_t hi)
{
    return lo + (int64_t)(rng() % (uint64_t)(hi - lo + 1));
}

// --- the model ------------------------------------------------------------------------------

typedef struct mlot {
    int64_t id, cust, amount, rem, earned, from, exp;
    int accrual; // index into accruals, -1 if not an accrual lot
} mlot;

// Segments of the model, in the ledger's order (byte order of the ids).
#define N_SEGS 4
static const char *const seg_names[N_SEGS] = {"club", "homeowner", "partner", "retail"};

typedef struct mseg {
    int in;
    int64_t joined, until;
} mseg;

typedef struct mcust {
    int64_t id;
    int64_t merged_into; // 0 = live
    int64_t debt;
    mseg segs[N_SEGS];
} mcust;

typedef struct mspend {
    kr_ledger_take *takes;
    int64_t *left; // per take: not yet given back by this spend
    size_t n;
} mspend;

typedef struct maccrual {
    char op[32];
    int64_t cust; // customer at creation (follow merges for the survivor)
    int64_t credited, reversed;
} maccrual;

static mlot lots[MAX_LOTS];
static size_t n_lots;
static mcust custs[MAX_CUST];
static size_t n_custs;
static mspend spends[MAX_SPENDS];
static size_t n_spends;
static maccrual accruals[MAX_ACCRUALS];
static size_t n_accruals;
static int64_t now = T0;
static int mismatches; // operation-level disagreements (each also a failed TAP line)
static long counts[16];

static mcust *cust_by_id(int64_t id)
{
    for (size_t i = 0; i < n_custs; i++)
        if (custs[i].id == id)
            return &custs[i];
    return NULL;
}

static int64_t survivor(int64_t id)
{
    mcust *c = cust_by_id(id);
    while (c && c->merged_into)
        c = cust_by_id(c->merged_into);
    return c ? c->id : 0;
}

static mlot *lot_by_id(int64_t id)
{
    // Ledger ids are increasing, so the array is sorted by id.
    size_t lo = 0, hi = n_lots;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (lots[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n_lots && lots[lo].id == id ? &lots[lo] : NULL;
}

static int live(const mlot *l, int64_t t)
{
    return l->rem > 0 && (l->exp == NEVER || l->exp > t);
}

static int spend_cmp(const mlot *a, const mlot *b)
{
    if (a->exp != b->exp)
        return a->exp < b->exp ? -1 : 1;
    if (a->earned != b->earned)
        return a->earned < b->earned ? -1 : 1;
    return a->id < b->id ? -1 : a->id > b->id;
}

static int spend_cmp_q(const void *a, const void *b)
{
    return spend_cmp(*(const mlot *const *)a, *(const mlot *const *)b);
}

// Lots of customer c in spend order; `held` includes lots still on hold.
static size_t ordered(int64_t c, int held, mlot **out)
{
    size_t n = 0;
    for (size_t i = 0; i < n_lots; i++)
        if (lots[i].cust == c && live(&lots[i], now) && (held || lots[i].from <= now))
            out[n++] = &lots[i];
    qsort(out, n, sizeof *out, spend_cmp_q);
    return n;
}

static void model_new_lot(int64_t id, int64_t cust, int64_t amount, int64_t earned, int64_t from,
                          int64_t exp, int accrual)
{
    mcust *c = cust_by_id(cust);
    if (!c || n_lots >= MAX_LOTS) {
        mismatches++;
        tap_ok(0, "model: lot %lld of unknown customer %lld, or too many lots", (long long)id,
               (long long)cust);
        return;
    }
    int64_t pay = c->debt < amount ? c->debt : amount;
    c->debt -= pay;
    lots[n_lots++] = (mlot){id, cust, amount, amount - pay, earned, from, exp, accrual};
}

static mlot *scratch[MAX_LOTS];

// --- operations -----------------------------------------------------------------------------

static kr_ledger *db;
static int op_no;

static void fail_op(const char *what, kr_ledger_status st)
{
    mismatches++;
    tap_ok(0, "op %d %s: %s (%s)", op_no, what, kr_ledger_status_name(st), kr_ledger_errmsg(db));
}

static int64_t pick_live_customer(void)
{
    for (int tries = 0; tries < 50; tries++) {
        mcust *c = &custs[rnd(0, (int64_t)n_custs - 1)];
        if (!c->merged_into)
            return c->id;
    }
    for (size_t i = 0; i < n_custs; i++)
        if (!custs[i].merged_into)
            return custs[i].id;
    return 0;
}

static void op_create(void)
{
    if (n_custs >= MAX_CUST)
        return;
    char phone[32];
    snprintf(phone, sizeof phone, "+7900%07zu", n_custs);
    static const char *const retail[] = {"retail"};
    int in_retail = rng() % 2 == 0;
    kr_ledger_customer_in in = {.name = "M",
                                .registered_at = now,
                                .segments = in_retail ? retail : NULL,
                                .n_segments = in_retail ? 1 : 0,
                                .phone = phone};
    int64_t id;
    kr_ledger_status st = kr_ledger_customer_create(db, &in, &id);
    if (st != KR_LEDGER_OK) {
        fail_op("create", st);
        return;
    }
    custs[n_custs] = (mcust){.id = id};
    if (in_retail)
        custs[n_custs].segs[3] = (mseg){1, now, NEVER};
    n_custs++;
    counts[0]++;
}

static void op_earn(void)
{
    if (n_lots >= MAX_LOTS - 2 || n_accruals >= MAX_ACCRUALS)
        return;
    int64_t c = pick_live_customer();
    int64_t amount = rnd(1, 500);
    // Late receipts from offline tills: earned up to two days ago, so earned_at order is not
    // lot id order. Expiries fall on day boundaries, so lots often share one.
    int64_t earned = rng() % 4 == 0 ? now - rnd(1, 2 * DAY) : now;
    int64_t from = rng() % 3 == 0 ? earned + rnd(1, 14 * DAY) : earned;
    int64_t exp = rng() % 5 == 0 ? NEVER : (from + rnd(1, 120 * DAY)) / DAY * DAY + DAY;
    maccrual *a = &accruals[n_accruals];
    snprintf(a->op, sizeof a->op, "acc-%d", op_no);
    kr_ledger_source src = (kr_ledger_source)rnd(0, 6);
    kr_ledger_lot_in in = {c, src, amount, earned, from, exp, a->op};
    int64_t id;
    kr_ledger_status st = kr_ledger_lot_add(db, &in, &id);
    if (st != KR_LEDGER_OK) {
        fail_op("earn", st);
        return;
    }
    a->cust = c;
    a->credited = amount;
    a->reversed = 0;
    model_new_lot(id, c, amount, earned, from, exp, (int)n_accruals);
    n_accruals++;
    counts[1]++;
}

static void op_spend(void)
{
    int64_t c = pick_live_customer();
    size_t n = ordered(c, 0, scratch);
    int64_t avail = 0;
    for (size_t i = 0; i < n; i++)
        avail += scratch[i]->rem;
    int64_t want = rnd(1, avail + 50);
    char op[32];
    snprintf(op, sizeof op, "spend-%d", op_no);
    kr_ledger_take *t = NULL;
    size_t nt = 0;
    kr_ledger_status st = kr_ledger_spend(db, c, want, now, op, &t, &nt);
    if (want > avail) {
        if (st != KR_LEDGER_INSUFFICIENT)
            fail_op("spend beyond balance", st);
        free(t);
        counts[3]++;
        return;
    }
    if (st != KR_LEDGER_OK) {
        fail_op("spend", st);
        return;
    }
    // Model: the same order, the same pieces.
    int64_t need = want;
    size_t k = 0;
    int same = 1;
    for (size_t i = 0; i < n && need > 0; i++, k++) {
        int64_t x = scratch[i]->rem < need ? scratch[i]->rem : need;
        scratch[i]->rem -= x;
        need -= x;
        same &= k < nt && t[k].lot_id == scratch[i]->id && t[k].amount == x;
    }
    same &= k == nt;
    if (!same) {
        mismatches++;
        tap_ok(0, "op %d spend %lld: takes differ from the model", op_no, (long long)want);
    }
    if (n_spends < MAX_SPENDS) {
        mspend *s = &spends[n_spends++];
        s->takes = t;
        s->n = nt;
        s->left = malloc((nt ? nt : 1) * sizeof *s->left);
        if (!s->left) {
            printf("Bail out! out of memory\n");
            exit(1);
        }
        for (size_t i = 0; i < nt; i++)
            s->left[i] = t[i].amount;
    } else {
        free(t);
    }
    counts[2]++;
}

static void op_return(void)
{
    if (n_spends == 0)
        return;
    mspend *s = &spends[rnd(0, (int64_t)n_spends - 1)];
    kr_ledger_take back[64];
    size_t nb = 0;
    for (size_t i = 0; i < s->n && nb < 64; i++) {
        if (s->left[i] == 0 || rng() % 3 == 0)
            continue;
        int64_t x = rng() % 2 ? s->left[i] : rnd(1, s->left[i]);
        back[nb++] = (kr_ledger_take){s->takes[i].lot_id, x};
    }
    if (nb == 0)
        return;
    kr_ledger_expired_policy pol = rng() % 2 ? KR_LEDGER_EXPIRED_DROP : KR_LEDGER_EXPIRED_NEW_LOT;
    int64_t life = rng() % 4 == 0 ? NEVER : rnd(DAY, 60 * DAY);
    char op[32];
    snprintf(op, sizeof op, "ret-%d", op_no);
    kr_ledger_return_result r;
    kr_ledger_status st = kr_ledger_return(db, back, nb, now, op, pol, life, &r);
    if (st != KR_LEDGER_OK) {
        fail_op("return", st);
        return;
    }
    int64_t restored = 0, renewed = 0, dropped = 0, owner = 0;
    for (size_t i = 0; i < nb; i++) {
        mlot *l = lot_by_id(back[i].lot_id);
        if (!l) {
            mismatches++;
            tap_ok(0, "op %d return: lot %lld is not in the model", op_no,
                   (long long)back[i].lot_id);
            return;
        }
        owner = l->cust;
        if (l->exp != NEVER && l->exp <= now) {
            if (pol == KR_LEDGER_EXPIRED_DROP)
                dropped += back[i].amount;
            else
                renewed += back[i].amount;
        } else {
            l->rem += back[i].amount;
            restored += back[i].amount;
        }
        for (size_t k = 0; k < s->n; k++)
            if (s->takes[k].lot_id == back[i].lot_id) {
                s->left[k] -= back[i].amount;
                break;
            }
    }
    if (r.restored != restored || r.renewed != renewed || r.dropped != dropped) {
        mismatches++;
        tap_ok(0, "op %d return: result differs from the model", op_no);
    }
    if (renewed > 0) {
        if (r.new_lot_id <= 0) {
            mismatches++;
            tap_ok(0, "op %d return: no new lot", op_no);
            return;
        }
        model_new_lot(r.new_lot_id, owner, renewed, now, now, life == NEVER ? NEVER : now + life,
                      -1);
    }
    counts[4]++;
}

static void op_reverse(void)
{
    if (n_accruals == 0)
        return;
    maccrual *a = &accruals[rnd(0, (int64_t)n_accruals - 1)];
    if (a->reversed >= a->credited)
        return;
    int64_t c = survivor(a->cust);
    int64_t x = rnd(1, a->credited - a->reversed);
    char op[32];
    snprintf(op, sizeof op, "rev-%d", op_no);
    kr_ledger_reverse_result r;
    kr_ledger_status st = kr_ledger_reverse_accrual(db, c, a->op, x, now, op, &r);
    if (st != KR_LEDGER_OK) {
        fail_op("reverse", st);
        return;
    }
    a->reversed += x;
    int64_t need = x, own = 0, other = 0;
    // Own lots (lot id order), then the other live lots in spend order, held ones too.
    for (size_t i = 0; i < n_lots && need > 0; i++) {
        mlot *l = &lots[i];
        if (l->cust == c && l->accrual >= 0 && &accruals[l->accrual] == a && live(l, now)) {
            int64_t take = l->rem < need ? l->rem : need;
            l->rem -= take;
            need -= take;
            own += take;
        }
    }
    if (need > 0) {
        size_t n = ordered(c, 1, scratch);
        for (size_t i = 0; i < n && need > 0; i++) {
            int64_t take = scratch[i]->rem < need ? scratch[i]->rem : need;
            scratch[i]->rem -= take;
            need -= take;
            other += take;
        }
    }
    mcust *mc = cust_by_id(c);
    if (!mc) {
        mismatches++;
        tap_ok(0, "op %d reverse: customer %lld is not in the model", op_no, (long long)c);
        return;
    }
    mc->debt += need;
    if (r.from_own_lots != own || r.from_other_lots != other || r.debt != need) {
        mismatches++;
        tap_ok(0, "op %d reverse: %lld/%lld/%lld, model %lld/%lld/%lld", op_no,
               (long long)r.from_own_lots, (long long)r.from_other_lots, (long long)r.debt,
               (long long)own, (long long)other, (long long)need);
    }
    counts[5]++;
}

static void op_expire(void)
{
    now += rnd(0, 2 * DAY);
    int64_t nl = 0, pts = 0, mnl = 0, mpts = 0;
    kr_ledger_status st = kr_ledger_expire(db, now, NULL, &nl, &pts);
    if (st != KR_LEDGER_OK) {
        fail_op("expire", st);
        return;
    }
    for (size_t i = 0; i < n_lots; i++)
        if (lots[i].rem > 0 && lots[i].exp != NEVER && lots[i].exp <= now) {
            mnl++;
            mpts += lots[i].rem;
            lots[i].rem = 0;
        }
    if (nl != mnl || pts != mpts) {
        mismatches++;
        tap_ok(0, "op %d expire: %lld lots/%lld points, model %lld/%lld", op_no, (long long)nl,
               (long long)pts, (long long)mnl, (long long)mpts);
    }
    counts[6]++;
}

static void op_merge(void)
{
    size_t live_n = 0;
    for (size_t i = 0; i < n_custs; i++)
        live_n += !custs[i].merged_into;
    if (live_n < 20)
        return;
    int64_t from = pick_live_customer(), into = pick_live_customer();
    if (from == into)
        return;
    char op[32];
    snprintf(op, sizeof op, "merge-%d", op_no);
    kr_ledger_status st = kr_ledger_merge(db, from, into, op, now);
    if (st != KR_LEDGER_OK) {
        fail_op("merge", st);
        return;
    }
    for (size_t i = 0; i < n_lots; i++)
        if (lots[i].cust == from)
            lots[i].cust = into;
    mcust *f = cust_by_id(from), *t = cust_by_id(into);
    if (!f || !t) {
        mismatches++;
        tap_ok(0, "op %d merge: customer %lld or %lld is not in the model", op_no, (long long)from,
               (long long)into);
        return;
    }
    t->debt += f->debt;
    f->debt = 0;
    f->merged_into = into;
    // Memberships move; one in both keeps the earliest joined_at and the latest until.
    for (int k = 0; k < N_SEGS; k++) {
        mseg *fs = &f->segs[k], *ts = &t->segs[k];
        if (!fs->in)
            continue;
        if (!ts->in) {
            *ts = *fs;
        } else {
            ts->joined = fs->joined < ts->joined ? fs->joined : ts->joined;
            ts->until = fs->until > ts->until ? fs->until : ts->until;
        }
        fs->in = 0;
    }
    counts[7]++;
}

// Join (sometimes backdated, with or without an end) or leave a random segment.
static void op_segment(void)
{
    int64_t id = pick_live_customer();
    mcust *c = cust_by_id(id);
    if (!c)
        return;
    int k = (int)rnd(0, N_SEGS - 1);
    mseg *m = &c->segs[k];
    kr_ledger_status st, want;
    if (rng() % 3 == 0) {
        want = m->in ? KR_LEDGER_OK : KR_LEDGER_NOT_FOUND;
        st = kr_ledger_segment_leave(db, id, seg_names[k], now);
        if (st != want)
            fail_op("segment leave", st);
        m->in = 0;
    } else {
        int64_t at = now - rnd(0, 30 * DAY);
        int64_t until = rng() % 3 == 0 ? NEVER : at + rnd(1, 90 * DAY);
        want = m->in && m->until >= until ? KR_LEDGER_EXISTS : KR_LEDGER_OK;
        st = kr_ledger_segment_join(db, id, seg_names[k], at, until);
        if (st != want)
            fail_op("segment join", st);
        if (!m->in)
            *m = (mseg){1, at, until};
        else if (until > m->until)
            m->until = until;
    }
    counts[9]++;
}

static void op_merged_refused(void)
{
    for (size_t i = 0; i < n_custs; i++) {
        if (!custs[i].merged_into)
            continue;
        kr_ledger_take *t = NULL;
        size_t n = 0;
        kr_ledger_status st = kr_ledger_spend(db, custs[i].id, 1, now, "x", &t, &n);
        if (st != KR_LEDGER_MERGED)
            fail_op("spend on a merged customer", st);
        counts[8]++;
        return;
    }
}

// --- comparison -----------------------------------------------------------------------------

static int compare_balances(void)
{
    int bad = 0;
    for (size_t i = 0; i < n_custs; i++) {
        mcust *c = &custs[i];
        if (c->merged_into)
            continue;
        int64_t sp = 0, pe = 0;
        for (size_t k = 0; k < n_lots; k++) {
            mlot *l = &lots[k];
            if (l->cust != c->id || !live(l, now))
                continue;
            if (l->from <= now)
                sp += l->rem;
            else
                pe += l->rem;
        }
        kr_ledger_balance b;
        kr_ledger_status st = kr_ledger_balance_get(db, c->id, now, &b);
        if (st != KR_LEDGER_OK || b.spendable != sp || b.pending != pe || b.debt != c->debt) {
            if (bad < 3)
                tap_diag("customer %lld: ledger %lld/%lld/%lld, model %lld/%lld/%lld",
                         (long long)c->id, (long long)b.spendable, (long long)b.pending,
                         (long long)b.debt, (long long)sp, (long long)pe, (long long)c->debt);
            bad++;
        }
        if (st == KR_LEDGER_OK)
            kr_ledger_balance_free(&b);
    }
    return bad;
}

static int compare_lots(void)
{
    int bad = 0;
    for (size_t i = 0; i < n_lots; i++) {
        kr_ledger_lot l;
        if (kr_ledger_lot_get(db, lots[i].id, &l) != KR_LEDGER_OK || l.remaining != lots[i].rem ||
            l.customer_id != lots[i].cust || l.expires_at != lots[i].exp)
            bad++;
    }
    return bad;
}

// Memberships of every customer, and the homeowners due 10 days after joining.
static int compare_segments(void)
{
    int bad = 0;
    int64_t due = 0;
    for (size_t i = 0; i < n_custs; i++) {
        mcust *c = &custs[i];
        kr_ledger_customer *cu = NULL;
        if (kr_ledger_customer_get(db, c->id, &cu) != KR_LEDGER_OK || !cu) {
            bad++;
            continue;
        }
        size_t k = 0;
        int same = 1;
        for (int s = 0; s < N_SEGS; s++) {
            if (!c->segs[s].in)
                continue;
            due += s == 1 && c->segs[s].joined <= now - 10 * DAY;
            same &= k < cu->n_segments && strcmp(cu->segments[k].segment, seg_names[s]) == 0 &&
                    cu->segments[k].joined_at == c->segs[s].joined &&
                    cu->segments[k].until == c->segs[s].until;
            k++;
        }
        same &= k == cu->n_segments;
        if (!same && bad++ < 3)
            tap_diag("customer %lld: %zu memberships differ from the model", (long long)c->id,
                     cu->n_segments);
        kr_ledger_customer_free(cu);
    }
    int64_t page[37], after = 0, got = 0;
    size_t n = 0;
    kr_ledger_status st;
    do {
        st = kr_ledger_segment_members_due(db, "homeowner", now - 10 * DAY, after, 37, page, &n);
        got += (int64_t)n;
        if (n)
            after = page[n - 1];
    } while (st == KR_LEDGER_OK && n == 37);
    if (st != KR_LEDGER_OK || got != due) {
        tap_diag("members_due: %lld, model %lld", (long long)got, (long long)due);
        bad++;
    }
    return bad;
}

static void on_violation(void *ud, const char *msg)
{
    int *n = ud;
    if ((*n)++ < 5)
        tap_diag("violation: %s", msg);
}

int main(void)
{
    const char *seed = getenv("KR_LEDGER_SEED");
    rng_state = seed ? strtoull(seed, NULL, 10) : 20260101;
    char path[] = "/tmp/kr-ledger-model-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    unlink(path);
    char err[256];
    if (kr_ledger_open(path, &db, err, sizeof err) != KR_LEDGER_OK) {
        printf("Bail out! %s\n", err);
        return 1;
    }
    tap_diag("seed %llu, file %s", (unsigned long long)rng_state, path);
    for (int i = 0; i < 10; i++)
        op_create();

    int balance_failures = 0, check_failures = 0, lot_failures = 0, segment_failures = 0,
        rounds = 0;
    for (op_no = 1; op_no <= N_OPS; op_no++) {
        if (op_no % 100 == 1 && kr_ledger_begin(db) != KR_LEDGER_OK)
            fail_op("begin", KR_LEDGER_DB_ERROR);
        now += rnd(0, 3600);
        int64_t r = rnd(0, 99);
        if (r < 4)
            op_create();
        else if (r < 36)
            op_earn();
        else if (r < 62)
            op_spend();
        else if (r < 76)
            op_return();
        else if (r < 84)
            op_reverse();
        else if (r < 93)
            op_expire();
        else if (r < 96)
            op_merge();
        else if (r < 97)
            op_merged_refused();
        else if (r < 99)
            op_segment();
        if (op_no % 100 == 0) {
            if (kr_ledger_commit(db) != KR_LEDGER_OK)
                fail_op("commit", KR_LEDGER_DB_ERROR);
            rounds++;
            int bad = compare_balances();
            if (bad) {
                balance_failures++;
                tap_diag("after op %d: %d balances differ from the model", op_no, bad);
            }
            int64_t v = -1;
            int shown = 0;
            if (kr_ledger_check(db, on_violation, &shown, &v) != KR_LEDGER_OK || v != 0) {
                check_failures++;
                tap_diag("after op %d: check reports %lld violations", op_no, (long long)v);
            }
            if (op_no % 1000 == 0) {
                int lb = compare_lots();
                if (lb) {
                    lot_failures++;
                    tap_diag("after op %d: %d lots differ from the model", op_no, lb);
                }
                int sb = compare_segments();
                if (sb) {
                    segment_failures++;
                    tap_diag("after op %d: %d memberships differ from the model", op_no, sb);
                }
            }
            if (balance_failures + check_failures > 5)
                break;
        }
    }
    tap_diag("ops: create %ld earn %ld spend %ld insufficient %ld return %ld reverse %ld "
             "expire %ld merge %ld merged-refused %ld segment %ld; %zu lots, %zu customers",
             counts[0], counts[1], counts[2], counts[3], counts[4], counts[5], counts[6], counts[7],
             counts[8], counts[9], n_lots, n_custs);
    tap_ok(rounds == N_OPS / 100, "%d rounds of 100 operations", rounds);
    tap_ok(mismatches == 0, "every operation agreed with the model (%d disagreements)", mismatches);
    tap_ok(balance_failures == 0, "balances matched the model after every 100 operations");
    tap_ok(check_failures == 0, "kr_ledger_check found 0 violations after every 100 operations");
    tap_ok(lot_failures == 0, "every lot matched the model after every 1000 operations");
    tap_ok(segment_failures == 0,
           "memberships and members_due matched the model after every 1000 operations");
    tap_ok(counts[2] > 1000 && counts[4] > 500 && counts[5] > 300 && counts[7] > 20 &&
               counts[3] > 50 && counts[9] > 100,
           "the mix exercised every operation");

    kr_ledger_close(db);
    for (size_t i = 0; i < n_spends; i++) {
        free(spends[i].takes);
        free(spends[i].left);
    }
    char side[300];
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
    return tap_done();
}
