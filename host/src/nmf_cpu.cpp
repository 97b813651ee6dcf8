// NMF iterations on the CPU (the reference for kernels/nmf_cuda.cu): multiplicative updates
// for the Frobenius and KL losses and HALS (scikit-learn's `cd`), with scikit-learn's
// regularisation. Both factors are kept as W (n x k) and Ht = H^T (m x k), row-major, so
// X H^T and X^T W are row-parallel sparse gathers (X^T is a second CSR).
#include <omp.h>
#if defined(__x86_64__) || defined(__SSE2__)
#include <xmmintrin.h>
#define TMINE_HAVE_MXCSR 1
#endif

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "sparse_cpu.hpp"
#include "tmine/distributed.hpp"
#include "tmine/error.hpp"
#include "tmine/nmf.hpp"

namespace tmine {
namespace {

/// sum of term(i), i in [0, n), in float64: partial sums over fixed blocks of indices (in
/// parallel), then the blocks in order. An OpenMP reduction adds the threads' sums in the order
/// they finish, so with 3 or more threads its last bits change from run to run.
template <class Term>
double ordered_sum(int64_t n, int threads, Term&& term) {
    constexpr int64_t kBlock = 16384;
    const int64_t blocks = (n + kBlock - 1) / kBlock;
    std::vector<double> part(blocks);
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t b = 0; b < blocks; ++b) {
        double s = 0;
        for (int64_t i = b * kBlock; i < std::min(n, (b + 1) * kBlock); ++i) s += term(i);
        part[b] = s;
    }
    double s = 0;
    for (double p : part) s += p;
    return s;
}

}  // namespace

double detail::ordered_dot(const float* a, const float* b, int64_t n, int threads) {
    return ordered_sum(n, threads, [&](int64_t i) { return double(a[i]) * b[i]; });
}

