// NMF (CPU reference): monotone loss, agreement with an independent float64 dense
// reference on a real matrix, the sparse error formula, argument checks, determinism.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include "test_util.hpp"
#include "tmine/error.hpp"
#include "tmine/io.hpp"
#include "tmine/nmf.hpp"
#include "tmine/topics.hpp"

extern "C" void dgesdd_(const char* jobz, const int* m, const int* n, double* a, const int* lda, double* s,
                        double* u, const int* ldu, double* vt, const int* ldvt, double* work,
                        const int* lwork, int* iwork, int* info, size_t jobz_len);

using namespace tmine;
using namespace tmine::test;

namespace {


std::vector<double> dense(const CsrMatrix& X) {
    std::vector<double> D(X.rows * X.cols, 0.0);
    for (int64_t i = 0; i < X.rows; ++i)
        for (int64_t p = X.indptr[i]; p < X.indptr[i + 1]; ++p) D[i * X.cols + X.indices[p]] = X.data[p];
    return D;
}

/// ||X - W H||_F / ||X||_F in float64, forming W H.
double dense_error(const std::vector<double>& X, const std::vector<double>& W,
                   const std::vector<double>& H, int64_t n, int64_t m, int k) {
    double e = 0, x = 0;
    for (int64_t i = 0; i < n; ++i)
        for (int64_t c = 0; c < m; ++c) {
            double wh = 0;
            for (int j = 0; j < k; ++j) wh += W[i * k + j] * H[j * m + c];
            double d = X[i * m + c] - wh;
            e += d * d;
            x += X[i * m + c] * X[i * m + c];
        }
    return std::sqrt(e / x);
}

/// Textbook multiplicative updates in float64 on dense matrices (W then H).
void dense_mu(const std::vector<double>& X, std::vector<double>& W, std::vector<double>& H,
              int64_t n, int64_t m, int k) {
    const double eps = std::numeric_limits<float>::epsilon();
    std::vector<double> HHt(k * k, 0), num(n * k), WtW(k * k), numH(k * m);
    for (int a = 0; a < k; ++a)
        for (int b = 0; b < k; ++b) {
            double s = 0;
            for (int64_t c = 0; c < m; ++c) s += H[a * m + c] * H[b * m + c];
            HHt[a * k + b] = s;
        }
    for (int64_t i = 0; i < n; ++i)
        for (int j = 0; j < k; ++j) {
            double s = 0, d = 0;
            for (int64_t c = 0; c < m; ++c) s += X[i * m + c] * H[j * m + c];
            for (int b = 0; b < k; ++b) d += W[i * k + b] * HHt[b * k + j];
            num[i * k + j] = s / (d == 0 ? eps : d);
        }
    for (int64_t i = 0; i < n * k; ++i) W[i] *= num[i];
    for (int a = 0; a < k; ++a)
        for (int b = 0; b < k; ++b) {
            double s = 0;
            for (int64_t i = 0; i < n; ++i) s += W[i * k + a] * W[i * k + b];
            WtW[a * k + b] = s;
        }
    for (int j = 0; j < k; ++j)
        for (int64_t c = 0; c < m; ++c) {
            double s = 0, d = 0;
            for (int64_t i = 0; i < n; ++i) s += W[i * k + j] * X[i * m + c];
            for (int b = 0; b < k; ++b) d += WtW[j * k + b] * H[b * m + c];
            numH[j * m + c] = s / (d == 0 ? eps : d);
        }
    for (int64_t i = 0; i < k * m; ++i) H[i] *= numH[i];
}

}  // namespace

TEST(Nmf, LossNeverIncreasesUnderMultiplicativeUpdates) {
    TMINE_REQUIRE_DATA(kReddit);
    const auto& v = small_matrix();
    for (auto init : {NmfInit::Nndsvda, NmfInit::Random}) {
        NmfOptions o;
        o.k = 8;
        o.max_iter = 60;
        o.tol = 0;
        o.init = init;
        NmfModel m = nmf(Context::cpu(), v.X, o);
        ASSERT_EQ(m.iterations, 60);
        ASSERT_EQ(m.losses.size(), 60u);
        for (size_t i = 1; i < m.losses.size(); ++i)
            EXPECT_LE(m.losses[i], m.losses[i - 1] * (1 + 1e-6)) << "iteration " << i + 1;
        EXPECT_LT(m.losses.back(), m.losses.front());
        for (float w : m.W) ASSERT_GE(w, 0.0f);
        for (float h : m.H) ASSERT_GE(h, 0.0f);
    }
}

