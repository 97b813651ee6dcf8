// NMF initialisation (shared by every device): option parsing, the transpose, a randomized
// truncated SVD (OpenBLAS + LAPACK; its range finder on the GPU under a CUDA context,
// kernels/svd_cuda.cu) and NNDSVD / NNDSVDA / NNDSVDAR, or seeded random factors.
#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

#include "sparse_cpu.hpp"
#include "tmine/distributed.hpp"
#include "tmine/error.hpp"
#include "tmine/huge_vector.hpp"
#include "tmine/nmf.hpp"

extern "C" {
void dgeqrf_(const int* m, const int* n, double* a, const int* lda, double* tau, double* work,
             const int* lwork, int* info);
void dorgqr_(const int* m, const int* n, const int* k, double* a, const int* lda,
             const double* tau, double* work, const int* lwork, int* info);
void dpotrf_(const char* uplo, const int* n, double* a, const int* lda, int* info, size_t uplo_len);
void dtrtri_(const char* uplo, const char* diag, const int* n, double* a, const int* lda, int* info,
             size_t uplo_len, size_t diag_len);
void dgesdd_(const char* jobz, const int* m, const int* n, double* a, const int* lda, double* s,
             double* u, const int* ldu, double* vt, const int* ldvt, double* work,
             const int* lwork, int* iwork, int* info, size_t jobz_len);
}

