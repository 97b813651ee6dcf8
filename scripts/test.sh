#!/usr/bin/env bash
# README command 2 (and what .ci/run calls): install, build with the CUDA twins compiled in,
# run the test suite (with MPI: the distributed fit against one process); then the CPU-only
# build without MPI (-DTMINE_CUDA=OFF -DTMINE_MPI=OFF) and its tests; then the
# emulation build (-DTMINE_CUDA_EMULATION=ON, tests/cuda_emulation, with AddressSanitizer and
# MPI), where the CUDA twins run on the CPU against checked device memory and the whole suite
# runs on the emulated device.
# In the first build the GPU-labelled tests skip with the reason when no GPU is present
# (ctest lists them as skipped); only there do they say anything about a real GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
jobs=$(nproc)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DTMINE_BENCH=ON
cmake --build build -j"$jobs"
(cd build && ctest -j"$jobs" --output-on-failure)
cmake -S . -B build-cpu -DCMAKE_BUILD_TYPE=Release -DTMINE_CUDA=OFF -DTMINE_MPI=OFF -DTMINE_BENCH=OFF
cmake --build build-cpu -j"$jobs"
(cd build-cpu && ctest -j"$jobs" --output-on-failure)
# Under AddressSanitizer (and its leak checker), which also finds a kernel's reads and writes
# past its buffers. With MPI: the distributed GPU fit runs there, each process on its own
# emulated device (the processes an MPI launcher starts run with leak checking off: Open MPI
# keeps its allocations until exit).
cmake -S . -B build-emu -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTMINE_CUDA_EMULATION=ON -DTMINE_MPI=ON -DTMINE_BENCH=OFF \
    -DCMAKE_CXX_FLAGS="-fsanitize=address -fno-omit-frame-pointer" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address"
cmake --build build-emu -j"$jobs"
(cd build-emu && ctest -j"$jobs" --output-on-failure)
# The gpu-labelled tests again on a 96 MiB emulated device (the tokenizer's and MinHash's
# device batches are many and small there), with blocks and threads run last to first (a
# kernel whose result depends on the order of its threads fails).
(cd build-emu && TMINE_EMU_DEVICE_MIB=96 TMINE_EMU_ORDER=reverse ctest -L gpu -j"$jobs" --output-on-failure)
