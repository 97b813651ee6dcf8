#pragma once
// CPU building blocks shared by the NMF initialisation, iterations and error measures
// (internal header). Dense matrices are row-major.
#include <cstdint>

#include "tmine/huge_vector.hpp"
#include "tmine/vectorize.hpp"

namespace tmine::cpu_impl {

/// Y (A.rows x l) = A * B (A.cols x l); `values` replaces A.data when given (same pattern).
void spmm(const CsrMatrix& A, const float* B, int l, float* Y, int threads,
          const float* values = nullptr);
void spmm(const CsrMatrix& A, const double* B, int l, double* Y, int threads);
/// Z (A.cols x l) = Aᵀ * Y (A.rows x l) without Aᵀ: A's rows are streamed and scattered into
/// per-thread accumulators (`acc`, kept by the caller between calls), reduced in thread order
/// (static schedule: the result depends on the thread count only, not on timing).
void spmm_transposed(const CsrMatrix& A, const double* Y, int l, double* Z, int threads,
                     HugeVector<double>& acc);

/// Rows [lo, hi) of A * B into Y (Y points at row lo), on the calling thread.
void spmm_block(const CsrMatrix& A, const float* B, int l, float* Y, int64_t lo, int64_t hi);
/// acc (A.cols x k, rows ld >= k apart) += A[lo:hi, :]^T * W[lo:hi, :], on the calling
/// thread. With ld = scatter_stride(k) every row is whole 64-byte lines, updated whole (the
/// padding columns must hold finite numbers; they are left as they are); other strides work too.
void scatter_block(const CsrMatrix& A, const float* W, int k, float* acc, int ld, int64_t lo,
                   int64_t hi);
/// k rounded up to 16 floats (64 bytes).
int scatter_stride(int k);

/// out[p] = <W[row(p), :], Ht[col(p), :]> for every non-zero p of X (sampled dense-dense).
void sddmm(const CsrMatrix& X, const float* W, const float* Ht, int k, float* out, int threads);

/// sum of squares of X's values in float64.
double sum_squares(const CsrMatrix& X);
/// C (k x k) = A^T A for A (rows x k), on `threads` threads (the upper triangle, about half
/// of a general product's flops, then mirrored). The result does not depend on `threads`.
void gram(const float* A, int64_t rows, int k, float* C, int threads);
void gram(const double* A, int64_t rows, int k, double* C, int threads);
/// The upper triangle of C (k x k, row-major) += that of A^T A, on the calling thread; the
/// strict lower triangle is left as it was (mirror_upper() completes C).
void gram_add(const float* A, int64_t rows, int k, float* C);
/// Copies the upper triangle of C (k x k, row-major) into the lower one.
void mirror_upper(float* C, int k);
/// D (rows x k) = F (rows x k) * G (k x k), on the calling thread. Each row of D is summed in
/// the same order whatever the CPU's vector width (AVX-512 and AVX2 give the same bits).
void times_small(const float* F, int64_t rows, int k, const float* G, float* D);
/// The same on `threads` threads (blocks of rows; the result does not depend on `threads`).
void times_small(const float* F, int64_t rows, int k, const float* G, float* D, int threads);
/// F (rows x k) = F * G (k x k) in place, on `threads` threads (blocks of rows through scratch).
void times_small_in_place(double* F, int64_t rows, int k, const double* G, int threads);
/// The instruction set of the k x k kernels above and of the float sparse kernels
/// (spmm_block, scatter_block, spmm): 3 AVX-512 (x86-64-v4), 2 AVX2 + FMA
/// (x86-64-v3), 1 the baseline (SSE2, no FMA). At first use the CPU's best, or the level
/// TMINE_CPU_KERNELS names (avx512, avx2, baseline) when the CPU runs it.
int small_kernel_level();
/// The best level this CPU runs.
int best_small_kernel_level();
/// Uses `level` from now on, lowered to the best this CPU runs; returns the level applied. For
/// tests and benchmarks of the narrower kernels; not while another thread runs a kernel.
int set_small_kernel_level(int level);
/// "avx512", "avx2" or "baseline".
const char* small_kernel_name(int level);
/// Column sums of A (rows x k) in float64, then rounded to float.
void column_sums(const float* A, int64_t rows, int k, float* out, int threads);

}  // namespace tmine::cpu_impl
