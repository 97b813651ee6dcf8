#!/usr/bin/env bash
# The GPU checks, run on the device machine over what scripts/gpu_pack.sh put in .carry/, in
# one call and in order of what matters most, each program time-boxed and all of them within
# BUDGET seconds (default 500, inside the device tool's 10 minutes a call and well inside a
# session's 15 device-minutes):
#   tests     every *_cuda_test program (CPU vs CUDA agreement on the real corpora)
#   bench     the CUDA benchmark variants (JSON), then floors.md: bench/floors.py puts the
#             floor (bytes moved over the bandwidth measured here) beside each figure
#   compare   bench/compare_sklearn.py: scikit-learn, tmine --device cpu and --device cuda on
#             the Reddit comments and 20 Newsgroups, on this machine, in one run
#   growth    bench/growth.sh with DEVICE=cuda at 1x, 16x (7.7 M documents) and 4x the Reddit corpus
#   cpubench  the CPU benchmark variants on this machine's cores (same programs, same data)
#   profile   Nsight Compute over a few NMF iterations: time and DRAM bytes per kernel
# A step that no longer fits the budget is listed as not run; rerun it with its name.
# Everything lands under $OUT (the device tool brings back at most 8 files): summary.txt,
# tests.log, bench.json (the CUDA variants of all programs), cpubench.json, floors.md,
# compare.log, growth.md, profile.csv.
# Usage: [BUDGET=seconds] bash scripts/gpu_check.sh [steps...]
set -uo pipefail
cd "$(dirname "$0")/.."
steps=("$@")
[ ${#steps[@]} -gt 0 ] || steps=(tests bench compare growth cpubench profile)
out=${OUT:-/tmp/tmine-gpu-out}
mkdir -p "$out"
[ -f .carry/bin.tar.xz ] && [ -f .carry/data/20news-bydate.tar.xz ] ||
    { echo "gpu_check.sh: .carry holds no pack (run scripts/gpu_pack.sh first)" >&2; exit 2; }
t_start=$SECONDS
deadline=$((SECONDS + ${BUDGET:-500}))
work=/tmp/tmine-gpu
rm -rf "$work" && mkdir -p "$work/data"
xz -dc .carry/bin.tar.xz | tar xf - -C "$work" &
xz -dc .carry/lib.tar.xz | tar xf - -C "$work" &
for f in .carry/data/*.xz; do
    b=$(basename "$f" .xz)
    (xz -dc "$f" | gzip -1 > "$work/data/$b.gz") &
done
wait
# Our programs get the packed libraries through a wrapper; Python (PyTorch, scikit-learn)
# keeps the device's own.
libs="$work/lib:/usr/local/cuda/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
printf '#!/bin/sh\nLD_LIBRARY_PATH="%s" exec "%s/tmine" "$@"\n' "$libs" "$work" > "$work/tmine-run"
chmod +x "$work/tmine-run"
export TMINE_DATA="$work/data"
reddit="$work/data/reddit-comments-2020-08_2022-07.jsonl.gz"
news="$work/data/20news-bydate.tar.gz"
summary="$out/summary.txt"
{
    echo "commit $(tr '\n' ' ' < .carry/commit), steps ${steps[*]}, $(date -u +%FT%TZ), unpacked in $((SECONDS - t_start)) s"
    nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm,clocks.max.mem --format=csv,noheader
    nproc | sed 's/^/host cores: /'
} | tee -a "$summary"
# The floors' denominators: a device-to-device copy of 1 GiB (bytes read + written), and
# host-to-device / device-to-host copies of 256 MiB from ordinary (pageable) host memory, as
# tmine's arrays are, and from pinned memory for comparison.
python3 - "$out/bandwidth.json" <<'PY' 2>&1 | tee -a "$summary"
import json, sys
try:
    import torch
    torch.cuda.init()
except Exception as e:
    sys.exit(f"bandwidth: not measured ({e})")
def timed(fn, reps):
    for _ in range(2):
        fn()
    s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    torch.cuda.synchronize()
    s.record()
    for _ in range(reps):
        fn()
    e.record()
    torch.cuda.synchronize()
    return s.elapsed_time(e) / reps / 1e3
n = 1 << 30
a = torch.empty(n // 4, dtype=torch.float32, device="cuda")
b = torch.empty_like(a)
hbm = 2 * n / timed(lambda: b.copy_(a), 20) / 1e9
# The compute floor's denominator: a large FP32 SGEMM with TF32 off (TFLOP/s).
torch.backends.cuda.matmul.allow_tf32 = False
g = 8192
x = torch.rand(g, g, device="cuda")
y = torch.rand(g, g, device="cuda")
z = torch.empty(g, g, device="cuda")
fp32 = 2 * g ** 3 / timed(lambda: torch.matmul(x, y, out=z), 10) / 1e12
del x, y, z
m = 256 << 20
d = torch.empty(m // 4, dtype=torch.float32, device="cuda")
res = {"hbm": hbm, "fp32": fp32}
for pinned in (False, True):
    h = torch.ones(m // 4, dtype=torch.float32, pin_memory=pinned)
    up = m / timed(lambda: d.copy_(h), 5) / 1e9
    down = m / timed(lambda: h.copy_(d), 5) / 1e9
    key = "" if not pinned else "_pinned"
    res["h2d" + key], res["d2h" + key] = up, down
print("bandwidth GB/s: hbm copy %.0f; pageable h2d %.1f d2h %.1f; pinned h2d %.1f d2h %.1f; "
      "fp32 sgemm %.1f TFLOP/s"
      % (res["hbm"], res["h2d"], res["d2h"], res["h2d_pinned"], res["d2h_pinned"], res["fp32"]))
json.dump(res, open(sys.argv[1], "w"))
PY

step() {  # name, seconds, command...: runs it time-boxed (and within the budget), one summary line
    local name=$1 limit=$2; shift 2
    local left=$((deadline - SECONDS)) t0=$SECONDS
    [ "$limit" -le "$left" ] || limit=$left
    if [ "$limit" -lt 10 ]; then
        echo "$name: not run (budget spent)" | tee -a "$summary"
        return
    fi
    timeout -k 10 "$limit" "$@"
    local rc=$?
    echo "$name: rc=$rc in $((SECONDS - t0)) s$([ $rc -eq 124 ] && echo ' (time limit)')" | tee -a "$summary"
}
bench() {  # out-json, filter: every benchmark program's variants matching filter, one JSON each
    local json=$1 filter=$2 b
    for b in vectorize nmf minhash classify; do
        step "${b}_bench $filter" 150 env LD_LIBRARY_PATH="$libs" "$work/bench/${b}_bench" \
            --benchmark_filter="$filter" --benchmark_out="$work/$b-$json" \
            --benchmark_out_format=json >> "$out/tests.log" 2>&1
    done
    python3 - "$out/$json" "$work"/*-"$json" <<'PY'
import json, sys
merged = None
for p in sys.argv[2:]:
    try:
        d = json.load(open(p))
    except (OSError, ValueError):
        continue
    if merged is None:
        merged = d
    else:
        merged["benchmarks"] += d["benchmarks"]
json.dump(merged or {"benchmarks": []}, open(sys.argv[1], "w"), indent=1)
PY
}

for s in "${steps[@]}"; do
    case "$s" in
    tests)
        # cuda_libraries_test first: when cuBLAS/cuSPARSE do not load, every GPU test fails
        # with that reason (TMINE_REQUIRE_GPU=1: a GPU test that cannot start its context fails
        # here instead of skipping), and its log says why at the top.
        for t in "$work"/tests/cuda_libraries_test "$work"/tests/*_cuda_test; do
            [ -x "$t" ] || continue
            name=$(basename "$t")
            echo "=== $name" >> "$out/tests.log"
            step "$name" 150 env TMINE_REQUIRE_GPU=1 LD_LIBRARY_PATH="$libs" "$t" >> "$out/tests.log" 2>&1
        done
        grep -E '^=== |^\[  PASSED  \] [0-9]+ test|^\[  FAILED  \] [A-Za-z]|^\[  SKIPPED \] [0-9]+ test' \
            "$out/tests.log" | tee -a "$summary"
        # Two float32 fits that differ in their bits: is it cuSPARSE's SpMM algorithm? The
        # same test with the others (kernels/sparse_cuda.cuh, preferred_spmm_alg).
        if grep -q '^\[  FAILED  \] NmfCuda.Tf32StaysCloseToFloat32' "$out/tests.log"; then
            for alg in alg3 alg1; do
                echo "=== nmf_cuda_test, TMINE_SPMM_ALG=$alg" >> "$out/tests.log"
                step "spmm $alg" 60 env LD_LIBRARY_PATH="$libs" TMINE_SPMM_ALG=$alg "$work/tests/nmf_cuda_test" \
                    --gtest_filter='NmfCuda.Tf32StaysCloseToFloat32' >> "$out/tests.log" 2>&1
                grep -E "^=== nmf_cuda_test, TMINE_SPMM_ALG=$alg" -A200 "$out/tests.log" |
                    grep -E '^\[  (PASSED|FAILED) ' | sed "s/^/TMINE_SPMM_ALG=$alg: /" | tee -a "$summary"
            done
        fi
        ;;
    bench)
        bench bench.json /cuda
        if [ -f "$out/bandwidth.json" ]; then
            python3 bench/floors.py "$out/bandwidth.json" "$out/bench.json" > "$out/floors.md"
            cat "$out/floors.md" >> "$summary"
        else
            echo "floors: no bandwidth measured" | tee -a "$summary"
        fi
        ;;
    cpubench)
        bench cpubench.json /cpu
        ;;
    compare)
        PYTHONUNBUFFERED=1 step compare 200 python3 bench/compare_sklearn.py --tmine "$work/tmine-run" \
            --data "$reddit" --news "$news" --json "$out/compare.json" > "$out/compare.log" 2>&1
        tail -32 "$out/compare.log" >> "$summary"
        ;;
    growth)
        DEVICE=cuda FACTORS="${FACTORS:-1 16 4}" step growth 200 bash bench/growth.sh "$work/tmine-run" \
            "$reddit" > "$out/growth.md" 2>> "$out/tests.log"
        cat "$out/growth.md" >> "$summary"
        ;;
    profile)
        ncu=$(command -v ncu || ls /opt/nvidia/nsight-compute/*/ncu /usr/local/cuda/bin/ncu 2> /dev/null | head -1)
        if [ -z "$ncu" ]; then
            echo "profile: ncu not found" | tee -a "$summary"
            continue
        fi
        # After the warm-up fit's kernels: about three MU iterations' launches.
        step profile 120 env LD_LIBRARY_PATH="$libs" "$ncu" --launch-skip 120 --launch-count 45 --csv \
            --metrics gpu__time_duration.sum,dram__bytes_read.sum,dram__bytes_write.sum \
            "$work/bench/nmf_bench" --benchmark_filter='nmf_iters/cuda/mu' --benchmark_min_time=0.01 \
            > "$out/profile.csv" 2>> "$out/tests.log"
        ;;
    *) echo "gpu_check.sh: unknown step '$s'" | tee -a "$summary" ;;
    esac
done
echo "total $((SECONDS - t_start)) s" | tee -a "$summary"
