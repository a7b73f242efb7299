// SPDX-License-Identifier: MIT
// fuzz-csv.c: libFuzzer target for the CSV reader (customer and balance imports).
#include "kr-input.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const required[] = {"phone", NULL};
    kr_csv c;
    kr_input_error err;
    kr_input_status st = kr_csv_open(&c, (const char *)data, size, required, NULL, &err);
    while (st == KR_INPUT_OK) {
        st = kr_csv_next(&c, &err);
        if (st == KR_INPUT_OK)
            (void)kr_csv_field(&c, "phone");
    }
    kr_csv_close(&c);
    return 0;
}
