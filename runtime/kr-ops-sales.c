// SPDX-License-Identifier: MIT
// kr-ops-sales: the sale facts of a confirmed receipt, for reports (kr-ops-reports.c).
#include "kr-ledger-sales.h"
#include "kr-ops-private.h"

#include <stdlib.h>

// The reason names of the answer's "rejected" (kr-engine-explain.c writes the same words).
static const char *reason_name(kr_engine_reason r)
{
    switch (r) {
    case KR_ENGINE_REASON_DISABLED: return "disabled";
    case KR_ENGINE_REASON_CONDITION: return "condition";
    case KR_ENGINE_REASON_GROUP: return "not in group winner";
    case KR_ENGINE_REASON_STOPPED: return "stopped";
    case KR_ENGINE_REASON_LIMIT: return "limit reached";
    case KR_ENGINE_REASON_NOTHING: return "nothing to discount";
    }
    return "unknown";
}

// Why a promotion did not apply, as reports show it: "condition: <the condition's text>",
// "not in group winner: <winner>", "stopped: <stopper>", or the reason alone. Into `text`
// (NUL-terminated); false when out of memory.
static bool reason_text(const kr_ops *o, const kr_engine_rejected *x, kr_buf *text)
{
    kr_buf_puts(text, reason_name(x->reason));
    if (x->reason == KR_ENGINE_REASON_CONDITION && x->condition)
        kr_buf_printf(text, ": %s", x->condition);
    else if (x->reason == KR_ENGINE_REASON_GROUP || x->reason == KR_ENGINE_REASON_STOPPED)
        kr_buf_printf(text, ": %s", kr_engine_promotion_id(o->engine, x->other));
    return !text->failed;
}

kr_ledger_status kr__ops_sale_record(kr_ops *o, const kr_receipt *r, const kr_engine_result *res,
                                     int64_t customer, int64_t at)
{
    size_t n_lines = res->n_lines < r->rc.n_lines ? res->n_lines : r->rc.n_lines;
    kr_ledger_sale_line *lines = calloc(n_lines ? n_lines : 1, sizeof *lines);
    size_t n_promos = res->n_applied + res->n_rejected;
    kr_ledger_sale_promotion *promos = calloc(n_promos ? n_promos : 1, sizeof *promos);
    kr_buf *why = calloc(res->n_rejected ? res->n_rejected : 1, sizeof *why); // owned texts
    if (!lines || !promos || !why) {
        free(lines);
        free(promos);
        free(why);
        return KR_LEDGER_NOMEM;
    }
    for (size_t i = 0; i < n_lines; i++) {
        lines[i] = (kr_ledger_sale_line){.id = r->lines[i].id,
                                         .sku = r->lines[i].sku,
                                         .qty = r->lines[i].qty,
                                         .original = res->lines[i].original,
                                         .final = res->lines[i].final};
    }
    for (size_t i = 0; i < res->n_applied; i++)
        promos[i] = (kr_ledger_sale_promotion){
            .promotion = kr_engine_promotion_id(o->engine, res->applied[i].promotion),
            .discount = res->applied[i].discount,
            .points = res->applied[i].points};
    bool ok = true;
    for (size_t i = 0; i < res->n_rejected; i++) {
        const kr_engine_rejected *x = &res->rejected[i];
        kr_buf_init(&why[i], 64);
        ok = ok && reason_text(o, x, &why[i]);
        promos[res->n_applied + i] = (kr_ledger_sale_promotion){
            .promotion = kr_engine_promotion_id(o->engine, x->promotion),
            .reason = why[i].data ? why[i].data : ""};
    }
    kr_ledger_sale sale = {.receipt_id = r->rc.id,
                           .at = at,
                           .customer_id = customer,
                           .store = r->rc.store,
                           .region = r->rc.region,
                           .channel = r->rc.channel,
                           .original = res->total_original,
                           .final = res->total_final,
                           .points_spent = res->points_spent,
                           .points_earned = res->points_earned,
                           .lines = lines,
                           .n_lines = n_lines,
                           .promotions = promos,
                           .n_promotions = n_promos};
    kr_ledger_status ls = ok ? kr_ledger_sale_put(o->db, &sale) : KR_LEDGER_NOMEM;
    for (size_t i = 0; i < res->n_rejected; i++)
        kr_buf_free(&why[i]);
    free(why);
    free(lines);
    free(promos);
    return ls;
}
