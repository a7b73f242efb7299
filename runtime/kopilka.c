// SPDX-License-Identifier: MIT
// kopilka: the runtime's command line — QA's simulator and scenario runner, and the ledger
// operations for admins and scripts. Every ledger subcommand is a thin layer over kr-ops.h:
// JSON in, the operation's JSON answer out on one line. See docs/cli.md.
//
//   kopilka simulate PROGRAM.xml RECEIPTS.jsonl [--state STATE.json] [--at TIME] [--confirm]
//   kopilka test [-v] SCENARIO.scenario.json|DIR...
//   kopilka calculate|confirm [--db LEDGER] [--program PROGRAM.xml] RECEIPT.json|-
//   kopilka return [--db LEDGER] [--program ...] RETURN.json|-
//   kopilka cancel [--db ...] [--at TIME] RECEIPT_ID
//   kopilka balance [--db ...] [--at TIME] (--card N|--phone P|--email E|--customer ID)
//   kopilka history [--db ...] (--card ...|...) [--after N]
//   kopilka jobs run [--db ...] [--at TIME]
//   kopilka check [--db ...]
//   kopilka import [--db ...] [--at TIME] CUSTOMERS.csv
//   kopilka customer create [--db ...] [--at TIME] CUSTOMER.json|-
//   kopilka cards issue [--db ...] [--at TIME] --id OP --batch B --count N
//   kopilka merge [--db ...] [--at TIME] --from REF --into REF [--id OP]
//   kopilka customer get [--db ...] [--at TIME] (--card N|...)
//   kopilka card attach|block [--db ...] [--at TIME] NUMBER [(--phone P|...)]
//   kopilka outbox list [--db ...] [--after ID] [--limit N] [(--card N|...)]
//   kopilka outbox ack [--db ...] [--at TIME] ID...
//
// Exit status: 0 ok, 1 a scenario or check failed or the input was refused, 2 usage, 3 I/O
// (or the ledger is busy), 4 internal (out of memory, storage error).
//
// The wall clock is read in exactly one place: main, when --at is not given.
#include "kopilka.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef int (*command_fn)(const kp_options *o);

static bool parse_count(const char *text, long long *out);

typedef struct command {
    const char *name, *sub; // "jobs" "run"; sub NULL for one-word commands
    command_fn run;
    const char *opts;       // the options it takes, each between spaces: " db program at "
    int min_args, max_args; // positional arguments
    const char *usage;
} command;

// ---- the ledger subcommands -------------------------------------------------------------------

// Opens the ledger, runs `op` on it and prints its answer. The shared frame of every ledger
// subcommand; `op` returns the operation's status with its answer in `out`.
typedef kr_ops_status (*ledger_op)(const kp_options *o, kr_ops *ops, kr_buf *out, int *status);

static int with_ledger(const kp_options *o, ledger_op op)
{
    kp_program prog;
    kr_ops *ops = NULL;
    int status = kp_open_ledger(o, &prog, &ops);
    if (status != KP_EXIT_OK) {
        kp_program_free(&prog);
        return status;
    }
    kr_buf out;
    kr_buf_init(&out, 0);
    int pre = KP_EXIT_OK;
    kr_ops_status st = op(o, ops, &out, &pre);
    status = pre != KP_EXIT_OK ? pre : kp_print_answer(st, &out);
    kr_buf_free(&out);
    kr_ops_close(ops);
    kp_program_free(&prog);
    return status;
}

// Reads the one positional file argument into *text; sets *status on failure.
static bool read_arg(const kp_options *o, char **text, size_t *len, int *status)
{
    *status = kp_read_file(o->args[0], text, len);
    return *status == KP_EXIT_OK;
}

static kr_ops_status run_one(const kp_options *o, kr_ops *ops, const char *text, size_t len,
                             kr_buf *out)
{
    const char *c = o->command;
    return strcmp(c, "confirm") == 0   ? kr_ops_confirm(ops, text, len, out)
           : strcmp(c, "return") == 0  ? kr_ops_return(ops, text, len, out)
           : strcmp(c, "event") == 0   ? kr_ops_event(ops, text, len, out)
           : strcmp(c, "points") == 0  ? kr_ops_points_grant(ops, text, len, out)
           : strcmp(c, "customer") == 0 ? kr_ops_customer_update(ops, text, len, o->at, out)
                                       : kr_ops_calculate(ops, text, len, out);
}