TEST(Nmf, MatchesFloat64DenseReference) {
    TMINE_REQUIRE_DATA(kReddit);
    const auto& v = small_matrix();
    const int64_t n = v.X.rows, m = v.X.cols;
    const int k = 6, iters = 25;
    ASSERT_LT(n * m, 3'000'000) << "the reference is dense";
    NmfOptions o;
    o.k = k;
    o.max_iter = iters;
    o.tol = 0;
    std::vector<float> W0, H0;
    Context ctx = Context::cpu();
    nmf_init(ctx, v.X, o, W0, H0);
    std::vector<double> W(W0.begin(), W0.end()), H(H0.begin(), H0.end());
    std::vector<double> X = dense(v.X);
    std::vector<double> ref_errors;
    for (int it = 0; it < iters; ++it) {
        dense_mu(X, W, H, n, m, k);
        ref_errors.push_back(dense_error(X, W, H, n, m, k));
    }
    NmfModel fit = nmf(ctx, v.X, o);
    ASSERT_EQ(fit.losses.size(), ref_errors.size());
    for (int it = 0; it < iters; ++it)
        EXPECT_NEAR(fit.losses[it], ref_errors[it], 2e-5 * ref_errors[it]) << "iteration " << it + 1;
    // And the factors themselves agree with the float64 run.
    double diff = 0, norm = 0;
    for (size_t i = 0; i < W.size(); ++i) {
        diff += (fit.W[i] - W[i]) * (fit.W[i] - W[i]);
        norm += W[i] * W[i];
    }
    EXPECT_LT(std::sqrt(diff / norm), 1e-3);
}

TEST(Nmf, SparseErrorFormulaEqualsDenseError) {
    TMINE_REQUIRE_DATA(kReddit);
    const auto& v = small_matrix();
    NmfOptions o;
    o.k = 5;
    o.init = NmfInit::Random;
    o.seed = 7;
    std::vector<float> W, H;
    nmf_init(Context::cpu(), v.X, o, W, H);
    double sparse = nmf_relative_error(Context::cpu(), v.X, W, H, o.k);
    double ref = dense_error(dense(v.X), std::vector<double>(W.begin(), W.end()),
                             std::vector<double>(H.begin(), H.end()), v.X.rows, v.X.cols, o.k);
    EXPECT_NEAR(sparse, ref, 1e-6);
}

TEST(Nmf, ToleranceStopsEarlyAndSeedsReproduce) {
    TMINE_REQUIRE_DATA(kReddit);
    const auto& v = small_matrix();
    NmfOptions o;
    o.k = 8;
    o.max_iter = 1000;
    o.tol = 1e-3;
    o.init = NmfInit::Random;
    o.seed = 42;
    NmfModel a = nmf(Context::cpu(), v.X, o);
    EXPECT_LT(a.iterations, 1000);
    EXPECT_EQ(a.iterations % 10, 0) << "the tolerance is checked every 10 iterations";
    NmfModel b = nmf(Context::cpu(), v.X, o);
    EXPECT_EQ(a.W, b.W) << "same seed, same CPU result bit for bit";
    EXPECT_EQ(a.H, b.H);
    o.seed = 43;
    NmfModel c = nmf(Context::cpu(), v.X, o);
    EXPECT_NE(a.H, c.H);
}

// Bit for bit on the CPU means the losses too (the tol rule and topics.json read them): with 3 or
// more threads an OpenMP reduction adds the threads' sums in the order they finish, so the loss
// sums use fixed blocks instead (measured before: 8 threads, 6 runs of 6 gave other losses).
TEST(Nmf, SameThreadsAndSeedGiveTheSameLossesBitForBit) {
    TMINE_REQUIRE_DATA(kReddit);
    const auto& v = small_matrix();
    for (auto loss : {NmfLoss::Frobenius, NmfLoss::KullbackLeibler}) {
        NmfOptions o;
        o.k = 8;
        o.max_iter = 30;
        o.tol = 0;
        o.loss = loss;
        const NmfModel a = nmf(Context::cpu(6), v.X, o);
        for (int run = 0; run < 4; ++run) {
            const NmfModel b = nmf(Context::cpu(6), v.X, o);
            ASSERT_EQ(b.W, a.W) << nmf_loss_name(loss) << ", run " << run;
            ASSERT_EQ(b.H, a.H);
            ASSERT_EQ(b.losses, a.losses) << nmf_loss_name(loss) << ", run " << run;
        }
        // The float64 measures of given factors do not depend on the thread count at all.
        EXPECT_EQ(nmf_relative_error(Context::cpu(1), v.X, a.W, a.H, o.k),
                  nmf_relative_error(Context::cpu(6), v.X, a.W, a.H, o.k));
    }
}

