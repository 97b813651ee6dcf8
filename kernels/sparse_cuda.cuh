#pragma once
// Sparse products on the device (cuSPARSE SpMM): the dense row-major matrix descriptor every
// twin uses, and a float64 CSR matrix with 32-bit offsets (the classifiers and the randomized
// SVD of the NMF initialisation).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <vector>

#include "cuda_resources.cuh"
#include "tmine/vectorize.hpp"

namespace tmine::cuda_impl {

/// cuSPARSE's name for float and double.
template <class T>
constexpr cudaDataType_t cuda_type() {
    static_assert(sizeof(T) == 4 || sizeof(T) == 8, "float or double");
    return sizeof(T) == 4 ? CUDA_R_32F : CUDA_R_64F;
}

/// Dense row-major matrix descriptor for cuSPARSE (float for NMF, double here).
template <class T>
struct DenseMat {
    cusparseDnMatDescr_t d = nullptr;
    DenseMat(int64_t rows, int64_t cols, T* p) {
        TMINE_CUDA_CHECK(cusparseCreateDnMat(&d, rows, cols, cols, p, cuda_type<T>(), CUSPARSE_ORDER_ROW));
    }
    ~DenseMat() { TMINE_CUDA_CHECK_NOTHROW(cusparseDestroyDnMat(d)); }
    DenseMat(const DenseMat&) = delete;
    DenseMat& operator=(const DenseMat&) = delete;
};
using DenseF64 = DenseMat<double>;

/// The SpMM algorithm tried first: CSR_ALG2 (row-major operands; run-to-run identical results
/// are what cuSPARSE documents for op(A) = A, and NmfCuda.Tf32StaysCloseToFloat32 checks), or
/// the one TMINE_SPMM_ALG names (alg1, alg2, alg3, default), so that a GPU run can try another
/// without a rebuild should a test find ALG2 not to repeat its bits. A value that is none of
/// those is said on stderr once, and ALG2 is used.
inline cusparseSpMMAlg_t preferred_spmm_alg() {
    static const cusparseSpMMAlg_t alg = [] {
        const char* v = std::getenv("TMINE_SPMM_ALG");
        if (!v || !*v || std::strcmp(v, "alg2") == 0) return CUSPARSE_SPMM_CSR_ALG2;
        if (std::strcmp(v, "alg1") == 0) return CUSPARSE_SPMM_CSR_ALG1;
        if (std::strcmp(v, "alg3") == 0) return CUSPARSE_SPMM_CSR_ALG3;
        if (std::strcmp(v, "default") == 0) return CUSPARSE_SPMM_ALG_DEFAULT;
        std::fprintf(stderr, "tmine: TMINE_SPMM_ALG=%s is not one of alg1, alg2, alg3, default; using alg2\n", v);
        return CUSPARSE_SPMM_CSR_ALG2;
    }();
    return alg;
}

/// Y = A * B by cuSPARSE SpMM in T. With `plan`, first sizes the workspace `work` and picks
/// `alg`: preferred_spmm_alg(), or the default algorithm where that one is not available for
/// these operands; later calls with the same shapes reuse both.
template <class T>
void spmm_csr(Resources& r, cusparseSpMatDescr_t A, const DenseMat<T>& B, const DenseMat<T>& Y,
              cusparseSpMMAlg_t& alg, DeviceBuffer<char>& work, bool plan) {
    const T one = 1, zero = 0;
    const auto op = CUSPARSE_OPERATION_NON_TRANSPOSE;
    int64_t a_rows = 0, a_cols = 0, a_nnz = 0;
    TMINE_CUDA_CHECK(cusparseSpMatGetSize(A, &a_rows, &a_cols, &a_nnz));
    if (a_nnz == 0) {
        // No non-zeros: Y = 0 written here, whatever cuSPARSE does with an empty operand (its
        // arrays may be null, and Y comes from the pool uninitialised).
        int64_t y_rows = 0, y_cols = 0, y_ld = 0;
        void* y = nullptr;
        cudaDataType_t type;
        cusparseOrder_t order;
        TMINE_CUDA_CHECK(cusparseDnMatGet(Y.d, &y_rows, &y_cols, &y_ld, &y, &type, &order));
        if (y_rows * y_cols > 0)
            TMINE_CUDA_CHECK(cudaMemsetAsync(y, 0, sizeof(T) * size_t(y_rows) * size_t(y_ld), r.stream));
        return;
    }
    if (plan) {
        size_t bytes = 0;
        alg = preferred_spmm_alg();
        // That algorithm unless this library says it does not support the case; any other
        // status (out of memory above all) is an error, not a reason to run a different one.
        const cusparseStatus_t st = cusparseSpMM_bufferSize(r.cusparse, op, op, &one, A, B.d, &zero, Y.d,
                                                            cuda_type<T>(), alg, &bytes);
        if (st != CUSPARSE_STATUS_NOT_SUPPORTED) TMINE_CUDA_CHECK(st);
        if (st == CUSPARSE_STATUS_NOT_SUPPORTED) {
            alg = CUSPARSE_SPMM_ALG_DEFAULT;
            TMINE_CUDA_CHECK(cusparseSpMM_bufferSize(r.cusparse, op, op, &one, A, B.d, &zero, Y.d,
                                                     cuda_type<T>(), alg, &bytes));
        }
        work = DeviceBuffer<char>(std::max<size_t>(bytes, 1), r.stream);
    }
    TMINE_CUDA_CHECK(cusparseSpMM(r.cusparse, op, op, &one, A, B.d, &zero, Y.d, cuda_type<T>(), alg,
                                  work.data()));
}

/// n elements from the host in a buffer of at least one: cuSPARSE does not document that a
/// matrix with no non-zeros may have null index or value arrays.
template <class T>
DeviceBuffer<T> sparse_array(const T* host, size_t n, cudaStream_t s) {
    DeviceBuffer<T> b(std::max<size_t>(n, 1), s);
    if (n) TMINE_CUDA_CHECK(cudaMemcpyAsync(b.data(), host, n * sizeof(T), cudaMemcpyHostToDevice, s));
    return b;
}

/// A CSR pattern on the device with 32-bit offsets (shared by every value array over it).
struct DevicePattern {
    int64_t rows, cols, nnz;
    DeviceBuffer<int32_t> indptr, indices;
    DevicePattern(const CsrMatrix& A, cudaStream_t s) : rows(A.rows), cols(A.cols), nnz(A.nnz()) {
        std::vector<int32_t> p32(A.indptr.begin(), A.indptr.end());
        indptr = DeviceBuffer<int32_t>(p32.data(), p32.size(), s);
        indices = sparse_array(A.indices.data(), A.indices.size(), s);
        TMINE_CUDA_CHECK(cudaStreamSynchronize(s));  // p32 leaves scope
    }
};

/// A float32 sparse matrix descriptor (pattern + one value array) with its SpMM workspace:
/// the NMF's X, Xᵀ and KL ratio matrices, and nmf_bench's spmm/cuda.
struct SpMat {
    cusparseSpMatDescr_t d = nullptr;
    DeviceBuffer<char> work;
    cusparseSpMMAlg_t alg = CUSPARSE_SPMM_CSR_ALG2;  // deterministic, row-major operands
    SpMat(const DevicePattern& p, float* values) {
        TMINE_CUDA_CHECK(cusparseCreateCsr(&d, p.rows, p.cols, p.nnz, p.indptr.data(),
                                           p.indices.data(), values, CUSPARSE_INDEX_32I,
                                           CUSPARSE_INDEX_32I, CUSPARSE_INDEX_BASE_ZERO, CUDA_R_32F));
    }
    ~SpMat() { TMINE_CUDA_CHECK_NOTHROW(cusparseDestroySpMat(d)); }
    SpMat(const SpMat&) = delete;
    SpMat& operator=(const SpMat&) = delete;
    /// Y = A * B; falls back to the default algorithm when CSR_ALG2 is unavailable.
    void spmm(Resources& r, const DenseMat<float>& B, const DenseMat<float>& Y) { spmm_csr(r, d, B, Y, alg, work, !work.data()); }
};

/// A CSR matrix on the device: 32-bit offsets and indices, float64 values.
struct CsrF64 {
    int64_t rows, cols, nnz;
    DeviceBuffer<int32_t> indptr, indices;
    DeviceBuffer<double> values;
    cusparseSpMatDescr_t d = nullptr;
    DeviceBuffer<char> work;
    cusparseSpMMAlg_t alg = CUSPARSE_SPMM_CSR_ALG2;
    int work_cols = -1;

