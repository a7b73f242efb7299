#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Data-driven compiler tests, printed as TAP. Run from meson (see tests/compiler/meson.build):
#   run-cases.py KOPILKAC SOURCE_ROOT
# Cases:
#   golden/NAME/input.xml     -> expected.lua   (exact Lua, --source-name is the input's path)
#   diag/NAME.xml             -> NAME.err       (exact stderr of --check --color=never; exit 1
#                                                when the file has errors, 0 otherwise)
#   format/NAME.xml           -> NAME.expected.xml (exact --format output)
#   every program file        -> formatting twice changes nothing; the formatted file has the
#                                same typed tree; it validates against the committed schema
#   compiler/schema/kopilka-1.rng equals `kopilkac --print-schema`
#   rules-examples/*/program.xml and docs-examples/*.xml compile with no error or warning
import difflib
import glob
import os
import re
import subprocess
import sys
import tempfile

kopilkac, root = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
results = []


def run(args, **kw):
    return subprocess.run([kopilkac] + args, cwd=root, capture_output=True, text=True, **kw)


def case(name, ok, detail=""):
    results.append((name, ok, detail))


def diff(expected, got, a="expected", b="got"):
    return "".join(difflib.unified_diff(expected.splitlines(True), got.splitlines(True), a, b))


def rel(path):
    return os.path.relpath(path, root)


for d in sorted(glob.glob(os.path.join(root, "tests/compiler/golden/*/"))):
    name = os.path.basename(d.rstrip("/"))
    inp = rel(os.path.join(d, "input.xml"))
    exp_path = os.path.join(d, "expected.lua")
    r = run(["--color=never", "--source-name", inp, inp])
    expected = open(exp_path, encoding="utf-8").read() if os.path.exists(exp_path) else ""
    case("golden " + name, r.returncode == 0 and r.stdout == expected,
         r.stderr + diff(expected, r.stdout))

for x in sorted(glob.glob(os.path.join(root, "tests/compiler/diag/*.xml"))):
    name = os.path.splitext(os.path.basename(x))[0]
    errf = os.path.splitext(x)[0] + ".err"
    expected = open(errf, encoding="utf-8").read() if os.path.exists(errf) else "<missing .err>"
    r = run(["--check", "--color=never", rel(x)])
    want_status = 1 if "error[" in expected else 0
    case("diag " + name, r.stderr == expected and r.returncode == want_status,
         "exit %d, want %d\n" % (r.returncode, want_status) + diff(expected, r.stderr))

for x in sorted(glob.glob(os.path.join(root, "tests/compiler/format/*.xml"))):
    if x.endswith(".expected.xml"):
        continue
    name = os.path.splitext(os.path.basename(x))[0]
    expf = os.path.splitext(x)[0] + ".expected.xml"
    expected = open(expf, encoding="utf-8").read() if os.path.exists(expf) else "<missing>"
    r = run(["--format", "--color=never", "-o", "-", rel(x)])
    case("format " + name, r.returncode == 0 and r.stdout == expected,
         r.stderr + diff(expected, r.stdout))

programs = sorted(
    glob.glob(os.path.join(root, "rules-examples/*/program.xml"))
    + glob.glob(os.path.join(root, "tests/compiler/golden/*/input.xml"))
    + glob.glob(os.path.join(root, "tests/compiler/docs-examples/*.xml"))
    + [f for f in glob.glob(os.path.join(root, "tests/compiler/format/*.xml"))
       if not f.endswith(".expected.xml")])

schema = os.path.join(root, "compiler/schema/kopilka-1.rng")
r = run(["--print-schema"])
committed = open(schema, encoding="utf-8").read() if os.path.exists(schema) else ""
case("schema is up to date (kopilkac --print-schema > compiler/schema/kopilka-1.rng)",
     r.returncode == 0 and r.stdout == committed, diff(committed, r.stdout))

strip_pos = re.compile(r" @\d+(:\d+)?")
with tempfile.TemporaryDirectory() as tmp:
    for x in programs:
        name = rel(x)
        f1 = os.path.join(tmp, "f1.xml")
        f2 = os.path.join(tmp, "f2.xml")
        r1 = run(["--format", "--color=never", "-o", f1, name])
        r2 = run(["--format", "--color=never", "-o", f2, f1]) if r1.returncode == 0 else r1
        same = r1.returncode == 0 and r2.returncode == 0 and \
            open(f1, encoding="utf-8").read() == open(f2, encoding="utf-8").read()
        case("format twice changes nothing: " + name, same, r1.stderr + r2.stderr)
        a = run(["--dump-ast", "--color=never", name])
        b = run(["--dump-ast", "--color=never", f1]) if r1.returncode == 0 else a
        ta = strip_pos.sub("", a.stdout)
        tb = strip_pos.sub("", b.stdout)
        case("formatted file has the same tree: " + name,
             a.returncode == 0 and b.returncode == 0 and ta == tb, diff(ta, tb))
        v = subprocess.run(["xmllint", "--noout", "--relaxng", schema, x], capture_output=True,
                           text=True)
        case("schema validates " + name, v.returncode == 0, v.stderr)

for x in sorted(glob.glob(os.path.join(root, "rules-examples/*/program.xml"))
                + glob.glob(os.path.join(root, "tests/compiler/docs-examples/*.xml"))):
    r = run(["--check", "--werror", "--color=never", rel(x)])
    case("clean: " + rel(x), r.returncode == 0 and r.stderr == "", r.stderr)

print("1..%d" % len(results))
failed = 0
for i, (name, ok, detail) in enumerate(results, 1):
    print("%s %d - %s" % ("ok" if ok else "not ok", i, name))
    if not ok:
        failed += 1
        for line in detail.splitlines()[:60]:
            print("# " + line)
sys.exit(1 if failed else 0)
