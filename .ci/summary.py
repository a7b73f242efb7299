#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Prints `N passed, N failed` from a meson testlog.json: a TAP test counts each of its
# `ok`/`not ok` lines; any other test counts once. A TAP test that failed without a failing
# line (a crash, a sanitizer report, a wrong plan) counts one failure more.
import json
import re
import sys

passed = failed = 0
with open(sys.argv[1], encoding="utf-8") as f:
    for line in f:
        t = json.loads(line)
        ok_result = t.get("result") in ("OK", "EXPECTEDFAIL", "SKIP")
        out = t.get("stdout") or ""
        oks = len(re.findall(r"^ok \d+", out, re.M))
        nots = len(re.findall(r"^not ok \d+", out, re.M))
        if t.get("protocol") == "tap" or oks or nots:
            passed += oks
            failed += nots
            if not ok_result and nots == 0:
                failed += 1
        elif ok_result:
            passed += 1
        else:
            failed += 1
print("%d passed, %d failed" % (passed, failed))
