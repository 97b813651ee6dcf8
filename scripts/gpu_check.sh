#!/usr/bin/env bash
# The GPU checks, run on the device machine over what scripts/gpu_pack.sh put in .carry/: the
# gpu-labelled tests, the CUDA (and, on the same machine, CPU) benchmark variants, the
# end-to-end comparison with scikit-learn, and growth with the corpus. Everything is written
# under $OUT (the device tool brings back at most 8 files): summary.txt (device, commit, HBM
# bandwidth, one line per test program and step), tests.log, bench-*.json, compare.log, growth.md.
# Usage: [BUDGET=seconds] bash scripts/gpu_check.sh reddit|news [steps...]
#   steps (default: tests bench): tests, bench, compare, growth. The device tool allows 10
#   minutes a call: every program gets at most what is left of BUDGET (default 540 s), so a
#   call ends in time however slow a step is; split the steps over calls to run them all.
set -uo pipefail
cd "$(dirname "$0")/.."
set_name=${1:?usage: scripts/gpu_check.sh reddit|news [tests] [bench] [compare] [growth]}
shift
steps=("$@")
[ ${#steps[@]} -gt 0 ] || steps=(tests bench)
out=${OUT:-/tmp/tmine-gpu-out}
mkdir -p "$out"
[ -f .carry/bin.tar.xz ] && [ "$(cat .carry/set)" = "$set_name" ] ||
    { echo "gpu_check.sh: .carry holds no '$set_name' pack (scripts/gpu_pack.sh $set_name)" >&2; exit 2; }
work=/tmp/tmine-gpu
rm -rf "$work" && mkdir -p "$work"
xz -dc .carry/bin.tar.xz | tar xf - -C "$work"
xz -dc .carry/lib.tar.xz | tar xf - -C "$work"
# Our programs get the packed libraries through a wrapper; Python (PyTorch, scikit-learn)
# keeps the device's own.
libs="$work/lib:/usr/local/cuda/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
printf '#!/bin/sh\nLD_LIBRARY_PATH="%s" exec "%s/tmine" "$@"\n' "$libs" "$work" > "$work/tmine-run"
chmod +x "$work/tmine-run"
export TMINE_DATA="$PWD/.carry/data"
deadline=$((SECONDS + ${BUDGET:-540}))
summary="$out/summary.txt"
{
    echo "commit $(cat .carry/commit), set $set_name, steps ${steps[*]}, $(date -u +%FT%TZ)"
    nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm,clocks.max.mem --format=csv,noheader
    nproc | sed 's/^/host cores: /'
} | tee -a "$summary"
# The memory floor's denominator: a device-to-device copy of 1 GiB (bytes read + written).
python3 - <<'PY' 2>&1 | tee -a "$summary"
import torch
n = 1 << 30
a = torch.empty(n // 4, dtype=torch.float32, device="cuda")
b = torch.empty_like(a)
for _ in range(3):
    b.copy_(a)
s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
torch.cuda.synchronize()
s.record()
for _ in range(20):
    b.copy_(a)
e.record()
torch.cuda.synchronize()
ms = s.elapsed_time(e) / 20
print(f"hbm: {2 * n / ms / 1e6:.0f} GB/s (copy of 1 GiB: {ms:.3f} ms, read + write)")
PY

step() {  # name, seconds, command...: runs it time-boxed (and within the budget), one summary line
    local name=$1 limit=$2; shift 2
    local left=$((deadline - SECONDS)) t0=$SECONDS
    [ "$limit" -le "$left" ] || limit=$left
    if [ "$limit" -lt 5 ]; then
        echo "$name: not run (budget spent)" | tee -a "$summary"
        return
    fi
    timeout -k 10 "$limit" "$@"
    local rc=$?
    echo "$name: rc=$rc in $((SECONDS - t0)) s$([ $rc -eq 124 ] && echo ' (time limit)')" | tee -a "$summary"
}

for s in "${steps[@]}"; do
    case "$s" in
    tests)
        for t in "$work"/tests/*_cuda_test; do
            name=$(basename "$t")
            [ "$set_name" = news ] && [ "$name" != classify_cuda_test ] && continue
            echo "=== $name" >> "$out/tests.log"
            step "$name" 300 env LD_LIBRARY_PATH="$libs" "$t" >> "$out/tests.log" 2>&1
        done
        grep -E '^=== |^\[  PASSED  \] [0-9]+ test|^\[  FAILED  \] [A-Za-z]|^\[  SKIPPED \] [0-9]+ test' \
            "$out/tests.log" | tee -a "$summary"
        ;;
    bench)
        if [ "$set_name" = reddit ]; then
            for b in vectorize nmf minhash; do
                step "${b}_bench" 240 env LD_LIBRARY_PATH="$libs" "$work/bench/${b}_bench" --benchmark_out="$out/bench-$b.json" \
                    --benchmark_out_format=json >> "$out/tests.log" 2>&1
            done
            step "classify_bench (scoring)" 120 env LD_LIBRARY_PATH="$libs" "$work/bench/classify_bench" --benchmark_filter=score \
                --benchmark_out="$out/bench-score.json" --benchmark_out_format=json >> "$out/tests.log" 2>&1
        else
            step "classify_bench (20 Newsgroups)" 300 env LD_LIBRARY_PATH="$libs" "$work/bench/classify_bench" --benchmark_filter=20news \
                --benchmark_out="$out/bench-classify.json" --benchmark_out_format=json >> "$out/tests.log" 2>&1
        fi
        ;;
    compare)
        [ "$set_name" = reddit ] || { echo "compare: needs the reddit pack" | tee -a "$summary"; continue; }
        PYTHONUNBUFFERED=1 step compare 420 python3 bench/compare_sklearn.py --tmine "$work/tmine-run" \
            --data ".carry/data/reddit-comments-2020-08_2022-07.jsonl.gz" --no-classify \
            --json "$out/compare.json" > "$out/compare.log" 2>&1
        tail -25 "$out/compare.log" >> "$summary"
        ;;
    growth)
        [ "$set_name" = reddit ] || { echo "growth: needs the reddit pack" | tee -a "$summary"; continue; }
        DEVICE=cuda FACTORS="${FACTORS:-1 4 16}" step growth 540 bash bench/growth.sh "$work/tmine-run" \
            ".carry/data/reddit-comments-2020-08_2022-07.jsonl.gz" > "$out/growth.md" 2>> "$out/tests.log"
        cat "$out/growth.md" >> "$summary"
        ;;
    *) echo "gpu_check.sh: unknown step '$s'" | tee -a "$summary" ;;
    esac
done