// A file whose name ends in ".jsonl" holds one request per line: each is answered on a line
// of its own, in order; the first refused line stops the run (earlier lines stay done, each
// was its own transaction), its error naming the file and line. A summary goes to stderr.
static kr_ops_status op_receipt(const kp_options *o, kr_ops *ops, kr_buf *out, int *status)
{
    char *text;
    size_t len;
    if (!read_arg(o, &text, &len, status))
        return KR_OPS_FAILED;
    const char *name = strcmp(o->args[0], "-") == 0 ? "<stdin>" : o->args[0];
    size_t nl = strlen(name);
    if (nl < 6 || strcmp(name + nl - 6, ".jsonl") != 0) {
        kr_ops_set_source(ops, name, 0);
        kr_ops_status st = run_one(o, ops, text, len, out);
        free(text);
        return st;
    }
    kr_ops_status st = KR_OPS_OK;
    unsigned line = 0;
    size_t done = 0, replays = 0;
    for (char *p = text; *p && (st == KR_OPS_OK || st == KR_OPS_REPLAY);) {
        char *end = strchr(p, '\n');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        line++;
        bool blank = true;
        for (size_t k = 0; k < n; k++)
            blank &= p[k] == ' ' || p[k] == '\t' || p[k] == '\r';
        if (!blank) {
            kr_ops_set_source(ops, name, line);
            st = run_one(o, ops, p, n, out);
            if (st == KR_OPS_OK || st == KR_OPS_REPLAY) {
                fwrite(out->data, 1, out->len, stdout);
                fputc('\n', stdout);
                done++;
                replays += st == KR_OPS_REPLAY;
            }
        }
        p = end ? end + 1 : p + n;
    }
    fprintf(stderr, "kopilka %s: %s: %zu line%s done (%zu repeated)%s\n", o->command, name,
            done, done == 1 ? "" : "s", replays,
            st == KR_OPS_OK || st == KR_OPS_REPLAY ? "" : ", stopped at a refused line");
    free(text);
    if (st == KR_OPS_OK || st == KR_OPS_REPLAY)
        kr_buf_reset(out); // every answer is printed already
    return st;
}

static kr_ops_status op_codes(const kp_options *o, kr_ops *ops, kr_buf *out, int *status)
{
    (void)status;
    return kr_ops_codes_generate(ops, o->op_id, o->batch, (size_t)o->count, o->at, out);
}

static kr_ops_status op_certificate(const kp_options *o, kr_ops *ops, kr_buf *out, int *status)
{
    (void)status;
    return kr_ops_certificate_show(ops, o->args[0], o->at, out);
}

static kr_ops_status op_cancel(const kp_options *o, kr_ops *ops, kr_buf *out, int *status)
{
    (void)status;
    return kr_ops_cancel(ops, o->args[0], o->at, out);
}

// The customer reference of --card/--phone/--email/--customer as JSON (malloc'd), or NULL
// with a usage message.
static char *who_json(const kp_options *o)
{
    const char *kinds[] = {"card", "phone", "email", "id"};
    const char *values[] = {o->card, o->phone, o->email, o->customer};
    int found = -1;
    for (int i = 0; i < 4; i++) {
        if (!values[i])
            continue;
        if (found >= 0) {
            fprintf(stderr, "kopilka %s: name the customer once (--card, --phone, --email or "
                            "--customer)\n",
                    o->command);
            return NULL;
        }
        found = i;
    }
    if (found < 0) {
        fprintf(stderr, "kopilka %s: name the customer: --card N, --phone P, --email E or "
                        "--customer ID\n",
                o->command);
        return NULL;
    }
    json_t *ref = json_pack("{s:s}", kinds[found], values[found]);
    if (ref && o->source)
        json_object_set_new(ref, "source", json_string(o->source));
    char *text = ref ? json_dumps(ref, JSON_COMPACT) : NULL;
    json_decref(ref);
    return text;
}

