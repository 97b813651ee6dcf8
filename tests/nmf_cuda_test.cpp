// CUDA twin of NMF vs the CPU reference from the same initialisation on a real matrix
// (labelled gpu; skipped without a GPU). Float32 sums run in different orders on the two
// devices, so errors and factors are compared with a relative tolerance.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "test_util.hpp"
#include "tmine/error.hpp"
#include "tmine/nmf.hpp"

using namespace tmine;
using namespace tmine::test;

namespace {
/// TF-IDF of the first `docs` Reddit comments (English stop words, min_df, optional max_df).
Vectorized reddit_tfidf(size_t docs, const char* min_df, const char* max_df = nullptr) {
    Corpus c = reddit_head(docs);
    VectorizeOptions vo;
    vo.stop_words = load_stop_words("english");
    vo.min_df = DfBound::parse(min_df, "--min-df");
    if (max_df) vo.max_df = DfBound::parse(max_df, "--max-df");
    return vectorize(Context::cpu(), c, vo);
}
}  // namespace

TEST(NmfCuda, AgreesWithCpuOnRealMatrix) {
    TMINE_REQUIRE_DATA(kReddit);
    TMINE_REQUIRE_CUDA(gpu);
    auto v = reddit_tfidf(20000, "5", "0.5");
    NmfOptions o;
    o.k = 20;
    o.max_iter = 40;
    o.tol = 0;
    NmfModel cpu = nmf(Context::cpu(), v.X, o);
    NmfModel cuda = nmf(gpu, v.X, o);
    EXPECT_EQ(cuda.device, "cuda");
    ASSERT_EQ(cpu.losses.size(), cuda.losses.size());
    for (size_t i = 0; i < cpu.losses.size(); ++i)
        EXPECT_NEAR(cuda.losses[i], cpu.losses[i], 1e-4 * cpu.losses[i]) << "iteration " << i + 1;
    for (size_t i = 1; i < cuda.losses.size(); ++i)
        EXPECT_LE(cuda.losses[i], cuda.losses[i - 1] * (1 + 1e-6));
    double diff = 0, norm = 0;
    for (size_t i = 0; i < cpu.H.size(); ++i) {
        diff += double(cpu.H[i] - cuda.H[i]) * (cpu.H[i] - cuda.H[i]);
        norm += double(cpu.H[i]) * cpu.H[i];
    }
    EXPECT_LT(std::sqrt(diff / norm), 1e-2) << "H from the GPU drifts from the CPU's";
    EXPECT_NEAR(nmf_relative_error(Context::cpu(), v.X, cuda.W, cuda.H, o.k), cuda.relative_error,
                1e-4);
}

TEST(NmfCuda, ToleranceStopsAtTheSameCheckpoint) {
    TMINE_REQUIRE_DATA(kReddit);
    TMINE_REQUIRE_CUDA(gpu);
    auto v = reddit_tfidf(5000, "3");
    NmfOptions o;
    o.k = 10;
    o.max_iter = 500;
    o.tol = 1e-3;
    NmfModel cpu = nmf(Context::cpu(), v.X, o);
    NmfModel cuda = nmf(gpu, v.X, o);
    EXPECT_EQ(cpu.iterations % 10, 0);
    EXPECT_NEAR(cuda.iterations, cpu.iterations, 10);
}

TEST(NmfCuda, HalsKlRegularisationAndTransformAgreeWithCpu) {
    TMINE_REQUIRE_DATA(kReddit);
    TMINE_REQUIRE_CUDA(gpu);
    auto v = reddit_tfidf(8000, "3");
    struct Case {
        NmfSolver solver;
        NmfLoss loss;
        double alpha;
    } cases[] = {{NmfSolver::Hals, NmfLoss::Frobenius, 0.0},
                 {NmfSolver::Mu, NmfLoss::KullbackLeibler, 0.0},
                 {NmfSolver::Mu, NmfLoss::Frobenius, 1e-5},
                 {NmfSolver::Hals, NmfLoss::Frobenius, 1e-5}};
    for (const auto& cs : cases) {
        NmfOptions o;
        o.k = 12;
        o.max_iter = 30;
        o.tol = 0;
        o.solver = cs.solver;
        o.loss = cs.loss;
        o.alpha_W = cs.alpha;
        o.l1_ratio = 0.5;
        NmfModel cpu = nmf(Context::cpu(), v.X, o);
        NmfModel cuda = nmf(gpu, v.X, o);
        ASSERT_EQ(cpu.losses.size(), cuda.losses.size());
        for (size_t i = 0; i < cpu.losses.size(); ++i)
            EXPECT_NEAR(cuda.losses[i], cpu.losses[i], 1e-3 * cpu.losses[i])
                << nmf_solver_name(cs.solver) << "/" << nmf_loss_name(cs.loss) << " iteration " << i + 1;
        std::vector<float> Wc = nmf_transform(Context::cpu(), v.X, cpu.H, o.k, o);
        std::vector<float> Wg = nmf_transform(gpu, v.X, cpu.H, o.k, o);
        const double ec = nmf_relative_error(Context::cpu(), v.X, Wc, cpu.H, o.k);
        const double eg = nmf_relative_error(Context::cpu(), v.X, Wg, cpu.H, o.k);
        EXPECT_NEAR(eg, ec, 1e-3 * ec) << "transform on the GPU";
    }
}