TEST(Nmf, KOutsideWhatTheDataAllowsIsAClearError) {
    CsrMatrix X;
    X.rows = 2;
    X.cols = 3;
    X.indptr = {0, 2, 3};
    X.indices = {0, 2, 1};
    X.data = {0.5f, 0.5f, 1.0f};
    NmfOptions o;
    o.k = 3;
    try {
        nmf(Context::cpu(), X, o);
        FAIL() << "expected InputError";
    } catch (const InputError& e) {
        EXPECT_NE(std::string(e.what()).find("between 1 and 2"), std::string::npos) << e.what();
    }
    o.k = 0;
    EXPECT_THROW(nmf(Context::cpu(), X, o), InputError);
    CsrMatrix empty;
    empty.rows = 3;
    empty.cols = 3;
    empty.indptr = {0, 0, 0, 0};
    o.k = 1;
    EXPECT_THROW(nmf(Context::cpu(), empty, o), InputError);
    // documents of stop words only (empty rows) and unused terms do not count: three posts, one
    // with terms, give one topic, not three identical ones
    CsrMatrix sparse;
    sparse.rows = 3;
    sparse.cols = 4;
    sparse.indptr = {0, 0, 3, 3};
    sparse.indices = {0, 1, 2};
    sparse.data = {0.5f, 0.5f, 0.7f};
    o.k = 2;
    try {
        nmf(Context::cpu(), sparse, o);
        FAIL() << "expected InputError";
    } catch (const InputError& e) {
        EXPECT_NE(std::string(e.what()).find("-k 2: must be between 1 and 1 (the smaller of 1 documents with a "
                                             "term (of 3) and 3 terms in a document (of 4))"),
                  std::string::npos)
            << e.what();
    }
    o.k = 1;
    o.max_iter = 5;
    EXPECT_EQ(nmf(Context::cpu(), sparse, o).k, 1);
}

TEST(Nmf, AnExactFitStopsAtTheFirstToleranceCheck) {
    // a rank-1 matrix and k = 1: the loss starts (NNDSVD) at 0 and stays there
    CsrMatrix X;
    X.rows = 2;
    X.cols = 2;
    X.indptr = {0, 2, 4};
    X.indices = {0, 1, 0, 1};
    X.data = {1.0f, 2.0f, 2.0f, 4.0f};
    NmfOptions o;
    o.k = 1;
    o.max_iter = 200;
    o.tol = 1e-4;
    o.init = NmfInit::Nndsvd;
    const NmfModel m = nmf(Context::cpu(), X, o);
    EXPECT_LT(m.relative_error, 1e-6);
    EXPECT_EQ(m.stop_reason, "tol");
    EXPECT_EQ(m.iterations, 10);
}

