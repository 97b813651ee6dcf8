// CPU building blocks of the NMF (see sparse_cpu.hpp).
#include "sparse_cpu.hpp"
#include "tmine/error.hpp"

#include <omp.h>

#include <algorithm>
#include <type_traits>
#include <vector>

namespace tmine::cpu_impl {
namespace {

/// How many non-zeros ahead the sparse kernels fetch the rows they will gather or update
/// (16 measured best of 8, 12, 16, 24 on the Reddit matrix; docs/benchmarks.md).
constexpr int64_t kPrefetch = 16;

// The sampled products are compiled twice, for x86-64-v3 (AVX2 + FMA) and for the baseline ISA,
// and the loader picks the clone the CPU supports, so one binary is fast on current servers and
// still runs on older ones. The sparse-times-dense kernels are below (gather_rows,
// scatter_rows_vec).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define TMINE_HOT_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define TMINE_HOT_CLONES
#endif

TMINE_HOT_CLONES void sddmm_rows(const int64_t* indptr, const int32_t* indices, const float* W,
                                 const float* Ht, int k, float* out, int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) {
        const float* w = W + i * k;
        for (int64_t p = indptr[i]; p < indptr[i + 1]; ++p) {
            const float* h = Ht + int64_t(indices[p]) * k;
            float s = 0.0f;
#pragma omp simd reduction(+ : s)
            for (int j = 0; j < k; ++j) s += w[j] * h[j];
            out[p] = s;
        }
    }
}

// The sparse-times-dense kernels: float for the NMF's iteration, double for the
// initialisation's randomized SVD (X Ω and Xᵀ Q, l = k + 10 columns; a plain loop until
// 2026-11-29).
// The float kernels of the NMF's iteration (X H^T and X^T W: 4.8 M non-zeros of 50 columns
// each on the Reddit matrix) hold the row being built (gather) or the row being added
// (scatter) in registers: NV vectors of L lanes, NV and L fixed at compile time, instead of a
// loop over l that loads and stores its row at every non-zero and ends in a scalar remainder.
// That loop's cost was mostly instructions, not memory: with every column index folded into
// the first 1,000 columns (an L1/L2-resident H^T) an MU iteration was 7% faster, no more. Each
// output element is summed in the same order as by that loop (non-zeros in order, a product
// then a sum, no fused multiply-add: this file is built with -ffp-contract=off), so every ISA
// gives the same bits. Vectors of 8 floats on AVX-512 too: 16-lane loads were slower (16 vs
// 11 ns per non-zero of X H^T, k = 50), as rows 200 bytes apart make nearly every 64-byte
// load span two cache lines. Built for x86-64-v4, -v3 (8 lanes) and the baseline (4), chosen
// by small_kernel_level() (dense_small_cpu.cpp), which TMINE_CPU_KERNELS and the tests set.
template <class T, int L>
struct Lanes {
    typedef T type __attribute__((vector_size(L * sizeof(T)), aligned(sizeof(T))));
};

/// Columns [c0, c0 + w) of rows [lo, hi) of Y = A B (T: float or double), w <= NV * L,
/// w > (NV - 1) * L; B has `brows` rows of l columns. A ragged last vector reads past its row
/// into the next one (lanes never stored), except in B's last rows, where that would leave B:
/// those are copied to a zero-padded buffer first.
template <class T, int L, int NV>
inline __attribute__((always_inline)) void gather_chunk(const int64_t* indptr,
                                                        const int32_t* indices,
                                                        const float* values, const T* B,
                                                        int l, int64_t brows, T* Y,
                                                        int64_t lo, int64_t hi, int c0, int w) {
    typedef typename Lanes<T, L>::type V;
    constexpr int kLine = 64 / int(sizeof(T));  // elements of a cache line
    const int64_t last = indptr[hi];
    const bool ragged = w < NV * L;
    // Rows of B whose read of NV * L values from column c0 stays inside B; the others (the
    // last, or the last few when l < L) go through `edge`.
    const int64_t room = brows * l - c0 - NV * L;
    const int64_t inside = room < 0 ? 0 : room / l + 1;
    alignas(64) T edge[NV * L];
    for (int64_t i = lo; i < hi; ++i) {
        V acc[NV];
        for (int v = 0; v < NV; ++v) acc[v] = V{};
        const int64_t end = indptr[i + 1];
        for (int64_t p = indptr[i]; p < end; ++p) {
            if (p + kPrefetch < last) {
                const T* ahead = B + int64_t(indices[p + kPrefetch]) * l + c0;
                for (int o = 0; o < w; o += kLine) __builtin_prefetch(ahead + o);
            }
            const T a = values[p];
            const int64_t col = indices[p];
            const T* b = B + col * l + c0;
            if (ragged && col >= inside) {
                for (int j = 0; j < NV * L; ++j) edge[j] = j < w ? b[j] : T(0);
                b = edge;
            }
            for (int v = 0; v < NV; ++v) acc[v] += a * *reinterpret_cast<const V*>(b + v * L);
        }
        T* y = Y + (i - lo) * l + c0;
        for (int v = 0; v < NV; ++v) {
            if ((v + 1) * L <= w) {
                *reinterpret_cast<V*>(y + v * L) = acc[v];
            } else {
                for (int j = v * L; j < w; ++j) y[j] = acc[v][j - v * L];
            }
        }
    }
}

/// acc[col(p), c0 : c0 + w] += value(p) * W[row(p), c0 : c0 + w] for the non-zeros of rows
/// [lo, hi), w <= NV * L, w > (NV - 1) * L, acc's rows ld apart: the row of W in registers.
/// When acc's row has room for NV whole vectors from c0 (ld padded) every vector is stored
/// whole, the lanes past w adding value * 0 to the padding; otherwise a ragged last vector's
/// lanes are added one by one (a vector store would write into the next row of acc).
template <class T, int L, int NV>
inline __attribute__((always_inline)) void scatter_chunk(const int64_t* indptr,
                                                         const int32_t* indices,
                                                         const float* values, const T* W,
                                                         int k, T* acc, int ld,
                                                         int64_t lo, int64_t hi, int c0, int w) {
    typedef typename Lanes<T, L>::type V;
    constexpr int kLine = 64 / int(sizeof(T));
    const int64_t last = indptr[hi];
    const int full = w / L;  // whole vectors of W; the rest, w - full * L < L, lane by lane
    const bool whole = c0 + NV * L <= ld;
    for (int64_t i = lo; i < hi; ++i) {
        const T* wr = W + i * k + c0;
        V wv[NV];
        for (int v = 0; v < NV; ++v) {
            if (v < full) {
                wv[v] = *reinterpret_cast<const V*>(wr + v * L);
            } else {
                wv[v] = V{};
                for (int j = v * L; j < w; ++j) wv[v][j - v * L] = wr[j];
            }
        }
        const int64_t end = indptr[i + 1];
        for (int64_t p = indptr[i]; p < end; ++p) {
            if (p + kPrefetch < last) {
                T* ahead = acc + int64_t(indices[p + kPrefetch]) * ld + c0;
                for (int o = 0; o < w; o += kLine) __builtin_prefetch(ahead + o, 1);
            }
            const T a = values[p];
            T* y = acc + int64_t(indices[p]) * ld + c0;
            for (int v = 0; v < NV; ++v) {
                if (v < full || whole) {
                    V* yv = reinterpret_cast<V*>(y + v * L);
                    *yv = *yv + a * wv[v];
                } else {
                    for (int j = v * L; j < w; ++j) y[j] = y[j] + a * wv[v][j - v * L];
                }
            }
        }
    }
}

constexpr int kMaxVectors = 8;  // registers: 8 accumulators (or W's row) + the operands

/// Calls f(std::integral_constant<int, NV>, c0, w) for each chunk [c0, c0 + w) of n columns,
/// w up to kMaxVectors vectors of L lanes, NV = ceil(w / L) fixed at compile time.
template <int L, class F>
inline __attribute__((always_inline)) void over_chunks(int n, F&& f) {
    for (int c0 = 0; c0 < n; c0 += kMaxVectors * L) {
        const int w = std::min(n - c0, kMaxVectors * L);
        switch ((w + L - 1) / L) {
            case 1: f(std::integral_constant<int, 1>{}, c0, w); break;
            case 2: f(std::integral_constant<int, 2>{}, c0, w); break;
            case 3: f(std::integral_constant<int, 3>{}, c0, w); break;
            case 4: f(std::integral_constant<int, 4>{}, c0, w); break;
            case 5: f(std::integral_constant<int, 5>{}, c0, w); break;
            case 6: f(std::integral_constant<int, 6>{}, c0, w); break;
            case 7: f(std::integral_constant<int, 7>{}, c0, w); break;
            default: f(std::integral_constant<int, 8>{}, c0, w); break;
        }
    }
}
template <int L, class T>
inline __attribute__((always_inline)) void gather_rows(const int64_t* indptr,
                                                       const int32_t* indices,
                                                       const float* values, const T* B,
                                                       int l, int64_t brows, T* Y,
                                                       int64_t lo, int64_t hi) {
    over_chunks<L>(l, [&](auto nv, int c0, int w) __attribute__((always_inline)) {
        gather_chunk<T, L, decltype(nv)::value>(indptr, indices, values, B, l, brows, Y, lo, hi, c0, w);
    });
}
template <int L, class T>
inline __attribute__((always_inline)) void scatter_rows_vec(const int64_t* indptr,
                                                            const int32_t* indices,
                                                            const float* values, const T* W,
                                                            int k, T* acc, int ld,
                                                            int64_t lo, int64_t hi) {
    over_chunks<L>(k, [&](auto nv, int c0, int w) __attribute__((always_inline)) {
        scatter_chunk<T, L, decltype(nv)::value>(indptr, indices, values, W, k, acc, ld, lo, hi, c0, w);
    });
}

// LG and LS: the lanes of the gather's and the scatter's vectors. The AVX-512 scatter uses 16:
// its rows of acc are padded to whole 64-byte lines (scatter_stride), so each vector is one
// aligned line, read and written whole.
// The double kernels (the SVD) use vectors of the same bytes: LG / 2 and LS / 2 lanes.
#define TMINE_SPARSE_KERNELS(ATTR, SUFFIX, LG, LS)                                              \
    ATTR void gather_##SUFFIX(const int64_t* indptr, const int32_t* indices, const float* values, \
                              const float* B, int l, int64_t brows, float* Y, int64_t lo,        \
                              int64_t hi) {                                                      \
        gather_rows<LG>(indptr, indices, values, B, l, brows, Y, lo, hi);                        \
    }                                                                                            \
    ATTR void scatter_##SUFFIX(const int64_t* indptr, const int32_t* indices,                    \
                               const float* values, const float* W, int k, float* acc, int ld,   \
                               int64_t lo, int64_t hi) {                                         \
        scatter_rows_vec<LS>(indptr, indices, values, W, k, acc, ld, lo, hi);                    \
    }                                                                                            \
    ATTR void gather_##SUFFIX(const int64_t* indptr, const int32_t* indices,                     \
                                  const float* values, const double* B, int l, int64_t brows,    \
                                  double* Y, int64_t lo, int64_t hi) {                           \
        gather_rows<LG / 2>(indptr, indices, values, B, l, brows, Y, lo, hi);                    \
    }                                                                                            \
    ATTR void scatter_##SUFFIX(const int64_t* indptr, const int32_t* indices,                    \
                                   const float* values, const double* W, int k, double* acc,     \
                                   int ld, int64_t lo, int64_t hi) {                             \
        scatter_rows_vec<LS / 2>(indptr, indices, values, W, k, acc, ld, lo, hi);                \
    }
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
TMINE_SPARSE_KERNELS(__attribute__((target("arch=x86-64-v4"))), v4, 8, 16)
TMINE_SPARSE_KERNELS(__attribute__((target("arch=x86-64-v3"))), v3, 8, 8)
#endif
TMINE_SPARSE_KERNELS(, v1, 4, 4)
#undef TMINE_SPARSE_KERNELS

