#pragma once
/// Stage 5, topics: non-negative matrix factorisation X ~ W H of the TF-IDF matrix, with the
/// semantics of scikit-learn's NMF:
///  - solver Mu: multiplicative updates (W, then H, each iteration) for the Frobenius loss
///    (beta = 2) or the generalised Kullback-Leibler divergence (beta = 1);
///  - solver Hals: hierarchical alternating least squares, i.e. scikit-learn's coordinate
///    descent `cd` without shuffling (Frobenius loss);
///  - alpha_W, alpha_H, l1_ratio: scikit-learn's regularisation, scaled by the data size.
/// CPU: OpenMP sparse products + OpenBLAS (host/src/nmf_cpu.cpp); CUDA: cuSPARSE SpMM + cuBLAS
/// GEMM + fused kernels (kernels/nmf_cuda.cu). Both start from the same initial factors.
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tmine/context.hpp"
#include "tmine/huge_vector.hpp"
#include "tmine/vectorize.hpp"

namespace tmine {

enum class NmfInit { Random, Nndsvd, Nndsvda, Nndsvdar };
enum class NmfSolver { Mu, Hals };
enum class NmfLoss { Frobenius, KullbackLeibler };

/// Parsers for the CLI spellings; each throws InputError naming the flag otherwise.
NmfInit parse_nmf_init(std::string_view s);      ///< random|nndsvd|nndsvda|nndsvdar
NmfSolver parse_nmf_solver(std::string_view s);  ///< mu|hals (cd is accepted for hals)
NmfLoss parse_nmf_loss(std::string_view s);      ///< frobenius|kl
const char* nmf_init_name(NmfInit i);
const char* nmf_solver_name(NmfSolver s);
const char* nmf_loss_name(NmfLoss l);

struct NmfOptions {
    int k = 10;
    int max_iter = 200;
    /// Stop when (loss[it-10] - loss[it]) / loss[0] < tol, checked every 10 iterations
    /// (0 = run max_iter iterations).
    double tol = 1e-4;
    uint64_t seed = 0;
    NmfInit init = NmfInit::Nndsvda;
    NmfSolver solver = NmfSolver::Mu;
    NmfLoss loss = NmfLoss::Frobenius;
    double alpha_W = 0.0;
    double alpha_H = -1.0;  ///< -1: the same as alpha_W (scikit-learn's "same"); else >= 0
    double l1_ratio = 0.0;
    double time_limit = 0;  ///< seconds; 0 = none. Checked where the loss is read.
    /// Fits from seeds seed, seed + 1, ... and keeps the lowest final loss (1 = one fit).
    int restarts = 1;
    int checkpoint_every = 0;     ///< iterations between checkpoints; 0 = none
    std::string checkpoint_path;  ///< where checkpoints are written (atomically)
    bool progress = false;
    /// Guided topics: topic j (j < seed_terms.size()) is anchored on the column ids
    /// seed_terms[j] (docs/architecture.md, "Guided topics"). Frobenius loss only.
    std::vector<std::vector<int32_t>> seed_terms;
    /// Weight of the pull towards the seed terms, relative to the data's own weight on a
    /// topic at the start (0 = initialisation only).
    double seed_strength = 1.0;
    /// GPU only: the k x k Gram products and denominators (cuBLAS SGEMM) on TF32 tensor cores
    /// (10-bit mantissa inputs, float32 accumulation). The sparse products and the updates stay
    /// float32; the CPU path is float32 throughout and ignores it.
    bool tf32 = false;
};

/// Throws InputError when an option is out of range or a combination is not supported.
void validate(const NmfOptions& opts);

/// W is n x k, H is k x m, both row-major float32.
struct NmfModel {
    int64_t n = 0, m = 0;
    int k = 0;
    std::vector<float> W, H;
    int iterations = 0;
    double relative_error = 0;  ///< ||X - WH||_F / ||X||_F after the last iteration
    /// The loss after each iteration, scaled as scikit-learn's reconstruction_err_:
    /// Frobenius: ||X - WH||_F / ||X||_F; KL: sqrt(2 D_KL(X || WH)).
    std::vector<double> losses;
    double loss_at_init = 0;
    std::string device;  ///< "cpu" or "cuda"
    /// What reproducing the fit needs besides the seed and options (docs/architecture.md,
    /// "Reproducibility"): the CPU threads (CPU results depend on them through float summation
    /// order; the initialisation's SVD uses them on every device), and the Context's
    /// description of the device, e.g. "cpu (2 threads)" or "cuda:0 NVIDIA H100 ...".
    /// 0 and "" in a model written before they were recorded.
    int cpu_threads = 0;
    std::string device_description;
    std::string stop_reason;  ///< "max_iter", "tol", "time_limit"
    uint64_t seed = 0;        ///< the seed of the kept fit (with restarts)
    std::vector<double> restart_losses;  ///< final loss of each restart, in seed order
    /// Guided topics: the penalty's weight lambda and the reference weight r of a seed term
    /// (both fixed at the initialisation; 0 without seed terms).
    double seed_lambda = 0, seed_weight = 0;
};

/// The regularisation terms scikit-learn derives from alpha_W, alpha_H and l1_ratio.
struct NmfRegularization {
    double l1_W = 0, l2_W = 0, l1_H = 0, l2_H = 0;
};
NmfRegularization regularization(const NmfOptions& opts, int64_t n, int64_t m);

/// A seeded randomized truncated SVD of X (Halko et al., scikit-learn's randomized_svd with
/// 10 oversamples and its power iterations): X ~ U diag(S) V, U n x k and V k x m, both
/// row-major. The nndsvd* inits need one; computed once for the largest k, its leading
/// triplets serve every smaller k (k selection).
struct TruncatedSvd {
    int64_t n = 0, m = 0;  ///< n: U's rows (a distributed SVD's: this process's rows of X)
    int k = 0;
    uint64_t seed = 0;
    HugeVector<double> U;  ///< n x k, row-major
    std::vector<double> S, V;  ///< k; k x m, row-major
};
/// With `split` (docs/architecture.md "Distributed NMF"), X is this process's rows of the
/// split matrix and every process calls it: the products are summed over the processes, U
/// holds this process's rows, S and V are rank 0's on every process.
TruncatedSvd truncated_svd(const Context& ctx, const CsrMatrix& X, int k, uint64_t seed,
                           const RowSplit* split = nullptr);

/// Initial factors (shared by CPU and CUDA so both start from the same point).
/// nndsvd* use a randomized truncated SVD (LAPACK) seeded with opts.seed, or the first opts.k
/// triplets of `svd` when given (it must be of X, with at least opts.k triplets). With
/// `split`, X is this process's rows, W comes out as its rows, H whole, and every process
/// calls it (random and nndsvdar draw from the same seeded streams as one process does).
void nmf_init(const Context& ctx, const CsrMatrix& X, const NmfOptions& opts, std::vector<float>& W,
              std::vector<float>& H, const TruncatedSvd* svd = nullptr, const RowSplit* split = nullptr);

/// Throws InputError when X is empty or k is not in [1, min(n', m')], n' and m' the rows
/// and columns of X that hold a non-zero (a post of stop words only adds no document). With
/// `split`, X is this process's rows of the matrix checked (every process calls it).
void check_k(const CsrMatrix& X, int k, const RowSplit* split = nullptr);

/// This process's rows of X, held whole by every process of a distributed fit, and the split
/// (split_rows()) they come from.
CsrMatrix own_rows(const CsrMatrix& X, RowSplit& split);

/// The rows a fit works on: X itself when `split` is given (X: this process's rows) or one
/// process runs; else (a distributed fit given the whole matrix on every process) this
/// process's rows of it (own_rows()).
class FitRows {
public:
    FitRows(const CsrMatrix& X, const RowSplit* split);
    FitRows(const FitRows&) = delete;
    FitRows& operator=(const FitRows&) = delete;
    const CsrMatrix& X() const { return taken ? mine_ : X_; }
    /// Null when one process holds X whole (no collectives), else the split.
    const RowSplit* split() const { return split_; }
    /// The split; {0, X.rows} when one process holds X whole.
    const RowSplit& rows() const { return split_ ? *split_ : whole_; }
    /// True when X was the whole matrix and this process took its rows.
    bool taken = false;

private:
    const CsrMatrix& X_;
    CsrMatrix mine_;
    RowSplit own_, whole_;
    const RowSplit* split_;
};

/// Fits the model. Throws InputError as check_k() does. `svd`, when
/// given, initialises the fit whose seed is svd->seed (see nmf_init).
///
/// A distributed fit (processes::size() > 1; docs/architecture.md "Distributed NMF"): every
/// process calls it, with X its rows of the split matrix (`split`), or with the whole matrix
/// (split null: each process then takes its rows of split_rows()). W is the whole matrix's on
/// rank 0 only (empty elsewhere); H and everything else are the same on every process.
NmfModel nmf(const Context& ctx, const CsrMatrix& X, const NmfOptions& opts,
             const TruncatedSvd* svd = nullptr, const RowSplit* split = nullptr);

/// Continues a fit from a checkpoint written by nmf() with the same X and options: the
/// result equals an uninterrupted run (bit for bit on the CPU).
/// Distributed as nmf(): rank 0 reads the checkpoint.
NmfModel nmf_resume(const Context& ctx, const CsrMatrix& X, const NmfOptions& opts,
                    const std::string& checkpoint_path, const RowSplit* split = nullptr);

/// Folds new documents into a fitted model: W for X_new with H fixed (the same solver and
/// loss, `opts.max_iter` iterations from a uniform start). X_new's columns must be H's terms.
std::vector<float> nmf_transform(const Context& ctx, const CsrMatrix& X_new,
                                 const std::vector<float>& H, int k, const NmfOptions& opts);

/// Relative error ||X - WH||_F / ||X||_F without forming WH (float64 accumulation):
/// ||X||^2 - 2 <X, WH> + <W^T W, H H^T>.
double nmf_relative_error(const Context& ctx, const CsrMatrix& X, const std::vector<float>& W,
                          const std::vector<float>& H, int k);

/// Generalised KL divergence D(X || WH) over X's non-zeros plus sum(WH) - sum(X), as
/// scikit-learn's _beta_divergence(beta=1) (float64 accumulation).
double nmf_kl_divergence(const Context& ctx, const CsrMatrix& X, const std::vector<float>& W,
                         const std::vector<float>& H, int k);

/// X^T as CSR (m x n). `order`, when given, receives for each non-zero of X^T the index of
/// the same entry in X.
CsrMatrix transpose(const Context& ctx, const CsrMatrix& X, std::vector<int64_t>* order = nullptr);

namespace detail {

/// scikit-learn's floor for H after a KL update: entries below float64's epsilon (2^-52, exact
/// in float) become 0. Both devices apply it.
inline constexpr float kKlHFloor = float(std::numeric_limits<double>::epsilon());

/// The problem a device iterates on: X, its transpose, and the entry order between them.
struct NmfProblem {
    const CsrMatrix& X;
    const CsrMatrix& Xt;
    const std::vector<int64_t>& xt_order;  ///< Xt entry -> X entry
    int k;
    NmfRegularization reg;
    bool update_H = true;  ///< false for transform
    /// Guided topics, in the H^T layout (m x k, row-major): the H step minimises
    /// loss + lambda/2 sum_{guided j} ||H_j - R_j||^2, i.e. adds lambda * R at `seed_entries`
    /// (indices c * k + j, value seed_pull = lambda * r) to X^T W and lambda to the diagonal of
    /// W^T W at `seed_topics`, for that step only.
    std::vector<int64_t> seed_entries;
    std::vector<int32_t> seed_topics;
    float seed_pull = 0, seed_lambda = 0;
    /// X and W are this process's rows of a distributed fit (processes::size() > 1): the
    /// products that sum over documents (X^T W, W^T W, the loss's sums) are summed over the
    /// processes.
    bool distributed = false;
    bool guided() const { return !seed_topics.empty() && seed_lambda > 0; }
};

/// sum a[i] * b[i] in float64, added in an order that depends on n only (partial sums over fixed
/// blocks, then the blocks in order), on any number of threads: the CPU's losses are the same
/// run to run and for every thread count, given the same factors (host/src/nmf_cpu.cpp).
double ordered_dot(const float* a, const float* b, int64_t n, int threads);

/// One device's iterations. The driver in host/src/nmf.cpp owns the loop, the stopping
/// rules, progress, checkpoints and the time limit; a device only steps and reports.
class NmfIterations {
public:
    virtual ~NmfIterations() = default;
    /// Runs the `it`-th step since construction (1, 2, ...): W, then H; the loss after it goes
    /// to slot `it`.
    virtual void step(int it) = 0;
    /// The losses of slots [0, upto] (slot 0: the factors it was made with); may wait for a
    /// device.
    virtual void losses(int upto, std::vector<double>& out) = 0;
    /// Copies the current factors out (W n x k, H k x m, row-major).
    virtual void factors(std::vector<float>& W, std::vector<float>& H) = 0;
    /// The factors at the end: factors(), or W moved out where the device keeps it in host
    /// memory (the CPU), so the end of a fit holds one W, not two. No step may follow.
    virtual void final_factors(std::vector<float>& W, std::vector<float>& H) { factors(W, H); }
    /// How often the driver should read losses (the CPU: every iteration; a GPU: every 10).
    virtual int read_every() const = 0;
};

}  // namespace detail

namespace cpu_impl {
std::unique_ptr<detail::NmfIterations> nmf_iterations(const Context& ctx,
                                                       const detail::NmfProblem& p,
                                                       const NmfOptions& opts,
                                                       std::vector<float> W,
                                                       const std::vector<float>& H);
}
namespace cuda_impl {
std::unique_ptr<detail::NmfIterations> nmf_iterations(const Context& ctx,
                                                       const detail::NmfProblem& p,
                                                       const NmfOptions& opts,
                                                       std::vector<float> W,
                                                       const std::vector<float>& H);
/// Throws DeviceCapacityError, with both figures, when the iterations on n x m rows with `nnz`
/// non-zeros at k topics need more device memory than is free. nmf(), nmf_resume() and
/// select_k() call it before the initialisation, so a problem too large for the GPU is said
/// at once rather than after the truncated SVD.
void check_nmf_memory(const Context& ctx, int64_t n, int64_t m, int64_t nnz, int k, NmfLoss loss);
/// The range finder of truncated_svd() on the device: from the m x l Gaussian `omega`, the
/// orthonormal basis Q (n x l, row-major) of X's range after `power_iters` power iterations,
/// and Bᵀ = XᵀQ (m x l, row-major), written to the caller's arrays; Xt is X transposed. The same steps as the CPU path, each
/// Cholesky QR's l x l factorisation done by `cholesky` on the host: it gets the column-major
/// Gram matrix in its upper triangle and leaves R (G = RᵀR) there, or returns false when G is
/// not positive definite, and then so does this (the caller redoes it on the CPU).
bool randomized_range(const Context& ctx, const CsrMatrix& X, const CsrMatrix& Xt,
                      const std::vector<double>& omega, int l, int power_iters,
                      const std::function<bool(std::vector<double>&, int)>& cholesky,
                      double* Q, double* Bt);
}

}  // namespace tmine
