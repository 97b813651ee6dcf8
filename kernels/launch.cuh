#pragma once
// Shared by the one-thread-per-item kernels of vectorize_cuda.cu and tokenize_cuda.cu: launch
// sizes for grid-stride loops (the device's free memory, what batch sizes derive from, is in
// cuda_resources.cuh).
#include <algorithm>
#include <cstdint>

#include "cuda_resources.cuh"

namespace tmine::cuda_impl {

constexpr int kBlock = 256;

/// Blocks for n items at kBlock threads each (grid-stride loops cover the rest past 2^30).
inline unsigned grid_for(int64_t n) {
    return static_cast<unsigned>(std::max<int64_t>(1, std::min<int64_t>((n + kBlock - 1) / kBlock, 1 << 30)));
}

}  // namespace tmine::cuda_impl