/// Rows [lo, hi) of Y = A B (B: A.cols rows of l columns), Y pointing at row lo, on the
/// level's kernels (float or double: the overloads of gather_v4/v3/v1).
template <class T>
void spmm_rows(const CsrMatrix& A, const float* values, const T* B, int l, T* Y, int64_t lo, int64_t hi) {
    const int64_t* ip = A.indptr.data();
    const int32_t* ix = A.indices.data();
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
    switch (small_kernel_level()) {
        case 3: return gather_v4(ip, ix, values, B, l, A.cols, Y, lo, hi);
        case 2: return gather_v3(ip, ix, values, B, l, A.cols, Y, lo, hi);
        default: break;
    }
#endif
    gather_v1(ip, ix, values, B, l, A.cols, Y, lo, hi);
}
/// acc[col, :] += value * W[row, :] over the non-zeros of rows [lo, hi), acc's rows ld apart.
template <class T>
void scatter_rows(const CsrMatrix& A, const T* W, int k, T* acc, int ld, int64_t lo, int64_t hi) {
    const int64_t* ip = A.indptr.data();
    const int32_t* ix = A.indices.data();
    const float* v = A.data.data();
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
    switch (small_kernel_level()) {
        case 3: return scatter_v4(ip, ix, v, W, k, acc, ld, lo, hi);
        case 2: return scatter_v3(ip, ix, v, W, k, acc, ld, lo, hi);
        default: break;
    }
#endif
    scatter_v1(ip, ix, v, W, k, acc, ld, lo, hi);
}

