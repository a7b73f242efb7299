// SPDX-License-Identifier: MIT
// fixed-time.c: a time() that always answers the same second, for counting instructions
// (bench/README.md, "Receipts evaluated per second"). Lua 5.4 seeds its string hashing from
// time() and a few addresses; with this preloaded and address randomisation off (setarch -R)
// the seed, and so the instruction count of a run, is the same every time.
//   cc -shared -fPIC -o /tmp/fixed-time.so bench/fixed-time.c
#include <time.h>

time_t time(time_t *t)
{
    if (t)
        *t = 1764700000;
    return 1764700000;
}
