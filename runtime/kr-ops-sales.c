// SPDX-License-Identifier: MIT
// kr-ops-sales: the sale facts of a confirmed receipt, for reports (kr-ops-reports.c).
#include "kr-ledger-sales.h"
#include "kr-ops-private.h"

#include <stdlib.h>

// The promotions that did not apply as [[promotion, reason, detail], ...] into out (detail: the
// failing condition's text — its src may be shared by several conditions of one element — the
// winner or stopper, else null). Nothing when none was rejected.
static void put_rejected(const kr_ops *o, const kr_engine_result *res, kr_buf *out)
{
    for (size_t i = 0; i < res->n_rejected; i++) {
        const kr_engine_rejected *x = &res->rejected[i];
        kr_buf_puts(out, i ? ",[" : "[[");
        kr_buf_json_string(out, kr_engine_promotion_id(o->engine, x->promotion));
        kr_buf_puts(out, ",");
        kr_buf_json_string(out, kr_engine_reason_name(x->reason));
        kr_buf_puts(out, ",");
        if (x->reason == KR_ENGINE_REASON_CONDITION && x->condition)
            kr_buf_json_string(out, x->condition);
        else if (x->reason == KR_ENGINE_REASON_GROUP || x->reason == KR_ENGINE_REASON_STOPPED)
            kr_buf_json_string(out, kr_engine_promotion_id(o->engine, x->other));
        else
            kr_buf_puts(out, "null");
        kr_buf_puts(out, "]");
    }
    if (res->n_rejected)
        kr_buf_puts(out, "]");
}

kr_ledger_status kr__ops_sale_record(kr_ops *o, const kr_receipt *r, const kr_engine_result *res,
                                     int64_t customer, int64_t at)
{
    size_t n_lines = res->n_lines < r->rc.n_lines ? res->n_lines : r->rc.n_lines;
    kr_ledger_sale_line *lines = calloc(n_lines ? n_lines : 1, sizeof *lines);
    kr_ledger_sale_promotion *promos = calloc(res->n_applied ? res->n_applied : 1, sizeof *promos);
    if (!lines || !promos) {
        free(lines);
        free(promos);
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
    kr_buf rejected; // owned
    kr_buf_init(&rejected, 0);
    put_rejected(o, res, &rejected);
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
                           .n_promotions = res->n_applied,
                           .rejected = rejected.len ? rejected.data : NULL};
    kr_ledger_status ls =
        rejected.failed ? KR_LEDGER_NOMEM : kr_ledger_sale_put(o->db, &sale);
    kr_buf_free(&rejected);
    free(lines);
    free(promos);
    return ls;
}
