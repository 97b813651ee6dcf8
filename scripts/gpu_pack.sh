#!/usr/bin/env bash
# Packs what the GPU checks need into .carry/ (ignored), for the device tool's `carry`: the
# machine there has CUDA but none of our Debian libraries and no network, and the working tree
# plus carried paths may be 64 MiB in all. So: the CUDA build's GPU test and benchmark programs
# and the tmine CLI (xz), the non-CUDA shared libraries they load (xz), and both data sets —
# the Reddit comments and 20 Newsgroups — recompressed with xz (23 + 9 MB instead of 39 + 15 MB
# of gzip), so that one call runs every check; scripts/gpu_check.sh gzips them back there.
# Usage: scripts/gpu_pack.sh   (then, on the device, carrying .carry:
#        bash scripts/gpu_check.sh; docs/benchmarks.md "GPU checks" has the exact call)
set -euo pipefail
cd "$(dirname "$0")/.."
data_dir=${TMINE_DATA:-../shared/data}
files=(reddit-comments-2020-08_2022-07.jsonl.gz 20news-bydate.tar.gz)
for f in "${files[@]}"; do
    [ -f "$data_dir/$f" ] || { echo "gpu_pack.sh: $data_dir/$f not found" >&2; exit 1; }
done

# Its own build folder (CUDA, Release, benchmarks), so that no other build is reconfigured
# (BUILD=build reuses the main CUDA build when it is configured so).
build=${BUILD:-build-gpu}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DTMINE_CUDA=ON -DTMINE_MPI=OFF -DTMINE_BENCH=ON > /dev/null
cmake --build "$build" -j"$(nproc)" > /dev/null

shopt -s nullglob
programs=(tmine)
# (cuda_libraries_test first: it says whether cuBLAS/cuSPARSE load there, which every GPU path needs)
for f in "$build"/tests/cuda_libraries_test "$build"/tests/*_cuda_test "$build"/bench/*_bench; do
    programs+=("${f#"$build"/}")
done
[ ${#programs[@]} -gt 5 ] || { echo "gpu_pack.sh: no CUDA test programs in $build" >&2; exit 1; }
rm -rf .carry && mkdir -p .carry/data .carry/stage/lib
tar cf - -C "$build" "${programs[@]}" | xz -T0 -6 > .carry/bin.tar.xz
# Shared libraries that are not CUDA's and not the C/C++ runtime (the device has newer ones).
ldd "${programs[@]/#/$build/}" | awk '/=> \//{print $3}' | sort -u |
    grep -Ev '/usr/local/cuda|/lib(c|m|dl|rt|pthread|stdc\+\+|gcc_s)\.so' |
    while read -r lib; do cp -L "$lib" .carry/stage/lib/; done
tar cf - -C .carry/stage lib | xz -T0 -6 > .carry/lib.tar.xz
rm -rf .carry/stage
# The data, xz-compressed once (minutes on two cores) and kept in the build folder after that.
mkdir -p "$build/carry-data"
for f in "${files[@]}"; do
    xzf="$build/carry-data/${f%.gz}.xz"
    src=$(stat -L -c %s "$data_dir/$f")
    if [ ! -f "$xzf" ] || [ "$(cat "$xzf.src" 2> /dev/null)" != "$src" ]; then
        gzip -dc "$data_dir/$f" | xz -T0 -9e > "$xzf.tmp" && mv "$xzf.tmp" "$xzf"
        echo "$src" > "$xzf.src"
    fi
    cp "$xzf" .carry/data/
done
git rev-parse --short HEAD > .carry/commit
git diff --quiet HEAD -- . ':!docs' || echo "+ uncommitted changes" >> .carry/commit
du -sh .carry
echo "gpu_pack.sh: carry .carry, then on the device: bash scripts/gpu_check.sh"
