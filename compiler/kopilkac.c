// SPDX-License-Identifier: MIT
// kopilkac: the command line of the rule compiler.
//
//   kopilkac FILE.xml [-o FILE.lua]   compile (Lua to stdout without -o)
//   kopilkac --check FILE.xml...      diagnostics only (CI, pre-commit hooks)
//   kopilkac --format FILE.xml...     rewrite files in canonical form (-o - : to stdout)
//   kopilkac --dump-ast FILE.xml      the typed tree
//   kopilkac --print-schema           the RELAX NG schema of the language
//
// Exit status: 0 success (warnings allowed unless --werror), 1 the program has errors,
// 2 usage error, 3 a file could not be read or written, 4 out of memory.
#include "kc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { EXIT_OK = 0, EXIT_PROGRAM = 1, EXIT_USAGE = 2, EXIT_IO = 3, EXIT_NOMEM = 4 };

typedef enum mode { MODE_COMPILE, MODE_CHECK, MODE_FORMAT, MODE_DUMP, MODE_SCHEMA } mode;

typedef struct options {
    mode mode;
    const char *output;      // -o
    const char *source_name; // --source-name: file name written into Lua comments
    bool werror;
    bool color;
    const char **files;
    int nfiles;
} options;

static void usage(FILE *out)
{
    fputs("usage: kopilkac FILE.xml [-o FILE.lua] [--source-name NAME]\n"
          "       kopilkac --check [--werror] FILE.xml...\n"
          "       kopilkac --format FILE.xml... [-o OUT|-]\n"
          "       kopilkac --dump-ast FILE.xml\n"
          "       kopilkac --print-schema\n"
          "options: --color=always|never|auto, --werror (warnings fail the run)\n"
          "exit status: 0 ok, 1 the program has errors, 2 usage, 3 I/O, 4 out of memory\n",
          out);
}

static int write_out(const char *path, const kc_buf *b)
{
    if (!path || strcmp(path, "-") == 0) {
        if (fwrite(b->data, 1, b->len, stdout) != b->len)
            return EXIT_IO;
        return EXIT_OK;
    }
    // Write beside the target and rename, so a crash never leaves half a file.
    size_t n = strlen(path) + 16;
    char *tmp = malloc(n);
    if (!tmp)
        return EXIT_NOMEM;
    snprintf(tmp, n, "%s.tmp~", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        fprintf(stderr, "kopilkac: cannot write %s: %s\n", tmp, strerror(errno));
        free(tmp);
        return EXIT_IO;
    }
    bool ok = fwrite(b->data, 1, b->len, f) == b->len;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        fprintf(stderr, "kopilkac: cannot write %s: %s\n", path, strerror(errno));
        remove(tmp);
        free(tmp);
        return EXIT_IO;
    }
    free(tmp);
    return EXIT_OK;
}

// Loads and checks one file, printing its diagnostics. Returns the program (NULL if it
// could not be loaded) and sets *status to the exit status so far.
static kc_program *load_checked(const options *o, const char *path, int *status)
{
    kc_diags d;
    kc_diags_init(&d);
    kc_program *p = kc_load_file(path, &d);
    if (p)
        kc_check(p, &d);
    kc_diags_sort(&d);
    size_t srclen = 0;
    const char *src = p ? kc_program_source(p, &srclen) : NULL;
    kc_diags_print(stderr, &d, src, srclen, o->color);
    bool io = d.count && strcmp(d.items[0].code, "E-io") == 0;
    if (io)
        *status = EXIT_IO;
    else if (d.errors || (o->werror && d.warnings))
        *status = EXIT_PROGRAM;
    else
        *status = EXIT_OK;
    if (d.errors || d.warnings)
        fprintf(stderr, "%s: %zu error%s, %zu warning%s\n", path, d.errors,
                d.errors == 1 ? "" : "s", d.warnings, d.warnings == 1 ? "" : "s");
    kc_diags_free(&d);
    return p;
}

static int run_one(const options *o, const char *path)
{
    int status;
    kc_program *p = load_checked(o, path, &status);
    if (!p || status != EXIT_OK || o->mode == MODE_CHECK) {
        kc_program_free(p);
        return status;
    }
    kc_buf b;
    kc_buf_init(&b, 0);
    kc_status st = KC_OK;
    const char *dest = o->output;
    switch (o->mode) {
    case MODE_COMPILE:
        st = kc_emit_lua(p, o->source_name ? o->source_name : path, &b);
        break;
    case MODE_FORMAT:
        st = kc_format(p, &b);
        if (!dest)
            dest = path;
        break;
    case MODE_DUMP:
        st = kc_dump_ast(p, &b);
        break;
    case MODE_CHECK:
    case MODE_SCHEMA:
        break;
    }
    if (st == KC_OK)
        status = write_out(dest, &b);
    else
        status = st == KC_ERR_NOMEM ? EXIT_NOMEM : EXIT_PROGRAM;
    kc_buf_free(&b);
    kc_program_free(p);
    return status;
}

int main(int argc, char **argv)
{
    options o = {.mode = MODE_COMPILE, .color = isatty(2)};
    o.files = calloc((size_t)argc, sizeof *o.files);
    if (!o.files)
        return EXIT_NOMEM;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--check") == 0)
            o.mode = MODE_CHECK;
        else if (strcmp(a, "--format") == 0)
            o.mode = MODE_FORMAT;
        else if (strcmp(a, "--dump-ast") == 0)
            o.mode = MODE_DUMP;
        else if (strcmp(a, "--print-schema") == 0)
            o.mode = MODE_SCHEMA;
        else if (strcmp(a, "--werror") == 0)
            o.werror = true;
        else if (strcmp(a, "--color=always") == 0)
            o.color = true;
        else if (strcmp(a, "--color=never") == 0)
            o.color = false;
        else if (strcmp(a, "--color=auto") == 0)
            o.color = isatty(2);
        else if ((strcmp(a, "-o") == 0 || strcmp(a, "--source-name") == 0) && i + 1 < argc)
            *(a[1] == 'o' ? &o.output : &o.source_name) = argv[++i];
        else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            free(o.files);
            return EXIT_OK;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "kopilkac: unknown option %s\n", a);
            usage(stderr);
            free(o.files);
            return EXIT_USAGE;
        } else
            o.files[o.nfiles++] = a;
    }
    int status = EXIT_OK;
    if (o.mode == MODE_SCHEMA) {
        kc_buf b;
        kc_buf_init(&b, 0);
        status = kc_write_schema(&b) == KC_OK ? write_out(o.output, &b) : EXIT_NOMEM;
        kc_buf_free(&b);
    } else if (o.nfiles == 0 || (o.nfiles > 1 && o.output && o.mode != MODE_CHECK) ||
               (o.nfiles > 1 && (o.mode == MODE_COMPILE || o.mode == MODE_DUMP))) {
        usage(stderr);
        status = EXIT_USAGE;
    } else {
        for (int i = 0; i < o.nfiles; i++) {
            int s = run_one(&o, o.files[i]);
            if (s > status)
                status = s;
        }
    }
    free(o.files);
    return status;
}