    CsrF64(const CsrMatrix& A, cudaStream_t s) : rows(A.rows), cols(A.cols), nnz(A.nnz()) {
        if (nnz > std::numeric_limits<int32_t>::max())
            throw DeviceCapacityError("more than 2^31 non-zeros is not supported on the GPU yet (a sparse "
                              "product in float64)");
        std::vector<int32_t> p32(A.indptr.begin(), A.indptr.end());
        std::vector<double> v64(A.data.begin(), A.data.end());
        indptr = DeviceBuffer<int32_t>(p32.data(), p32.size(), s);
        indices = sparse_array(A.indices.data(), A.indices.size(), s);
        values = sparse_array(v64.data(), v64.size(), s);
        TMINE_CUDA_CHECK(cudaStreamSynchronize(s));  // host staging vectors leave scope
        TMINE_CUDA_CHECK(cusparseCreateCsr(&d, rows, cols, nnz, indptr.data(), indices.data(),
                                           values.data(), CUSPARSE_INDEX_32I, CUSPARSE_INDEX_32I,
                                           CUSPARSE_INDEX_BASE_ZERO, CUDA_R_64F));
    }
    ~CsrF64() { TMINE_CUDA_CHECK_NOTHROW(cusparseDestroySpMat(d)); }
    CsrF64(const CsrF64&) = delete;
    CsrF64& operator=(const CsrF64&) = delete;

    /// Y = A * B (B: cols x k, Y: rows x k, row-major).
    void spmm(Resources& r, double* B, double* Y, int k) {
        DenseF64 b(cols, k, B), y(rows, k, Y);
        spmm_csr(r, d, b, y, alg, work, work_cols != k);
        work_cols = k;
    }
};

}  // namespace tmine::cuda_impl
