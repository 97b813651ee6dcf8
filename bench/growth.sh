#!/usr/bin/env bash
# How time and memory grow with the corpus: the Reddit file ingested 1, 4 and 16 times (the
# same 480,000 comments repeated: 0.48 M, 1.9 M, 7.7 M documents; the count is ingest's), then vectorized and fitted
# (k = 50, 10 iterations, random init so the randomized SVD does not dominate), per stage:
# wall time and peak memory (GNU time).
# Usage: [FACTORS="1 4 16"] [DEVICE=cpu|cuda] bench/growth.sh [TMINE] [DATA]
set -euo pipefail
tmine=${1:-build/tmine}
data=${2:-../shared/data/reddit-comments-2020-08_2022-07.jsonl.gz}
read -r -a factors <<< "${FACTORS:-1 4 16}"
device=${DEVICE:-cpu}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '| corpus | documents | stage | wall s | peak RSS MB | in-process |\n|---|---|---|---|---|---|\n'
for f in "${factors[@]}"; do
    inputs=()
    for ((i = 0; i < f; i++)); do inputs+=("$data"); done
    run() {  # stage name, then the command
        local stage=$1; shift
        /usr/bin/time -f "%e %M" -o "$work/time" "$@" 2> "$work/err" > /dev/null ||
            { cat "$work/err" >&2; exit 1; }
        read -r wall rss < "$work/time"
        # the documents ingested (whatever DATA holds), from ingest's own summary line
        if [[ $stage == ingest ]]; then
            docs=$(grep -o 'wrote [0-9]* documents' "$work/err" | grep -o '[0-9][0-9]*' | head -1)
        fi
        # vectorize's own line: its time split and MB/s of text, from the corpus in memory
        local inproc
        inproc=$(grep -o 'tokenise .*of text)' "$work/err" | head -1 || true)
        printf '| %dx | %s | %s | %s | %d | %s |\n' "$f" "$docs" "$stage" "$wall" $((rss / 1024)) "$inproc"
    }
    docs=?
    run ingest "$tmine" ingest "${inputs[@]}" --text-field body -o "$work/c.tmc"
    run vectorize "$tmine" vectorize "$work/c.tmc" --sklearn-compatible --min-df 5 --max-df 0.5 \
        --stop-words english --device "$device" -o "$work/m.tmx"
    run "topics (k=50, 10 it.)" "$tmine" topics "$work/m.tmx" -k 50 --iters 10 --tol 0 \
        --init random --device "$device" -q -o "$work/model"
    rm -f "$work/c.tmc" "$work/m.tmx"
done
