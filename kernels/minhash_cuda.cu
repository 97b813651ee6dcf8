// CUDA twin of cpu_impl::minhash_signatures (host/src/clean_minhash.cpp): the same hash family
// h_i(x) = uint32((a_i * x + b_i) >> 32) in 64-bit wrap-around integer arithmetic, so the
// signatures are identical to the CPU's for the same seed (integer minima, no rounding).
// One warp per document; each lane owns hash functions lane, lane + 32, ... and scans the
// document's shingles (read once per warp through the L1 cache).
#include <algorithm>
#include <cstdint>
#include <limits>

#include "cuda_resources.cuh"
#include "tmine/clean.hpp"
#include "tmine/context.hpp"

namespace tmine::cuda_impl {
namespace {

constexpr int kWarpsPerBlock = 8;
constexpr int kMaxHashes = 1024;

/// Documents [0, n_docs) of a batch; offsets[d] - base indexes the batch's shingles.
__global__ void minhash_kernel(const uint64_t* __restrict__ offsets, uint64_t base, int64_t n_docs,
                               const uint64_t* __restrict__ shingles,
                               const uint64_t* __restrict__ a, const uint64_t* __restrict__ b,
                               int K, uint32_t* __restrict__ sig) {
    const int lane = threadIdx.x & 31;
    const int64_t warp = (int64_t(blockIdx.x) * blockDim.x + threadIdx.x) >> 5;
    const int64_t n_warps = (int64_t(gridDim.x) * blockDim.x) >> 5;
    for (int64_t d = warp; d < n_docs; d += n_warps) {
        const uint64_t lo = offsets[d] - base, hi = offsets[d + 1] - base;
        for (int i0 = 0; i0 < K; i0 += 32) {
            const int i = i0 + lane;
            if (i >= K) break;
            const uint64_t ai = a[i], bi = b[i];
            uint32_t m = 0xffffffffu;
            for (uint64_t s = lo; s < hi; ++s) {
                const uint32_t v = uint32_t((ai * __ldg(shingles + s) + bi) >> 32);
                m = v < m ? v : m;
            }
            sig[d * K + i] = m;
        }
    }
}

}  // namespace

std::vector<uint32_t> minhash_signatures(const Context& ctx, const ShingleSets& sets,
                                         const MinHashFamily& f, int64_t batch_bytes) {
    const int K = f.size();
    TMINE_ASSERT(K >= 1 && K <= kMaxHashes, "MinHash: number of hashes out of range");
    const int64_t n = int64_t(sets.size());
    std::vector<uint32_t> sig(size_t(n) * size_t(K));
    if (n == 0) return sig;
    cudaStream_t st = ctx.cuda().stream;
    DeviceBuffer<uint64_t> d_a(f.a.data(), f.a.size(), st), d_b(f.b.data(), f.b.size(), st);
    // Documents in batches whose shingles, offsets and signatures take at most half the free
    // device memory (at least one document each): each document's signature depends on its
    // own shingles only, so the batches' results are the whole corpus's.
    const int64_t budget =
        batch_bytes > 0 ? batch_bytes : std::max<int64_t>(int64_t(64) << 20, free_device_bytes() / 2);
    const auto& off = sets.offsets;
    const int64_t per_doc = int64_t(sizeof(uint64_t)) + int64_t(sizeof(uint32_t)) * K;
    const int threads = 32 * kWarpsPerBlock;
    for (int64_t first = 0; first < n;) {
        int64_t last = first + 1;
        while (last < n && int64_t(off[last + 1] - off[first]) * 8 + (last + 1 - first) * per_doc <= budget)
            ++last;
        const int64_t docs = last - first;
        const uint64_t base = off[first];
        DeviceBuffer<uint64_t> d_off(off.data() + first, docs + 1, st);
        DeviceBuffer<uint64_t> d_sh(sets.shingles.data() + base, off[last] - base, st);
        DeviceBuffer<uint32_t> d_sig(size_t(docs) * size_t(K), st);
        const int64_t blocks = std::min<int64_t>((docs + kWarpsPerBlock - 1) / kWarpsPerBlock, 1 << 20);
        TMINE_LAUNCH(minhash_kernel, unsigned(blocks), threads, st)(d_off.data(), base, docs, d_sh.data(), d_a.data(),
                                                             d_b.data(), K, d_sig.data());
        TMINE_CUDA_LAUNCH_CHECK();
        d_sig.to_host(sig.data() + size_t(first) * size_t(K));
        TMINE_CUDA_CHECK(cudaStreamSynchronize(st));
        first = last;
    }
    return sig;
}

}  // namespace tmine::cuda_impl