namespace cpu_impl {
namespace {

using detail::ordered_dot;

constexpr float kEps = std::numeric_limits<float>::epsilon();  // scikit-learn's EPSILON

// The HALS sweep is compiled for x86-64-v3 (AVX2 + FMA) and the baseline ISA; the loader picks
// (as sparse_cpu.cpp).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define TMINE_HALS_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define TMINE_HALS_CLONES
#endif

/// F = (F * num) / den', den' = den + l1 + l2 * F, a zero den' replaced by kEps (scikit-learn's
/// rule). (F * num) / den' rather than F * (num / den'): den' >= F * diag(Gram), so the
/// quotient stays finite when F and den shrink towards denormals. `den_row` (length k) is
/// used instead of `den` when given (the KL denominators are the same for every row). Values
/// below `zero_below` become 0 (scikit-learn's KL rule for H, detail::kKlHFloor; 0 keeps all).
/// Rows [0, rows) of the update on the calling thread (F, num, den point at the first row).
inline void mu_update_rows(float* F, const float* num, const float* den, const float* den_row,
                           int64_t rows, int k, float l1, float l2, float zero_below = 0.0f) {
    for (int64_t i = 0; i < rows; ++i)
        for (int j = 0; j < k; ++j) {
            const int64_t x = i * k + j;
            float d = den_row ? den_row[j] : den[x];
            if (l1 > 0) d += l1;
            if (l2 > 0) d += l2 * F[x];
            if (d == 0.0f) d = kEps;
            const float f = (F[x] * num[x]) / d;
            F[x] = f < zero_below ? 0.0f : f;
        }
}
void mu_update(float* F, const float* num, const float* den, const float* den_row, int64_t rows,
               int k, double l1, double l2, int threads, float zero_below = 0.0f) {
    const int64_t block = 1024;
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t b = 0; b < (rows + block - 1) / block; ++b) {
        const int64_t lo = b * block, hi = std::min(rows, lo + block);
        mu_update_rows(F + lo * k, num + lo * k, den ? den + lo * k : nullptr, den_row, hi - lo, k,
                       float(l1), float(l2), zero_below);
    }
}

/// The calling thread's buffers for hals_update_rows, kept between its calls (one per block of
/// rows, every iteration).
struct HalsScratch {
    std::vector<float> inv, fb, nb, vb, V;
};
HalsScratch& hals_scratch() {
    static thread_local HalsScratch s;
    return s;
}

/// One HALS sweep over the rows of F (rows x k): coordinate t of row i moves to the minimum
/// of the regularised quadratic, clipped at 0 (scikit-learn's _update_cdnmf_fast, in order
/// t = 0..k-1; rows are independent). The rows' gradients V = F G are formed once for all the
/// rows (times_small, G is a symmetric Gram matrix) and each is updated by the column of G of
/// each coordinate that moves; 8 rows go through the sweep together, one per vector lane:
/// every step is an 8-wide vector operation, with no branch per coordinate.
TMINE_HALS_CLONES void hals_update_rows(float* F, const float* G, const float* N, int64_t rows,
                                        int k, float l1, float l2) {
    constexpr int L = 8;
    HalsScratch& s = hals_scratch();
    std::vector<float>&inv = s.inv, &fb = s.fb, &nb = s.nb, &vb = s.vb, &V = s.V;
    inv.resize(size_t(k)), fb.resize(size_t(k) * L), nb.resize(size_t(k) * L), vb.resize(size_t(k) * L);
    V.resize(size_t(rows) * k);
    times_small(F, rows, k, G, V.data());
    for (int t = 0; t < k; ++t) {  // 1 / Hessian of each coordinate; 0 freezes it
        const float hess = G[int64_t(t) * k + t] + l2;
        inv[t] = hess != 0.0f ? 1.0f / hess : 0.0f;
    }
    for (int64_t i0 = 0; i0 < rows; i0 += L) {
        const int n = int(std::min<int64_t>(L, rows - i0));
        // The rows as k x L columns (lanes past the last row are zeros and stay zeros).
        for (int t = 0; t < k; ++t)
            for (int l = 0; l < L; ++l) {
                fb[t * L + l] = l < n ? F[(i0 + l) * k + t] : 0.0f;
                nb[t * L + l] = l < n ? N[(i0 + l) * k + t] - l1 : 0.0f;
            }
        for (int t = 0; t < k; ++t)
            for (int l = 0; l < L; ++l) vb[t * L + l] = l < n ? V[(i0 + l) * k + t] : 0.0f;
        for (int t = 0; t < k; ++t) {
            float* f = fb.data() + t * L;
            const float* v = vb.data() + t * L;
            const float* nt = nb.data() + t * L;
            float moved[L];
            const float it = inv[t];
#pragma omp simd
            for (int l = 0; l < L; ++l) {  // branch-free, so it compiles to vector operations
                const float grad = v[l] - nt[l] + l2 * f[l];
                const float next = f[l] - grad * it;
                moved[l] = (next > 0.0f ? next : 0.0f) - f[l];
                f[l] += moved[l];
            }
            int any = 0;
#pragma omp simd reduction(| : any)
            for (int l = 0; l < L; ++l) any |= moved[l] != 0.0f;
            if (!any) continue;  // most coordinates of a sparse factor stay at 0
            // Only the coordinates still to come read their gradient in this sweep.
            const float* g = G + int64_t(t) * k;
            for (int r = t + 1; r < k; ++r) {
                float* vr = vb.data() + r * L;
#pragma omp simd
                for (int l = 0; l < L; ++l) vr[l] += moved[l] * g[r];
            }
        }
        for (int l = 0; l < n; ++l)
            for (int t = 0; t < k; ++t) F[(i0 + l) * k + t] = fb[t * L + l];
    }
}
void hals_update(float* F, const float* G, const float* N, int64_t rows, int k, double l1,
                 double l2, int threads) {
    const int64_t block = 256;
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t b = 0; b < (rows + block - 1) / block; ++b) {
        const int64_t lo = b * block, hi = std::min(rows, lo + block);
        hals_update_rows(F + lo * k, G, N + lo * k, hi - lo, k, float(l1), float(l2));
    }
}

