#!/usr/bin/env python3
"""Makes data/demo/reddit-demo.jsonl.gz: the first 500 comments of each of the 24 months in
../shared/data/reddit-comments-2020-08_2022-07.jsonl.gz (12,000 comments, lines unchanged).
Run from the repository root: python3 scripts/make_demo.py
"""
import collections
import gzip
import json
import os

SRC = os.path.join("..", "shared", "data", "reddit-comments-2020-08_2022-07.jsonl.gz")
DST = os.path.join("data", "demo", "reddit-demo.jsonl.gz")
PER_MONTH = 500

per_month = collections.Counter()
os.makedirs(os.path.dirname(DST), exist_ok=True)
with gzip.open(SRC, "rb") as src, gzip.GzipFile(DST, "wb", mtime=0) as dst:
    for line in src:
        t = json.loads(line)["created_utc"]
        import datetime
        month = datetime.datetime.utcfromtimestamp(int(t)).strftime("%Y-%m")
        if per_month[month] < PER_MONTH:
            per_month[month] += 1
            dst.write(line)
print(f"{DST}: {sum(per_month.values())} comments over {len(per_month)} months")