constexpr int64_t kRowBlock = 256;

template <class F>
void for_row_blocks(int64_t rows, int threads, F&& f) {
    const int64_t blocks = (rows + kRowBlock - 1) / kRowBlock;
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
    for (int64_t b = 0; b < blocks; ++b) f(b * kRowBlock, std::min(rows, (b + 1) * kRowBlock));
}

}  // namespace

void spmm(const CsrMatrix& A, const float* B, int l, float* Y, int threads, const float* values) {
    const float* v = values ? values : A.data.data();
    for_row_blocks(A.rows, threads, [&](int64_t lo, int64_t hi) {
        spmm_rows(A, v, B, l, Y + lo * l, lo, hi);
    });
}

void spmm(const CsrMatrix& A, const double* B, int l, double* Y, int threads) {
    for_row_blocks(A.rows, threads, [&](int64_t lo, int64_t hi) {
        spmm_rows(A, A.data.data(), B, l, Y + lo * l, lo, hi);
    });
}

void spmm_transposed(const CsrMatrix& A, const double* Y, int l, double* Z, int threads,
                     HugeVector<double>& acc) {
    const int T = std::max(1, threads);
    const int64_t m = A.cols, blocks = (A.rows + kRowBlock - 1) / kRowBlock;
    acc.resize(size_t(T) * m * l);
    int used = 1;  // the team OpenMP gives may be smaller than T: only its parts are summed
#pragma omp parallel num_threads(T)
    {
        const int t = omp_get_thread_num();
        double* a = acc.data() + size_t(t) * m * l;
        std::fill(a, a + m * l, 0.0);
#pragma omp single
        used = omp_get_num_threads();
#pragma omp for schedule(static)
        for (int64_t b = 0; b < blocks; ++b)
            scatter_rows(A, Y, l, a, l, b * kRowBlock, std::min(A.rows, (b + 1) * kRowBlock));
    }
#pragma omp parallel for num_threads(T) schedule(static)
    for (int64_t x = 0; x < m * l; ++x) {
        double s = 0.0;
        for (int t = 0; t < used; ++t) s += acc[size_t(t) * m * l + x];
        Z[x] = s;
    }
}

