// CPU building blocks of the NMF (see sparse_cpu.hpp).
#include "sparse_cpu.hpp"

#include <omp.h>

#include <algorithm>
#include <vector>

namespace tmine::cpu_impl {
namespace {

/// How many non-zeros ahead the sparse kernels fetch the rows they will gather or update
/// (16 measured best of 8, 12, 16, 24 on the Reddit matrix; docs/benchmarks.md).
constexpr int64_t kPrefetch = 16;

// The sparse-times-dense kernels are the hot loops of every iteration. They are compiled
// twice, for x86-64-v3 (AVX2 + FMA) and for the baseline ISA, and the loader picks the clone
// the CPU supports, so one binary is fast on current servers and still runs on older ones.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define TMINE_HOT_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define TMINE_HOT_CLONES
#endif

/// Rows [lo, hi) of Y = A * B; A is CSR, B and Y are row-major with l columns; Y points at
/// row lo.
template <class T>
inline void spmm_rows(const int64_t* indptr, const int32_t* indices, const float* values,
                      const T* B, int l, T* Y, int64_t lo, int64_t hi) {
    const int64_t last = indptr[hi];
    for (int64_t i = lo; i < hi; ++i) {
        T* y = Y + (i - lo) * l;
        for (int j = 0; j < l; ++j) y[j] = 0;
        const int64_t end = indptr[i + 1];
        for (int64_t p = indptr[i]; p < end; ++p) {
            // The rows of B are gathered at random: fetch a few non-zeros ahead, across row
            // ends (comments hold ~10 non-zeros, so most rows are shorter than the distance).
            if (p + kPrefetch < last) {
                const T* ahead = B + int64_t(indices[p + kPrefetch]) * l;
                for (int o = 0; o < l; o += 64 / int(sizeof(T))) __builtin_prefetch(ahead + o);
            }
            const T a = values[p];
            const T* b = B + int64_t(indices[p]) * l;
#pragma omp simd
            for (int j = 0; j < l; ++j) y[j] += a * b[j];
        }
    }
}
TMINE_HOT_CLONES void spmm_rows_f32(const int64_t* indptr, const int32_t* indices,
                                    const float* values, const float* B, int l, float* Y,
                                    int64_t lo, int64_t hi) {
    spmm_rows(indptr, indices, values, B, l, Y, lo, hi);
}
TMINE_HOT_CLONES void spmm_rows_f64(const int64_t* indptr, const int32_t* indices,
                                    const float* values, const double* B, int l, double* Y,
                                    int64_t lo, int64_t hi) {
    spmm_rows(indptr, indices, values, B, l, Y, lo, hi);
}
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

/// acc[col(p), :] += value(p) * W[row(p), :] for the non-zeros of rows [lo, hi).
template <class T>
inline void scatter_rows(const int64_t* indptr, const int32_t* indices, const float* values,
                         const T* W, int k, T* acc, int64_t lo, int64_t hi) {
    const int64_t last = indptr[hi];
    for (int64_t i = lo; i < hi; ++i) {
        const T* w = W + i * k;
        const int64_t end = indptr[i + 1];
        for (int64_t p = indptr[i]; p < end; ++p) {
            // The rows updated are at random in acc (m x k, larger than L2): fetch them for
            // writing a few non-zeros ahead (across row ends), as spmm_rows does for reads.
            if (p + kPrefetch < last) {
                T* ahead = acc + int64_t(indices[p + kPrefetch]) * k;
                for (int o = 0; o < k; o += 64 / int(sizeof(T))) __builtin_prefetch(ahead + o, 1);
            }
            const T a = values[p];
            T* y = acc + int64_t(indices[p]) * k;
#pragma omp simd
            for (int j = 0; j < k; ++j) y[j] += a * w[j];
        }
    }
}
TMINE_HOT_CLONES void scatter_rows_f32(const int64_t* indptr, const int32_t* indices,
                                       const float* values, const float* W, int k, float* acc,
                                       int64_t lo, int64_t hi) {
    scatter_rows(indptr, indices, values, W, k, acc, lo, hi);
}
TMINE_HOT_CLONES void scatter_rows_f64(const int64_t* indptr, const int32_t* indices,
                                       const float* values, const double* W, int k, double* acc,
                                       int64_t lo, int64_t hi) {
    scatter_rows(indptr, indices, values, W, k, acc, lo, hi);
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
        spmm_rows_f32(A.indptr.data(), A.indices.data(), v, B, l, Y + lo * l, lo, hi);
    });
}

void spmm(const CsrMatrix& A, const double* B, int l, double* Y, int threads) {
    for_row_blocks(A.rows, threads, [&](int64_t lo, int64_t hi) {
        spmm_rows_f64(A.indptr.data(), A.indices.data(), A.data.data(), B, l, Y + lo * l, lo, hi);
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
            scatter_rows_f64(A.indptr.data(), A.indices.data(), A.data.data(), Y, l, a,
                             b * kRowBlock, std::min(A.rows, (b + 1) * kRowBlock));
    }
#pragma omp parallel for num_threads(T) schedule(static)
    for (int64_t x = 0; x < m * l; ++x) {
        double s = 0.0;
        for (int t = 0; t < used; ++t) s += acc[size_t(t) * m * l + x];
        Z[x] = s;
    }
}

void spmm_block(const CsrMatrix& A, const float* B, int l, float* Y, int64_t lo, int64_t hi) {
    spmm_rows_f32(A.indptr.data(), A.indices.data(), A.data.data(), B, l, Y, lo, hi);
}

void scatter_block(const CsrMatrix& A, const float* W, int k, float* acc, int64_t lo, int64_t hi) {
    scatter_rows_f32(A.indptr.data(), A.indices.data(), A.data.data(), W, k, acc, lo, hi);
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
