#pragma once
// Shared by the one-thread-per-item kernels of vectorize_cuda.cu and tokenize_cuda.cu: launch
// sizes for grid-stride loops, and the device's free memory (what batch sizes derive from).
#include <algorithm>
#include <cstdint>

#include "cuda_check.cuh"

namespace tmine::cuda_impl {

constexpr int kBlock = 256;

/// Blocks for n items at kBlock threads each (grid-stride loops cover the rest past 2^30).
inline unsigned grid_for(int64_t n) {
    return static_cast<unsigned>(std::max<int64_t>(1, std::min<int64_t>((n + kBlock - 1) / kBlock, 1 << 30)));
}

/// Free bytes on the current device.
inline int64_t free_device_bytes() {
    size_t free_b = 0, total_b = 0;
    TMINE_CUDA_CHECK(cudaMemGetInfo(&free_b, &total_b));
    return static_cast<int64_t>(free_b);
}

}  // namespace tmine::cuda_impl
