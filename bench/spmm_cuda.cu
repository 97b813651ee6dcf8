// The NMF's two sparse products on the device, timed with CUDA events after a warm-up: the
// NMF's own matrices and call (kernels/sparse_cuda.cuh: DevicePattern, SpMat; CSR_ALG2,
// row-major dense operands, float32), so nmf_bench's spmm/cuda row is the kernel time
// without host work or copies.
#include <string>
#include <vector>

#include "sparse_cuda.cuh"
#include "spmm_cuda.hpp"

namespace tmine_bench {

using namespace tmine::cuda_impl;

double cuda_spmm_pair_seconds(const tmine::Context& ctx, const tmine::CsrMatrix& X,
                              const tmine::CsrMatrix& Xt, int k, int reps) {
    if (X.nnz() > int64_t(INT32_MAX)) throw tmine::DeviceError("spmm bench: more than 2^31 non-zeros");
    Resources& r = ctx.cuda();
    cudaStream_t s = r.stream;
    const int64_t n = X.rows, m = X.cols;
    DevicePattern P(X, s), Pt(Xt, s);
    DeviceBuffer<float> x(X.data.data(), X.data.size(), s), xt(Xt.data.data(), Xt.data.size(), s);
    SpMat A(P, x.data()), At(Pt, xt.data());
    // Factors of 1/k (their values do not change the work).
    std::vector<float> fill(size_t(std::max(n, m)) * k, 1.0f / k);
    DeviceBuffer<float> W(fill.data(), size_t(n) * k, s), Ht(fill.data(), size_t(m) * k, s);
    DeviceBuffer<float> Y(size_t(n) * k, s), Z(size_t(m) * k, s);
    Y.zero();  // SpMM outputs, as in the NMF
    Z.zero();
    DenseMat<float> dW(n, k, W.data()), dHt(m, k, Ht.data()), dY(n, k, Y.data()), dZ(m, k, Z.data());
    A.spmm(r, dHt, dY);  // plans, and warms up
    At.spmm(r, dW, dZ);
    cudaEvent_t start, stop;
    TMINE_CUDA_CHECK(cudaEventCreate(&start));
    TMINE_CUDA_CHECK(cudaEventCreate(&stop));
    TMINE_CUDA_CHECK(cudaEventRecord(start, s));
    for (int i = 0; i < reps; ++i) {
        A.spmm(r, dHt, dY);   // X H^T  (n x k)
        At.spmm(r, dW, dZ);   // X^T W  (m x k)
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
