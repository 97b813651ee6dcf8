#!/usr/bin/env bash
# Packs what the GPU checks need into .carry/ (ignored), for the device tool's `carry`: the
# machine there has CUDA but none of our Debian libraries and no network, and the working tree
# plus carried paths may be 64 MiB in all. So: the CUDA build's GPU test and benchmark programs
# and the tmine CLI (xz), the non-CUDA shared libraries they load (xz), and one data set —
# the Reddit comments (38 MB) or 20 Newsgroups (15 MB); both do not fit in one call.
# Usage: scripts/gpu_pack.sh reddit|news    (then run scripts/gpu_check.sh with the same word
# on the device, carrying .carry; docs/benchmarks.md "GPU checks" has the exact call)
set -euo pipefail
cd "$(dirname "$0")/.."
set_name=${1:?usage: scripts/gpu_pack.sh reddit|news}
data_dir=${TMINE_DATA:-../shared/data}
case "$set_name" in
    reddit) data_file=reddit-comments-2020-08_2022-07.jsonl.gz ;;
    news) data_file=20news-bydate.tar.gz ;;
    *) echo "gpu_pack.sh: expected reddit or news, got '$set_name'" >&2; exit 2 ;;
esac
[ -f "$data_dir/$data_file" ] || { echo "gpu_pack.sh: $data_dir/$data_file not found" >&2; exit 1; }

# Its own build folder (CUDA, Release, benchmarks), so that no other build is reconfigured.
build=build-gpu
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DTMINE_CUDA=ON -DTMINE_BENCH=ON > /dev/null
cmake --build "$build" -j"$(nproc)" > /dev/null

shopt -s nullglob
programs=(tmine)
for f in "$build"/tests/*_cuda_test "$build"/bench/*_bench; do programs+=("${f#"$build"/}"); done
[ ${#programs[@]} -gt 5 ] || { echo "gpu_pack.sh: no CUDA test programs in $build" >&2; exit 1; }
rm -rf .carry && mkdir -p .carry/data .carry/stage/lib
tar cf - -C "$build" "${programs[@]}" | xz -T0 -6 > .carry/bin.tar.xz
# Shared libraries that are not CUDA's and not the C/C++ runtime (the device has newer ones).
ldd "${programs[@]/#/$build/}" | awk '/=> \//{print $3}' | sort -u |
    grep -Ev '/usr/local/cuda|/lib(c|m|dl|rt|pthread|stdc\+\+|gcc_s)\.so' |
    while read -r lib; do cp -L "$lib" .carry/stage/lib/; done
tar cf - -C .carry/stage lib | xz -T0 -6 > .carry/lib.tar.xz
rm -rf .carry/stage
cp "$data_dir/$data_file" .carry/data/
echo "$set_name" > .carry/set
git rev-parse --short HEAD > .carry/commit
du -sh .carry
echo "gpu_pack.sh: carry .carry, then on the device: bash scripts/gpu_check.sh $set_name"
