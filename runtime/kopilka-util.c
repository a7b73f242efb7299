// SPDX-License-Identifier: MIT
// kopilka-util.c: what the `kopilka` subcommands share — reading files, times, compiling the
// program, opening the ledger and printing answers (kopilka.h).
#include "kopilka.h"

#include "kc.h"
#include "kr-input.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int kp_read_file(const char *path, char **data, size_t *len)
{
    *data = NULL;
    *len = 0;
    bool is_stdin = strcmp(path, "-") == 0;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "kopilka: %s: %s\n", path, strerror(errno));
        return KP_EXIT_IO;
    }
    size_t alloc = 64 * 1024, n = 0;
    char *buf = malloc(alloc);
    int status = buf ? KP_EXIT_OK : KP_EXIT_INTERNAL;
    while (status == KP_EXIT_OK) {
        if (n + 1 >= alloc) {
            if (alloc > KP_MAX_INPUT) {
                fprintf(stderr, "kopilka: %s: larger than %u MiB, refused\n",
                        is_stdin ? "standard input" : path, KP_MAX_INPUT / (1024u * 1024u));
                status = KP_EXIT_FAILED;
                break;
            }
            char *p = realloc(buf, alloc * 2);
            if (!p) {
                status = KP_EXIT_INTERNAL;
                break;
            }
            buf = p;
            alloc *= 2;
        }
        size_t got = fread(buf + n, 1, alloc - n - 1, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) {
                fprintf(stderr, "kopilka: %s: %s\n", path, strerror(errno));
                status = KP_EXIT_IO;
            }
            break;
        }
    }
    if (status == KP_EXIT_OK && n > KP_MAX_INPUT) {
        fprintf(stderr, "kopilka: %s: larger than %u MiB, refused\n", path,
                KP_MAX_INPUT / (1024u * 1024u));
        status = KP_EXIT_FAILED;
    }
    if (status == KP_EXIT_OK) {
        const char *nul = memchr(buf, '\0', n);
        if (nul) {
            // Name the line, so the byte can be found.
            unsigned line = 1;
            for (const char *p = buf; p < nul; p++)
                line += *p == '\n';
            fprintf(stderr, "kopilka: %s:%u: a NUL byte: not a text file, refused\n", path,
                    line);
            status = KP_EXIT_FAILED;
        }
    }
    if (!is_stdin)
        fclose(f);
    if (status == KP_EXIT_INTERNAL)
        fprintf(stderr, "kopilka: %s: out of memory\n", path);
    if (status != KP_EXIT_OK) {
        free(buf);
        return status;
    }
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return KP_EXIT_OK;
}

