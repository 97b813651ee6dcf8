// The randomized range finder of the truncated SVD (NMF's NNDSVD initialisations) on the device:
// the CUDA twin of the loop in host/src/nmf_init.cpp. The sparse products (X and Xᵀ times a
// tall l-column basis, float64, cuSPARSE) and the Cholesky-QR orthonormalisations (Gram matrix
// by cuBLAS dsyrk, triangular solve by cuBLAS dtrsm) run on the device; only the l x l Gram
// matrices travel to the host, whose LAPACK factors them (the same routine as the CPU path),
// and the final basis and Bᵀ come back for the small SVD.
#include <functional>
#include <vector>

#include "cuda_resources.cuh"
#include "sparse_cuda.cuh"
#include "tmine/nmf.hpp"

namespace tmine::cuda_impl {

bool randomized_range(const Context& ctx, const CsrMatrix& X, const CsrMatrix& Xt,
                      const std::vector<double>& omega, int l, int power_iters,
                      const std::function<bool(std::vector<double>&, int)>& cholesky,
                      double* Q, double* Bt) {
    Resources& r = ctx.cuda();
    cudaStream_t s = r.stream;
    const int64_t n = X.rows, m = X.cols;
    CsrF64 dX(X, s), dXt(Xt, s);
    DeviceBuffer<double> Y(size_t(n) * l, s), Z(size_t(m) * l, s), G(size_t(l) * l, s);
    DeviceBuffer<double> Om(omega.data(), omega.size(), s);
    // SpMM outputs with beta 0: zeroed once, so recycled pool memory (NaN bits) never enters
    // a product even if the library reads C.
    Y.zero();
    Z.zero();
    std::vector<double> g(size_t(l) * l);
    const double one = 1.0, zero = 0.0;

    // A row-major rows x l basis is the column-major l x rows matrix A = Yᵀ (leading dim l).
    // Cholesky QR, `passes` times: G = A Aᵀ = YᵀY (upper), G = RᵀR on the host, A := R⁻ᵀ A,
    // i.e. Y := Y R⁻¹. False when G is not positive definite (the host then redoes the whole
    // range finder on the CPU, whose Householder fallback handles it).
    auto orthonormalize = [&](DeviceBuffer<double>& A, int64_t rows, int passes) {
        for (int pass = 0; pass < passes; ++pass) {
            TMINE_CUDA_CHECK(cublasDsyrk(r.cublas, CUBLAS_FILL_MODE_UPPER, CUBLAS_OP_N, l, int(rows),
                                         &one, A.data(), l, &zero, G.data(), l));
            G.to_host(g.data());
            TMINE_CUDA_CHECK(cudaStreamSynchronize(s));
            if (!cholesky(g, l)) return false;
            TMINE_CUDA_CHECK(cudaMemcpyAsync(G.data(), g.data(), g.size() * sizeof(double),
                                             cudaMemcpyHostToDevice, s));
            TMINE_CUDA_CHECK(cublasDtrsm(r.cublas, CUBLAS_SIDE_LEFT, CUBLAS_FILL_MODE_UPPER, CUBLAS_OP_T,
                                         CUBLAS_DIAG_NON_UNIT, l, int(rows), &one, G.data(), l,
                                         A.data(), l));
        }
        return true;
    };

    dX.spmm(r, Om.data(), Y.data(), l);
    for (int it = 0; it < power_iters; ++it) {
        if (!orthonormalize(Y, n, 1)) return false;
        dXt.spmm(r, Y.data(), Z.data(), l);
        if (!orthonormalize(Z, m, 1)) return false;
        dX.spmm(r, Z.data(), Y.data(), l);
    }
    if (!orthonormalize(Y, n, 2)) return false;
    dXt.spmm(r, Y.data(), Z.data(), l);  // Bᵀ = Xᵀ Q
    Y.to_host(Q);
    Z.to_host(Bt);
    TMINE_CUDA_CHECK(cudaStreamSynchronize(s));
    return true;
}

}  // namespace tmine::cuda_impl
