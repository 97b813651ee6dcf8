// CUDA twin of the counting and TF-IDF weighting of host/src/vectorize_cpu.cpp.
// Thrust sorts (doc, term) keys and reduces them to counts; kernels compute document
// frequencies and the weights. Results are identical to the CPU reference: integer counts
// are exact, and each row's weights and norm are computed by one thread in the CPU's order
// with explicitly rounded double operations (no FMA contraction).
#include <thrust/binary_search.h>
#include <thrust/device_ptr.h>
#include <thrust/execution_policy.h>
#include <thrust/iterator/constant_iterator.h>
#include <thrust/iterator/counting_iterator.h>
#include <thrust/iterator/transform_iterator.h>
#include <thrust/reduce.h>
#include <thrust/scan.h>
#include <thrust/sort.h>

#include <algorithm>
#include <cmath>

#include "cuda_resources.cuh"
#include "launch.cuh"
#include "tmine/vectorize.hpp"

namespace tmine::cuda_impl {
namespace {

/// key = doc << 32 | term for every token.
__global__ void make_keys(const int64_t* __restrict__ doc_ptr, int64_t n_docs,
                          const int32_t* __restrict__ tokens, int64_t n_tokens,
                          uint64_t* __restrict__ keys) {
    for (int64_t t = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; t < n_tokens;
         t += int64_t(gridDim.x) * blockDim.x) {
        int64_t lo = 0, hi = n_docs;  // last doc with doc_ptr[d] <= t
        while (hi - lo > 1) {
            int64_t mid = (lo + hi) / 2;
            if (doc_ptr[mid] <= t) lo = mid; else hi = mid;
        }
        keys[t] = (uint64_t(lo) << 32) | uint32_t(tokens[t]);
    }
}

/// Splits unique keys into CSR columns/counts and accumulates df and totals.
__global__ void split_keys(const uint64_t* __restrict__ keys, const int32_t* __restrict__ counts,
                           int64_t nnz, int32_t* __restrict__ cols, float* __restrict__ vals,
                           int32_t* __restrict__ df, unsigned long long* __restrict__ total) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < nnz;
         i += int64_t(gridDim.x) * blockDim.x) {
        int32_t c = int32_t(keys[i] & 0xffffffffu);
        cols[i] = c;
        vals[i] = float(counts[i]);
        atomicAdd(df + c, 1);
        atomicAdd(total + c, static_cast<unsigned long long>(counts[i]));
    }
}

struct DocStart {
    __host__ __device__ uint64_t operator()(int64_t d) const { return uint64_t(d) << 32; }
};

__global__ void kept_per_row(const int64_t* __restrict__ indptr, const int32_t* __restrict__ cols,
                             const int32_t* __restrict__ keep, int64_t n, int64_t* __restrict__ out) {
    for (int64_t d = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; d < n;
         d += int64_t(gridDim.x) * blockDim.x) {
        int64_t c = 0;
        for (int64_t p = indptr[d]; p < indptr[d + 1]; ++p) c += keep[cols[p]] >= 0;
        out[d] = c;
    }
}

__global__ void weight_rows(const int64_t* __restrict__ indptr, const int32_t* __restrict__ cols,
                            const float* __restrict__ counts, const int32_t* __restrict__ keep,
                            const double* __restrict__ idf, const double* __restrict__ tf_table,
                            int64_t n, const int64_t* __restrict__ out_ptr,
                            int32_t* __restrict__ out_cols, float* __restrict__ out_vals) {
    for (int64_t d = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; d < n;
         d += int64_t(gridDim.x) * blockDim.x) {
        double sumsq = 0.0;
        for (int64_t p = indptr[d]; p < indptr[d + 1]; ++p) {
            int32_t c = keep[cols[p]];
            if (c < 0) continue;
            double tf = tf_table ? tf_table[int64_t(counts[p])] : double(counts[p]);
            double v = __dmul_rn(tf, idf[c]);
            sumsq = __dadd_rn(sumsq, __dmul_rn(v, v));
        }
        double norm = __dsqrt_rn(sumsq);
        int64_t o = out_ptr[d];
        for (int64_t p = indptr[d]; p < indptr[d + 1]; ++p) {
            int32_t c = keep[cols[p]];
            if (c < 0) continue;
            double tf = tf_table ? tf_table[int64_t(counts[p])] : double(counts[p]);
            double v = __dmul_rn(tf, idf[c]);
            out_cols[o] = c;
            out_vals[o] = __double2float_rn(norm > 0 ? __ddiv_rn(v, norm) : v);
            ++o;
        }
    }
}

}  // namespace

// Device bytes per counted token: the token, its 64-bit key and the sorted unique keys, the
// counts, and Thrust's sort and reduce buffers (about as much again).
constexpr int64_t kCountBytesPerToken = 64;

int64_t count_chunk_tokens(const Context& ctx) {
    (void)ctx.cuda();
    return std::max<int64_t>(1 << 20, free_device_bytes() / 2 / kCountBytesPerToken);
}

TermCounts count_terms(const Context& ctx, const Tokenized& tok) {
    return count_terms(ctx, TokenSpan::of(tok, 0, static_cast<int64_t>(tok.doc_ptr.size()) - 1));
}