// The randomized SVD behind the NNDSVD starts against LAPACK's exact SVD of the dense matrix.
// Its estimates are Ritz values of a subspace iteration (k + 10 columns, 7 power iterations,
// as scikit-learn's randomized_svd): never above the exact ones, the well separated leading
// ones exact to 1e-6, those at the flat end of this spectrum (s[7] = 2.429, s[8] = 2.417)
// within 0.2% (measured: 0.09% at most); U S V within 1e-4 of the best rank-k approximation
// (Eckart-Young: its residual is the sum of the other squared singular values; measured
// 3.5e-5).
TEST(Nmf, TruncatedSvdMatchesTheExactSvd) {
    TMINE_REQUIRE_DATA(kReddit);
    const CsrMatrix& X = small_matrix().X;
    const int n = int(X.rows), m = int(X.cols), k = 8;
    std::vector<double> A(size_t(n) * m, 0.0);  // column-major for LAPACK
    for (int i = 0; i < n; ++i)
        for (int64_t p = X.indptr[i]; p < X.indptr[i + 1]; ++p) A[size_t(X.indices[p]) * n + i] = X.data[p];
    const std::vector<double> A0 = A;
    const int r = std::min(n, m);
    std::vector<double> s(r), u(size_t(n) * r), vt(size_t(r) * m);
    std::vector<int> iwork(8 * size_t(r));
    int info = 0, lwork = -1;
    double wq = 0;
    dgesdd_("S", &n, &m, A.data(), &n, s.data(), u.data(), &n, vt.data(), &r, &wq, &lwork, iwork.data(), &info, 1);
    lwork = int(wq);
    std::vector<double> work(static_cast<size_t>(lwork));
    dgesdd_("S", &n, &m, A.data(), &n, s.data(), u.data(), &n, vt.data(), &r, work.data(), &lwork, iwork.data(),
            &info, 1);
    ASSERT_EQ(info, 0);
    double rest = 0, total = 0;
    for (int i = 0; i < r; ++i) (i < k ? total : rest) += s[i] * s[i];
    total += rest;
    for (uint64_t seed : {0u, 5u}) {
        const TruncatedSvd svd = truncated_svd(Context::cpu(), X, k, seed);
        ASSERT_EQ(svd.S.size(), size_t(k));
        for (int i = 0; i < k; ++i) {
            EXPECT_LE(svd.S[i], s[i] * (1 + 1e-12)) << "singular value " << i << ", seed " << seed;
            EXPECT_GE(svd.S[i], s[i] * (i < 3 ? 1 - 1e-6 : 1 - 2e-3)) << "singular value " << i << ", seed " << seed;
        }
        // || A - U S V ||_F^2, densely
        double resid = 0;
        for (int i = 0; i < n; ++i)
            for (int c = 0; c < m; ++c) {
                double a = A0[size_t(c) * n + i];
                for (int j = 0; j < k; ++j) a -= svd.U[size_t(i) * k + j] * svd.S[j] * svd.V[size_t(j) * m + c];
                resid += a * a;
            }
        EXPECT_GE(resid, rest * (1 - 1e-12)) << "seed " << seed << ": better than the optimum";
        EXPECT_LE(resid, rest + 1e-4 * total) << "seed " << seed;
        // U's columns orthonormal
        for (int a = 0; a < k; ++a)
            for (int b = a; b < k; ++b) {
                double d = 0;
                for (int i = 0; i < n; ++i) d += svd.U[size_t(i) * k + a] * svd.U[size_t(i) * k + b];
                EXPECT_NEAR(d, a == b ? 1.0 : 0.0, 1e-9) << a << "," << b;
            }
    }
    std::printf("exact: s[0] %.6g, s[k-1] %.6g, s[k] %.6g; rank-%d residual %.6g of %.6g\n", s[0], s[k - 1], s[k],
                k, rest, total);
}

TEST(Nmf, NndsvdaInitIsPositiveAndNndsvdKeepsZeros) {
    TMINE_REQUIRE_DATA(kReddit);
    const auto& v = small_matrix();
    NmfOptions o;
    o.k = 6;
    std::vector<float> W, H;
    o.init = NmfInit::Nndsvda;
    nmf_init(Context::cpu(), v.X, o, W, H);
    for (float w : W) ASSERT_GT(w, 0.0f);
    o.init = NmfInit::Nndsvd;
    nmf_init(Context::cpu(), v.X, o, W, H);
    size_t zeros = 0;
    for (float w : W) {
        ASSERT_GE(w, 0.0f);
        zeros += w == 0.0f;
    }
    EXPECT_GT(zeros, 0u);
    // The first NNDSVD component approximates the leading singular pair: the initial error
    // is well below that of the all-zero model (1.0).
    EXPECT_LT(nmf_relative_error(Context::cpu(), v.X, W, H, o.k), 0.99);
}