void transpose_small(const float* A, int64_t rows, int k, float* At) {
    for (int64_t i = 0; i < rows; ++i)
        for (int j = 0; j < k; ++j) At[int64_t(j) * rows + i] = A[i * k + j];
}

/// Denormal floats flushed to zero (FTZ) and read as zero (DAZ) on every thread of the fit,
/// while it lives: multiplicative updates drive many entries of W and H, and the products made
/// of them, through the denormal range (below 1.2e-38) on their way to 0, where x86 float
/// arithmetic takes a slow path of about a hundred cycles. Measured on the 480k Reddit matrix,
/// k = 50, nndsvda: 1.6 s an MU iteration with denormals, 0.3 s without (docs/benchmarks.md),
/// the losses equal to 6 digits. OpenBLAS's OpenMP build runs on the same threads. The previous
/// settings come back when the fit ends (other stages keep IEEE behaviour).
class FlushDenormals {
public:
    /// Over the fit's threads and every thread OpenBLAS may use (omp_get_max_threads()).
    explicit FlushDenormals(int threads) : T_(std::max(threads, omp_get_max_threads())) {
#ifdef TMINE_HAVE_MXCSR
        saved_.assign(size_t(T_), _mm_getcsr());  // a thread missing from the first team restores the default
#pragma omp parallel num_threads(T_)
        {
            const unsigned int now = _mm_getcsr();
            saved_[size_t(omp_get_thread_num())] = now;
            _mm_setcsr(now | 0x8040u);  // FTZ (bit 15) | DAZ (bit 6)
        }
#endif
    }
    ~FlushDenormals() {
#ifdef TMINE_HAVE_MXCSR
#pragma omp parallel num_threads(T_)
        _mm_setcsr(saved_[size_t(omp_get_thread_num())]);
#endif
    }
    FlushDenormals(const FlushDenormals&) = delete;
    FlushDenormals& operator=(const FlushDenormals&) = delete;

private:
    int T_;
    std::vector<unsigned int> saved_;
};

class CpuIterations final : public detail::NmfIterations {
public:
    CpuIterations(const Context& ctx, const detail::NmfProblem& p, const NmfOptions& opts,
                  std::vector<float> W, const std::vector<float>& H)
        : flush_(ctx.cpu_threads()), p_(p), opts_(opts), T_(ctx.cpu_threads()), n_(p.X.rows), m_(p.X.cols), k_(p.k),
          W_(std::move(W)) {
        Ht_.resize(m_ * k_);
        for (int j = 0; j < k_; ++j)
            for (int64_t c = 0; c < m_; ++c) Ht_[c * k_ + j] = H[j * m_ + c];
        xx_ = sum_squares(p.X);
        x_sum_ = 0;
        for (float v : p.X.data) x_sum_ += v;
        if (p.distributed) {  // this process's rows: the sums are over all of them
            double t[2] = {xx_, x_sum_};
            processes::sum(t, 2);
            xx_ = t[0];
            x_sum_ = t[1];
        }
        WtW_.resize(k_ * k_);
        HHt_.resize(k_ * k_);
        if (kl()) {
            wh_.resize(p.X.nnz());
            ratio_.resize(p.X.nnz());
            ratio_t_.resize(p.X.nnz());
            sddmm(p.X, W_.data(), Ht_.data(), k_, wh_.data(), T_);
        } else {
            gram(Ht_.data(), m_, k_, HHt_.data(), T_);
            gram(W_.data(), n_, k_, WtW_.data(), T_);
            if (!p.update_H) {  // H is fixed: X H^T once (a fit's fused step makes it per block)
                XHt_.resize(n_ * k_);
                spmm(p.X, Ht_.data(), k_, XHt_.data(), T_);
            } else {
                XtW_.resize(m_ * k_);
                spmm(p.Xt, W_.data(), k_, XtW_.data(), T_);
                all_processes(XtW_);
            }
            all_processes(WtW_);
        }
        losses_.push_back(current_loss());
    }