void spmm_block(const CsrMatrix& A, const float* B, int l, float* Y, int64_t lo, int64_t hi) {
    spmm_rows(A, A.data.data(), B, l, Y, lo, hi);
}

int scatter_stride(int k) { return (k + 15) / 16 * 16; }

void scatter_block(const CsrMatrix& A, const float* W, int k, float* acc, int ld, int64_t lo,
                   int64_t hi) {
    TMINE_ASSERT(ld >= k, "scatter_block: rows of acc shorter than k");
    scatter_rows(A, W, k, acc, ld, lo, hi);
}

void sddmm(const CsrMatrix& X, const float* W, const float* Ht, int k, float* out, int threads) {
    for_row_blocks(X.rows, threads, [&](int64_t lo, int64_t hi) {
        sddmm_rows(X.indptr.data(), X.indices.data(), W, Ht, k, out, lo, hi);
    });
}

double sum_squares(const CsrMatrix& X) {
    double s = 0;
    for (float v : X.data) s += double(v) * v;
    return s;
}

void column_sums(const float* A, int64_t rows, int k, float* out, int threads) {
    (void)threads;  // sequential: the order of the sums is part of the CPU's reproducibility
    std::vector<double> s(k, 0.0);
    for (int64_t i = 0; i < rows; ++i)
        for (int j = 0; j < k; ++j) s[j] += A[i * k + j];
    for (int j = 0; j < k; ++j) out[j] = static_cast<float>(s[j]);
}

}  // namespace tmine::cpu_impl
