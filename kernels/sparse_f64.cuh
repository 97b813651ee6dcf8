#pragma once
// Float64 sparse products on the device (cuSPARSE SpMM), shared by the classifiers and the
// randomized SVD of the NMF initialisation: a CSR matrix with 32-bit offsets and float64
// values, times a dense row-major matrix.
#include <algorithm>
#include <limits>
#include <vector>

#include "cuda_resources.cuh"
#include "tmine/vectorize.hpp"

namespace tmine::cuda_impl {

/// Dense row-major float64 matrix descriptor for cuSPARSE.
struct DenseF64 {
    cusparseDnMatDescr_t d = nullptr;
    DenseF64(int64_t rows, int64_t cols, double* p) {
        TMINE_CUDA_CHECK(cusparseCreateDnMat(&d, rows, cols, cols, p, CUDA_R_64F, CUSPARSE_ORDER_ROW));
    }
    ~DenseF64() { TMINE_CUDA_CHECK_NOTHROW(cusparseDestroyDnMat(d)); }
    DenseF64(const DenseF64&) = delete;
    DenseF64& operator=(const DenseF64&) = delete;
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
            throw DeviceError("more than 2^31 non-zeros is not supported on the GPU yet (a sparse "
                              "product in float64)");
        std::vector<int32_t> p32(A.indptr.begin(), A.indptr.end());
        std::vector<double> v64(A.data.begin(), A.data.end());
        indptr = DeviceBuffer<int32_t>(p32.data(), p32.size(), s);
        indices = DeviceBuffer<int32_t>(A.indices.data(), A.indices.size(), s);
        values = DeviceBuffer<double>(v64.data(), v64.size(), s);
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
        const double one = 1.0, zero = 0.0;
        const auto op = CUSPARSE_OPERATION_NON_TRANSPOSE;
        if (work_cols != k) {
            size_t bytes = 0;
            alg = CUSPARSE_SPMM_CSR_ALG2;
            if (cusparseSpMM_bufferSize(r.cusparse, op, op, &one, d, b.d, &zero, y.d, CUDA_R_64F,
                                        alg, &bytes) != CUSPARSE_STATUS_SUCCESS) {
                alg = CUSPARSE_SPMM_ALG_DEFAULT;
                TMINE_CUDA_CHECK(cusparseSpMM_bufferSize(r.cusparse, op, op, &one, d, b.d, &zero,
                                                         y.d, CUDA_R_64F, alg, &bytes));
            }
            work = DeviceBuffer<char>(std::max<size_t>(bytes, 1), r.stream);
            work_cols = k;
        }
        TMINE_CUDA_CHECK(cusparseSpMM(r.cusparse, op, op, &one, d, b.d, &zero, y.d, CUDA_R_64F,
                                      alg, work.data()));
    }
};

}  // namespace tmine::cuda_impl