namespace {

/// Term counts of a span, on the device: CSR rows (int64 offsets, int32 columns, counts as
/// float), document frequencies and totals per term.
struct DeviceCounts {
    int64_t n = 0, V = 0, nnz = 0;
    DeviceBuffer<int64_t> indptr;
    DeviceBuffer<int32_t> cols, df;
    DeviceBuffer<float> vals;
    DeviceBuffer<unsigned long long> total;
};

DeviceCounts count_on_device(Resources& r, const TokenSpan& tok) {
    cudaStream_t s = r.stream;
    PoolAllocator pool(s);
    auto policy = on_stream(pool, s);
    DeviceCounts c;
    c.n = tok.documents();
    c.V = tok.vocab_size;
    const int64_t T = tok.size();
    c.indptr = DeviceBuffer<int64_t>(c.n + 1, s);
    c.df = DeviceBuffer<int32_t>(c.V, s);
    c.total = DeviceBuffer<unsigned long long>(c.V, s);
    if (c.V > 0) {
        TMINE_CUDA_CHECK(cudaMemsetAsync(c.df.data(), 0, c.V * sizeof(int32_t), s));
        TMINE_CUDA_CHECK(cudaMemsetAsync(c.total.data(), 0, c.V * sizeof(unsigned long long), s));
    }
    if (T == 0) {
        TMINE_CUDA_CHECK(cudaMemsetAsync(c.indptr.data(), 0, (c.n + 1) * sizeof(int64_t), s));
        return c;
    }
    DeviceBuffer<int64_t> doc_ptr(tok.doc_ptr.data(), c.n + 1, s);
    DeviceBuffer<int32_t> tokens(tok.tokens, T, s);
    DeviceBuffer<uint64_t> keys(T, s);
    TMINE_LAUNCH(make_keys, grid_for(T), kBlock, s)(doc_ptr.data(), c.n, tokens.data(), T, keys.data());
    TMINE_CUDA_LAUNCH_CHECK();
    thrust::device_ptr<uint64_t> k(keys.data());
    thrust::sort(policy, k, k + T);
    DeviceBuffer<uint64_t> ukeys(T, s);
    DeviceBuffer<int32_t> counts(T, s);
    auto ends = thrust::reduce_by_key(policy, k, k + T, thrust::constant_iterator<int32_t>(1),
                                      thrust::device_ptr<uint64_t>(ukeys.data()),
                                      thrust::device_ptr<int32_t>(counts.data()));
    c.nnz = ends.first - thrust::device_ptr<uint64_t>(ukeys.data());
    // lower_bound of (n << 32) is nnz: the last offset comes out right.
    thrust::lower_bound(policy, thrust::device_ptr<uint64_t>(ukeys.data()),
                        thrust::device_ptr<uint64_t>(ukeys.data()) + c.nnz,
                        thrust::make_transform_iterator(thrust::counting_iterator<int64_t>(0), DocStart()),
                        thrust::make_transform_iterator(thrust::counting_iterator<int64_t>(c.n + 1), DocStart()),
                        thrust::device_ptr<int64_t>(c.indptr.data()));
    c.cols = DeviceBuffer<int32_t>(c.nnz, s);
    c.vals = DeviceBuffer<float>(c.nnz, s);
    TMINE_LAUNCH(split_keys, grid_for(c.nnz), kBlock, s)(ukeys.data(), counts.data(), c.nnz, c.cols.data(),
                                                  c.vals.data(), c.df.data(), c.total.data());
    TMINE_CUDA_LAUNCH_CHECK();
    return c;
}

/// Document frequencies and totals to the host.
void df_to_host(Resources& r, const DeviceCounts& c, std::vector<int32_t>& df, std::vector<int64_t>& total) {
    std::vector<unsigned long long> tot(c.V);
    df.assign(c.V, 0);
    c.df.to_host(df.data());
    c.total.to_host(tot.data());
    TMINE_CUDA_CHECK(cudaStreamSynchronize(r.stream));
    total.assign(c.V, 0);
    for (int64_t t = 0; t < c.V; ++t) total[t] = static_cast<int64_t>(tot[t]);
}

/// TF-IDF of counts on the device (n rows, nnz entries): columns with keep[c] >= 0 kept and
/// renumbered, tf (or 1 + ln tf, from the host's table up to max_count) times idf, rows
/// l2-normalised; the result to the host.
CsrMatrix weigh_on_device(Resources& r, int64_t n, int64_t nnz, const int64_t* indptr, const int32_t* cols,
                          const float* cnt, const std::vector<int32_t>& keep, int32_t n_kept,
                          const std::vector<double>& idf, bool sublinear_tf, int64_t max_count) {
    cudaStream_t s = r.stream;
    CsrMatrix X;
    X.rows = n;
    X.cols = n_kept;
    X.indptr.assign(n + 1, 0);
    if (nnz == 0) return X;
    // 1 + ln(count) is tabulated on the host so both paths use the same libm result.
    std::vector<double> table;
    if (sublinear_tf) {
        table.resize(max_count + 1, 0.0);
        for (int64_t c = 1; c <= max_count; ++c) table[c] = 1.0 + std::log(double(c));
    }
    DeviceBuffer<int32_t> dkeep(keep.data(), keep.size(), s);
    DeviceBuffer<double> didf(idf.data(), idf.size(), s);
    DeviceBuffer<double> dtable(table.data(), table.size(), s);
    DeviceBuffer<int64_t> row_nnz(n + 1, s), out_ptr(n + 1, s);
    TMINE_CUDA_CHECK(cudaMemsetAsync(row_nnz.data() + n, 0, sizeof(int64_t), s));
    TMINE_LAUNCH(kept_per_row, grid_for(n), kBlock, s)(indptr, cols, dkeep.data(), n, row_nnz.data());
    TMINE_CUDA_LAUNCH_CHECK();
    PoolAllocator pool(s);
    thrust::exclusive_scan(on_stream(pool, s), thrust::device_ptr<int64_t>(row_nnz.data()),
                           thrust::device_ptr<int64_t>(row_nnz.data()) + n + 1,
                           thrust::device_ptr<int64_t>(out_ptr.data()));
    out_ptr.to_host(X.indptr.data());
    TMINE_CUDA_CHECK(cudaStreamSynchronize(s));
    const int64_t out_nnz = X.indptr[n];
    DeviceBuffer<int32_t> out_cols(out_nnz, s);
    DeviceBuffer<float> out_vals(out_nnz, s);
    TMINE_LAUNCH(weight_rows, grid_for(n), kBlock, s)(indptr, cols, cnt, dkeep.data(), didf.data(),
                                               sublinear_tf ? dtable.data() : nullptr, n, out_ptr.data(),
                                               out_cols.data(), out_vals.data());
    TMINE_CUDA_LAUNCH_CHECK();
    X.indices.resize(out_nnz);
    X.data.resize(out_nnz);
    out_cols.to_host(X.indices.data());
    out_vals.to_host(X.data.data());
    TMINE_CUDA_CHECK(cudaStreamSynchronize(s));
    return X;
}

struct MaxFloat {
    __host__ __device__ float operator()(float a, float b) const { return a < b ? b : a; }
};

}  // namespace