    void step(int it) override {
        TMINE_ASSERT(it == static_cast<int>(losses_.size()), "NMF steps must be consecutive");
        if (kl())
            step_kl();
        else
            step_frobenius();
        losses_.push_back(current_loss());
    }

    void losses(int upto, std::vector<double>& out) override {
        out.assign(losses_.begin(), losses_.begin() + upto + 1);
    }

    void factors(std::vector<float>& W, std::vector<float>& H) override {
        W = W_;
        H.resize(int64_t(k_) * m_);
        transpose_small(Ht_.data(), m_, k_, H.data());
    }
    void final_factors(std::vector<float>& W, std::vector<float>& H) override {
        W = std::move(W_);
        W_ = {};
        H.resize(int64_t(k_) * m_);
        transpose_small(Ht_.data(), m_, k_, H.data());
    }

    int read_every() const override { return 1; }

private:
    bool kl() const { return opts_.loss == NmfLoss::KullbackLeibler; }
    bool hals() const { return opts_.solver == NmfSolver::Hals; }

    /// The W half-step fused into one pass over W's rows: for each block of rows, X H^T for
    /// those rows, the update, their share of W^T W, and their contribution X^T W scattered
    /// into per-thread accumulators (streaming W once instead of gathering its rows at random
    /// for X^T W). Results depend on the thread count only through float summation order.
    void fused_w_step() {
        const auto& r = p_.reg;
        const int64_t block = 1024;  // 256 -> 1024: 5% faster MU iterations (fewer, larger BLAS calls); 4096 no better
        const int64_t blocks = (n_ + block - 1) / block;
        const int ld = scatter_stride(k_);  // acc's rows: whole 64-byte lines
        acc_.resize(size_t(T_) * m_ * ld);  // not zeroed: each thread of the team fills its own
        int used = 1;
        gram_acc_.assign(size_t(T_) * k_ * k_, 0.0f);
#pragma omp parallel num_threads(T_)
        {
            const int t = omp_get_thread_num();
#pragma omp single
            used = omp_get_num_threads();  // OpenMP may give fewer than T_: only theirs are summed
            float* acc = acc_.data() + size_t(t) * m_ * ld;
            float* g = gram_acc_.data() + size_t(t) * k_ * k_;
            std::fill(acc, acc + m_ * ld, 0.0f);
            std::vector<float> xht(block * k_), den(block * k_);
#pragma omp for schedule(static)
            for (int64_t b = 0; b < blocks; ++b) {
                const int64_t lo = b * block, hi = std::min(n_, lo + block), rows = hi - lo;
                float* W = W_.data() + lo * k_;
                spmm_block(p_.X, Ht_.data(), k_, xht.data(), lo, hi);
                if (hals()) {
                    hals_update_rows(W, HHt_.data(), xht.data(), rows, k_, float(r.l1_W), float(r.l2_W));
                } else {
                    times_small(W, rows, k_, HHt_.data(), den.data());
                    mu_update_rows(W, xht.data(), den.data(), nullptr, rows, k_, float(r.l1_W),
                                   float(r.l2_W));
                }
                gram_add(W, rows, k_, g);
                scatter_block(p_.X, W_.data(), k_, acc, ld, lo, hi);
            }
        }
        // Reduce in thread order (fixed for a given thread count).
#pragma omp parallel for num_threads(T_) schedule(static)
        for (int64_t c = 0; c < m_; ++c)
            for (int j = 0; j < k_; ++j) {
                float s = 0.0f;
                for (int t = 0; t < used; ++t) s += acc_[(size_t(t) * m_ + c) * ld + j];
                XtW_[c * k_ + j] = s;
            }
        for (int x = 0; x < k_ * k_; ++x) {
            float s = 0.0f;
            for (int t = 0; t < T_; ++t) s += gram_acc_[size_t(t) * k_ * k_ + x];
            WtW_[x] = s;
        }
        mirror_upper(WtW_.data(), k_);  // gram_add filled the upper triangles
        all_processes(XtW_);
        all_processes(WtW_);
    }