static kr_ops_status op_balance(const kp_options *o, kr_ops *ops, kr_buf *out, int *status)
{
    char *who = who_json(o);
    if (!who) {
        *status = KP_EXIT_USAGE;
        return KR_OPS_INVALID;
    }
    kr_ops_status st = strcmp(o->command, "balance") == 0
                           ? kr_ops_balance(ops, who, o->at, out)
                           : kr_ops_history(ops, who, (int64_t)o->after, KP_HISTORY_LIMIT, out);
    free(who);
    return st;
}

static kr_ops_status op_jobs(const kp_options *o, kr_ops *ops, kr_buf *out, int *status)
{
    (void)status;
    return kr_ops_jobs_run(ops, o->at, out);
}

static kr_ops_status op_check(const kp_options *o, kr_ops *ops, kr_buf *out, int *status)
{
    (void)o;
    int64_t violations = 0;
    kr_ops_status st = kr_ops_check(ops, out, &violations);
    if (st == KR_OPS_OK && violations) {
        // The answer lists the problems; the run fails.
        fputs(out->data, stdout);
        fputc('\n', stdout);
        fprintf(stderr, "kopilka check: %lld violation%s\n", (long long)violations,
                violations == 1 ? "" : "s");
        *status = KP_EXIT_FAILED;
    }
    return st;
}

static kr_ops_status op_import(const kp_options *o, kr_ops *ops, kr_buf *out, int *status)
{
    char *text;
    size_t len;
    if (!read_arg(o, &text, &len, status))
        return KR_OPS_FAILED;
    const char *name = strcmp(o->args[0], "-") == 0 ? "<stdin>" : o->args[0];
    kr_ops_set_source(ops, name, 0);
    kr_ops_status st = kr_ops_import_csv(ops, text, len, name, o->at, out);
    free(text);
    return st;
}

static kr_ops_status op_customer_create(const kp_options *o, kr_ops *ops, kr_buf *out,
                                        int *status)
{
    char *text;
    size_t len;
    if (!read_arg(o, &text, &len, status))
        return KR_OPS_FAILED;
    kr_ops_set_source(ops, strcmp(o->args[0], "-") == 0 ? "<stdin>" : o->args[0], 0);
    kr_ops_status st = kr_ops_customer_create(ops, text, len, o->at, out);
    free(text);
    return st;
}

static kr_ops_status op_cards_issue(const kp_options *o, kr_ops *ops, kr_buf *out, int *status)
{
    if (!o->batch || o->count < 1 || o->count > 1000000 || !o->op_id) {
        fprintf(stderr, "kopilka cards issue: --id OP, --batch B and --count N (1..1000000) "
                        "are required\n");
        *status = KP_EXIT_USAGE;
        return KR_OPS_INVALID;
    }
    return kr_ops_cards_issue(ops, o->op_id, o->batch, (size_t)o->count, o->at, out);
}

// A merge side: KIND:VALUE (card, phone, email, id) or a reference JSON object; malloc'd.
static char *ref_arg(const char *option, const char *text)
{
    if (text[0] == '{')
        return strdup(text);
    const char *colon = strchr(text, ':');
    static const char *const kinds[] = {"card", "phone", "email", "id"};
    for (size_t i = 0; colon && i < 4; i++) {
        if (strlen(kinds[i]) == (size_t)(colon - text) &&
            strncmp(kinds[i], text, (size_t)(colon - text)) == 0) {
            json_t *ref = json_pack("{s:s}", kinds[i], colon + 1);
            char *s = ref ? json_dumps(ref, JSON_COMPACT) : NULL;
            json_decref(ref);
            return s;
        }
    }
    fprintf(stderr, "kopilka merge: %s %s: write card:N, phone:P, email:E or id:ID\n", option,
            text);
    return NULL;
}

static kr_ops_status op_merge(const kp_options *o, kr_ops *ops, kr_buf *out, int *status)
{
    if (!o->from || !o->into) {
        fprintf(stderr, "kopilka merge: --from REF and --into REF are required\n");
        *status = KP_EXIT_USAGE;
        return KR_OPS_INVALID;
    }
    char *from = ref_arg("--from", o->from);
    char *into = from ? ref_arg("--into", o->into) : NULL;
    if (!from || !into) {
        free(from);
        *status = KP_EXIT_USAGE;
        return KR_OPS_INVALID;
    }
    // The default operation id names both sides, so repeating the same merge is a replay.
    char op_id[120];
    if (o->op_id)
        snprintf(op_id, sizeof op_id, "%s", o->op_id);
    else
        snprintf(op_id, sizeof op_id, "merge:%.50s>%.50s", o->from, o->into);
    kr_ops_status st = kr_ops_customer_merge(ops, from, into, op_id, o->at, out);
    free(from);
    free(into);
    return st;
}