TermCounts count_terms(const Context& ctx, const TokenSpan& tok) {
    Resources& r = ctx.cuda();
    DeviceCounts c = count_on_device(r, tok);
    TermCounts out;
    auto& X = out.counts;
    X.rows = c.n;
    X.cols = c.V;
    X.indptr.assign(c.n + 1, 0);
    X.indices.resize(c.nnz);
    X.data.resize(c.nnz);
    c.indptr.to_host(X.indptr.data());
    c.cols.to_host(X.indices.data());
    c.vals.to_host(X.data.data());
    df_to_host(r, c, out.df, out.total);  // synchronises
    return out;
}

CsrMatrix count_and_weigh(const Context& ctx, const TokenSpan& tok, const WeightChoice& choose,
                          bool sublinear_tf) {
    Resources& r = ctx.cuda();
    DeviceCounts c = count_on_device(r, tok);
    std::vector<int32_t> df;
    std::vector<int64_t> total;
    df_to_host(r, c, df, total);
    std::vector<int32_t> keep;
    int32_t n_kept = 0;
    std::vector<double> idf;
    choose(df, total, keep, n_kept, idf);
    int64_t max_count = 0;
    if (sublinear_tf && c.nnz > 0) {
        PoolAllocator pool(r.stream);
        const float m = thrust::reduce(on_stream(pool, r.stream), thrust::device_ptr<float>(c.vals.data()),
                                       thrust::device_ptr<float>(c.vals.data()) + c.nnz, 0.0f, MaxFloat());
        max_count = static_cast<int64_t>(m);
    }
    return weigh_on_device(r, c.n, c.nnz, c.indptr.data(), c.cols.data(), c.vals.data(), keep, n_kept, idf,
                           sublinear_tf, max_count);
}

CsrMatrix tfidf(const Context& ctx, const CsrMatrix& counts, const std::vector<int32_t>& keep,
                int32_t n_kept, const std::vector<double>& idf, bool sublinear_tf) {
    Resources& r = ctx.cuda();
    cudaStream_t s = r.stream;
    const int64_t n = counts.rows, nnz = counts.nnz();
    if (nnz == 0) return weigh_on_device(r, n, 0, nullptr, nullptr, nullptr, keep, n_kept, idf, false, 0);
    int64_t max_count = 0;
    if (sublinear_tf)
        for (float v : counts.data) max_count = std::max<int64_t>(max_count, int64_t(v));
    DeviceBuffer<int64_t> indptr(counts.indptr.data(), n + 1, s);
    DeviceBuffer<int32_t> cols(counts.indices.data(), nnz, s);
    DeviceBuffer<float> cnt(counts.data.data(), nnz, s);
    return weigh_on_device(r, n, nnz, indptr.data(), cols.data(), cnt.data(), keep, n_kept, idf, sublinear_tf,
                           max_count);
}

}  // namespace tmine::cuda_impl
