#!/usr/bin/env bash
# README command 1: install, build, and run tmine on the committed demo sample; prints topics.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" --target tmine
./build/tmine run data/demo/reddit-demo.jsonl.gz \
    --text-field body --time-field created_utc --source-field subreddit \
    --clean all --lang en --min-df 5 --max-df 0.5 --stop-words english -k 12 -o out/demo "$@"
echo "demo: topics in out/demo/topics.json, the report in out/demo/report.html," \
     "per-document topics in out/demo/documents.csv, the cleaning in out/demo/clean.json" >&2