    /// A distributed fit: the sum of `x` over the processes (their rows' shares), in place.
    void all_processes(std::vector<float>& x) {
        if (p_.distributed) processes::sum(x.data(), int64_t(x.size()));
    }

    void step_frobenius() {
        const auto& r = p_.reg;
        if (p_.update_H) {
            fused_w_step();
        } else {
            w_step_fixed_h();
            return;
        }
        // H given W: X^T W (from the fused step) and W^T W.
        if (p_.guided()) pull(true);
        if (hals()) {
            hals_update(Ht_.data(), WtW_.data(), XtW_.data(), m_, k_, r.l1_H, r.l2_H, T_);
        } else {
            den_.resize(m_ * k_);
            times_small(Ht_.data(), m_, k_, WtW_.data(), den_.data(), T_);
            mu_update(Ht_.data(), XtW_.data(), den_.data(), nullptr, m_, k_, r.l1_H, r.l2_H, T_);
        }
        if (p_.guided()) pull(false);
        gram(Ht_.data(), m_, k_, HHt_.data(), T_);
    }

    /// Guided topics (NmfProblem): before the H update, lambda * r joins X^T W at the seed
    /// entries and lambda the guided diagonal of W^T W; after it both get back their exact
    /// values, which the loss reads.
    void pull(bool add) {
        if (add) {
            saved_num_.resize(p_.seed_entries.size());
            saved_gram_.resize(p_.seed_topics.size());
            for (size_t e = 0; e < p_.seed_entries.size(); ++e) {
                saved_num_[e] = XtW_[p_.seed_entries[e]];
                XtW_[p_.seed_entries[e]] += p_.seed_pull;
            }
            for (size_t t = 0; t < p_.seed_topics.size(); ++t) {
                const int64_t d = int64_t(p_.seed_topics[t]) * (k_ + 1);
                saved_gram_[t] = WtW_[d];
                WtW_[d] += p_.seed_lambda;
            }
        } else {
            for (size_t e = 0; e < p_.seed_entries.size(); ++e) XtW_[p_.seed_entries[e]] = saved_num_[e];
            for (size_t t = 0; t < p_.seed_topics.size(); ++t)
                WtW_[int64_t(p_.seed_topics[t]) * (k_ + 1)] = saved_gram_[t];
        }
    }

    /// W given a fixed H (transform): X H^T and H H^T were computed once.
    void w_step_fixed_h() {
        const auto& r = p_.reg;
        if (hals()) {
            hals_update(W_.data(), HHt_.data(), XHt_.data(), n_, k_, r.l1_W, r.l2_W, T_);
        } else {
            den_.resize(n_ * k_);
            times_small(W_.data(), n_, k_, HHt_.data(), den_.data(), T_);
            mu_update(W_.data(), XHt_.data(), den_.data(), nullptr, n_, k_, r.l1_W, r.l2_W, T_);
        }
        gram(W_.data(), n_, k_, WtW_.data(), T_);
    }

    /// ratio[p] = x[p] / wh[p], a zero wh replaced by kEps (scikit-learn's rule).
    void make_ratio() {
        const auto& x = p_.X.data;
#pragma omp parallel for num_threads(T_) schedule(static)
        for (int64_t q = 0; q < int64_t(x.size()); ++q)
            ratio_[q] = x[q] / (wh_[q] == 0.0f ? kEps : wh_[q]);
    }