// The reference of --card/--phone/--email/--customer when one is given (malloc'd), NULL when
// none is; *bad when more than one is.
static char *who_json_optional(const kp_options *o, bool *bad)
{
    *bad = false;
    int given = (o->card != NULL) + (o->phone != NULL) + (o->email != NULL) +
                (o->customer != NULL);
    if (given == 0)
        return NULL;
    char *who = who_json(o);
    *bad = who == NULL;
    return who;
}

static kr_ops_status op_outbox_list(const kp_options *o, kr_ops *ops, kr_buf *out, int *status)
{
    bool bad = false;
    char *who = who_json_optional(o, &bad);
    if (bad) {
        *status = KP_EXIT_USAGE;
        return KR_OPS_INVALID;
    }
    json_t *req = json_pack("{s:I}", "after", (json_int_t)o->after);
    if (req && o->limit)
        json_object_set_new(req, "limit", json_integer((json_int_t)o->limit));
    if (req && who)
        json_object_set_new(req, "customer", json_loads(who, 0, NULL));
    char *text = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    free(who);
    if (!text) {
        *status = KP_EXIT_INTERNAL;
        return KR_OPS_FAILED;
    }
    kr_ops_status st = kr_ops_outbox_list(ops, text, strlen(text), out);
    free(text);
    return st;
}

static kr_ops_status op_outbox_ack(const kp_options *o, kr_ops *ops, kr_buf *out, int *status)
{
    json_t *ids = json_array();
    for (int i = 0; ids && i < o->nargs; i++) {
        long long id = 0;
        if (!parse_count(o->args[i], &id) || id < 1) {
            fprintf(stderr, "kopilka outbox ack: %s: an entry id (a whole number) is expected\n",
                    o->args[i]);
            json_decref(ids);
            *status = KP_EXIT_USAGE;
            return KR_OPS_INVALID;
        }
        json_array_append_new(ids, json_integer((json_int_t)id));
    }
    json_t *req = json_pack("{s:o}", "ids", ids);
    char *text = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    if (!text) {
        *status = KP_EXIT_INTERNAL;
        return KR_OPS_FAILED;
    }
    kr_ops_status st = kr_ops_outbox_ack(ops, text, strlen(text), o->at, out);
    free(text);
    return st;
}

static kr_ops_status op_card(const kp_options *o, kr_ops *ops, kr_buf *out, int *status)
{
    if (strcmp(o->sub, "block") == 0)
        return kr_ops_card_block(ops, o->args[0], o->at, out);
    char *who = who_json(o);
    if (!who) {
        *status = KP_EXIT_USAGE;
        return KR_OPS_INVALID;
    }
    kr_ops_status st = kr_ops_card_attach(ops, o->args[0], who, o->at, out);
    free(who);
    return st;
}

static kr_ops_status op_customer_get(const kp_options *o, kr_ops *ops, kr_buf *out, int *status)
{
    char *who = who_json(o);
    if (!who) {
        *status = KP_EXIT_USAGE;
        return KR_OPS_INVALID;
    }
    kr_ops_status st = kr_ops_customer_get(ops, who, o->at, out);
    free(who);
    return st;
}

static int cmd_outbox_list(const kp_options *o)
{
    bool bad = false;
    free(who_json_optional(o, &bad));
    return bad ? KP_EXIT_USAGE : with_ledger(o, op_outbox_list);
}
static int cmd_outbox_ack(const kp_options *o)
{
    return with_ledger(o, op_outbox_ack);
}
static int cmd_card(const kp_options *o)
{
    if (strcmp(o->sub, "attach") == 0) {
        char *who = who_json(o);
        if (!who)
            return KP_EXIT_USAGE;
        free(who);
    }
    return with_ledger(o, op_card);
}
static int cmd_customer_get(const kp_options *o)
{
    char *who = who_json(o);
    if (!who)
        return KP_EXIT_USAGE;
    free(who);
    return with_ledger(o, op_customer_get);
}

