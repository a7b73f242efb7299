// SPDX-License-Identifier: MIT
// fuzz-load.c: libFuzzer target for everything that reads a program file — the hardened
// loader, the semantic checks, and (for files without errors) the formatter, the AST dump
// and the Lua emitter. Built with clang and -fsanitize=fuzzer when -Dfuzzing=true; the same
// entry point is replayed over the corpus by fuzz-replay in every test run.
#include "kc.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    kc_diags d;
    kc_diags_init(&d);
    kc_program *p = kc_load_memory("fuzz.xml", (const char *)data, size, &d);
    if (p) {
        kc_check(p, &d);
        if (d.errors == 0) {
            kc_buf b;
            kc_buf_init(&b, 0);
            kc_format(p, &b);
            kc_dump_ast(p, &b);
            kc_emit_lua(p, "fuzz.xml", &b);
            kc_buf_free(&b);
        }
    }
    kc_diags_sort(&d);
    kc_program_free(p);
    kc_diags_free(&d);
    return 0;
}
