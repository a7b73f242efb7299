// SPDX-License-Identifier: MIT
// kopilka-report: `kopilka report NAME --from DATE --to DATE ...`, the marketers' reports
// (kr-reports.h) as JSON or CSV on standard output. See docs/cli.md.
#include "kopilka.h"
#include "kr-reports.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

// The option a field of the report query comes from.
static const char *flag_for(const char *field)
{
    if (!field)
        return NULL;
    if (strcmp(field, "name") == 0)
        return "NAME";
    static const char *const flags[] = {"from",    "to",      "by",   "store",
                                        "region", "channel", "segment", "limit"};
    for (size_t i = 0; i < sizeof flags / sizeof *flags; i++)
        if (strcmp(field, flags[i]) == 0)
            return flags[i];
    return NULL;
}

// An invalid query is a usage error: "kopilka report: --from: 2026-13-01: why" on stderr.
static int print_invalid(const kr_buf *out)
{
    json_error_t jerr;
    json_t *root = out->data ? json_loads(out->data, 0, &jerr) : NULL;
    json_t *e = json_object_get(root, "error");
    const char *field = json_string_value(json_object_get(e, "field"));
    const char *msg = json_string_value(json_object_get(e, "message"));
    const char *flag = flag_for(field);
    if (flag && strcmp(flag, "NAME") == 0)
        fprintf(stderr, "kopilka report: %s\n", msg ? msg : "invalid");
    else if (flag)
        fprintf(stderr, "kopilka report: --%s: %s\n", flag, msg ? msg : "invalid");
    else
        fprintf(stderr, "kopilka report: %s\n", msg ? msg : "invalid");
    json_decref(root);
    return KP_EXIT_USAGE;
}

static void list_reports(FILE *f)
{
    fputs("reports (kopilka report NAME --from DATE --to DATE):\n", f);
    for (size_t i = 0; kr_report_at(i); i++) {
        const kr_report_info *r = kr_report_at(i);
        fprintf(f, "  %-11s %s\n  %-11s --by %s%s\n", r->name, r->description, "", r->bys,
                r->sale_filters ? "; --store, --region, --channel, --segment" : "");
    }
}

int kp_cmd_report(const kp_options *o)
{
    const char *name = o->args[0];
    if (strcmp(name, "list") == 0) {
        list_reports(stdout);
        return KP_EXIT_OK;
    }
    if (!o->from || !o->to) {
        fprintf(stderr,
                "kopilka report: %s is required: the period is --from FIRST-DAY --to "
                "DAY-AFTER-THE-LAST (YYYY-MM-DD, in the program's time zone)\n",
                !o->from ? "--from" : "--to");
        return KP_EXIT_USAGE;
    }
    kr_report_query q = {.from = o->from,
                         .to = o->to,
                         .by = o->by,
                         .store = o->store,
                         .region = o->region,
                         .channel = o->channel,
                         .segment = o->segment,
                         .limit = (size_t)o->limit,
                         .format = KR_REPORT_JSON};
    if (o->format && strcmp(o->format, "csv") == 0) {
        q.format = KR_REPORT_CSV;
    } else if (o->format && strcmp(o->format, "json") != 0) {
        fprintf(stderr, "kopilka report: --format: json or csv, not %s\n", o->format);
        return KP_EXIT_USAGE;
    }
    kp_program prog;
    kr_ops *ops = NULL;
    int status = kp_open_ledger(o, &prog, &ops);
    if (status != KP_EXIT_OK) {
        kp_program_free(&prog);
        return status;
    }
    kr_buf out;
    kr_buf_init(&out, 0);
    kr_ops_status st = kr_ops_report(ops, name, &q, &out);
    if (st == KR_OPS_INVALID) {
        status = print_invalid(&out);
    } else if (st == KR_OPS_OK && q.format == KR_REPORT_CSV && !out.failed) {
        fwrite(out.data ? out.data : "", 1, out.len, stdout);
        if (fflush(stdout) != 0) {
            fprintf(stderr, "kopilka: standard output: %s\n", strerror(errno));
            status = KP_EXIT_IO;
        }
    } else {
        status = kp_print_answer(st, &out);
    }
    kr_buf_free(&out);
    kr_ops_close(ops);
    kp_program_free(&prog);
    return status;
}
