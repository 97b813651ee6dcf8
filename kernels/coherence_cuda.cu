// CUDA twin of cpu_impl::cooccurrence (host/src/interpret.cpp): document frequencies and
// pairwise document co-occurrence of a set of terms. One warp per row of X; each lane takes
// the row's selected entries in turn and counts its pairs with the entries after it with
// integer atomics, so the counts are exact and identical to the CPU's.
#include <algorithm>
#include <vector>

#include "cuda_resources.cuh"
#include "tmine/interpret.hpp"

namespace tmine::cuda_impl {
namespace {

constexpr int kBlock = 256;
constexpr int kWarpsPerBlock = kBlock / 32;

__global__ void count_pairs(const int64_t* __restrict__ indptr, const int32_t* __restrict__ indices,
                            const float* __restrict__ data, int64_t rows,
                            const int32_t* __restrict__ slot, int t,
                            unsigned long long* __restrict__ joint) {
    const int lane = threadIdx.x & 31;
    for (int64_t d = (blockIdx.x * int64_t(kWarpsPerBlock)) + (threadIdx.x >> 5); d < rows;
         d += int64_t(gridDim.x) * kWarpsPerBlock) {
        const int64_t b = indptr[d], e = indptr[d + 1];
        for (int64_t i = b + lane; i < e; i += 32) {
            const int32_t si = data[i] != 0.0f ? slot[indices[i]] : -1;
            if (si < 0) continue;
            for (int64_t j = i; j < e; ++j) {
                const int32_t sj = data[j] != 0.0f ? slot[indices[j]] : -1;
                if (sj < 0) continue;
                const int lo = min(si, sj), hi = max(si, sj);
                atomicAdd(joint + size_t(lo) * t + hi, 1ull);
            }
        }
    }
}

}  // namespace

Cooccurrence cooccurrence(const Context& ctx, const CsrMatrix& X,
                          const std::vector<int32_t>& terms) {
    Resources& r = ctx.cuda();
    const cudaStream_t s = r.stream;
    const int t = static_cast<int>(terms.size());
    std::vector<int32_t> slot(size_t(X.cols), -1);
    for (int i = 0; i < t; ++i) slot[terms[i]] = i;  // validated by the dispatcher

    Cooccurrence c;
    c.documents = X.rows;
    c.terms = terms;
    c.df.assign(t, 0);
    c.joint.assign(size_t(t) * t, 0);
    if (t == 0 || X.rows == 0) return c;

    DeviceBuffer<int64_t> d_indptr(X.indptr.data(), X.indptr.size(), s);
    DeviceBuffer<int32_t> d_indices(X.indices.data(), X.indices.size(), s);
    DeviceBuffer<float> d_data(X.data.data(), X.data.size(), s);
    DeviceBuffer<int32_t> d_slot(slot.data(), slot.size(), s);
    DeviceBuffer<unsigned long long> d_joint(size_t(t) * t, s);
    TMINE_CUDA_CHECK(
        cudaMemsetAsync(d_joint.data(), 0, d_joint.size() * sizeof(unsigned long long), s));

    const int64_t blocks =
        std::min<int64_t>((X.rows + kWarpsPerBlock - 1) / kWarpsPerBlock, 1 << 20);
    TMINE_LAUNCH(count_pairs, unsigned(blocks), kBlock, s)(
        d_indptr.data(), d_indices.data(), d_data.data(), X.rows, d_slot.data(), t, d_joint.data());
    TMINE_CUDA_LAUNCH_CHECK();

    std::vector<unsigned long long> joint(size_t(t) * t);
    d_joint.to_host(joint.data());
    TMINE_CUDA_CHECK(cudaStreamSynchronize(s));
    for (int i = 0; i < t; ++i) {
        c.df[i] = int64_t(joint[size_t(i) * t + i]);
        for (int j = i; j < t; ++j)
            c.joint[size_t(i) * t + j] = c.joint[size_t(j) * t + i] =
                int64_t(joint[size_t(i) * t + j]);
    }
    return c;
}

}  // namespace tmine::cuda_impl
