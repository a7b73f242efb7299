// SPDX-License-Identifier: MIT
// fuzz-receipt.c: libFuzzer target for the receipt and return readers (kr-receipt.c): what a
// till or the web shop sends to calculate, confirm and return. The first byte picks the
// reader and the currency's minor unit, the rest is the JSON text.
//
// Contract checked beyond "no crash, no leak" (docs/formats.md "Receipt"): a receipt that is
// accepted has 1..10,000 lines, each with a SKU, at least one unit and no negative price or
// amount; a return that is accepted names at least one line.
#include "kr-receipt.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    kr_input_error err = {0};
    if (data[0] & 1) {
        kr_return r = {0};
        kr_input_status st = kr_return_parse(text, len, 1, &r, &err);
        if (st == KR_INPUT_OK && r.n_lines == 0)
            abort(); // a return without lines must be refused
        kr_return_free(&r);
        return 0;
    }
    int minor_unit = (data[0] >> 1) % 4; // 0..3: yen, kopecks, dinar fils
    kr_receipt rc = {0};
    kr_input_status st = kr_receipt_parse(text, len, 1, minor_unit, &rc, &err);
    if (st == KR_INPUT_OK) {
        const kr_engine_receipt *e = &rc.rc;
        if (e->n_lines < 1 || e->n_lines > 10000)
            abort();
        for (size_t i = 0; i < e->n_lines; i++) {
            const kr_engine_line *l = &e->lines[i];
            if (!l->sku || l->qty < 1 || l->price < 0 || l->amount < 0) {
                fprintf(stderr, "accepted line %zu breaks the contract\n", i);
                abort();
            }
        }
    }
    kr_receipt_free(&rc);
    return 0;
}
