#!/usr/bin/env python3
"""The floor beside each GPU benchmark figure: bytes moved over measured bandwidth.

Reads Google Benchmark JSON files (bench/*_bench --benchmark_out=...) and the bandwidths that
scripts/gpu_check.sh measured on the same machine (bandwidth.json: hbm, h2d and d2h in GB/s),
and prints a Markdown table, one row per benchmark that declares its traffic:

  - floor_bytes (NMF iterations): the bytes one iteration must move in device memory, over the
    HBM copy bandwidth; design_bytes, the implementation's own passes, is shown beside it.
  - h2d_bytes / d2h_bytes (calls that start and end in host memory: tokenise, vectorize,
    MinHash, scoring): the input up and the result down over the measured PCIe bandwidths.
  - flops (NMF iterations, SpMM, the classifier's epoch): the arithmetic over the measured FP32
    rate (fp32, TFLOP/s of a large SGEMM without TF32); where a benchmark has bytes too, its
    floor is the larger of the two, and the table says which one binds.

The ratio measured / floor says how close to the hardware a figure is (1.0 is the floor).

Usage: bench/floors.py bandwidth.json bench-nmf.json [bench-*.json ...]
"""
import json
import sys

UNIT = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}


def seconds(b):
    """Seconds per call (or per NMF iteration, where the benchmark reports s_per_iter)."""
    if "s_per_iter" in b:
        return b["s_per_iter"], "s/iteration"
    return b["real_time"] * UNIT[b.get("time_unit", "ns")], "s/call"


def fmt_time(s):
    return f"{s * 1e3:.3f} ms" if s < 1 else f"{s:.2f} s"


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    with open(argv[1]) as f:
        bw = json.load(f)
    rows = []
    for path in argv[2:]:
        try:
            with open(path) as f:
                data = json.load(f)
        except (OSError, ValueError) as e:
            print(f"floors.py: {path}: {e}", file=sys.stderr)
            continue
        for b in data.get("benchmarks", []):
            if b.get("error_occurred") or b.get("run_type") == "aggregate":
                continue
            t, per = seconds(b)
            floor, what = 0.0, ""
            if "floor_bytes" in b:
                floor = b["floor_bytes"] / (bw["hbm"] * 1e9)
                what = f"{b['floor_bytes'] / 1e6:.0f} MB at {bw['hbm']:.0f} GB/s HBM"
                if "design_bytes" in b:
                    what += (f" (design {b['design_bytes'] / 1e6:.0f} MB: "
                             f"{fmt_time(b['design_bytes'] / (bw['hbm'] * 1e9))})")
            elif "h2d_bytes" in b:
                floor = b["h2d_bytes"] / (bw["h2d"] * 1e9) + b.get("d2h_bytes", 0) / (bw["d2h"] * 1e9)
                what = (f"{b['h2d_bytes'] / 1e6:.0f} MB up at {bw['h2d']:.1f} GB/s + "
                        f"{b.get('d2h_bytes', 0) / 1e6:.0f} MB down at {bw['d2h']:.1f} GB/s")
            if "flops" in b and bw.get("fp32"):
                compute = b["flops"] / (bw["fp32"] * 1e12)
                flops = f"{b['flops'] / 1e9:.2f} GFLOP at {bw['fp32']:.1f} TFLOP/s FP32: {fmt_time(compute)}"
                if what:
                    binds = "bytes bind" if floor >= compute else "flops bind"
                    what += f"; {flops} ({binds})"
                else:
                    what = flops
                floor = max(floor, compute)
            if not what:
                continue
            rows.append((b["name"], f"{fmt_time(t)} ({per})", what, fmt_time(floor),
                         f"{t / floor:.1f}x" if floor > 0 else "-"))
    print("| benchmark | measured | bytes and bandwidth | floor | measured / floor |")
    print("|---|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")
    if not rows:
        print("| (no benchmark with a traffic counter ran) | | | | |")


if __name__ == "__main__":
    main(sys.argv)