static int cmd_receipt(const kp_options *o)
{
    return with_ledger(o, op_receipt);
}
static int cmd_cancel(const kp_options *o)
{
    return with_ledger(o, op_cancel);
}
static int cmd_certificate(const kp_options *o)
{
    return with_ledger(o, op_certificate);
}
static int cmd_balance(const kp_options *o)
{
    char *who = who_json(o); // a usage error before any ledger file is opened or created
    if (!who)
        return KP_EXIT_USAGE;
    free(who);
    return with_ledger(o, op_balance);
}
static int cmd_jobs(const kp_options *o)
{
    return with_ledger(o, op_jobs);
}
static int cmd_check(const kp_options *o)
{
    return with_ledger(o, op_check);
}
static int cmd_import(const kp_options *o)
{
    return with_ledger(o, op_import);
}
static int cmd_customer_create(const kp_options *o)
{
    return with_ledger(o, op_customer_create);
}
// cards issue and codes generate require --id: an id the admin chose (or the ERP sent) is the
// only one he still knows after a dropped connection, so a repeat can answer the same numbers.
static int cmd_cards_issue(const kp_options *o)
{
    if (!o->batch || o->count < 1 || o->count > 1000000 || !o->op_id) {
        fprintf(stderr, "kopilka cards issue: --id OP, --batch B and --count N (1..1000000) "
                        "are required\n");
        return KP_EXIT_USAGE;
    }
    return with_ledger(o, op_cards_issue);
}
static int cmd_codes(const kp_options *o)
{
    if (!o->batch || o->count <= 0 || !o->op_id) {
        fprintf(stderr, "kopilka codes generate: --id OP, --batch B and --count N are "
                        "required\n");
        return KP_EXIT_USAGE;
    }
    return with_ledger(o, op_codes);
}
// tier set: an operator's floor (kr_ops_tier_floor). The default operation id names the
// customer, the floor and the time, so repeating the command with the same --at is a replay.
static kr_ops_status op_tier_set(const kp_options *o, kr_ops *ops, kr_buf *out, int *status)
{
    char *who = who_json(o);
    if (!who || !o->ladder || !o->tier) {
        if (who)
            fprintf(stderr, "kopilka tier set: --ladder ID and --tier ID are required\n");
        free(who);
        *status = KP_EXIT_USAGE;
        return KR_OPS_INVALID;
    }
    char time[40], op_id[160];
    kp_format_time(o->at, time, sizeof time);
    if (o->op_id)
        snprintf(op_id, sizeof op_id, "%s", o->op_id);
    else
        snprintf(op_id, sizeof op_id, "%s=%.40s:%.20s:%.20s:%.10s@%s",
                 o->card ? "card" : o->phone ? "phone" : o->email ? "email" : "customer",
                 o->card ? o->card : o->phone ? o->phone : o->email ? o->email : o->customer,
                 o->ladder, o->tier, o->until ? o->until : "-", time);
    json_error_t jerr;
    json_t *ref = json_loads(who, 0, &jerr);
    json_t *req = json_pack("{s:s, s:s, s:o, s:s, s:s}", "id", op_id, "time", time, "customer",
                            ref, "ladder", o->ladder, "tier", o->tier);
    if (req && o->until)
        json_object_set_new(req, "until", json_string(o->until));
    char *text = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    free(who);
    if (!text) {
        *status = KP_EXIT_INTERNAL;
        return KR_OPS_FAILED;
    }
    kr_ops_set_source(ops, "tier set", 0);
    kr_ops_status st = kr_ops_tier_floor(ops, text, strlen(text), out);
    free(text);
    return st;
}

static int cmd_tier_set(const kp_options *o)
{
    char *who = who_json(o); // usage errors before any ledger file is opened or created
    if (!who)
        return KP_EXIT_USAGE;
    free(who);
    if (!o->ladder || !o->tier) {
        fprintf(stderr, "kopilka tier set: --ladder ID and --tier ID are required\n");
        return KP_EXIT_USAGE;
    }
    return with_ledger(o, op_tier_set);
}

static int cmd_merge(const kp_options *o)
{
    if (!o->from || !o->into) {
        fprintf(stderr, "kopilka merge: --from REF and --into REF are required\n");
        return KP_EXIT_USAGE;
    }
    return with_ledger(o, op_merge);
}

