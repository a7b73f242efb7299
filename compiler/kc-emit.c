// SPDX-License-Identifier: MIT
// kc-emit.c: the typed tree -> readable, deterministic Lua (docs/internals/program-abi.md).
#include "kc-private.h"

kc_status kc_emit_lua(const kc_program *p, const char *path_for_comments, kc_buf *out)
{
    (void)p;
    (void)path_for_comments;
    return kc_buf_puts(out, "return {}\n");
}