// scikit-learn's nndsvdar: NNDSVD, then every zero of W and H becomes |avg * N(0, 1) / 100|,
// avg = mean(X), drawn from the seeded generator. Everything else equals NNDSVD's.
TEST(Nmf, NndsvdarFillsNndsvdZerosWithSmallSeededValues) {
    TMINE_REQUIRE_DATA(kReddit);
    const auto& v = small_matrix();
    const Context ctx = Context::cpu();
    double total = 0;
    for (float x : v.X.data) total += x;
    const double avg = total / (double(v.X.rows) * double(v.X.cols));
    NmfOptions o;
    o.k = 6;
    o.seed = 3;
    o.init = NmfInit::Nndsvd;
    std::vector<float> W0, H0, W, H;
    nmf_init(ctx, v.X, o, W0, H0);
    o.init = NmfInit::Nndsvdar;
    nmf_init(ctx, v.X, o, W, H);
    ASSERT_EQ(W.size(), W0.size());
    ASSERT_EQ(H.size(), H0.size());
    double filled_sum = 0, filled_max = 0;
    size_t filled = 0;
    auto check = [&](const std::vector<float>& nndsvd, const std::vector<float>& ar,
                     const char* what) {
        for (size_t i = 0; i < ar.size(); ++i) {
            if (nndsvd[i] != 0.0f) {
                ASSERT_EQ(ar[i], nndsvd[i])
                    << what << "[" << i << "]: a non-zero of NNDSVD changed";
                continue;
            }
            ASSERT_GT(ar[i], 0.0f) << what << "[" << i << "]: a zero was not filled";
            filled_sum += ar[i];
            filled_max = std::max(filled_max, double(ar[i]));
            ++filled;
        }
    };
    check(W0, W, "W");
    check(H0, H, "H");
    ASSERT_GT(filled, 1000u) << "too few zeros to see the fill's distribution";
    // |N(0, 1)| has mean sqrt(2 / pi); with thousands of draws the sample mean is within a few %.
    const double scale = avg / 100.0;
    EXPECT_NEAR(filled_sum / double(filled), std::sqrt(2.0 / M_PI) * scale, 0.05 * scale)
        << filled << " filled entries";
    EXPECT_LT(filled_max, 7.0 * scale) << "no draw of |N(0, 1)| reaches 7";
    // Reproducible by seed: the same seed gives the same factors bit for bit, another seed
    // another fill.
    std::vector<float> W2, H2;
    nmf_init(ctx, v.X, o, W2, H2);
    EXPECT_EQ(W2, W);
    EXPECT_EQ(H2, H);
    o.seed = 4;
    nmf_init(ctx, v.X, o, W2, H2);
    EXPECT_NE(W2, W);
    EXPECT_NE(H2, H);
    // And a fit from it is one: the loss decreases from there.
    o.seed = 3;
    o.max_iter = 20;
    o.tol = 0;
    NmfModel fit = nmf(ctx, v.X, o);
    EXPECT_LT(fit.losses.back(), fit.loss_at_init);
}

TEST(Topics, SummaryTermsSizesAndModelRoundTrip) {
    TMINE_REQUIRE_DATA(kReddit);
    const auto& v = small_matrix();
    TopicModel model;
    model.options.k = 5;
    model.options.max_iter = 30;
    model.nmf = nmf(Context::cpu(3), v.X, model.options);
    // What reproducing the fit needs is recorded: the CPU threads and the device.
    EXPECT_EQ(model.nmf.cpu_threads, 3);
    EXPECT_EQ(model.nmf.device, "cpu");
    EXPECT_EQ(model.nmf.device_description, "cpu (3 threads)");
    model.vocabulary = v.vocabulary;
    model.corpus.documents = v.X.rows;
    TopicSummary s = summarize_topics(model, 20);
    ASSERT_EQ(s.topics.size(), 5u);
    int64_t sized = 0, nonzero_rows = 0;
    for (auto& t : s.topics) {
        ASSERT_EQ(t.terms.size(), 20u);
        for (size_t r = 1; r < t.terms.size(); ++r) EXPECT_GE(t.terms[r - 1].weight, t.terms[r].weight);
        sized += t.size;
    }
    for (int64_t d = 0; d < v.X.rows; ++d) nonzero_rows += s.dominant[d] >= 0;
    EXPECT_EQ(sized, nonzero_rows);
    TempDir dir;
    write_model(model, dir.file("model"));
    TopicModel back = read_model(dir.file("model"));
    EXPECT_EQ(back.nmf.W, model.nmf.W);
    EXPECT_EQ(back.nmf.H, model.nmf.H);
    EXPECT_EQ(back.vocabulary, model.vocabulary);
    EXPECT_EQ(back.nmf.losses, model.nmf.losses);
    EXPECT_EQ(back.nmf.cpu_threads, 3);
    EXPECT_EQ(back.nmf.device_description, "cpu (3 threads)");
    // A version 4 file (no threads nor description: the same bytes without the last section)
    // is still read, with both unknown.
    std::string bytes = read_bytes(dir.file("model") + "/model.tmm");
    const size_t tail = sizeof(int32_t) + sizeof(uint64_t) + model.nmf.device_description.size();
    ASSERT_GT(bytes.size(), tail);
    bytes.resize(bytes.size() - tail);
    const uint32_t v4 = 4;
    std::memcpy(&bytes[4], &v4, sizeof v4);
    write_file_atomic(dir.file("old.tmm"), bytes);
    TopicModel old = read_model(dir.file("old.tmm"));
    EXPECT_EQ(old.nmf.H, model.nmf.H);
    EXPECT_EQ(old.nmf.cpu_threads, 0);
    EXPECT_EQ(old.nmf.device_description, "");
}
