#!/usr/bin/env bash
# Installs what tmine builds against, from Debian 12 packages (run as root). The CUDA toolkit
# is expected at /usr/local/cuda; without it the build is CPU-only and still passes its tests.
set -euo pipefail
pkgs=(build-essential cmake pkg-config git
      rapidjson-dev libcli11-dev zlib1g-dev libutf8proc-dev libxxhash-dev libstemmer-dev libopenblas-openmp-dev
      libgtest-dev libgmock-dev libbenchmark-dev liblbfgs-dev libcld2-dev manpages-fr
      libopenmpi-dev openmpi-bin)
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "install-deps: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ -x /usr/local/cuda/bin/nvcc ]; then
    echo "install-deps: CUDA toolkit $(/usr/local/cuda/bin/nvcc --version | sed -n 's/.*release \([0-9.]*\).*/\1/p') at /usr/local/cuda" >&2
else
    echo "install-deps: no CUDA toolkit at /usr/local/cuda: the build will be CPU-only" >&2
fi