char *kp_dirname(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

char *kp_path_join(const char *dir, const char *name)
{
    if (name[0] == '/' || !dir || !*dir || strcmp(dir, ".") == 0)
        return strdup(name);
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

bool kp_parse_time_arg(const char *what, const char *text, int64_t *out)
{
    char why[128];
    if (kr_parse_time(text, out, why, sizeof why))
        return true;
    fprintf(stderr, "kopilka: %s: %s\n", what, why);
    return false;
}

void kp_format_time(int64_t t, char *out, size_t outsz)
{
    int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
    int64_t secs = t - days * 86400;
    int64_t y;
    unsigned m, d;
    kr_civil_from_days(days, &y, &m, &d);
    snprintf(out, outsz, "%04lld-%02u-%02uT%02d:%02d:%02dZ", (long long)y, m, d,
             (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60));
}

// ---- the program ------------------------------------------------------------------------------

void kp_program_free(kp_program *p)
{
    free(p->path);
    free(p->xml);
    free(p->lua);
    memset(p, 0, sizeof *p);
}

int kp_program_compile(const char *path, bool color, kp_program *out)
{
    memset(out, 0, sizeof *out);
    kc_diags d;
    kc_diags_init(&d);
    kc_program *p = kc_load_file(path, &d);
    if (p)
        kc_check(p, &d);
    kc_diags_sort(&d);
    size_t srclen = 0;
    const char *src = p ? kc_program_source(p, &srclen) : NULL;
    kc_diags_print(stderr, &d, src, srclen, color);
    int status = KP_EXIT_OK;
    if (!p)
        status = KP_EXIT_INTERNAL;
    else if (d.count && strcmp(d.items[0].code, "E-io") == 0)
        status = KP_EXIT_IO;
    else if (d.errors)
        status = KP_EXIT_FAILED;
    if (d.errors)
        fprintf(stderr, "%s: %zu error%s, %zu warning%s\n", path, d.errors,
                d.errors == 1 ? "" : "s", d.warnings, d.warnings == 1 ? "" : "s");
    kc_diags_free(&d);
    if (status != KP_EXIT_OK) {
        kc_program_free(p);
        return status;
    }
    kc_buf lua;
    kc_buf_init(&lua, 0);
    kc_status st = kc_emit_lua(p, path, &lua);
    if (st != KC_OK) {
        fprintf(stderr, "kopilka: %s: cannot emit the program: %s\n", path,
                st == KC_ERR_NOMEM ? "out of memory" : "emitter error");
        kc_buf_free(&lua);
        kc_program_free(p);
        return st == KC_ERR_NOMEM ? KP_EXIT_INTERNAL : KP_EXIT_FAILED;
    }
    out->path = strdup(path);
    out->xml = malloc(srclen + 1);
    if (!out->path || !out->xml) {
        kc_buf_free(&lua);
        kc_program_free(p);
        kp_program_free(out);
        fprintf(stderr, "kopilka: out of memory\n");
        return KP_EXIT_INTERNAL;
    }
    memcpy(out->xml, src, srclen);
    out->xml[srclen] = '\0';
    out->xml_len = srclen;
    out->lua = lua.data; // the buffer's storage moves to the program
    out->lua_len = lua.len;
    kc_program_free(p);
    return KP_EXIT_OK;
}

int kp_ops_open(const char *db, const kp_program *p, int64_t at, kr_ops **out)
{
    kr_ops_program prog = {
        .lua = p->lua,
        .lua_len = p->lua_len,
        .name = p->path,
        .xml = p->xml,
        .xml_len = p->xml_len,
        .deployed_by = "kopilka",
        .deployed_at = at,
    };
    char err[512] = "";
    kr_ops_status st = kr_ops_open(db, &prog, out, err, sizeof err);
    if (st == KR_OPS_OK)
        return KP_EXIT_OK;
    fprintf(stderr, "kopilka: %s: %s (%s)\n", strcmp(db, ":memory:") == 0 ? p->path : db, err,
            kr_ops_status_name(st));
    return st == KR_OPS_BUSY || st == KR_OPS_FAILED ? KP_EXIT_IO : KP_EXIT_FAILED;
}

static int open_ledger(const kp_options *o, kp_program *p, kr_ops **out);

// --card-guard LIMIT/WINDOW/LOCKOUT (minutes) or "off": the limits of the guessing protection
// (kr_ops_set_card_guard). Returns false, having said why, on a malformed value.
static bool card_guard(const kp_options *o, kr_ops *ops)
{
    if (!o->card_guard)
        return true;
    if (strcmp(o->card_guard, "off") == 0) {
        kr_ops_set_card_guard(ops, 0, 0, 0);
        return true;
    }
    long long limit = 0, window = 0, lockout = 0;
    int used = 0;
    if (sscanf(o->card_guard, "%lld/%lld/%lld%n", &limit, &window, &lockout, &used) != 3 ||
        o->card_guard[used] != 0 || limit < 1 || limit > 1000000 || window < 1 || window > 525600 ||
        lockout < 1 || lockout > 525600) {
        fprintf(stderr,
                "kopilka %s: --card-guard %s: LIMIT/WINDOW/LOCKOUT is expected (unknown card "
                "numbers, minutes, minutes; e.g. 10/10/30), or off\n",
                o->command, o->card_guard);
        return false;
    }
    kr_ops_set_card_guard(ops, limit, window * 60, lockout * 60);
    return true;
}

int kp_open_ledger(const kp_options *o, kp_program *p, kr_ops **out)
{
    int status = open_ledger(o, p, out);
    if (status == KP_EXIT_OK && !card_guard(o, *out)) {
        kr_ops_close(*out);
        *out = NULL;
        return KP_EXIT_USAGE;
    }
    return status;
}

static int open_ledger(const kp_options *o, kp_program *p, kr_ops **out)
{
    *out = NULL;
    memset(p, 0, sizeof *p); // freed by the caller whatever happens
    if (!o->program) {
        // No --program: the program most recently deployed in the ledger.
        char err[512] = "";
        kr_ops_status st = kr_ops_open_deployed(o->db, out, err, sizeof err);
        if (st == KR_OPS_OK)
            return KP_EXIT_OK;
        fprintf(stderr, "kopilka %s: %s%s\n", o->command, err,
                st == KR_OPS_NOT_FOUND ? " (give --program PROGRAM.xml to deploy one)" : "");
        return st == KR_OPS_BUSY || st == KR_OPS_FAILED ? KP_EXIT_IO : KP_EXIT_FAILED;
    }
    int status = kp_program_compile(o->program, o->color, p);
    if (status != KP_EXIT_OK)
        return status;
    return kp_ops_open(o->db, p, o->at, out);
}

// ---- answers ----------------------------------------------------------------------------------

int kp_exit_for(kr_ops_status st)
{
    switch (st) {
    case KR_OPS_OK:
    case KR_OPS_REPLAY:
        return KP_EXIT_OK;
    case KR_OPS_INVALID:
    case KR_OPS_NOT_FOUND:
    case KR_OPS_CONFLICT:
    case KR_OPS_REFUSED:
    case KR_OPS_PROGRAM:
        return KP_EXIT_FAILED;
    case KR_OPS_BUSY:
        return KP_EXIT_IO;
    case KR_OPS_FAILED:
        break;
    }
    return KP_EXIT_INTERNAL;
}

bool kp_error_text(const char *answer, char *out, size_t outsz)
{
    json_t *root = json_loads(answer, 0, NULL);
    json_t *e = root ? json_object_get(root, "error") : NULL;
    if (!json_is_object(e)) {
        json_decref(root);
        return false;
    }
    const char *source = json_string_value(json_object_get(e, "source"));
    const char *field = json_string_value(json_object_get(e, "field"));
    const char *message = json_string_value(json_object_get(e, "message"));
    const char *code = json_string_value(json_object_get(e, "code"));
    json_int_t line = json_integer_value(json_object_get(e, "line"));
    json_int_t column = json_integer_value(json_object_get(e, "column"));
    kr_buf b;
    kr_buf_init(&b, 0);
    if (source && *source) {
        kr_buf_puts(&b, source);
        if (line > 0)
            kr_buf_printf(&b, ":%lld", (long long)line);
        if (line > 0 && column > 0)
            kr_buf_printf(&b, ":%lld", (long long)column);
        kr_buf_puts(&b, ": ");
    } else if (line > 0) {
        kr_buf_printf(&b, "line %lld: ", (long long)line);
    }
    if (field && *field)
        kr_buf_printf(&b, "%s: ", field);
    kr_buf_puts(&b, message ? message : "(no message)");
    if (code)
        kr_buf_printf(&b, " (%s)", code);
    snprintf(out, outsz, "%s", b.data ? b.data : "");
    kr_buf_free(&b);
    json_decref(root);
    return true;
}

int kp_print_answer(kr_ops_status st, const kr_buf *answer)
{
    if (answer->failed) {
        fprintf(stderr, "kopilka: the answer is too large or memory ran out\n");
        return KP_EXIT_INTERNAL;
    }
    const char *text = answer->data ? answer->data : "{}";
    fputs(text, stdout);
    fputc('\n', stdout);
    if (fflush(stdout) != 0) {
        fprintf(stderr, "kopilka: standard output: %s\n", strerror(errno));
        return KP_EXIT_IO;
    }
    if (st != KR_OPS_OK && st != KR_OPS_REPLAY) {
        char msg[2048];
        if (kp_error_text(text, msg, sizeof msg))
            fprintf(stderr, "kopilka: %s\n", msg);
        else
            fprintf(stderr, "kopilka: %s\n", kr_ops_status_name(st));
    }
    return kp_exit_for(st);
}
