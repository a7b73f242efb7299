// SPDX-License-Identifier: MIT
// fuzz-replay.c: runs a fuzz target's entry point over every file named on the command line
// (the committed corpus), so the sanitizer build of the test suite exercises the target
// without clang's libFuzzer. Prints TAP, one line per file.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
    printf("1..%d\n", argc - 1);
    int failed = 0;
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) {
            printf("not ok %d - %s: cannot open\n", i, argv[i]);
            failed++;
            continue;
        }
        size_t cap = 1u << 20, len = 0;
        uint8_t *buf = malloc(cap);
        while (buf && (len == cap ? (buf = realloc(buf, cap *= 2)) != NULL : 1)) {
            size_t n = fread(buf + len, 1, cap - len, f);
            len += n;
            if (n == 0)
                break;
        }
        fclose(f);
        if (!buf) {
            printf("not ok %d - %s: out of memory\n", i, argv[i]);
            failed++;
            continue;
        }
        LLVMFuzzerTestOneInput(buf, len);
        free(buf);
        printf("ok %d - %s\n", i, argv[i]);
    }
    return failed ? 1 : 0;
}