#define LEDGER " db program "
#define WHO " card phone email customer "

static const command commands[] = {
    {"simulate", NULL, kp_cmd_simulate, " at state confirm ", 2, 2,
     "simulate PROGRAM.xml RECEIPTS.jsonl [--state STATE.json] [--at TIME] [--confirm]"},
    {"test", NULL, kp_cmd_test, " verbose ", 1, -1, "test [-v] SCENARIO.scenario.json|DIR..."},
    {"calculate", NULL, cmd_receipt, LEDGER "card-guard ", 1, 1,
     "calculate [--db LEDGER] [--program XML] [--card-guard N/MIN/MIN|off] "
     "RECEIPT.json|RECEIPTS.jsonl|-"},
    {"confirm", NULL, cmd_receipt, LEDGER "card-guard ", 1, 1,
     "confirm [--db LEDGER] [--program XML] [--card-guard N/MIN/MIN|off] "
     "RECEIPT.json|RECEIPTS.jsonl|-"},
    {"return", NULL, cmd_receipt, LEDGER, 1, 1, "return [--db LEDGER] [--program XML] "
                                                "RETURN.json|RETURNS.jsonl|-"},
    {"cancel", NULL, cmd_cancel, LEDGER "at ", 1, 1, "cancel [--db LEDGER] [--program XML] "
                                                     "[--at TIME] RECEIPT_ID"},
    {"balance", NULL, cmd_balance, LEDGER "at card-guard source" WHO, 0, 0,
     "balance [--db LEDGER] [--program XML] [--at TIME] (--card N|--phone P|--email E|"
     "--customer ID) [--source S] [--card-guard N/MIN/MIN|off]"},
    {"history", NULL, cmd_balance, LEDGER "after" WHO, 0, 0,
     "history [--db LEDGER] [--program XML] (--card N|--phone P|--email E|--customer ID) "
     "[--after N]"},
    {"jobs", "run", cmd_jobs, LEDGER "at ", 0, 0,
     "jobs run [--db LEDGER] [--program XML] [--at TIME]"},
    {"check", NULL, cmd_check, LEDGER, 0, 0, "check [--db LEDGER] [--program XML]"},
    {"import", NULL, cmd_import, LEDGER "at ", 1, 1,
     "import [--db LEDGER] [--program XML] [--at TIME] CUSTOMERS.csv"},
    {"customer", "create", cmd_customer_create, LEDGER "at ", 1, 1,
     "customer create [--db LEDGER] [--program XML] [--at TIME] CUSTOMER.json|-"},
    {"cards", "issue", cmd_cards_issue, LEDGER "at batch count id ", 0, 0,
     "cards issue [--db LEDGER] [--program XML] [--at TIME] --id OP --batch B --count N"},
    {"customer", "update", cmd_receipt, LEDGER "at ", 1, 1,
     "customer update [--db LEDGER] [--program XML] [--at TIME] UPDATE.json|UPDATES.jsonl|-"},
    {"event", NULL, cmd_receipt, LEDGER, 1, 1,
     "event [--db LEDGER] [--program XML] EVENT.json|EVENTS.jsonl|-"},
    {"points", "grant", cmd_receipt, LEDGER, 1, 1,
     "points grant [--db LEDGER] [--program XML] GRANT.json|GRANTS.jsonl|-"},
    {"codes", "generate", cmd_codes, LEDGER "at batch count id ", 0, 0,
     "codes generate [--db LEDGER] [--program XML] --id OP --batch B --count N"},
    {"customer", "get", cmd_customer_get, LEDGER "at" WHO, 0, 0,
     "customer get [--db LEDGER] [--program XML] [--at TIME] (--card N|--phone P|--email E|"
     "--customer ID)"},
    {"card", "attach", cmd_card, LEDGER "at" WHO, 1, 1,
     "card attach [--db LEDGER] [--program XML] [--at TIME] NUMBER (--phone P|--email E|"
     "--customer ID|--card N)"},
    {"card", "block", cmd_card, LEDGER "at ", 1, 1,
     "card block [--db LEDGER] [--program XML] [--at TIME] NUMBER"},
    {"outbox", "list", cmd_outbox_list, LEDGER "after limit" WHO, 0, 0,
     "outbox list [--db LEDGER] [--program XML] [--after ID] [--limit N] "
     "[--card N|--phone P|--email E|--customer ID]"},
    {"outbox", "ack", cmd_outbox_ack, LEDGER "at ", 1, 1000,
     "outbox ack [--db LEDGER] [--program XML] [--at TIME] ID..."},
    {"tier", "set", cmd_tier_set, LEDGER "at ladder tier until id" WHO, 0, 0,
     "tier set [--db LEDGER] [--program XML] [--at TIME] (--card N|--phone P|--email E|"
     "--customer ID) --ladder ID --tier ID [--until DATE] [--id OP]"},
    {"certificate", "show", cmd_certificate, LEDGER "at ", 1, 1,
     "certificate show [--db LEDGER] [--program XML] [--at TIME] NUMBER"},
    {"report", NULL, kp_cmd_report,
     LEDGER "from to by format store region channel segment limit ", 1, 1,
     "report NAME|list --from DATE --to DATE [--by GROUP] [--store S] [--region R] "
     "[--channel C] [--segment SEG] [--limit N] [--format json|csv] [--db LEDGER]"},
    {"merge", NULL, cmd_merge, LEDGER "at from into id ", 0, 0,
     "merge [--db LEDGER] [--program XML] [--at TIME] --from REF --into REF [--id OP]"},
};

