#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Compiler benchmark: generates a program of N promotions (bench/gen-program.py) and times
# `kopilkac --check`, a full compile to Lua and `--format`, each run R times; prints the
# median and the best wall-clock time of each, and the size of the output.
#   bench/bench-compile.py build/compiler/kopilkac [N=1000] [R=15]
import os
import statistics
import subprocess
import sys
import tempfile
import time

kopilkac = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
runs = int(sys.argv[3]) if len(sys.argv) > 3 else 15
here = os.path.dirname(os.path.abspath(__file__))

with tempfile.TemporaryDirectory() as tmp:
    xml = os.path.join(tmp, "program.xml")
    with open(xml, "w", encoding="utf-8") as f:
        subprocess.run([sys.executable, os.path.join(here, "gen-program.py"), str(n)], stdout=f,
                       check=True)
    lua = os.path.join(tmp, "program.lua")
    fmt = os.path.join(tmp, "formatted.xml")
    jobs = [("check", ["--check", xml]), ("compile", [xml, "-o", lua]),
            ("format", ["--format", xml, "-o", fmt])]
    print("program: %d promotions, %d bytes of XML" % (n, os.path.getsize(xml)))
    for name, args in jobs:
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            r = subprocess.run([kopilkac] + args, capture_output=True)
            times.append(time.perf_counter() - t0)
            if r.returncode != 0:
                sys.exit("kopilkac %s failed: %s" % (name, r.stderr.decode()))
        print("%-8s median %7.1f ms   best %7.1f ms   (%d runs)"
              % (name, statistics.median(times) * 1000, min(times) * 1000, runs))
    print("lua output: %d bytes" % os.path.getsize(lua))
