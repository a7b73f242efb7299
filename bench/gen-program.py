#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Writes a generated program with N promotions (default 1000) to stdout: a realistic mix of
# percent, amount, cheapest, buy-get, fixed-price and points effects, with validity windows,
# audiences, receipt conditions, groups and a decision table, for the compiler benchmark.
#   bench/gen-program.py 1000 > /tmp/p1000.xml
import random
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
rnd = random.Random(42)
cats = ["taps", "mixers", "sinks", "baths", "pipes", "tiles", "tools", "heating", "pumps", "filters"]
out = []
w = out.append
w('<?xml version="1.0" encoding="UTF-8"?>')
w('<program xmlns="urn:kopilka:rules:1" id="bench" name="Benchmark" version="1" '
  'currency="RUB" time-zone="Europe/Moscow">')
w('  <segments>')
for s in ["retail", "partner", "vip"]:
    w('    <segment id="%s" name="%s"/>' % (s, s.title()))
w('  </segments>')
w('  <tiers>')
w('    <ladder id="levels" name="Levels" metric="paid" window="calendar-year">')
for i, t in enumerate(["bronze", "silver", "gold"]):
    w('      <tier id="%s" name="%s" from="%d"/>' % (t, t.title(), i * 50000))
w('    </ladder>')
w('  </tiers>')
w('  <tables>')
w('    <table id="by-amount" name="By amount">')
w('      <input source="receipt-total"/>')
w('      <row when="..5000" then="0%"/>')
w('      <row when="5000..20000" then="3%"/>')
w('      <row when="20000.." then="5%"/>')
w('    </table>')
w('  </tables>')
w('  <accrual percent="2%"/>')
w('  <redemption point-value="1" max-share="50%"/>')
w('  <promotions>')
n_groups = max(1, min(10, n // 20))
for g in range(n_groups):
    w('    <group id="g%d" policy="%s"/>' % (g, rnd.choice(["best", "priority"])))
for i in range(n):
    stage = rnd.choice(["line", "line", "receipt"])
    attrs = 'id="p%d" name="Promotion %d" stage="%s" priority="%d"' % (i, i, stage, rnd.randint(0, 50))
    if i < n_groups:
        attrs += ' group="g%d"' % i  # every group has a member
    elif rnd.random() < 0.2:
        attrs += ' group="g%d"' % rnd.randint(0, n_groups - 1)
    w('    <promotion %s>' % attrs)
    if rnd.random() < 0.7:
        m = rnd.randint(1, 12)
        w('      <valid from="2026-%02d-01" to="2026-%02d-28" days="%s"/>'
          % (m, m, " ".join(rnd.sample(["mon", "tue", "wed", "thu", "fri", "sat", "sun"], 4))))
    if rnd.random() < 0.5:
        w('      <audience segments="%s"/>' % rnd.choice(["retail", "partner", "vip"]))
    if rnd.random() < 0.6:
        w('      <when match="%s">' % rnd.choice(["all", "any"]))
        w('        <total min="%d" basis="before"/>' % rnd.randint(1, 50) * 1)
        w('        <lines category="%s" min-quantity="%d"/>' % (rnd.choice(cats), rnd.randint(1, 3)))
        w('      </when>')
    kind = rnd.randint(0, 5)
    cat = rnd.choice(cats)
    if stage == "receipt":
        w('      <discount amount="%d" per="receipt"/>' % rnd.randint(50, 500))
    elif kind == 0:
        w('      <discount percent="%d%%" category="%s"/>' % (rnd.randint(1, 30), cat))
    elif kind == 1:
        w('      <cheapest percent="100%%" category="%s"/>' % cat)
    elif kind == 2:
        w('      <buy-get buy="2" get="1" category="%s"/>' % cat)
    elif kind == 3:
        w('      <fixed-price price="%d.90" sku="SKU%d"/>' % (rnd.randint(10, 900), rnd.randint(1, 9999)))
    elif kind == 4:
        w('      <points multiplier="2" category="%s"/>' % cat)
    else:
        w('      <discount percent="@by-amount"/>')
    w('      <cap max-discount="%d"/>' % rnd.randint(500, 5000))
    w('    </promotion>')
w('  </promotions>')
w('</program>')
print("\n".join(out))