static void usage(FILE *out)
{
    fputs("usage: kopilka COMMAND [OPTIONS] [ARGS]\n", out);
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        fprintf(out, "       kopilka %s\n", commands[i].usage);
    fputs("options: --db defaults to kopilka.db; --program to the program last deployed in\n"
          "         the ledger; TIME is RFC 3339, default now;\n"
          "         REF is card:N, phone:P, email:E or id:ID; --color=always|never|auto\n"
          "exit status: 0 ok, 1 a scenario or check failed or the input was refused,\n"
          "             2 usage, 3 I/O or the ledger is busy, 4 internal error\n"
          "see docs/cli.md\n",
          out);
}

// The option's name without dashes and the value after '=' (when written --name=value).
static bool split_option(const char *arg, char *name, size_t namesz, const char **value)
{
    *value = NULL;
    if (strcmp(arg, "-v") == 0) {
        snprintf(name, namesz, "verbose");
        return true;
    }
    if (strncmp(arg, "--", 2) != 0)
        return false;
    const char *eq = strchr(arg, '=');
    size_t n = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
    if (n + 1 > namesz)
        n = namesz - 1;
    memcpy(name, arg + 2, n);
    name[n] = '\0';
    if (eq)
        *value = eq + 1;
    return true;
}

static bool takes(const command *c, const char *name)
{
    char key[40];
    snprintf(key, sizeof key, " %s ", name);
    return strstr(c->opts, key) != NULL;
}

static bool parse_count(const char *text, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || end == text || *end || v < 0)
        return false;
    *out = v;
    return true;
}