TEST(NmfCuda, CheckpointFromTheGpuResumesOnTheCpu) {
    TMINE_REQUIRE_DATA(kReddit);
    TMINE_REQUIRE_CUDA(gpu);
    auto v = reddit_tfidf(4000, "3");
    TempDir d;
    NmfOptions o;
    o.k = 8;
    o.max_iter = 20;
    o.tol = 0;
    o.checkpoint_every = 10;
    o.checkpoint_path = d.file("ck.tmk");
    NmfModel g = nmf(gpu, v.X, o);
    o.max_iter = 30;
    o.checkpoint_every = 0;
    NmfModel r = nmf_resume(Context::cpu(), v.X, o, d.file("ck.tmk"));
    EXPECT_EQ(r.iterations, 30);
    EXPECT_LE(r.losses.back(), g.losses.back() * (1 + 1e-6));
}

TEST(NmfCuda, GuidedTopicsAgreeWithCpu) {
    TMINE_REQUIRE_DATA(kReddit);
    TMINE_REQUIRE_CUDA(gpu);
    const Vectorized& v = small_matrix();
    for (auto solver : {NmfSolver::Mu, NmfSolver::Hals}) {
        NmfOptions o;
        o.k = 6;
        o.max_iter = 40;
        o.tol = 0;
        o.solver = solver;
        o.seed_terms = {{0, 1, 2}, {5, 7}};
        o.seed_strength = 2.0;
        NmfModel cpu = nmf(Context::cpu(), v.X, o);
        NmfModel cuda = nmf(gpu, v.X, o);
        EXPECT_EQ(cuda.seed_lambda, cpu.seed_lambda);  // fixed on the host at the initialisation
        ASSERT_EQ(cpu.losses.size(), cuda.losses.size());
        for (size_t i = 0; i < cpu.losses.size(); ++i)
            EXPECT_NEAR(cuda.losses[i], cpu.losses[i], 1e-4 * cpu.losses[i])
                << nmf_solver_name(solver) << " iteration " << i + 1;
        double diff = 0, norm = 0;
        for (size_t i = 0; i < cpu.H.size(); ++i) {
            diff += double(cpu.H[i] - cuda.H[i]) * (cpu.H[i] - cuda.H[i]);
            norm += double(cpu.H[i]) * cpu.H[i];
        }
        EXPECT_LT(std::sqrt(diff / norm), 1e-2) << nmf_solver_name(solver);
    }
}

TEST(NmfCuda, Tf32StaysCloseToFloat32) {
    TMINE_REQUIRE_DATA(kReddit);
    TMINE_REQUIRE_CUDA(gpu);
    const Vectorized& v = small_matrix();
    NmfOptions o;
    o.k = 8;
    o.max_iter = 50;
    o.tol = 0;
    NmfModel cpu = nmf(Context::cpu(), v.X, o);
    NmfModel before = nmf(gpu, v.X, o);  // float32 on the GPU, before any TF32 fit
    o.tf32 = true;
    NmfModel tf = nmf(gpu, v.X, o);
    // TF32 rounds the GEMM inputs to 10 mantissa bits: the fit stays within 0.5% of float32's.
    EXPECT_NEAR(tf.relative_error, cpu.relative_error, 5e-3 * cpu.relative_error);
    for (size_t i = 1; i < tf.losses.size(); ++i)
        EXPECT_LE(tf.losses[i], tf.losses[i - 1] * (1 + 1e-3)) << "iteration " << i + 1;
    // The handle's math mode is restored: a float32 fit after it equals the one before it (the
    // device's reductions add in a fixed order, so equal factors give equal losses too).
    o.tf32 = false;
    NmfModel after = nmf(gpu, v.X, o);
    EXPECT_EQ(after.losses, before.losses);
    EXPECT_EQ(after.H, before.H);
    EXPECT_NEAR(after.relative_error, cpu.relative_error, 1e-4 * cpu.relative_error);
}

