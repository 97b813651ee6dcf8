// The NMF's two sparse products on the device, timed with CUDA events after a warm-up: the
// same cuSPARSE calls as kernels/nmf_cuda.cu (spmm_csr: CSR_ALG2, row-major dense operands,
// float32), so nmf_bench's spmm/cuda row is the kernel time without host work or copies.
#include <string>
#include <vector>

#include "sparse_cuda.cuh"
#include "spmm_cuda.hpp"

namespace tmine_bench {

using namespace tmine::cuda_impl;

namespace {

/// A CSR matrix on the device in float32 with 32-bit offsets, and its cuSPARSE descriptor.
struct DeviceCsr {
    DeviceBuffer<int32_t> indptr, indices;
    DeviceBuffer<float> values;
    cusparseSpMatDescr_t d = nullptr;
    DeviceCsr(const tmine::CsrMatrix& A, cudaStream_t s) {
        std::vector<int32_t> p32(A.indptr.begin(), A.indptr.end());
        indptr = DeviceBuffer<int32_t>(p32.data(), p32.size(), s);
        indices = DeviceBuffer<int32_t>(A.indices.data(), A.indices.size(), s);
        values = DeviceBuffer<float>(A.data.data(), A.data.size(), s);
        TMINE_CUDA_CHECK(cudaStreamSynchronize(s));  // p32 leaves scope
        TMINE_CUDA_CHECK(cusparseCreateCsr(&d, A.rows, A.cols, A.nnz(), indptr.data(), indices.data(),
                                           values.data(), CUSPARSE_INDEX_32I, CUSPARSE_INDEX_32I,
                                           CUSPARSE_INDEX_BASE_ZERO, CUDA_R_32F));
    }
    ~DeviceCsr() { TMINE_CUDA_CHECK_NOTHROW(cusparseDestroySpMat(d)); }
};

}  // namespace

double cuda_spmm_pair_seconds(const tmine::Context& ctx, const tmine::CsrMatrix& X,
                              const tmine::CsrMatrix& Xt, int k, int reps) {
    if (X.nnz() > int64_t(INT32_MAX)) throw tmine::DeviceError("spmm bench: more than 2^31 non-zeros");
    Resources& r = ctx.cuda();
    cudaStream_t s = r.stream;
    const int64_t n = X.rows, m = X.cols;
    DeviceCsr A(X, s), At(Xt, s);
    // Factors of 1/k (their values do not change the work).
    std::vector<float> fill(size_t(std::max(n, m)) * k, 1.0f / k);
    DeviceBuffer<float> W(fill.data(), size_t(n) * k, s), Ht(fill.data(), size_t(m) * k, s);
    DeviceBuffer<float> Y(size_t(n) * k, s), Z(size_t(m) * k, s);
    DenseMat<float> dW(n, k, W.data()), dHt(m, k, Ht.data()), dY(n, k, Y.data()), dZ(m, k, Z.data());
    cusparseSpMMAlg_t alg_x = CUSPARSE_SPMM_CSR_ALG2, alg_xt = CUSPARSE_SPMM_CSR_ALG2;
    DeviceBuffer<char> work_x, work_xt;
    spmm_csr(r, A.d, dHt, dY, alg_x, work_x, true);  // plans, and warms up
    spmm_csr(r, At.d, dW, dZ, alg_xt, work_xt, true);
    cudaEvent_t start, stop;
    TMINE_CUDA_CHECK(cudaEventCreate(&start));
    TMINE_CUDA_CHECK(cudaEventCreate(&stop));
    TMINE_CUDA_CHECK(cudaEventRecord(start, s));
    for (int i = 0; i < reps; ++i) {
        spmm_csr(r, A.d, dHt, dY, alg_x, work_x, false);    // X H^T  (n x k)
        spmm_csr(r, At.d, dW, dZ, alg_xt, work_xt, false);  // X^T W  (m x k)
    }
    TMINE_CUDA_CHECK(cudaEventRecord(stop, s));
    TMINE_CUDA_CHECK(cudaEventSynchronize(stop));
    float ms = 0;
    TMINE_CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
    TMINE_CUDA_CHECK(cudaEventDestroy(start));
    TMINE_CUDA_CHECK(cudaEventDestroy(stop));
    return ms / 1e3 / reps;
}

}  // namespace tmine_bench
