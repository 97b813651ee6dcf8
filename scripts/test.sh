#!/usr/bin/env bash
# README command 2 (and what .ci/run calls): install, build with the CUDA twins compiled in,
# run the test suite; then the CPU-only build (-DTMINE_CUDA=OFF) and its tests.
# GPU-labelled tests skip with the reason when no GPU is present; ctest lists them as skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
jobs=$(nproc)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DTMINE_BENCH=ON
cmake --build build -j"$jobs"
(cd build && ctest -j"$jobs" --output-on-failure)
cmake -S . -B build-cpu -DCMAKE_BUILD_TYPE=Release -DTMINE_CUDA=OFF -DTMINE_BENCH=OFF
cmake --build build-cpu -j"$jobs"
(cd build-cpu && ctest -j"$jobs" --output-on-failure)
