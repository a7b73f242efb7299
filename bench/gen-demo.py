#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Generates a realistic chain for the demo and the benchmarks, deterministically (fixed seed):
#   OUT/customers.csv  N customers (default 70,000) in the plumbing program's segments, with
#                      phones, e-mails, birthdays, ERP ids, and opening balances for some
#   OUT/receipts.jsonl R receipts (default 20,000) over the year before END, in time order,
#                      from 22 stores in 6 regions and the web shop, 1-6 lines from a
#                      catalogue of 9 categories; a quarter are anonymous
#   bench/gen-demo.py OUT [N] [R] [END=2026-11-22]
import datetime
import json
import os
import random
import sys

out = sys.argv[1]
n_customers = int(sys.argv[2]) if len(sys.argv) > 2 else 70000
n_receipts = int(sys.argv[3]) if len(sys.argv) > 3 else 20000
end = datetime.date.fromisoformat(sys.argv[4]) if len(sys.argv) > 4 else datetime.date(2026, 11, 22)
rnd = random.Random(2026)
os.makedirs(out, exist_ok=True)

regions = ["moscow", "moscow", "moscow", "tula", "kaluga", "ryazan", "tver", "vladimir"]
stores = [("s%02d" % i, regions[i % len(regions)]) for i in range(1, 23)]
catalogue = []
categories = {
    "taps": (1500, 25000), "mixers": (2500, 40000), "sinks": (3000, 60000),
    "baths": (15000, 180000), "pipes": (80, 2500), "tiles": (600, 4500),
    "tools": (300, 15000), "heating": (4000, 90000), "services": (1000, 12000),
}
brands = ["grohe", "hansgrohe", "jacob-delafon", "roca", "cersanit", "vitra", "rehau"]
for cat, (lo, hi) in categories.items():
    for k in range(40):
        price = rnd.randint(lo, hi)
        catalogue.append(("%s-%03d" % (cat[:3].upper(), k), cat, rnd.choice(brands), price))

first = ["Иван", "Пётр", "Анна", "Мария", "Сергей", "Ольга", "Дмитрий", "Елена", "Алексей", "Наталья"]
last = ["Иванов", "Петров", "Сидоров", "Смирнов", "Кузнецов", "Попов", "Васильев", "Соколов"]
segments = ["retail"] * 80 + ["partner"] * 8 + ["homeowner"] * 12

with open(os.path.join(out, "customers.csv"), "w", encoding="utf-8") as f:
    f.write("external_id,name,phone,email,birthday,registered,segments,points,points_expire\n")
    for i in range(n_customers):
        seg = rnd.choice(segments)
        born = datetime.date(rnd.randint(1950, 2004), rnd.randint(1, 12), rnd.randint(1, 28))
        reg = end - datetime.timedelta(days=rnd.randint(367, 1800))  # before the year begins
        pts = rnd.choice([0, 0, 0, rnd.randint(50, 3000)])
        exp = (end + datetime.timedelta(days=rnd.randint(10, 300))).isoformat() if pts else ""
        f.write("erp-%06d,%s %s,+7915%07d,c%06d@example.ru,%s,%sT10:00:00+03:00,%s,%s,%s\n" % (
            i, rnd.choice(first), rnd.choice(last), i, i, born.isoformat(), reg.isoformat(),
            seg, pts if pts else "", exp))

start = end - datetime.timedelta(days=365)
times = sorted(rnd.randint(0, 365 * 86400 - 1) for _ in range(n_receipts))
with open(os.path.join(out, "receipts.jsonl"), "w", encoding="utf-8") as f:
    for i, t in enumerate(times):
        # Day t // 86400 of the year, between 09:00 and 21:00 local time.
        when = (datetime.datetime.combine(start, datetime.time(9))
                + datetime.timedelta(days=t // 86400, seconds=(t % 86400) // 2))
        store, region = rnd.choice(stores + [("web", "moscow")] * 3)
        lines = []
        for k in range(rnd.choice([1, 1, 2, 2, 3, 4, 6])):
            sku, cat, brand, price = rnd.choice(catalogue)
            lines.append({"id": str(k + 1), "sku": sku, "category": cat, "brand": brand,
                          "qty": rnd.choice([1, 1, 1, 2, 3]), "price": "%d.00" % price})
        r = {"id": "R%07d" % i, "time": when.strftime("%Y-%m-%dT%H:%M:%S+03:00"),
             "store": store, "region": region, "channel": "web" if store == "web" else "store",
             "lines": lines}
        if rnd.random() < 0.75:
            r["customer"] = {"phone": "+7915%07d" % rnd.randint(0, n_customers - 1)}
        f.write(json.dumps(r, ensure_ascii=False) + "\n")
print("%s: %d customers, %d receipts from %s to %s" % (out, n_customers, n_receipts, start, end))