// Parses argv[first..] into o for command c. KP_EXIT_OK, or KP_EXIT_USAGE after a message.
static int parse_options(const command *c, int argc, char **argv, int first, kp_options *o)
{
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        char name[32];
        const char *value;
        if (strcmp(a, "--") == 0) {
            while (++i < argc)
                o->args[o->nargs++] = argv[i];
            break;
        }
        if (strcmp(a, "-") == 0 || !split_option(a, name, sizeof name, &value)) {
            if (a[0] == '-' && a[1]) {
                fprintf(stderr, "kopilka %s: unknown option %s\n", o->command, a);
                return KP_EXIT_USAGE;
            }
            o->args[o->nargs++] = a;
            continue;
        }
        if (strcmp(name, "color") == 0) {
            if (value && strcmp(value, "always") == 0)
                o->color = true;
            else if (value && strcmp(value, "never") == 0)
                o->color = false;
            else if (value && strcmp(value, "auto") == 0)
                o->color = isatty(2);
            else {
                fprintf(stderr, "kopilka: --color=always|never|auto\n");
                return KP_EXIT_USAGE;
            }
            continue;
        }
        bool flag = strcmp(name, "confirm") == 0 || strcmp(name, "verbose") == 0;
        if (!takes(c, name)) {
            fprintf(stderr, "kopilka %s: unknown option %s\n", o->command, a);
            return KP_EXIT_USAGE;
        }
        if (flag) {
            if (value) {
                fprintf(stderr, "kopilka %s: %s takes no value\n", o->command, a);
                return KP_EXIT_USAGE;
            }
            *(name[0] == 'c' ? &o->confirm : &o->verbose) = true;
            continue;
        }
        if (!value) {
            if (i + 1 >= argc) {
                fprintf(stderr, "kopilka %s: %s needs a value\n", o->command, a);
                return KP_EXIT_USAGE;
            }
            value = argv[++i];
        }
        struct {
            const char *name;
            const char **dest;
        } strings[] = {
            {"db", &o->db},       {"program", &o->program}, {"at", &o->at_text},
            {"state", &o->state}, {"card", &o->card},       {"phone", &o->phone},
            {"email", &o->email}, {"customer", &o->customer}, {"from", &o->from},
            {"into", &o->into},   {"batch", &o->batch},     {"id", &o->op_id},
            {"ladder", &o->ladder}, {"tier", &o->tier},     {"until", &o->until},
            {"card-guard", &o->card_guard}, {"source", &o->source},
            {"to", &o->to},         {"by", &o->by},         {"format", &o->format},
            {"store", &o->store},   {"region", &o->region}, {"channel", &o->channel},
            {"segment", &o->segment},
        };
        bool done = false;
        for (size_t k = 0; k < sizeof strings / sizeof *strings && !done; k++)
            if (strcmp(name, strings[k].name) == 0) {
                *strings[k].dest = value;
                done = true;
            }
        if (!done && strcmp(name, "count") == 0)
            done = parse_count(value, &o->count);
        else if (!done && strcmp(name, "after") == 0)
            done = parse_count(value, &o->after);
        else if (!done && strcmp(name, "limit") == 0)
            done = parse_count(value, &o->limit);
        if (!done) {
            fprintf(stderr, "kopilka %s: %s %s: a whole number is expected\n", o->command, a,
                    value);
            return KP_EXIT_USAGE;
        }
    }
    if (o->nargs < c->min_args || (c->max_args >= 0 && o->nargs > c->max_args)) {
        fprintf(stderr, "usage: kopilka %s\n", c->usage);
        return KP_EXIT_USAGE;
    }
    return KP_EXIT_OK;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return KP_EXIT_USAGE;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return KP_EXIT_OK;
    }
    const command *c = NULL;
    int first = 2;
    bool named = false; // a command of that name exists, with other subcommands
    for (size_t i = 0; i < sizeof commands / sizeof *commands && !c; i++) {
        if (strcmp(argv[1], commands[i].name) != 0)
            continue;
        named = true;
        if (commands[i].sub && (argc < 3 || strcmp(argv[2], commands[i].sub) != 0))
            continue;
        c = &commands[i];
        first = c->sub ? 3 : 2;
    }
    if (!c && named) {
        const char *lead = "usage:";
        for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
            if (strcmp(argv[1], commands[i].name) == 0) {
                fprintf(stderr, "%s kopilka %s\n", lead, commands[i].usage);
                lead = "      ";
            }
        return KP_EXIT_USAGE;
    }
    if (!c) {
        fprintf(stderr, "kopilka: unknown command %s\n", argv[1]);
        usage(stderr);
        return KP_EXIT_USAGE;
    }
    for (int i = first; i < argc; i++)
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            printf("usage: kopilka %s\n", c->usage);
            return KP_EXIT_OK;
        }
    kp_options o = {.command = c->name, .sub = c->sub, .db = "kopilka.db",
                    .color = isatty(2)};
    o.args = calloc((size_t)argc, sizeof *o.args);
    if (!o.args)
        return KP_EXIT_INTERNAL;
    int status = parse_options(c, argc, argv, first, &o);
    if (status == KP_EXIT_OK) {
        if (o.at_text) {
            if (!kp_parse_time_arg("--at", o.at_text, &o.at))
                status = KP_EXIT_USAGE;
        } else {
            o.at = (int64_t)time(NULL); // the one read of the wall clock
        }
    }
    if (status == KP_EXIT_OK)
        status = c->run(&o);
    free(o.args);
    if (fflush(stdout) != 0 && status == KP_EXIT_OK) {
        fprintf(stderr, "kopilka: standard output: %s\n", strerror(errno));
        status = KP_EXIT_IO;
    }
    return status;
}
