// SPDX-License-Identifier: MIT
// kc-check.c: semantic checks over the typed tree.
#include "kc-private.h"

void kc_check(kc_program *p, kc_diags *d)
{
    (void)p;
    (void)d;
}