// The randomized SVD of the NNDSVD initialisations: its range finder runs on the GPU (cuSPARSE
// products, cuBLAS Cholesky QR) in float64, the same steps as the CPU's. The basis must be
// orthonormal and Bᵀ = XᵀQ; the singular values and the rank-k approximation U S V must agree
// with the CPU's to rounding.
TEST(NmfCuda, RandomizedSvdAgreesWithCpu) {
    TMINE_REQUIRE_DATA(kReddit);
    TMINE_REQUIRE_CUDA(gpu);
    auto v = reddit_tfidf(20000, "5");
    const CsrMatrix& X = v.X;
    const CsrMatrix Xt = transpose(Context::cpu(), X);

    // The device range finder itself.
    const int l = 16;
    std::vector<double> omega(size_t(X.cols) * l);
    // Pseudo-random entries (splitmix64). Not sin(i * c): its columns are combinations of two
    // vectors (sin(a + b) = sin a cos b + cos a sin b), so Ω had rank 2 and Y = XΩ too, and
    // the Cholesky QR of any device failed (found by the emulation build, tests/cuda_emulation).
    for (size_t i = 0; i < omega.size(); ++i) {
        uint64_t z = (i + 1) * 0x9e3779b97f4a7c15ull;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        z ^= z >> 31;
        omega[i] = double(z >> 11) * 0x1.0p-53 * 2.0 - 1.0;
    }
    auto chol = [](std::vector<double>& G, int n) {  // column-major upper, unblocked
        for (int j = 0; j < n; ++j) {
            for (int i = 0; i <= j; ++i) {
                double s = G[i + size_t(j) * n];
                for (int p = 0; p < i; ++p) s -= G[p + size_t(i) * n] * G[p + size_t(j) * n];
                if (i == j) {
                    if (!(s > 0)) return false;
                    G[j + size_t(j) * n] = std::sqrt(s);
                } else {
                    G[i + size_t(j) * n] = s / G[i + size_t(i) * n];
                }
            }
        }
        return true;
    };
    std::vector<double> Q(size_t(X.rows) * l, -7.0), Bt(size_t(X.cols) * l, -7.0);
    ASSERT_TRUE(cuda_impl::randomized_range(gpu, X, Xt, omega, l, 4, chol, Q.data(), Bt.data()));
    double off = 0;
    for (int a = 0; a < l; ++a)
        for (int b = 0; b < l; ++b) {
            double dot = 0;
            for (int64_t i = 0; i < X.rows; ++i) dot += Q[i * l + a] * Q[i * l + b];
            off = std::max(off, std::abs(dot - (a == b ? 1.0 : 0.0)));
        }
    EXPECT_LT(off, 1e-10) << "QᵀQ is not the identity";
    std::vector<double> want(size_t(X.cols) * l, 0.0);  // XᵀQ on the host
    for (int64_t i = 0; i < X.rows; ++i)
        for (int64_t p = X.indptr[i]; p < X.indptr[i + 1]; ++p)
            for (int a = 0; a < l; ++a) want[size_t(X.indices[p]) * l + a] += double(X.data[p]) * Q[i * l + a];
    double worst = 0;
    for (size_t i = 0; i < want.size(); ++i) worst = std::max(worst, std::abs(want[i] - Bt[i]));
    EXPECT_LT(worst, 1e-10) << "Bᵀ is not XᵀQ";

    // The whole truncated SVD, GPU vs CPU: the singular values, and the rank-k approximation
    // U S V itself (unique where sigma_k > sigma_k+1, whatever the signs or rotations of
    // singular vectors of nearly equal values), compared through a fixed probe vector.
    const int k = 20;
    const TruncatedSvd a = truncated_svd(Context::cpu(), X, k, 7);
    const TruncatedSvd b = truncated_svd(gpu, X, k, 7);
    ASSERT_EQ(b.S.size(), a.S.size());
    for (int j = 0; j < k; ++j) EXPECT_NEAR(b.S[j], a.S[j], 1e-9 * a.S[0]) << "singular value " << j;
    auto apply = [&](const TruncatedSvd& t) {  // U S V r
        std::vector<double> r(X.cols), vr(k, 0.0), out(X.rows, 0.0);
        for (int64_t c = 0; c < X.cols; ++c) r[c] = std::cos(double(c) * 0.7);
        for (int j = 0; j < k; ++j)
            for (int64_t c = 0; c < X.cols; ++c) vr[j] += t.V[size_t(j) * X.cols + c] * r[c];
        for (int j = 0; j < k; ++j)
            for (int64_t i = 0; i < X.rows; ++i) out[i] += t.U[size_t(i) * k + j] * t.S[j] * vr[j];
        return out;
    };
    const std::vector<double> pa = apply(a), pb = apply(b);
    double d = 0, s = 0;
    for (size_t i = 0; i < pa.size(); ++i) {
        d += (pa[i] - pb[i]) * (pa[i] - pb[i]);
        s += pa[i] * pa[i];
    }
    EXPECT_LT(std::sqrt(d / s), 1e-6) << "U S V differs between the devices";
    // The NNDSVDA start built from the GPU's SVD is a valid one.
    NmfOptions o;
    o.k = k;
    o.seed = 7;
    std::vector<float> Wb, Hb;
    nmf_init(gpu, X, o, Wb, Hb, &b);
    for (float w : Wb) ASSERT_TRUE(std::isfinite(w) && w >= 0);
}