    void step_kl() {
        const auto& r = p_.reg;
        num_.resize(std::max(n_, m_) * k_);
        sums_.resize(k_);
        // W: (X / WH) H^T over H's row sums. wh_ holds W H at X's non-zeros for the current
        // factors (computed by the previous loss evaluation).
        make_ratio();
        spmm(p_.X, Ht_.data(), k_, num_.data(), T_, ratio_.data());
        column_sums(Ht_.data(), m_, k_, sums_.data(), T_);
        mu_update(W_.data(), num_.data(), nullptr, sums_.data(), n_, k_, r.l1_W, r.l2_W, T_);
        if (p_.update_H) {
            // H: W^T (X / WH) over W's column sums (a zero sum counts as 1).
            sddmm(p_.X, W_.data(), Ht_.data(), k_, wh_.data(), T_);
            make_ratio();
#pragma omp parallel for num_threads(T_) schedule(static)
            for (int64_t q = 0; q < int64_t(ratio_t_.size()); ++q)
                ratio_t_[q] = ratio_[p_.xt_order[q]];
            spmm(p_.Xt, W_.data(), k_, num_.data(), T_, ratio_t_.data());
            column_sums(W_.data(), n_, k_, sums_.data(), T_);
            if (p_.distributed) {
                processes::sum(num_.data(), m_ * k_);
                processes::sum(sums_.data(), k_);
            }
            for (auto& s : sums_)
                if (s == 0.0f) s = 1.0f;
            // scikit-learn sets H's entries below float64's epsilon to 0 after each KL update.
            mu_update(Ht_.data(), num_.data(), nullptr, sums_.data(), m_, k_, r.l1_H, r.l2_H, T_,
                      detail::kKlHFloor);
        }
        sddmm(p_.X, W_.data(), Ht_.data(), k_, wh_.data(), T_);
    }

    /// The loss of the current factors, scaled as scikit-learn's reconstruction_err_.
    double current_loss() {
        if (kl()) {
            // D = sum x log(x / wh) + sum(WH) - sum(X), over x > eps, a zero wh as kEps.
            const auto& x = p_.X.data;
            double s = ordered_sum(int64_t(x.size()), T_, [&](int64_t q) {
                if (!(x[q] > kEps)) return 0.0;
                const double wh = wh_[q] == 0.0f ? kEps : wh_[q];
                return double(x[q]) * std::log(double(x[q]) / wh);
            });
            std::vector<float> wsum(k_), hsum(k_);
            column_sums(W_.data(), n_, k_, wsum.data(), T_);
            column_sums(Ht_.data(), m_, k_, hsum.data(), T_);
            if (p_.distributed) {
                processes::sum(&s, 1);
                processes::sum(wsum.data(), k_);
            }
            double sum_wh = 0;
            for (int j = 0; j < k_; ++j) sum_wh += double(wsum[j]) * hsum[j];
            return std::sqrt(2.0 * std::max(0.0, s + sum_wh - x_sum_));
        }
        // ||X - WH||^2 = ||X||^2 - 2 <X, WH> + <W^T W, H H^T>; <X, WH> from the products the
        // iteration already has: <X^T W, H^T> after an H update, <W, X H^T> otherwise.
        const double cross = p_.update_H ? ordered_dot(XtW_.data(), Ht_.data(), m_ * k_, T_)
                                         : ordered_dot(W_.data(), XHt_.data(), n_ * k_, T_);
        const double e2 =
            xx_ - 2 * cross + ordered_dot(WtW_.data(), HHt_.data(), int64_t(k_) * k_, 1);
        return std::sqrt(std::max(e2, 0.0) / xx_);
    }

    FlushDenormals flush_;  // first: set before any work, restored after everything
    const detail::NmfProblem& p_;
    NmfOptions opts_;
    int T_;
    int64_t n_, m_;
    int k_;
    std::vector<float> W_, Ht_, XHt_, XtW_, den_, num_, WtW_, HHt_, sums_, gram_acc_;
    HugeVector<float> acc_;  // per-thread X^T W, rows scatter_stride(k) apart, on huge pages
    std::vector<float> wh_, ratio_, ratio_t_, saved_num_, saved_gram_;
    double xx_ = 0, x_sum_ = 0;
    std::vector<double> losses_;
};

}  // namespace

std::unique_ptr<detail::NmfIterations> nmf_iterations(const Context& ctx,
                                                       const detail::NmfProblem& p,
                                                       const NmfOptions& opts,
                                                       std::vector<float> W,
                                                       const std::vector<float>& H) {
    return std::make_unique<CpuIterations>(ctx, p, opts, std::move(W), H);
}

}  // namespace cpu_impl
}  // namespace tmine
