#pragma once
/// Stage 5, topics: non-negative matrix factorisation X ~ W H of the TF-IDF matrix with
/// multiplicative updates for the Frobenius loss (scikit-learn's solver='mu', beta_loss=2:
/// W is updated, then H, each iteration). CPU: OpenMP sparse products + OpenBLAS;
/// CUDA: cuSPARSE SpMM + cuBLAS GEMM (kernels/nmf_cuda.cu).
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "tmine/context.hpp"
#include "tmine/vectorize.hpp"

namespace tmine {

enum class NmfInit { Random, Nndsvd, Nndsvda };
/// Parses "random|nndsvd|nndsvda"; throws InputError otherwise.
NmfInit parse_nmf_init(std::string_view s);

struct NmfOptions {
    int k = 10;
    int max_iter = 200;
    double tol = 1e-4;  ///< stop when (err[it-10] - err[it]) / err[0] < tol, checked every 10
    uint64_t seed = 0;
    NmfInit init = NmfInit::Nndsvda;
    bool progress = false;
};

/// W is n x k, H is k x m, both row-major float32.
struct NmfModel {
    int64_t n = 0, m = 0;
    int k = 0;
    std::vector<float> W, H;
    int iterations = 0;
    double relative_error = 0;       ///< ||X - WH||_F / ||X||_F after the last iteration
    std::vector<double> errors;      ///< relative error after each iteration's W update
    std::string device;
};

/// Initial factors (shared by CPU and CUDA so both start from the same point).
/// nndsvd/nndsvda use a randomized truncated SVD (LAPACK) seeded with opts.seed.
void nmf_init(const Context& ctx, const CsrMatrix& X, const NmfOptions& opts, std::vector<float>& W,
              std::vector<float>& H);

/// Fits the model. Throws InputError when k is not in [1, min(n, m)] or X is empty.
NmfModel nmf(const Context& ctx, const CsrMatrix& X, const NmfOptions& opts);

/// Relative error ||X - WH||_F / ||X||_F without forming WH (float64 accumulation):
/// ||X||^2 - 2 <X, WH> + <W^T W, H H^T>.
double nmf_relative_error(const Context& ctx, const CsrMatrix& X, const std::vector<float>& W,
                          const std::vector<float>& H, int k);

/// X^T as CSR (m x n); used by both solvers for the H update.
CsrMatrix transpose(const Context& ctx, const CsrMatrix& X);

namespace cpu_impl {
/// Runs iterations from the given W, H (updated in place).
void nmf_mu(const Context& ctx, const CsrMatrix& X, const CsrMatrix& Xt, int k,
            const NmfOptions& opts, std::vector<float>& W, std::vector<float>& H, NmfModel& out);
}
namespace cuda_impl {
void nmf_mu(const Context& ctx, const CsrMatrix& X, const CsrMatrix& Xt, int k,
            const NmfOptions& opts, std::vector<float>& W, std::vector<float>& H, NmfModel& out);
}

}  // namespace tmine