namespace tmine {

NmfInit parse_nmf_init(std::string_view s) {
    if (s == "random") return NmfInit::Random;
    if (s == "nndsvd") return NmfInit::Nndsvd;
    if (s == "nndsvda") return NmfInit::Nndsvda;
    if (s == "nndsvdar") return NmfInit::Nndsvdar;
    throw InputError("--init: expected nndsvda, nndsvd, nndsvdar or random, got '" +
                     std::string(s) + "'");
}
NmfSolver parse_nmf_solver(std::string_view s) {
    if (s == "mu") return NmfSolver::Mu;
    if (s == "hals" || s == "cd") return NmfSolver::Hals;
    throw InputError("--solver: expected mu or hals, got '" + std::string(s) + "'");
}
NmfLoss parse_nmf_loss(std::string_view s) {
    if (s == "frobenius") return NmfLoss::Frobenius;
    if (s == "kl" || s == "kullback-leibler") return NmfLoss::KullbackLeibler;
    throw InputError("--loss: expected frobenius or kl, got '" + std::string(s) + "'");
}
const char* nmf_init_name(NmfInit i) {
    switch (i) {
        case NmfInit::Random: return "random";
        case NmfInit::Nndsvd: return "nndsvd";
        case NmfInit::Nndsvda: return "nndsvda";
        case NmfInit::Nndsvdar: return "nndsvdar";
    }
    return "?";
}
const char* nmf_solver_name(NmfSolver s) { return s == NmfSolver::Mu ? "mu" : "hals"; }
const char* nmf_loss_name(NmfLoss l) { return l == NmfLoss::Frobenius ? "frobenius" : "kl"; }

CsrMatrix transpose(const Context& ctx, const CsrMatrix& X, std::vector<int64_t>* order) {
    (void)ctx;
    CsrMatrix T;
    T.rows = X.cols;
    T.cols = X.rows;
    T.indptr.assign(T.rows + 1, 0);
    for (int32_t c : X.indices) T.indptr[c + 1]++;
    for (int64_t c = 0; c < T.rows; ++c) T.indptr[c + 1] += T.indptr[c];
    T.indices.resize(X.indices.size());
    T.data.resize(X.data.size());
    if (order) order->resize(X.indices.size());
    std::vector<int64_t> next(T.indptr.begin(), T.indptr.end() - 1);
    for (int64_t i = 0; i < X.rows; ++i)  // rows in order: columns of T stay ascending
        for (int64_t p = X.indptr[i]; p < X.indptr[i + 1]; ++p) {
            int64_t q = next[X.indices[p]]++;
            T.indices[q] = static_cast<int32_t>(i);
            T.data[q] = X.data[p];
            if (order) (*order)[q] = p;
        }
    return T;
}

namespace {

using cpu_impl::spmm;

void to_col_major(const double* R, int64_t rows, int l, std::vector<double>& C) {
    C.resize(size_t(rows) * l);
    for (int64_t i = 0; i < rows; ++i)
        for (int j = 0; j < l; ++j) C[i + j * rows] = R[i * l + j];
}
void to_row_major(const std::vector<double>& C, int64_t rows, int l, double* R) {
    for (int64_t i = 0; i < rows; ++i)
        for (int j = 0; j < l; ++j) R[i * l + j] = C[i + j * rows];
}

/// In-place QR orthonormalisation of a column-major rows x l matrix (LAPACK).
void orthonormalize(std::vector<double>& Q, int rows, int l) {
    std::vector<double> tau(l);
    int info = 0, lwork = -1;
    double wq = 0;
    dgeqrf_(&rows, &l, Q.data(), &rows, tau.data(), &wq, &lwork, &info);
    lwork = std::max(1, int(wq));
    std::vector<double> work(lwork);
    dgeqrf_(&rows, &l, Q.data(), &rows, tau.data(), work.data(), &lwork, &info);
    TMINE_ASSERT(info == 0, "dgeqrf failed");
    lwork = -1;
    dorgqr_(&rows, &l, &l, Q.data(), &rows, tau.data(), &wq, &lwork, &info);
    lwork = std::max(1, int(wq));
    work.resize(lwork);
    dorgqr_(&rows, &l, &l, Q.data(), &rows, tau.data(), work.data(), &lwork, &info);
    TMINE_ASSERT(info == 0, "dorgqr failed");
}

/// Orthonormalises the columns of a row-major rows x l matrix by Cholesky QR (a Gram matrix,
/// its Cholesky factor R, Y R⁻¹), `passes` times: twice (CholQR2) where the basis must be
/// orthonormal to working precision, once between power iterations, where it only has to keep
/// the columns apart (scikit-learn normalises those by LU, not QR). The two tall products are
/// tmine's own kernels (host/src/dense_small_cpu.cpp; OpenBLAS's dsyrk and dtrsm took 40% of
/// the initialisation, dtrsm scaling poorly on tall, thin matrices); the l x l factorisation and
/// inverse are LAPACK's. Falls back to Householder QR when the Gram matrix is not positive
/// definite (rank-deficient input) or R not invertible.
///
/// With `split`, Y is this process's rows of a distributed basis (every process calls it):
/// the Gram matrix is summed over the processes and rank 0's is used everywhere, so that every
/// process takes the same R⁻¹ and the same branch. Its Householder fallback (a basis of lower
/// rank than l, which only a matrix of rank below k + 10 gives) gathers Y on rank 0.
void orthonormalize_rows(double* Y, int64_t rows, int l, int threads, int passes = 2,
                         const RowSplit* split = nullptr) {
    const bool spread = split && split->parts() > 1;
    std::vector<double> G(size_t(l) * l);
    for (int pass = 0; pass < passes; ++pass) {
        cpu_impl::gram(Y, rows, l, G.data(), threads);
        if (spread) processes::sum_shared(G.data(), int64_t(G.size()));
        int info = 0;
        dpotrf_("L", &l, G.data(), &l, &info, 1);  // row-major upper == column-major lower
        if (info == 0) dtrtri_("L", "N", &l, G.data(), &l, &info, 1, 1);  // R⁻¹, upper (row-major)
        if (info != 0 && spread) {
            std::vector<double> all =
                processes::gather_rows_to_root(std::vector<double>(Y, Y + rows * l), split->first, l);
            if (processes::rank() == 0) {
                std::vector<double> C;
                to_col_major(all.data(), split->rows(), l, C);
                orthonormalize(C, int(split->rows()), l);
                to_row_major(C, split->rows(), l, all.data());
            }
            const std::vector<double> mine = processes::scatter_rows(all, split->first, l);
            std::copy(mine.begin(), mine.end(), Y);
            return;
        }
        if (info != 0) {
            std::vector<double> C;
            to_col_major(Y, rows, l, C);
            orthonormalize(C, int(rows), l);
            to_row_major(C, rows, l, Y);
            return;
        }
        for (int i = 0; i < l; ++i)  // the strict lower triangle still holds the Gram matrix
            for (int j = 0; j < i; ++j) G[size_t(i) * l + j] = 0.0;
        cpu_impl::times_small_in_place(Y, rows, l, G.data(), threads);
    }
}


/// The l x l Cholesky factorisation G = RᵀR of the device's range finder (column-major, upper
/// triangle in and out): LAPACK, as in orthonormalize_rows(). False when G is not positive
/// definite.
bool cholesky_upper(std::vector<double>& G, int l) {
    int info = 0;
    dpotrf_("U", &l, G.data(), &l, &info, 1);
    return info == 0;
}

/// Randomized truncated SVD (Halko et al.): X ~ U diag(S) V, U n x k (col-major), V k x m
/// (row-major). With `split`, X and U are this process's rows of the whole (distributed):
/// X Ω and the Cholesky QRs' Gram matrices are per process, Xᵀ Q is summed over the processes,
/// and the small SVD is rank 0's everywhere.
void randomized_svd(const Context& ctx, const CsrMatrix& X, int k, uint64_t seed,
                    HugeVector<double>& U, std::vector<double>& S, std::vector<double>& V,
                    const RowSplit* split) {
    const int n = static_cast<int>(X.rows), m = static_cast<int>(X.cols);
    const int64_t n_all = split ? split->rows() : X.rows;
    const bool spread = split && split->parts() > 1;
    const int T = ctx.cpu_threads();
    const int l = int(std::min<int64_t>(k + 10, std::min<int64_t>(n_all, m)));
    const int power_iters = (k < 0.1 * double(std::min<int64_t>(n_all, m))) ? 7 : 4;  // as scikit-learn's 'auto'
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> normal;
    std::vector<double> omega(int64_t(m) * l);
    for (auto& v : omega) v = normal(rng);
    // The basis Q (n x l) and Bᵀ (m x l), row-major; not zeroed: the first product writes
    // every entry (and touches the pages, on every thread).
    HugeVector<double> Yr(size_t(n) * l), Zr(size_t(m) * l);
    std::vector<double> Zc;
    // The range finder: the heavy part (sparse products, tall orthonormalisations). On the
    // GPU, the same steps with cuSPARSE/cuBLAS; should a Cholesky factorisation fail there
    // (a rank-deficient basis), or the device not hold X and Xᵀ in float64 (12 bytes per
    // non-zero each, offsets below 2^31), the CPU path below does it, as it did before the
    // GPU had this step: the initialisation never fails for the device's size. Any other
    // device error (a fault that may leave the CUDA context unusable) is the user's to see,
    // here, rather than later and blamed on the iterations.
    // A distributed SVD runs on each process's CPU cores (its sums go through MPI).
    bool on_device = false;
    if (ctx.is_cuda() && !spread) {
        try {
            const CsrMatrix Xt = transpose(ctx, X);
            on_device = cuda_impl::randomized_range(ctx, X, Xt, omega, l, power_iters, cholesky_upper,
                                                    Yr.data(), Zr.data());
        } catch (const DeviceCapacityError&) {
            on_device = false;
        }
    }
    if (!on_device) {
        // XᵀY by streaming X's rows and Y once (scattered into per-thread copies of the small
        // m x l result) rather than gathering rows of the n x l Y at random through Xᵀ.
        HugeVector<double> acc;
        auto products_t = [&] {  // Zr = XᵀY, the whole matrix's
            cpu_impl::spmm_transposed(X, Yr.data(), l, Zr.data(), T, acc);
            if (spread) processes::sum(Zr.data(), int64_t(m) * l);
        };
        spmm(X, omega.data(), l, Yr.data(), T);
        for (int it = 0; it < power_iters; ++it) {
            orthonormalize_rows(Yr.data(), n, l, T, 1, split);
            products_t();
            orthonormalize_rows(Zr.data(), m, l, T, 1);  // whole on every process
            spmm(X, Zr.data(), l, Yr.data(), T);
        }
        orthonormalize_rows(Yr.data(), n, l, T, 2, split);
        products_t();  // B^T = X^T Q, m x l
    }
    // The small SVD of Bᵀ: distributed, rank 0's (every process's copy of Bᵀ may differ in
    // a last bit), sent to the others with its outcome, so that all throw or none does.
    std::vector<double> s(l), ub(int64_t(m) * l), vt(int64_t(l) * l);
    double info = 0;
    if (!spread || processes::rank() == 0) {
        to_col_major(Zr.data(), m, l, Zc);
        std::vector<int> iwork(8 * l);
        int lapack_info = 0, lwork = -1;
        double wq = 0;
        dgesdd_("S", &m, &l, Zc.data(), &m, s.data(), ub.data(), &m, vt.data(), &l, &wq, &lwork,
                iwork.data(), &lapack_info, 1);
        lwork = std::max(1, int(wq));
        std::vector<double> work(lwork);
        dgesdd_("S", &m, &l, Zc.data(), &m, s.data(), ub.data(), &m, vt.data(), &l, work.data(),
                &lwork, iwork.data(), &lapack_info, 1);
        info = lapack_info;
    }
    if (spread) {
        processes::broadcast(&info, 1);
        if (info == 0) {
            processes::broadcast(s.data(), int64_t(s.size()));
            processes::broadcast(ub.data(), int64_t(ub.size()));
            processes::broadcast(vt.data(), int64_t(vt.size()));
        }
    }
    if (info != 0) throw Error("truncated SVD for the NMF initialisation did not converge");
    // B = Vb S Ub^T with Vb = vt^T: U = Q Vb (n x k), V = Ub^T (k x m). Q is row-major, i.e.
    // the column-major l x n matrix Qᵀ: U = (Qᵀ)ᵀ vtᵀ. U is written row-major over Q's own
    // memory (n x k <= n x l), a block of rows at a time: block b's rows of U end before the
    // rows of Q that later blocks read (k <= l), and a block's own rows of Q are in `block`
    // first. That saves an n x k array of doubles (192 MB for the Reddit matrix at k = 50).
    {
        constexpr int64_t kRows = 4096;
        std::vector<double> block(size_t(std::min<int64_t>(n, kRows)) * k);  // column-major
        for (int64_t r0 = 0; r0 < n; r0 += kRows) {
            const int rows = int(std::min<int64_t>(kRows, n - r0));
            cblas_dgemm(CblasColMajor, CblasTrans, CblasTrans, rows, k, l, 1.0, Yr.data() + r0 * l, l,
                        vt.data(), l, 0.0, block.data(), rows);
            for (int i = 0; i < rows; ++i)
                for (int j = 0; j < k; ++j) Yr[size_t(r0 + i) * k + j] = block[i + size_t(j) * rows];
        }
        Yr.resize(size_t(n) * k);
        U = std::move(Yr);
    }
    S.assign(s.begin(), s.begin() + k);
    V.assign(int64_t(k) * m, 0.0);
    for (int j = 0; j < k; ++j)
        for (int c = 0; c < m; ++c) V[int64_t(j) * m + c] = ub[c + int64_t(j) * m];
}

}  // namespace

TruncatedSvd truncated_svd(const Context& ctx, const CsrMatrix& X, int k, uint64_t seed,
                           const RowSplit* split) {
    const int64_t n_all = split ? split->rows() : X.rows;
    if (k < 1 || k > std::min(n_all, X.cols))
        throw InputError("truncated SVD: " + std::to_string(k) + " components of a " +
                         std::to_string(n_all) + " x " + std::to_string(X.cols) + " matrix");
    TruncatedSvd svd;
    svd.n = X.rows;
    svd.m = X.cols;
    svd.k = k;
    svd.seed = seed;
    randomized_svd(ctx, X, k, seed, svd.U, svd.S, svd.V, split);
    return svd;
}

void nmf_init(const Context& ctx, const CsrMatrix& X, const NmfOptions& opts, std::vector<float>& W,
              std::vector<float>& H, const TruncatedSvd* svd, const RowSplit* split) {
    const int64_t n = X.rows, m = X.cols;  // n: this process's rows (distributed)
    const int64_t n_all = split ? split->rows() : n;
    const bool spread = split && split->parts() > 1;
    // Distributed: this process's rows start at first_row; the W entries of the rows before
    // them are drawn from the seeded streams and dropped, so that every process count gives
    // one process's factors.
    const int64_t first_row = spread ? split->first[processes::rank()] : 0;
    const int k = opts.k;
    double total = 0;
    for (float v : X.data) total += v;
    if (split) processes::sum_shared(&total, 1);  // the whole matrix's
    const double mean = total / (double(n_all) * double(m));
    W.assign(n * k, 0.0f);
    H.assign(int64_t(k) * m, 0.0f);
    if (opts.init == NmfInit::Random) {
        std::mt19937_64 rng(opts.seed);
        std::normal_distribution<double> normal;
        const double avg = std::sqrt(mean / k);
        for (auto& h : H) h = static_cast<float>(avg * std::abs(normal(rng)));
        for (int64_t i = 0; i < first_row * k; ++i) normal(rng);
        for (auto& w : W) w = static_cast<float>(avg * std::abs(normal(rng)));
        return;
    }
    TruncatedSvd own;
    if (!svd) {
        own = truncated_svd(ctx, X, k, opts.seed, split);
        svd = &own;
    }
    TMINE_ASSERT(svd->n == n && svd->m == m && svd->k >= k, "nmf_init: SVD of another matrix");
    // U is row-major n x svd->k (a k selection's SVD has the largest k), V row-major.
    const double* U = svd->U.data();
    const int64_t ks = svd->k;
    const std::vector<double>& S = svd->S;
    const std::vector<double>& V = svd->V;
    const int T = std::max(1, ctx.cpu_threads());
    // The norms of each column's positive and negative parts: sums over fixed blocks of rows
    // (in parallel), then over the blocks in order, so they do not depend on the thread count.
    constexpr int64_t kBlock = 8192;
    // The squares' sums (a distributed U's: this process's rows; summed below).
    auto part_norms = [&](auto&& get, int64_t len, double& pos, double& neg) {
        const int64_t blocks = (len + kBlock - 1) / kBlock;
        std::vector<double> p(blocks, 0.0), q(blocks, 0.0);
#pragma omp parallel for num_threads(T) schedule(static)
        for (int64_t b = 0; b < blocks; ++b) {
            double sp = 0, sn = 0;
            for (int64_t i = b * kBlock; i < std::min(len, (b + 1) * kBlock); ++i) {
                const double v = get(i);
                sp += v > 0 ? v * v : 0.0;
                sn += v < 0 ? v * v : 0.0;
            }
            p[b] = sp;
            q[b] = sn;
        }
        pos = neg = 0;
        for (int64_t b = 0; b < blocks; ++b) {
            pos += p[b];
            neg += q[b];
        }
    };
    // Per component j: which sign's part is kept, its scale lbd and the parts' norms.
    struct Part {
        bool pos;
        double lbd, xnrm, ynrm;
    };
    std::vector<Part> part(k);
    std::vector<double> u_norms(2 * size_t(k), 0.0);  // per component: positive, negative part
    for (int j = 1; j < k; ++j)
        part_norms([&](int64_t i) { return U[i * ks + j]; }, n, u_norms[2 * j], u_norms[2 * j + 1]);
    if (split)  // each component's sign is one decision for all
        processes::sum_shared(u_norms.data(), int64_t(u_norms.size()));
    for (int j = 0; j < k; ++j) {
        if (j == 0) {
            part[0] = {true, std::sqrt(S[0]), 1.0, 1.0};  // |u| and |v|, scaled by sqrt(S[0])
            continue;
        }
        double yp, yn;
        const double xp = std::sqrt(u_norms[2 * j]), xn = std::sqrt(u_norms[2 * j + 1]);
        part_norms([&](int64_t c) { return V[int64_t(j) * m + c]; }, m, yp, yn);
        yp = std::sqrt(yp);
        yn = std::sqrt(yn);
        const double mp = xp * yp, mn = xn * yn;
        const bool pos = mp > mn;
        part[j] = {pos, std::sqrt(S[j] * (pos ? mp : mn)), pos ? xp : xn, pos ? yp : yn};
    }
#pragma omp parallel for num_threads(T) schedule(static)
    for (int64_t i = 0; i < n; ++i)
        for (int j = 0; j < k; ++j) {
            const double u = U[i * ks + j];
            const Part& pt = part[j];
            if (j == 0) {
                W[i * k] = float(pt.lbd * std::abs(u));
                continue;
            }
            const double x = pt.pos ? std::max(u, 0.0) : std::max(-u, 0.0);
            W[i * k + j] = pt.xnrm > 0 ? float(pt.lbd * x / pt.xnrm) : 0.0f;
        }
#pragma omp parallel for num_threads(T) schedule(static)
    for (int j = 0; j < k; ++j) {
        const Part& pt = part[j];
        for (int64_t c = 0; c < m; ++c) {
            const double v = V[int64_t(j) * m + c];
            if (j == 0) {
                H[c] = float(pt.lbd * std::abs(v));
                continue;
            }
            const double y = pt.pos ? std::max(v, 0.0) : std::max(-v, 0.0);
            H[int64_t(j) * m + c] = pt.ynrm > 0 ? float(pt.lbd * y / pt.ynrm) : 0.0f;
        }
    }
    // scikit-learn: entries below 1e-6 become 0; NNDSVDA fills zeros with the mean of X,
    // NNDSVDAR with |mean * N(0, 1) / 100| (seeded).
    const float eps = 1e-6f;
    const float fill = opts.init == NmfInit::Nndsvda ? float(mean) : 0.0f;  // elementwise
    for (auto* F : {&W, &H}) {
        float* f = F->data();
        const int64_t len = static_cast<int64_t>(F->size());
#pragma omp parallel for num_threads(T) schedule(static)
        for (int64_t i = 0; i < len; ++i)
            if (f[i] < eps) f[i] = fill;
    }
    if (opts.init == NmfInit::Nndsvdar) {  // serial: one seeded stream over W, then H
        std::mt19937_64 rng(opts.seed ^ 0x9e3779b97f4a7c15ULL);
        std::normal_distribution<double> normal;
        // Distributed: the draws of the other processes' zeros of W, before and after these rows.
        int64_t before = 0, after = 0;
        if (spread) {
            const int64_t zeros = std::count(W.begin(), W.end(), 0.0f);
            const std::vector<char> all = processes::all_gather_bytes(&zeros, sizeof zeros);
            for (int r = 0; r < processes::size(); ++r) {
                int64_t z;
                std::memcpy(&z, all.data() + size_t(r) * sizeof z, sizeof z);
                (r < processes::rank() ? before : after) += r == processes::rank() ? 0 : z;
            }
        }
        for (int64_t i = 0; i < before; ++i) normal(rng);
        for (auto& v : W)
            if (v == 0.0f) v = float(std::abs(mean * normal(rng) / 100.0));
        for (int64_t i = 0; i < after; ++i) normal(rng);
        for (auto& v : H)
            if (v == 0.0f) v = float(std::abs(mean * normal(rng) / 100.0));
    }
}

}  // namespace tmine
